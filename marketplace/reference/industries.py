"""GB/T 4754-2017 industries for the pages: names in the page's language (workflows.industries
holds the data in Chinese and English), the picker's choices and what a person typed."""

from __future__ import annotations

from marketplace.reference.locale import page_locale
from workflows import industries as _data
from workflows.industries import (  # noqa: F401 (re-exported)
    INDUSTRY_DIVISIONS,
    INDUSTRY_DIVISIONS_EN,
    INDUSTRY_SECTIONS,
    INDUSTRY_SECTIONS_EN,
    division_of,
    find_industry,
)


def industry_name(code: str | None, locale: str | None = None) -> str | None:
    """The division's (or section's) name in `locale`, by default the page's; None when unknown."""
    return _data.industry_name(code, page_locale(locale))


def industry_choices(locale: str | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """Divisions grouped by section for a <select> with <optgroup>s, named in `locale`."""
    return _data.industry_choices(page_locale(locale))
