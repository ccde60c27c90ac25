"""The report and the institution's view name the source and time of every confirmation: the
debtor's signed link or account with its date, and the enterprise's declaration for what only the
enterprise said (which R1 treats as pending)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import render_template

from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.verification.report_document import report_context
from marketplace.verification.services import reports_of
from tests.verification.cases import build, submit

CONFIRMED_AT = datetime(2026, 11, 20, 3, 30, tzinfo=UTC)  # 11:30 in Shanghai


@pytest.fixture
def mixed(app):
    """A request pledging one receivable the debtor confirmed by link and one the enterprise only
    declared confirmed; verified and routed to the case's guarantor."""
    case = build(app, "mixed")
    by_link, declared = sorted((p.receivable for p in case.request.active_pledges), key=lambda r: r.id)
    by_link.confirmed_at = CONFIRMED_AT
    declared.declared_confirmation, declared.declared_at = "confirmed", utcnow()
    db.session.flush()
    submit(app, case)
    (case.report,) = reports_of(case.request.id)
    case.by_link, case.declared = by_link, declared
    return case


def r1_of(payload: dict, invoice_no: str) -> dict:
    item = next(r for r in payload["receivables"] if r["invoice_no"] == invoice_no)
    return next(c for c in item["checks"] if c["code"] == "R1") | {"item": item}


def test_the_stored_report_names_the_link_and_its_date_and_the_declaration(mixed):
    payload = mixed.report.payload
    by_link = r1_of(payload, mixed.by_link.invoice_no)
    assert by_link["level"] == "ok" and by_link["reason_zh"] == "债务人于2026-11-20通过签名链接确认该笔应收账款"
    assert by_link["item"]["confirmation_source"] == "link"
    assert by_link["item"]["confirmation_time"].startswith("2026-11-20T11:30")
    declared = r1_of(payload, mixed.declared.invoice_no)
    assert declared["level"] == "weak" and declared["reason_zh"].startswith("企业声明已确认，债务人尚未确认")
    assert declared["item"]["confirmation"] == "pending"
    assert declared["item"]["confirmation_source"] == "declared"
    assert mixed.report.classification != "excellent"


def test_the_report_page_and_pdf_show_the_source_of_each_confirmation(app, client, login, mixed):
    login(mixed.owner)
    html = client.get(f"/financing/{mixed.request.id}/reports/{mixed.report.id}").get_data(as_text=True)
    assert 'data-testid="report-confirmation-source" data-source="link"' in html
    assert "债务人通过签名链接确认 · 2026-11-20 11:30" in html
    assert 'data-source="declared"' in html and "企业声明已确认，待债务人确认" in html
    assert "债务人于2026-11-20通过签名链接确认该笔应收账款" in html

    with app.test_request_context():
        pdf_html = render_template("pdf/verification_report.html", **report_context(mixed.request, mixed.report))
    assert "债务人通过签名链接确认 · 2026-11-20 11:30" in pdf_html and "企业声明已确认，待债务人确认" in pdf_html
    pdf = client.get(f"/financing/{mixed.request.id}/reports/{mixed.report.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_the_english_report_names_them_too(client, login, mixed):
    login(mixed.owner)
    with client.session_transaction() as session:
        session["locale"] = "en"
    html = client.get(f"/financing/{mixed.request.id}/reports/{mixed.report.id}").get_data(as_text=True)
    assert "The debtor confirmed the receivable via the signed link on 2026-11-20" in html
    assert "Declared confirmed by the enterprise" in html


def test_the_institutions_request_page_names_the_source_and_time(client, login, mixed):
    assert mixed.request.state in ("routed_to_guarantor", "guarantor_review")
    login(mixed.guarantor_staff)
    html = client.get(f"/institution/requests/{mixed.request.id}").get_data(as_text=True)
    assert 'data-testid="rcv-source" data-source="link"' in html and "2026-11-20 11:30" in html
    assert 'data-testid="rcv-declared" data-declared="confirmed"' in html
