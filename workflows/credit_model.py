"""The credit grade model (issue 14 item 3, design.md sections 3 and 8): plain inputs in, an
explained `Grade` out. Pure: no Flask, no database; `grade()` is the one entry point and is
deterministic (the same inputs give the same grade, reasons in the same order).

The score starts at BASE_SCORE and every point added or taken away is a `Reason` with a code,
the points and one sentence each in zh and en with the figures filled in; the reasons' points
sum exactly to score - BASE_SCORE. Three factors, each capped (FACTOR_CAPS) so that no factor
can dominate: public credit records, the latest verified cash flow, the platform's own
repayment history. Knock-outs (90+ days past due now; an ongoing court enforcement,
dishonest-debtor or serious-violation record) force grade D: their reason takes the score down to KNOCKOUT_CEILING.
An enterprise with no counted record, no verification report and no loan stays ungraded
(score and grade None): products decide through `accepts_ungraded`.

docs/credit-model.md is the reader's version of this module: keep the two in step and bump
MODEL_VERSION (with a change-log line) whenever a point, cap or threshold changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from workflows.credit_records import KINDS, POLARITIES, SOURCES
from workflows.credit_records import SOURCE_LABELS as RECORD_SOURCE_LABELS
from workflows.loans import add_months, dpd_bucket
from workflows.verification.checks_cashflow import window_before
from workflows.verification.formatting import yuan

MODEL_VERSION = "2026.12-1"
BASE_SCORE = 500
SCORE_MIN, SCORE_MAX = 0, 1000

# grade -> lowest score; below the last threshold: D
THRESHOLDS: tuple[tuple[str, int], ...] = (("A", 750), ("B", 600), ("C", 450))
GRADES = ("A", "B", "C", "D")
COLOURS = {"A": "green", "B": "yellow", "C": "red", "D": "black"}
COLOUR_LABELS = {"green": ("绿码", "green"), "yellow": ("黄码", "yellow"),
                 "red": ("红码", "red"), "black": ("黑码", "black")}
KNOCKOUT_CEILING = 449  # a knocked-out score is at most this: one below C's threshold

# The sources, polarities and kinds are the providers' (workflows.credit_records): one table.
# The model's sentences use the labels mid-sentence, so their English starts in lower case;
# any kind not in KINDS is scored by its source and polarity and shown as given.
SOURCE_LABELS = {source: (zh, en.lower()) for source, (zh, en) in RECORD_SOURCE_LABELS.items()}
KIND_LABELS = {code: (kind.zh, kind.en[:1].lower() + kind.en[1:]) for code, kind in KINDS.items()}
STATUSES = ("active", "objected", "repaired", "removed")
ACTIVE, OBJECTED, REPAIRED, REMOVED = STATUSES

# knock-out kinds: (source, kind) -> reason code
KNOCKOUT_KINDS = {
    ("court", "court_enforcement"): "knockout_enforcement",
    ("court", "dishonest_debtor"): "knockout_enforcement",
    ("tax", "tax_violation"): "knockout_dishonest_list",
    ("market_regulator", "serious_violation"): "knockout_dishonest_list",
}

# ---- points (changing any of these is a new MODEL_VERSION) -------------------------------------

# a record of the source's payment kind counts as one paid month; points = cap * months // 12
PAYMENT_KINDS = {"tax": "tax_paid", "social_insurance": "social_insurance_paid",
                 "housing_fund": "housing_fund_paid", "utilities": "utility_paid"}
PAYMENT_POINTS = {"tax": 40, "social_insurance": 40, "housing_fund": 20, "utilities": 20}
PAYMENT_LABELS = {"tax": ("按时纳税", "Taxes paid on time"),
                  "social_insurance": ("按时缴纳社保", "Social insurance paid on time"),
                  "housing_fund": ("按时缴存公积金", "Housing fund paid on time"),
                  "utilities": ("按时缴纳水电气费", "Utility bills paid on time")}
COMMENDATION_POINTS, COMMENDATION_CAP, COMMENDATION_MONTHS = 10, 20, 36
NEGATIVE_POINTS = {"court": -80, "tax": -60, "market_regulator": -40, "social_insurance": -30,
                   "housing_fund": -30, "utilities": -20}

CLASS_POINTS = {"excellent": 100, "mixed": 40, "poor": -60}
CLASS_LABELS = {"excellent": ("优质", "excellent"), "mixed": ("一般", "mixed"), "poor": ("较差", "poor")}
COVERAGE_FULL_POINTS, COVERAGE_HALF_POINTS = 20, 10  # >= 12 covered months; 6-11
INFLOW_OK_POINTS, INFLOW_WEAK_POINTS = 30, 10  # >= 10 months with inflow; 6-9
STABLE_POINTS = 20  # coefficient of variation within the policy's limit (H2 ok)
NO_NEGATIVE_DAY_POINTS, MANY_NEGATIVE_DAYS_POINTS = 20, -30  # 0 days; > 5 days (1-5: 0)

REPAID_POINTS, REPAID_CAP = 30, 90
ON_TIME_POINTS = ((Fraction(1), 60), (Fraction(95, 100), 40), (Fraction(80, 100), 10))
ON_TIME_BELOW_POINTS = -40
WORST_BUCKET_POINTS = {"1-30": -20, "31-60": -60, "61-90": -120, "90+": -200}
CURRENT_BUCKET_POINTS = {"1-30": -40, "31-60": -100, "61-90": -160, "90+": -200}
RESTRUCTURED_POINTS, RESTRUCTURED_CAP = -30, -60

FACTORS = ("records", "cashflow", "repayment")
FACTOR_LABELS = {"records": ("公共信用记录", "public credit records"),
                 "cashflow": ("核验现金流", "verified cash flow"),
                 "repayment": ("平台还款记录", "platform repayment history")}
FACTOR_CAPS = {"records": (-200, 140), "cashflow": (-90, 150), "repayment": (-200, 150)}

# every code a Reason may carry (tests check each one has both languages)
REASON_CODES = (
    "tax_paid", "social_insurance_paid", "housing_fund_paid", "utilities_paid",
    "commendation", "negative_record", "objection_pending",
    "cashflow_absent", "cashflow_stale", "cashflow_class", "cashflow_coverage",
    "cashflow_inflow_months", "cashflow_stability", "cashflow_negative_days",
    "repayment_absent", "loans_repaid", "instalments_on_time", "worst_past_due",
    "current_past_due", "restructured_loans",
    "cap_records", "cap_cashflow", "cap_repayment",
    "knockout_past_due_90", "knockout_enforcement", "knockout_dishonest_list",
    "insufficient_data",
)


@dataclass(frozen=True)
class Parameters:
    """The model's periods (configuration; the version pins the defaults)."""

    retention_years: int = 5  # a negative record leaves the score this long after ended_on
    recent_years: int = 2  # a negative record ended longer ago than this counts half
    payment_window_months: int = 12  # whole calendar months looked at for paid months
    report_max_age_months: int = 12  # an older verification report earns nothing


DEFAULT_PARAMETERS = Parameters()


# ---- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditRecord:
    """A fact pushed by a data provider. `status` follows objections and repair: objected (an
    objection is open), repaired, removed; `ended_on` is when the event ended (None: ongoing)."""

    kind: str
    source: str
    polarity: str
    occurred_on: date
    amount: Decimal | None = None
    ended_on: date | None = None
    status: str = ACTIVE
    ref: str = ""  # the record's id, for the reasons; optional

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"unknown source {self.source!r}")
        if self.polarity not in POLARITIES:
            raise ValueError(f"unknown polarity {self.polarity!r}")
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if self.ended_on is not None and self.ended_on < self.occurred_on:
            raise ValueError("ended_on is before occurred_on")
        if self.amount is not None and not isinstance(self.amount, Decimal):
            raise ValueError("amount must be a Decimal")


@dataclass(frozen=True)
class CashFlowMetrics:
    """What the grade reads of the latest verification report (workflows.verification.policy).
    `negative_balance_days` None: the statements showed no balances; `inflow_stable` is the H2
    check being ok (coefficient of variation within the policy's limit)."""

    report_as_of: date
    classification: str  # excellent | mixed | poor
    covered_months: int  # H0
    inflow_months: int  # H1
    inflow_stable: bool  # H2 ok
    negative_balance_days: int | None  # H3
    lookback_months: int = 12
    policy_version: str = ""

    def __post_init__(self):
        if self.classification not in CLASS_POINTS:
            raise ValueError(f"unknown classification {self.classification!r}")
        if min(self.covered_months, self.inflow_months, self.lookback_months) < 0:
            raise ValueError("month counts cannot be negative")
        if self.negative_balance_days is not None and self.negative_balance_days < 0:
            raise ValueError("negative_balance_days cannot be negative")


def cashflow_from_report(report: Any) -> CashFlowMetrics:
    """The metrics of a workflows.verification.policy.Report."""
    metrics = report.metrics
    h3 = report.health_check("H3")
    return CashFlowMetrics(
        report_as_of=report.as_of,
        classification=report.classification,
        covered_months=int(metrics["covered_months"]),
        inflow_months=int(metrics["inflow_months"]),
        inflow_stable=report.health_check("H2").level == "ok",
        negative_balance_days=None if h3.value == "no balances"
        else len(metrics["negative_balance_days"]),
        lookback_months=len(metrics["window"]["months"]),
        policy_version=report.policy_version,
    )


@dataclass(frozen=True)
class RepaymentHistory:
    """The enterprise's loans on the platform, as workflows.loans computes them: days past due
    (`Allocation.days_past_due` now, `max_days_late` at worst) and their dpd_bucket."""

    loans: int = 0
    repaid_in_full: int = 0
    instalments_due: int = 0  # instalments whose due-by day has passed
    instalments_on_time: int = 0  # of those, covered on or before due-by
    max_days_past_due: int = 0  # the worst any instalment ever reached
    current_days_past_due: int = 0  # on the evaluation date
    restructured_loans: int = 0
    cured_late_instalments: int = 0  # late instalments paid in full since

    def __post_init__(self):
        values = (self.loans, self.repaid_in_full, self.instalments_due, self.instalments_on_time,
                  self.max_days_past_due, self.current_days_past_due, self.restructured_loans,
                  self.cured_late_instalments)
        if min(values) < 0:
            raise ValueError("repayment counts cannot be negative")
        if self.repaid_in_full > self.loans or self.restructured_loans > self.loans:
            raise ValueError("more repaid or restructured loans than loans")
        if self.instalments_on_time > self.instalments_due:
            raise ValueError("more instalments on time than due")
        if self.current_days_past_due > self.max_days_past_due:
            raise ValueError("current days past due exceed the maximum")

    @property
    def worst_bucket(self) -> str | None:
        return dpd_bucket(self.max_days_past_due)

    @property
    def current_bucket(self) -> str | None:
        return dpd_bucket(self.current_days_past_due)


@dataclass(frozen=True)
class GradeInputs:
    evaluation_date: date
    records: tuple[CreditRecord, ...] = ()
    cashflow: CashFlowMetrics | None = None  # None: no verification report
    repayment: RepaymentHistory | None = None  # None (or 0 loans): no loan on the platform
    parameters: Parameters = DEFAULT_PARAMETERS


# ---- outputs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    code: str
    points: int
    zh: str
    en: str
    factor: str = ""  # records | cashflow | repayment | "" (knock-outs, no data)

    def text(self, locale: str = "zh") -> str:
        return self.en if str(locale).startswith("en") else self.zh

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "points": self.points, "zh": self.zh, "en": self.en,
                "factor": self.factor}


@dataclass(frozen=True)
class Grade:
    model_version: str
    evaluation_date: date
    score: int | None  # None: ungraded
    grade: str | None  # A | B | C | D | None
    colour: str | None  # green | yellow | red | black | None
    reasons: tuple[Reason, ...]
    knocked_out: bool = False
    factor_points: tuple[tuple[str, int], ...] = field(default=())

    @property
    def graded(self) -> bool:
        return self.grade is not None

    def as_dict(self) -> dict[str, Any]:
        return {"model_version": self.model_version,
                "evaluation_date": self.evaluation_date.isoformat(),
                "base": BASE_SCORE, "score": self.score, "grade": self.grade,
                "colour": self.colour, "knocked_out": self.knocked_out,
                "factor_points": dict(self.factor_points),
                "reasons": [r.as_dict() for r in self.reasons]}


# ---- helpers -----------------------------------------------------------------------------------


def pts(points: int) -> str:
    """+40, -30, 0."""
    return f"{points:+d}" if points else "0"


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def grade_for(score: int) -> str:
    for name, lowest in THRESHOLDS:
        if score >= lowest:
            return name
    return "D"


def _kind(record: CreditRecord) -> tuple[str, str]:
    return KIND_LABELS.get(record.kind, (record.kind, record.kind.replace("_", " ")))


def _describe(record: CreditRecord) -> tuple[str, str]:
    src_zh, src_en = SOURCE_LABELS[record.source]
    kind_zh, kind_en = _kind(record)
    zh = f"{src_zh}记录：{kind_zh}（{record.occurred_on.isoformat()}"
    en = f"{src_en} record: {kind_en} ({record.occurred_on.isoformat()}"
    if record.ended_on is not None:
        zh += f"至{record.ended_on.isoformat()}"
        en += f" to {record.ended_on.isoformat()}"
    zh += "）"
    en += ")"
    if record.amount is not None:
        zh += f"，金额{yuan(record.amount)}"
        en += f", amount {yuan(record.amount)}"
    return zh, en


def _order(record: CreditRecord) -> tuple:
    return (SOURCES.index(record.source), record.occurred_on, record.kind, record.ended_on or date.max,
            record.ref, str(record.amount))


def record_expired(record: CreditRecord, on: date, p: Parameters = DEFAULT_PARAMETERS) -> bool:
    """A negative record leaves the score (and every outward view) retention_years after it ended."""
    return (record.polarity == "negative" and record.ended_on is not None
            and on >= add_years(record.ended_on, p.retention_years))


def record_counts(record: CreditRecord, on: date, p: Parameters = DEFAULT_PARAMETERS) -> bool:
    """Whether the record enters the score on `on` (the objected case aside: see _records)."""
    if record.status in (REPAIRED, REMOVED) or record.occurred_on > on:
        return False
    if record.status == OBJECTED and record.polarity == "negative":
        return False
    return not record_expired(record, on, p)


def _capped(factor: str, reasons: list[Reason]) -> list[Reason]:
    low, high = FACTOR_CAPS[factor]
    total = sum(r.points for r in reasons)
    if low <= total <= high:
        return reasons
    bound = high if total > high else low
    zh_name, en_name = FACTOR_LABELS[factor]
    word_zh, word_en = ("上限", "cap") if total > high else ("下限", "floor")
    return reasons + [Reason(
        f"cap_{factor}", bound - total,
        f"{zh_name}合计{pts(total)}，超过{word_zh}{pts(bound)}，按{word_zh}计，{pts(bound - total)}",
        f"{en_name.capitalize()} total {pts(total)}, beyond the {word_en} of {pts(bound)}: "
        f"counted at the {word_en}, {pts(bound - total)}",
        factor)]


# ---- factor 1: public credit records -----------------------------------------------------------


def _records(records: Sequence[CreditRecord], on: date, p: Parameters) -> list[Reason]:
    reasons: list[Reason] = []
    window = window_before(on, p.payment_window_months)
    months = p.payment_window_months
    ordered = sorted(records, key=_order)
    counted = [r for r in ordered if record_counts(r, on, p)]
    for source, cap in PAYMENT_POINTS.items():
        paid = {(r.occurred_on.year, r.occurred_on.month) for r in counted
                if r.source == source and r.kind == PAYMENT_KINDS[source]
                and r.polarity == "positive" and window.contains(r.occurred_on)}
        if not paid:
            continue
        n = len(paid)
        points = cap * n // months
        zh, en = PAYMENT_LABELS[source]
        reasons.append(Reason(
            f"{source}_paid", points,
            f"近{months}个月{zh} {n} 个月，{pts(points)}",
            f"{en} for {n} months in the last {months}, {pts(points)}",
            "records"))
    commended = [r for r in counted if r.polarity == "positive"
                 and r.kind != PAYMENT_KINDS.get(r.source)
                 and on < add_months(r.occurred_on, COMMENDATION_MONTHS)]
    total = 0
    for r in commended:
        points = max(0, min(COMMENDATION_POINTS, COMMENDATION_CAP - total))
        total += points
        zh, en = _describe(r)
        reasons.append(Reason("commendation", points, f"正面{zh}，{pts(points)}",
                              f"Positive {en}, {pts(points)}", "records"))
    for r in counted:
        if r.polarity != "negative":
            continue
        full = NEGATIVE_POINTS[r.source]
        recent = r.ended_on is None or on < add_years(r.ended_on, p.recent_years)
        points = full if recent else int(full / 2)
        zh, en = _describe(r)
        if r.ended_on is None or r.ended_on > on:
            when_zh, when_en = "尚未结束", "still ongoing"
        elif recent:
            when_zh, when_en = f"结束未满{p.recent_years}年", f"ended less than {p.recent_years} years ago"
        else:
            when_zh = f"结束已满{p.recent_years}年，减半计"
            when_en = f"ended {p.recent_years} or more years ago, counted at half"
        reasons.append(Reason("negative_record", points, f"负面{zh}，{when_zh}，{pts(points)}",
                              f"Negative {en}, {when_en}, {pts(points)}", "records"))
    for r in ordered:
        if (r.status == OBJECTED and r.polarity == "negative" and r.occurred_on <= on
                and not record_expired(r, on, p)):
            zh, en = _describe(r)
            reasons.append(Reason(
                "objection_pending", 0,
                f"负面{zh}，异议处理中，处理期间不计入评分，0",
                f"Negative {en}, under objection: not counted while the objection is open, 0",
                "records"))
    return _capped("records", reasons) if reasons else reasons


# ---- factor 2: the latest verified cash flow ---------------------------------------------------


def _cashflow(c: CashFlowMetrics | None, on: date, p: Parameters) -> list[Reason]:
    if c is None:
        return [Reason("cashflow_absent", 0, "暂无现金流核验报告，本项不计分，0",
                       "No cash-flow verification report yet: no points for this factor, 0",
                       "cashflow")]
    if c.report_as_of > on:
        raise ValueError("the verification report is dated after the evaluation date")
    age = p.report_max_age_months
    if on >= add_months(c.report_as_of, age):
        return [Reason(
            "cashflow_stale", 0,
            f"最近的现金流核验报告（{c.report_as_of.isoformat()}）已超过{age}个月，本项不计分，0",
            f"The latest cash-flow verification report ({c.report_as_of.isoformat()}) is more "
            f"than {age} months old: no points for this factor, 0", "cashflow")]
    reasons = []
    zh, en = CLASS_LABELS[c.classification]
    points = CLASS_POINTS[c.classification]
    reasons.append(Reason(
        "cashflow_class", points,
        f"现金流核验（{c.report_as_of.isoformat()}）资产质量为{zh}，{pts(points)}",
        f"Cash-flow verification ({c.report_as_of.isoformat()}) found the assets {en}, {pts(points)}",
        "cashflow"))
    n, m = c.covered_months, c.lookback_months
    points = (COVERAGE_FULL_POINTS if n >= 12 else COVERAGE_HALF_POINTS if n >= 6 else 0)
    reasons.append(Reason("cashflow_coverage", points,
                          f"银行流水覆盖近{m}个月中的 {n} 个月，{pts(points)}",
                          f"Bank statements cover {n} of the last {m} months, {pts(points)}",
                          "cashflow"))
    n = c.inflow_months
    points = INFLOW_OK_POINTS if n >= 10 else INFLOW_WEAK_POINTS if n >= 6 else 0
    reasons.append(Reason("cashflow_inflow_months", points,
                          f"近{m}个月中有 {n} 个月有资金流入，{pts(points)}",
                          f"Money came in during {n} of the last {m} months, {pts(points)}",
                          "cashflow"))
    if c.inflow_stable:
        reasons.append(Reason("cashflow_stability", STABLE_POINTS,
                              f"月收入稳定（变异系数在政策限度内），{pts(STABLE_POINTS)}",
                              "Monthly inflow is steady (coefficient of variation within the "
                              f"policy's limit), {pts(STABLE_POINTS)}", "cashflow"))
    else:
        reasons.append(Reason("cashflow_stability", 0, "月收入波动较大或无法计算，0",
                              "Monthly inflow is uneven or cannot be measured, 0", "cashflow"))
    days = c.negative_balance_days
    if days is None:
        reasons.append(Reason("cashflow_negative_days", 0, "银行流水没有余额列，无法核实日终余额，0",
                              "The statements show no balances: closing balances cannot be "
                              "checked, 0", "cashflow"))
    else:
        points = (NO_NEGATIVE_DAY_POINTS if days == 0 else 0 if days <= 5
                  else MANY_NEGATIVE_DAYS_POINTS)
        reasons.append(Reason("cashflow_negative_days", points,
                              f"近{m}个月日终余额为负 {days} 天，{pts(points)}",
                              f"{days} days of the last {m} months ended with a negative "
                              f"balance, {pts(points)}", "cashflow"))
    return _capped("cashflow", reasons)


# ---- factor 3: repayment on the platform -------------------------------------------------------


def _repayment(h: RepaymentHistory | None) -> list[Reason]:
    if h is None or h.loans == 0:
        return [Reason("repayment_absent", 0, "平台上暂无借款记录，本项不计分，0",
                       "No loan on the platform yet: no points for this factor, 0", "repayment")]
    reasons = []
    points = min(REPAID_CAP, REPAID_POINTS * h.repaid_in_full)
    reasons.append(Reason(
        "loans_repaid", points,
        f"平台借款 {h.loans} 笔，已还清 {h.repaid_in_full} 笔（每笔+{REPAID_POINTS}，"
        f"最多+{REPAID_CAP}），{pts(points)}",
        f"{h.repaid_in_full} of {h.loans} loans on the platform repaid in full "
        f"(+{REPAID_POINTS} each, at most +{REPAID_CAP}), {pts(points)}", "repayment"))
    if h.instalments_due:
        ratio = Fraction(h.instalments_on_time, h.instalments_due)
        points = next((p for lowest, p in ON_TIME_POINTS if ratio >= lowest), ON_TIME_BELOW_POINTS)
        reasons.append(Reason(
            "instalments_on_time", points,
            f"已到期 {h.instalments_due} 期中按时还款 {h.instalments_on_time} 期，{pts(points)}",
            f"{h.instalments_on_time} of {h.instalments_due} instalments due were paid on time, "
            f"{pts(points)}", "repayment"))
    bucket = h.worst_bucket
    if bucket is not None:
        points = WORST_BUCKET_POINTS[bucket]
        reasons.append(Reason(
            "worst_past_due", points,
            f"历史最长逾期 {h.max_days_past_due} 天（{bucket}天档），已结清逾期 "
            f"{h.cured_late_instalments} 期，{pts(points)}",
            f"Worst delay {h.max_days_past_due} days past due (bucket {bucket}), "
            f"{h.cured_late_instalments} late instalments cured since, {pts(points)}", "repayment"))
    bucket = h.current_bucket
    if bucket is not None:
        points = CURRENT_BUCKET_POINTS[bucket]
        reasons.append(Reason(
            "current_past_due", points,
            f"目前逾期 {h.current_days_past_due} 天（{bucket}天档），{pts(points)}",
            f"Currently {h.current_days_past_due} days past due (bucket {bucket}), {pts(points)}",
            "repayment"))
    if h.restructured_loans:
        points = max(RESTRUCTURED_CAP, RESTRUCTURED_POINTS * h.restructured_loans)
        reasons.append(Reason(
            "restructured_loans", points,
            f"重组借款 {h.restructured_loans} 笔（每笔{RESTRUCTURED_POINTS}，最多{RESTRUCTURED_CAP}），"
            f"{pts(points)}",
            f"{h.restructured_loans} restructured loans ({RESTRUCTURED_POINTS} each, at most "
            f"{RESTRUCTURED_CAP}), {pts(points)}", "repayment"))
    return _capped("repayment", reasons)


# ---- knock-outs --------------------------------------------------------------------------------


def _knockouts(inputs: GradeInputs) -> list[tuple[str, str, str]]:
    """(code, zh, en) of each knock-out that applies, in a fixed order."""
    found = []
    h = inputs.repayment
    if h is not None and h.current_bucket == "90+":
        found.append(("knockout_past_due_90",
                      f"目前逾期 {h.current_days_past_due} 天，超过90天",
                      f"currently {h.current_days_past_due} days past due, more than 90"))
    on, p = inputs.evaluation_date, inputs.parameters
    for r in sorted(inputs.records, key=_order):
        code = KNOCKOUT_KINDS.get((r.source, r.kind))
        if (code and r.polarity == "negative" and record_counts(r, on, p)
                and (r.ended_on is None or r.ended_on > on)):
            zh, en = _describe(r)
            found.append((code, f"{zh}，尚未结束", f"{en}, still ongoing"))
    return found


# ---- the grade ---------------------------------------------------------------------------------


def grade(inputs: GradeInputs) -> Grade:
    """The grade, score and reasons of `inputs` under MODEL_VERSION."""
    on, p = inputs.evaluation_date, inputs.parameters
    records = _records(inputs.records, on, p)
    cashflow = _cashflow(inputs.cashflow, on, p)
    repayment = _repayment(inputs.repayment)
    has_records = any(r.code != "objection_pending" for r in records)  # a counted, scored record
    has_loans = inputs.repayment is not None and inputs.repayment.loans > 0
    if not has_records and inputs.cashflow is None and not has_loans:
        no_data = Reason("insufficient_data", 0,
                         "数据不足：无计入评分的信用记录、无现金流核验报告、无平台借款，暂不评级，0",
                         "Insufficient data: no counted credit record, no cash-flow verification "
                         "report and no loan on the platform: not graded yet, 0")
        return Grade(MODEL_VERSION, on, None, None, None, tuple(records) + (no_data,))
    reasons = records + cashflow + repayment
    factor_points = tuple((f, sum(r.points for r in reasons if r.factor == f)) for f in FACTORS)
    score = BASE_SCORE + sum(r.points for r in reasons)
    knockouts = _knockouts(inputs)
    for index, (code, zh, en) in enumerate(knockouts):
        points = min(0, KNOCKOUT_CEILING - score) if index == 0 else 0
        score += points
        reasons.append(Reason(code, points, f"否决项：{zh}，等级直接评为D，{pts(points)}",
                              f"Knock-out: {en}; graded D regardless, {pts(points)}"))
    assert SCORE_MIN <= score <= SCORE_MAX, score  # the caps keep it so
    letter = grade_for(score)
    return Grade(MODEL_VERSION, on, score, letter, COLOURS[letter], tuple(reasons),
                 bool(knockouts), factor_points)
