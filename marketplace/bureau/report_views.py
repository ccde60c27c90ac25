"""Half-year and full-year summary reports of the region: request, progress, download."""

from flask import Blueprint

bp = Blueprint("bureau_reports", __name__, url_prefix="/bureau/reports")
