"""One way to make PDFs: render_pdf(template, **context) through WeasyPrint.

The URL fetcher refuses file: and outside URLs; only data: URLs and our own static files
(written `static:name`) may be pulled in. The stylesheet names a CJK font installed from
Debian (WenQuanYi Micro Hei, or Noto CJK) so that Chinese is drawn and embedded.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template
from weasyprint import HTML
from weasyprint.urls import URLFetcher

STATIC_PREFIX = "static:"


class RefusedURL(ValueError):
    pass


class SafeFetcher(URLFetcher):
    """Fetches data: URLs and files under the static folder; refuses everything else."""

    def __init__(self, static_root: str):
        super().__init__(allowed_protocols=("data", "file"))
        self.static_root = Path(static_root).resolve()

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith(STATIC_PREFIX):
            path = (self.static_root / url[len(STATIC_PREFIX):].lstrip("/")).resolve()
            if self.static_root in path.parents and path.is_file():
                return super().fetch(path.as_uri(), headers)
        raise RefusedURL(f"PDF rendering refuses to fetch {url!r}")


def render_pdf(template: str, **context) -> bytes:
    html = render_template(template, **context)
    return HTML(string=html, url_fetcher=SafeFetcher(current_app.static_folder)).write_pdf()
