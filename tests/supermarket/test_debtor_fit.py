"""Products fit the debtor: the kinds of debtor a product accepts (政采贷: public bodies only), the
debtor's confirmation factoring needs and the contract numbers order and contract loans need,
from the product form to the product pages, the matches page and automatic routing."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.enterprises.services import grant_consent
from marketplace.extensions import db
from marketplace.financing import routing
from marketplace.financing.services import create_request
from marketplace.formatting import today_shanghai
from marketplace.supermarket.matching import best_targets, ranked_matches, request_profile
from marketplace.supermarket.models import Product, RequestTarget
from tests.factories import ReceivableFactory, make_enterprise_user, make_uscc
from tests.supermarket.products import lender, make_product

COMPANY = "91310115"  # 工商 / 企业
PUBLIC_INSTITUTION = "12320506"  # 机构编制 / 事业单位
GOVERNMENT_BODY = "11320506"  # 机构编制 / 机关
INDIVIDUAL_BUSINESS = "92320506"  # 工商 / 个体工商户

PRODUCT_FORM = {
    "name": "苏银政采e贷", "product_type": "gov_procurement_loan", "description": "",
    "amount_min": "100,000", "amount_max": "5000000", "term_min_days": "30", "term_max_days": "360",
    "rate_min": "3.20", "rate_max": "4.35", "min_grade": "", "accepts_ungraded": "y",
}


def pledge_request(app, owner, debtors: list[str], *, contract_numbers: bool = True, confirmation="confirmed"):
    """A draft request of `owner`'s enterprise pledging one receivable per debtor code prefix."""
    with app.test_request_context():
        receivables = [
            ReceivableFactory(enterprise=owner.enterprise, debtor_uscc=make_uscc(700 + i, prefix=prefix),
                              face_amount=Decimal("800000.00"), confirmation=confirmation,
                              contract_no=f"HT-2026-{i:03d}" if contract_numbers else None)
            for i, prefix in enumerate(debtors)
        ]
        request = create_request(owner.enterprise, owner, amount=Decimal("500000"), term_days=90,
                                 purpose="履行合同采购原材料", receivable_ids=[r.id for r in receivables])
        db.session.commit()
    return request


def consent_to(app, owner, *staff) -> None:
    """The enterprise lets each institution read its bank statements (routing needs it)."""
    with app.test_request_context():
        today = today_shanghai()
        for user in staff:
            grant_consent(owner.enterprise, owner, grantee_org_id=user.organisation_id, scopes=["bank_statements"],
                          purpose="融资申请审查", valid_from=today - timedelta(days=1),
                          valid_to=today + timedelta(days=365))
        db.session.commit()


@pytest.fixture
def market(app):
    """A bank with a cheap 政采贷, another with a dearer receivable pledge loan, a third with an
    order loan; all fit a ¥500,000 request over 90 days on everything but the debtor."""
    gov_bank = lender(name="苏州银行吴中支行")
    pledge_bank = lender(name="江苏银行苏州分行")
    order_bank = lender(name="中国建设银行苏州分行")
    return {
        "gov_bank": gov_bank, "pledge_bank": pledge_bank, "order_bank": order_bank,
        "gov": make_product(app, gov_bank, name="苏行政采贷", product_type="gov_procurement_loan",
                            rate_min=Decimal("2.80"), rate_max=Decimal("3.80")),
        "pledge": make_product(app, pledge_bank, name="苏银e融·应收账款质押贷", rate_min=Decimal("4.50"),
                               rate_max=Decimal("6.00")),
        "order": make_product(app, order_bank, name="建行云端订单贷", product_type="order_loan",
                              rate_min=Decimal("5.20"), rate_max=Decimal("6.50")),
    }


def by_product(matches) -> dict:
    return {m.product_id: m for m in matches}


def criterion(match, code: str):
    (found,) = [c for c in match.criteria if c.code == code]
    return found


# --- what the matcher is told about the pledged receivables ------------------------------------------


def test_the_profile_reads_debtor_kinds_from_credit_codes_and_contract_numbers_from_the_receivables(app):
    owner = make_enterprise_user()
    mixed = pledge_request(app, owner, [COMPANY, PUBLIC_INSTITUTION, INDIVIDUAL_BUSINESS])
    profile = request_profile(mixed)
    assert profile.debtor_kinds == {"enterprise", "public_body", "individual_business"}
    assert profile.all_have_contract_numbers and profile.all_debtors_confirmed
    bare = pledge_request(app, make_enterprise_user(), [GOVERNMENT_BODY], contract_numbers=False,
                          confirmation="pending")
    profile = request_profile(bare)
    assert profile.debtor_kinds == {"public_body"}
    assert not profile.all_have_contract_numbers and not profile.all_debtors_confirmed


def test_a_debtor_code_with_a_bad_check_character_is_of_no_known_kind(app):
    owner = make_enterprise_user()
    request = pledge_request(app, owner, [PUBLIC_INSTITUTION])
    receivable = request.active_pledges[0].receivable
    good = receivable.debtor_uscc
    receivable.debtor_uscc = good[:17] + ("1" if good[17] != "1" else "2")
    assert request_profile(request).debtor_kinds == {"unknown"}


# --- matching and automatic routing ------------------------------------------------------------------


def test_a_gov_procurement_loan_does_not_fit_receivables_owed_by_companies_and_says_why(app, market):
    owner = make_enterprise_user()
    request = pledge_request(app, owner, [COMPANY])
    matches = by_product(ranked_matches(request))
    gov = matches[market["gov"].id]
    assert not gov.eligible and [c.code for c in gov.failures] == ["debtor_kind"]
    reason = criterion(gov, "debtor_kind")
    assert reason.zh.startswith("政采贷产品只接受债务人为机关、事业单位等公共机构的应收账款")
    assert "债务人为企业" in reason.zh and "owed by enterprises" in reason.en
    assert matches[market["pledge"].id].eligible and matches[market["order"].id].eligible
    assert market["gov"].id not in {m.product_id for m in best_targets(request)}


def test_a_gov_procurement_loan_fits_receivables_all_owed_by_public_bodies(app, market):
    request = pledge_request(app, make_enterprise_user(), [PUBLIC_INSTITUTION, GOVERNMENT_BODY])
    gov = by_product(ranked_matches(request))[market["gov"].id]
    assert gov.eligible and criterion(gov, "debtor_kind").passed
    assert best_targets(request)[0].product_id == market["gov"].id  # the cheapest, now that it fits


def test_one_company_among_public_debtors_is_enough_to_refuse_a_gov_procurement_loan(app, market):
    request = pledge_request(app, make_enterprise_user(), [PUBLIC_INSTITUTION, COMPANY])
    assert not by_product(ranked_matches(request))[market["gov"].id].eligible


def test_an_order_loan_needs_a_contract_number_on_every_pledged_receivable(app, market):
    request = pledge_request(app, make_enterprise_user(), [COMPANY], contract_numbers=False)
    order = by_product(ranked_matches(request))[market["order"].id]
    assert [c.code for c in order.failures] == ["contract_number"]
    assert criterion(order, "contract_number").zh == "订单贷产品要求质押应收账款载明合同编号，尚有应收账款未填写合同编号"


def test_factoring_needs_the_debtors_confirmation_even_when_the_product_does_not_tick_it(app):
    bank = lender(name="江苏银行苏州分行")
    factoring = make_product(app, bank, name="苏银保理通", product_type="factoring", requires_debtor_confirmation=False)
    pending = pledge_request(app, make_enterprise_user(), [COMPANY], confirmation="pending")
    match = by_product(ranked_matches(pending))[factoring.id]
    assert [c.code for c in match.failures] == ["debtor_confirmation"]
    assert criterion(match, "debtor_confirmation").zh == "保理产品要求债务人确认，尚有质押应收账款未获确认"
    confirmed = pledge_request(app, make_enterprise_user(), [COMPANY], confirmation="confirmed")
    assert by_product(ranked_matches(confirmed))[factoring.id].eligible


def test_automatic_routing_does_not_send_company_receivables_to_a_gov_procurement_loan(app, market):
    """The issue: 政采贷 products were ranked first for, and routed, receivables owed by companies."""
    owner = make_enterprise_user()
    request = pledge_request(app, owner, [COMPANY])
    consent_to(app, owner, market["gov_bank"], market["pledge_bank"], market["order_bank"])
    with app.test_request_context():
        targets = routing.routing_targets(request, "bank")
        db.session.commit()
    routed = {t.institution_id for t in targets}
    assert market["gov_bank"].organisation_id not in routed
    assert routed == {market["pledge_bank"].organisation_id, market["order_bank"].organisation_id}
    stored = db.session.scalars(select(RequestTarget).where(RequestTarget.request_id == request.id)).all()
    assert market["gov"].current_version_id not in {t.product_version_id for t in stored}
    assert all(c["passed"] for t in stored for c in t.explanation if c["hard"])


def test_automatic_routing_sends_public_body_receivables_to_the_gov_procurement_loan(app, market):
    owner = make_enterprise_user()
    request = pledge_request(app, owner, [PUBLIC_INSTITUTION])
    consent_to(app, owner, market["gov_bank"], market["pledge_bank"], market["order_bank"])
    with app.test_request_context():
        targets = routing.routing_targets(request, "bank")
        db.session.commit()
    assert targets[0].product_version_id == market["gov"].current_version_id
    kind = next(c for c in targets[0].explanation if c["code"] == "debtor_kind")
    assert kind["passed"] and kind["expected"] == "public_body"


# --- the matches page ----------------------------------------------------------------------------------


def test_the_matches_page_explains_the_debtor_rules_criterion_by_criterion(app, client, login, market):
    owner = make_enterprise_user()
    request = pledge_request(app, owner, [COMPANY], contract_numbers=False)
    login(owner)
    page = client.get(f"/financing/{request.id}/matches").get_data(as_text=True)
    assert page.count('data-testid="criterion-debtor_kind"') == 3
    assert page.count('data-testid="criterion-contract_number"') == 3
    assert "政采贷产品只接受债务人为机关、事业单位等公共机构的应收账款，本申请有应收账款的债务人为企业" in page
    assert "订单贷产品要求质押应收账款载明合同编号" in page


def test_the_matches_page_lists_each_pledged_debtor_with_its_kind_and_contract_number(app, client, login, market):
    owner = make_enterprise_user()
    request = pledge_request(app, owner, [PUBLIC_INSTITUTION, COMPANY], contract_numbers=False)
    login(owner)
    page = client.get(f"/financing/{request.id}/matches").get_data(as_text=True)
    rows = re.findall(r'data-testid="pledged-debtor" data-kind="(\w+)"', page)
    assert sorted(rows) == ["enterprise", "public_body"]
    assert "12 事业单位 · 机关、事业单位等公共机构" in page and "91 企业 · 企业" in page
    assert page.count(">未填写</td>") == 2


# --- the product form and pages --------------------------------------------------------------------------


@pytest.fixture
def banker(login):
    user = lender(name="苏州银行吴中支行")
    login(user)
    return user


def saved_version(banker):
    return db.session.scalar(select(Product).where(Product.institution_id == banker.organisation_id)).current_version


def test_an_institution_may_restrict_the_debtor_kinds_its_product_accepts(client, banker):
    data = {**PRODUCT_FORM, "product_type": "receivable_pledge", "debtor_kinds": ["individual_business", "enterprise"]}
    assert client.post("/institution/products/new", data=data).status_code == 302
    version = saved_version(banker)
    assert version.debtor_kinds == ["enterprise", "individual_business"]
    assert version.accepted_debtor_kinds == ["enterprise", "individual_business"]
    form = client.get(f"/institution/products/{version.product_id}/edit").get_data(as_text=True)
    ticked = set(re.findall(r'<input checked[^>]*name="debtor_kinds"[^>]*value="(\w+)"', form))
    assert ticked == {"enterprise", "individual_business"}


def test_a_gov_procurement_loan_accepts_public_bodies_without_being_told(client, banker):
    assert client.post("/institution/products/new", data=PRODUCT_FORM).status_code == 302
    version = saved_version(banker)
    assert version.debtor_kinds == [] and version.accepted_debtor_kinds == ["public_body"]


def test_a_gov_procurement_loan_cannot_be_opened_to_companies(client, banker):
    data = {**PRODUCT_FORM, "debtor_kinds": ["public_body", "enterprise"]}
    response = client.post("/institution/products/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "政采贷产品只接受债务人为机关、事业单位等公共机构的应收账款，不能选择其他类型" in page
    assert db.session.scalar(select(Product).where(Product.institution_id == banker.organisation_id)) is None


def test_an_unknown_debtor_kind_is_refused(client, banker):
    response = client.post("/institution/products/new", data={**PRODUCT_FORM, "debtor_kinds": ["company"]})
    assert response.status_code == 400 and "请从列表中选择债务人类型" in response.get_data(as_text=True)


def test_changing_only_the_debtor_kinds_makes_a_new_version_of_a_published_product(app, client, banker):
    product = make_product(app, banker, name="苏行e贷·应收账款质押")  # the same terms, every debtor kind
    same = {**PRODUCT_FORM, "name": "苏行e贷·应收账款质押", "product_type": "receivable_pledge",
            "rate_min": "3.45", "rate_max": "5.20"}
    client.post(f"/institution/products/{product.id}/edit", data=same)
    assert product.current_version.number == 1
    client.post(f"/institution/products/{product.id}/edit", data={**same, "debtor_kinds": ["enterprise"]})
    assert product.current_version.number == 2 and product.current_version.debtor_kinds == ["enterprise"]


def test_the_product_page_states_what_the_product_asks_of_the_receivables(app, client, market):
    gov = client.get(f"/market/products/{market['gov'].id}").get_data(as_text=True)
    assert "只接受债务人为机关、事业单位等公共机构的应收账款（按债务人统一社会信用代码第1-2位判断）" in gov
    order = client.get(f"/market/products/{market['order'].id}").get_data(as_text=True)
    assert "每笔质押的应收账款须载明合同编号（订单贷产品必须）" in order
    factoring = make_product(app, market["pledge_bank"], name="苏银保理通", product_type="factoring")
    page = client.get(f"/market/products/{factoring.id}").get_data(as_text=True)
    assert "质押的应收账款须经债务人确认（保理产品必须）" in page


def test_the_market_shows_the_debtor_requirements_on_each_card(client, market):
    page = client.get("/market").get_data(as_text=True)
    assert page.count('data-testid="needs-debtor-kind"') == 1 and "债务人限机关、事业单位等公共机构" in page
    assert page.count('data-testid="needs-contract-number"') == 1


def test_the_english_product_page_names_the_debtor_kinds_in_english(client, market):
    with client.session_transaction() as session:
        session["locale"] = "en"
    page = client.get(f"/market/products/{market['gov'].id}").get_data(as_text=True)
    assert "government bodies and public institutions" in page
