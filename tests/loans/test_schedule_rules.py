"""The pure loan arithmetic (workflows.loans): the proposed equal-principal schedule to the fen,
the checks a recorded schedule must pass, and the allocation of repayments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from workflows.loans import (
    Line,
    Payment,
    add_months,
    allocate,
    due_dates,
    equal_principal_schedule,
    schedule_problems,
)


def test_monthly_equal_principal_schedule_to_the_fen():
    lines = equal_principal_schedule(D("250000.00"), D("3.85"), date(2026, 1, 15), 90)
    assert lines == [
        # 250000 x 3.85% x 31/365 = 817.4657... ; 166666.67 x 3.85% x 28/365 = 492.2374... ;
        # 83333.34 x 3.85% x 31/365 = 272.4886...; the last principal takes the remainder
        Line(date(2026, 2, 15), D("83333.33"), D("817.47")),
        Line(date(2026, 3, 15), D("83333.33"), D("492.24")),
        Line(date(2026, 4, 15), D("83333.34"), D("272.49")),
    ]
    assert sum(line.principal for line in lines) == D("250000.00")


def test_month_ends_are_clamped_and_the_last_period_is_a_stub_to_maturity():
    lines = equal_principal_schedule(D("100000.00"), D("3.65"), date(2026, 1, 31), 75)
    assert lines == [
        Line(date(2026, 2, 28), D("33333.33"), D("280.00")),  # 28 days
        Line(date(2026, 3, 31), D("33333.33"), D("206.67")),  # 31 days on 66666.67: 206.666677
        Line(date(2026, 4, 16), D("33333.34"), D("53.33")),  # 16 days to maturity (Jan 31 + 75)
    ]


def test_interest_rounds_half_up_to_the_fen():
    # 1250 x 3.65% x 1/365 = 0.125 exactly: half up gives 0.13 (banker's rounding would give 0.12)
    assert equal_principal_schedule(D("1250.00"), D("3.65"), date(2026, 1, 31), 1, months=None) == [
        Line(date(2026, 2, 1), D("1250.00"), D("0.13"))]


def test_quarterly_and_bullet_due_dates():
    assert due_dates(date(2026, 1, 15), 365, months=3) == [
        date(2026, 4, 15), date(2026, 7, 15), date(2026, 10, 15), date(2027, 1, 15)]
    assert due_dates(date(2026, 1, 15), 90, months=None) == [date(2026, 4, 15)]
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_an_amount_too_small_for_the_instalments_is_refused():
    with pytest.raises(ValueError, match="金额太小"):
        equal_principal_schedule(D("0.02"), D("3.65"), date(2026, 1, 1), 365)


def test_schedule_problems_name_the_rows_and_the_principal_gap():
    problems = schedule_problems([
        Line(date(2026, 1, 10), D("50000.00"), D("100.00")),  # on the disbursement day
        Line(date(2026, 3, 10), D("50000.00"), D("100.00")),
        Line(date(2026, 3, 1), D("-1.00"), D("0.00")),  # before row 2, negative
    ], D("100000.00"), date(2026, 1, 10))
    assert problems[0].startswith("第1行：到期日须晚于放款日")
    assert problems[1].startswith("第3行：") and "晚于上一期" in problems[1] and "负数" in problems[1]
    assert "各期本金合计 ¥99,999.00 与放款金额 ¥100,000.00 不一致" in problems[2]
    assert schedule_problems([Line(date(2026, 2, 10), D("100000.00"), D("0.00"))], D("100000.00"),
                             date(2026, 1, 10)) == []


def test_repayments_fill_instalments_in_due_order_interest_first():
    lines = [Line(date(2026, 2, 1), D("100.00"), D("10.00")), Line(date(2026, 3, 1), D("100.00"), D("5.00"))]
    result = allocate(lines, [Payment(date(2026, 2, 1), D("50.00")), Payment(date(2026, 2, 20), D("100.00"))])
    first, second = result.instalments
    assert (first.interest_paid, first.principal_paid, first.covered_on) == (D("10.00"), D("100.00"), date(2026, 2, 20))
    assert (second.interest_paid, second.principal_paid, second.covered_on) == (D("5.00"), D("35.00"), None)
    assert result.outstanding == D("65.00") and result.principal_outstanding == D("65.00")
    # the first was paid in full only after its due day: a late payment, cured; the second not yet due
    assert first.was_late(date(2026, 2, 25)) and not first.past_due(date(2026, 2, 25))
    assert not second.past_due(date(2026, 3, 1)) and second.past_due(date(2026, 3, 2))


def test_payments_are_applied_in_paid_order_whatever_the_recording_order():
    lines = [Line(date(2026, 2, 1), D("100.00"), D("0.00"))]
    result = allocate(lines, [Payment(date(2026, 2, 5), D("40.00")), Payment(date(2026, 1, 20), D("60.00"))])
    assert result.instalments[0].covered_on == date(2026, 2, 5) and result.outstanding == 0
