"""What every web answer carries and every request must pass: redirect targets limited to this
site's paths, browser security headers with a nonce-based Content Security Policy, and a guard
that refuses control characters in the query string, form fields and JSON bodies."""

from __future__ import annotations

import secrets
import unicodedata
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request, session
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, ValidationError

# Control characters a form field may legitimately carry (a pasted paragraph, a tab-separated
# line); any other character of Unicode category Cc (NUL above all: PostgreSQL refuses it) is refused.
ALLOWED_IN_FORM_TEXT = frozenset("\t\n\r")
API_PREFIX = "/api/"

PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
                      "microphone=(), payment=(), usb=(), interest-cohort=()")
HSTS = "max-age=31536000; includeSubDomains"


# ---- redirects ------------------------------------------------------------------------------

def safe_next(target: str | None) -> str | None:
    """`target` when it is a path of this site ("/requests/3?tab=offers"), else None.

    Parsed, not prefix-checked: browsers and Werkzeug drop tabs and newlines and read a
    backslash as a slash, so "/\\t/evil.example" or "/\\\\evil.example" would leave the site.
    Any control, format or space character, any backslash, a scheme, a host, or a path that
    does not start with exactly one "/" refuses the target.
    """
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    if "\\" in target or target.startswith("//"):
        return None
    if any(unicodedata.category(ch)[0] in "CZ" for ch in target):  # controls, format marks, any space
        return None
    try:
        parts = urlsplit(target)
    except ValueError:
        return None
    if parts.scheme or parts.netloc:
        return None
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return target


# ---- the Content Security Policy ------------------------------------------------------------

def csp_nonce() -> str:
    """This request's script nonce (templates: <script nonce="{{ csp_nonce() }}">)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def content_security_policy(nonce: str) -> str:
    """Scripts and styles only from this site or carrying this request's nonce: no
    'unsafe-inline' for either, so no inline event handlers and no style attributes (the
    templates style with static/app.css's classes; a <style> element carries the nonce)."""
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ))


def _is_https() -> bool:
    return request.is_secure or current_app.config.get("DEPLOYMENT") == "production"


def add_security_headers(response):
    """Headers on every answer: pages, files, JSON, errors and redirects alike."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if _is_https():
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static" and not response.cache_control.public and _is_signed_in():
        # Statements, reports, letters, credit data: nothing of a signed-in page stays in a cache
        # (answers a view marked public, like the region tree, keep their caching).
        response.cache_control.no_store = True
        response.cache_control.private = True
        response.cache_control.max_age = None
    return response


def _is_signed_in() -> bool:
    """Whether this answer was made for a session or token that signs someone in: read from the
    cookie and the headers alone, so it neither loads a user nor touches a broken database session."""
    return "_user_id" in session or bool(request.headers.get("Authorization"))


# ---- the input guard ------------------------------------------------------------------------

class ControlCharacters(BadRequest):
    """A request carrying NUL or another control character; errors.py shows it as a clear 400."""

    description = "control characters in the request"

    def __init__(self):
        # the JSON API shows a description given here (marketplace.api.errors); pages translate their own
        super().__init__(description="请求中含有不允许的控制字符（例如空字符） / "
                                     "The request contains control characters (such as NUL)")


def has_forbidden_characters(text: str, allowed: frozenset[str] = frozenset()) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


def refuse_control_characters():
    """400 for NUL and other control characters in the query string, form fields, upload file
    names or a JSON body: no column or parser downstream wants them, and PostgreSQL refuses NUL.
    The JSON API is left to its schemas, which answer a documented 422 naming the argument."""
    if request.path.startswith(API_PREFIX):
        return None
    for key, value in request.args.items(multi=True):
        if has_forbidden_characters(key) or has_forbidden_characters(value):
            raise ControlCharacters()
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        for key, value in request.form.items(multi=True):
            if has_forbidden_characters(key) or has_forbidden_characters(value, ALLOWED_IN_FORM_TEXT):
                raise ControlCharacters()
        for key, upload in request.files.items(multi=True):
            if has_forbidden_characters(key) or has_forbidden_characters(upload.filename or ""):
                raise ControlCharacters()
        if request.is_json and _json_has_forbidden(request.get_json(silent=True)):
            raise ControlCharacters()  # JSON posted to a page (the API is exempt above)
    return None


def _json_has_forbidden(value, depth: int = 0) -> bool:
    if depth > 32:
        return False
    if isinstance(value, str):
        return has_forbidden_characters(value, ALLOWED_IN_FORM_TEXT)
    if isinstance(value, dict):
        return any(_json_has_forbidden(k, depth + 1) or _json_has_forbidden(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_json_has_forbidden(item, depth + 1) for item in value)
    return False


# ---- ids in URLs ----------------------------------------------------------------------------

LARGEST_ID = 2**31 - 1  # the primary keys are PostgreSQL integers


class RowIdConverter(IntegerConverter):
    """`<int:...>` that matches only ids a table can hold: /requests/99999999999999999999 is a
    404 like any other missing row, not an "integer out of range" from the database."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=LARGEST_ID if max is None else max,
                         signed=signed)

    def to_python(self, value: str):
        if len(value.lstrip("-")) > 18:  # also keeps int() away from very long digit strings
            raise ValidationError()
        return super().to_python(value)


def bound_url_ids(app: Flask) -> None:
    """Install RowIdConverter for `int`: call before any blueprint adds its routes."""
    app.url_map.converters["int"] = RowIdConverter


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_control_characters)
    app.after_request(add_security_headers)
