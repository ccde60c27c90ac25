"""/api/v1/desk/requests/{id}/loan and /prepayments: the bank's systems read the schedule, the
repayments, days past due and the status, and record early repayments, under the loan pages'
rules (the bank whose offer was accepted; everyone else 403 or 404)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.loans.models import Repayment
from tests.loans.helpers import accepted, disbursed, repay, scheduled
from tests.supermarket.products import lender

BASE = "/api/v1/desk/requests"


def url(deal, suffix: str = "/loan") -> str:
    return f"{BASE}/{deal.request.id}{suffix}"


def late_loan(app, days_ago: int = 60, fee_rate: str = "0.00"):
    """A loan disbursed `days_ago`: 100,000 due 20 days later (unpaid), 100,000 due 90 days later;
    the offer's early repayment fee is `fee_rate` % of the principal repaid early."""
    deal = accepted(app, accepted_days_ago=days_ago, fee_rate=fee_rate)
    start = today_shanghai() - timedelta(days=days_ago)
    loan = scheduled(app, deal, on=start, rows=[(start + timedelta(days=20), Decimal("100000.00"), Decimal("200.00")),
                                                (start + timedelta(days=90), Decimal("100000.00"), Decimal("700.00"))])
    return deal, loan, start


def test_the_loan_with_its_schedule_and_days_past_due(app, client, bearer):
    deal, loan, start = late_loan(app)
    repay(app, deal, loan, "150.00", on=start + timedelta(days=20))
    response = client.get(url(deal), headers=bearer(deal.bank))
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["status"], body["days_past_due"], body["dpd_bucket"]) == ("past_due", 40, "31-60")
    assert body["as_of"] == today_shanghai().isoformat() and body["arrears"] == "100050.00"
    first, second = body["schedule"]
    assert first == {
        "number": 1, "kind": "scheduled", "due_on": (start + timedelta(days=20)).isoformat(),
        "due_by": (start + timedelta(days=20)).isoformat(), "principal": "100000.00", "interest": "200.00",
        "paid": "150.00", "unpaid": "100050.00", "covered_on": None, "days_past_due": 40, "days_late": 40,
        "overdue_since": (start + timedelta(days=21)).isoformat(), "cured_on": None,
        "reported_overdue_at": None}  # not swept yet: computed, not yet reported
    assert second["days_past_due"] == 0 and second["overdue_since"] is None
    assert [r["amount"] for r in body["repayments"]] == ["150.00"] and body["repayments"][0]["kind"] == "regular"
    assert body["superseded"] == [] and body["outstanding"] == "200750.00"
    assert body["roll_to_working_day"] is False and body["prepayment_fee_rate"] == "0.00"  # the offer's terms


def test_a_cured_instalment_keeps_its_history_in_the_api(app, client, bearer):
    deal, loan, start = late_loan(app)
    repay(app, deal, loan, "100200.00", on=start + timedelta(days=25))
    body = client.get(url(deal), headers=bearer(deal.bank)).json
    first = body["schedule"][0]
    assert (first["days_past_due"], first["days_late"], first["cured_on"]) == (
        0, 5, (start + timedelta(days=25)).isoformat())
    assert first["reported_overdue_at"] is not None
    assert (body["status"], body["days_past_due"], body["max_days_late"], body["max_dpd_bucket"]) == (
        "current", 0, 5, "1-30")


def test_no_loan_answers_404_and_other_callers_are_refused(app, client, bearer):
    deal = accepted(app)
    assert client.get(url(deal), headers=bearer(deal.bank)).status_code == 404  # not disbursed
    disbursed(app, deal)
    body = client.get(url(deal), headers=bearer(deal.bank)).json
    assert body["status"] == "no_schedule" and body["schedule"] == [] and body["outstanding"] == "200000.00"
    assert client.get(url(deal), headers=bearer(lender(name="别家银行"))).status_code == 404
    assert client.get(url(deal), headers=bearer(deal.case.guarantor_staff)).status_code == 403
    assert client.get(url(deal), headers=bearer(deal.owner)).status_code == 403
    assert client.get(url(deal)).status_code == 401


def test_the_bank_records_a_prepayment_and_a_payoff_through_the_api(app, client, bearer):
    deal, loan, start = late_loan(app, days_ago=10)
    headers = bearer(deal.bank)
    today = today_shanghai().isoformat()
    partial = client.post(url(deal, "/prepayments"), headers=headers, json={
        "mode": "prepayment", "principal": "50000.00", "paid_on": today, "reference": "TQ1"})
    assert partial.status_code == 201, partial.json
    body = partial.json
    assert [line["kind"] for line in body["schedule"]] == ["prepayment", "scheduled", "scheduled"]
    assert body["schedule"][0]["interest"] == "200.00"  # 200,000 x 10 days x 3.65% / 365
    assert len(body["superseded"]) == 2 and body["request_state"] == "repaying"
    assert body["repayments"][0]["amount"] == "50200.00" and body["repayments"][0]["kind"] == "prepayment"
    payoff = client.post(url(deal, "/prepayments"), headers=headers, json={
        "mode": "payoff", "paid_on": today, "reference": "TQ2"})
    assert payoff.status_code == 422 and "同一天" in payoff.json["message"]  # one early repayment a day


def test_a_payoff_closes_the_request_and_charges_the_offers_fee(app, client, bearer):
    deal, loan, start = late_loan(app, days_ago=10, fee_rate="0.05")
    response = client.post(url(deal, "/prepayments"), headers=bearer(deal.bank), json={
        "mode": "payoff", "paid_on": today_shanghai().isoformat(), "reference": "TQ2", "fee": "100.00"})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["request_state"] == "closed" and body["status"] == "repaid" and body["fees"] == "100.00"
    assert body["outstanding"] == "0.00" and body["repayments"][0]["kind"] == "payoff"
    assert body["repayments"][0]["fee"] == "100.00" and body["prepayment_fee_rate"] == "0.05"  # 0.05% of 200,000


def test_without_fee_the_api_charges_the_offers_fee_and_refuses_another(app, client, bearer):
    deal, loan, start = late_loan(app, days_ago=10, fee_rate="1.50")
    headers = bearer(deal.bank)
    today = today_shanghai().isoformat()
    other = client.post(url(deal, "/prepayments"), headers=headers, json={
        "mode": "prepayment", "principal": "123456.78", "paid_on": today, "reference": "TQ1", "fee": "0.00"})
    assert other.status_code == 422 and "¥1,851.85" in other.json["message"]
    assert db.session.scalar(select(func.count()).select_from(Repayment)) == 0
    done = client.post(url(deal, "/prepayments"), headers=headers, json={
        "mode": "prepayment", "principal": "123456.78", "paid_on": today, "reference": "TQ1"})
    assert done.status_code == 201, done.json
    assert done.json["repayments"][0]["fee"] == "1851.85" and done.json["fees"] == "1851.85"


def test_bad_prepayments_are_refused_with_nothing_changed(app, client, bearer):
    deal, loan, start = late_loan(app, days_ago=10)
    headers = bearer(deal.bank)
    today = today_shanghai()
    cases = [
        ({"mode": "payoff", "paid_on": (today + timedelta(days=1)).isoformat(), "reference": "X"}, 422, "今天"),
        ({"mode": "payoff", "paid_on": (start - timedelta(days=1)).isoformat(), "reference": "X"}, 422, "放款日"),
        ({"mode": "prepayment", "principal": "200000.01", "paid_on": today.isoformat(), "reference": "X"}, 422,
         "未到期本金"),
        ({"mode": "prepayment", "paid_on": today.isoformat(), "reference": "X"}, 422, None),  # no principal
        ({"mode": "payoff", "principal": "1.00", "paid_on": today.isoformat(), "reference": "X"}, 422, None),
        ({"mode": "payoff", "fee": "-1.00", "paid_on": today.isoformat(), "reference": "X"}, 422, None),
        ({"mode": "payoff", "fee": "1.00", "paid_on": today.isoformat(), "reference": "X"}, 422, "手续费"),  # none
    ]
    for body, status, message in cases:
        response = client.post(url(deal, "/prepayments"), headers=headers, json=body)
        assert response.status_code == status, (body, response.json)
        if message:
            assert message in response.json["message"], response.json
    assert db.session.scalar(select(func.count()).select_from(Repayment)) == 0
    assert len(loan.schedule) == 2 and deal.request.state == "repaying"
    guarantor = client.post(url(deal, "/prepayments"), headers=bearer(deal.case.guarantor_staff), json={
        "mode": "payoff", "paid_on": today.isoformat(), "reference": "X"})
    assert guarantor.status_code == 403
