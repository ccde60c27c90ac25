"""The desk, fee, guarantee and loan pages in English: their own labels, badges and refusals come
from the English catalog; only data (names, purposes, reference names, amounts in Chinese
capitals) stays Chinese."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.formatting import capitals as in_words
from marketplace.reference.industries import industry_name
from marketplace.reference.regions import region_name
from marketplace.supermarket.models import ProductVersion, RequestTarget
from tests.desks.helpers import routed
from tests.guarantees.helpers import accepted as guarantee_accepted
from tests.guarantees.helpers import mixed
from tests.loans.helpers import accepted, repay, scheduled

CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")
ATTRIBUTES = re.compile(r'(?:title|placeholder|aria-label|data-label|data-confirm|data-copied-label|data-progress-note|data-parsing-label)="([^"]*)"')


def in_english(client, login, user):
    login(user)
    with client.session_transaction() as session:
        session["locale"] = "en"


def chinese_left(page: str, *data: str) -> set[str]:
    """Chinese runs in the page's text and labelling attributes that are not part of `data`."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", " ", page) + " " + " ".join(ATTRIBUTES.findall(page)))
    data = (*data, "中文")  # the language switch names the other language in its own
    return {run for run in CHINESE.findall(text) if not any(run in value for value in data if value)}


def case_data(case) -> tuple[str, ...]:
    """What the request's pages show as data: names, the purpose, the reference names."""
    enterprise = case.request.enterprise
    people = [case.owner, case.bank_staff, case.guarantor_staff]
    return (enterprise.name, case.request.purpose, industry_name(enterprise.industry_code) or "",
            region_name(enterprise.region_code) or "",
            *(p.name for p in people if p), *(p.organisation.name for p in people if p),
            *(p.receivable.debtor_name for p in case.request.active_pledges),
            *db.session.scalars(select(ProductVersion.name).join(RequestTarget).where(
                RequestTarget.request_id == case.request.id)))


def get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_desk_queue_and_review_page_are_in_english(app, client, login):
    case = routed(app)
    in_english(client, login, case.bank_staff)
    queue = get(client, "/institution/requests/")
    assert "Review queue" in queue and "Claim next" in queue and "Routed to bank" in queue
    assert not chinese_left(queue, *case_data(case))
    refused = client.post(f"/institution/requests/{case.request.id}/notes", data={"body": "note"},
                          follow_redirects=True).get_data(as_text=True)
    assert "Claim this request before working on it" in refused  # a service's refusal, translated
    client.post(f"/institution/requests/{case.request.id}/claim")
    offered = client.post(f"/institution/requests/{case.request.id}/offers", follow_redirects=True, data={
        "amount": "999999999", "annual_rate": "3.85", "term_days": "90", "expires_on": "2000-01-01"})
    page = offered.get_data(as_text=True)
    assert "The offer amount cannot exceed the amount requested (¥250,000.00); The offer cannot expire" in page
    assert "Claimed by me" in page and "Submit offer" in page and "Why this request was routed to you" in page
    assert not chinese_left(page, *case_data(case))


def test_the_guarantee_and_fee_pages_are_in_english(app, client, login):
    case, staff = mixed(app)
    guarantee, payment, officer = guarantee_accepted(app, case, staff)
    capitals = (in_words(guarantee.fee),)  # the fee in Chinese capitals is data
    in_english(client, login, case.owner)
    page = get(client, f"/financing/{case.request.id}/guarantee")
    assert "Accepted; guarantee fee due" in page and "Pay guarantee fee" in page
    assert not chinese_left(page, *case_data(case), *capitals)
    fees = get(client, "/payments/")
    assert "Fees payable" in fees and "Guarantee fee" in fees and "Awaiting payment" in fees
    assert not chinese_left(fees, *case_data(case))
    fee = get(client, f"/payments/{payment.id}")
    assert "Bank transfer" in fee and "In the transfer remarks, enter:" in fee
    assert not chinese_left(fee, *case_data(case), *capitals)
    in_english(client, login, officer)
    received = get(client, "/payments/received")
    assert "Confirm receipts" in received and "Confirm receipt" in received
    assert not chinese_left(received, *case_data(case))


def test_the_loan_pages_are_in_english(app, client, login):
    deal = accepted(app)
    loan = scheduled(app, deal)
    repay(app, deal, loan, "1000.00")
    in_english(client, login, deal.bank)
    page = get(client, f"/institution/requests/{deal.request.id}/loan")
    assert "Disbursement and repayments" in page and "Repayment schedule" in page and "Record repayment" in page
    assert not chinese_left(page, *case_data(deal.case))
    in_english(client, login, deal.owner)
    page = get(client, f"/financing/{deal.request.id}/loan")
    assert "Loan details" in page and "Principal and interest outstanding" in page and "Partly paid" in page
    assert not chinese_left(page, *case_data(deal.case))


def test_a_bad_amount_or_rate_is_explained_in_the_pages_language(app):
    from flask_babel import force_locale

    from marketplace.i18n import input_error
    from marketplace.supermarket.forms import parse_rate
    from workflows.identifiers import parse_money

    errors = []
    for parse, text in ((parse_money, "abc"), (parse_money, ""), (parse_money, "1.234"), (parse_rate, "x%")):
        try:
            parse(text)
        except ValueError as error:
            errors.append(error)
    with app.test_request_context():
        assert [input_error(e) for e in errors] == ["金额“abc”不是有效的数字", "金额为空", "金额最多两位小数",
                                                    "利率“x%”不是有效的数字"]
        with force_locale("en"):
            assert [input_error(e) for e in errors] == [
                "The amount “abc” is not a valid number", "The amount is empty",
                "The amount can have at most two decimal places", "The rate “x%” is not a valid number"]
        assert input_error(ValueError("别的错误")) == "别的错误"


def test_templates_follow_a_forced_locale_and_return_to_the_pages_own(app):
    """Template strings look their catalog up once per request and locale (marketplace.i18n.translations);
    force_locale, as SLA and routing notices use it, still switches them, and leaving it switches back."""
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context():
        assert render_template_string("{{ _('审查队列') }}") == "审查队列"
        with force_locale("en"):
            assert render_template_string("{{ _('审查队列') }}") == "Review queue"
        assert render_template_string("{{ _('审查队列') }}") == "审查队列"
