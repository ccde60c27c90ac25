"""Products versus a financing request: hard criteria filter, soft criteria rank (design.md §6).

Every product gets a `Match` that explains itself criterion by criterion, in zh and en, with
the numbers, so a credit officer or an enterprise can see why a product fits or fails.

Hard criteria (all must pass for the product to be eligible), in this order:
  amount, term, grade, industry, region, guarantee, debtor_confirmation, debtor_kind,
  contract_number.

  - grade: A > B > C > D. min_grade "B" admits A and B; min_grade None admits every grade.
    An ungraded enterprise (grade None) passes only where the product accepts_ungraded.
  - industry: the request's GB/T 4754 division (first two digits; a leading section letter such
    as the "C" of "C3911" is ignored) must be among the product's divisions; empty means all.
  - region: the request's 6-digit division code must start with one of the product's prefixes
    (2, 4 or 6 digits: province, city, county); empty means all.
  - The pledged receivables must fit the product (`RequestProfile` carries the facts, computed
    once per request): debtor_confirmation, every one confirmed by its debtor, where the product
    asks for it or is a factoring product (保理); debtor_kind, every debtor of a kind the product
    accepts (GB 32100 characters 1-2 of its credit code, see workflows.identifiers.debtor_kind):
    the product's own list, else its type's (政采贷: government bodies and public institutions),
    else every kind; contract_number, every one with a contract number, for order and contract
    loans (订单贷, 合同贷). A rule the product asks for fails while nothing is pledged.

Soft criteria (never fail; they rank the eligible products), in this order:
  rate, turnaround, acceptance. Each yields a sub-score s in 0..1:

  - rate: on the product's rate_min (its best rate). When a list is ranked, 1 for the lowest
    rate_min among the compared products, 0 for the highest, linear between. Alone (or when all
    compared products quote the same floor) a fixed scale is used: 2.50% -> 1, 12.00% -> 0,
    clamped.
  - turnaround: the institution's median days from routing to offer: 1 at <= 1 day, 0 at >= 30
    days, linear between.
  - acceptance: the share of the institution's offers that enterprises accepted, as is.
  - no record for the institution (or no figure yet): the neutral value 0.5, and the sentence
    says so.

  The match score is the weighted mean: score = sum(w_i * s_i) / sum(w_i), with `Weights`
  (default rate 0.5, turnaround 0.3, acceptance 0.2). A soft criterion's `score` is its
  weighted contribution w_i * s_i / sum(w_i), so the contributions add up to the match score.

Ranking (`rank`): eligible products first, by score descending; then the ineligible, those
failing fewest hard criteria first, then by score descending. Ties are broken by product_id
(then version_id), so the order is deterministic.

Money is Decimal throughout and shown as ¥1,234,567.89 (half up). Scores are floats; they are
not money.

Speed (targets: rank() of 10,000 products under 20 ms, and a p95 within twice the median with
a large live heap; see docs/performance.md): rank() decides eligibility and score for every
product with plain comparisons and writes a match's sentences only when its `criteria` are first
read. Then, within one request, products that agree on the fields a hard criterion reads share
one Criterion; the soft criteria do not depend on the request at all and are cached across calls
(keyed on rates, bounds, record and weights). tests/workflows/test_matching_equivalence.py holds
rank() to a one-product-at-a-time reference and to the output recorded before this was done.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache
from operator import attrgetter

from workflows.collector import collector_paused
from workflows.credit_model import COLOUR_LABELS
from workflows.identifiers import DEBTOR_KIND_LABELS, DEBTOR_KINDS
from workflows.industries import industry_name
from workflows.regions import region_name

PRODUCT_TYPES: dict[str, tuple[str, str]] = {
    "receivable_pledge": ("应收账款质押", "Receivable pledge"),
    "factoring": ("保理", "Factoring"),
    "order_loan": ("订单贷", "Order loan"),
    "contract_loan": ("合同贷", "Contract loan"),
    "gov_procurement_loan": ("政采贷", "Government procurement loan"),
    "credit_loan": ("信用贷", "Credit loan"),
    "guaranteed_loan": ("担保贷", "Guaranteed loan"),
}
INSTITUTION_KINDS = frozenset({"bank", "guarantor"})
GRADES = ("A", "B", "C", "D")  # best first
GRADE_RANK = {grade: index for index, grade in enumerate(GRADES)}

HARD_CRITERIA = ("amount", "term", "grade", "industry", "region", "guarantee", "debtor_confirmation", "debtor_kind",
                 "contract_number")
SOFT_CRITERIA = ("rate", "turnaround", "acceptance")

NEUTRAL = 0.5  # the sub-score used when an institution has no history yet
FIXED_RATE_SCALE = (Decimal("2.50"), Decimal("12.00"))  # rate_min at which the score is 1 and 0
TURNAROUND_BEST_DAYS = 1.0
TURNAROUND_WORST_DAYS = 30.0
MAX_INSTITUTIONS = 3  # routing sends a request to at most this many institutions

# What a product's type says about the pledged receivables, whatever the product's own settings.
TYPE_DEBTOR_KINDS: dict[str, frozenset[str]] = {"gov_procurement_loan": frozenset({"public_body"})}
CONFIRMATION_TYPES = frozenset({"factoring"})  # the debtor's confirmation is what factoring buys
CONTRACT_NUMBER_TYPES = frozenset({"order_loan", "contract_loan"})  # the loan follows a contract

_DECIMAL = Context(prec=28)  # a fixed context: scores do not depend on the caller's context
_CENT = Decimal("0.01")


# ---- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductTerms:
    """One published version of a product, as the matcher sees it."""

    product_id: int
    version_id: int
    institution_id: int
    institution_kind: str  # bank | guarantor
    product_type: str  # a key of PRODUCT_TYPES
    amount_min: Decimal
    amount_max: Decimal
    term_min_days: int
    term_max_days: int
    rate_min: Decimal  # annual %, e.g. Decimal("3.45")
    rate_max: Decimal
    min_grade: str | None  # A..D; None: no grade requirement
    accepts_ungraded: bool
    industries: frozenset[str]  # GB/T 4754 divisions; empty: all
    regions: frozenset[str]  # division-code prefixes of 2, 4 or 6 digits; empty: all
    requires_guarantee: bool
    requires_debtor_confirmation: bool
    debtor_kinds: frozenset[str] = frozenset()  # keys of DEBTOR_KINDS; empty: the type's default

    def __post_init__(self) -> None:
        if self.product_type not in PRODUCT_TYPES:
            raise ValueError(f"unknown product type {self.product_type!r}")
        if self.institution_kind not in INSTITUTION_KINDS:
            raise ValueError(f"unknown institution kind {self.institution_kind!r}")
        if self.min_grade is not None and self.min_grade not in GRADE_RANK:
            raise ValueError(f"unknown grade {self.min_grade!r}")
        if not self.debtor_kinds <= DEBTOR_KINDS.keys():
            raise ValueError(f"unknown debtor kinds {sorted(self.debtor_kinds - DEBTOR_KINDS.keys())!r}")

    @property
    def accepted_debtor_kinds(self) -> frozenset[str]:
        return accepted_debtor_kinds(self.product_type, self.debtor_kinds)

    @property
    def needs_debtor_confirmation(self) -> bool:
        return needs_debtor_confirmation(self.product_type, self.requires_debtor_confirmation)

    @property
    def needs_contract_numbers(self) -> bool:
        return needs_contract_numbers(self.product_type)


def accepted_debtor_kinds(product_type: str, chosen: Iterable[str] = ()) -> frozenset[str]:
    """The debtor kinds a product accepts (empty: every kind): those the institution chose,
    within what its type allows (a 政采贷 accepts public bodies only, whatever was chosen)."""
    chosen = frozenset(chosen)
    implied = TYPE_DEBTOR_KINDS.get(product_type)
    if implied is None:
        return chosen
    return (chosen & implied) or implied


def needs_debtor_confirmation(product_type: str, required: bool) -> bool:
    """Whether every pledged receivable must be confirmed by its debtor (always for factoring)."""
    return required or product_type in CONFIRMATION_TYPES


def needs_contract_numbers(product_type: str) -> bool:
    """Whether every pledged receivable must name its contract (order and contract loans)."""
    return product_type in CONTRACT_NUMBER_TYPES


@dataclass(frozen=True)
class RequestProfile:
    """What the matcher needs to know about a financing request and its enterprise."""

    request_id: int
    amount: Decimal
    term_days: int
    grade: str | None  # A..D; None: not yet graded
    industry_code: str  # GB/T 4754
    region_code: str  # 6-digit administrative division code
    has_guarantee: bool
    all_debtors_confirmed: bool  # every pledged receivable confirmed by its debtor
    debtor_kinds: frozenset[str] = frozenset()  # the kinds of the pledged receivables' debtors
    all_have_contract_numbers: bool = False  # every pledged receivable names its contract
    grade_colour: str | None = None  # the grade's colour code (green..black), shown beside it

    def __post_init__(self) -> None:
        if self.grade is not None and self.grade not in GRADE_RANK:
            raise ValueError(f"unknown grade {self.grade!r}")
        if self.grade_colour is not None and self.grade_colour not in COLOUR_LABELS:
            raise ValueError(f"unknown grade colour {self.grade_colour!r}")
        if not self.debtor_kinds <= DEBTOR_KIND_LABELS.keys():
            raise ValueError(f"unknown debtor kinds {sorted(self.debtor_kinds - DEBTOR_KIND_LABELS.keys())!r}")


@dataclass(frozen=True)
class InstitutionRecord:
    """An institution's history on the platform; None where there is no data yet."""

    institution_id: int
    median_turnaround_days: float | None
    acceptance_rate: float | None  # 0..1


@dataclass(frozen=True)
class Weights:
    """How much each soft criterion counts in the score; only the proportions matter."""

    rate: float = 0.5
    turnaround: float = 0.3
    acceptance: float = 0.2

    def __post_init__(self) -> None:
        if min(self.rate, self.turnaround, self.acceptance) < 0:
            raise ValueError("weights must not be negative")
        if self.total <= 0:
            raise ValueError("at least one weight must be positive")

    @property
    def total(self) -> float:
        return self.rate + self.turnaround + self.acceptance


DEFAULT_WEIGHTS = Weights()


# ---- outputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion's verdict. value/expected are compact and language-neutral; zh/en say it."""

    code: str
    hard: bool
    passed: bool  # soft criteria always pass
    value: str  # the request's (or, for soft criteria, the product's/institution's) figure
    expected: str  # the product's requirement (soft criteria: the scale used)
    zh: str
    en: str
    score: float | None  # soft: weighted contribution to the match score; hard: None

    def text(self, locale: str = "zh") -> str:
        return self.en if locale.startswith("en") else self.zh


class _Deferred:
    """Where a Match made by rank() finds its explanation until it is first read."""

    __slots__ = ("_explainer", "_product", "_history")


@dataclass(frozen=True, slots=True)
class Match(_Deferred):
    """A product measured against a request.

    `rank()` works out eligibility and score for every product but writes the sentences of
    `criteria` only when they are first read (most callers read a few matches, issue 15); the
    value is the same as if it had been built at once, and so are equality, hashing, repr and
    pickling, which all read it.
    """

    product_id: int
    version_id: int
    institution_id: int
    eligible: bool
    score: float  # 0..1, from the soft criteria
    criteria: tuple[Criterion, ...]  # hard first, in HARD_CRITERIA then SOFT_CRITERIA order

    @property
    def failures(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if not c.passed)

    def __getattr__(self, name: str):  # only called for a slot not yet set
        if name == "criteria":
            try:
                explainer = self._explainer
            except AttributeError:
                pass
            else:
                criteria = explainer.criteria(self._product, self._history)
                object.__setattr__(self, "criteria", criteria)
                for source in _Deferred.__slots__:  # the request's memo is no longer needed here
                    try:
                        object.__delattr__(self, source)
                    except AttributeError:  # another thread got there first: same criteria
                        pass
                return criteria
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


# Ranking builds thousands of these per request. A frozen dataclass's __init__ sets each field
# through object.__setattr__ (about 1 µs per object here). These drafts have the same slots, take
# plain assignments and then become the real class: the objects are the same (equal, hashable,
# refusing assignment), and a slotted object is one allocation for the garbage collector to
# track where an object with a __dict__ is two.


class _CriterionDraft:
    __slots__ = Criterion.__slots__


class _MatchDraft(_Deferred):
    __slots__ = Match.__slots__


def _criterion(code: str, hard: bool, passed: bool, value: str, expected: str, zh: str, en: str,
               score: float | None) -> Criterion:
    criterion = _CriterionDraft()
    criterion.code = code
    criterion.hard = hard
    criterion.passed = passed
    criterion.value = value
    criterion.expected = expected
    criterion.zh = zh
    criterion.en = en
    criterion.score = score
    criterion.__class__ = Criterion
    return criterion


def _match(product: ProductTerms, eligible: bool, score: float, criteria: tuple[Criterion, ...]) -> Match:
    match = _MatchDraft()
    match.product_id = product.product_id
    match.version_id = product.version_id
    match.institution_id = product.institution_id
    match.eligible = eligible
    match.score = score
    match.criteria = criteria
    match.__class__ = Match
    return match


# ---- formatting --------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def yuan(amount: Decimal) -> str:
    """¥1,234,567.89, rounded half up to the fen."""
    cents = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    return f"{sign}¥{abs(cents):,.2f}"


@lru_cache(maxsize=4096)
def percent(rate: Decimal) -> str:
    """3.45% (two places at least, more only when the figure has them)."""
    if rate.as_tuple().exponent > -2:
        rate = rate.quantize(_CENT)
    return f"{rate}%"


def _days(days: float) -> str:
    return f"{round(days, 1):g}"


@lru_cache(maxsize=8192)
def _listed(codes: frozenset[str]) -> tuple[str, str]:
    ordered = sorted(codes)
    return "、".join(ordered), ", ".join(ordered)


def industry_division(code: str) -> str:
    """The GB/T 4754 division (2 digits) of an industry code: "C3911" -> "39", "3911" -> "39"."""
    code = code.strip()
    if code[:1].isalpha():
        code = code[1:]
    return code[:2]


# ---- hard criteria -----------------------------------------------------------------------------


def _hard(code: str, passed: bool, value: str, expected: str, zh: str, en: str) -> Criterion:
    return _criterion(code, True, passed, value, expected, zh, en, None)


def amount_criterion(p: ProductTerms, r: RequestProfile) -> Criterion:
    asked, low, high = yuan(r.amount), yuan(p.amount_min), yuan(p.amount_max)
    expected = f"{low}–{high}"
    if r.amount < p.amount_min:
        return _hard("amount", False, asked, expected,
                     f"申请金额 {asked} 低于产品最低额度 {low}",
                     f"Requested {asked} is below the minimum {low}")
    if r.amount > p.amount_max:
        return _hard("amount", False, asked, expected,
                     f"申请金额 {asked} 超过产品最高额度 {high}",
                     f"Requested {asked} exceeds the maximum {high}")
    return _hard("amount", True, asked, expected,
                 f"申请金额 {asked} 在产品额度 {expected} 之内",
                 f"Requested {asked} is within {expected}")


def term_criterion(p: ProductTerms, r: RequestProfile) -> Criterion:
    days, low, high = r.term_days, p.term_min_days, p.term_max_days
    value, expected = str(days), f"{low}–{high}"
    if days < low:
        return _hard("term", False, value, expected,
                     f"申请期限 {days} 天短于产品最短期限 {low} 天",
                     f"A term of {days} days is below the minimum of {low} days")
    if days > high:
        return _hard("term", False, value, expected,
                     f"申请期限 {days} 天超过产品最长期限 {high} 天",
                     f"A term of {days} days exceeds the maximum of {high} days")
    return _hard("term", True, value, expected,
                 f"申请期限 {days} 天在产品期限 {low}–{high} 天之内",
                 f"A term of {days} days is within {low}–{high} days")


def grade_admits(min_grade: str | None, accepts_ungraded: bool, grade: str | None) -> bool:
    """The grade rule alone, shared with the batch matcher."""
    if grade is None:
        return accepts_ungraded
    return min_grade is None or GRADE_RANK[grade] <= GRADE_RANK[min_grade]


def grade_criterion(p: ProductTerms, r: RequestProfile) -> Criterion:
    passed = grade_admits(p.min_grade, p.accepts_ungraded, r.grade)
    admitted = GRADES[: GRADE_RANK[p.min_grade] + 1] if p.min_grade else GRADES
    expected = f"{admitted[0]}–{admitted[-1]}" if len(admitted) > 1 else admitted[0]
    if p.accepts_ungraded:
        expected += ", ungraded"
    if r.grade is None:
        if passed:
            return _hard("grade", True, "ungraded", expected,
                         "企业尚未评级，本产品接受未评级企业",
                         "The enterprise is not yet graded; this product accepts ungraded enterprises")
        return _hard("grade", False, "ungraded", expected,
                     "企业尚未评级，本产品不接受未评级企业",
                     "The enterprise is not yet graded; this product does not accept ungraded enterprises")
    zh, en = r.grade, r.grade  # with its colour code when known: "B（黄码）", "B (yellow)"
    if r.grade_colour is not None:
        colour_zh, colour_en = COLOUR_LABELS[r.grade_colour]
        zh, en = f"{r.grade}（{colour_zh}）", f"{r.grade} ({colour_en})"
    if p.min_grade is None:
        return _hard("grade", True, r.grade, expected,
                     f"产品对信用等级无要求（企业等级 {zh}）",
                     f"The product has no grade requirement (grade {en})")
    if passed:
        return _hard("grade", True, r.grade, expected,
                     f"企业信用等级 {zh} 达到产品最低等级 {p.min_grade}",
                     f"Credit grade {en} meets the product's minimum grade {p.min_grade}")
    return _hard("grade", False, r.grade, expected,
                 f"企业信用等级 {zh} 低于产品最低等级 {p.min_grade}",
                 f"Credit grade {en} is below the product's minimum grade {p.min_grade}")


NAMES_LISTED = 3  # a failed industry or region criterion names this many of the product's, then "and N more"


@lru_cache(maxsize=4096)
def _names_listed(codes: frozenset[str], kind: str) -> tuple[str, str]:
    """The first NAMES_LISTED of a product's industries or regions by name, in code order, with how
    many more: ("江苏省、浙江省", "Jiangsu; Zhejiang"). Industry names hold 、 and commas, so they are
    separated by semicolons."""
    ordered = sorted(codes)
    shown, more = ordered[:NAMES_LISTED], len(ordered) - NAMES_LISTED
    if kind == "industry":
        zh = "；".join(industry_name(code) or code for code in shown)
        en = "; ".join(industry_name(code, "en") or code for code in shown)
    else:
        zh = "、".join(region_name(code) or code for code in shown)
        en = "; ".join(region_name(code, "en") or code for code in shown)
    if more > 0:
        zh, en = f"{zh} 等 {len(ordered)} 个", f"{en} and {more} more"
    return zh, en


def industry_criterion(p: ProductTerms, r: RequestProfile) -> Criterion:
    """The sentences name industries (the codes stay in value and expected, for hover and exports)."""
    division = industry_division(r.industry_code)
    shown = industry_name(division) or r.industry_code
    shown_en = industry_name(division, "en") or r.industry_code
    if not p.industries:
        return _hard("industry", True, r.industry_code, "any",
                     f"产品不限行业（企业行业：{shown}）",
                     f"The product accepts every industry (the enterprise's: {shown_en})")
    listed_en = _listed(p.industries)[1]
    if division in p.industries:
        return _hard("industry", True, r.industry_code, listed_en,
                     f"企业行业“{shown}”属于产品适用行业",
                     f"The enterprise's industry, {shown_en}, is among the product's industries")
    names_zh, names_en = _names_listed(p.industries, "industry")
    return _hard("industry", False, r.industry_code, listed_en,
                 f"企业行业“{shown}”不在产品适用行业之内（产品适用：{names_zh}）",
                 f"The enterprise's industry, {shown_en}, is not among the product's industries ({names_en})")


def region_criterion(p: ProductTerms, r: RequestProfile) -> Criterion:
    """The sentences name regions (the codes stay in value and expected, for hover and exports)."""
    code = r.region_code
    shown, shown_en = region_name(code) or code, region_name(code, "en") or code
    if not p.regions:
        return _hard("region", True, code, "any",
                     f"产品不限地区（企业所在地：{shown}）",
                     f"The product accepts every region (the enterprise is in {shown_en})")
    listed_en = _listed(p.regions)[1]
    matched = sorted(prefix for prefix in p.regions if code.startswith(prefix))
    if matched:
        within = region_name(matched[0]) or matched[0]
        within_en = region_name(matched[0], "en") or matched[0]
        return _hard("region", True, code, listed_en,
                     f"企业所在地 {shown} 属于产品适用地区 {within}",
                     f"The enterprise is in {shown_en}, within the product's region {within_en}")
    names_zh, names_en = _names_listed(p.regions, "region")
    return _hard("region", False, code, listed_en,
                 f"企业所在地 {shown} 不在产品适用地区 {names_zh} 之内",
                 f"The enterprise is in {shown_en}, outside the product's regions ({names_en})")


def guarantee_criterion(p: ProductTerms, r: RequestProfile) -> Criterion:
    value = "yes" if r.has_guarantee else "no"
    if not p.requires_guarantee:
        return _hard("guarantee", True, value, "optional",
                     "产品不要求担保", "The product does not require a guarantee")
    if p.institution_kind == "guarantor":  # the guarantee is what a guarantor's product provides
        return _hard("guarantee", True, value, "provided",
                     "担保由本担保机构提供", "The guarantor provides the guarantee itself")
    if r.has_guarantee:
        return _hard("guarantee", True, value, "required",
                     "产品要求担保，本申请已有担保",
                     "The product requires a guarantee and the request has one")
    return _hard("guarantee", False, value, "required",
                 "产品要求担保，本申请尚无担保",
                 "The product requires a guarantee and the request has none")


def _rule_owner(product_type: str, implied: bool) -> tuple[str, str, str]:
    """Who asks for a rule, for the sentence: the product, or its type ("保理产品"). Returns the
    Chinese subject, the English subject and the English verb ending (the type is plural)."""
    if not implied:
        return "产品", "The product", "s"
    zh, en = PRODUCT_TYPES[product_type]
    return f"{zh}产品", f"{en} products", ""


def debtor_confirmation_criterion(p: ProductTerms, r: RequestProfile) -> Criterion:
    value = "yes" if r.all_debtors_confirmed else "no"
    if not p.needs_debtor_confirmation:
        return _hard("debtor_confirmation", True, value, "optional",
                     "产品不要求债务人确认应收账款",
                     "The product does not require debtor confirmation")
    owner_zh, owner_en, s = _rule_owner(p.product_type, not p.requires_debtor_confirmation)
    if r.all_debtors_confirmed:
        return _hard("debtor_confirmation", True, value, "required",
                     f"{owner_zh}要求债务人确认，全部质押应收账款均已确认",
                     f"{owner_en} require{s} debtor confirmation and every pledged receivable is confirmed")
    return _hard("debtor_confirmation", False, value, "required",
                 f"{owner_zh}要求债务人确认，尚有质押应收账款未获确认",
                 f"{owner_en} require{s} debtor confirmation and not every pledged receivable is confirmed")


@lru_cache(maxsize=512)
def debtor_kinds_listed(kinds: frozenset[str]) -> tuple[str, str]:
    """Debtor kinds by name, in DEBTOR_KINDS order: ("企业、个体工商户", "enterprises, individual businesses")."""
    ordered = [DEBTOR_KIND_LABELS[k] for k in DEBTOR_KIND_LABELS if k in kinds]
    return "、".join(zh for zh, _en in ordered), ", ".join(en for _zh, en in ordered)


def _codes(kinds: frozenset[str]) -> str:
    return ",".join(k for k in DEBTOR_KIND_LABELS if k in kinds)


def debtor_kind_criterion(p: ProductTerms, r: RequestProfile) -> Criterion:
    accepted, present = p.accepted_debtor_kinds, r.debtor_kinds
    value = _codes(present) or "none"
    if not accepted:
        return _hard("debtor_kind", True, value, "any",
                     "产品不限债务人类型", "The product accepts debtors of every kind")
    expected = _codes(accepted)
    accepted_zh, accepted_en = debtor_kinds_listed(accepted)
    owner_zh, owner_en, s = _rule_owner(p.product_type, p.product_type in TYPE_DEBTOR_KINDS)
    rule_zh = f"{owner_zh}只接受债务人为{accepted_zh}的应收账款"
    rule_en = f"{owner_en} accept{s} only receivables owed by {accepted_en}"
    if not present:
        return _hard("debtor_kind", False, value, expected, f"{rule_zh}，本申请尚未质押应收账款",
                     f"{rule_en}; the request pledges none")
    outside = present - accepted
    if outside:
        outside_zh, outside_en = debtor_kinds_listed(outside)
        return _hard("debtor_kind", False, value, expected,
                     f"{rule_zh}，本申请有应收账款的债务人为{outside_zh}（按统一社会信用代码第1-2位判断）",
                     f"{rule_en}; some pledged receivables are owed by {outside_en} "
                     "(by characters 1-2 of the debtor's credit code)")
    return _hard("debtor_kind", True, value, expected, f"{rule_zh}，全部质押应收账款的债务人均符合",
                 f"{rule_en}; every pledged receivable's debtor qualifies")


def contract_number_criterion(p: ProductTerms, r: RequestProfile) -> Criterion:
    value = "yes" if r.all_have_contract_numbers else "no"
    if not p.needs_contract_numbers:
        return _hard("contract_number", True, value, "optional",
                     "产品不要求合同编号", "The product does not require contract numbers")
    owner_zh, owner_en, _s = _rule_owner(p.product_type, True)
    if r.all_have_contract_numbers:
        return _hard("contract_number", True, value, "required",
                     f"{owner_zh}要求质押应收账款载明合同编号，全部均已载明",
                     f"{owner_en} require a contract number on every pledged receivable, and every one has one")
    return _hard("contract_number", False, value, "required",
                 f"{owner_zh}要求质押应收账款载明合同编号，尚有应收账款未填写合同编号",
                 f"{owner_en} require a contract number on every pledged receivable, and not every one has one")


# Each check with the product fields it reads (and nothing else of the product): ranking reuses
# a criterion for every product that agrees on those fields.
HARD_CHECKS = (
    (amount_criterion, attrgetter("amount_min", "amount_max")),
    (term_criterion, attrgetter("term_min_days", "term_max_days")),
    (grade_criterion, attrgetter("min_grade", "accepts_ungraded")),
    (industry_criterion, attrgetter("industries")),
    (region_criterion, attrgetter("regions")),
    (guarantee_criterion, attrgetter("requires_guarantee", "institution_kind")),
    (debtor_confirmation_criterion, attrgetter("requires_debtor_confirmation", "product_type")),
    (debtor_kind_criterion, attrgetter("debtor_kinds", "product_type")),
    (contract_number_criterion, attrgetter("product_type")),
)


# ---- soft criteria -----------------------------------------------------------------------------


def _clamp(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def rate_bounds_of(products: Iterable[ProductTerms]) -> tuple[Decimal, Decimal] | None:
    """The lowest and highest rate_min among products compared together (None if empty)."""
    floors = [p.rate_min for p in products]
    return (min(floors), max(floors)) if floors else None


def rate_subscore(rate_min: Decimal, bounds: tuple[Decimal, Decimal] | None) -> tuple[float, tuple[Decimal, Decimal], bool]:
    """(sub-score, scale used, whether it is the fixed scale). Lower rate scores higher."""
    fixed = bounds is None or bounds[0] >= bounds[1]
    best, worst = FIXED_RATE_SCALE if fixed else bounds
    share = _DECIMAL.divide(worst - rate_min, worst - best)
    return _clamp(float(share)), (best, worst), fixed


def turnaround_subscore(days: float) -> float:
    span = TURNAROUND_WORST_DAYS - TURNAROUND_BEST_DAYS
    return _clamp((TURNAROUND_WORST_DAYS - days) / span)


_TURNAROUND_SCALE = f"≤{_days(TURNAROUND_BEST_DAYS)}–≥{_days(TURNAROUND_WORST_DAYS)} d"


def _soft(code: str, value: str, expected: str, zh: str, en: str, contribution: float) -> Criterion:
    return _criterion(code, False, True, value, expected, zh, en, contribution)


def rate_criterion(p: ProductTerms, bounds: tuple[Decimal, Decimal] | None, weights: Weights) -> Criterion:
    return _rate_criterion(p.rate_min, p.rate_max, bounds, weights)


@lru_cache(maxsize=16384)  # request-independent: a catalogue's rate criteria are built once
def _rate_criterion(
    rate_min: Decimal, rate_max: Decimal, bounds: tuple[Decimal, Decimal] | None, weights: Weights
) -> Criterion:
    sub, (best, worst), fixed = rate_subscore(rate_min, bounds)
    contribution = _rate_contribution(sub, weights)
    offered = f"{percent(rate_min)}–{percent(rate_max)}"
    scale = f"{percent(best)}–{percent(worst)}"
    if fixed:
        zh = f"年利率 {offered}，下限按固定标尺 {scale}（越低越好）得分 {sub:.2f}"
        en = f"Annual rate {offered}; its floor scores {sub:.2f} on the fixed scale {scale} (lower is better)"
    else:
        zh = f"年利率 {offered}，下限在比较产品的 {scale} 之间（越低越好）得分 {sub:.2f}"
        en = f"Annual rate {offered}; its floor scores {sub:.2f} among the compared products' {scale} (lower is better)"
    return _soft("rate", offered, scale, zh, en, contribution)


def _rate_contribution(sub: float, weights: Weights) -> float:
    """The rate's share of the score: the one expression rank()'s fast pass and the criterion use."""
    return sub * weights.rate / weights.total


def turnaround_criterion(record: InstitutionRecord | None, weights: Weights) -> Criterion:
    share = weights.turnaround / weights.total
    expected = _TURNAROUND_SCALE
    days = record.median_turnaround_days if record else None
    if days is None:
        return _soft("turnaround", "no data", expected,
                     f"办理时长：该机构尚无历史数据，按中性值计（{NEUTRAL:.2f}）",
                     f"Turnaround: no history yet, neutral value used ({NEUTRAL:.2f})",
                     NEUTRAL * share)
    sub = turnaround_subscore(days)
    return _soft("turnaround", f"{_days(days)} d", expected,
                 f"该机构办理时长中位数 {_days(days)} 天，得分 {sub:.2f}",
                 f"The institution's median turnaround is {_days(days)} days, score {sub:.2f}",
                 sub * share)


def acceptance_criterion(record: InstitutionRecord | None, weights: Weights) -> Criterion:
    share = weights.acceptance / weights.total
    rate = record.acceptance_rate if record else None
    if rate is None:
        return _soft("acceptance", "no data", "0–100%",
                     f"报价接受率：该机构尚无历史数据，按中性值计（{NEUTRAL:.2f}）",
                     f"Acceptance rate: no history yet, neutral value used ({NEUTRAL:.2f})",
                     NEUTRAL * share)
    sub = _clamp(rate)
    shown = f"{rate * 100:.0f}%"
    return _soft("acceptance", shown, "0–100%",
                 f"该机构报价被企业接受的比例为 {shown}，得分 {sub:.2f}",
                 f"{shown} of the institution's offers were accepted, score {sub:.2f}",
                 sub * share)


@lru_cache(maxsize=4096)
def _history_criteria(record: InstitutionRecord | None, weights: Weights) -> tuple[Criterion, Criterion]:
    return turnaround_criterion(record, weights), acceptance_criterion(record, weights)


def soft_criteria(
    product: ProductTerms,
    record: InstitutionRecord | None,
    weights: Weights,
    rate_bounds: tuple[Decimal, Decimal] | None,
) -> tuple[Criterion, Criterion, Criterion]:
    return (rate_criterion(product, rate_bounds, weights), *_history_criteria(record, weights))


def combined_score(soft: Sequence[Criterion]) -> float:
    """The match score: the soft contributions added in a fixed order, kept within 0..1."""
    rate, turnaround, acceptance = soft
    return _clamp(rate.score + turnaround.score + acceptance.score)


def product_score(
    product: ProductTerms,
    record: InstitutionRecord | None,
    weights: Weights = DEFAULT_WEIGHTS,
    rate_bounds: tuple[Decimal, Decimal] | None = None,
) -> float:
    """The score alone, exactly as `explain` computes it (the batch matcher uses this)."""
    return combined_score(soft_criteria(product, record, weights, rate_bounds))


# ---- the public verbs --------------------------------------------------------------------------


class _Explainer:
    """Explains products against one request, reusing the criteria that products share.

    Within one request a hard criterion depends only on the product fields listed with its
    check in HARD_CHECKS, and the history criteria only on the institution, so products that
    agree on those share one (immutable) Criterion.
    """

    def __init__(self, request: RequestProfile, weights: Weights, rate_bounds: tuple[Decimal, Decimal] | None):
        self.request = request
        self.weights = weights
        self.rate_bounds = rate_bounds
        self._hard = tuple(({}, check, fields) for check, fields in HARD_CHECKS)

    def criteria(self, product: ProductTerms, history: tuple[Criterion, Criterion]) -> tuple[Criterion, ...]:
        """Every criterion of the product, hard first, in HARD_CRITERIA then SOFT_CRITERIA order."""
        request = self.request
        criteria = []
        for memo, check, fields in self._hard:
            key = fields(product)
            criterion = memo.get(key)
            if criterion is None:
                criterion = memo[key] = check(product, request)
            criteria.append(criterion)
        rate = _rate_criterion(product.rate_min, product.rate_max, self.rate_bounds, self.weights)
        return (*criteria, rate, *history)

    def __call__(self, product: ProductTerms, record: InstitutionRecord | None) -> Match:
        """The match, explained at once."""
        criteria = self.criteria(product, _history_criteria(record, self.weights))
        failures = [c.passed for c in criteria].count(False)
        return _match(product, failures == 0, combined_score(criteria[-3:]), criteria)


def explain(
    product: ProductTerms,
    request: RequestProfile,
    record: InstitutionRecord | None,
    weights: Weights = DEFAULT_WEIGHTS,
    rate_bounds: tuple[Decimal, Decimal] | None = None,
) -> Match:
    """Measure one product against one request, criterion by criterion.

    rate_bounds: the (lowest, highest) rate_min of the products compared together; None scores
    the rate on the fixed scale.
    """
    return _Explainer(request, weights, rate_bounds)(product, record)


def rank_key(match: Match) -> tuple:
    """Eligible first by score; then ineligible, fewest failures first; ties by product id."""
    failures = 0 if match.eligible else sum(not c.passed for c in match.criteria)
    return (failures, -match.score, match.product_id, match.version_id)


_PRODUCT_ID = attrgetter("product_id")
_VERSION_ID = attrgetter("version_id")
_SCORE = attrgetter("score")


def rank(
    products: Sequence[ProductTerms],
    request: RequestProfile,
    records: Mapping[int, InstitutionRecord],
    weights: Weights = DEFAULT_WEIGHTS,
) -> list[Match]:
    """Every product explained against the request, best first (see the module docstring).

    One pass counts each product's failed hard criteria with plain comparisons (the same rules
    as the criterion functions, which write the sentences later, when a match's `criteria` is
    first read) and adds up its score from the request-independent soft parts. Products are put
    in id order first and then, by stable sorts, into buckets by failures and by score
    descending: the order of rank_key without a key tuple per product. Each product costs one
    object that outlives the call, made with the collector paused (workflows.collector): the
    matches a caller drops soon after are freed young, and do not pile up in the old generation
    until a full collection of a large live heap lands in some later call.
    """
    with collector_paused():
        return _ranked(products, request, records, weights)


def _ranked(products: Sequence[ProductTerms], request: RequestProfile, records: Mapping[int, InstitutionRecord],
            weights: Weights) -> list[Match]:
    explainer = _Explainer(request, weights, rate_bounds_of(products))
    bounds = explainer.rate_bounds

    amount, term = request.amount, request.term_days
    grade = request.grade
    admitted = {None, *GRADES[GRADE_RANK[grade]:]} if grade is not None else set()  # min_grade values it meets
    division = industry_division(request.industry_code)
    code = request.region_code
    prefixes = frozenset(code[:length] for length in range(len(code) + 1))  # startswith, as a set
    has_guarantee = request.has_guarantee
    confirmed = request.all_debtors_confirmed
    contracts = request.all_have_contract_numbers
    present = request.debtor_kinds
    kind_fails: dict[tuple[frozenset[str], str], bool] = {}
    rates: dict[Decimal, float] = {}
    histories: dict[int, tuple[tuple[Criterion, Criterion], float, float]] = {}

    ordered = sorted(products, key=_VERSION_ID)
    ordered.sort(key=_PRODUCT_ID)
    buckets: list[list[Match]] = [[] for _ in range(len(HARD_CRITERIA) + 1)]
    for p in ordered:
        failures = 0
        if not p.amount_min <= amount <= p.amount_max:
            failures = 1
        if not p.term_min_days <= term <= p.term_max_days:
            failures += 1
        if (p.min_grade not in admitted) if grade is not None else (not p.accepts_ungraded):
            failures += 1
        industries = p.industries
        if industries and division not in industries:
            failures += 1
        regions = p.regions
        if regions and prefixes.isdisjoint(regions):
            failures += 1
        if not has_guarantee and p.requires_guarantee and p.institution_kind != "guarantor":
            failures += 1
        product_type = p.product_type
        if not confirmed and (p.requires_debtor_confirmation or product_type in CONFIRMATION_TYPES):
            failures += 1
        kinds = p.debtor_kinds
        if kinds or product_type in TYPE_DEBTOR_KINDS:
            key = (kinds, product_type)
            fails = kind_fails.get(key)
            if fails is None:
                accepted = accepted_debtor_kinds(product_type, kinds)
                fails = kind_fails[key] = bool(accepted) and not (present and present <= accepted)
            if fails:
                failures += 1
        if not contracts and product_type in CONTRACT_NUMBER_TYPES:
            failures += 1

        rate = rates.get(p.rate_min)
        if rate is None:
            rate = rates[p.rate_min] = _rate_contribution(rate_subscore(p.rate_min, bounds)[0], weights)
        institution_id = p.institution_id
        history = histories.get(institution_id)
        if history is None:
            criteria = _history_criteria(records.get(institution_id), weights)
            history = histories[institution_id] = (criteria, criteria[0].score, criteria[1].score)
        score = rate + history[1] + history[2]  # combined_score, in its order
        if score < 0.0:
            score = 0.0
        elif score > 1.0:
            score = 1.0

        match = _MatchDraft()
        match.product_id = p.product_id
        match.version_id = p.version_id
        match.institution_id = institution_id
        match.eligible = failures == 0
        match.score = score
        match._explainer = explainer
        match._product = p
        match._history = history[0]
        match.__class__ = Match
        buckets[failures].append(match)

    ranked: list[Match] = []
    for bucket in buckets:
        bucket.sort(key=_SCORE, reverse=True)  # stable: equal scores stay in id order
        ranked += bucket
    return ranked


def top_institutions(matches: Iterable[Match], limit: int = MAX_INSTITUTIONS) -> list[Match]:
    """The best eligible match of each institution, best first, for at most `limit` institutions."""
    best: list[Match] = []
    seen: set[int] = set()
    for match in sorted((m for m in matches if m.eligible), key=rank_key):
        if len(best) >= limit:
            break
        if match.institution_id not in seen:
            seen.add(match.institution_id)
            best.append(match)
    return best


def clear_caches() -> None:
    """Forget the cached formatting and soft criteria (for cold-start measurements)."""
    for cached in (yuan, percent, _listed, _names_listed, debtor_kinds_listed, _rate_criterion, _history_criteria):
        cached.cache_clear()
