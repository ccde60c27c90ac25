"""The first application's pieces wired together (issue 19): the checklist's receivables step leads
to the invoice import and, once receivables exist, to the debtor requests; the enterprise's home
page points to the checklist while a step remains; the county is typed or picked without
JavaScript; codes and phones typed in full width are folded to ASCII."""

from __future__ import annotations

import re

from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.onboarding.services import STEPS, Step
from marketplace.receivables.models import Receivable
from tests.enterprises.test_minimal_registration import incomplete_admin, no_mail, registered  # noqa: F401
from tests.enterprises.test_registration import profile_form
from tests.factories import make_uscc
from tests.financing.test_requests import receivables
from tests.onboarding.test_checklist import admin, page_of  # noqa: F401
from tests.receivables.helpers import receivable_form


def full_width(text: str) -> str:
    """What a Chinese keyboard types in full width: ０-９, Ａ-Ｚ, －."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_the_receivables_step_leads_with_the_invoice_import(client, login, admin):  # noqa: F811
    page = page_of(login(admin))
    step = page[page.index('data-testid="step-receivables"'):page.index('data-testid="step-statement"')]
    assert re.search(r'href="/receivables/invoices/" data-testid="step-receivables-action"', step)
    assert 'href="/receivables/new" data-testid="step-receivables-manual"' in step
    assert 'href="/receivables/import" data-testid="step-receivables-template"' in step
    assert "step-receivables-ask-debtors" not in step  # nothing to ask about yet


def test_once_receivables_exist_the_step_asks_the_debtors_in_one_go(client, login, admin):  # noqa: F811
    rcvs = receivables(admin, "100000.00", "50000.00")
    page = page_of(login(admin))
    assert re.search(r'href="/receivables/debtor-requests/new\?scope=pending" '
                     r'data-testid="step-receivables-ask-debtors">请债务人确认（2 笔待确认）', page)
    for receivable in rcvs:
        receivable.confirmation, receivable.confirmed_via, receivable.confirmed_at = "confirmed", "link", utcnow()
    db.session.flush()
    assert "step-receivables-ask-debtors" not in page_of(client)


def test_the_home_page_points_to_the_checklist_while_a_step_remains(client, login, admin):  # noqa: F811
    page = page_of(login(admin), "/dashboard")
    assert re.search(r'data-testid="home-checklist" data-count="1"', page)
    assert 'href="/enterprise/start" data-testid="home-checklist-action"' in page
    assert "还有 6 步即可提交首笔融资申请" in page


def test_the_home_page_says_the_checklist_is_done(client, login, monkeypatch, admin):  # noqa: F811
    monkeypatch.setattr("marketplace.onboarding.services.checklist_steps",
                        lambda enterprise: [Step(key, True) for key in STEPS])
    page = page_of(login(admin), "/dashboard")
    assert 'data-testid="home-checklist-empty"' in page and "home-checklist-action" not in page


def test_the_county_is_a_field_of_its_own_without_javascript(client, login):
    user = incomplete_admin(region_code="320506")
    page = page_of(login(user), "/enterprise/profile/complete")
    assert re.search(r'<input id="region_code" name="region_code" value="320506 江苏省苏州市吴中区" '
                     r'list="region_code-options"', page)
    assert re.search(r'data-regions-url="[^"]+" hidden', page)  # the cascade only shows with JavaScript


def test_the_county_may_be_typed_by_name_or_as_the_pickers_label(client, login):
    user = incomplete_admin(region_code="320500")
    login(user)
    for typed in ("苏州市吴中区", "320506 江苏省苏州市吴中区"):
        response = client.post("/enterprise/profile/complete", data=profile_form(region_code=typed))
        assert response.status_code == 302, typed
        assert db.session.get(Enterprise, user.enterprise.id).region_code == "320506"


def test_a_city_or_an_unknown_name_is_refused_and_nothing_stored(client, login):
    user = incomplete_admin(region_code="320500")
    login(user)
    for typed, message in (("苏州市", "区县"), ("火星市", "未知的地区"), ("  ", "区县")):
        response = client.post("/enterprise/profile/complete", data=profile_form(region_code=typed))
        assert response.status_code == 400 and message in response.get_data(as_text=True), typed
        assert db.session.get(Enterprise, user.enterprise.id).legal_rep_name is None


def test_full_width_phone_is_folded_on_the_completion_form(client, login):
    user = incomplete_admin(region_code="320506")
    response = login(user).post("/enterprise/profile/complete",
                                data=profile_form(contact_phone="　" + full_width("13912345678")))
    assert response.status_code == 302
    assert db.session.get(Enterprise, user.enterprise.id).contact_phone == "13912345678"


def test_full_width_credit_code_is_folded_on_registration(client, no_mail):  # noqa: F811
    code = make_uscc(6161, "91320506")
    page = client.post("/register", data={"enterprise_name": "苏州全角测试有限公司", "uscc": full_width(code),
                                          "name": "陈晓", "email": "wide@hengda.cn", "password": "Hengda-2026!"})
    assert "请查收邮件完成注册" in page.get_data(as_text=True)
    assert db.session.scalar(select(Enterprise).where(Enterprise.uscc == code)) is not None


def test_full_width_invoice_and_contract_numbers_are_folded(client, login, admin):  # noqa: F811
    login(admin)
    response = client.post("/receivables/new", data=receivable_form(
        make_uscc(7171, "91310115"), invoice_no=full_width("04401234"), contract_no=full_width("HT-2026-018")))
    assert response.status_code == 302
    stored = db.session.scalar(select(Receivable).where(Receivable.enterprise_id == admin.enterprise.id))
    assert (stored.invoice_no, stored.contract_no) == ("04401234", "HT-2026-018")
