"""Static files cached by content hash.

`url_for('static', filename='app.css')` gives `/static/app.css?v=<hash of the file's bytes>`, so a
page names the exact version of each file it uses. An answer to a request whose `v` matches the
file's current hash can be kept by browsers and proxies for a year without asking again
(`Cache-Control: public, max-age=31536000, immutable`): when the file changes, its hash and so
its URL change. Any other request for a static file (no `v`, or a stale one) stays revalidated
(`no-cache` with the ETag and Last-Modified Flask sends), as before.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from flask import Flask, Response, current_app, request

IMMUTABLE_SECONDS = 31_536_000  # one year, the longest a cache is asked to keep anything
HASH_LENGTH = 12  # hex digits of SHA-256: collisions between two versions of one file are not a concern

_paths: dict[tuple[str, str], str | None] = {}  # (folder, filename) -> the file's path, None outside the folder
_hashes: dict[str, tuple[int, int, str]] = {}  # path -> (mtime_ns, size, hash)


def _path(static_folder: str, filename: str) -> str | None:
    key = (static_folder, filename)
    if key not in _paths:
        folder = Path(static_folder).resolve()
        path = (folder / filename).resolve()
        _paths[key] = str(path) if path.is_relative_to(folder) else None
    return _paths[key]


def content_hash(static_folder: str, filename: str) -> str | None:
    """The short SHA-256 of a static file's bytes, or None when there is no such file inside the
    static folder. Kept per file and recomputed when its modification time or size changes (one
    stat a call: cheap beside a page, and a deploy that edits a file in place is still served right)."""
    path = _path(static_folder, filename)
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    kept = _hashes.get(path)
    if kept is not None and kept[0] == stat.st_mtime_ns and kept[1] == stat.st_size:
        return kept[2]
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:HASH_LENGTH]
    except OSError:
        return None
    _hashes[path] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


def add_version(endpoint: str, values: dict) -> None:
    """url_defaults: a static file's URL carries `v=<content hash>` unless the caller gave one."""
    if endpoint != "static" or "v" in values or not values.get("filename"):
        return
    digest = content_hash(current_app.static_folder, values["filename"])
    if digest is not None:
        values["v"] = digest


def cache_static(response: Response) -> Response:
    """after_request: a year and immutable for a static file asked for by its current hash."""
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    asked = request.args.get("v")
    filename = (request.view_args or {}).get("filename")
    if asked and filename and asked == content_hash(current_app.static_folder, filename):
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = IMMUTABLE_SECONDS
        response.cache_control.immutable = True
        response.expires = None
    else:
        response.cache_control.no_cache = True  # revalidate with the ETag on every use
    return response


def init_app(app: Flask) -> None:
    app.url_defaults(add_version)
    app.after_request(cache_static)
