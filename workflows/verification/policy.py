"""The asset-quality policy of design.md section 5: R1-R6 per receivable, H0-H5 for the enterprise.

Pure: plain records in, an explained `Report` out; no Flask, no database. `verify()` is the one
entry point. Every threshold is a named field of `Thresholds`; a `Policy` gives the thresholds a
version and an effective date, and every report carries both.

Every check yields a `Check`: code, level ("ok" | "weak" | "fail"), a compact value with the
numbers, and one sentence each in zh and en with the same numbers.

How the table is read (the thresholds named are the `Thresholds` fields, defaults in brackets):

Window. "The 12 months before as-of" is the `lookback_months` [12] most recent whole calendar
  months that end on or before the as-of date (see checks_cashflow.window_before): as-of
  2026-11-22 looks at 2025-11..2026-10, as-of 2026-11-30 at 2025-12..2026-11. A month still
  running on the as-of date is left out, so a half month never looks like a weak month. R2, R3
  and H0-H4 all use this window.

Statements. Identical statements count once; overlapping statements of one account number are
  merged without double counting; credits from the enterprise's own name are own-account
  transfers, not inflow (checks_cashflow's docstring has the precise rules).

Matching debtors. A credit is "from the debtor" when its counterparty, folded by
  identifiers.normalise_name (full/half width, whitespace, brackets, ASCII case), equals the
  debtor's name folded the same way. Statements carry no credit codes, so the name is all
  there is; a bank's abbreviation of the name does not match.

R1 debtor confirmation: confirmed -> ok, pending -> weak, disputed -> fail. `confirmation` is the
  debtor's own answer; `confirmation_source` says where it comes from (link, account, file) and
  the sentence names it with its date. The enterprise's declaration (source "declared") is not an
  answer: the receivable stays pending, weak, and the sentence says what was declared.
R2 distinct window months with at least one credit from the debtor: >= r2_ok_months [3] -> ok;
  1 to r2_ok_months - 1 -> weak; 0 -> weak ("no history"). R2 never fails.
R3 face amount <= r3_multiple [3] x the debtor's largest monthly inflow, where a monthly inflow
  is the sum of the debtor's credits in one window month: yes -> ok, no -> fail, no credit from
  the debtor in the window -> weak ("no history").
R4 age = as_of - issue_date in days; past due = due_date < as_of (due on the as-of date itself is
  not past due). Past due -> fail; else age <= r4_ok_days [90] -> ok; age <= r4_weak_days [180]
  -> weak (91-180); age > 180 -> fail. An issue date after as_of is refused as bad input.
R5 the same debtor and invoice number pledged elsewhere -> fail, else ok. "Same debtor": equal
  credit code, or equal normalised name; invoice numbers compare after NFKC folding, without
  whitespace, upper case. "Elsewhere": `other_active_pledges` (the platform's other active
  requests, keys (debtor credit code or normalised debtor name, invoice number)), and any other
  row of the same receivables list (offline, the file is all there is) - every row of such a
  pair fails.
R6 related party: debtor credit code equals the enterprise's, or the normalised names are equal
  -> fail, else ok.
Grade: 优 all six ok; 良 no fail and at least one weak; 差 any fail.

H0 covered window months (a month is covered when a statement's span - earliest to latest
  transaction date - touches it): >= h0_min_months [6] -> ok, fewer -> fail.
H1 window months with inflow > 0: >= h1_ok_months [10] -> ok; >= h1_weak_months [6] -> weak
  (6-9); fewer -> fail.
H2 coefficient of variation (population standard deviation / mean) of the monthly inflow over
  the *covered* window months (an uncovered month is missing data, not a month without
  income - H0 already judges coverage; with a full year the two readings agree): <= h2_max_cv
  [0.5] -> ok; above -> weak. No covered month, or no inflow at all (mean 0): weak, CV
  undefined. The comparison is exact (n*sum(x^2) - sum(x)^2 <= cv^2 * sum(x)^2 in fractions).
H3 days in the window that end with a negative balance on any account (closing balance = the
  day's last transaction's balance, carried over days without transactions within a
  statement's span): <= h3_ok_days [0] -> ok; <= h3_weak_days [5] -> weak (1-5); more -> fail.
  No statement has a balance column: weak ("cannot be checked") - unknown is not ok, and not
  evidence of distress either.
H4 requested amount / window inflow: <= h4_ok_ratio [0.5] -> ok; <= h4_weak_ratio [1.0] -> weak
  (above 0.5 up to and including 1.0); above -> fail. No inflow at all -> fail.
H5 the largest debtor's share of the pledged amount (the sum of the receivables' face amounts;
  debtors grouped by credit code, by normalised name where there is no code):
  <= h5_max_share [0.5] -> ok; above -> weak.

Class: poor when any H check fails, or when the 差 receivables' face amounts exceed
  poor_share [0.5] of the pledged amount (exactly half is not "exceed"); else excellent when
  every receivable is 优 and at most excellent_max_weak_h [1] H checks are weak; else mixed.

Red flags (F1-F4, red_flags.py says exactly what each one looks for): round-tripping with a
  debtor within round_trip_days [7] days and round_trip_tolerance [0.05]; own or related money
  counted as a debtor's; at least same_day_min_pairs [5] same-day equal in-and-out pairs; the last
  burst_days [30] days' inflow above burst_multiple [4] x the median of the lookback_months - 1
  periods before; F1 and F3 leave out amounts below red_flag_min_amount [10000], and an F4
  burst must reach it.
  Every report lists them with their numbers (`red_flags`), whatever the setting below.
Own and related money is not a debtor's payment: R2 and R3 count no credit that comes from one
  of the enterprise's own statement accounts (checks_cashflow.OwnAccounts; such a credit is an
  own transfer, not inflow, for H1-H4 too), and no credit at all for a debtor that is related
  (red_flags.related_reason: the enterprise's credit code or name, or a name in
  EnterpriseInput.related_parties) - F2 lists what was left out.
Red flags and the class: with red_flags_affect_class [false] the class is the table's. With it
  true, one red flag or more turns excellent into mixed (the reasons say so); mixed and poor stay
  as they are - a flag asks for a look, it proves nothing.

Ratios are compared exactly (fractions of the Decimal amounts); in values and sentences they are
shown rounded *up* at 4 decimals (at least 2), so a shown figure never contradicts its level.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from workflows.identifiers import normalise_name, normalise_uscc
from workflows.text import Sentence, both, counted
from workflows.verification.checks_cashflow import (
    CashFlow,
    OwnAccounts,
    StatementData,
    build_cashflow,
    month_label,
    window_before,
)
from workflows.verification.formatting import money as _money
from workflows.verification.formatting import yuan
from workflows.verification.model import Statement, Transaction
from workflows.verification.red_flags import (
    FLAG_NAMES,
    Debtor,
    FlagInput,
    FlagLimits,
    RedFlag,
    codes,
    detect,
    related_reason,
)

LEVELS = ("ok", "weak", "fail")
GRADE_ALL_OK, GRADE_SOME_WEAK, GRADE_ANY_FAIL = "优", "良", "差"
GRADES = (GRADE_ALL_OK, GRADE_SOME_WEAK, GRADE_ANY_FAIL)
GRADE_EN = {GRADE_ALL_OK: "good", GRADE_SOME_WEAK: "fair", GRADE_ANY_FAIL: "poor"}  # in English sentences
CLASSIFICATIONS = ("excellent", "mixed", "poor")
CLASS_LABELS = {"excellent": ("优质", "Excellent"), "mixed": ("一般", "Mixed"), "poor": ("较差", "Poor")}
RECEIVABLE_CHECKS = ("R1", "R2", "R3", "R4", "R5", "R6")
HEALTH_CHECKS = ("H0", "H1", "H2", "H3", "H4", "H5")
CONFIRMATIONS = ("confirmed", "pending", "disputed")
CONFIRMATION_ZH = {"confirmed": "已确认", "pending": "待确认", "disputed": "有异议"}
# Where a debtor's answer comes from: the signed link or the debtor's enterprise account (the
# platform), or a file whose supplier vouches for it (offline); "" when the caller does not say.
ANSWER_SOURCES = ("link", "account", "file", "")
DECLARED = "declared"  # the enterprise's own declaration; the receivable is still pending
DECLARATIONS = ("confirmed", "disputed")

_CENT = Decimal("0.01")
_SHOWN = Decimal("0.0001")
_WIDE = Context(prec=50)


# ---- configuration -----------------------------------------------------------------------------

# field -> (zh, en) label, for validation messages and the admin's policy form
THRESHOLD_LABELS: dict[str, tuple[str, str]] = {
    "lookback_months": ("回看月数", "Look-back months"),
    "r2_ok_months": ("R2 正常所需付款月数", "R2: months with payments for ok"),
    "r3_multiple": ("R3 金额与最大月付款额的倍数上限", "R3: multiple of the largest monthly payment"),
    "r4_ok_days": ("R4 正常账龄上限（天）", "R4: age in days for ok"),
    "r4_weak_days": ("R4 关注账龄上限（天）", "R4: age in days for weak"),
    "h0_min_months": ("H0 流水最少覆盖月数", "H0: minimum months covered"),
    "h1_ok_months": ("H1 正常所需有收入月数", "H1: months with inflow for ok"),
    "h1_weak_months": ("H1 关注所需有收入月数", "H1: months with inflow for weak"),
    "h2_max_cv": ("H2 月收入变异系数上限", "H2: maximum coefficient of variation"),
    "h3_ok_days": ("H3 正常允许的负余额天数", "H3: negative-balance days for ok"),
    "h3_weak_days": ("H3 关注允许的负余额天数", "H3: negative-balance days for weak"),
    "h4_ok_ratio": ("H4 正常的申请金额/年收入比例上限", "H4: requested/inflow ratio for ok"),
    "h4_weak_ratio": ("H4 关注的申请金额/年收入比例上限", "H4: requested/inflow ratio for weak"),
    "h5_max_share": ("H5 最大债务人占比上限", "H5: maximum share of the largest debtor"),
    "poor_share": ("评级为差的应收账款金额占比上限", "Share of receivables graded poor above which the class is poor"),
    "excellent_max_weak_h": ("优质允许的H项关注数", "Weak H checks allowed for excellent"),
    "round_trip_days": ("F1 资金回流的间隔天数上限", "F1: round trip within days"),
    "round_trip_tolerance": ("F1 资金回流的金额相差比例上限", "F1: round trip amount tolerance"),
    "same_day_min_pairs": ("F3 同日等额进出的提示组数", "F3: same-day equal pairs to flag"),
    "burst_days": ("F4 近期天数", "F4: recent period in days"),
    "burst_multiple": ("F4 近期流入与此前中位数的倍数上限", "F4: multiple of the earlier median"),
    "red_flag_min_amount": ("红旗检查的最低金额（元）", "Red flags: smallest amount looked at (yuan)"),
    "red_flags_affect_class": ("红旗影响评级（出现红旗时优质降为一般）",
                               "Red flags lower excellent to mixed"),
}


@dataclass(frozen=True)
class Thresholds:
    """Every number of the policy table; the defaults are design.md section 5's."""

    lookback_months: int = 12
    r2_ok_months: int = 3
    r3_multiple: Decimal = Decimal("3")
    r4_ok_days: int = 90
    r4_weak_days: int = 180
    h0_min_months: int = 6
    h1_ok_months: int = 10
    h1_weak_months: int = 6
    h2_max_cv: Decimal = Decimal("0.5")
    h3_ok_days: int = 0
    h3_weak_days: int = 5
    h4_ok_ratio: Decimal = Decimal("0.5")
    h4_weak_ratio: Decimal = Decimal("1.0")
    h5_max_share: Decimal = Decimal("0.5")
    poor_share: Decimal = Decimal("0.5")
    excellent_max_weak_h: int = 1
    round_trip_days: int = 7
    round_trip_tolerance: Decimal = Decimal("0.05")
    same_day_min_pairs: int = 5
    burst_days: int = 30
    burst_multiple: Decimal = Decimal("4")
    red_flag_min_amount: Decimal = Decimal("10000")
    red_flags_affect_class: bool = False

    def validate(self) -> list[Sentence]:
        """Every problem with these values, one sentence each (Chinese, carrying its English);
        empty when usable."""
        problems = self._type_problems()
        if problems:
            return problems
        return self._range_problems()

    def _type_problems(self) -> list[Sentence]:
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("bool", bool):
                if not isinstance(value, bool):
                    problems.append(_not_a(f.name, "bool", value))
            elif f.type in ("int", int):
                if not isinstance(value, int) or isinstance(value, bool):
                    problems.append(_not_a(f.name, "int", value))
            elif isinstance(value, bool) or not (
                isinstance(value, int) or (isinstance(value, Decimal) and value.is_finite())
            ):  # exact numbers only: a float is refused
                problems.append(_not_a(f.name, "decimal", value))
        return problems

    def _range_problems(self) -> list[Sentence]:
        problems: list[Sentence] = []
        months = self.lookback_months

        def between(name: str, low, high) -> None:
            value = getattr(self, name)
            if not low <= value <= high:
                problems.append(_labelled(name, "应在%(low)s到%(high)s之间，实际为%(value)s",
                                          " must be between %(low)s and %(high)s, not %(value)s",
                                          low=low, high=high, value=value))

        def above_zero(name: str, high) -> None:
            value = getattr(self, name)
            if not Decimal(0) < value <= Decimal(high):
                problems.append(_labelled(name, "应大于0且不超过%(high)s，实际为%(value)s",
                                          " must be above 0 and at most %(high)s, not %(value)s", high=high, value=value))

        def ordered(weak: str, ok: str, high) -> None:
            value, floor = getattr(self, weak), getattr(self, ok)
            if not floor <= value <= high:
                ok_zh, ok_en = THRESHOLD_LABELS[ok]
                problems.append(_labelled(weak, "（%(value)s）应不小于%(ok)s（%(floor)s）且不超过%(high)s",
                                          " (%(value)s) must be at least “%(ok_en)s” (%(floor)s) and at most %(high)s",
                                          value=value, ok=ok_zh, ok_en=ok_en, floor=floor, high=high))

        between("lookback_months", 1, 36)
        for name in ("r2_ok_months", "h0_min_months", "h1_ok_months", "h1_weak_months"):
            value = getattr(self, name)
            if not 1 <= value <= months:
                problems.append(_labelled(name, "应在1到回看月数%(months)s之间，实际为%(value)s",
                                          " must be between 1 and the look-back months (%(months)s), not %(value)s",
                                          months=months, value=value))
        if self.h1_weak_months > self.h1_ok_months:
            problems.append(_labelled("h1_weak_months", "（%(value)s）不能大于%(ok)s（%(floor)s）",
                                      " (%(value)s) cannot be more than “%(ok_en)s” (%(floor)s)",
                                      value=self.h1_weak_months, ok=THRESHOLD_LABELS["h1_ok_months"][0],
                                      ok_en=THRESHOLD_LABELS["h1_ok_months"][1], floor=self.h1_ok_months))
        between("r3_multiple", Decimal(1), Decimal(100))
        between("r4_ok_days", 0, 3650)
        ordered("r4_weak_days", "r4_ok_days", 3650)
        above_zero("h2_max_cv", 10)
        between("h3_ok_days", 0, 366)
        ordered("h3_weak_days", "h3_ok_days", 366)
        above_zero("h4_ok_ratio", 10)
        ordered("h4_weak_ratio", "h4_ok_ratio", Decimal(10))
        above_zero("h5_max_share", 1)
        if not Decimal(0) <= self.poor_share < Decimal(1):
            problems.append(_labelled("poor_share", "应不小于0且小于1，实际为%(value)s",
                                      " must be at least 0 and below 1, not %(value)s", value=self.poor_share))
        between("excellent_max_weak_h", 0, len(HEALTH_CHECKS))
        between("round_trip_days", 1, 90)
        between("round_trip_tolerance", Decimal(0), Decimal("0.5"))
        between("same_day_min_pairs", 1, 10000)
        between("burst_days", 7, 92)
        between("burst_multiple", Decimal(1), Decimal(100))
        between("red_flag_min_amount", Decimal(0), Decimal(10) ** 10)
        return problems

    def flag_limits(self) -> FlagLimits:
        """The red flags' thresholds; F4 looks back over the rest of the look-back months."""
        return FlagLimits(
            round_trip_days=self.round_trip_days, round_trip_tolerance=self.round_trip_tolerance,
            min_amount=self.red_flag_min_amount, same_day_min_pairs=self.same_day_min_pairs,
            burst_days=self.burst_days, burst_multiple=self.burst_multiple,
            burst_history_periods=max(self.lookback_months - 1, 1),
        )

    def as_dict(self) -> dict[str, int | str]:
        """JSON-ready: integers as integers, ratios as decimal strings."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Thresholds:
        """Thresholds from a stored or edited mapping (missing keys keep their defaults).

        Raises PolicyError with every problem, in Chinese, when a value is unusable.
        """
        known = {f.name: f for f in fields(cls)}
        problems = [Sentence(f"未知的阈值“{name}”", f"Unknown threshold “{name}”") for name in data if name not in known]
        values: dict[str, Any] = {}
        for name, raw in data.items():
            if name not in known:
                continue
            kind = str(known[name].type) if str(known[name].type) in ("int", "bool") else "decimal"
            parse = {"int": _int, "bool": _bool}.get(kind, _decimal)
            try:
                values[name] = parse(raw)
            except (ValueError, InvalidOperation):
                problems.append(_not_a(name, kind, raw))
        if problems:
            raise PolicyError(problems)
        thresholds = cls(**values)
        problems = thresholds.validate()
        if problems:
            raise PolicyError(problems)
        return thresholds


_KINDS = {"int": ("整数", "a whole number"), "bool": ("“是”或“否”", "yes or no"), "decimal": ("数字", "a number")}


def _labelled(name: str, zh: str, en: str, **params) -> Sentence:
    """A problem with one threshold: its label, then the templates filled with params."""
    label_zh, label_en = THRESHOLD_LABELS[name]
    return both(label_zh + zh, label_en + en, **params)


def _not_a(name: str, kind: str, raw: Any) -> Sentence:
    kind_zh, kind_en = _KINDS[kind]
    return _labelled(name, "应为%(kind)s，实际为“%(raw)s”", " must be %(kind_en)s, not “%(raw)s”",
                     kind=kind_zh, kind_en=kind_en, raw=raw)


def _plain(value: int | Decimal) -> int | str:
    return value if isinstance(value, int) else str(value)


def _int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, int):
        return raw
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if not text.lstrip("-").isdigit():
        raise ValueError(raw)
    return int(text)


_TRUE = frozenset({"1", "true", "yes", "on", "是"})
_FALSE = frozenset({"0", "false", "no", "off", "否", ""})


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = unicodedata.normalize("NFKC", str(raw)).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(raw)


def _decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, float):
        raw = repr(raw)  # 0.5 -> "0.5", not 0.5000000000000000277...
    value = Decimal(unicodedata.normalize("NFKC", str(raw)).strip())
    if not value.is_finite():
        raise ValueError(raw)
    return value


class PolicyError(ValueError):
    """A policy or its thresholds cannot be used; `problems` says why, one sentence each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("；".join(problems))


@dataclass(frozen=True)
class Policy:
    """Thresholds with a version and the date from which they apply."""

    version: str
    effective_from: date
    thresholds: Thresholds = field(default_factory=Thresholds)

    def validate(self) -> list[str]:
        problems = []
        if not (self.version or "").strip():
            problems.append("策略版本号不能为空")
        if not isinstance(self.effective_from, date):
            problems.append("策略生效日期应为日期")
        return problems + self.thresholds.validate()

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "effective_from": self.effective_from.isoformat(),
            "thresholds": self.thresholds.as_dict(),
        }


DEFAULT_POLICY = Policy("2026.1", date(2026, 1, 1), Thresholds())


def policy_in_effect(policies: Iterable[Policy], on: date) -> Policy:
    """The policy with the latest effective date on or before `on` (DEFAULT_POLICY if none)."""
    candidates = [p for p in policies if p.effective_from <= on]
    if not candidates:
        return DEFAULT_POLICY
    return max(candidates, key=lambda p: (p.effective_from, p.version))


# ---- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnterpriseInput:
    name: str
    uscc: str
    # names known to be related (the legal representative, ...): their money is not a debtor's (F2)
    related_parties: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReceivableInput:
    """One pledged receivable. receivables_file.ReceivableRow is accepted as it is."""

    invoice_no: str
    debtor_name: str
    debtor_uscc: str
    amount: Decimal
    issue_date: date
    due_date: date
    confirmation: str  # the debtor's answer: confirmed | pending | disputed
    line: int = 0  # where it came from (file line), 0 when not from a file
    contract_no: str = ""
    # Who says so: an ANSWER_SOURCES value; while pending, DECLARED (what the enterprise declared
    # is in `declared`) or "". The time is local (Shanghai) time of the answer or declaration.
    confirmation_source: str = ""
    confirmation_time: datetime | date | None = None
    declared: str = ""  # confirmed | disputed, with source DECLARED

    @classmethod
    def of(cls, item: Any) -> ReceivableInput:
        if isinstance(item, cls):
            return item
        return cls(
            invoice_no=item.invoice_no,
            debtor_name=item.debtor_name,
            debtor_uscc=item.debtor_uscc or "",
            amount=item.amount,
            issue_date=item.issue_date,
            due_date=item.due_date,
            confirmation=item.confirmation,
            line=getattr(item, "line", 0) or 0,
            contract_no=getattr(item, "contract_no", "") or "",
            confirmation_source=getattr(item, "confirmation_source", "") or "",
            confirmation_time=getattr(item, "confirmation_time", None),
            declared=getattr(item, "declared", "") or "",
        )


class VerificationInputError(ValueError):
    """The inputs cannot be verified; `problems` says why, one Chinese sentence each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("；".join(problems))


# ---- outputs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One check's verdict: a level, the numbers behind it and a sentence in zh and en."""

    code: str
    level: str  # ok | weak | fail
    value: str
    reason_zh: str
    reason_en: str

    def text(self, locale: str = "zh") -> str:
        return self.reason_en if locale.startswith("en") else self.reason_zh

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "level": self.level,
            "value": self.value,
            "reason_zh": self.reason_zh,
            "reason_en": self.reason_en,
        }


@dataclass(frozen=True)
class ReceivableResult:
    receivable: ReceivableInput
    grade: str  # 优 | 良 | 差
    checks: tuple[Check, ...]

    @property
    def invoice_no(self) -> str:
        return self.receivable.invoice_no

    @property
    def debtor_name(self) -> str:
        return self.receivable.debtor_name

    @property
    def amount(self) -> Decimal:
        return self.receivable.amount

    def as_dict(self) -> dict[str, Any]:
        r = self.receivable
        return {
            "line": r.line,
            "invoice_no": r.invoice_no,
            "contract_no": r.contract_no,
            "debtor_name": r.debtor_name,
            "debtor_uscc": r.debtor_uscc,
            "amount": _money(r.amount),
            "issue_date": r.issue_date.isoformat(),
            "due_date": r.due_date.isoformat(),
            "confirmation": r.confirmation,
            "confirmation_source": r.confirmation_source or "none",
            "confirmation_time": r.confirmation_time.isoformat() if r.confirmation_time else None,
            "declared_confirmation": r.declared or None,
            "grade": self.grade,
            "checks": [c.as_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class Report:
    classification: str  # excellent | mixed | poor
    policy_version: str
    policy_effective_from: date
    thresholds: Mapping[str, int | str]
    as_of: date
    enterprise: EnterpriseInput
    requested_amount: Decimal
    pledged_amount: Decimal
    statement_sha256s: tuple[str, ...]
    receivables_sha256: str
    metrics: Mapping[str, Any]  # JSON-ready already
    receivables: tuple[ReceivableResult, ...]
    health: tuple[Check, ...]
    reasons_zh: tuple[str, ...]
    reasons_en: tuple[str, ...]
    red_flags: tuple[RedFlag, ...] = ()

    def health_check(self, code: str) -> Check:
        return next(c for c in self.health if c.code == code)

    def to_dict(self) -> dict[str, Any]:
        """The whole report as JSON-ready values (money as strings with 2 decimals)."""
        return {
            "classification": self.classification,
            "classification_zh": CLASS_LABELS[self.classification][0],
            "policy_version": self.policy_version,
            "policy_effective_from": self.policy_effective_from.isoformat(),
            "thresholds": dict(self.thresholds),
            "as_of": self.as_of.isoformat(),
            "enterprise": {"name": self.enterprise.name, "uscc": self.enterprise.uscc},
            "requested_amount": _money(self.requested_amount),
            "pledged_amount": _money(self.pledged_amount),
            "inputs": {
                "statement_sha256s": list(self.statement_sha256s),
                "receivables_sha256": self.receivables_sha256,
            },
            "receivables": [r.as_dict() for r in self.receivables],
            "health": [c.as_dict() for c in self.health],
            "red_flags": [f.as_dict() for f in self.red_flags],
            "reasons_zh": list(self.reasons_zh),
            "reasons_en": list(self.reasons_en),
            "metrics": dict(self.metrics),
        }


# ---- formatting --------------------------------------------------------------------------------


def ratio_text(value: Fraction) -> str:
    """A ratio rounded up at 4 decimals, trailing zeros dropped down to 2: 0.5 -> "0.50".

    Rounding up keeps the shown figure on the same side of a threshold (of at most 4 decimals)
    as the exact one, for the "<=" comparisons of the policy.
    """
    shown = _WIDE.divide(Decimal(value.numerator), Decimal(value.denominator))
    shown = shown.quantize(_SHOWN, rounding=ROUND_CEILING)
    text = f"{shown:.4f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def _percent(value: Fraction) -> str:
    shown = _WIDE.divide(Decimal(value.numerator) * 100, Decimal(value.denominator))
    return f"{shown.quantize(Decimal('0.1'), rounding=ROUND_CEILING)}%"


def _fraction(value: Decimal | int) -> Fraction:
    return Fraction(value)


def _invoice_key(invoice_no: str) -> str:
    return "".join(unicodedata.normalize("NFKC", invoice_no or "").split()).upper()


def _month_runs(months: Iterable[int]) -> list[tuple[int, int]]:
    """The months as runs of consecutive months, (first, last) each, in order."""
    runs: list[list[int]] = []
    for month in sorted(set(months)):
        if runs and month == runs[-1][1] + 1:
            runs[-1][1] = month
        else:
            runs.append([month, month])
    return [(first, last) for first, last in runs]


def _months_listed(months: Iterable[int], separator: str, through: str) -> str:
    """The months, a run of three or more consecutive ones written as its first and last:
    2025-01至2025-12 rather than twelve months one by one."""
    parts = []
    for first, last in _month_runs(months):
        if last - first >= 2:
            parts.append(f"{month_label(first)}{through}{month_label(last)}")
        else:
            parts.extend(month_label(m) for m in range(first, last + 1))
    return separator.join(parts)


def _months_text(months: Iterable[int]) -> str:
    return _months_listed(months, ", ", " to ")


def _months_zh(months: Iterable[int]) -> str:
    return _months_listed(months, "、", "至")


# ---- the receivable checks ---------------------------------------------------------------------


_ANSWER_WAYS = {  # source -> (zh, en) of the way the debtor answered
    "link": ("通过签名链接", "via the signed link"),
    "account": ("通过其平台企业账户", "through its enterprise account on the platform"),
}
_FILE_NOTE = ("（依据核验文件所载，由提供文件者负责）", " (as the verified file states; whoever supplied it vouches for it)")


def check_r1(r: ReceivableInput) -> Check:
    """The debtor's answer, naming where it comes from and when; a declaration counts as pending."""
    state, source = r.confirmation, r.confirmation_source
    day = f"{r.confirmation_time:%Y-%m-%d}" if r.confirmation_time else ""
    if state in ("confirmed", "disputed"):
        level = "ok" if state == "confirmed" else "fail"
        if source in _ANSWER_WAYS:
            way_zh, way_en = _ANSWER_WAYS[source]
            when_zh, when_en = (f"于{day}", f" on {day}") if day else ("", "")
            act_zh, act_en = (("确认该笔应收账款", "confirmed the receivable") if state == "confirmed"
                              else ("对该笔应收账款提出异议", "disputed the receivable"))
            return Check("R1", level, state, f"债务人{when_zh}{way_zh}{act_zh}", f"The debtor {act_en} {way_en}{when_en}")
        zh, en = (("债务人已确认该笔应收账款", "The debtor has confirmed the receivable") if state == "confirmed"
                  else ("债务人对该笔应收账款有异议", "The debtor disputes the receivable"))
        if source == "file":
            zh, en = zh + _FILE_NOTE[0], en + _FILE_NOTE[1]
        return Check("R1", level, state, zh, en)
    if source == DECLARED:
        when_zh, when_en = (f"（企业于{day}声明）", f" on {day}") if day else ("", "")
        if r.declared == "disputed":
            return Check("R1", "weak", state, f"企业声明有异议，债务人尚未答复{when_zh}",
                         f"Declared disputed by the enterprise{when_en}; the debtor has not answered yet")
        return Check("R1", "weak", state, f"企业声明已确认，债务人尚未确认{when_zh}",
                     f"Declared confirmed by the enterprise{when_en}; the debtor has not confirmed it yet")
    return Check("R1", "weak", state, "该笔应收账款尚待债务人确认",
                 "The receivable is still awaiting the debtor's confirmation")


def check_r2(r: ReceivableInput, paid: Mapping[int, Decimal], t: Thresholds) -> Check:
    n, months, need = len(paid), t.lookback_months, t.r2_ok_months
    value = f"{n} of {months} months"
    if n == 0:
        return Check("R2", "weak", value,
                     f"近{months}个月流水中没有债务人“{r.debtor_name}”向企业付款的记录（无历史往来）",
                     f"No payment from the debtor '{r.debtor_name}' to the enterprise in the last "
                     f"{months} months (no history)")
    listed_zh, listed_en = _months_zh(paid), _months_text(paid)
    if n >= need:
        return Check("R2", "ok", value,
                     f"近{months}个月内债务人在{n}个不同月份向企业付款（{listed_zh}），不少于{need}个月",
                     f"The debtor paid the enterprise in {n} distinct months of the last {months} "
                     f"({listed_en}), at least {need}")
    return Check("R2", "weak", value,
                 f"近{months}个月内债务人仅在{n}个不同月份向企业付款（{listed_zh}），少于{need}个月",
                 f"The debtor paid the enterprise in only {counted(n, 'distinct month')} of the last "
                 f"{months} ({listed_en}), fewer than {need}")


def check_r3(r: ReceivableInput, paid: Mapping[int, Decimal], t: Thresholds) -> Check:
    months, multiple = t.lookback_months, t.r3_multiple
    face = yuan(r.amount)
    if not paid:
        return Check("R3", "weak", f"{face}; no history",
                     f"近{months}个月流水中没有债务人的付款，无法比较金额{face}与其付款规模（无历史往来）",
                     f"No payment from the debtor in the last {months} months: the face amount "
                     f"{face} cannot be compared with its payments (no history)")
    month, largest = max(paid.items(), key=lambda item: (item[1], item[0]))
    cap = largest * multiple
    value = f"{face} vs {multiple} x {yuan(largest)} = {yuan(cap)}"
    label = month_label(month)
    if r.amount <= cap:
        return Check("R3", "ok", value,
                     f"应收账款金额{face}不超过债务人最大月付款额{yuan(largest)}（{label}）的{multiple}倍"
                     f"（{yuan(cap)}）",
                     f"The face amount {face} is within {multiple} x the debtor's largest monthly "
                     f"payment {yuan(largest)} ({label}) = {yuan(cap)}")
    return Check("R3", "fail", value,
                 f"应收账款金额{face}超过债务人最大月付款额{yuan(largest)}（{label}）的{multiple}倍"
                 f"（{yuan(cap)}）",
                 f"The face amount {face} exceeds {multiple} x the debtor's largest monthly "
                 f"payment {yuan(largest)} ({label}) = {yuan(cap)}")


def check_r4(r: ReceivableInput, as_of: date, t: Thresholds) -> Check:
    age = (as_of - r.issue_date).days
    due = r.due_date.isoformat()
    value = f"age {age} days; due {due}"
    if r.due_date < as_of:
        overdue = (as_of - r.due_date).days
        return Check("R4", "fail", value,
                     f"应收账款已于{due}到期，截至{as_of.isoformat()}已逾期{overdue}天（账龄{age}天）",
                     f"The receivable fell due on {due} and is {overdue} days past due on "
                     f"{as_of.isoformat()} (age {age} days)")
    ok_days, weak_days = t.r4_ok_days, t.r4_weak_days
    if age <= ok_days:
        return Check("R4", "ok", value,
                     f"账龄{age}天，不超过{ok_days}天，且未到期（到期日{due}）",
                     f"{age} days old, at most {ok_days}, and not yet due (due {due})")
    if age <= weak_days:
        return Check("R4", "weak", value,
                     f"账龄{age}天，在{ok_days + 1}-{weak_days}天之间（到期日{due}）",
                     f"{age} days old, between {ok_days + 1} and {weak_days} days (due {due})")
    return Check("R4", "fail", value,
                 f"账龄{age}天，超过{weak_days}天（到期日{due}）",
                 f"{age} days old, more than {weak_days} days (due {due})")


def check_r5(r: ReceivableInput, other_lines: Sequence[int], elsewhere: bool) -> Check:
    if not other_lines and not elsewhere:
        return Check("R5", "ok", "no",
                     f"发票{r.invoice_no}未在其他有效申请中质押",
                     f"Invoice {r.invoice_no} is not pledged in another active request")
    where_zh, where_en = [], []
    if elsewhere:
        where_zh.append("其他有效申请")
        where_en.append("another active request")
    if other_lines:
        lines = "、".join(str(n) for n in other_lines)
        where_zh.append(f"本清单第{lines}行")
        where_en.append("line(s) " + ", ".join(str(n) for n in other_lines) + " of this list")
    value = "yes: " + "; ".join(where_en)
    return Check("R5", "fail", value,
                 f"同一债务人的发票{r.invoice_no}已在{'及'.join(where_zh)}中质押",
                 f"The same debtor's invoice {r.invoice_no} is also pledged in "
                 f"{' and '.join(where_en)}")


def check_r6(r: ReceivableInput, enterprise: EnterpriseInput) -> Check:
    same_code = bool(r.debtor_uscc) and normalise_uscc(r.debtor_uscc) == normalise_uscc(enterprise.uscc)
    same_name = normalise_name(r.debtor_name) == normalise_name(enterprise.name)
    if same_code or same_name:
        what_zh = "统一社会信用代码" if same_code else "名称"
        what_en = "credit code" if same_code else "name"
        return Check("R6", "fail", f"related: same {what_en}",
                     f"债务人“{r.debtor_name}”的{what_zh}与企业相同，属于关联方（自身）应收账款",
                     f"The debtor '{r.debtor_name}' has the enterprise's own {what_en}: a "
                     "related-party receivable")
    return Check("R6", "ok", "not related",
                 "债务人的名称和统一社会信用代码均与企业不同，非关联方",
                 "The debtor's name and credit code differ from the enterprise's: not a related party")


def grade_of(checks: Iterable[Check]) -> str:
    levels = {c.level for c in checks}
    if "fail" in levels:
        return GRADE_ANY_FAIL
    if "weak" in levels:
        return GRADE_SOME_WEAK
    return GRADE_ALL_OK


# ---- the health checks -------------------------------------------------------------------------


def check_h0(flow: CashFlow, t: Thresholds) -> Check:
    n, months, need = flow.covered_months, t.lookback_months, t.h0_min_months
    value = f"{n} of {months} months"
    if n >= need:
        return Check("H0", "ok", value,
                     f"银行流水覆盖近{months}个月中的{n}个月，不少于{need}个月",
                     f"The statements cover {n} of the last {months} months, at least {need}")
    return Check("H0", "fail", value,
                 f"银行流水仅覆盖近{months}个月中的{n}个月，少于{need}个月（数据不足）",
                 f"The statements cover only {n} of the last {months} months, fewer than {need} "
                 "(insufficient data)")


def check_h1(flow: CashFlow, t: Thresholds) -> Check:
    n, months = flow.inflow_months, t.lookback_months
    value = f"{n} of {months} months"
    if n >= t.h1_ok_months:
        return Check("H1", "ok", value,
                     f"近{months}个月中有{n}个月有资金流入，不少于{t.h1_ok_months}个月",
                     f"Money came in during {n} of the last {months} months, at least {t.h1_ok_months}")
    if n >= t.h1_weak_months:
        return Check("H1", "weak", value,
                     f"近{months}个月中有{n}个月有资金流入，在{t.h1_weak_months}-{t.h1_ok_months - 1}个月之间",
                     f"Money came in during {n} of the last {months} months, between "
                     f"{t.h1_weak_months} and {t.h1_ok_months - 1}")
    return Check("H1", "fail", value,
                 f"近{months}个月中仅{n}个月有资金流入，少于{t.h1_weak_months}个月",
                 f"Money came in during only {n} of the last {months} months, fewer than "
                 f"{t.h1_weak_months}")


def check_h2(flow: CashFlow, t: Thresholds) -> Check:
    values = [m.inflow for m in flow.months if m.covered]
    n, limit = len(values), t.h2_max_cv
    if n == 0:
        return Check("H2", "weak", "no months covered",
                     "没有银行流水覆盖的月份，无法计算月收入的变异系数",
                     "No month is covered by a statement: the variation of monthly inflow cannot "
                     "be computed")
    total = sum((_fraction(v) for v in values), Fraction(0))
    if total == 0:
        return Check("H2", "weak", f"mean {yuan(Decimal(0))} over {n} months",
                     f"流水覆盖的{n}个月均无资金流入，月收入的变异系数无法计算",
                     f"No money came in during the {n} covered months: the coefficient of "
                     "variation is undefined")
    squares = sum((_fraction(v) ** 2 for v in values), Fraction(0))
    spread = n * squares - total**2  # = n^2 * variance
    cv_squared = spread / total**2
    cv = _sqrt_fraction(cv_squared)
    mean = _WIDE.divide(Decimal(total.numerator), Decimal(total.denominator) * n)
    std = _sqrt_decimal(spread / (n * n))
    shown = ratio_text(cv)
    value = f"CV {shown} (mean {yuan(mean)}, std {yuan(std)}, {n} months)"
    if cv_squared <= _fraction(limit) ** 2:
        return Check("H2", "ok", value,
                     f"{n}个月的月收入变异系数为{shown}（月均{yuan(mean)}，标准差{yuan(std)}），"
                     f"不超过{limit}",
                     f"The coefficient of variation of monthly inflow over {n} months is {shown} "
                     f"(mean {yuan(mean)}, standard deviation {yuan(std)}), at most {limit}")
    return Check("H2", "weak", value,
                 f"{n}个月的月收入变异系数为{shown}（月均{yuan(mean)}，标准差{yuan(std)}），"
                 f"超过{limit}，收入波动较大",
                 f"The coefficient of variation of monthly inflow over {n} months is {shown} "
                 f"(mean {yuan(mean)}, standard deviation {yuan(std)}), above {limit}: "
                 "inflow is uneven")


def _sqrt_fraction(value: Fraction) -> Fraction:
    return Fraction(_sqrt_decimal(value))


def _sqrt_decimal(value: Fraction) -> Decimal:
    return _WIDE.sqrt(_WIDE.divide(Decimal(value.numerator), Decimal(value.denominator)))


def check_h3(flow: CashFlow, t: Thresholds) -> Check:
    months = t.lookback_months
    if not flow.balance_known:
        return Check("H3", "weak", "no balances",
                     "银行流水没有余额列，无法核实日终余额是否为负",
                     "The statements show no balances: negative closing balances cannot be checked")
    days = flow.negative_days
    n = len(days)
    shown = ", ".join(d.isoformat() for d in days[:5]) + (" ..." if n > 5 else "")
    shown_zh = "、".join(d.isoformat() for d in days[:5]) + ("等" if n > 5 else "")
    value = f"{n} days" + (f" ({shown})" if n else "")
    unchecked_zh = unchecked_en = ""
    if flow.statements_without_balance:
        unchecked_zh = f"；另有{flow.statements_without_balance}份流水没有余额列，未能核实"
        unchecked_en = (f"; {flow.statements_without_balance} statement(s) without balances could "
                        "not be checked")
    if n <= t.h3_ok_days:
        return Check("H3", "ok", value,
                     f"近{months}个月中有{n}天日终余额为负{unchecked_zh}",
                     f"{n} days of the last {months} months ended with a negative balance{unchecked_en}")
    level = "weak" if n <= t.h3_weak_days else "fail"
    bound_zh = (f"在{t.h3_ok_days + 1}-{t.h3_weak_days}天之间" if level == "weak"
                else f"超过{t.h3_weak_days}天")
    bound_en = (f"between {t.h3_ok_days + 1} and {t.h3_weak_days}" if level == "weak"
                else f"more than {t.h3_weak_days}")
    return Check("H3", level, value,
                 f"近{months}个月中有{n}天日终余额为负（{shown_zh}），{bound_zh}{unchecked_zh}",
                 f"{n} days of the last {months} months ended with a negative balance ({shown}), "
                 f"{bound_en}{unchecked_en}")


def check_h4(flow: CashFlow, requested: Decimal, t: Thresholds) -> Check:
    months, inflow = t.lookback_months, flow.inflow_total
    if inflow <= 0:
        return Check("H4", "fail", f"{yuan(requested)} / {yuan(Decimal(0))}",
                     f"近{months}个月没有资金流入，无法支撑申请金额{yuan(requested)}",
                     f"No money came in during the last {months} months to support the requested "
                     f"{yuan(requested)}")
    ratio = _fraction(requested) / _fraction(inflow)
    shown = ratio_text(ratio)
    value = f"{yuan(requested)} / {yuan(inflow)} = {shown}"
    base_zh = f"申请金额{yuan(requested)}为近{months}个月资金流入{yuan(inflow)}的{shown}倍"
    base_en = (f"The requested {yuan(requested)} is {shown} times the inflow of the last "
               f"{months} months ({yuan(inflow)})")
    if ratio <= _fraction(t.h4_ok_ratio):
        return Check("H4", "ok", value, f"{base_zh}，不超过{t.h4_ok_ratio}",
                     f"{base_en}, at most {t.h4_ok_ratio}")
    if ratio <= _fraction(t.h4_weak_ratio):
        return Check("H4", "weak", value,
                     f"{base_zh}，超过{t.h4_ok_ratio}但不超过{t.h4_weak_ratio}",
                     f"{base_en}, above {t.h4_ok_ratio} but at most {t.h4_weak_ratio}")
    return Check("H4", "fail", value, f"{base_zh}，超过{t.h4_weak_ratio}",
                 f"{base_en}, above {t.h4_weak_ratio}")


def _debtor_key(r: ReceivableInput) -> str:
    code = normalise_uscc(r.debtor_uscc)
    return f"uscc:{code}" if code else f"name:{normalise_name(r.debtor_name)}"


def check_h5(receivables: Sequence[ReceivableInput], t: Thresholds) -> Check:
    pledged = sum((r.amount for r in receivables), Decimal(0))
    totals: dict[str, Decimal] = {}
    names: dict[str, str] = {}
    for r in receivables:
        key = _debtor_key(r)
        totals[key] = totals.get(key, Decimal(0)) + r.amount
        names.setdefault(key, r.debtor_name)
    key = max(totals, key=lambda k: totals[k])  # the first of equals
    share = _fraction(totals[key]) / _fraction(pledged)
    shown, name, debtors = ratio_text(share), names[key], len(totals)
    value = f"{yuan(totals[key])} / {yuan(pledged)} = {shown} ({name}; {debtors} debtors)"
    base_zh = (f"最大债务人“{name}”的应收账款{yuan(totals[key])}占质押总额{yuan(pledged)}的"
               f"{_percent(share)}（共{debtors}个债务人）")
    base_en = (f"The largest debtor '{name}' accounts for {yuan(totals[key])} of the pledged "
               f"{yuan(pledged)}, a share of {shown} ({counted(debtors, 'debtor')})")
    if share <= _fraction(t.h5_max_share):
        return Check("H5", "ok", value, f"{base_zh}，不超过{_percent(_fraction(t.h5_max_share))}",
                     f"{base_en}, at most {t.h5_max_share}")
    return Check("H5", "weak", value, f"{base_zh}，超过{_percent(_fraction(t.h5_max_share))}，集中度较高",
                 f"{base_en}, above {t.h5_max_share}: concentrated on one debtor")


# ---- the entry point ---------------------------------------------------------------------------

StatementLike = Statement | StatementData | Sequence[Transaction]


def _statement_data(statements: Sequence[Any] | None) -> list[StatementData]:
    """Statements, StatementData or lists of transactions (one statement each); a flat list of
    transactions is one statement."""
    items = list(statements or ())
    if items and all(isinstance(item, Transaction) for item in items):
        return [StatementData(tuple(items))]
    result = []
    for item in items:
        if isinstance(item, StatementData):
            result.append(item)
        elif isinstance(item, Statement):
            result.append(StatementData(tuple(item.transactions), item.account_no or ""))
        else:
            result.append(StatementData(tuple(item)))
    return result


def _source_problems(r: ReceivableInput) -> list[str]:
    """A declaration is never an answer; a source must be one R1 knows."""
    source = r.confirmation_source
    if source == DECLARED:
        if r.confirmation != "pending":
            return ["企业声明不能作为债务人的确认或异议"]
        if r.declared not in DECLARATIONS:
            return [f"企业声明的确认状态“{r.declared}”无法识别"]
        return []
    if source not in ANSWER_SOURCES:
        return [f"确认来源“{source}”无法识别"]
    return []


def _input_problems(enterprise: EnterpriseInput, receivables: Sequence[ReceivableInput],
                    requested: Any, as_of: Any, policy: Policy) -> list[str]:
    problems = list(policy.validate())
    if not (enterprise.name or "").strip():
        problems.append("企业名称不能为空")
    if not isinstance(requested, Decimal) or not requested.is_finite() or requested <= 0:
        problems.append(f"申请金额应为大于0的金额，实际为“{requested}”")
    if not isinstance(as_of, date):
        problems.append(f"核验日期应为日期，实际为“{as_of}”")
        return problems
    if not receivables:
        problems.append("没有质押的应收账款")
    for r in receivables:
        where = f"第{r.line}行" if r.line else f"发票{r.invoice_no}"
        if r.confirmation not in CONFIRMATIONS:
            problems.append(f"{where}：确认状态“{r.confirmation}”无法识别")
        problems.extend(f"{where}：{problem}" for problem in _source_problems(r))
        if not isinstance(r.amount, Decimal) or not r.amount.is_finite() or r.amount <= 0:
            problems.append(f"{where}：金额应大于0，实际为“{r.amount}”")
        if r.issue_date > as_of:
            problems.append(f"{where}：开票日期{r.issue_date.isoformat()}晚于核验日期{as_of.isoformat()}")
        if r.due_date < r.issue_date:
            problems.append(f"{where}：到期日{r.due_date.isoformat()}早于开票日期{r.issue_date.isoformat()}")
    return problems


def _same_list_pledges(receivables: Sequence[ReceivableInput]) -> list[list[int]]:
    """For each receivable, the positions (1-based lines where known) of other rows of the list
    with the same debtor (credit code or normalised name) and invoice number."""
    by_key: dict[tuple[str, str], list[int]] = {}
    for index, r in enumerate(receivables):
        invoice = _invoice_key(r.invoice_no)
        keys = {("name:" + normalise_name(r.debtor_name), invoice)}
        if normalise_uscc(r.debtor_uscc):
            keys.add(("uscc:" + normalise_uscc(r.debtor_uscc), invoice))
        for key in keys:
            by_key.setdefault(key, []).append(index)
    others: list[set[int]] = [set() for _ in receivables]
    for indexes in by_key.values():
        if len(indexes) > 1:
            for index in indexes:
                others[index].update(i for i in indexes if i != index)
    return [sorted(receivables[i].line or i + 1 for i in found) for found in others]


def _pledge_keys(pledges: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(_pledge_debtor(debtor), _invoice_key(number)) for debtor, number in pledges}


def _pledged_elsewhere(r: ReceivableInput, pledges: set[tuple[str, str]]) -> bool:
    if not pledges:
        return False
    invoice = _invoice_key(r.invoice_no)
    if (normalise_name(r.debtor_name), invoice) in pledges:
        return True
    code = normalise_uscc(r.debtor_uscc)
    return bool(code) and (code, invoice) in pledges


def _pledge_debtor(debtor: str) -> str:
    """A pledge's debtor key: an 18-character credit code as is, anything else as a name."""
    code = normalise_uscc(debtor)
    if len(code) == 18 and code.isalnum() and code.isascii():
        return code
    return normalise_name(debtor)


def verify(
    *,
    enterprise: EnterpriseInput,
    receivables: Sequence[Any],
    statements: Sequence[Any],
    requested_amount: Decimal,
    as_of: date,
    policy: Policy = DEFAULT_POLICY,
    other_active_pledges: Collection[tuple[str, str]] = frozenset(),
    statement_sha256s: Sequence[str] = (),
    receivables_sha256: str = "",
) -> Report:
    """Grade every receivable (R1-R6), judge the cash flow (H0-H5), classify the request.

    statements: parsed `Statement`s (or lists of `Transaction`, one per statement; a flat list
    of transactions is one statement). receivables: `ReceivableInput`s or
    receivables_file.ReceivableRow. other_active_pledges: (debtor credit code or debtor name,
    invoice number) of receivables pledged in the platform's other active requests.
    Raises VerificationInputError (problems in Chinese) when the inputs cannot be verified.
    """
    items = [ReceivableInput.of(r) for r in receivables]
    problems = _input_problems(enterprise, items, requested_amount, as_of, policy)
    if problems:
        raise VerificationInputError(problems)
    t = policy.thresholds
    window = window_before(as_of, t.lookback_months)
    data = _statement_data(statements)
    own_accounts = OwnAccounts(s.account_no for s in data)
    flow = build_cashflow(data, window, enterprise.name, own_accounts)
    related = [related_reason(r.debtor_name, r.debtor_uscc, enterprise.name, enterprise.uscc,
                              enterprise.related_parties) for r in items]
    flags = detect(FlagInput(
        transactions=flow.transactions, spans=flow.spans, enterprise_name=enterprise.name,
        own_accounts=own_accounts, debtors=[Debtor(r.debtor_name, why) for r, why in zip(items, related, strict=True)],
        window_start=window.start, window_end=window.end, as_of=as_of,
    ), t.flag_limits())

    duplicates = _same_list_pledges(items)
    pledges = _pledge_keys(other_active_pledges)
    results = []
    for r, other_lines, why in zip(items, duplicates, related, strict=True):
        paid = {} if why else flow.debtor_months(r.debtor_name)  # a related party's money is not a payment
        checks = (
            check_r1(r),
            check_r2(r, paid, t),
            check_r3(r, paid, t),
            check_r4(r, as_of, t),
            check_r5(r, other_lines, _pledged_elsewhere(r, pledges)),
            check_r6(r, enterprise),
        )
        results.append(ReceivableResult(r, grade_of(checks), checks))
    health = (
        check_h0(flow, t),
        check_h1(flow, t),
        check_h2(flow, t),
        check_h3(flow, t),
        check_h4(flow, requested_amount, t),
        check_h5(items, t),
    )
    pledged = sum((r.amount for r in items), Decimal(0))
    poor_amount = sum((r.amount for r in results if r.grade == GRADE_ANY_FAIL), Decimal(0))
    classification = classify(results, health, t, flags)
    reasons_zh, reasons_en = explain(classification, results, health, pledged, poor_amount,
                                     requested_amount, flow, t, flags)
    return Report(
        classification=classification,
        policy_version=policy.version,
        policy_effective_from=policy.effective_from,
        thresholds=t.as_dict(),
        as_of=as_of,
        enterprise=enterprise,
        requested_amount=requested_amount,
        pledged_amount=pledged,
        statement_sha256s=tuple(statement_sha256s),
        receivables_sha256=receivables_sha256,
        metrics=_metrics(flow, pledged, poor_amount, requested_amount),
        receivables=tuple(results),
        health=health,
        reasons_zh=tuple(reasons_zh),
        reasons_en=tuple(reasons_en),
        red_flags=flags,
    )


def classify(results: Sequence[ReceivableResult], health: Sequence[Check], t: Thresholds,
             flags: Sequence[RedFlag] = ()) -> str:
    """poor / excellent / mixed, as design.md section 5 says; red flags lower excellent to mixed
    when the policy says so (red_flags_affect_class)."""
    if _poor_reasons(results, health, t):
        return "poor"
    all_best = all(r.grade == GRADE_ALL_OK for r in results)
    weak_h = sum(1 for c in health if c.level == "weak")
    if all_best and weak_h <= t.excellent_max_weak_h and not _flags_lower(flags, t):
        return "excellent"
    return "mixed"


def _flags_lower(flags: Sequence[RedFlag], t: Thresholds) -> bool:
    return bool(flags) and t.red_flags_affect_class


def _poor_share(results: Sequence[ReceivableResult]) -> Fraction:
    pledged = sum((r.amount for r in results), Decimal(0))
    poor = sum((r.amount for r in results if r.grade == GRADE_ANY_FAIL), Decimal(0))
    return _fraction(poor) / _fraction(pledged) if pledged else Fraction(0)


def _poor_reasons(results: Sequence[ReceivableResult], health: Sequence[Check],
                  t: Thresholds) -> list[str]:
    reasons = [c.code for c in health if c.level == "fail"]
    if _poor_share(results) > _fraction(t.poor_share):
        reasons.append("poor_share")
    return reasons


# ---- reasons the enterprise can act on ---------------------------------------------------------


def explain(classification: str, results: Sequence[ReceivableResult], health: Sequence[Check],
            pledged: Decimal, poor_amount: Decimal, requested: Decimal, flow: CashFlow,
            t: Thresholds, flags: Sequence[RedFlag] = ()) -> tuple[list[str], list[str]]:
    """The class in one sentence, then what stands in the way and what to do about it:
    failed checks first, then weak ones; the cash-flow checks before the receivables; then
    each red flag with what the enterprise can show about it."""
    summary = _summarise(classification, results, health, pledged, poor_amount, t, flags)
    zh, en = [_summary_zh(summary, t)], [_summary_en(summary, t)]
    for level in ("fail", "weak"):
        for check in health:
            if check.level == level:
                advice = _health_advice(check, requested, flow, t)
                zh.append(advice[0])
                en.append(advice[1])
        for result in results:
            for check in result.checks:
                if check.code == "R3" and check.level == "weak":
                    continue  # no history: R2 says so and asks for the same statements
                if check.level == level:
                    advice = _receivable_advice(check, result.receivable, t)
                    zh.append(advice[0])
                    en.append(advice[1])
    for flag in flags:
        advice = FLAG_ADVICE[flag.code]
        zh.append(f"红旗{flag.code}（{FLAG_NAMES[flag.code][0]}）：{flag.reason_zh}。{advice[0]}")
        en.append(f"Red flag {flag.code} ({FLAG_NAMES[flag.code][1]}): {flag.reason_en}. {advice[1]}")
    return zh, en


# what the enterprise can show about a red flag (advice.py repeats it for the request page)
FLAG_ADVICE: dict[str, tuple[str, str]] = {
    "F1": ("请说明与该债务人之间资金往返的原因，并提供对应的合同、发票或对账单",
           "Please explain the money that went to this debtor and came back, with the contracts, "
           "invoices or account statements behind it"),
    "F2": ("请提供债务人从其自身账户直接付款的银行流水；自有账户之间的划转和关联方资金不能证明债务人的付款能力",
           "Please provide statements that show the debtor paying from its own accounts; transfers "
           "between your own accounts and related parties' money do not show the debtor's payments"),
    "F3": ("请说明同日等额进出资金的业务背景（如代收代付），并提供相关合同",
           "Please explain the business behind the equal same-day ins and outs (for example "
           "collections on behalf of others), with the contracts"),
    "F4": ("请说明近期资金流入明显增加的原因，并提供对应的销售合同或发票",
           "Please explain the recent rise in inflows, with the sales contracts or invoices behind it"),
}


@dataclass(frozen=True)
class _Summary:
    """The facts behind the class, computed once and then said in zh and in en."""

    classification: str
    counts: dict[str, int]
    total: int
    weak_h: list[str]
    fail_h: list[str]
    pledged: Decimal
    poor_amount: Decimal
    poor_share_exceeded: bool
    not_best: int
    too_many_weak: bool
    flags: int = 0
    flag_codes: list[str] = field(default_factory=list)  # each code once
    flags_lowered: bool = False


def _summarise(classification: str, results: Sequence[ReceivableResult], health: Sequence[Check],
               pledged: Decimal, poor_amount: Decimal, t: Thresholds,
               flags: Sequence[RedFlag] = ()) -> _Summary:
    counts = {g: sum(1 for r in results if r.grade == g) for g in GRADES}
    weak_h = [c.code for c in health if c.level == "weak"]
    return _Summary(
        classification=classification, counts=counts, total=len(results), weak_h=weak_h,
        fail_h=[c.code for c in health if c.level == "fail"], pledged=pledged, poor_amount=poor_amount,
        poor_share_exceeded=_poor_share(results) > _fraction(t.poor_share),
        not_best=len(results) - counts[GRADE_ALL_OK], too_many_weak=len(weak_h) > t.excellent_max_weak_h,
        flags=len(flags), flag_codes=codes(flags), flags_lowered=_flags_lower(flags, t),
    )


def _summary_zh(f: _Summary, t: Thresholds) -> str:
    grades = "，".join(f"{g}{f.counts[g]}笔" for g in GRADES)
    share = _percent(_fraction(f.poor_amount) / _fraction(f.pledged)) if f.pledged else "0.0%"
    text = (f"核验结论：{CLASS_LABELS[f.classification][0]}（{f.classification}）。应收账款{f.total}笔（{grades}），"
            f"评级为差的金额{yuan(f.poor_amount)}占质押总额{yuan(f.pledged)}的{share}；"
            f"现金流检查未通过{len(f.fail_h)}项{_codes_zh(f.fail_h)}，需关注{len(f.weak_h)}项{_codes_zh(f.weak_h)}")
    if f.flags:
        text += f"；资金流向红旗{f.flags}项{_codes_zh(f.flag_codes)}"
    causes = []
    if f.classification == "poor":
        if f.fail_h:
            causes.append(f"现金流检查{'、'.join(f.fail_h)}未通过")
        if f.poor_share_exceeded:
            causes.append(f"评级为差的应收账款金额超过质押总额的{_percent(_fraction(t.poor_share))}")
        text += "。较差的原因：" + "；".join(causes)
    elif f.classification == "mixed":
        if f.not_best:
            causes.append(f"{f.not_best}笔应收账款评级不是优")
        if f.too_many_weak:
            causes.append(f"现金流需关注{len(f.weak_h)}项，超过{t.excellent_max_weak_h}项")
        if f.flags_lowered:
            causes.append(f"出现资金流向红旗{f.flags}项，按核验策略不能评为优质")
        text += "。未达优质：" + "；".join(causes)
    return text


def _codes_zh(codes: list[str]) -> str:
    return f"（{'、'.join(codes)}）" if codes else ""


def _summary_en(f: _Summary, t: Thresholds) -> str:
    grades = ", ".join(f"{f.counts[g]} {GRADE_EN[g]}" for g in GRADES)
    share = ratio_text(_fraction(f.poor_amount) / _fraction(f.pledged)) if f.pledged else "0.00"
    text = (f"Result: {CLASS_LABELS[f.classification][1]}. {counted(f.total, 'receivable')} ({grades}); "
            f"the receivables graded poor "
            f"amount to {yuan(f.poor_amount)}, a share of {share} of the pledged {yuan(f.pledged)}; "
            f"cash-flow checks failed: {', '.join(f.fail_h) or 'none'}; weak: "
            f"{', '.join(f.weak_h) or 'none'}")
    if f.flags:
        text += f"; red flags: {f.flags} ({', '.join(f.flag_codes)})"
    causes = []
    if f.classification == "poor":
        if f.fail_h:
            causes.append(f"cash-flow check(s) {', '.join(f.fail_h)} failed")
        if f.poor_share_exceeded:
            causes.append(f"receivables graded poor exceed {t.poor_share} of the pledged amount")
        text += ". Poor because " + " and ".join(causes)
    elif f.classification == "mixed":
        if f.not_best:
            causes.append(f"{counted(f.not_best, 'receivable')} not graded good")
        if f.too_many_weak:
            causes.append(f"{len(f.weak_h)} weak cash-flow checks, more than {t.excellent_max_weak_h}")
        if f.flags_lowered:
            causes.append(f"{counted(f.flags, 'red flag')}, which the policy does not allow for excellent")
        text += ". Not excellent: " + " and ".join(causes)
    return text


def _health_advice(check: Check, requested: Decimal, flow: CashFlow,
                   t: Thresholds) -> tuple[str, str]:
    months = t.lookback_months
    code = check.code
    if code == "H0":
        return (f"{check.reason_zh}。请补充至少{t.h0_min_months}个月（最好{months}个月）的银行流水",
                f"{check.reason_en}. Please add bank statements covering at least "
                f"{t.h0_min_months} months (ideally {months})")
    if code == "H1":
        return (f"{check.reason_zh}。请补充其他收款账户的银行流水，或说明无收入月份的原因",
                f"{check.reason_en}. Please add the statements of your other receiving accounts, "
                "or explain the months without income")
    if code == "H2":
        return (f"{check.reason_zh}。请补充其他收款账户的流水，或附上收入季节性的说明",
                f"{check.reason_en}. Please add the statements of other receiving accounts, or "
                "explain the seasonality of your income")
    if code == "H3":
        if check.value == "no balances":
            return (f"{check.reason_zh}。请提供含余额列的银行流水",
                    f"{check.reason_en}. Please provide statements that show the balance")
        return (f"{check.reason_zh}。请说明透支原因，或补充其他账户的流水以显示资金充足",
                f"{check.reason_en}. Please explain the overdrafts, or add other accounts' "
                "statements that show sufficient funds")
    if code == "H4":
        inflow = flow.inflow_total
        if inflow <= 0:
            return (f"{check.reason_zh}。请补充显示经营收入的银行流水",
                    f"{check.reason_en}. Please add statements that show your business income")
        limit = t.h4_ok_ratio if check.level == "weak" else t.h4_weak_ratio
        most = (inflow * limit).quantize(_CENT, rounding=ROUND_HALF_UP)
        return (f"{check.reason_zh}。请将申请金额降至{yuan(most)}以内，或补充其他收款账户的流水",
                f"{check.reason_en}. Please lower the requested amount to at most {yuan(most)}, "
                "or add the statements of other receiving accounts")
    return (f"{check.reason_zh}。请增加其他债务人的应收账款，分散集中度",
            f"{check.reason_en}. Please add receivables from other debtors to spread the "
            "concentration")


def _receivable_advice(check: Check, r: ReceivableInput, t: Thresholds) -> tuple[str, str]:
    invoice, debtor = r.invoice_no, r.debtor_name
    prefix_zh = f"发票{invoice}（{debtor}，{yuan(r.amount)}）：{check.reason_zh}。"
    prefix_en = f"Invoice {invoice} ({debtor}, {yuan(r.amount)}): {check.reason_en}. "
    advice = {
        ("R1", "weak"): (f"请联系债务人“{debtor}”确认发票{invoice}的应收账款",
                         f"Please ask '{debtor}' to confirm the receivable of invoice {invoice}"),
        ("R1", "fail"): ("请与债务人解决争议，或从本次申请中移除该笔应收账款",
                         "Please settle the dispute with the debtor, or remove this receivable"),
        ("R2", "weak"): (f"请补充显示“{debtor}”付款的银行流水（如其他收款账户）",
                         f"Please add statements that show payments from '{debtor}' (for "
                         "example of another receiving account)"),
        ("R3", "fail"): ("请补充该债务人更多的付款记录，或改用金额较小的应收账款",
                         "Please add more of this debtor's payments, or pledge a smaller "
                         "receivable"),
        ("R4", "weak"): ("账龄较长，建议改用开票时间较近的应收账款",
                         "It is ageing: a more recent receivable would grade better"),
        ("R4", "fail"): ("请从本次申请中移除该笔应收账款，改用未到期且账龄较短的应收账款",
                         "Please remove this receivable and pledge one that is not yet due and "
                         "more recent"),
        ("R5", "fail"): ("同一应收账款不能重复质押，请移除重复的一笔",
                         "A receivable cannot be pledged twice: please remove the duplicate"),
        ("R6", "fail"): ("关联方（自身）应收账款不能质押，请移除该笔应收账款",
                         "A receivable owed by the enterprise itself cannot be pledged: please "
                         "remove it"),
    }
    zh, en = advice.get((check.code, check.level), ("", ""))
    return prefix_zh + zh, prefix_en + en


# ---- metrics for charts ------------------------------------------------------------------------


def _metrics(flow: CashFlow, pledged: Decimal, poor_amount: Decimal,
             requested: Decimal) -> dict[str, Any]:
    window = flow.window
    return {
        "window": {
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "months": list(window.labels),
        },
        "months": [m.as_dict() for m in flow.months],
        "covered_months": flow.covered_months,
        "inflow_months": flow.inflow_months,
        "inflow_total": _money(flow.inflow_total),
        "outflow_total": _money(flow.outflow_total),
        "negative_balance_days": [d.isoformat() for d in flow.negative_days],
        "requested_amount": _money(requested),
        "pledged_amount": _money(pledged),
        "poor_receivables_amount": _money(poor_amount),
        "statements": {
            "given": flow.statements_given,
            "duplicates_ignored": flow.duplicate_statements,
            "with_balance": flow.statements_with_balance,
            "without_balance": flow.statements_without_balance,
        },
        "duplicate_transactions_ignored": flow.duplicate_transactions,
        "transactions_in_window": flow.transactions_in_window,
        "transactions_outside_window": flow.transactions_outside_window,
    }
