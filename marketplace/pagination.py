"""Offset pagination for lists people page through by hand."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request
from sqlalchemy import Select, func, select

from marketplace.extensions import db

MAX_PAGE = 1_000_000  # far beyond any list; keeps OFFSET inside PostgreSQL's bigint


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def requested_page(name: str = "page") -> int:
    """The page number asked for: a whole number from 1 (anything else, or past MAX_PAGE, gives the
    nearest sensible page rather than an error: a hand-edited link still lands somewhere)."""
    raw = (request.args.get(name) or "").strip()
    if not raw.isascii() or not raw.isdigit():
        return 1
    return min(max(1, int(raw[:12])), MAX_PAGE)


def paginate(query: Select) -> Page:
    per_page = current_app.config["PAGE_SIZE"]
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = min(requested_page(), max(1, -(-total // per_page)))  # past the end: the last page
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, per_page, total)
