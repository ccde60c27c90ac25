"""gzip for the text the app writes itself (pages, JSON, CSS, JavaScript), when the client accepts it.

A small `after_request` hook rather than a library: only gzip (every browser accepts it; brotli
would need a compiled extension), only bodies already in memory. Streamed answers and files sent
with `send_file` (uploads, PDFs, static files) pass untouched, and so does anything already
encoded. Bodies under `COMPRESS_MIN_BYTES` are not worth the header and the CPU.

BREACH (guessing a secret in a page, a CSRF token or a masked ID number, from the compressed
size of answers to requests another site makes the victim's browser send, with a guess
reflected in each) needs those requests to come from the attacker's page. So an answer to a
request another site started is sent uncompressed: the browser says so in `Sec-Fetch-Site`
(cross-site or same-site; a link followed on our own pages, a bookmark or a typed address say
same-origin or none), and for a browser too old to send it, a Referer naming another host says it.
"""

from __future__ import annotations

import gzip
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

COMPRESSIBLE = frozenset({
    "text/html", "text/css", "text/plain", "text/csv", "text/javascript", "application/javascript",
    "application/json", "application/problem+json", "image/svg+xml",
})
DEFAULT_MIN_BYTES = 1024
# zlib's fastest: the desk's 45 KB queue page in 0.10 ms to 9.6 KB, where level 6 (zlib's
# default) took 0.28 ms for 8.8 KB and level 3 0.11 ms for 9.4 KB (issue 15, measured 2026-12-07)
DEFAULT_LEVEL = 1


def _accepts_gzip() -> bool:
    return request.accept_encodings.quality("gzip") > 0


def _started_by_another_site() -> bool:
    """Whether another site's page made the browser send this request (see BREACH above)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    referrer = request.referrer
    return bool(referrer) and urlsplit(referrer).netloc.lower() != request.host.lower()


def compress_response(response: Response) -> Response:
    """after_request: gzip the body when the type is text-like, the client accepts gzip and the
    body is held in memory and large enough. Sets Vary: Accept-Encoding on every compressible
    answer, compressed or not, so shared caches keep the two apart."""
    if response.mimetype not in COMPRESSIBLE:
        return response
    response.vary.add("Accept-Encoding")
    if (response.direct_passthrough or response.is_streamed or "Content-Encoding" in response.headers
            or response.status_code < 200 or response.status_code in (204, 206, 304)
            or request.method == "HEAD" or not _accepts_gzip() or _started_by_another_site()):
        return response
    body = response.get_data()
    if len(body) < current_app.config.get("COMPRESS_MIN_BYTES", DEFAULT_MIN_BYTES):
        return response
    level = current_app.config.get("COMPRESS_LEVEL", DEFAULT_LEVEL)
    response.set_data(gzip.compress(body, compresslevel=level, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag and not weak:  # the bytes changed: a strong validator must change with them
        response.set_etag(etag + "-gzip")
    return response


def init_app(app: Flask) -> None:
    """Registered before the other after_request hooks, so it runs last (Flask runs them in
    reverse) and compresses the body they have finished."""
    app.after_request_funcs.setdefault(None, []).insert(0, compress_response)
