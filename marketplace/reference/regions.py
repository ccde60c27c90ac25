"""Administrative divisions for the pages: names in the page's language (workflows.regions holds
the data and the English), the picker's choices and what a person typed."""

from __future__ import annotations

from marketplace.reference.locale import page_locale
from workflows import regions as _data
from workflows.regions import (  # noqa: F401 (re-exported)
    find_regions,
    is_region_code,
    is_region_prefix,
    region_covers,
    region_prefix,
    region_tree,
    region_tree_in,
)


def region_name(code: str | None, locale: str | None = None) -> str:
    """A division's full name in `locale` (by default the page's): '江苏省苏州市吴中区' or
    'Wuzhong District, Suzhou, Jiangsu'; an unknown code as it is."""
    return _data.region_name(code, page_locale(locale)) or (code or "")


region_prefix_name = region_name  # a product's region (2, 4 or 6 digits) is named the same way


def region_choices(locale: str | None = None) -> list[tuple[str, str]]:
    """Provinces and cities as (code, "code name") for an <input list> picker."""
    return _data.region_choices(page_locale(locale))
