"""The report PDF after the issue 15 speed work: it still carries its figures and words in the
reader's language, embeds one CJK typeface (no bold copy, no monospace faces, and the charts' labels
in it too), has a page count that does not grow with the number of receivables, and a worker (or the
isolation forkserver) can load WeasyPrint and its fonts ahead of the first PDF. The renderer pauses
the garbage collector and mends tinyhtml5's cache of regular expressions."""

from __future__ import annotations

import base64
import copy
import gc
import re
import subprocess
import sys
import threading
from decimal import Decimal

import pytest

from marketplace import pdf
from marketplace.extensions import db
from marketplace.isolation import run_limited
from marketplace.verification.models import VerificationReport
from marketplace.verification.report_document import report_context
from marketplace.verification.services import reports_of
from tests.verification.cases import build, submit


def pdf_facts(data: bytes, tmp_path) -> tuple[str, int, list[str]]:
    """(text, pages, embedded font names) of a PDF, by poppler."""
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    fonts = [line.split()[0].split("+")[-1] for line in listing.splitlines()[2:] if line.strip()]
    return "".join(text.split()), pages, fonts


@pytest.fixture
def excellent(app):
    case = build(app, "excellent")
    submit(app, case)
    (case.report,) = reports_of(case.request.id)
    return case


def pledging(case, count: int) -> VerificationReport:
    """A stored copy of the case's report pledging `count` receivables (its own, repeated)."""
    report = case.report
    payload = copy.deepcopy(report.payload)
    first = payload["receivables"]
    payload["receivables"] = [dict(first[n % len(first)], invoice_no=f"INV-{n:05d}") for n in range(count)]
    columns = {column.key: getattr(report, column.key) for column in VerificationReport.__mapper__.column_attrs
               if column.key != "id"}
    copied = VerificationReport(**dict(columns, submission_no=report.submission_no + count, payload=payload))
    db.session.add(copied)
    db.session.commit()
    return copied


def download(client, case, report) -> bytes:
    response = client.get(f"/financing/{case.request.id}/reports/{report.id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    return response.data


def money(value) -> str:
    return f"{Decimal(str(value)):,.2f}"


def test_the_report_pdf_still_shows_its_figures(client, login, excellent, tmp_path):
    login(excellent.owner)
    text, pages, _fonts = pdf_facts(download(client, excellent, excellent.report), tmp_path)
    payload = excellent.report.payload
    metrics = payload["metrics"]
    assert "核验报告" in text and "优质" in text  # the title and the classification
    assert money(payload["requested_amount"]) in text
    assert money(metrics["inflow_total"]) in text and money(metrics["outflow_total"]) in text
    for month in metrics["months"]:
        assert month["month"] in text and money(month["inflow"]) in text
    for receivable in payload["receivables"]:
        assert receivable["invoice_no"] in text and money(receivable["amount"]) in text
        for check in receivable["checks"]:
            assert check["code"] in text
    for check in payload["health"]:
        assert check["code"] in text
    assert excellent.report.inputs_sha256[:12] in text
    assert 1 <= pages <= 8


def test_the_report_pdf_embeds_one_cjk_face_without_bold_or_monospace_copies(client, login, excellent, tmp_path):
    login(excellent.owner)
    _text, _pages, fonts = pdf_facts(download(client, excellent, excellent.report), tmp_path)
    cjk = {name for name in fonts if "WenQuanYi" in name or "Noto" in name}
    assert cjk and all(not name.endswith("Mono") and "Mono-" not in name for name in fonts)
    assert len(cjk) == 1  # one face: no monospace, no bold copy
    assert len(fonts) == 1  # the charts' axis labels are set in it too


def test_the_page_count_of_a_large_report_is_bounded(client, login, excellent, tmp_path):
    login(excellent.owner)
    large = pdf_facts(download(client, excellent, pledging(excellent, 100)), tmp_path)[1]
    larger = pdf_facts(download(client, excellent, pledging(excellent, 1_000)), tmp_path)[1]
    assert large == larger <= 20


def test_warm_up_loads_weasyprint_and_fonts_without_an_app_context(monkeypatch):
    monkeypatch.setattr(pdf, "_fonts", threading.local())
    pdf.warm_up()
    fonts = pdf._fonts.configuration
    first = pdf.html_to_pdf("<p>核验报告 1,234.56</p>", "static", 1)
    assert first.startswith(b"%PDF") and pdf._fonts.configuration is fonts  # later PDFs reuse it
    assert "weasyprint" in sys.modules


def test_each_thread_renders_with_a_font_configuration_of_its_own():
    seen = []
    thread = threading.Thread(target=lambda: seen.append(pdf._font_configuration()))
    thread.start()
    thread.join()
    assert seen and seen[0] is not pdf._font_configuration()


def squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_pdf_carries_each_reason_and_each_checks_words_in_the_readers_language(client, login, excellent,
                                                                                    tmp_path, language):
    login(excellent.owner)
    if language == "en":
        client.get("/lang/en")
    text, _pages, _fonts = pdf_facts(download(client, excellent, excellent.report), tmp_path)
    payload = excellent.report.payload
    for reason in payload[f"reasons_{language}"]:
        assert squeezed(reason) in text
    for receivable in payload["receivables"]:
        for check in receivable["checks"]:
            assert squeezed(f"{check['code']}") in text and squeezed(check[f"reason_{language}"]) in text


def test_the_pdf_charts_are_images_without_what_paper_cannot_show_in_the_pdf_typeface(app, excellent):
    with app.test_request_context():
        page = report_context(excellent.request, excellent.report)["charts"]
        printed = report_context(excellent.request, excellent.report, pdf=True)["charts"]
    for name in ("inflow", "outflow", "balance"):
        assert page[name].startswith("<svg") and "data-value" in page[name] and page[name].count("<title") > 1
        assert "font-family" not in page[name]
        image = re.fullmatch(r'<img class="svg" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)" alt="">', printed[name])
        svg = base64.b64decode(image.group(1)).decode()
        assert svg.startswith("<svg") and "data-value" not in svg and svg.count("<title") == 1  # the chart's title
        assert f'font-family="{pdf.SVG_FONT_FAMILY}"' in svg


def test_the_html_parser_finds_the_expressions_it_compiled_and_parses_as_before():
    from xml.etree import ElementTree

    from tinyhtml5 import inputstream, parse

    pdf.html_to_pdf("<p>核验报告</p>", "static", 1)
    cache = inputstream.characters_until_regex
    assert isinstance(cache, pdf.CharactersUntilCache)
    html = '<table data-x="a&amp;b"><tr><td class=num>1,234.56</td><td data-y=\'1\'>甲 &lt; 乙</td></tr></table>'
    mended = ElementTree.tostring(parse(html))
    compiled = len(cache)
    parse(html)
    assert len(cache) == compiled <= 10  # found again, not compiled again
    inputstream.characters_until_regex = {}  # tinyhtml5's own
    try:
        assert ElementTree.tostring(parse(html)) == mended
    finally:
        inputstream.characters_until_regex = cache


def test_the_collector_is_paused_while_rendering_then_left_as_it_was(monkeypatch):
    seen = []
    fetcher = pdf.SafeFetcher
    monkeypatch.setattr(pdf, "SafeFetcher", lambda root: seen.append(gc.isenabled()) or fetcher(root))
    pdf.html_to_pdf("<p>1</p>", "static", 1)
    assert seen == [False] and gc.isenabled()
    with pytest.raises(pdf.PdfRefused):
        pdf.html_to_pdf("<p>1</p>", "static", 0)
    assert gc.isenabled()
    gc.disable()
    try:
        pdf.html_to_pdf("<p>1</p>", "static", 1)
        assert not gc.isenabled()  # a caller that had paused it finds it paused
    finally:
        gc.enable()


def test_a_child_of_the_isolation_forkserver_starts_with_the_fonts_loaded():
    assert run_limited(fonts_loaded, memory_mb=1536, seconds=60)


def fonts_loaded() -> bool:
    return getattr(pdf._fonts, "configuration", None) is not None
