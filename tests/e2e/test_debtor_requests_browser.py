"""Debtor requests in a real browser (issue 19): the enterprise ticks receivables of two debtors on
its list and sends one request to each (email, letter); the emailed debtor answers every line on
one page; the enterprise's table shows who answered and the letter carries a QR code."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.e2e.pages import sign_in
from tests.factories import make_uscc

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture
def enterprise_with_receivables(live_app):
    """An enterprise admin with three receivables on one debtor and one on another:
    (email, ids of the first debtor's, id of the second's)."""
    from marketplace.extensions import db
    from tests.factories import ReceivableFactory, make_enterprise_user

    live_app.extensions["celery"].set_current()  # the request's email task runs eagerly on this app
    with live_app.app_context():
        owner = make_enterprise_user()
        first = [ReceivableFactory(enterprise=owner.enterprise, debtor_uscc=make_uscc(88100, prefix="91330100"),
                                   debtor_name="杭州西湖机电有限公司") for _ in range(3)]
        second = ReceivableFactory(enterprise=owner.enterprise, debtor_uscc=make_uscc(88101, prefix="91330100"),
                                   debtor_name="温州瓯江五金有限公司")
        db.session.commit()
        result = owner.email, [r.id for r in first], second.id
        db.session.remove()
    return result


def request_token(live_app, debtor_name: str) -> str:
    from marketplace.extensions import db
    from marketplace.receivables.debtor_request_models import DebtorRequest

    with live_app.app_context():
        token = db.session.scalar(select(DebtorRequest).where(DebtorRequest.debtor_name == debtor_name)).token
        db.session.remove()
    return token


def test_two_debtors_one_request_each_answered_line_by_line(browser, page, live_app, live_server,
                                                             enterprise_with_receivables):
    email, first_ids, second_id = enterprise_with_receivables
    sign_in(page, live_server, email)
    page.goto(live_server + "/receivables/")
    for receivable_id in [*first_ids, second_id]:
        page.get_by_test_id(f"pick-{receivable_id}").check()
    page.get_by_test_id("ask-selected").click()

    groups = page.get_by_test_id("debtor-group")
    assert groups.count() == 2
    by_email = groups.filter(has_text="杭州西湖机电有限公司")
    assert by_email.get_by_test_id("group-line").count() == 3
    by_email.get_by_test_id("debtor-email").fill("ap@xihu.example")
    groups.filter(has_text="温州瓯江五金有限公司").get_by_test_id("channel-letter").check()
    page.get_by_test_id("send-requests").click()
    page.wait_for_url("**/receivables/debtor-requests/")
    assert page.get_by_test_id("debtor-request-row").count() == 2

    debtor = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
    debtor.goto(f"{live_server}/requests/{request_token(live_app, '杭州西湖机电有限公司')}")
    lines = debtor.get_by_test_id("debtor-line")
    assert lines.count() == 3
    lines.nth(0).get_by_test_id("line-confirm").check()
    lines.nth(1).get_by_test_id("line-confirm").check()
    lines.nth(2).get_by_test_id("line-dispute").check()
    lines.nth(2).get_by_test_id("line-reason").fill("该发票对应的货物已退回")
    debtor.get_by_test_id("debtor-name-input").fill("钱会计")
    debtor.get_by_test_id("debtor-submit").click()
    results = debtor.get_by_test_id("done-line")
    results.first.wait_for()
    assert [results.nth(i).get_attribute("data-result") for i in range(3)] == ["confirmed", "confirmed", "disputed"]
    debtor.context.close()

    page.reload()
    rows = page.get_by_test_id("debtor-request-row")
    answered = rows.filter(has_text="杭州西湖机电有限公司")
    assert answered.get_by_test_id("request-progress").get_attribute("data-progress") == "answered"
    letter_row = rows.filter(has_text="温州瓯江五金有限公司")
    assert letter_row.get_by_test_id("request-progress").get_attribute("data-progress") == "none"
    letter_row.get_by_test_id("print-letter").click()
    page.get_by_test_id("letter-qr").locator("svg").wait_for()
    assert "/requests/" in page.get_by_test_id("letter-url").inner_text()
