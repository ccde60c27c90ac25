"""Notification text as message keys with JSON parameters, put into words in the reader's language.

A notice is stored as its Chinese msgid and its parameters (`later("融资申请 #%(id)s 已放款", id=7)`),
not as the sentence of whoever triggered it, and is rendered when someone reads it: on the list
page in the page's language, in an email in the recipient's. A parameter is data (names, amounts,
dates, what a user typed: shown as stored), another message, a list joined the locale's way, or a
(zh, en) label pair. Extraction sees the msgids through the `later` and `later_plural` keywords.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from flask_babel import force_locale

from marketplace.i18n import CHINESE, join_list, pick, translations

Node = dict | str | int | float | None


def later(key: str, **params) -> dict:
    """A message translated when read: its msgid (Chinese, with %(name)s placeholders) and parameters."""
    return {"key": key, "params": {name: _plain(value) for name, value in params.items()}}


def later_plural(singular: str, plural: str, n: int, **params) -> dict:
    """A message whose wording follows the number n (English "1 day" / "2 days"); n is also %(n)s."""
    node = later(singular, n=n, **params)
    node.update(plural=plural, n=n)
    return node


def listing(items: Iterable, separator: str = "list") -> dict:
    """Items joined the reader's way: "list" 、 / ", ", "clauses" ； / "; "."""
    return {"list": [_plain(item) for item in items], "sep": separator}


def _plain(value) -> Node:
    if isinstance(value, tuple) and len(value) == 2:
        return {"zh": value[0], "en": value[1]}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return listing(value)
    return value


def render(node: Node) -> str:
    """The node in the current locale's words."""
    if node is None:
        return ""
    if not isinstance(node, dict):
        return str(node)
    if "key" in node:
        catalog = translations()
        if "plural" in node:
            text = catalog.ungettext(node["key"], node["plural"], node["n"])
        else:
            text = catalog.ugettext(node["key"])
        params = {name: _param(value) for name, value in (node.get("params") or {}).items()}
        return (text % params if params else text).strip()  # an empty %(follow)s leaves no space
    if "list" in node:
        parts = [render(item) for item in node["list"]]
        return join_list(parts) if node.get("sep", "list") == "list" else join_list(parts, "clauses")
    if "zh" in node:
        return pick((node["zh"], node["en"]))
    return ""


def _param(value: Node):
    return value if isinstance(value, int | float) and not isinstance(value, bool) else render(value)


_PLURAL = "_plural"  # where a plural message keeps its plural msgid among its stored parameters


def stored(node: Node) -> tuple[str, str | None, dict | None]:
    """What a row keeps of a message: (its Chinese text, its msgid, its parameters); a plain
    text keeps itself alone: (text, None, None)."""
    if not isinstance(node, dict) or "key" not in node:
        return render(node), None, None
    with force_locale(CHINESE):
        text = render(node)
    params = dict(node.get("params") or {})
    if "plural" in node:
        params[_PLURAL] = node["plural"]
    return text, node["key"], params


def shown(text: str, key: str | None, params: dict | None) -> str:
    """A stored message in the current locale's words; a row without a key shows its text."""
    if key is None:
        return text
    params = dict(params or {})
    node = {"key": key, "params": params}
    if _PLURAL in params:
        node.update(plural=params.pop(_PLURAL), n=params["n"])
    return render(node)
