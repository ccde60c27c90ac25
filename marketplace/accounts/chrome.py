"""The top bar every page carries (templates/_site_header.html), rendered once per language, URL
root, role, user and organisation name and unread count, then reused (issue 15).

It is two dozen url_for calls and translations on every page, a quarter of base.html's cost. Its
HTML is a pure function of that key but for two things filled in on each request: the logout
form's CSRF token and the language link (its `next` is the page's path). Changed content is a new
key; the least recently used make room, so nothing needs invalidating.
"""

from __future__ import annotations

import threading

from cachetools import LRUCache
from flask import current_app, request, url_for
from jinja2 import pass_context
from markupsafe import Markup, escape

TEMPLATE = "_site_header.html"
_CSRF = "\x00csrf\x00"  # stand-ins rendered into the kept HTML, replaced on each request
_LANGUAGE = "\x00language\x00"
_kept: LRUCache = LRUCache(maxsize=512)  # about 3 KB each
_lock = threading.Lock()


def _render(user, unread: int, english: bool) -> str:
    macro = current_app.jinja_env.get_template(TEMPLATE).module.site_header
    return str(macro(user, unread, english, _CSRF, _LANGUAGE))


@pass_context
def site_header(context) -> Markup:
    """base.html's <header> for the page's user, language and unread count."""
    user = context["current_user"]
    unread = context.get("unread_notifications") or 0
    english = bool(context.get("is_english"))
    signed_in = user.is_authenticated
    key = (english, request.script_root, signed_in, unread,
           (str(user.role), user.name, user.organisation.name) if signed_in else None)
    with _lock:
        html = _kept.get(key)
    if html is None:
        html = _render(user, unread, english)
        with _lock:
            _kept[key] = html
    language = url_for("main.set_language", code="zh_Hans_CN" if english else "en", next=context.get("request_path"))
    html = html.replace(_LANGUAGE, str(escape(language)))
    if _CSRF in html:
        html = html.replace(_CSRF, str(escape(context["csrf_token"]())))  # Flask-WTF's, as the template called it
    return Markup(html)


def forget() -> None:
    """Drop every kept top bar (tests)."""
    with _lock:
        _kept.clear()
