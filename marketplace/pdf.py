"""One way to make PDFs: render_pdf(template, **context) through WeasyPrint.

The URL fetcher refuses file: and outside URLs; only data: URLs and our own static files
(written `static:name`) may be pulled in. The stylesheet names a CJK font installed from
Debian (WenQuanYi Micro Hei, or Noto CJK) so that Chinese is drawn and embedded.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import current_app, make_response, render_template

STATIC_PREFIX = "static:"


class RefusedURL(ValueError):
    pass


@cache
def _safe_fetcher_class():
    """WeasyPrint costs ~0.4 s to import: only processes that render a PDF pay for it."""
    from weasyprint.urls import URLFetcher

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

    return SafeFetcher


def SafeFetcher(static_root: str):  # noqa: N802  (reads as the class it builds)
    return _safe_fetcher_class()(static_root)


def render_pdf(template: str, **context) -> bytes:
    from weasyprint import HTML

    html = render_template(template, **context)
    return HTML(string=html, url_fetcher=SafeFetcher(current_app.static_folder)).write_pdf()


def pdf_response(template: str, filename: str, **context):
    """The rendered PDF as a response the browser shows inline, saved as `filename`."""
    response = make_response(render_pdf(template, **context))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f"inline; filename={filename}"
    return response
