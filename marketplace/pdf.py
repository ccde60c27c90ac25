"""One way to make PDFs: render_pdf(template, **context) through WeasyPrint.

The URL fetcher refuses file: and outside URLs; only data: URLs and our own static files
(written `static:name`) may be pulled in. The stylesheet names a CJK font installed from
Debian (WenQuanYi Micro Hei, or Noto CJK) so that Chinese is drawn and embedded.

WeasyPrint runs in a child process limited in time and memory (PDF_RENDER_SECONDS,
PDF_RENDER_MEMORY_MB; marketplace.isolation), and a document over PDF_MAX_PAGES is refused:
a PDF that cannot be made within them answers a clear page, never a stalled worker. A PDF of an
immutable record (a verification report) is cached on disk under PDF_CACHE_FOLDER, keyed by
the record, the page's language and a digest of the templates: a repeat download does not
render again. A render runs with the garbage collector paused and with tinyhtml5's cache of
regular expressions mended (issue 15; see workflows.collector and CharactersUntilCache).
"""

from __future__ import annotations

import base64
import hashlib
import multiprocessing
import os
import re
import tempfile
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path

from flask import current_app, make_response, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from marketplace.downloads import file_headers
from marketplace.errors import render_error
from workflows.collector import collector_paused

STATIC_PREFIX = "static:"
# The typeface of templates/pdf/base.html, for SVG text (WeasyPrint does not give it the page's font).
SVG_FONT_FAMILY = "WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif"


def svg_image(svg: str) -> Markup:
    """An inline SVG as an <img> of a data: URL, for a PDF. WeasyPrint reads an image's SVG with
    ElementTree; inline, every element of it goes through tinyhtml5, the cascade and the box tree
    as well (a report's three charts: 80 elements, 4 % of its render)."""
    data = base64.b64encode(str(svg).encode()).decode()
    return Markup(f'<img class="svg" src="data:image/svg+xml;base64,{data}" alt="">')


class RefusedURL(ValueError):
    pass


class PdfRefused(ValueError):
    """The PDF would be over the page cap, or could not be made within the time or memory."""

    def __init__(self, cause: str, pages: int = 0) -> None:
        super().__init__(cause, pages)
        self.cause, self.pages = cause, pages  # pages | time | memory | crashed


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


_fonts = threading.local()


def _font_configuration():
    """One WeasyPrint FontConfiguration per thread (about 20 ms to make: it loads fontconfig's
    configuration and a Pango font map, which is not shared between threads). Our stylesheets
    declare no @font-face, so the configuration never changes from one document to the next."""
    configuration = getattr(_fonts, "configuration", None)
    if configuration is None:
        from weasyprint.text.fonts import FontConfiguration

        configuration = _fonts.configuration = FontConfiguration()
    return configuration


class CharactersUntilCache(dict):
    """tinyhtml5's cache of the regular expressions of `chars_until()`, as it means to be.

    tinyhtml5 2.1 looks a set of characters up under `(characters, opposite)` but stores the
    compiled expression under `(expression, opposite)`, so it never finds it: every call builds and
    compiles its pattern again, about half the time of parsing a report. A miss here builds the same
    pattern, keeps it under the key it was asked for, and returns it."""

    def __missing__(self, key):
        characters, opposite = key
        pattern = "".join(f"\\x{ord(character):02x}" for character in characters)
        expression = self[key] = re.compile(f"[{pattern}]+" if opposite else f"[^{pattern}]+")
        return expression


@cache
def _mend_html_parser() -> None:
    """Give tinyhtml5 a working `chars_until()` cache (once; left alone if its cache is not there)."""
    from tinyhtml5 import inputstream

    if type(getattr(inputstream, "characters_until_regex", None)) is dict:
        inputstream.characters_until_regex = CharactersUntilCache()


def html_to_pdf(html: str, static_root: str, max_pages: int) -> bytes:
    """The PDF of an HTML document (pure: no app context), refused past `max_pages` pages."""
    from weasyprint import HTML

    _mend_html_parser()
    fonts = _font_configuration()
    with collector_paused():  # a render allocates by the hundred thousand: a third of its time in collections
        document = HTML(string=html, url_fetcher=SafeFetcher(static_root)).render(font_config=fonts)
        if len(document.pages) > max_pages:
            raise PdfRefused("pages", len(document.pages))
        return document.write_pdf()


# A one-page document with what the reports use: the font stack of templates/pdf/base.html at the
# report's sizes, a page counter, a fixed table, lines kept by pre-line, and an SVG chart's text.
_WARM_UP_HTML = (
    '<html lang="zh-CN"><head><meta charset="utf-8"><style>@page { size: A4; margin: 20mm;'
    ' @bottom-center { content: counter(page) " / " counter(pages); font-size: 9pt } }'
    ' body { font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif; font-size: 9.5pt;'
    ' line-height: 1.4 } h1 { font-size: 18pt; letter-spacing: .2em } h2 { font-size: 12pt }'
    ' h3 { font-size: 10pt } small { font-size: 8.5pt } td { white-space: pre-line }'
    ' table { table-layout: fixed; width: 100%; border-collapse: collapse }</style></head><body>'
    '<h1>核验报告 Report</h1><h2>应收账款 Receivables</h2><h3>流入 Inflows</h3>'
    f'<svg viewBox="0 0 100 20" width="100%" font-family="{SVG_FONT_FAMILY}"><rect width="9" height="9"/>'
    '<line x2="99" stroke="#000"/><polyline points="0,0 9,9" fill="none" stroke="#000"/><circle r="3"/>'
    '<text x="9" y="9" font-size="11">2025-01 5,000,000</text></svg>'
    '<table><tr><th>发票号码</th><td>¥1,234,567.89\n2026-01-01 <small>R1 通过</small></td></tr></table>'
    '</body></html>'
)


def warm_up() -> None:
    """Import WeasyPrint and render one tiny document, so that a worker's first real PDF does
    not pay for the import, fontconfig, the font map and the CJK font's first load (about 0.8 s
    on our machines). gunicorn's post_fork hook calls it; it needs no app context."""
    html_to_pdf(_WARM_UP_HTML, str(Path(__file__).resolve().parent.parent / "static"), 1)


def write_pdf(html: str) -> bytes:
    """html_to_pdf within the configured page cap, in a child limited in time and memory (unless
    PDF_RENDER_ISOLATED is off). A daemonic process (a worker of Celery's prefork pool) may not
    start children: there WeasyPrint runs in the worker, bounded by the task's own time limits.
    Raises PdfRefused."""
    from marketplace.isolation import LimitExceeded, run_limited

    config = current_app.config
    arguments = (html, current_app.static_folder, int(config["PDF_MAX_PAGES"]))
    if not config.get("PDF_RENDER_ISOLATED", True) or multiprocessing.current_process().daemon:
        return html_to_pdf(*arguments)
    try:
        return run_limited(html_to_pdf, *arguments, memory_mb=int(config["PDF_RENDER_MEMORY_MB"]),
                           seconds=float(config["PDF_RENDER_SECONDS"]))
    except LimitExceeded as exceeded:
        raise PdfRefused(exceeded.cause) from None


def render_pdf(template: str, **context) -> bytes:
    return write_pdf(render_template(template, **context))


def _cache_path(key: str) -> Path:
    return Path(current_app.config["PDF_CACHE_FOLDER"]) / f"{key}-{get_locale()}-{templates_digest()}.pdf"


def is_cached(key: str) -> bool:
    """Whether the PDF of `key` in the current language and templates is in the cache."""
    return _cache_path(key).is_file()


def cached(key: str, make: Callable[[], bytes]) -> bytes:
    """The PDF of an immutable record: made by `make()` once per `key`, language and version of
    the templates, then read from PDF_CACHE_FOLDER."""
    path = _cache_path(key)
    if path.is_file():
        return path.read_bytes()
    data = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.replace(temporary, path)  # atomic: a concurrent download reads the whole file or none
    return data


def cached_pdf(key: str, template: str, **context) -> bytes:
    """`template` rendered to PDF with `context`, through the cache of immutable records."""
    return cached(key, lambda: render_pdf(template, **context))


def templates_digest() -> str:
    """A digest of every template's source, once per process: a deployment that changes a
    template renders cached PDFs anew."""
    app = current_app._get_current_object()
    digest = app.extensions.get("pdf_templates_digest")
    if digest is None:
        environment = app.jinja_env
        hasher = hashlib.sha256()
        for name in sorted(environment.list_templates()):
            hasher.update(name.encode())
            hasher.update(environment.loader.get_source(environment, name)[0].encode())
        digest = app.extensions["pdf_templates_digest"] = hasher.hexdigest()[:16]
    return digest


def pdf_response(template: str, filename: str, *, cache_key: str | None = None, **context):
    """The rendered PDF as a response the browser shows inline, saved as `filename`; with
    `cache_key`, from the cache of immutable PDFs. A PDF that cannot be made answers 503."""
    return pdf_file_response(
        lambda: cached_pdf(cache_key, template, **context) if cache_key else render_pdf(template, **context), filename)


def pdf_file_response(make: Callable[[], bytes], filename: str):
    """The PDF `make()` returns as a response the browser shows inline, saved as `filename`; 503
    when it refuses (too many pages, too long, too much memory)."""
    try:
        data = make()
    except PdfRefused as refused:
        current_app.logger.warning("PDF %s refused: %s (%s pages)", filename, refused.cause, refused.pages)
        return render_error(503, _("PDF文件过大或生成超时，请在网页上查看完整内容"))
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers.update(file_headers(filename, filename, inline=True))
    return response
