"""A guarantor's terms and the fee they yield (design.md sections 3-4). Pure: Decimals in, Decimals out.

The guaranteed amount is the request's amount times the coverage ratio; the fee is that amount
times the yearly fee rate, pro rata over the term (actual/365). Both are rounded half up to the
fen, as on the guarantee letter and the fee notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
DAYS_A_YEAR = Decimal("365")
COVERAGE_MIN, COVERAGE_MAX = Decimal("1"), Decimal("100")  # percent of the request's amount
FEE_RATE_MIN, FEE_RATE_MAX = Decimal("0.01"), Decimal("10")  # percent a year


@dataclass(frozen=True)
class GuaranteeAmounts:
    guaranteed_amount: Decimal
    fee: Decimal


def _to_fen(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def guarantee_amounts(amount: Decimal, coverage_ratio: Decimal, fee_rate: Decimal, term_days: int) -> GuaranteeAmounts:
    """The guaranteed amount and the fee, each rounded half up to the fen; the fee is computed
    on the rounded guaranteed amount, the figure the letter states."""
    guaranteed = _to_fen(amount * coverage_ratio / HUNDRED)
    fee = _to_fen(guaranteed * fee_rate / HUNDRED * Decimal(term_days) / DAYS_A_YEAR)
    return GuaranteeAmounts(guaranteed, fee)


def _has_two_places_at_most(value: Decimal) -> bool:
    return value == value.quantize(CENT)


def term_problems(coverage_ratio: Decimal, fee_rate: Decimal) -> list[tuple[str, str]]:
    """Every problem with the terms as (zh, en); empty when they are acceptable."""
    problems = []
    if not coverage_ratio.is_finite() or not COVERAGE_MIN <= coverage_ratio <= COVERAGE_MAX:
        problems.append((f"担保比例须在 {COVERAGE_MIN}% 与 {COVERAGE_MAX}% 之间",
                         f"The coverage must be between {COVERAGE_MIN}% and {COVERAGE_MAX}%"))
    elif not _has_two_places_at_most(coverage_ratio):
        problems.append(("担保比例最多保留两位小数", "The coverage has at most two decimals"))
    if not fee_rate.is_finite() or not FEE_RATE_MIN <= fee_rate <= FEE_RATE_MAX:
        problems.append((f"担保费率须在每年 {FEE_RATE_MIN}% 与 {FEE_RATE_MAX}% 之间",
                         f"The fee rate must be between {FEE_RATE_MIN}% and {FEE_RATE_MAX}% a year"))
    elif not _has_two_places_at_most(fee_rate):
        problems.append(("担保费率最多保留两位小数", "The fee rate has at most two decimals"))
    return problems


def letter_number(guarantee_id: int, year: int) -> str:
    """担保函编号: DB-<year of issue>-<id, six digits>; unique because the id is."""
    return f"DB-{year}-{guarantee_id:06d}"
