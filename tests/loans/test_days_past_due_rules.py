"""The pure servicing rules (workflows.loans): days past due per instalment and per loan, the
overdue history a late payment keeps, the credit file's buckets, due days rolled off public
holidays, and the early repayment plan, with dates across month ends, leap days and holidays."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from workflows.loans import (
    PAYOFF,
    PREPAYMENT,
    Line,
    Payment,
    PrepaymentRefused,
    allocate,
    dpd_bucket,
    equal_principal_schedule,
    prepayment_fee,
    prepayment_plan,
)
from workflows.working_days import WorkingCalendar

# ---- days past due ------------------------------------------------------------------------------


def test_days_past_due_count_from_the_day_after_the_due_day_across_a_month_end():
    state = allocate([Line(date(2026, 1, 31), D("100.00"), D("1.00"))], []).instalments[0]
    assert state.days_past_due(date(2026, 1, 31)) == 0  # due today is not late yet
    assert state.days_past_due(date(2026, 2, 1)) == 1
    assert state.days_past_due(date(2026, 3, 2)) == 30  # February 2026 has 28 days
    assert state.days_past_due(date(2026, 3, 3)) == 31
    assert state.overdue_since(date(2026, 3, 3)) == date(2026, 2, 1) and state.cured_on(date(2026, 3, 3)) is None


def test_days_past_due_across_a_leap_day():
    lines = [Line(date(2024, 1, 31), D("100.00"), D("0.00")), Line(date(2024, 2, 29), D("100.00"), D("0.00"))]
    first, second = allocate(lines, []).instalments
    assert first.days_past_due(date(2024, 3, 1)) == 30  # 29 February counts
    assert second.days_past_due(date(2024, 3, 1)) == 1
    assert second.days_past_due(date(2025, 2, 28)) == 365
    assert allocate(lines, []).days_past_due(date(2024, 3, 1)) == 30  # the loan: its oldest unpaid instalment


def test_a_late_payment_cures_the_instalment_and_the_history_keeps_both_dates():
    lines = [Line(date(2026, 2, 1), D("100.00"), D("10.00"))]
    state = allocate(lines, [Payment(date(2026, 2, 5), D("110.00"))]).instalments[0]
    assert state.days_past_due(date(2026, 2, 4)) == 3  # seen on the 4th, before the payment
    assert state.days_past_due(date(2026, 2, 5)) == 0 and not state.past_due(date(2026, 3, 1))
    assert state.days_late(date(2026, 3, 1)) == 4 and state.was_late(date(2026, 3, 1))
    assert (state.overdue_since(date(2026, 3, 1)), state.cured_on(date(2026, 3, 1))) == (date(2026, 2, 2),
                                                                                            date(2026, 2, 5))
    assert state.cured_on(date(2026, 2, 4)) is None  # not cured yet on the 4th
    on_time = allocate(lines, [Payment(date(2026, 2, 1), D("110.00"))]).instalments[0]
    assert on_time.days_late(date(2026, 3, 1)) == 0 and on_time.overdue_since(date(2026, 3, 1)) is None


def test_each_payment_s_allocation_is_kept_split_by_instalment():
    lines = [Line(date(2026, 2, 28), D("100.00"), D("10.00")), Line(date(2026, 3, 31), D("100.00"), D("5.00"))]
    result = allocate(lines, [Payment(date(2026, 3, 5), D("130.00")), Payment(date(2026, 2, 27), D("5.00"))])
    assert [(s.payment, s.instalment, s.interest, s.principal) for s in result.splits] == [
        (1, 0, D("5.00"), D("0.00")),  # paid first though recorded second
        (0, 0, D("5.00"), D("100.00")),
        (0, 1, D("5.00"), D("20.00")),
    ]


def test_a_partial_payment_pays_interest_first_and_leaves_the_instalment_past_due():
    lines = [Line(date(2026, 2, 28), D("1000.00"), D("50.00")), Line(date(2026, 3, 31), D("1000.00"), D("25.00"))]
    result = allocate(lines, [Payment(date(2026, 2, 28), D("60.00"))])
    first, second = result.instalments
    assert (first.interest_paid, first.principal_paid) == (D("50.00"), D("10.00"))
    assert result.days_past_due(date(2026, 4, 2)) == 33 and second.days_past_due(date(2026, 4, 2)) == 2
    assert result.arrears(date(2026, 4, 2)) == D("2015.00")
    assert result.max_days_late(date(2026, 4, 2)) == 33


@pytest.mark.parametrize(("days", "bucket"), [
    (0, None), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"), (90, "61-90"),
    (91, "90+"), (1000, "90+"),
])
def test_buckets_of_days_past_due(days, bucket):
    assert dpd_bucket(days) == bucket


def test_a_negative_day_count_is_not_a_bucket():
    with pytest.raises(ValueError):
        dpd_bucket(-1)


def test_a_due_day_on_a_public_holiday_rolls_to_the_next_working_day_when_the_offer_says_so():
    calendar = WorkingCalendar({})
    assert calendar.next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)  # National Day, 1-7 October 2026
    lines = [Line(date(2026, 10, 1), D("100.00"), D("0.00"))]
    paid_on_the_8th = [Payment(date(2026, 10, 8), D("100.00"))]
    rolled = allocate(lines, paid_on_the_8th, calendar.next_working_day).instalments[0]
    assert rolled.due_by == date(2026, 10, 8) and rolled.days_late(date(2026, 11, 1)) == 0
    strict = allocate(lines, paid_on_the_8th).instalments[0]
    assert strict.days_late(date(2026, 11, 1)) == 7 and strict.overdue_since(date(2026, 11, 1)) == date(2026, 10, 2)
    unpaid = allocate(lines, [], calendar.next_working_day).instalments[0]
    assert unpaid.days_past_due(date(2026, 10, 8)) == 0 and unpaid.days_past_due(date(2026, 10, 9)) == 1


def test_spring_festival_and_a_weekend_roll_too():
    calendar = WorkingCalendar({})
    state = allocate([Line(date(2026, 2, 16), D("1.00"), D("0.00"))], [], calendar.next_working_day).instalments[0]
    assert state.due_by == date(2026, 2, 24)  # 春节 2026: 15-23 February
    weekend = allocate([Line(date(2026, 1, 31), D("1.00"), D("0.00"))], [], calendar.next_working_day)
    assert weekend.instalments[0].due_by == date(2026, 2, 2)  # a Saturday: due the Monday


# ---- early repayment --------------------------------------------------------------------------------
# 300,000.00 at 3.65% from 2026-01-31, 89 days (to 30 April), monthly: interest is 0.0001 yuan per yuan per day

LOAN = D("300000.00")
RATE = D("3.65")
START = date(2026, 1, 31)


def schedule():
    lines = equal_principal_schedule(LOAN, RATE, START, 89)
    assert lines == [Line(date(2026, 2, 28), D("100000.00"), D("840.00")),
                     Line(date(2026, 3, 31), D("100000.00"), D("620.00")),
                     Line(date(2026, 4, 30), D("100000.00"), D("300.00"))]
    return lines


def test_a_partial_prepayment_pays_interest_to_the_day_and_recomputes_the_rest():
    lines = schedule()
    paid = [Payment(date(2026, 2, 28), D("100840.00"))]
    plan = prepayment_plan(lines, paid, START, RATE, date(2026, 3, 16), D("50000.00"))
    # 200,000 outstanding x 16 days (28 Feb - 16 Mar) = 320.00
    assert plan.line == Line(date(2026, 3, 16), D("50000.00"), D("320.00"), PREPAYMENT)
    assert (plan.arrears, plan.paid_ahead, plan.amount, plan.fee) == (D("0.00"), D("0.00"), D("50320.00"), D("0"))
    assert plan.replaced == lines[1:] and not plan.payoff
    assert plan.remaining == [Line(date(2026, 3, 31), D("75000.00"), D("225.00")),  # 150,000 x 15 days
                              Line(date(2026, 4, 30), D("75000.00"), D("225.00"))]  # 75,000 x 30 days
    after = allocate([lines[0], plan.line, *plan.remaining], [*paid, Payment(plan.paid_on, plan.amount)])
    assert after.instalments[1].covered_on == date(2026, 3, 16)
    assert after.principal_outstanding == D("150000.00") and after.outstanding == D("150450.00")


def test_a_payoff_in_arrears_settles_everything_and_closes_the_schedule():
    lines = schedule()
    plan = prepayment_plan(lines, [], START, RATE, date(2026, 3, 16), PAYOFF, fee_rate=D("0.25"))  # of 200,000
    assert plan.payoff and plan.remaining == []
    assert plan.line == Line(date(2026, 3, 16), D("200000.00"), D("320.00"), PREPAYMENT)
    assert plan.arrears == D("100840.00") and plan.amount == D("301160.00") and plan.total == D("301660.00")
    after = allocate([lines[0], plan.line], [Payment(plan.paid_on, plan.amount)])
    first = after.instalments[0]
    assert after.outstanding == 0 and first.days_late(date(2026, 4, 1)) == 16
    assert first.cured_on(date(2026, 4, 1)) == date(2026, 3, 16)


def test_what_was_paid_ahead_counts_toward_the_payoff():
    lines = schedule()
    paid = [Payment(date(2026, 2, 27), D("101000.00"))]  # 160.00 more than the first instalment
    plan = prepayment_plan(lines, paid, START, RATE, date(2026, 3, 16))
    assert plan.paid_ahead == D("160.00") and plan.amount == D("200160.00")
    assert allocate([lines[0], plan.line], [*paid, Payment(plan.paid_on, plan.amount)]).outstanding == 0


def test_a_payoff_on_a_due_day_owes_that_instalment_and_no_interest_after_it():
    lines = schedule()
    plan = prepayment_plan(lines, [], START, RATE, date(2026, 2, 28))
    assert plan.line == Line(date(2026, 2, 28), D("200000.00"), D("0.00"), PREPAYMENT)
    assert plan.arrears == D("100840.00") and plan.amount == D("300840.00")


def test_interest_to_the_payment_day_counts_the_leap_day():
    leap = equal_principal_schedule(D("100000.00"), RATE, date(2024, 1, 31), 90, months=None)
    assert prepayment_plan(leap, [], date(2024, 1, 31), RATE, date(2024, 3, 1)).line.interest == D("300.00")  # 30 days
    plain = equal_principal_schedule(D("100000.00"), RATE, date(2026, 1, 31), 90, months=None)
    assert prepayment_plan(plain, [], date(2026, 1, 31), RATE, date(2026, 3, 1)).line.interest == D("290.00")


@pytest.mark.parametrize(("paid_on", "principal", "payments", "code"), [
    (date(2026, 1, 30), PAYOFF, [], "before_disbursement"),
    (date(2026, 2, 10), PAYOFF, [Payment(date(2026, 2, 20), D("10.00"))], "before_last_repayment"),
    (date(2026, 3, 16), D("200000.01"), [], "too_much"),
    (date(2026, 3, 16), D("0.00"), [], "bad_principal"),
    (date(2026, 3, 16), D("1.001"), [], "bad_principal"),
    (date(2026, 4, 30), PAYOFF, [], "nothing_ahead"),
])
def test_refused_prepayments_say_why(paid_on, principal, payments, code):
    with pytest.raises(PrepaymentRefused) as refused:
        prepayment_plan(schedule(), payments, START, RATE, paid_on, principal)
    assert refused.value.code == code


def test_one_prepayment_a_day():
    lines = schedule()
    plan = prepayment_plan(lines, [], START, RATE, date(2026, 3, 16), D("1000.00"))
    later = [lines[0], plan.line, *plan.remaining]
    with pytest.raises(PrepaymentRefused, match="同一天"):
        prepayment_plan(later, [Payment(plan.paid_on, plan.amount)], START, RATE, date(2026, 3, 16), D("1.00"))


@pytest.mark.parametrize("fee_rate", [D("-1.00"), D("5.01"), D("1.001")])
def test_a_fee_rate_out_of_range_is_refused(fee_rate):
    with pytest.raises(PrepaymentRefused) as refused:
        prepayment_plan(schedule(), [], START, RATE, date(2026, 3, 16), D("1.00"), fee_rate=fee_rate)
    assert refused.value.code == "bad_fee_rate"


@pytest.mark.parametrize(("principal", "fee_rate", "fee"), [
    (D("123456.78"), D("1.50"), D("1851.85")),  # 1,851.8517
    (D("1000.50"), D("1.00"), D("10.01")),  # 10.005: half up, not to even
    (D("1000.00"), D("0.00"), D("0.00")),
    (D("1000.00"), None, D("0.00")),
    (D("200000.00"), D("5.00"), D("10000.00")),
])
def test_the_fee_is_the_offers_rate_of_the_principal_repaid_early_half_up_to_the_fen(principal, fee_rate, fee):
    assert prepayment_fee(principal, fee_rate) == fee


def test_the_plan_charges_the_fee_on_the_principal_repaid_early_not_on_the_arrears():
    # 16 March: the first instalment (100,840.00, due 28 Feb) is arrears; 50,000 repaid early
    plan = prepayment_plan(schedule(), [], START, RATE, date(2026, 3, 16), D("50000.00"), fee_rate=D("1.50"))
    assert plan.arrears == D("100840.00") and plan.fee == D("750.00") and plan.total == plan.amount + D("750.00")


# ---- restructuring -----------------------------------------------------------------------------------

def test_a_restructuring_replaces_what_is_unpaid_and_keeps_the_part_paid():
    from workflows.loans import RESTRUCTURED, restructure_plan

    lines = schedule()  # due 28 Feb, 31 Mar, 30 Apr
    paid = [Payment(date(2026, 2, 28), D("100840.00")), Payment(date(2026, 4, 2), D("20620.00"))]
    today = date(2026, 4, 10)  # the second instalment 10 days past due, 80,000.00 of it unpaid
    new = [Line(date(2026, 5, 31), D("90000.00"), D("500.00")), Line(date(2026, 6, 30), D("90000.00"), D("270.00"))]
    plan = restructure_plan(lines, paid, today, new)
    assert plan.kept == lines[:1] and plan.replaced == lines[1:]
    assert plan.settled == Line(date(2026, 3, 31), D("20000.00"), D("620.00"))  # what was paid of the second
    assert [line.kind for line in plan.new] == [RESTRUCTURED, RESTRUCTURED]
    assert (plan.arrears, plan.days_past_due, plan.principal_outstanding) == (D("80000.00"), 10, D("180000.00"))
    after = allocate([*plan.kept, plan.settled, *plan.new], paid)
    assert after.days_past_due(today) == 0 and after.principal_outstanding == D("180000.00")
    assert after.instalments[1].was_late(today)  # the part paid was paid late, and stays so


def test_a_new_schedule_that_does_not_cover_the_outstanding_principal_is_refused():
    from workflows.loans import RestructureRefused, restructure_plan

    lines = schedule()
    today = date(2026, 3, 10)
    with pytest.raises(RestructureRefused) as refused:
        restructure_plan(lines, [], today, [Line(date(2026, 3, 10), D("299999.99"), D("0.00")),
                                            Line(date(2026, 3, 9), D("-1.00"), D("0.00"))])
    codes = [code for code, _params in refused.value.problems]
    assert codes == ["due_order", "due_order", "negative", "principal"]
    with pytest.raises(RestructureRefused) as refused:
        restructure_plan(lines, [Payment(date(2026, 2, 28), D("100840.00"))], today,
                         [Line(date(2026, 6, 1), D("200000.00"), D("0.00"))])
    assert refused.value.problems == [("not_in_arrears", {})]  # nothing past due: nothing to restructure
