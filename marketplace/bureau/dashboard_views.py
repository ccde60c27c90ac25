"""The coordinator's regional dashboard and its exports."""

from flask import Blueprint

bp = Blueprint("bureau_dashboard", __name__, url_prefix="/bureau")
