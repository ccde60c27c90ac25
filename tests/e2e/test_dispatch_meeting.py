"""A dispatch meeting (调度会) in a real browser: the bureau coordinator opens the stuck list,
schedules a meeting from it, records minutes and an action item for the bank; the bank officer
finds the item on the desk and closes it with a note; the coordinator sees it closed and
downloads the minutes PDF."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from marketplace.formatting import today_shanghai
from tests.e2e.test_officer_day import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture
def stuck_case(live_app):
    """A request routed to a bank whose SLA passed three days ago, a coordinator of the region's
    bureau and the bank's officer, both enrolled in the second factor."""
    from marketplace.accounts.roles import Role
    from marketplace.db import utcnow
    from marketplace.extensions import db
    from tests.factories import UserFactory
    from tests.verification.cases import build, submit

    live_app.extensions["celery"].set_current()
    with live_app.app_context():
        case = build(live_app, "excellent")
        db.session.commit()
        submit(live_app, case)
        case.request.sla_due_at = utcnow() - timedelta(days=3)
        coordinator = UserFactory(role=Role.BUREAU_COORDINATOR, name="朱建华")
        coordinator.organisation.region_code = case.owner.enterprise.region_code
        for user in (coordinator, case.bank_staff):
            user.totp_secret = pyotp.random_base32()
            user.totp_enrolled_at = utcnow()
        db.session.commit()
        facts = {"request": case.request.id, "state": case.request.state,
                 "coordinator": coordinator.email, "coordinator_secret": coordinator.totp_secret,
                 "officer": case.bank_staff.email, "officer_secret": case.bank_staff.totp_secret,
                 "bank": case.bank_staff.organisation_id}
        db.session.remove()
    assert facts["state"] == "routed_to_bank"
    return facts


def _page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on("dialog", lambda dialog: dialog.accept())
    return context, page


def test_a_coordinator_runs_a_meeting_and_the_bank_closes_its_action_item(browser, live_server, stuck_case):
    request_id = stuck_case["request"]
    tomorrow = today_shanghai() + timedelta(days=1)

    context, page = _page(browser)
    sign_in(page, live_server, stuck_case["coordinator"], stuck_case["coordinator_secret"])
    page.goto(live_server + "/bureau/stuck")
    page.get_by_test_id(f"stuck-sla_breach-{request_id}").wait_for()
    page.get_by_test_id("schedule-meeting-from-stuck").first.click()

    form = page.get_by_test_id("meeting-form")
    form.locator('input[name="starts_at"]').fill(f"{tomorrow.isoformat()}T09:30")
    form.locator('input[name="place"]').fill("区政府三楼会议室")
    form.locator(f'input[name="attendees"][value="{stuck_case["bank"]}"]').check()  # the bank's names repeat
    page.get_by_test_id("meeting-save").click()
    agenda = page.get_by_test_id("agenda")
    agenda.wait_for()
    assert f"#{request_id}" in agenda.inner_text() or str(request_id) in agenda.inner_text()

    item = agenda.locator('[data-testid^="minutes-form-"]').first
    item.locator("textarea").nth(0).fill("银行审查超时，原因是补充材料未到位。")
    item.locator("textarea").nth(1).fill("银行三个工作日内完成审查并反馈。")
    item.locator('[data-testid^="minutes-save-"]').click()
    page.get_by_test_id("agenda").get_by_text("银行三个工作日内完成审查并反馈。").wait_for()

    action = page.get_by_test_id("action-form")
    action.locator('textarea[name="description"]').fill("完成审查并向企业反馈结果")
    action.locator('select[name="owner"]').select_option(f"org:{stuck_case['bank']}")
    action.locator('input[name="due_on"]').fill((tomorrow + timedelta(days=5)).isoformat())
    page.get_by_test_id("action-add").click()
    page.get_by_test_id("action-items").get_by_text("完成审查并向企业反馈结果").wait_for()
    meeting_url = page.url
    page.get_by_test_id("meeting-close").click()
    page.get_by_test_id("minutes-pdf").wait_for()

    bank_context, bank_page = _page(browser)  # the coordinator stays signed in meanwhile
    sign_in(bank_page, live_server, stuck_case["officer"], stuck_case["officer_secret"])
    bank_page.goto(live_server + "/institution/requests/")
    bank_page.get_by_test_id("desk-action-items").get_by_role("link").click()  # the desk's notice
    bank_page.get_by_test_id("my-action-items").get_by_text("完成审查并向企业反馈结果").click()
    bank_page.get_by_test_id("action-close-form").locator("textarea").fill("已完成审查，报价已发出")
    bank_page.get_by_test_id("action-close").click()
    bank_page.get_by_test_id("action-note").wait_for()
    assert "已办结" in bank_page.get_by_test_id("action-state").inner_text()
    bank_context.close()

    page.goto(meeting_url)
    assert "已办结" in page.get_by_test_id("action-items").inner_text()
    assert "已完成审查，报价已发出" in page.get_by_test_id("action-items").inner_text()
    href = page.get_by_test_id("minutes-pdf").get_attribute("href")
    pdf = context.request.get(live_server + href)  # the browser's own session (cookies)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body()[:5] == b"%PDF-"
    context.close()
