"""The pages: the guarantor's offer form on the desk, the enterprise's guarantee page and its
acceptance, the guarantee letter and the bank's offer letter as PDFs, each only to its parties."""

from __future__ import annotations

import subprocess
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.accounts.roles import Role
from marketplace.desks import decisions
from marketplace.extensions import db
from marketplace.guarantees.models import Guarantee
from marketplace.payments.models import Payment
from tests.desks.helpers import claimed, routed, target_of, terms
from tests.factories import make_enterprise_user
from tests.guarantees.helpers import accepted, claim, mixed, offered, paid, routed_guarantor
from tests.supermarket.products import lender


def _pdf_text(data: bytes, tmp_path) -> str:
    assert data.startswith(b"%PDF")
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(data)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if any(n in line for n in ("WenQuanYi", "Noto", "CJK", "Hei"))]
    assert cjk and all(" yes " in line for line in cjk), fonts  # the Chinese font is embedded
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return "".join(text.split())


def test_the_guarantor_holding_the_claim_offers_from_the_desk(app, client, login):
    case, staff = mixed(app)
    target = routed_guarantor(case)
    login(case.guarantor_staff)
    page = client.get(f"/institution/requests/{case.request.id}").get_data(as_text=True)
    assert 'data-testid="guarantee-box"' in page and 'data-testid="guarantee-form"' not in page  # not claimed
    with app.test_request_context():
        claim(app, target, case.guarantor_staff)
    page = client.get(f"/institution/requests/{case.request.id}").get_data(as_text=True)
    assert 'data-testid="guarantee-form"' in page
    response = client.post(f"/institution/requests/{case.request.id}/guarantee",
                           data={"coverage_ratio": "120", "fee_rate": "1.5"})
    assert response.status_code == 302 and db.session.scalar(select(Guarantee.id)) is None
    response = client.post(f"/institution/requests/{case.request.id}/guarantee",
                           data={"coverage_ratio": "80", "fee_rate": "1.50"}, follow_redirects=True)
    guarantee = db.session.scalar(select(Guarantee))
    assert guarantee.fee == Decimal("739.73") and case.request.state == "guarantee_offered"
    assert 'data-testid="guarantee-fee"' in response.get_data(as_text=True)


def test_a_bank_on_the_desk_cannot_offer_a_guarantee(app, client, login):
    case = routed(app)
    claimed(app, target_of(case), case.bank_staff)
    db.session.commit()  # the refusal rolls back the request's work only
    login(case.bank_staff)
    response = client.post(f"/institution/requests/{case.request.id}/guarantee", data={"coverage_ratio": "80", "fee_rate": "1"},
                           follow_redirects=True)
    assert "只有担保机构可以出具担保方案" in response.get_data(as_text=True)
    assert db.session.scalar(select(Guarantee.id)) is None and case.request.state == "bank_review"


def test_the_enterprise_sees_the_fee_in_capitals_accepts_and_is_led_to_pay(app, client, login):
    case, staff = mixed(app)
    offered(app, case, staff)
    login(case.owner)
    page = client.get(f"/financing/{case.request.id}/guarantee").get_data(as_text=True)
    assert "¥739.73" in page and "柒佰叁拾玖元柒角叁分" in page and "80.00%" in page
    assert 'data-testid="accept-guarantee"' in page and "data-confirm=" in page
    response = client.post(f"/financing/{case.request.id}/guarantee/accept")
    payment = db.session.scalar(select(Payment))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/payments/{payment.id}")
    assert case.request.state == "fee_pending"
    page = client.get(f"/financing/{case.request.id}/guarantee").get_data(as_text=True)
    assert f'href="/payments/{payment.id}"' in page


def test_other_enterprises_and_institutions_get_404(app, client, login):
    case, staff = mixed(app)
    guarantee, payment, officer = accepted(app, case, staff)
    rid = case.request.id
    login(make_enterprise_user())
    assert client.get(f"/financing/{rid}/guarantee").status_code == 404
    assert client.post(f"/financing/{rid}/guarantee/accept").status_code == 404
    assert client.get(f"/financing/{rid}/guarantee/letter.pdf").status_code == 404
    paid(app, payment, officer)
    assert client.get(f"/financing/{rid}/guarantee/letter.pdf").status_code == 404
    for outsider in (lender(Role.GUARANTOR_OFFICER), case.bank_staff):
        login(outsider)
        assert client.get(f"/institution/requests/{rid}/guarantee/letter.pdf").status_code == 404
    assert guarantee.status == "issued"


def test_the_letter_waits_for_the_fee(app, client, login):
    case, staff = mixed(app)
    accepted(app, case, staff)
    login(case.owner)
    assert client.get(f"/financing/{case.request.id}/guarantee/letter.pdf").status_code == 404
    login(case.guarantor_staff)
    assert client.get(f"/institution/requests/{case.request.id}/guarantee/letter.pdf").status_code == 404


def test_the_guarantee_letter_states_the_parties_and_the_amounts_in_figures_and_capitals(app, client, login, tmp_path):
    case, staff = mixed(app)
    guarantee, payment, officer = accepted(app, case, staff)
    paid(app, payment, officer)
    login(case.owner)
    text = _pdf_text(client.get(f"/financing/{case.request.id}/guarantee/letter.pdf").data, tmp_path)
    assert "担保函" in text and guarantee.letter_no in text
    assert case.request.enterprise.name in text and guarantee.institution.name in text
    assert "¥200,000.00" in text and "人民币贰拾万元整" in text  # guaranteed amount
    assert "人民币贰拾伍万元整" in text and "人民币柒佰叁拾玖元柒角叁分" in text  # request amount, fee
    assert "80.00%" in text and "1.50%" in text and "90天" in text and "盖章" in text
    assert "1/1" in text  # one page
    login(officer)
    response = client.get(f"/institution/requests/{case.request.id}/guarantee/letter.pdf")
    assert response.status_code == 200 and guarantee.letter_no in _pdf_text(response.data, tmp_path)


@pytest.fixture
def offer(app):
    case = routed(app)
    target = claimed(app, target_of(case), case.bank_staff)
    with app.test_request_context():
        made = decisions.make_offer(target, case.bank_staff, terms(amount="200000.00", rate="3.85"))
    return case, made


def test_the_offer_letter_states_bank_enterprise_amount_in_capitals_rate_term_and_expiry(
        app, client, login, offer, tmp_path):
    case, made = offer
    login(case.owner)
    text = _pdf_text(client.get(f"/financing/{case.request.id}/offers/{made.id}/letter.pdf").data, tmp_path)
    assert case.bank_staff.organisation.name in text and case.request.enterprise.name in text
    assert "¥200,000.00" in text and "人民币贰拾万元整" in text and "3.85%" in text and "90天" in text
    assert made.expires_on.isoformat() in text
    login(case.bank_staff)
    response = client.get(f"/institution/requests/{case.request.id}/offers/{made.id}/letter.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_the_offer_letter_is_only_for_its_parties_and_live_offers(app, client, login, offer):
    case, made = offer
    rid = case.request.id
    login(make_enterprise_user())
    assert client.get(f"/financing/{rid}/offers/{made.id}/letter.pdf").status_code == 404
    login(lender(Role.BANK_OFFICER))
    assert client.get(f"/institution/requests/{rid}/offers/{made.id}/letter.pdf").status_code == 404
    made.status = "withdrawn"
    db.session.flush()
    login(case.owner)
    assert client.get(f"/financing/{rid}/offers/{made.id}/letter.pdf").status_code == 404


def test_the_offer_letter_states_the_early_repayment_fee_and_the_holiday_rule(app, client, login, tmp_path):
    case = routed(app)
    target = claimed(app, target_of(case), case.bank_staff)
    with app.test_request_context():
        made = decisions.make_offer(target, case.bank_staff, terms(fee_rate="1.50", roll=False))
    login(case.owner)
    text = _pdf_text(client.get(f"/financing/{case.request.id}/offers/{made.id}/letter.pdf").data, tmp_path)
    flat = "".join(text.split())
    # the long labels wrap in their cells: each row's label and value, whatever the line breaks
    fee_row = flat.split("期限90天")[1].split("条件")[0]
    assert "提前还款手续费" in fee_row and "1.50%" in fee_row and "本金的百分比" in fee_row
    assert "还款日遇节假日顺延至" in fee_row and "否" in fee_row, text
