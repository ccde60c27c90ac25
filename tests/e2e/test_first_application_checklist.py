"""The first-application checklist in a real browser on a phone-width screen (issue 19, item 3):
the consents for the likely institutions granted in one submit, the statement step's bank picked
without JavaScript help (a GET form)."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from tests.e2e.pages import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture
def newcomer(live_app):
    """A freshly registered enterprise's admin and two banks with a product that suits it."""
    from marketplace.extensions import db
    from tests.factories import EnterpriseFactory, make_enterprise_user
    from tests.supermarket.products import lender, make_product

    with live_app.app_context():
        enterprise = EnterpriseFactory(legal_rep_name=None, legal_rep_id_number=None, industry_code=None,
                                       contact_phone=None, region_code="320506")
        user = make_enterprise_user(enterprise=enterprise, email="start@checklist.e2e")
        banks = [lender(name=f"清单测试银行{i}") for i in range(2)]
        for i, staff in enumerate(banks):
            make_product(live_app, staff, rate_min=Decimal(f"3.{i}0"), rate_max=Decimal(f"4.{i}0"))
        db.session.commit()
        email, ids = user.email, [staff.organisation_id for staff in banks]
        db.session.remove()
    return email, ids


def test_the_checklist_grants_the_proposed_consents_in_one_submit(page, live_server, newcomer):
    email, bank_ids = newcomer
    sign_in(page, live_server, email)
    page.goto(live_server + "/enterprise/start")
    assert page.get_by_test_id("step-profile").get_attribute("aria-current") == "step"
    assert page.get_by_test_id("step-consents").get_attribute("data-state") == "todo"
    for bank_id in bank_ids:
        assert page.get_by_test_id(f"consent-institution-{bank_id}").is_checked()
    page.get_by_test_id(f"consent-institution-{bank_ids[1]}").uncheck()
    page.get_by_test_id("step-consents-action").click()
    page.wait_for_url("**/enterprise/start")
    assert page.get_by_test_id("step-consents").get_attribute("data-state") == "done"
    assert "清单测试银行0" in page.get_by_test_id("consents-granted").inner_text()
    assert page.get_by_test_id(f"consent-institution-{bank_ids[1]}").is_visible()  # still proposed

    page.get_by_test_id("bank-select").select_option("icbc")
    page.get_by_test_id("bank-show").click()
    page.wait_for_url("**/enterprise/start?bank=icbc*")
    assert "明细查询" in page.get_by_test_id("bank-menu").inner_text()
    if os.environ.get("CHECKLIST_SCREENSHOT"):  # for docs/onboarding.md (issue 19, item 5)
        page.screenshot(path=os.environ["CHECKLIST_SCREENSHOT"], full_page=True)
