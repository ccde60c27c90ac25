"""A loan's arithmetic, pure: the proposed equal-principal schedule, the checks a recorded
schedule must pass, how repayments are allocated to the instalments, days past due, and the
early repayment (prepayment, payoff) that recomputes or closes the rest of the schedule.

Allocation rule (the one the marketplace shows and the overdue tracking reads): repayments are
taken in the order they were paid (paid_on, then the order they were recorded) and fill the
instalments in schedule order (due day; on the same day the scheduled instalment before a
prepayment line), each instalment's interest first and then its principal; an instalment is
covered on the day the repayment that completes it was paid.

Days past due: an instalment is payable by its *due-by* day, its due day or, when the offer
rolls due days off holidays, the next working day. On a day D it is past due when D is after
its due-by day and it was not covered on or before D; its days past due are then
D - due-by (the first overdue day counts 1). A covered instalment is past due 0 days from the
day of the covering payment; the days it was late, covered_on - due-by, stay in its history
(overdue since due-by + 1, cured on covered_on). A loan's days past due are its oldest unpaid
instalment's. Buckets: 1-30, 31-60, 61-90, 90+.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Sequence
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


SCHEDULED, PREPAYMENT, RESTRUCTURED = "scheduled", "prepayment", "restructured"


@dataclass(frozen=True)
class Line:
    """One instalment of a schedule: what is due on a day. A `prepayment` line is the principal
    and interest an early repayment settled on its day (see prepayment_plan)."""

    due_on: date
    principal: Decimal
    interest: Decimal
    kind: str = SCHEDULED

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


def schedule_order(line: Line) -> tuple[date, int]:
    """The order instalments are paid in: due day, then a scheduled (or restructured) line before
    a prepayment line."""
    return line.due_on, 1 if line.kind == PREPAYMENT else 0


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
    due_by: date | None = None  # the day it must be paid by (its due day unless rolled off a holiday)
    interest_paid: Decimal = ZERO
    principal_paid: Decimal = ZERO
    covered_on: date | None = None  # the day it was paid in full

    def __post_init__(self):
        if self.due_by is None:
            self.due_by = self.line.due_on

    @property
    def paid(self) -> Decimal:
        return self.interest_paid + self.principal_paid

    @property
    def unpaid(self) -> Decimal:
        return self.line.total - self.paid

    def covered_by(self, day: date) -> bool:
        return self.covered_on is not None and self.covered_on <= day

    def days_past_due(self, day: date) -> int:
        """Days past due on `day`: 0 unless `day` is after due-by and it was not covered by then."""
        if day <= self.due_by or self.covered_by(day):
            return 0
        return (day - self.due_by).days

    def days_late(self, day: date) -> int:
        """The most days past due it reached up to `day` (the history: a late payment keeps it)."""
        end = self.covered_on if self.covered_by(day) else day
        return max((end - self.due_by).days, 0)

    def overdue_since(self, day: date) -> date | None:
        """The first day it was past due, if it was by `day`."""
        return self.due_by + timedelta(days=1) if self.days_late(day) > 0 else None

    def cured_on(self, day: date) -> date | None:
        """The day a late instalment was paid in full, if by `day`."""
        return self.covered_on if self.days_late(day) > 0 and self.covered_by(day) else None

    def past_due(self, day: date) -> bool:
        return self.days_past_due(day) > 0

    def was_late(self, day: date) -> bool:
        """Past due at some time up to `day`, cured since or not (what the credit file reports)."""
        return self.days_late(day) > 0


@dataclass(frozen=True)
class Split:
    """What one payment paid of one instalment: `payment` and `instalment` are positions in the
    payments as given and in the instalments as returned (schedule order)."""

    payment: int
    instalment: int
    interest: Decimal
    principal: Decimal


@dataclass
class Allocation:
    instalments: list[InstalmentState] = field(default_factory=list)
    unallocated: Decimal = ZERO  # paid beyond the schedule (the services refuse this)
    splits: list[Split] = field(default_factory=list)  # in paid order

    @property
    def outstanding(self) -> Decimal:
        return sum((s.unpaid for s in self.instalments), ZERO)

    @property
    def principal_outstanding(self) -> Decimal:
        return sum((s.line.principal - s.principal_paid for s in self.instalments), ZERO)

    def past_due(self, day: date) -> list[InstalmentState]:
        return [s for s in self.instalments if s.past_due(day)]

    def days_past_due(self, day: date) -> int:
        """The loan's days past due on `day`: its oldest unpaid instalment's."""
        return max((s.days_past_due(day) for s in self.instalments), default=0)

    def max_days_late(self, day: date) -> int:
        """The most days any instalment was past due up to `day` (the loan's worst)."""
        return max((s.days_late(day) for s in self.instalments), default=0)

    def arrears(self, day: date) -> Decimal:
        """What is past due and unpaid on `day`."""
        return sum((s.unpaid for s in self.instalments if s.past_due(day)), ZERO)


def allocate(lines: Iterable[Line], payments: Iterable[Payment],
             roll: Callable[[date], date] | None = None) -> Allocation:
    """Fill the instalments in schedule order with the payments in paid order (the module's rule).

    `payments` keep their given order among the same paid_on (pass them in recording order).
    `roll` gives each due day's due-by day (the next working day) when the offer says so.
    The instalments come back in schedule_order.
    """
    result = Allocation([InstalmentState(line, roll(line.due_on) if roll else line.due_on)
                         for line in sorted(lines, key=schedule_order)])
    ordered = sorted(enumerate(payments), key=lambda pair: (pair[1].paid_on, pair[0]))
    queue = iter(enumerate(result.instalments))
    number, current = next(queue, (None, None))
    for index, payment in ordered:
        left = payment.amount
        while left > 0 and current is not None:
            interest = min(left, current.line.interest - current.interest_paid)
            current.interest_paid += interest
            left -= interest
            principal = min(left, current.line.principal - current.principal_paid)
            current.principal_paid += principal
            left -= principal
            if interest or principal:
                result.splits.append(Split(index, number, interest, principal))
            if current.unpaid == 0:
                current.covered_on = payment.paid_on
                number, current = next(queue, (None, None))
        result.unallocated += left
    return result


# ---- days past due buckets ---------------------------------------------------------------------

BUCKETS = (("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))


def dpd_bucket(days: int) -> str | None:
    """The credit file's bucket for days past due: None when current (0 days), else 1-30,
    31-60, 61-90 or 90+ (91 days and more)."""
    if days < 0:
        raise ValueError("days past due cannot be negative")
    for name, low, high in BUCKETS:
        if days >= low and (high is None or days <= high):
            return name
    return None


# ---- early repayment ---------------------------------------------------------------------------

PAYOFF = None  # prepayment_plan(principal=PAYOFF): repay all the principal (a full payoff)


@dataclass(frozen=True)
class PrepaymentPlan:
    """What an early repayment on `paid_on` settles and the schedule it leaves.

    `line` is the prepayment line (the principal repaid early and the interest accrued on the
    outstanding principal up to the day); `amount` is what the borrower pays now (the arrears,
    the line, less what was paid ahead on the replaced instalments), `fee` on top (the
    offer's rate times the principal repaid early);
    `replaced` are the scheduled lines due after the day, which `remaining` takes over (empty
    after a payoff).
    """

    paid_on: date
    line: Line
    arrears: Decimal
    paid_ahead: Decimal
    amount: Decimal
    fee: Decimal
    replaced: list[Line]
    remaining: list[Line]

    @property
    def payoff(self) -> bool:
        return not self.remaining

    @property
    def total(self) -> Decimal:
        return self.amount + self.fee


class PrepaymentRefused(ValueError):
    """An early repayment the schedule does not allow: a `code` the application words in the
    user's language, the facts behind it in `params`, and a Chinese message."""

    def __init__(self, code: str, message: str, **params):
        super().__init__(message)
        self.code = code
        self.params = params


PREPAYMENT_FEE_RATE_MAX = Decimal("5.00")  # percent of the principal repaid early


def prepayment_fee(principal: Decimal, fee_rate: Decimal | None) -> Decimal:
    """The early repayment fee the offer's terms set: `fee_rate` percent of the principal repaid
    early (none when the rate is 0 or None), half up to the fen."""
    if not fee_rate:
        return ZERO
    return to_fen(Decimal(principal) * Decimal(fee_rate) / 100)


def prepayment_plan(lines: Sequence[Line], payments: Sequence[Payment], disbursed_on: date, annual_rate: Decimal,
                    paid_on: date, principal: Decimal | None = PAYOFF,
                    fee_rate: Decimal | None = ZERO) -> PrepaymentPlan:
    """Plan an early repayment of `principal` (PAYOFF: all of it) on `paid_on`.

    - The scheduled lines due after `paid_on` are replaced. Interest accrues on their principal
      (the principal outstanding) from the last due day on or before `paid_on` (or the
      disbursement) to `paid_on`, actual/365 at `annual_rate` percent, half up to the fen.
    - The prepayment line, due on `paid_on`: that principal and that interest.
    - The rest of the principal is spread again over the replaced lines' due days, equal
      principal (the last takes the rounding remainder), each with interest on the declining
      balance from the previous day (the first from `paid_on`): the term stays, the instalments
      shrink. A payoff leaves none: the schedule is closed.
    - The borrower pays now the arrears (everything due on or before `paid_on` and unpaid) and
      the prepayment line, less what earlier repayments paid ahead on the replaced lines; and,
      on top, the offer's fee: `fee_rate` percent (0 to PREPAYMENT_FEE_RATE_MAX; 0 or None:
      none) of the principal repaid early, half up to the fen (prepayment_fee).
    Refused (PrepaymentRefused): a day before the disbursement or before a recorded repayment,
    no principal outstanding after the day, a principal that is not positive or more than is
    outstanding, a fee rate out of range.
    """
    ordered = sorted(lines, key=schedule_order)
    if paid_on < disbursed_on:
        raise PrepaymentRefused("before_disbursement", f"提前还款日期不能早于放款日（{disbursed_on.isoformat()}）",
                                day=disbursed_on.isoformat())
    latest = max((p.paid_on for p in payments), default=None)
    if latest is not None and paid_on < latest:
        raise PrepaymentRefused("before_last_repayment", f"提前还款日期不能早于已登记的最后一笔还款（{latest.isoformat()}）",
                                day=latest.isoformat())
    if any(line.due_on == paid_on and line.kind == PREPAYMENT for line in ordered):
        raise PrepaymentRefused("same_day", "同一天只能登记一笔提前还款")
    fee_rate = ZERO if fee_rate is None else Decimal(fee_rate)
    if not ZERO <= fee_rate <= PREPAYMENT_FEE_RATE_MAX or fee_rate != to_fen(fee_rate):
        raise PrepaymentRefused("bad_fee_rate", f"提前还款手续费率须在 0 至 {PREPAYMENT_FEE_RATE_MAX}% 之间，最多两位小数",
                                high=PREPAYMENT_FEE_RATE_MAX)
    before = [line for line in ordered if line.due_on <= paid_on]
    replaced = [line for line in ordered if line.due_on > paid_on]
    outstanding = sum((line.principal for line in replaced), ZERO)
    if outstanding <= 0:
        raise PrepaymentRefused("nothing_ahead", "该日之后已没有未到期的本金，无需提前还款")
    principal = outstanding if principal is PAYOFF else principal
    if principal != to_fen(principal) or principal <= 0:
        raise PrepaymentRefused("bad_principal", "提前还款本金必须大于零，最多两位小数")
    if principal > outstanding:
        raise PrepaymentRefused("too_much", f"提前还款本金不能超过未到期本金（¥{outstanding:,.2f}）",
                                outstanding=outstanding)
    rate = Decimal(annual_rate) / 100
    since = max([disbursed_on, *(line.due_on for line in before)])
    interest = to_fen(outstanding * rate * (paid_on - since).days / DAYS_PER_YEAR)
    line = Line(paid_on, principal, interest, PREPAYMENT)
    kind = RESTRUCTURED if any(r.kind == RESTRUCTURED for r in replaced) else SCHEDULED
    remaining = _respread(outstanding - principal, rate, paid_on, [r.due_on for r in replaced], kind)
    # what the payments made so far cover of the lines kept (due on or before the day)
    state = allocate(before, [p for p in payments if p.paid_on <= paid_on])
    arrears = state.outstanding
    paid_ahead = state.unallocated
    amount = arrears + line.total - paid_ahead
    if amount <= 0:
        raise PrepaymentRefused("paid_ahead", "已还金额足以覆盖该笔提前还款，无需再付款")
    return PrepaymentPlan(paid_on, line, arrears, paid_ahead, amount, prepayment_fee(principal, fee_rate), replaced,
                          remaining)


def _respread(principal: Decimal, rate: Decimal, start: date, days: list[date], kind: str = SCHEDULED) -> list[Line]:
    """`principal` in equal shares over `days` (the last takes the remainder), interest on the
    declining balance; lines that would owe nothing are left out."""
    if principal <= 0:
        return []
    share = to_fen(principal / len(days))
    lines, left, previous = [], principal, start
    for i, due_on in enumerate(days):
        part = min(share, left) if i < len(days) - 1 else left
        interest = to_fen(left * rate * (due_on - previous).days / DAYS_PER_YEAR)
        if part + interest > 0:
            lines.append(Line(due_on, part, interest, kind))
        left -= part
        previous = due_on
    return lines


# ---- restructuring -------------------------------------------------------------------------------

@dataclass(frozen=True)
class RestructurePlan:
    """A new schedule agreed for a loan in arrears, as of `today`.

    `kept`: the instalments paid in full, unchanged. `replaced`: the others, which the new
    schedule supersedes (kept in the history); `settled` is what the repayments already paid of
    the one partly paid (at most one: repayments fill the instalments in order), kept as a line
    of its own so that those payments stay where they were. `new`: the restructured lines,
    whose principal is exactly the principal outstanding.
    """

    today: date
    kept: list[Line]
    replaced: list[Line]
    settled: Line | None
    new: list[Line]
    arrears: Decimal
    days_past_due: int
    principal_outstanding: Decimal


def restructure_plan(lines: Sequence[Line], payments: Sequence[Payment], today: date,
                     new_lines: Sequence[Line], roll: Callable[[date], date] | None = None) -> RestructurePlan:
    """Check a new schedule for a loan in arrears and say what it replaces.

    Refused (RestructureRefused, each problem listed): a loan not past due on `today`; no new
    line; a due day not after `today` or not after the previous line's; a negative amount, a
    line owing nothing, more than 2 decimals; principal that does not add up to the principal
    outstanding (not covering it, or more than it).
    """
    state = allocate(lines, payments, roll)
    if not state.past_due(today):
        raise RestructureRefused([("not_in_arrears", {})])
    problems: list[tuple[str, dict]] = []
    if not new_lines:
        problems.append(("empty", {}))
    previous = today
    for number, line in enumerate(new_lines, start=1):
        if line.due_on <= previous:
            problems.append(("due_order", {"row": number, "day": previous.isoformat()}))
        if line.principal < 0 or line.interest < 0:
            problems.append(("negative", {"row": number}))
        elif line.total <= 0:
            problems.append(("zero", {"row": number}))
        if line.principal != to_fen(line.principal) or line.interest != to_fen(line.interest):
            problems.append(("decimals", {"row": number}))
        previous = max(previous, line.due_on)
    outstanding = state.principal_outstanding
    principal = sum((line.principal for line in new_lines), ZERO)
    if principal != outstanding:
        problems.append(("principal", {"principal": principal, "outstanding": outstanding}))
    if problems:
        raise RestructureRefused(problems)
    kept = [s.line for s in state.instalments if s.unpaid == 0]
    open_states = [s for s in state.instalments if s.unpaid > 0]
    partly = [s for s in open_states if s.paid > 0]
    settled = (Line(partly[0].line.due_on, partly[0].principal_paid, partly[0].interest_paid, partly[0].line.kind)
               if partly else None)
    return RestructurePlan(today, kept, [s.line for s in open_states], settled,
                           [Line(line.due_on, line.principal, line.interest, RESTRUCTURED) for line in new_lines],
                           state.arrears(today), state.days_past_due(today), outstanding)


class RestructureRefused(ValueError):
    """A new schedule refused: `problems` are (code, params) pairs the application words."""

    def __init__(self, problems: list[tuple[str, dict]]):
        super().__init__("; ".join(code for code, _params in problems))
        self.problems = problems
