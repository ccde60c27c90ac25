"""The queue page's rows as HTML, each rendered once per distinct content and language.

A row's HTML is a pure function of its `queue.Row` (every column the page shows, the SLA state
included), the language and the app's URL root, so the rendered line is kept under exactly that
key and reused by every page that shows the same row: nothing to invalidate, since a changed
request reads back as a different Row. The rows themselves are still read from the database on
every page; only their formatting is reused (it was a third of the page's cost).
"""

from __future__ import annotations

from flask import current_app
from markupsafe import Markup

from marketplace.desks.fragments import Fragments, page_key
from marketplace.desks.queue import Row
from marketplace.reference.industries import industry_name
from marketplace.reference.regions import region_name

TEMPLATE = "desks/_queue_row.html"
_rendered = Fragments(maxsize=20_000)  # about 1.3 KB a row: some 26 MB per worker when full


def rows_html(rows: list[Row]) -> Markup:
    """The <tr> lines of `rows`, for the current request's language."""
    key_prefix = page_key()
    keys = [(*key_prefix, row) for row in rows]
    lines = _rendered.get_many(keys)
    missing = [row for row, line in zip(rows, lines, strict=True) if line is None]
    if missing:
        made = _render(missing)
        _rendered.put_many((key, made[row]) for key, row, line in zip(keys, rows, lines, strict=True) if line is None)
        lines = [made[row] if line is None else line for row, line in zip(rows, lines, strict=True)]
    return Markup("\n      ").join(lines)


def _render(missing: list[Row]) -> dict[Row, Markup]:
    macro = current_app.jinja_env.get_template(TEMPLATE).module.queue_row
    return {row: macro(row, industry_name, region_name) for row in missing}


def forget() -> None:
    """Drop every rendered row (tests; a deploy that changes the template restarts the workers)."""
    _rendered.clear()
