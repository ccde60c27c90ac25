"""From nothing to a routed request, counted (issue 19, item 5): a FRESH enterprise registers with
five fields, confirms its email, completes its profile, signs the commitment, grants the proposed
consents in one step, imports its receivables from the tax bureau's invoice list, asks each debtor
once (the debtors confirm every line on their page, in a browser of their own), uploads a bank
statement and submits a request that verification classifies excellent and routes to a bank.

Every click, fill, tick, file choice and option chosen is one action of a person (`Person`); the
enterprise's are counted per step and bounded, the debtors' counted apart. Seconds are not
asserted. With ONBOARDING_SCREENSHOTS=1 each step leaves a 1280x800 screenshot in
docs/onboarding/ (docs/onboarding.md shows the series and the counts).

The invoice list is written here (tests/fixtures/invoices/make_fixtures.py's seller and buyers,
the tax bureau's 全量发票查询 layout through workflows.invoices.sample_list_xlsx) with dates
relative to today: the fixture file's fixed November 2026 dates would be past due a few months
on, and its second invoice is larger than its buyer's payments could back, so the request would
verify poor instead of routed. The statement is a year of the signed-amount CSV layout in which
both buyers pay regularly (tests/verification/cases.py).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.e2e.conftest import is_csp_violation
from tests.fixtures.invoices.make_fixtures import BUYER_A, BUYER_B, SELLER_NAME, SELLER_USCC

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "onboarding"
VIEWPORT = {"width": 1280, "height": 800}
# Measured on 2026-12-07: 46 actions of the enterprise (docs/onboarding.md has the steps); the
# bound is that rounded up by about 10 %. The issue measured about 150 before the checklist.
MEASURED_ACTIONS = 46
MAX_ENTERPRISE_ACTIONS = math.ceil(MEASURED_ACTIONS * 1.1)
TERM_DAYS = "90"


@dataclass
class Person:
    """A page driven by a person whose every act is counted in the step it belongs to."""

    page: object
    name: str
    steps: dict[str, int] = field(default_factory=dict)
    step: str = ""
    shots: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.steps.values())

    def begin(self, step: str) -> None:
        self.step = step
        self.steps.setdefault(step, 0)

    def _target(self, target):
        return self.page.get_by_test_id(target) if isinstance(target, str) else target

    def _acted(self) -> None:
        self.steps[self.step] += 1

    def open(self, url: str) -> None:
        """Following a link from outside the site (the address typed, the email's link)."""
        self.page.goto(url)
        self._acted()

    def click(self, target) -> None:
        self._target(target).click()
        self._acted()

    def check(self, target) -> None:  # a click on a box or a radio button
        self._target(target).check()
        self._acted()

    def fill(self, target, value: str) -> None:
        self._target(target).fill(value)
        self._acted()

    def set_input_files(self, target, files) -> None:
        self._target(target).set_input_files(files)
        self._acted()

    def select_option(self, target, value: str) -> None:
        self._target(target).select_option(value)
        self._acted()

    def shot(self, name: str) -> None:
        """The page as the step left it, for docs/onboarding.md (only when asked: CI writes nothing)."""
        if os.environ.get("ONBOARDING_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            path = SCREENSHOTS / f"{len(self.shots) + 1:02d}-{name}.png"
            self.page.screenshot(path=str(path))
            self.shots.append(path.name)


@pytest.fixture
def market(live_app):
    """What a fresh enterprise meets: a bank and a guarantor with a published product each (the
    checklist proposes them for the consents, verification routes to the bank)."""
    from marketplace.extensions import db
    from tests.verification.cases import institutions

    live_app.extensions["celery"].set_current()  # debtor emails and verification run eagerly here
    with live_app.app_context():
        bank_staff, _guarantor_staff = institutions(live_app)
        db.session.commit()
        bank = bank_staff.organisation_id
        db.session.remove()
    return bank  # other browser tests on this live server make banks of the same name: not checked by name


def open_context(browser, errors: list[str]):
    context = browser.new_context(locale="zh-CN", viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(20000)
    page.on("console", lambda message: errors.append(message.text) if is_csp_violation(message.text) else None)
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def invoice_list(path: Path) -> Path:
    """Three invoices issued in the last weeks, the same total per buyer, and one voided."""
    from marketplace.formatting import today_shanghai
    from workflows.invoices import Sample, SampleInvoice, sample_list_xlsx

    today = today_shanghai()
    invoices = (
        SampleInvoice("26322000000033330001", *BUYER_A, today - timedelta(days=21), Decimal("50000.00"),
                      Decimal("6500.00")),
        SampleInvoice("26322000000033330002", *BUYER_A, today - timedelta(days=14), Decimal("50000.00"),
                      Decimal("6500.00")),
        SampleInvoice("26322000000033330003", *BUYER_B, today - timedelta(days=10), Decimal("100000.00"),
                      Decimal("13000.00")),
        SampleInvoice("26322000000033330004", *BUYER_B, today - timedelta(days=7), Decimal("8000.00"),
                      Decimal("1040.00"), status="作废"),
    )
    path.write_bytes(sample_list_xlsx(Sample(SELLER_USCC, SELLER_NAME, invoices)))
    return path


def statement(path: Path) -> Path:
    from tests.verification.cases import statement_bytes

    path.write_bytes(statement_bytes(SELLER_NAME, [(BUYER_A[0], "regular"), (BUYER_B[0], "regular")]))
    return path


def request_links(live_app, base_url: str) -> dict[str, str]:
    """The debtors' links of this test's enterprise, by debtor name, as their emails carry them
    (other browser tests on this live server leave requests of their own, to debtors of the same names)."""
    from marketplace.enterprises.models import Enterprise
    from marketplace.extensions import db
    from marketplace.receivables.debtor_request_models import DebtorRequest

    with live_app.app_context():
        ours = (select(DebtorRequest).join(Enterprise, Enterprise.id == DebtorRequest.enterprise_id)
                .where(Enterprise.uscc == SELLER_USCC))
        links = {r.debtor_name: f"{base_url}/requests/{r.token}" for r in db.session.scalars(ours)}
        db.session.remove()
    return links


def back_to_checklist(person: Person) -> None:
    """From any page: the menu's 企业档案, then its link to the checklist."""
    person.click(person.page.get_by_test_id("nav").get_by_role("link", name="企业档案", exact=True))
    person.click("start-checklist")
    person.page.wait_for_url("**/enterprise/start")


def test_a_fresh_enterprise_reaches_a_routed_request_in_few_actions(browser, live_app, live_server, market,
                                                                     monkeypatch, tmp_path):
    mailbox = []
    monkeypatch.setattr("marketplace.enterprises.registration.send_mail",
                        lambda to, subject, body: mailbox.append(body))
    errors: list[str] = []
    me = Person(open_context(browser, errors), "enterprise")
    page = me.page

    me.begin("register")  # five fields
    me.open(live_server + "/")
    me.click("cta-register")
    me.fill("reg-enterprise-name", SELLER_NAME)
    me.fill("reg-uscc", SELLER_USCC)
    me.fill("reg-user-name", "陈晓")
    me.fill("reg-email", "chen@fapiao.e2e")
    me.fill("reg-password", "Fapiao-2026!")
    me.shot("register")
    me.click("reg-submit")
    page.get_by_test_id("register-sent").wait_for()

    me.begin("confirm_email")
    (body,) = mailbox
    me.open(re.search(r"https?://\S+/register/confirm/\S+", body).group(0))
    me.click("confirm-registration")
    page.wait_for_url("**/enterprise/start")
    me.shot("checklist")

    me.begin("profile")  # the county comes from the credit code
    me.click("step-profile-action")
    me.fill("profile-legal-rep-name", "陈建国")
    from tests.factories import make_resident_id
    me.fill("profile-legal-rep-id", make_resident_id(11))
    me.select_option("profile-industry", "34")
    assert page.locator("#region_code").input_value().startswith("320505")
    me.fill("profile-phone", "13912345678")
    me.shot("profile")
    me.click("profile-submit")
    page.wait_for_url("**/enterprise/start")

    me.begin("commitment")
    me.click("step-commitment-action")
    me.click("sign-commitment")  # signed in the user's own name, already filled in
    page.get_by_test_id("commitment-signed").wait_for()
    me.shot("commitment")
    back_to_checklist(me)

    me.begin("consents")  # the proposed institutions, all ticked, one submit
    assert page.get_by_test_id("proposed-consents").locator("[data-testid^='proposal-']").count() >= 1
    me.shot("consents")
    me.click("step-consents-action")
    page.wait_for_url("**/enterprise/start")
    assert page.get_by_test_id("consents-granted").is_visible()

    me.begin("invoices")
    me.click("step-receivables-action")
    me.set_input_files("invoice-files", str(invoice_list(tmp_path / "全量发票查询.xlsx")))
    me.fill("invoice-term", TERM_DAYS)
    me.click("invoice-upload-submit")
    page.get_by_test_id("invoice-results").wait_for()
    assert page.get_by_test_id("invoice-row").count() == 4
    assert "作废" in page.get_by_test_id("invoice-results").inner_text()
    me.shot("invoice-preview")
    me.click("invoice-confirm")
    page.wait_for_url("**/receivables/")
    assert "已从发票导入 3 笔应收账款" in page.get_by_test_id("flash").first.inner_text()

    me.begin("debtor_requests")  # one request per debtor, by email
    me.click("ask-all-pending")
    groups = page.get_by_test_id("debtor-group")
    assert groups.count() == 2
    me.fill(groups.filter(has_text=BUYER_A[0]).get_by_test_id("debtor-email"), "ap@jia.example")
    me.fill(groups.filter(has_text=BUYER_B[0]).get_by_test_id("debtor-email"), "ap@yi.example")
    me.shot("debtor-requests")
    me.click("send-requests")
    page.wait_for_url("**/receivables/debtor-requests/")
    assert page.get_by_test_id("debtor-request-row").count() == 2

    debtors = Person(open_context(browser, errors), "debtors", shots=me.shots)  # one series of screenshots
    for name, link in sorted(request_links(live_app, live_server).items()):
        debtors.begin(name)
        debtors.open(link)
        lines = debtors.page.get_by_test_id("debtor-line")
        for i in range(lines.count()):
            debtors.check(lines.nth(i).get_by_test_id("line-confirm"))
        debtors.fill("debtor-name-input", "王会计")
        if name == BUYER_A[0]:
            debtors.shot("debtor-confirms")
        debtors.click("debtor-submit")
        debtors.page.get_by_test_id("done-line").first.wait_for()
    debtors.page.context.close()

    me.begin("statement")
    back_to_checklist(me)
    assert "3 笔已经债务人确认" in page.get_by_test_id("receivables-count").inner_text()
    me.click("step-statement-action")
    me.set_input_files("statement-file", str(statement(tmp_path / "流水.csv")))
    me.click("statement-submit")
    page.get_by_test_id("statement-report").wait_for()
    me.shot("statement")

    me.begin("request")
    back_to_checklist(me)
    me.click("step-request-action")
    me.fill("req-amount", "100000")
    me.fill("req-term", TERM_DAYS)
    me.fill("req-purpose", "采购原材料")
    for invoice_no in ("26322000000033330001", "26322000000033330002", "26322000000033330003"):
        me.check(f"pledge-{invoice_no}")
    me.shot("request")
    me.click("req-save")
    me.click("submit-request")
    page.get_by_test_id("request-state").get_by_text("已推送银行").wait_for()
    me.shot("routed")
    assert "已推送银行" in page.get_by_test_id("timeline").inner_text()

    print(f"\nenterprise actions per step: {me.steps} total {me.total}")
    print(f"debtors' actions: {debtors.steps} total {debtors.total}")
    page.context.close()
    assert not errors, "Content Security Policy violations:\n" + "\n".join(errors)
    assert me.total <= MAX_ENTERPRISE_ACTIONS, me.steps
