"""The credit report PDF (企业信用报告): a PDF of what the viewer may see, with a watermark naming
the viewer (user and organisation) and the time on every page; under the same access rules as
the credit file page, each institution's download logged."""

from __future__ import annotations

import re

import pytest

from marketplace import pdf
from marketplace.extensions import db
from tests.credit.test_file_page import (
    RECORD_SCOPES,
    bureau_file,
    credit_reads,
    denials,
    file_world,
    institution_file,
)
from tests.factories import grant_consent_to

ENTERPRISE_REPORT = "/enterprise/credit-file/report.pdf"
STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


@pytest.fixture
def cfile(app):
    return file_world(app)


@pytest.fixture
def rendered(monkeypatch):
    return capture_pdf_html(monkeypatch)


def capture_pdf_html(monkeypatch) -> list[str]:
    """The HTML of each PDF rendered from now on, as WeasyPrint received it."""
    pages: list[str] = []
    original = pdf.write_pdf

    def capture(html: str) -> bytes:
        pages.append(html)
        return original(html)

    monkeypatch.setattr(pdf, "write_pdf", capture)
    return pages


def watermark(html: str) -> str:
    match = re.search(r'<div class="watermark w1" data-testid="watermark">(.*?)</div>', html, re.S)
    assert match, "the report has no watermark"
    return match.group(1)


def test_the_enterprises_report_is_a_pdf_watermarked_with_the_viewer_and_the_time(client, login, cfile, rendered):
    login(cfile["user"])
    response = client.get(ENTERPRISE_REPORT)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    html, = rendered
    mark = watermark(html)
    assert "王企业" in mark and cfile["enterprise"].name in mark and STAMP.search(mark)
    assert "position: fixed" in html and "rotate(" in html and "opacity" in html  # on every page, slanted, faint
    assert "2026年第三季度增值税欠缴" in html and "买卖合同纠纷败诉判决" in html
    assert cfile["enterprise"].legal_rep_id_number not in html
    assert "data-testid=\"file-objection-" not in html  # no links to click on paper


def test_the_watermark_is_drawn_on_every_page(app, cfile):
    """WeasyPrint repeats a fixed element on each page: a report of several pages has the viewer's
    name on each one."""
    from weasyprint import HTML

    with app.test_request_context():
        from flask import render_template

        from marketplace.credit import file as credit_file

        viewer = credit_file.Viewer(cfile["user"], cfile["user"].organisation, credit_file.ENTERPRISE)
        cf = credit_file.assemble(cfile["enterprise"], viewer, with_access_log=False)
        cf.records = cf.records * 60  # long enough for several pages
        from marketplace.credit.file_views import _labels

        html = render_template("pdf/credit_report.html", cf=cf, stamp=viewer.stamp(), **_labels())
    document = HTML(string=html).render()
    assert len(document.pages) >= 2

    def texts(box):
        if getattr(box, "text", None):
            yield box.text
        for child in getattr(box, "children", ()):
            yield from texts(child)

    for page in document.pages:
        assert any("王企业" in text for text in texts(page._page_box)), "a page without the watermark"


def test_a_banks_report_shows_what_its_consent_allows_and_is_logged(client, login, cfile, rendered):
    grant_consent_to(cfile["enterprise"], cfile["bank"].id, scopes=("tax",))
    login(cfile["officer"])
    response = client.get(institution_file(cfile["enterprise"]) + "/report.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    html, = rendered
    assert "赵经理" in watermark(html) and "苏州测试银行" in watermark(html)
    assert "2026年第三季度增值税欠缴" in html and "买卖合同纠纷败诉判决" not in html
    assert cfile["enterprise"].legal_rep_id_number not in html and "13912345678" not in html
    read, = credit_reads(cfile["enterprise"], "credit_report")
    assert read.purpose == "financing_review" and read.actor_user_id == cfile["officer"].id


def test_a_report_without_consent_is_refused_and_the_attempt_logged(client, login, cfile, rendered):
    login(cfile["officer"])
    response = client.get(institution_file(cfile["enterprise"]) + "/report.pdf")
    assert response.status_code == 403 and rendered == []
    refused, = denials(cfile["enterprise"])
    assert refused.object_type == "credit_report"


def test_the_bureaus_report_follows_the_bureaus_rules(client, login, cfile, rendered):
    login(cfile["far_coordinator"])
    assert client.get(bureau_file(cfile["enterprise"]) + "/report.pdf").status_code == 404
    grant_consent_to(cfile["enterprise"], cfile["bureau"].id, scopes=RECORD_SCOPES)
    db.session.flush()
    login(cfile["coordinator"])
    response = client.get(bureau_file(cfile["enterprise"]) + "/report.pdf")
    assert response.status_code == 200 and "钱协调" in watermark(rendered[0])
