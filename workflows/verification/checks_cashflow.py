"""The cash-flow figures the policy reads, computed once from the statements of one request.

Pure: plain transactions in, a `CashFlow` summary out. policy.py turns it into H checks and
uses its per-debtor monthly inflows for R2 and R3.

Definitions (documented in policy.py as well, where the checks are):

- The window is the `months` most recent *whole* calendar months that end on or before the
  as-of date: as-of 2026-11-22 gives 2025-11-01..2026-10-31; as-of 2026-11-30 (the last day of
  its month) gives 2025-12-01..2026-11-30. A month still running on the as-of date is not
  counted, so a half-month never looks like a weak month. Transactions outside the window
  are ignored by every check (they still define a statement's span).
- A statement's span runs from its earliest to its latest transaction date. A window month is
  *covered* when a span touches it (a quiet month inside a statement's period is covered, it
  simply had no transactions).
- Statements given twice are counted once: two statements whose transactions are identical
  (date, amount, balance, counterparty, counterparty account, summary; file line numbers
  ignored) are the same statement, whatever the file's format or hash. Statements of the same
  account number whose periods overlap are merged: a transaction that appears k times in one
  and m times in the other is kept max(k, m) times, so an overlap is not counted twice while
  genuine repeats within one statement are kept. Statements without an account number are only
  de-duplicated as whole files.
- Inflow is money in (amount > 0) from anyone but the enterprise itself: a credit whose
  counterparty (normalised) is the enterprise's own name, or whose counterparty account is one
  of the enterprise's own statement accounts (`OwnAccounts`, whatever name the row shows), is a
  transfer between its own accounts and is reported separately as `own_transfers_in`, never as
  inflow nor as a debtor's payment. Outflow is money out, as a positive figure.
- A day's closing balance is the balance of the day's last transaction in the statement's
  own order (statements listed newest first are read backwards); rows without a balance are
  skipped. Between two transaction days the previous closing balance carries over, within a
  statement's span only (never across a gap between two statements). A day "ends with a
  negative balance" when any account's closing balance that day is below zero.
"""

from __future__ import annotations

import calendar
import unicodedata
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from workflows.identifiers import normalise_name
from workflows.verification.model import Transaction

ZERO = Decimal("0.00")


# ---- the enterprise's own accounts -------------------------------------------------------------

_MIN_ACCOUNT_CHARS = 6  # shorter "numbers" (a dash, a branch code) identify nothing


def account_key(number: str) -> str:
    """An account number for comparison: NFKC-folded, its digits and letters (upper case) only;
    spaces, dashes and the like dropped."""
    text = unicodedata.normalize("NFKC", number or "")
    return "".join(c.upper() for c in text if c.isalnum())


class OwnAccounts:
    """The account numbers of the enterprise's own statements, and whether a counterparty account
    is one of them: equal after `account_key`. A masked number (6222****1234) shows too little to
    be sure - most cards share their first digits - so it is never taken for an own account."""

    def __init__(self, numbers: Iterable[str] = ()):
        keys = (_unmasked_key(n) for n in numbers)
        self.exact = frozenset(k for k in keys if len(k) >= _MIN_ACCOUNT_CHARS)

    def __bool__(self) -> bool:
        return bool(self.exact)

    def __contains__(self, number: str) -> bool:
        return bool(self.exact) and bool(number) and _unmasked_key(number) in self.exact


def _unmasked_key(number: str) -> str:
    """`account_key`, or "" for a masked number (asterisks, full-width ones too)."""
    return "" if "*" in unicodedata.normalize("NFKC", number or "") else account_key(number)


# ---- the window --------------------------------------------------------------------------------


def month_index(day: date) -> int:
    """A month as one integer, so consecutive months differ by 1."""
    return day.year * 12 + day.month - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_first_day(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def month_last_day(index: int) -> date:
    year, month = index // 12, index % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class Window:
    """The whole calendar months the checks look at, oldest first."""

    months: tuple[int, ...]

    @property
    def start(self) -> date:
        return month_first_day(self.months[0])

    @property
    def end(self) -> date:
        return month_last_day(self.months[-1])

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(month_label(m) for m in self.months)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def window_before(as_of: date, months: int) -> Window:
    """The `months` most recent whole calendar months ending on or before `as_of`."""
    last = month_index(as_of)
    if (as_of + timedelta(days=1)).month == as_of.month:  # the as-of month is still running
        last -= 1
    return Window(tuple(range(last - months + 1, last + 1)))


# ---- statements --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementData:
    """What the cash-flow figures need of one statement."""

    transactions: tuple[Transaction, ...]
    account_no: str = ""


def _content(tx: Transaction) -> tuple:
    return (tx.date, tx.amount, tx.balance, tx.counterparty, tx.counterparty_account, tx.summary)


def _daily_closing(transactions: Sequence[Transaction]) -> dict[date, Decimal]:
    """Each day's closing balance: the balance of its last transaction in the statement's order."""
    if not transactions:
        return {}
    ordered: Iterable[Transaction] = transactions
    if transactions[0].date > transactions[-1].date:  # newest first: read it backwards
        ordered = reversed(transactions)
    closing: dict[date, Decimal] = {}
    for tx in ordered:
        if tx.balance is not None:
            closing[tx.date] = tx.balance
    return closing


@dataclass(frozen=True)
class MonthFlow:
    """One window month, for the checks and the report's charts."""

    month: str  # YYYY-MM
    covered: bool
    inflow: Decimal
    outflow: Decimal
    own_transfers_in: Decimal
    closing_balance: Decimal | None  # the accounts' balances at month end, summed; None: unknown
    transactions: int

    def as_dict(self) -> dict:
        return {
            "month": self.month,
            "covered": self.covered,
            "inflow": f"{self.inflow:.2f}",
            "outflow": f"{self.outflow:.2f}",
            "own_transfers_in": f"{self.own_transfers_in:.2f}",
            "closing_balance": None if self.closing_balance is None else f"{self.closing_balance:.2f}",
            "transactions": self.transactions,
        }


@dataclass(frozen=True)
class CashFlow:
    window: Window
    months: tuple[MonthFlow, ...]
    # normalised counterparty name -> {month index: inflow from it that month}
    inflow_by_counterparty: dict[str, dict[int, Decimal]]
    negative_days: tuple[date, ...]
    statements_with_balance: int
    statements_without_balance: int
    statements_given: int
    duplicate_statements: int
    duplicate_transactions: int
    transactions_in_window: int
    transactions_outside_window: int
    # every distinct transaction of every statement (all dates), and each statement's period:
    # what the red flags read (workflows.verification.red_flags)
    transactions: tuple[Transaction, ...] = ()
    spans: tuple[tuple[date, date], ...] = ()

    @property
    def covered_months(self) -> int:
        return sum(1 for m in self.months if m.covered)

    @property
    def inflow_months(self) -> int:
        return sum(1 for m in self.months if m.inflow > 0)

    @property
    def inflow_total(self) -> Decimal:
        return sum((m.inflow for m in self.months), ZERO)

    @property
    def outflow_total(self) -> Decimal:
        return sum((m.outflow for m in self.months), ZERO)

    @property
    def balance_known(self) -> bool:
        return self.statements_with_balance > 0

    def debtor_months(self, debtor_name: str) -> dict[int, Decimal]:
        """Window months in which the named debtor paid the enterprise, with the sums."""
        key = normalise_name(debtor_name)
        if not key:
            return {}
        return {m: v for m, v in self.inflow_by_counterparty.get(key, {}).items() if v > 0}


def build_cashflow(
    statements: Sequence[StatementData], window: Window, enterprise_name: str,
    own_accounts: OwnAccounts | None = None,
) -> CashFlow:
    """Merge the statements (see the module docstring) and compute the window's figures.
    `own_accounts`: the enterprise's statement accounts (credits from them are own transfers)."""
    kept, duplicate_statements = _distinct_statements(statements)
    groups = _account_groups(kept)
    merged: list[Transaction] = []
    duplicate_transactions = 0
    for members in groups:
        transactions, dropped = _merge_account(members)
        merged.extend(transactions)
        duplicate_transactions += dropped

    own = normalise_name(enterprise_name)
    # the counterparty account texts that are the enterprise's own, as they appear in the rows
    own_numbers = {n for n in {tx.counterparty_account for tx in merged} if n in own_accounts} if own_accounts else set()
    names: dict[str, str] = {}
    inflow: dict[int, Decimal] = defaultdict(lambda: ZERO)
    outflow: dict[int, Decimal] = defaultdict(lambda: ZERO)
    own_in: dict[int, Decimal] = defaultdict(lambda: ZERO)
    counts: Counter[int] = Counter()
    by_counterparty: dict[str, dict[int, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    start, end = window.start, window.end
    inside = 0
    for tx in merged:
        if not start <= tx.date <= end:
            continue
        inside += 1
        month = tx.date.year * 12 + tx.date.month - 1
        counts[month] += 1
        if tx.amount > 0:
            name = names.get(tx.counterparty)
            if name is None:
                name = names[tx.counterparty] = normalise_name(tx.counterparty)
            if (own and name == own) or tx.counterparty_account in own_numbers:
                own_in[month] += tx.amount
                continue
            inflow[month] += tx.amount
            if name:
                by_counterparty[name][month] += tx.amount
        elif tx.amount < 0:
            outflow[month] -= tx.amount

    covered = _covered_months(kept, window)
    balances = [_account_balances(members) for members in groups]
    months = tuple(
        MonthFlow(
            month=month_label(m),
            covered=m in covered,
            inflow=inflow[m],
            outflow=outflow[m],
            own_transfers_in=own_in[m],
            closing_balance=_month_end_balance(balances, m),
            transactions=counts[m],
        )
        for m in window.months
    )
    with_balance = sum(1 for s in kept if any(tx.balance is not None for tx in s.transactions))
    return CashFlow(
        window=window,
        months=months,
        inflow_by_counterparty={k: dict(v) for k, v in by_counterparty.items()},
        negative_days=_negative_days(balances, window),
        statements_with_balance=with_balance,
        statements_without_balance=len(kept) - with_balance,
        statements_given=len(statements),
        duplicate_statements=duplicate_statements,
        duplicate_transactions=duplicate_transactions,
        transactions_in_window=inside,
        transactions_outside_window=len(merged) - inside,
        transactions=tuple(merged),
        spans=tuple(span for span in map(_span, kept) if span),
    )


def _distinct_statements(statements: Sequence[StatementData]) -> tuple[list[StatementData], int]:
    """Drop statements whose transactions repeat an earlier statement's exactly."""
    seen: set[tuple] = set()
    kept: list[StatementData] = []
    for statement in statements:
        key = (statement.account_no.strip(), tuple(_content(tx) for tx in statement.transactions))
        if key in seen:
            continue
        seen.add(key)
        kept.append(statement)
    return kept, len(statements) - len(kept)


def _account_groups(statements: list[StatementData]) -> list[list[StatementData]]:
    """Statements of one known account number together; each unnumbered statement alone."""
    by_account: dict[str, list[StatementData]] = {}
    groups: list[list[StatementData]] = []
    for statement in statements:
        number = "".join(statement.account_no.split())
        if not number:
            groups.append([statement])
        elif number in by_account:
            by_account[number].append(statement)
        else:
            by_account[number] = [statement]
            groups.append(by_account[number])
    return groups


def _merge_account(members: list[StatementData]) -> tuple[list[Transaction], int]:
    """One account's transactions, each kept as often as the statement with most of it has it."""
    if len(members) == 1:
        return list(members[0].transactions), 0
    wanted: Counter[tuple] = Counter()
    for statement in members:
        counts = Counter(_content(tx) for tx in statement.transactions)
        for key, count in counts.items():
            if count > wanted[key]:
                wanted[key] = count
    taken: Counter[tuple] = Counter()
    merged: list[Transaction] = []
    for statement in members:
        for tx in statement.transactions:
            key = _content(tx)
            if taken[key] < wanted[key]:
                taken[key] += 1
                merged.append(tx)
    given = sum(len(s.transactions) for s in members)
    return merged, given - len(merged)


def _span(statement: StatementData) -> tuple[date, date] | None:
    if not statement.transactions:
        return None
    dates = [tx.date for tx in statement.transactions]
    return min(dates), max(dates)


def _covered_months(statements: list[StatementData], window: Window) -> set[int]:
    covered: set[int] = set()
    for statement in statements:
        span = _span(statement)
        if span:
            covered.update(range(month_index(span[0]), month_index(span[1]) + 1))
    return covered & set(window.months)


@dataclass(frozen=True)
class _AccountBalances:
    """One account's known closing balances and the periods its statements cover."""

    days: tuple[date, ...]  # sorted days with a known closing balance
    closing: dict[date, Decimal]
    spans: tuple[tuple[date, date], ...]

    def on(self, day: date) -> Decimal | None:
        """The closing balance of `day`, carried over from an earlier day of the same span."""
        for first, last in self.spans:
            if first <= day <= last:
                position = bisect_right(self.days, day)
                if position and self.days[position - 1] >= first:
                    return self.closing[self.days[position - 1]]
                return None
        return None


def _account_balances(members: list[StatementData]) -> _AccountBalances:
    closing: dict[date, Decimal] = {}
    spans = []
    for statement in members:
        closing.update(_daily_closing(statement.transactions))
        span = _span(statement)
        if span:
            spans.append(span)
    return _AccountBalances(tuple(sorted(closing)), closing, _merged_spans(spans))


def _merged_spans(spans: list[tuple[date, date]]) -> tuple[tuple[date, date], ...]:
    """Overlapping or adjacent periods of one account as one period."""
    merged: list[list[date]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1] + timedelta(days=1):
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return tuple((first, last) for first, last in merged)


def _negative_days(balances: list[_AccountBalances], window: Window) -> tuple[date, ...]:
    negative: set[date] = set()
    for account in balances:
        if not account.days:
            continue
        for first, last in account.spans:
            day, stop = max(first, window.start), min(last, window.end)
            carried = account.on(day)
            while day <= stop:
                if day in account.closing:
                    carried = account.closing[day]
                if carried is not None and carried < 0:
                    negative.add(day)
                day += timedelta(days=1)
    return tuple(sorted(negative))


def _month_end_balance(balances: list[_AccountBalances], month: int) -> Decimal | None:
    """The accounts' balances at the end of the month (or of their data in it), summed."""
    first, last = month_first_day(month), month_last_day(month)
    total: Decimal | None = None
    for account in balances:
        ends = [min(last, span_last) for span_first, span_last in account.spans
                if span_first <= last and span_last >= first]
        if not ends:
            continue
        value = account.on(max(ends))
        if value is not None:
            total = value if total is None else total + value
    return total
