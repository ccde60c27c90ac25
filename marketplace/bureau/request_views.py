"""The region's requests for coordinators: the list and its export, the stuck list, one request's
progress, parties and timeline."""

from flask import Blueprint

bp = Blueprint("bureau_requests", __name__, url_prefix="/bureau")
