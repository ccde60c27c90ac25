"""A loan's arithmetic, pure: the proposed equal-principal schedule, the checks a recorded
schedule must pass, and how repayments are allocated to the instalments.

Allocation rule (the one the marketplace shows and the overdue flag reads): repayments are
taken in the order they were paid (paid_on, then the order they were recorded) and fill the
instalments in due order, each instalment's interest first and then its principal; an
instalment is covered on the day the repayment that completes it was paid. An instalment is
overdue when its due day has passed and it was not covered on or before that day.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
DAYS_PER_YEAR = Decimal(365)  # actual/365
ZERO = Decimal("0.00")


def to_fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later, or that month's last day (Jan 31 + 1 = Feb 28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Line:
    """One instalment of a schedule: what is due on a day."""

    due_on: date
    principal: Decimal
    interest: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


def due_dates(start: date, term_days: int, months: int | None = 1) -> list[date]:
    """Every `months` months after `start` while before maturity (start + term_days), then
    maturity; `months=None`: maturity only (bullet repayment, 到期一次还本付息)."""
    if term_days < 1:
        raise ValueError("期限须至少1天")
    if months is not None and months < 1:
        raise ValueError("还款间隔须至少1个月")
    maturity = start + timedelta(days=term_days)
    dates = []
    k = 1
    while months is not None and (day := add_months(start, k * months)) < maturity:
        dates.append(day)
        k += 1
    return [*dates, maturity]


def equal_principal_schedule(amount: Decimal, annual_rate: Decimal, start: date, term_days: int,
                             months: int | None = 1) -> list[Line]:
    """A proposed 等额本金 schedule: equal principal every `months` months and at maturity
    (`months=None`: all at maturity).

    Each instalment's interest is the principal still outstanding over the days since the
    previous due day (or `start`), actual/365 at `annual_rate` percent; principal and interest
    are rounded half up to the fen, and the last instalment takes the principal's rounding
    remainder so the principal adds up to `amount` exactly.
    """
    if amount <= 0:
        raise ValueError("金额必须大于零")
    dates = due_dates(start, term_days, months)
    count = len(dates)
    share = to_fen(amount / count)
    if share <= 0 or share * (count - 1) >= amount:
        raise ValueError("金额太小，不能分成这么多期")
    rate = Decimal(annual_rate) / 100
    lines: list[Line] = []
    outstanding, previous = amount, start
    for i, due_on in enumerate(dates):
        principal = share if i < count - 1 else outstanding
        interest = to_fen(outstanding * rate * (due_on - previous).days / DAYS_PER_YEAR)
        lines.append(Line(due_on, principal, interest))
        outstanding -= principal
        previous = due_on
    return lines


def schedule_problems(lines: Sequence[Line], loan_amount: Decimal, disbursed_on: date,
                      locale: str = "zh") -> list[str]:
    """Every problem with a schedule the bank entered, row by row (1-based), in Chinese or,
    for an `en` locale, in English."""
    english = locale.startswith("en")

    def say(zh: str, en: str) -> str:
        return en if english else zh

    problems: list[str] = []
    if not lines:
        return [say("还款计划至少需要一期", "The schedule needs at least one instalment")]
    previous: date | None = None
    for number, line in enumerate(lines, start=1):
        row: list[str] = []
        if line.due_on <= disbursed_on:
            row.append(say(f"到期日须晚于放款日 {disbursed_on.isoformat()}",
                           f"the due date must be after the disbursement date, {disbursed_on.isoformat()}"))
        if previous is not None and line.due_on <= previous:
            row.append(say("到期日须晚于上一期", "the due date must be after the previous instalment's"))
        if line.principal < 0 or line.interest < 0:
            row.append(say("本金和利息不能为负数", "principal and interest cannot be negative"))
        elif line.total <= 0:
            row.append(say("本金与利息不能同时为零", "principal and interest cannot both be zero"))
        if line.principal != to_fen(line.principal) or line.interest != to_fen(line.interest):
            row.append(say("金额最多两位小数", "amounts have at most two decimals"))
        if row:
            problems.append(say(f"第{number}行：" + "，".join(row), f"Row {number}: " + ", ".join(row)))
        previous = line.due_on
    principal = sum((line.principal for line in lines), ZERO)
    if principal != loan_amount:
        problems.append(say(f"各期本金合计 ¥{principal:,.2f} 与放款金额 ¥{loan_amount:,.2f} 不一致"
                            f"（相差 ¥{loan_amount - principal:,.2f}）",
                            f"The instalments' principal, ¥{principal:,.2f}, does not match the amount disbursed, "
                            f"¥{loan_amount:,.2f} (a difference of ¥{loan_amount - principal:,.2f})"))
    return problems


@dataclass(frozen=True)
class Payment:
    paid_on: date
    amount: Decimal


@dataclass
class InstalmentState:
    """An instalment with what the repayments paid of it."""

    line: Line
    interest_paid: Decimal = ZERO
    principal_paid: Decimal = ZERO
    covered_on: date | None = None  # the day it was paid in full

    @property
    def paid(self) -> Decimal:
        return self.interest_paid + self.principal_paid

    @property
    def unpaid(self) -> Decimal:
        return self.line.total - self.paid

    def overdue(self, today: date) -> bool:
        """Its due day is past and it was not paid in full by then (late payment included)."""
        due_on = self.line.due_on
        if self.covered_on is None:
            return due_on < today
        return self.covered_on > due_on


@dataclass
class Allocation:
    instalments: list[InstalmentState] = field(default_factory=list)
    unallocated: Decimal = ZERO  # paid beyond the schedule (the services refuse this)

    @property
    def outstanding(self) -> Decimal:
        return sum((s.unpaid for s in self.instalments), ZERO)

    @property
    def principal_outstanding(self) -> Decimal:
        return sum((s.line.principal - s.principal_paid for s in self.instalments), ZERO)

    def overdue(self, today: date) -> list[InstalmentState]:
        return [s for s in self.instalments if s.overdue(today)]


def allocate(lines: Iterable[Line], payments: Iterable[Payment]) -> Allocation:
    """Fill the instalments in due order with the payments in paid order (see the module's rule).

    `payments` keep their given order among the same paid_on (pass them in recording order).
    """
    result = Allocation([InstalmentState(line) for line in sorted(lines, key=lambda line: line.due_on)])
    ordered = sorted(enumerate(payments), key=lambda pair: (pair[1].paid_on, pair[0]))
    queue = iter(result.instalments)
    current = next(queue, None)
    for _, payment in ordered:
        left = payment.amount
        while left > 0 and current is not None:
            take = min(left, current.line.interest - current.interest_paid)
            current.interest_paid += take
            left -= take
            take = min(left, current.line.principal - current.principal_paid)
            current.principal_paid += take
            left -= take
            if current.unpaid == 0:
                current.covered_on = payment.paid_on
                current = next(queue, None)
        result.unallocated += left
    return result
