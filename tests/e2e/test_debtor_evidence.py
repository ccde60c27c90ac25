"""Debtor evidence comes from the debtor, in a real browser: an enterprise imports receivables it
marks 已确认 and sees them as its own declarations; a debtor confirms one by the signed link; the
verification report passes R1 for that one only, the others weak and named as declared."""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace.formatting import today_shanghai
from tests.e2e.pages import sign_in
from tests.factories import make_uscc

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

INVOICES = ("33010001", "33010002", "33010003")
DEBTORS = ("杭州东方电子有限公司", "宁波北仑港机有限公司", "嘉兴南湖纺织有限公司")


@pytest.fixture
def enterprise_login(live_app) -> str:
    """An enterprise admin with a signed commitment; returns the email to sign in with."""
    from marketplace.enterprises.services import sign_commitment
    from marketplace.extensions import db
    from tests.factories import make_enterprise_user

    live_app.extensions["celery"].set_current()  # the verification runs eagerly on this app
    with live_app.app_context():
        owner = make_enterprise_user()
        with live_app.test_request_context():
            sign_commitment(owner.enterprise, owner, owner.name, "127.0.0.1")
        db.session.commit()
        email = owner.email
        db.session.remove()
    return email


def import_file() -> bytes:
    today = today_shanghai()
    lines = ["债务人名称,债务人统一社会信用代码,发票号码,合同编号,金额,开票日期,到期日,确认状态"]
    for index, (debtor, invoice) in enumerate(zip(DEBTORS, INVOICES, strict=True)):
        lines.append(f"{debtor},{make_uscc(66100 + index, prefix='91330100')},{invoice},HT-{index},"
                     f"{150000 + 10000 * index}.00,{(today - timedelta(days=15)).isoformat()},"
                     f"{(today + timedelta(days=75)).isoformat()},已确认")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def debtor_confirms(browser, link: str) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    debtor = context.new_page()
    debtor.goto(link)
    debtor.get_by_test_id("debtor-name-input").fill("赵会计")
    debtor.get_by_test_id("debtor-confirm").click()
    debtor.get_by_test_id("debtor-result").wait_for()
    context.close()


def test_declared_confirmations_wait_for_the_debtor_and_only_the_debtors_act_passes_r1(
        browser, page, live_server, enterprise_login):
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, live_server, enterprise_login)

    # the import: every row says 已确认, every receivable stays pending, shown as declared
    page.goto(live_server + "/receivables/import")
    assert "不视为债务人确认" in page.get_by_test_id("import-declaration-note").inner_text()
    page.get_by_test_id("import-file").set_input_files(
        files=[{"name": "应收账款.csv", "mimeType": "text/csv", "buffer": import_file()}])
    page.get_by_test_id("import-submit").click()
    page.wait_for_url("**/receivables/")
    assert "不视为债务人的确认" in page.content()
    rows = page.get_by_test_id("rcv-row")
    assert rows.count() == 3
    for index in range(3):
        row = rows.nth(index)
        assert row.get_by_test_id("rcv-state").inner_text() == "待确认"
        assert row.get_by_test_id("rcv-declared").inner_text() == "企业声明已确认，待债务人确认"

    # the debtor of the first confirms it through the signed link
    page.get_by_test_id("rcv-row").filter(has_text=INVOICES[0]).get_by_role("link").click()
    assert "企业声明已确认，待债务人确认" in page.get_by_test_id("declaration").inner_text()
    page.get_by_test_id("send-link").click()
    assert "有效期至" in page.get_by_test_id("link-status").inner_text()
    debtor_confirms(browser, page.get_by_test_id("debtor-link").input_value())
    page.reload()
    assert "已确认" in page.get_by_test_id("confirmation-facts").inner_text()
    assert page.get_by_test_id("confirmed-via").inner_text() == "确认链接"

    # a request pledging all three; no statement yet, so it comes back, with its report
    page.goto(live_server + "/financing/")
    page.get_by_test_id("new-request").first.click()
    page.get_by_test_id("req-amount").fill("300000")
    page.get_by_test_id("req-term").fill("90")
    page.get_by_test_id("req-purpose").fill("支付货款")
    for invoice in INVOICES:
        page.get_by_test_id(f"pledge-{invoice}").check()
    page.get_by_test_id("req-save").click()
    page.get_by_test_id("submit-request").click()
    page.get_by_test_id("request-state").get_by_text("已退回").wait_for()

    page.get_by_test_id("reports").get_by_role("link").first.click()
    page.get_by_test_id("report-receivables").wait_for()
    levels = {}
    for index in range(3):
        item = page.get_by_test_id("report-receivable").nth(index)
        invoice = next(number for number in INVOICES if number in item.inner_text())
        r1 = item.get_by_test_id("check-R1")
        levels[invoice] = r1.get_attribute("data-level")
        if invoice == INVOICES[0]:
            assert "通过签名链接确认该笔应收账款" in r1.inner_text()
            assert item.get_by_test_id("report-confirmation-source").get_attribute("data-source") == "link"
        else:
            assert "企业声明已确认，债务人尚未确认" in r1.inner_text()
            assert item.get_by_test_id("report-confirmation-source").get_attribute("data-source") == "declared"
    assert levels == {INVOICES[0]: "ok", INVOICES[1]: "weak", INVOICES[2]: "weak"}
