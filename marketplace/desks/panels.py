"""The queue page's state tabs and filter form as HTML, each rendered once per language and
filters (the tabs also per counts), then reused, as the rows are (marketplace.desks.rows).

The filter form lists every industry division and region for its pickers (some 460 options, most
of the page's rendering) and both call url_for and translate a few dozen strings. Both are pure
functions of their key: the language and URL root, the filters as query-string arguments (their
exact text: amount 1000 and 1000.00 show differently), and for the form why a typed industry or
region was refused and what was typed; for the tabs the counts per state.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app
from markupsafe import Markup

from marketplace.desks.fragments import Fragments, page_key
from marketplace.desks.queue import Filters

TEMPLATE = "desks/_queue_panels.html"
_rendered = Fragments(maxsize=256)  # a filter form takes up to 40 KB in memory: some 10 MB per worker when full


def _macros():
    return current_app.jinja_env.get_template(TEMPLATE).module


def _arguments(filters: Filters) -> tuple:
    return tuple(sorted(filters.args(after=None).items()))


def tabs_html(filters: Filters, counts: dict[str, int]) -> Markup:
    """The tabs: all, each request state with its count, and "mine", as links keeping the filters."""
    key = ("tabs", *page_key(), _arguments(filters), tuple(sorted(counts.items())))
    return _rendered.get_or_render(key, lambda: _macros().queue_tabs(filters, counts))


def filters_html(filters: Filters, args: Mapping[str, str]) -> Markup:
    """The filter form, showing `filters`; a picker whose value was refused shows what was typed."""
    typed_industry = "" if filters.industry else args.get("industry", "")
    typed_region = "" if filters.region else args.get("region", "")
    key = ("filters", *page_key(), _arguments(filters), filters.refused, typed_industry, typed_region)
    return _rendered.get_or_render(key, lambda: _macros().queue_filters(filters, typed_industry, typed_region))


def forget() -> None:
    """Drop every rendered tab row and form (tests)."""
    _rendered.clear()
