"""The rough edges a new user hit (issue 16, item 3), and full-width input understood (its
"bad input" part)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from marketplace.desks import claims, decisions
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.guarantees import services as guarantees
from tests.desks.helpers import accepted_offer, routed, target_of
from tests.factories import ReceivableFactory, make_enterprise_user
from tests.guarantees.helpers import claim, mixed, paid, routed_guarantor
from tests.receivables.helpers import receivable_form
from workflows.identifiers import resident_id_problem, uscc_problem

ROOT = Path(__file__).resolve().parent.parent


def test_own_company_as_debtor_is_said_once(client, login):
    user = make_enterprise_user()
    login(user)
    page = client.post("/receivables/new", data=receivable_form(
        user.enterprise.uscc, debtor_name=user.enterprise.name)).get_data(as_text=True)
    assert page.count("债务人不能是本企业") == 1


def test_the_413_page_names_the_limit_in_mb(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    response = client.post("/login", data={"email": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "最大 2 MB" in response.get_data(as_text=True)


def test_the_429_page_says_in_how_many_seconds(rate_limited_app):
    app = rate_limited_app(LOGIN_LIMIT_PER_IP="2 per minute", LOGIN_LIMIT_PER_ACCOUNT="100 per minute")
    client = app.test_client()
    answers = [client.post("/login", data={"email": f"u{i}@ent.cn", "password": "guess"}) for i in range(3)]
    refused = answers[-1]
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert 0 < seconds <= 60
    match = re.search(r"请在 (\d+) 秒后重试", refused.get_data(as_text=True))
    assert match and abs(int(match.group(1)) - seconds) <= 1


@pytest.mark.parametrize(("problem", "wrong", "right"), [
    (uscc_problem, "91110000600037341A", "L"),
    (resident_id_problem, "110105194912310021", "X"),
])
def test_a_wrong_check_character_is_refused_without_telling_the_right_one(problem, wrong, right):
    sentence = problem(wrong)
    assert "校验位错误" in sentence and right not in sentence.replace("ID", "")
    assert "应为" not in sentence and "instead of" not in sentence.en


def test_the_guarantors_desk_has_no_offers_section_and_no_decline_once_it_guaranteed(app, client, login):
    case, staff = mixed(app)
    target = routed_guarantor(case)
    officer = staff[target.institution_id]
    claim(app, target, officer)
    login(officer)
    url = f"/institution/requests/{case.request.id}"
    page = client.get(url).get_data(as_text=True)
    assert "本机构的报价" not in page and 'data-testid="offers"' not in page
    assert 'data-testid="decline-box"' in page  # claimed, nothing offered yet: it may decline
    with app.test_request_context():
        guarantee = guarantees.offer_guarantee(target, officer, Decimal("80"), Decimal("1.50"))
    assert claims.open_assignment(target.id).user_id == officer.id  # still its claim, and yet:
    assert 'data-testid="decline-box"' not in client.get(url).get_data(as_text=True)
    with app.test_request_context():
        payment = guarantees.accept_guarantee(guarantee, case.owner)
    paid(app, payment, officer)
    assert guarantee.status == "issued"
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="decline-box"' not in page
    client.post(f"{url}/decline", data={"reason_code": "credit_risk", "note": ""})
    assert target.status != "declined"  # the server refuses too
    with app.test_request_context():
        assert decisions.decline_refusal(target) is not None


def test_a_banks_desk_still_shows_its_offers(app, client, login):
    case = routed(app)
    login(case.bank_staff)
    assert "本机构的报价" in client.get(f"/institution/requests/{case.request.id}").get_data(as_text=True)


def test_the_product_statistics_count_real_offers(app, client, login):
    case = routed(app)
    offer = accepted_offer(app, case)
    product_id = target_of(case).product_version.product_id
    login(case.bank_staff)
    page = client.get(f"/institution/products/{product_id}/stats").get_data(as_text=True)
    assert offer.status == "accepted"
    assert re.search(r'data-testid="total-offers">1<', page) and re.search(r'data-testid="total-acceptances">1<', page)
    assert re.search(r'data-testid="median-turnaround">\d+\.\d天<', page)
    assert "上线后统计" not in page


def test_every_page_links_a_favicon_that_exists(client):
    page = client.get("/login").get_data(as_text=True)
    href = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)"', page).group(1)
    icon = client.get(href)
    assert icon.status_code == 200 and icon.data.lstrip().startswith(b"<svg")


def test_the_readme_links_only_files_inside_the_project():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        if not re.match(r"[a-z]+://", target):
            assert (ROOT / target).exists(), target


def _draft_form(receivable, **changes):
    return {"amount": "1000", "term_days": 90, "purpose": "采购原材料", "receivables": [receivable.id], **changes}


def test_a_purpose_longer_than_its_column_is_refused_clearly_and_nothing_is_stored(client, login):
    owner = make_enterprise_user()
    receivable = ReceivableFactory(enterprise=owner.enterprise, face_amount=Decimal("200000.00"))
    login(owner)
    response = client.post("/financing/new", data=_draft_form(receivable, purpose="长" * 20000))
    assert response.status_code == 200
    assert "最多 500 个字，现在有 20000 个字" in response.get_data(as_text=True)
    assert db.session.scalar(select(FinancingRequest.id)) is None


def test_full_width_amounts_are_understood(client, login):
    owner = make_enterprise_user()
    receivable = ReceivableFactory(enterprise=owner.enterprise, face_amount=Decimal("200000.00"))
    login(owner)
    client.post("/financing/new", data=_draft_form(receivable, amount="　１２０，０００．５０", term_days="９０"))
    request = db.session.scalar(select(FinancingRequest))
    assert request.amount == Decimal("120000.50") and request.term_days == 90


def test_full_width_rates_and_percentages_are_understood(app):
    from marketplace.desks.forms import OfferForm
    from marketplace.guarantees.forms import GuaranteeOfferForm

    with app.test_request_context(method="POST"):
        offer = OfferForm(formdata=MultiDict({"amount": "１００，０００", "annual_rate": "３．８５％",
                                              "prepayment_fee_rate": "１．００％"}))
        offer.validate_amount(offer.amount)
        offer.validate_annual_rate(offer.annual_rate)
        offer.validate_prepayment_fee_rate(offer.prepayment_fee_rate)
        assert (offer.parsed_amount, offer.parsed_rate, offer.parsed_fee_rate) == (
            Decimal("100000.00"), Decimal("3.85"), Decimal("1.00"))
        guarantee = GuaranteeOfferForm(formdata=MultiDict({"coverage_ratio": "８０％", "fee_rate": "１．５"}))
        assert guarantee.validate()
        assert (guarantee.parsed_coverage, guarantee.parsed_fee_rate) == (Decimal("80"), Decimal("1.5"))
        refused = GuaranteeOfferForm(formdata=MultiDict({"coverage_ratio": "八十", "fee_rate": "１．５"}))
        assert not refused.validate() and "请填写数字" in refused.coverage_ratio.errors[0]


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_free_text_field_of_every_form_is_bounded(app):
    """A text area without a maximum would take whatever a client posts (issue 16: 20,000 characters)."""
    from wtforms import Form, TextAreaField
    from wtforms.validators import Length

    unbounded, checked = [], 0
    for form in set(_subclasses(Form)):
        if not form.__module__.startswith("marketplace."):
            continue
        for name in dir(form):
            unbound = getattr(form, name, None)
            if getattr(unbound, "field_class", None) is not None and issubclass(unbound.field_class, TextAreaField):
                validators, checked = unbound.kwargs.get("validators") or (), checked + 1
                if not any(isinstance(v, Length) and v.max > 0 for v in validators):
                    unbounded.append(f"{form.__module__}.{form.__name__}.{name}")
    assert checked > 10 and sorted(unbounded) == []
