"""One way to make PDFs: render_pdf(template, context) through WeasyPrint.

The URL fetcher refuses file: and outside URLs; only our own static files may be pulled in.
The stylesheet names an embedded CJK font (WenQuanYi Micro Hei or Noto CJK from Debian).
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template

STATIC_PREFIX = "static:"


class RefusedURL(ValueError):
    pass


def _fetcher(url: str, *args, **kwargs):
    from weasyprint import default_url_fetcher

    if url.startswith(STATIC_PREFIX):
        root = Path(current_app.static_folder).resolve()
        path = (root / url[len(STATIC_PREFIX):]).resolve()
        if root not in path.parents:
            raise RefusedURL(url)
        return default_url_fetcher(path.as_uri())
    if url.startswith("data:"):
        return default_url_fetcher(url)
    raise RefusedURL(f"PDF rendering refuses to fetch {url!r}")


def render_pdf(template: str, **context) -> bytes:
    from weasyprint import HTML

    html = render_template(template, **context)
    return HTML(string=html, url_fetcher=_fetcher, base_url="static:/").write_pdf()
