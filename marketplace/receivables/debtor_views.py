"""PLACEHOLDER: being replaced by the debtor confirmation implementation."""
from flask import Blueprint

bp = Blueprint("debtor", __name__)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token):
    return "confirm"
