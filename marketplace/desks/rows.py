"""The queue page's rows as HTML, each rendered once per distinct content and language.

A row's HTML is a pure function of its `queue.Row` (every column the page shows, the SLA state
included), the language and the app's URL root, so the rendered line is kept under exactly that
key and reused by every page that shows the same row: nothing to invalidate, since a changed
request reads back as a different Row. The rows themselves are still read from the database on
every page; only their formatting is reused (it was a third of the page's cost).
"""

from __future__ import annotations

import threading

from cachetools import LRUCache
from flask import current_app, request
from markupsafe import Markup

from marketplace.desks.queue import Row
from marketplace.i18n import is_english
from marketplace.lists.services import yellow_ids_for_request
from marketplace.reference.industries import industry_name
from marketplace.reference.regions import region_name

TEMPLATE = "desks/_queue_row.html"
_rendered: LRUCache = LRUCache(maxsize=20_000)  # about 1.3 KB a row: some 26 MB per worker when full
_lock = threading.Lock()


def rows_html(rows: list[Row]) -> Markup:
    """The <tr> lines of `rows`, for the current request's language."""
    key_prefix = ("en" if is_english() else "zh", request.script_root)
    yellow = yellow_ids_for_request()  # the row shows the yellow-list flag: part of its key
    with _lock:
        lines = [_rendered.get((*key_prefix, row, row.enterprise_id in yellow)) for row in rows]
    missing = [row for row, line in zip(rows, lines, strict=True) if line is None]
    if missing:
        made = _render(missing)
        with _lock:
            for row, html in made.items():
                _rendered[(*key_prefix, row, row.enterprise_id in yellow)] = html
        lines = [made[row] if line is None else line for row, line in zip(rows, lines, strict=True)]
    return Markup("\n      ").join(lines)


def _render(missing: list[Row]) -> dict[Row, Markup]:
    macro = current_app.jinja_env.get_template(TEMPLATE).module.queue_row
    return {row: macro(row, industry_name, region_name) for row in missing}


def forget() -> None:
    """Drop every rendered row (tests; a deploy that changes the template restarts the workers)."""
    with _lock:
        _rendered.clear()
