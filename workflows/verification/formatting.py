"""Money as the verification reports write it (shared by the checks and the red flags)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_CENT = Decimal("0.01")


def money(amount: Decimal) -> str:
    """JSON-ready: 2 decimals, rounded half up, no separators."""
    return f"{amount.quantize(_CENT, rounding=ROUND_HALF_UP):.2f}"


def yuan(amount: Decimal) -> str:
    """¥1,234,567.89, rounded half up to the fen."""
    cents = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    return f"{sign}¥{abs(cents):,.2f}"
