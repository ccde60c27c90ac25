"""A coordinator's region: the enterprises whose division code the bureau's code prefixes."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement, bindparam, true

from marketplace.accounts.models import Organisation
from marketplace.reference.regions import region_covers, region_prefix

LIKE_ESCAPE = "/"


def current_bureau() -> Organisation:
    """The signed-in coordinator's bureau (the route rule admits coordinators only)."""
    return current_user.organisation


def like_prefix_pattern(prefix: str) -> str:
    """`prefix` as a LIKE pattern matching what starts with it: the LIKE metacharacters (%, _)
    and the escape character itself escaped with LIKE_ESCAPE, then '%'."""
    for char in (LIKE_ESCAPE, "%", "_"):
        prefix = prefix.replace(char, LIKE_ESCAPE + char)
    return prefix + "%"


def in_region(column, bureau: Organisation) -> ColumnElement[bool]:
    """SQL: the division code in `column` lies in the bureau's region: `LIKE '3205%'`.

    The pattern is rendered into the statement's text (literal_execute; SQLAlchemy quotes it as
    a string literal), not bound: PostgreSQL then plans each bureau's statement with the
    prefix's real selectivity (a province covers most enterprises, a city a third of them),
    whereas with a bound `$1 || '%'` a prepared statement's generic plan guesses 0.5 % for every
    bureau (docs/performance.md, the stuck list). Division codes are digits; the prefix is
    escaped all the same."""
    prefix = region_prefix(bureau.region_code)
    if not prefix:
        return true()
    pattern = bindparam(None, like_prefix_pattern(prefix), literal_execute=True)
    return column.like(pattern, escape=LIKE_ESCAPE)


def require_in_region(region_code: str | None, bureau: Organisation) -> None:
    """404 for a record outside the coordinator's region (as if it did not exist)."""
    if not region_covers(bureau.region_code, region_code):
        abort(404)
