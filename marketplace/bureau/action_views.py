"""Action items on the attendees' side: the staff of an owning institution see and close theirs."""

from flask import Blueprint

bp = Blueprint("actions", __name__, url_prefix="/actions")
