"""Loan servicing in the marketplace: the overdue history the daily sweep and each repayment
keep (overdue since, cured on, withdrawn), due days rolled off public holidays, early
repayments (prepayment, payoff) and their refusals, and the pages that show them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.loans import services
from marketplace.loans.models import Instalment, Repayment
from marketplace.notifications.models import Notification
from tests.loans.helpers import accepted, disbursed, repay, scheduled


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def back_dated(app, days_ago: int, rows, amount: str = "200000.00", roll: bool = False, fee_rate: str = "0.00"):
    """A loan disbursed `days_ago` with the schedule `rows` (due days as offsets from disbursement),
    on an offer whose terms roll due days off holidays (`roll`) and charge `fee_rate` % of the
    principal repaid early."""
    deal = accepted(app, amount=amount, accepted_days_ago=days_ago, roll=roll, fee_rate=fee_rate)
    start = today_shanghai() - timedelta(days=days_ago)
    loan = scheduled(app, deal, on=start, rows=[(start + timedelta(days=d), Decimal(p), Decimal(i)) for d, p, i in rows])
    return deal, loan, start


def sweep(app, day: date | None = None):
    with app.test_request_context():
        return services.flag_overdue(day)


# ---- the overdue history --------------------------------------------------------------------------

def test_the_sweep_records_the_first_overdue_day_once(app):
    deal, loan, start = back_dated(app, 60, [(20, "100000.00", "200.00"), (90, "100000.00", "700.00")])
    first = loan.schedule[0]
    assert sweep(app) == [first]
    assert first.overdue_since == start + timedelta(days=21) and first.cured_on is None
    assert sweep(app) == [] and len(events("loan.overdue")) == 1
    totals = services.summary(loan)
    assert (totals.days_past_due, totals.bucket, totals.status) == (40, "31-60", "past_due")
    assert totals.arrears == Decimal("100200.00")


def test_a_late_payment_cures_the_instalment_and_keeps_both_dates(app):
    deal, loan, start = back_dated(app, 60, [(20, "100000.00", "200.00"), (90, "100000.00", "700.00")])
    sweep(app)
    first = loan.schedule[0]
    paid_on = start + timedelta(days=30)  # 10 days late, recorded now by the back office
    repay(app, deal, loan, "100200.00", on=paid_on)
    assert (first.overdue_since, first.cured_on) == (start + timedelta(days=21), paid_on)
    assert first.overdue_flagged_at is not None  # reported once, and stays reported
    cured = events("loan.overdue_cured")
    assert len(cured) == 1 and cured[0].details["days_late"] == 10
    assert cured[0].enterprise_id == deal.request.enterprise_id
    totals = services.summary(loan)
    assert totals.overdue == [] and totals.days_past_due == 0 and totals.status == "current"
    assert totals.max_days_late == 10 and totals.worst_bucket == "1-30" and totals.history == [first]
    assert sweep(app) == [] and len(events("loan.overdue_cured")) == 1  # idempotent


def test_a_late_payment_never_swept_is_still_recorded_with_both_dates(app):
    deal, loan, start = back_dated(app, 60, [(20, "100000.00", "200.00"), (90, "100000.00", "700.00")])
    repay(app, deal, loan, "100200.00", on=start + timedelta(days=25))
    first = loan.schedule[0]
    assert (first.overdue_since, first.cured_on) == (start + timedelta(days=21), start + timedelta(days=25))
    assert len(events("loan.overdue")) == 1 and events("loan.overdue")[0].details["days_overdue"] == 5


def test_a_back_dated_payment_made_in_time_withdraws_the_overdue_record(app):
    deal, loan, start = back_dated(app, 60, [(20, "100000.00", "200.00"), (90, "100000.00", "700.00")])
    sweep(app)
    repay(app, deal, loan, "100200.00", on=start + timedelta(days=20))  # paid on its due day after all
    first = loan.schedule[0]
    assert first.overdue_since is None and first.cured_on is None and first.overdue_flagged_at is None
    assert len(events("loan.overdue_withdrawn")) == 1 and services.summary(loan).max_days_late == 0


def test_an_instalment_due_on_a_holiday_is_not_late_on_the_next_working_day_when_the_offer_says_so(app):
    disbursed_on = date(2026, 9, 1)
    days = (today_shanghai() - disbursed_on).days
    rows = [(30, "100000.00", "300.00"), (days + 60, "100000.00", "600.00")]  # the first due 1 October 2026
    deal, loan, _start = back_dated(app, days, rows, roll=True)
    assert deal.offer.roll_to_working_day is True and loan.roll_to_working_day is True  # the offer's term
    assert loan.schedule[0].due_on == date(2026, 10, 1)
    repay(app, deal, loan, "100300.00", on=date(2026, 10, 8))  # National Day runs to 7 October
    assert sweep(app) == [] and loan.schedule[0].overdue_since is None
    with app.app_context():  # the working-day table is configuration
        assert services.summary(loan).rows[0][1].due_by == date(2026, 10, 8)


def test_without_the_roll_the_same_payment_is_seven_days_late(app):
    disbursed_on = date(2026, 9, 1)
    days = (today_shanghai() - disbursed_on).days
    rows = [(30, "100000.00", "300.00"), (days + 60, "100000.00", "600.00")]
    deal, loan, _start = back_dated(app, days, rows)
    assert deal.offer.roll_to_working_day is False and loan.roll_to_working_day is False
    repay(app, deal, loan, "100300.00", on=date(2026, 10, 8))
    first = loan.schedule[0]
    assert (first.overdue_since, first.cured_on) == (date(2026, 10, 2), date(2026, 10, 8))
    with app.app_context():
        assert services.summary(loan).rows[0][1].due_by == date(2026, 10, 1)


# ---- early repayment ---------------------------------------------------------------------------------

def prepay(app, deal, loan, principal=services.PAYOFF, on=None, expected_fee=None, reference="TQ001"):
    with app.test_request_context():
        return services.record_prepayment(loan, deal.bank, on or today_shanghai(), principal, reference,
                                          None if expected_fee is None else Decimal(expected_fee))


def test_a_partial_prepayment_supersedes_and_recomputes_the_rest_of_the_schedule(app):
    # 200,000.00 at 3.65% from 31 days ago: 0.0001 yuan per yuan per day
    deal, loan, start = back_dated(app, 31, [(30, "100000.00", "600.00"), (60, "50000.00", "150.00"),
                                             (90, "50000.00", "150.00")])
    repay(app, deal, loan, "100600.00", on=start + timedelta(days=30))
    repayment = prepay(app, deal, loan, Decimal("40000.00"))
    # 100,000 outstanding after today x 1 day since the last due day
    assert (repayment.kind, repayment.amount) == ("prepayment", Decimal("40010.00"))
    kinds = [(row.kind, row.due_on - start, row.principal) for row in loan.schedule]
    assert kinds == [("scheduled", timedelta(days=30), Decimal("100000.00")),
                     ("prepayment", timedelta(days=31), Decimal("40000.00")),
                     ("scheduled", timedelta(days=60), Decimal("30000.00")),
                     ("scheduled", timedelta(days=90), Decimal("30000.00"))]
    assert [row.interest for row in loan.schedule[2:]] == [Decimal("174.00"), Decimal("90.00")]  # 60,000 x 29; 30,000 x 30
    assert [(row.due_on - start, row.principal) for row in loan.superseded] == [
        (timedelta(days=60), Decimal("50000.00")), (timedelta(days=90), Decimal("50000.00"))]
    assert deal.request.state == "repaying" and services.allocation(loan).principal_outstanding == Decimal("60000.00")
    event = events("loan.prepayment")[0]
    assert event.details["interest"] == "10.00" and len(event.details["replaced"]) == 2


def test_a_payoff_with_the_offers_fee_closes_the_request(app):
    deal, loan, start = back_dated(app, 10, [(30, "100000.00", "600.00"), (60, "100000.00", "300.00")],
                                   fee_rate="0.50")
    quote = services.prepayment_quote(loan)
    assert quote.amount == Decimal("200200.00")  # 200,000 x 10 days
    assert quote.fee == Decimal("1000.00")  # 0.50% of the 200,000 repaid early
    repayment = prepay(app, deal, loan)
    assert (repayment.kind, repayment.amount, repayment.fee) == ("payoff", Decimal("200200.00"), Decimal("1000.00"))
    assert deal.request.state == "closed" and services.allocation(loan).outstanding == 0
    assert [row.kind for row in loan.schedule] == ["prepayment"] and len(loan.superseded) == 2
    assert all(not p.active for p in deal.request.pledges)
    assert count(Notification, Notification.kind == "loan.closed", Notification.user_id == deal.owner.id) == 1
    assert services.summary(loan).status == "repaid" and services.summary(loan).fees == Decimal("1000.00")


def test_a_payoff_in_arrears_reports_and_cures_the_late_instalment(app):
    deal, loan, start = back_dated(app, 40, [(30, "100000.00", "600.00"), (60, "100000.00", "300.00")])
    repayment = prepay(app, deal, loan)
    assert repayment.amount == Decimal("100600.00") + Decimal("100000.00") + Decimal("100.00")  # arrears, 10 days
    first = loan.schedule[0]
    assert (first.overdue_since, first.cured_on) == (start + timedelta(days=31), today_shanghai())
    assert deal.request.state == "closed" and len(events("loan.overdue_cured")) == 1


@pytest.mark.parametrize(("change", "message"), [
    ({"on": 1}, "不能晚于今天"),
    ({"on": -11}, "不能早于放款日"),
    ({"principal": Decimal("200000.01")}, "不能超过未到期本金"),
    ({"principal": Decimal("0.00")}, "必须大于零"),
    ({"reference": " "}, "流水号"),
    ({"expected_fee": "1.00"}, "手续费"),  # the offer states no fee
])
def test_a_bad_prepayment_is_refused_with_nothing_changed(app, change, message):
    deal, loan, start = back_dated(app, 10, [(30, "100000.00", "600.00"), (60, "100000.00", "300.00")])
    args = {"principal": services.PAYOFF, "on": 0, "expected_fee": None, "reference": "TQ1"} | change
    with pytest.raises(services.LoanRefused, match=message):
        prepay(app, deal, loan, args["principal"], today_shanghai() + timedelta(days=args["on"]),
               args["expected_fee"], args["reference"])
    assert count(Repayment) == 0 and count(Instalment, Instalment.superseded_at.is_not(None)) == 0
    assert len(loan.schedule) == 2 and deal.request.state == "repaying"


def test_no_prepayment_before_the_last_repayment_nor_a_repayment_before_a_prepayment(app):
    deal, loan, start = back_dated(app, 10, [(30, "100000.00", "600.00"), (60, "100000.00", "300.00")])
    repay(app, deal, loan, "100.00", on=start + timedelta(days=5))
    with pytest.raises(services.LoanRefused, match="最后一笔还款"):
        prepay(app, deal, loan, Decimal("1000.00"), on=start + timedelta(days=4))
    prepay(app, deal, loan, Decimal("1000.00"), on=start + timedelta(days=6))
    with pytest.raises(services.LoanRefused, match="提前还款日"):
        repay(app, deal, loan, "100.00", on=start + timedelta(days=5), reference="HK2")
    assert count(Repayment) == 2


def schedule_rows(loan) -> dict:
    rows = {}
    for i, line in enumerate(services.proposed_schedule(loan)):
        rows |= {f"rows-{i}-due_on": line.due_on.isoformat(), f"rows-{i}-principal": str(line.principal),
                 f"rows-{i}-interest": str(line.interest)}
    return rows


@pytest.mark.parametrize("roll", [True, False])
def test_the_holiday_rule_of_the_schedule_is_the_offers_shown_read_only(app, client, login, roll):
    deal = accepted(app, roll=roll)
    loan = disbursed(app, deal)
    rid = deal.request.id
    login(deal.bank)
    page = client.get(f"/institution/requests/{rid}/loan/schedule").get_data(as_text=True)
    rule = page.split('data-testid="schedule-roll"')[1].split("</p>")[0]
    assert ("顺延至下一工作日" in rule) is roll and ("按约定到期日" in rule) is not roll
    assert 'name="roll_to_working_day"' not in page  # no box to tick: the bank cannot change the offer's term
    # a box posted anyway changes nothing
    assert client.post(f"/institution/requests/{rid}/loan/schedule",
                       data=schedule_rows(loan) | {"roll_to_working_day": "y" if not roll else ""}).status_code == 302
    assert loan.roll_to_working_day is roll and deal.request.state == "repaying"


def test_the_bank_pays_off_through_its_page(app, client, login):
    deal, loan, start = back_dated(app, 10, [(30, "100000.00", "600.00"), (60, "100000.00", "300.00")])
    rid = deal.request.id
    login(deal.bank)
    page = client.get(f"/institution/requests/{rid}/loan").get_data(as_text=True)
    assert 'data-testid="prepayment-box"' in page and 'data-testid="payoff-quote"' in page and "¥200,200.00" in page
    refused = client.post(f"/institution/requests/{rid}/loan/prepayments", data={
        "mode": "prepayment", "principal": "", "paid_on": today_shanghai().isoformat(), "reference": "TQ9"})
    assert refused.status_code == 302 and count(Repayment) == 0
    done = client.post(f"/institution/requests/{rid}/loan/prepayments", data={
        "mode": "payoff", "paid_on": today_shanghai().isoformat(), "reference": "TQ9"})
    assert done.status_code == 302 and deal.request.state == "closed"
    page = client.get(f"/institution/requests/{rid}/loan").get_data(as_text=True)
    assert 'data-testid="superseded"' in page and "提前结清" in page
    assert loan.repayments[0].fee == Decimal("0.00")  # the offer states no fee


def test_a_payoff_charges_the_offers_fee_rate_on_the_principal_repaid_early_to_the_fen(app):
    # 1.5% of 123,456.78 = 1,851.8517: 1,851.85
    deal, loan, start = back_dated(app, 10, [(30, "123456.78", "300.00")], amount="123456.78", fee_rate="1.50")
    repayment = prepay(app, deal, loan, expected_fee="1851.85")
    assert (repayment.kind, repayment.fee) == ("payoff", Decimal("1851.85"))
    assert loan.schedule[0].principal == Decimal("123456.78") and deal.request.state == "closed"
    assert events("loan.prepayment")[0].details["fee"] == "1851.85"


def test_a_partial_prepayment_charges_the_fee_on_its_principal_only_half_up(app):
    # 1% of 1,000.50 = 10.005: 10.01 (half up, not to even)
    deal, loan, start = back_dated(app, 10, [(30, "100000.00", "600.00"), (60, "100000.00", "300.00")],
                                   fee_rate="1.00")
    repayment = prepay(app, deal, loan, Decimal("1000.50"))
    assert (repayment.kind, repayment.fee) == ("prepayment", Decimal("10.01"))
    assert services.summary(loan).fees == Decimal("10.01")


def test_a_fee_other_than_the_offers_is_refused_with_nothing_changed(app):
    deal, loan, start = back_dated(app, 10, [(30, "100000.00", "600.00"), (60, "100000.00", "300.00")],
                                   fee_rate="1.50")
    with pytest.raises(services.LoanRefused, match="¥3,000.00"):  # 1.5% of 200,000
        prepay(app, deal, loan, expected_fee="0.00")
    assert count(Repayment) == 0 and deal.request.state == "repaying"


def test_the_prepayment_box_states_the_offers_fee_and_asks_none(app, client, login):
    deal, loan, start = back_dated(app, 10, [(30, "100000.00", "600.00"), (60, "100000.00", "300.00")],
                                   fee_rate="1.50")
    rid = deal.request.id
    login(deal.bank)
    page = client.get(f"/institution/requests/{rid}/loan").get_data(as_text=True)
    assert 'name="fee"' not in page and "1.50%" in page.split('data-testid="prepayment-terms"')[1].split("</p>")[0]
    assert "¥3,000.00" in page.split('data-testid="payoff-quote"')[1].split("</p>")[0]
    # a fee posted anyway is ignored: the offer's is charged
    done = client.post(f"/institution/requests/{rid}/loan/prepayments", data={
        "mode": "payoff", "fee": "1.00", "paid_on": today_shanghai().isoformat(), "reference": "TQ9"})
    assert done.status_code == 302 and loan.repayments[0].fee == Decimal("3000.00")


# ---- restructuring ---------------------------------------------------------------------------------

def restructure(app, deal, loan, rows, note="重组协议 CZ-1"):
    with app.test_request_context():
        return services.record_restructuring(loan, deal.bank, rows, note)


def test_a_restructuring_keeps_the_old_schedule_and_its_overdue_history(app):
    deal, loan, start = back_dated(app, 60, [(20, "100000.00", "200.00"), (90, "100000.00", "700.00")])
    repay(app, deal, loan, "50200.00", on=start + timedelta(days=30))  # 10 days late, half the principal
    today = today_shanghai()
    rows = [(today + timedelta(days=30), Decimal("75000.00"), Decimal("300.00")),
            (today + timedelta(days=61), Decimal("75000.00"), Decimal("200.00"))]
    restructure(app, deal, loan, rows)
    kinds = [(row.kind, row.principal, row.interest) for row in loan.schedule]
    assert kinds == [("scheduled", Decimal("50000.00"), Decimal("200.00")),  # the part paid, late
                     ("restructured", Decimal("75000.00"), Decimal("300.00")),
                     ("restructured", Decimal("75000.00"), Decimal("200.00"))]
    settled = loan.schedule[0]
    assert (settled.overdue_since, settled.cured_on) == (start + timedelta(days=21), start + timedelta(days=30))
    old = loan.superseded
    assert [row.due_on - start for row in old] == [timedelta(days=20), timedelta(days=90)]
    assert old[0].overdue_since == start + timedelta(days=21) and old[0].overdue_flagged_at is not None
    [event] = events("loan.restructured")
    assert event.details["days_past_due"] == 40 and event.details["arrears"] == "50000.00"
    assert event.enterprise_id == deal.request.enterprise_id and len(event.details["replaced"]) == 2
    totals = services.summary(loan)
    assert totals.days_past_due == 0 and totals.status == "current" and deal.request.state == "repaying"
    assert sweep(app) == [] and len(events("loan.overdue")) == 1 and events("loan.overdue_cured") == []
    assert count(Notification, Notification.kind == "loan.restructured", Notification.user_id == deal.owner.id) == 1


@pytest.mark.parametrize(("rows", "message"), [
    ([(30, "199999.99", "0.00")], "须等于尚欠本金"),
    ([(0, "200000.00", "0.00")], "到期日须晚于"),
    ([], "至少需要一期"),
])
def test_a_bad_restructuring_is_refused_with_nothing_changed(app, rows, message):
    deal, loan, start = back_dated(app, 60, [(20, "100000.00", "200.00"), (90, "100000.00", "700.00")])
    today = today_shanghai()
    with pytest.raises(services.LoanRefused, match=message):
        restructure(app, deal, loan, [(today + timedelta(days=d), Decimal(p), Decimal(i)) for d, p, i in rows])
    assert count(Instalment, Instalment.superseded_at.is_not(None)) == 0 and events("loan.restructured") == []


def test_a_loan_not_in_arrears_cannot_be_restructured(app, client, login):
    deal, loan, start = back_dated(app, 10, [(30, "100000.00", "600.00"), (60, "100000.00", "300.00")])
    with pytest.raises(services.LoanRefused, match="只有逾期"):
        restructure(app, deal, loan, [(today_shanghai() + timedelta(days=30), Decimal("200000.00"), Decimal("0"))])
    login(deal.bank)
    assert client.get(f"/institution/requests/{deal.request.id}/loan/restructure").status_code == 302


def test_the_bank_restructures_through_its_pages(app, client, login):
    deal, loan, start = back_dated(app, 60, [(20, "100000.00", "200.00"), (90, "100000.00", "700.00")])
    db.session.commit()  # a refusal below rolls the request back to here (a savepoint in tests)
    rid = deal.request.id
    login(deal.bank)
    assert 'data-testid="restructure-link"' in client.get(f"/institution/requests/{rid}/loan").get_data(as_text=True)
    form = client.get(f"/institution/requests/{rid}/loan/restructure")
    assert form.status_code == 200 and 'data-testid="restructure-facts"' in form.get_data(as_text=True)
    proposal = services.proposed_restructuring(loan)
    assert sum(line.principal for line in proposal) == Decimal("200000.00")
    assert proposal[0].interest > Decimal("900.00")  # the old instalments' unpaid interest comes first
    rows = {}
    for i, line in enumerate(proposal):
        rows |= {f"rows-{i}-due_on": line.due_on.isoformat(), f"rows-{i}-principal": str(line.principal),
                 f"rows-{i}-interest": str(line.interest)}
    short = client.post(f"/institution/requests/{rid}/loan/restructure", data=rows | {"rows-0-principal": "1.00"})
    assert short.status_code == 422 and "尚欠本金" in short.get_data(as_text=True)
    done = client.post(f"/institution/requests/{rid}/loan/restructure", data=rows | {"note": "协议 CZ-9"})
    assert done.status_code == 302 and all(row.kind == "restructured" for row in loan.schedule)
    page = client.get(f"/institution/requests/{rid}/loan").get_data(as_text=True)
    assert 'data-testid="restructured-1"' in page and 'data-testid="superseded"' in page
