"""An objection (异议) in a real browser (issue 14): the enterprise opens its credit file, files an
objection against a tax arrears record with a PDF as evidence, and sees the record marked on its
file and in its credit report PDF; fifteen days later (a frozen clock) the daily escalation runs
and the region's bureau coordinator finds the objection on the escalation list, 15 days elapsed."""

from __future__ import annotations

import io
from datetime import timedelta

import pyotp
import pytest

from marketplace.formatting import today_shanghai
from tests.e2e.test_officer_day import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

EVIDENCE = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture
def objection_case(live_app):
    """An enterprise in Suzhou with a tax arrears record, its admin, and the Suzhou bureau's
    coordinator enrolled in the second factor."""
    from tests.credit.test_objections import add_record, make_case

    with live_app.app_context(), live_app.test_request_context():
        from marketplace.db import utcnow
        from marketplace.extensions import db

        made = make_case()
        made["suzhou"].totp_secret = pyotp.random_base32()
        made["suzhou"].totp_enrolled_at = utcnow()
        second = add_record(made["enterprise"], made["tax"].organisation, "T-9")  # stays unmarked
        db.session.commit()
        facts = {"record": made["record"].id, "other_record": second.id, "owner": made["user"].email,
                 "coordinator": made["suzhou"].email, "coordinator_secret": made["suzhou"].totp_secret}
        db.session.remove()
    return facts


def _page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on("dialog", lambda dialog: dialog.accept())
    return context, page


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_an_objection_marks_the_record_at_once_and_reaches_the_bureau_on_day_15(
        browser, live_server, live_app, objection_case, monkeypatch):
    record_id = objection_case["record"]
    context, page = _page(browser)
    sign_in(page, live_server, objection_case["owner"])
    page.goto(live_server + "/enterprise/credit-file")
    assert page.get_by_test_id(f"record-mark-{record_id}").count() == 0
    page.get_by_test_id(f"file-objection-{record_id}").click()
    assert "不收取任何费用" in page.get_by_test_id("objection-free").inner_text()
    page.get_by_test_id("objection-reason").fill("该笔税款已于十月缴清，附完税证明。")
    page.get_by_test_id("objection-evidence").set_input_files(
        files=[{"name": "完税证明.pdf", "mimeType": "application/pdf", "buffer": EVIDENCE}])
    page.get_by_test_id("objection-confirm").check()
    page.get_by_test_id("objection-submit").click()
    page.wait_for_url("**/enterprise/credit-file/objections/*")
    objection_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    page.goto(live_server + "/enterprise/credit-file")
    assert "异议处理中" in page.get_by_test_id(f"record-mark-{record_id}").inner_text()
    assert page.get_by_test_id(f"record-mark-{objection_case['other_record']}").count() == 0

    report = page.request.get(live_server + "/enterprise/credit-file/report.pdf")
    assert report.ok and report.headers["content-type"] == "application/pdf"
    text = _pdf_text(report.body())
    assert "异议处理中" in text
    context.close()

    # fifteen days later: the daily escalation and the pages run on a frozen clock
    day_15 = today_shanghai() + timedelta(days=15)
    from marketplace.credit import models as credit_models
    from marketplace.credit import objection_views, objections

    for module in (credit_models, objection_views, objections):
        monkeypatch.setattr(module, "today_shanghai", lambda: day_15)
    with live_app.app_context(), live_app.test_request_context():
        from marketplace.extensions import db

        assert objections.escalate_due(today=day_15) == 1
        db.session.commit()
        db.session.remove()

    context, page = _page(browser)
    sign_in(page, live_server, objection_case["coordinator"], objection_case["coordinator_secret"])
    page.goto(live_server + "/bureau/objections")
    row = page.get_by_test_id(f"objection-row-{objection_id}")
    assert page.get_by_test_id(f"objection-days-{objection_id}").inner_text().strip() == "15"
    row.get_by_test_id(f"objection-open-{objection_id}").click()
    page.get_by_test_id("objection-escalated").wait_for()
    assert "该笔税款已于十月缴清" in page.get_by_test_id("objection-reason-text").inner_text()
    context.close()
