"""The report PDF stays bounded: past 50 receivables it lists the first 50 and totals per grade
(the page keeps the full list), it is rendered once per report and language and then served
from the cache, and a PDF over the page cap or the time limit answers a clear 503."""

from __future__ import annotations

import copy
import re

import pytest

from marketplace import pdf
from marketplace.extensions import db
from marketplace.verification.models import VerificationReport
from marketplace.verification.report_document import PDF_RECEIVABLE_ROWS
from marketplace.verification.services import reports_of
from tests.verification.cases import build, submit

PLEDGED = 1_000


@pytest.fixture
def big_report(app):
    """A stored report of a request pledging 1,000 receivables (the case's own, repeated)."""
    case = build(app, "excellent")
    submit(app, case)
    (report,) = reports_of(case.request.id)
    payload = copy.deepcopy(report.payload)
    first = payload["receivables"]
    payload["receivables"] = [dict(first[n % len(first)], invoice_no=f"INV-{n:05d}") for n in range(PLEDGED)]
    columns = {column.key: getattr(report, column.key) for column in VerificationReport.__mapper__.column_attrs
               if column.key != "id"}
    big = VerificationReport(**dict(columns, submission_no=report.submission_no + 1, payload=payload))
    db.session.add(big)
    db.session.commit()
    case.report = big
    return case


@pytest.fixture
def renders(monkeypatch):
    """Each HTML document handed to WeasyPrint (the real renderer still runs)."""
    seen: list[str] = []
    real = pdf.write_pdf

    def counting(html: str) -> bytes:
        seen.append(html)
        return real(html)

    monkeypatch.setattr(pdf, "write_pdf", counting)
    return seen


def url(case, suffix=""):
    return f"/financing/{case.request.id}/reports/{case.report.id}{suffix}"


def test_the_pdf_lists_50_receivables_and_totals_by_grade_the_page_all(client, login, big_report, renders):
    login(big_report.owner)
    response = client.get(url(big_report, ".pdf"))
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    (html,) = renders
    assert html.count('data-testid="report-receivable"') == PDF_RECEIVABLE_ROWS
    assert f"另有 {PLEDGED - PDF_RECEIVABLE_ROWS} 笔应收账款未在此列出" in html
    counts = [int(n) for n in re.findall(r'data-testid="report-grade-total">\s*<td>[^<]*</td><td class="num">(\d+)', html)]
    assert sum(counts) == PLEDGED
    page = client.get(url(big_report)).get_data(as_text=True)
    assert page.count('data-testid="report-receivable"') == PLEDGED
    assert 'data-testid="report-receivables-omitted"' not in page


def test_a_repeat_download_is_served_from_the_cache_per_language(client, login, big_report, renders):
    login(big_report.owner)
    first = client.get(url(big_report, ".pdf")).data
    assert client.get(url(big_report, ".pdf")).data == first
    assert len(renders) == 1
    client.get("/lang/en")
    english = client.get(url(big_report, ".pdf"))
    assert english.status_code == 200 and english.data != first
    assert len(renders) == 2


def test_a_pdf_over_the_page_cap_answers_a_clear_503(app, client, login, big_report, monkeypatch):
    monkeypatch.setitem(app.config, "PDF_MAX_PAGES", 1)
    login(big_report.owner)
    response = client.get(url(big_report, ".pdf"))
    assert response.status_code == 503
    assert "PDF文件过大或生成超时" in response.get_data(as_text=True)


def test_a_pdf_over_the_time_limit_answers_a_clear_503(app, client, login, big_report, monkeypatch):
    monkeypatch.setitem(app.config, "PDF_RENDER_SECONDS", 0.01)
    login(big_report.owner)
    response = client.get(url(big_report, ".pdf"))
    assert response.status_code == 503
    assert "PDF文件过大或生成超时" in response.get_data(as_text=True)


def test_the_downloaded_pdf_has_safe_headers(client, login, big_report):
    login(big_report.owner)
    response = client.get(url(big_report, ".pdf"))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('inline; filename="verification-report-') and "filename*=UTF-8''" in disposition
