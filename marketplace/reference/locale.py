"""The language names are given in when the caller does not say: the page's."""

from __future__ import annotations

from marketplace.i18n import is_english


def page_locale(locale: str | None = None) -> str:
    """`locale` when given, else "en" on an English page and "zh" otherwise (also outside a request)."""
    return locale or ("en" if is_english() else "zh")
