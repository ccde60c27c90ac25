"""Cash-flow red flags (design.md section 5, last paragraph): patterns in the statements that a
credit officer should look at, reported beside the R and H checks.

Pure: plain transactions in, `RedFlag` records out (code, level, the numbers, one sentence each in
zh and en). policy.verify() calls `detect()` with the statements' distinct transactions (as
checks_cashflow merged them) and says in its docstring how a flag bears on the class.

Which transactions: F1 and F3 read every transaction from the first day of the look-back window
up to and including the as-of date (the running month too: what happened just before the
request is what matters most); F2 reads the window R2 and R3 read; F4 its own periods (below).
"Own transfers" are credits and debits whose counterparty is the enterprise's own name or one of
its own statement accounts (checks_cashflow.OwnAccounts); F1, F3 and F4 leave them out. Amounts
below `min_amount` are left out of F1 and F3 (penny tests, fee reversals).

F1 round-tripping, per debtor of the pledged receivables (name matched as for R2): money paid
  out to the debtor and money in from it (in either order) at most `round_trip_days` days apart,
  the two amounts within `round_trip_tolerance` of the larger (|a - b| <= tolerance x max(a, b)).
  Each transaction belongs to one pair at most: in date order, a transaction pairs with the
  unpaired opposite one of nearest amount (then earliest date). One flag per debtor with a pair.
F2 own or related money as debtor payments: credits in the window whose counterparty name is a
  debtor's but that come from one of the enterprise's own statement accounts, or whose debtor is
  a related party (`related_reason`: the enterprise's own credit code or name, or a name listed
  as related, such as the legal representative). R2 and R3 do not count them (policy.py); the
  flag says how many, how much, and why. One flag per debtor.
F3 same-day equal in and out: pairs of one credit and one debit of exactly the same amount on
  the same day (any counterparties, own transfers excluded): per (day, amount) min(ins, outs)
  pairs. Flagged when the pairs number at least `same_day_min_pairs`.
F4 burst before as-of: the inflow (own transfers excluded) of the last `burst_days` days of the
  statements up to as-of (ending on the latest transaction date on or before as-of) against the
  median inflow of the `burst_history_periods` periods of the same length before it, counting
  only periods a statement's span touches. Flagged when the last period's inflow is at least
  `min_amount` and exceeds `burst_multiple` x that median; not judged with fewer than
  MIN_HISTORY_PERIODS covered earlier periods.
  (The default multiple, 4, sits above what lumpy but honest incomes reach: on 1,000 generated
  years of marketplace.demo_statements with every payer profile, the 99th percentile was about 3.)
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from statistics import median
from typing import Any

from workflows.identifiers import normalise_name, normalise_uscc
from workflows.text import counted
from workflows.verification.checks_cashflow import OwnAccounts
from workflows.verification.formatting import money as _money
from workflows.verification.formatting import yuan
from workflows.verification.model import Transaction

FLAG_CODES = ("F1", "F2", "F3", "F4")
FLAG_LEVELS = ("high", "medium")
FLAG_NAMES = {
    "F1": ("资金回流", "Round-tripping"),
    "F2": ("自有或关联资金计为债务人回款", "Own or related money as debtor payments"),
    "F3": ("同日等额进出", "Same-day equal in and out"),
    "F4": ("核验前资金流入激增", "Burst of inflows before as-of"),
}
MIN_HISTORY_PERIODS = 3
EXAMPLES_SHOWN = 3

_CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class FlagLimits:
    """The thresholds of the red flags: made by policy.Thresholds.flag_limits(), which holds their
    defaults and versions them (no second set of defaults here)."""

    round_trip_days: int
    round_trip_tolerance: Decimal
    min_amount: Decimal
    same_day_min_pairs: int
    burst_days: int
    burst_multiple: Decimal
    burst_history_periods: int


@dataclass(frozen=True)
class Debtor:
    """A debtor of the pledged receivables, and why its payments are not its own ("" if they are)."""

    name: str
    related: str = ""  # "" | same_code | same_name | related_party


@dataclass(frozen=True)
class FlagInput:
    transactions: Sequence[Transaction]  # every distinct transaction of the statements
    spans: Sequence[tuple[date, date]]  # each statement's first and last transaction date
    enterprise_name: str
    own_accounts: OwnAccounts
    debtors: Sequence[Debtor]
    window_start: date  # the look-back window R2 and R3 read
    window_end: date
    as_of: date


@dataclass(frozen=True)
class RedFlag:
    code: str  # F1 | F2 | F3 | F4
    level: str  # high | medium
    numbers: Mapping[str, Any]  # JSON-ready: money and ratios as strings, dates ISO
    reason_zh: str
    reason_en: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "level": self.level, "numbers": dict(self.numbers),
                "reason_zh": self.reason_zh, "reason_en": self.reason_en}


def related_reason(debtor_name: str, debtor_uscc: str, enterprise_name: str, enterprise_uscc: str,
                   related_names: Iterable[str] = ()) -> str:
    """Why a debtor's payments are the enterprise's own or a related party's money, "" if not."""
    code = normalise_uscc(debtor_uscc)
    if code and code == normalise_uscc(enterprise_uscc):
        return "same_code"
    name = normalise_name(debtor_name)
    if name and name == normalise_name(enterprise_name):
        return "same_name"
    if name and name in {normalise_name(n) for n in related_names if (n or "").strip()}:
        return "related_party"
    return ""


def detect(data: FlagInput, limits: FlagLimits) -> tuple[RedFlag, ...]:
    """Every red flag of the statements, in code order (F1 and F2 one per debtor)."""
    parties = _Parties(data)
    return (*_round_trips(data, parties, limits), *_own_as_debtor(data, parties),
            *_same_day_pairs(data, parties, limits), *_burst(data, parties, limits))


def codes(flags: Collection[RedFlag]) -> list[str]:
    """The flags' codes, each once, in code order."""
    present = {f.code for f in flags}
    return [c for c in FLAG_CODES if c in present]


# ---- who is who --------------------------------------------------------------------------------


class _Parties:
    """Who each transaction is with, worked out once for every flag: its counterparty's folded
    name (`keys`), whether it comes from or goes to one of the enterprise's own statement
    accounts (`own_account`), and whether it is an own transfer at all (`own`: that, or the
    enterprise's own name). The three lists run parallel to the transactions."""

    def __init__(self, data: FlagInput):
        self.own_name = own_name = normalise_name(data.enterprise_name)
        self.debtors: dict[str, Debtor] = {}
        for debtor in data.debtors:
            key = normalise_name(debtor.name)
            if key and key not in self.debtors:
                self.debtors[key] = debtor
        transactions = data.transactions
        names = {name: normalise_name(name) for name in {tx.counterparty for tx in transactions}}
        accounts = {number: number in data.own_accounts
                    for number in {tx.counterparty_account for tx in transactions}}
        self.keys = [names[tx.counterparty] for tx in transactions]
        self.own_account = [accounts[tx.counterparty_account] for tx in transactions]
        self.own = [account or (bool(own_name) and key == own_name)
                    for key, account in zip(self.keys, self.own_account, strict=True)]

    def rows(self, data: FlagInput) -> Iterable[tuple[Transaction, str, bool, bool]]:
        """(transaction, folded name, own account, own transfer) for every transaction."""
        return zip(data.transactions, self.keys, self.own_account, self.own, strict=True)


# ---- F1 round-tripping -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pair:
    first: Transaction
    second: Transaction


def _round_trips(data: FlagInput, parties: _Parties, limits: FlagLimits) -> list[RedFlag]:
    by_debtor: dict[str, list[Transaction]] = defaultdict(list)
    first, last, floor, debtors = data.window_start, data.as_of, limits.min_amount, parties.debtors
    for tx, key, own_account, _own in parties.rows(data):
        if (key in debtors and key != parties.own_name and not own_account and first <= tx.date <= last
                and abs(tx.amount) >= floor):
            by_debtor[key].append(tx)
    flags = []
    for key, debtor in parties.debtors.items():
        pairs = _pairs(by_debtor.get(key, ()), limits)
        if pairs:
            flags.append(_round_trip_flag(debtor.name, pairs, limits))
    return flags


def _pairs(transactions: Sequence[Transaction], limits: FlagLimits) -> list[_Pair]:
    """Out-and-back pairs, greedy in date order. The unpaired transactions of each direction are
    kept sorted by amount, so the nearest amount is found by bisection and a step to each side
    (a debtor may have thousands of rows); entries too old to pair are dropped when met."""
    tolerance, days = limits.round_trip_tolerance, limits.round_trip_days
    pending: dict[bool, list[tuple[Decimal, int, int]]] = {True: [], False: []}  # by "is money in"
    ordered = sorted(range(len(transactions)), key=lambda i: transactions[i].date)
    pairs: list[_Pair] = []
    for index in ordered:
        tx = transactions[index]
        size, day = abs(tx.amount), tx.date.toordinal()
        others = pending[tx.amount < 0]  # the opposite direction
        found = _nearest(others, size, day - days, tolerance)
        if found is None:
            insort(pending[tx.amount > 0], (size, day, index))
        else:
            pairs.append(_Pair(transactions[others.pop(found)[2]], tx))
    return pairs


def _nearest(others: list[tuple[Decimal, int, int]], size: Decimal, oldest: int,
             tolerance: Decimal) -> int | None:
    """The position of the entry nearest in amount to `size` (equal amounts: the earliest), not
    older than `oldest` and within the tolerance (|a - b| <= tolerance x max(a, b)), or None."""
    right = bisect_left(others, (size, -1, -1))
    while right < len(others) and others[right][1] < oldest:
        del others[right]
    left = right - 1
    while left >= 0 and others[left][1] < oldest:
        del others[left]
        left -= 1
    right = left + 1  # what lay between was deleted
    best, best_gap = None, None
    if right < len(others):
        gap = others[right][0] - size
        if gap <= tolerance * others[right][0]:
            best, best_gap = right, gap
    if left >= 0:
        gap = size - others[left][0]
        if gap <= tolerance * size and (best_gap is None or gap < best_gap):
            best = left
    return best


def _round_trip_flag(debtor: str, pairs: list[_Pair], limits: FlagLimits) -> RedFlag:
    out_total = sum((-p.first.amount if p.first.amount < 0 else -p.second.amount for p in pairs), ZERO)
    in_total = sum((p.first.amount if p.first.amount > 0 else p.second.amount for p in pairs), ZERO)
    shown = sorted(pairs, key=lambda p: -abs(p.first.amount))[:EXAMPLES_SHOWN]
    examples = [{"first_date": p.first.date.isoformat(), "first_amount": _money(p.first.amount),
                 "second_date": p.second.date.isoformat(), "second_amount": _money(p.second.amount)}
                for p in shown]
    n, days, tolerance = len(pairs), limits.round_trip_days, limits.round_trip_tolerance
    zh_examples = "；".join(f"{_pair_zh(p)}" for p in shown)
    en_examples = "; ".join(f"{_pair_en(p)}" for p in shown)
    more_zh = "等" if n > len(shown) else ""
    more_en = " ..." if n > len(shown) else ""
    return RedFlag(
        "F1", "high",
        {"debtor": debtor, "pairs": n, "out_total": _money(out_total), "in_total": _money(in_total),
         "days": days, "tolerance": str(tolerance), "examples": examples},
        f"与债务人“{debtor}”之间有{n}组资金往返：付出合计{yuan(out_total)}、收回合计{yuan(in_total)}，"
        f"每组在{days}天内、金额相差不超过{_percent(tolerance)}（{zh_examples}{more_zh}）",
        f"{counted(n, 'round trip')} with the debtor '{debtor}': {yuan(out_total)} paid out and "
        f"{yuan(in_total)} received back, each within {days} days and amounts within "
        f"{_percent(tolerance)} ({en_examples}{more_en})",
    )


def _pair_zh(p: _Pair) -> str:
    return f"{p.first.date.isoformat()}{_direction_zh(p.first)}{yuan(abs(p.first.amount))}，" \
           f"{p.second.date.isoformat()}{_direction_zh(p.second)}{yuan(abs(p.second.amount))}"


def _pair_en(p: _Pair) -> str:
    return f"{_direction_en(p.first)} {yuan(abs(p.first.amount))} on {p.first.date.isoformat()}, " \
           f"{_direction_en(p.second)} {yuan(abs(p.second.amount))} on {p.second.date.isoformat()}"


def _direction_zh(tx: Transaction) -> str:
    return "收回" if tx.amount > 0 else "付出"


def _direction_en(tx: Transaction) -> str:
    return "in" if tx.amount > 0 else "out"


# ---- F2 own or related money counted as a debtor's -----------------------------------------------


_CAUSES = {
    "own_account": ("来自企业自身的流水账户", "came from the enterprise's own statement accounts"),
    "same_code": ("债务人的统一社会信用代码与企业相同，属于企业自身", "the debtor has the enterprise's own credit code"),
    "same_name": ("债务人名称与企业相同，属于企业自身", "the debtor has the enterprise's own name"),
    "related_party": ("债务人为企业的关联方", "the debtor is a related party of the enterprise"),
}


def _own_as_debtor(data: FlagInput, parties: _Parties) -> list[RedFlag]:
    found: dict[str, list[Transaction]] = defaultdict(list)
    for tx, key, own_account, _own in parties.rows(data):
        debtor = parties.debtors.get(key)
        if (debtor is not None and (debtor.related or own_account) and tx.amount > 0
                and data.window_start <= tx.date <= data.window_end):
            found[key].append(tx)
    flags = []
    for key, debtor in parties.debtors.items():
        rows = found.get(key)
        if rows:
            flags.append(_own_flag(debtor, rows))
    return flags


def _own_flag(debtor: Debtor, rows: list[Transaction]) -> RedFlag:
    cause = debtor.related or "own_account"
    total = sum((tx.amount for tx in rows), ZERO)
    months = sorted({f"{tx.date:%Y-%m}" for tx in rows})
    accounts = sorted({tx.counterparty_account for tx in rows if tx.counterparty_account})
    n, (cause_zh, cause_en) = len(rows), _CAUSES[cause]
    via_zh = f"（对方账号{'、'.join(accounts[:EXAMPLES_SHOWN])}）" if cause == "own_account" and accounts else ""
    via_en = f" (account {', '.join(accounts[:EXAMPLES_SHOWN])})" if cause == "own_account" and accounts else ""
    return RedFlag(
        "F2", "high",
        {"debtor": debtor.name, "cause": cause, "count": n, "amount": _money(total), "months": months,
         "accounts": accounts},
        f"{n}笔以债务人“{debtor.name}”名义的入账合计{yuan(total)}（{'、'.join(months)}）{cause_zh}{via_zh}，"
        "不计为债务人回款（R2、R3不计入）",
        f"{counted(n, 'credit')} in the name of the debtor '{debtor.name}', {yuan(total)} in all "
        f"({', '.join(months)}): {cause_en}{via_en}; not counted as the debtor's payments (R2, R3)",
    )


# ---- F3 same-day equal in and out ---------------------------------------------------------------


def _same_day_pairs(data: FlagInput, parties: _Parties, limits: FlagLimits) -> list[RedFlag]:
    first, last, floor = data.window_start, data.as_of, limits.min_amount
    looked_at = [tx for tx, _key, _own_account, own in parties.rows(data)
                 if not own and first <= tx.date <= last and abs(tx.amount) >= floor]
    ins = Counter((tx.date, tx.amount) for tx in looked_at if tx.amount > 0)
    outs = Counter((tx.date, -tx.amount) for tx in looked_at if tx.amount < 0)
    matched = {key: min(count, outs[key]) for key, count in ins.items() if key in outs}
    pairs = sum(matched.values())
    if pairs < limits.same_day_min_pairs or pairs == 0:
        return []
    total = sum((amount * count for (_day, amount), count in matched.items()), ZERO)
    days = len({day for day, _amount in matched})
    shown = sorted(matched.items(), key=lambda item: (-item[0][1] * item[1], item[0][0]))[:EXAMPLES_SHOWN]
    examples = [{"date": day.isoformat(), "amount": _money(amount), "pairs": count}
                for (day, amount), count in shown]
    zh_examples = "；".join(f"{day.isoformat()} {yuan(amount)}×{count}" for (day, amount), count in shown)
    en_examples = "; ".join(f"{day.isoformat()} {yuan(amount)} x {count}" for (day, amount), count in shown)
    more_zh = "等" if len(matched) > len(shown) else ""
    more_en = " ..." if len(matched) > len(shown) else ""
    need, floor = limits.same_day_min_pairs, limits.min_amount
    return [RedFlag(
        "F3", "medium",
        {"pairs": pairs, "days": days, "amount": _money(total), "min_pairs": need,
         "min_amount": _money(floor), "examples": examples},
        f"{days}天内共有{pairs}组同日等额的进出账（每组一笔流入、一笔流出，金额相同且不低于{yuan(floor)}），"
        f"合计{yuan(total)}，达到{need}组的提示标准（{zh_examples}{more_zh}）",
        f"{counted(pairs, 'pair')} of equal money in and out on the same day (each at least {yuan(floor)}) "
        f"on {counted(days, 'day')}, {yuan(total)} in all, at least {need} ({en_examples}{more_en})",
    )]


# ---- F4 burst of inflows before as-of -----------------------------------------------------------


def _burst(data: FlagInput, parties: _Parties, limits: FlagLimits) -> list[RedFlag]:
    dates = [tx.date for tx in data.transactions if tx.date <= data.as_of]
    if not dates:
        return []
    end, length, history = max(dates), limits.burst_days, limits.burst_history_periods
    first_day = end - timedelta(days=length * (history + 1) - 1)
    inflow = [ZERO] * (history + 1)  # 0: the last period, 1..history: the ones before it
    for tx, _key, _own_account, own in parties.rows(data):
        if tx.amount > 0 and not own and first_day <= tx.date <= end:
            inflow[(end - tx.date).days // length] += tx.amount
    covered = [i for i in range(1, history + 1) if _touched(data.spans, *_period(end, length, i))]
    if len(covered) < MIN_HISTORY_PERIODS:
        return []
    recent, typical = inflow[0], median(inflow[i] for i in covered)
    multiple = limits.burst_multiple
    if recent < limits.min_amount or recent <= typical * multiple:
        return []
    start = end - timedelta(days=length - 1)
    ratio = "∞" if typical == 0 else _ratio(recent / typical)
    times_zh = "近期流入从无到有" if typical == 0 else f"为其{ratio}倍，超过{multiple}倍的提示标准"
    times_en = "money where there was none" if typical == 0 else f"{ratio} times that, above {multiple} times"
    return [RedFlag(
        "F4", "medium",
        {"period_start": start.isoformat(), "period_end": end.isoformat(), "days": length,
         "inflow": _money(recent), "median": _money(typical), "ratio": ratio, "multiple": str(multiple),
         "periods": len(covered)},
        f"{start.isoformat()}至{end.isoformat()}（最近{length}天）资金流入{yuan(recent)}，此前{len(covered)}个"
        f"{length}天周期流入的中位数为{yuan(typical)}，{times_zh}",
        f"Inflow of {yuan(recent)} from {start.isoformat()} to {end.isoformat()} (the last {length} days) "
        f"against a median of {yuan(typical)} over the {len(covered)} earlier {length}-day periods: "
        f"{times_en}",
    )]


def _period(end: date, length: int, index: int) -> tuple[date, date]:
    last = end - timedelta(days=length * index)
    return last - timedelta(days=length - 1), last


def _touched(spans: Sequence[tuple[date, date]], first: date, last: date) -> bool:
    return any(start <= last and stop >= first for start, stop in spans)


# ---- formatting --------------------------------------------------------------------------------


def _ratio(value: Decimal) -> str:
    return f"{value.quantize(_CENT, rounding=ROUND_CEILING):.2f}"


def _percent(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"

