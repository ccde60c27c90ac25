"""A bank officer's day in a real browser: sign in with the second factor, find a routed request
in the queue, claim it, review it (why it matched, the verification report within consent),
make an offer; then the enterprise compares offers and accepts it."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from marketplace.formatting import today_shanghai
from tests.e2e.pages import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture
def routed_case(live_app):
    """A verified request routed to a bank whose officer has enrolled a TOTP secret, and the
    enterprise's consent to that bank reading its statements."""
    from marketplace.db import utcnow
    from marketplace.enterprises.services import grant_consent
    from marketplace.extensions import db
    from tests.verification.cases import build, submit

    live_app.extensions["celery"].set_current()  # the verification runs eagerly on this app
    with live_app.app_context():
        case = build(live_app, "excellent")
        case.bank_staff.totp_secret = pyotp.random_base32()
        case.bank_staff.totp_enrolled_at = utcnow()
        with live_app.test_request_context():
            grant_consent(case.owner.enterprise, case.owner, grantee_org_id=case.bank_staff.organisation_id,
                          scopes=["bank_statements"], purpose="融资审查", valid_from=today_shanghai(),
                          valid_to=today_shanghai() + timedelta(days=180))
        db.session.commit()
        submit(live_app, case)
        facts = {"request": case.request.id, "officer": case.bank_staff.email, "secret": case.bank_staff.totp_secret,
                 "owner": case.owner.email, "state": case.request.state}
        db.session.remove()
    assert facts["state"] == "routed_to_bank"
    return facts


def test_an_officer_claims_reviews_and_offers_and_the_enterprise_accepts(browser, live_server, routed_case):
    request_id = routed_case["request"]
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on("dialog", lambda dialog: dialog.accept())

    sign_in(page, live_server, routed_case["officer"], routed_case["secret"])
    page.goto(live_server + "/institution/requests/")
    row = page.locator(f'[data-testid="desk-row"][data-request-id="{request_id}"]')
    row.get_by_role("link").click()
    assert "为什么推送给本机构" in page.get_by_test_id("match-explanation").inner_text()
    page.get_by_test_id("claim").click()
    page.get_by_test_id("claimed-by-me").wait_for()
    assert "银行流水" in page.get_by_test_id("credit-file").inner_text()  # within the consent

    page.get_by_test_id("reports").get_by_role("link").first.click()  # the verification report
    page.wait_for_url(f"**/institution/requests/{request_id}/reports/*")  # waits for the load too
    assert "核验报告" in page.content()
    page.go_back()

    page.get_by_test_id("note-body").fill("回款稳定，两家债务人均已确认")
    page.get_by_test_id("add-note").click()
    page.get_by_test_id("offer-amount").fill("240000")
    page.get_by_test_id("offer-rate").fill("3.85")
    page.get_by_test_id("offer-term").fill("90")
    page.get_by_test_id("offer-expires").fill((today_shanghai() + timedelta(days=10)).isoformat())
    page.get_by_test_id("offer-submit").click()
    page.get_by_test_id("request-state").get_by_text("银行已报价").wait_for()
    context.close()

    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, live_server, routed_case["owner"])
    page.goto(f"{live_server}/financing/{request_id}/offers")
    card = page.get_by_test_id("offer-card").first
    assert "240,000.00" in card.inner_text() and "3.85%" in card.inner_text()
    card.get_by_test_id("accept-offer").click()
    page.get_by_test_id("request-state").get_by_text("已接受报价").wait_for()
    context.close()
