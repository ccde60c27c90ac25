"""PLACEHOLDER: being replaced by the receivables implementation."""
from flask import Blueprint

bp = Blueprint("receivables", __name__, url_prefix="/receivables")


@bp.get("/")
def index():
    return "receivables"


@bp.get("/confirmations")
def confirmations():
    return "confirmations"
