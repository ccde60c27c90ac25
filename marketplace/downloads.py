"""Headers for files the platform hands out: never sniffed, never kept in shared caches, and a
Content-Disposition whose plain `filename` is a generated ASCII name (no quoting or encoding
trouble in any browser) with the original name beside it as `filename*` (RFC 5987/6266).

    response.headers.update(file_headers("合同（终稿）.pdf", "attachment-12.pdf"))
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import quote

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\\\\"]+")
_ASCII_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def clean_name(name: str, fallback: str) -> str:
    """The original name as a user may see it: control characters, quotes and path parts dropped."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/")
    name = _UNSAFE.sub("", PurePosixPath(name).name).strip(" .")
    return name[-200:] or fallback


def ascii_name(name: str) -> str:
    """A generated name of letters, digits, dot, dash and underscore only."""
    return _ASCII_SAFE.sub("-", name).strip("-.") or "download"


def content_disposition(original: str, fallback: str, *, inline: bool = False) -> str:
    """`attachment; filename="<fallback>"; filename*=UTF-8''<original>`."""
    kind = "inline" if inline else "attachment"
    plain = ascii_name(fallback)
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(clean_name(original, plain), safe='')}"


def file_headers(original: str, fallback: str, *, inline: bool = False) -> dict[str, str]:
    """The headers every file download carries."""
    return {
        "Content-Disposition": content_disposition(original, fallback, inline=inline),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
