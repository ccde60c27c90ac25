"""A coordinator's region: the enterprises whose division code the bureau's code prefixes."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement, true

from marketplace.accounts.models import Organisation
from marketplace.reference.regions import region_covers, region_prefix


def current_bureau() -> Organisation:
    """The signed-in coordinator's bureau (the route rule admits coordinators only)."""
    return current_user.organisation


def in_region(column, bureau: Organisation) -> ColumnElement[bool]:
    """SQL: the division code in `column` lies in the bureau's region (uses a LIKE 'prefix%')."""
    prefix = region_prefix(bureau.region_code)
    return column.startswith(prefix, autoescape=True) if prefix else true()


def require_in_region(region_code: str | None, bureau: Organisation) -> None:
    """404 for a record outside the coordinator's region (as if it did not exist)."""
    if not region_covers(bureau.region_code, region_code):
        abort(404)
