"""Dispatch meetings (调度会): schedule, agenda, minutes, action items, the minutes PDF."""

from flask import Blueprint

bp = Blueprint("meetings", __name__, url_prefix="/bureau/meetings")
