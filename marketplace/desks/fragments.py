"""Rendered HTML kept under a key, for the parts of the queue page that are pure functions of what
they show (marketplace.desks.rows, marketplace.desks.panels): rendered once, then reused.

A key holds everything the fragment's HTML depends on, the page's language and the app's URL
root included (`page_key`), so nothing ever needs invalidating: changed content is a new key,
and the least recently used fragments make room for it.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable

from cachetools import LRUCache
from flask import request
from markupsafe import Markup

from marketplace.i18n import is_english


def page_key() -> tuple[str, str]:
    """What every fragment of this request depends on: its language and the app's URL root."""
    return ("en" if is_english() else "zh", request.script_root)


class Fragments:
    """An LRU of rendered HTML, safe to share between a worker's threads."""

    def __init__(self, maxsize: int):
        self._kept: LRUCache = LRUCache(maxsize=maxsize)
        self._lock = threading.Lock()

    def get_many(self, keys: Iterable[Hashable]) -> list[Markup | None]:
        with self._lock:
            return [self._kept.get(key) for key in keys]

    def put_many(self, items: Iterable[tuple[Hashable, Markup]]) -> None:
        with self._lock:
            for key, html in items:
                self._kept[key] = html

    def get_or_render(self, key: Hashable, render) -> Markup:
        """The HTML kept under `key`, else `render()`'s, kept for next time."""
        (html,) = self.get_many([key])
        if html is None:
            html = render()
            self.put_many([(key, html)])
        return html

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
