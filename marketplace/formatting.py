"""How money, dates and masked values are shown: ¥ with half-up rounding, 万元, YYYY-MM-DD, Asia/Shanghai."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")
TEN_THOUSAND = Decimal("10000")


def to_decimal(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):  # never expected; go through str to avoid binary noise
        return Decimal(repr(value))
    return Decimal(value)


def yuan(value, symbol: bool = True) -> str:
    """¥1,234,567.89 (half up)."""
    if value is None or value == "":
        return ""
    amount = to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    text = f"{amount:,.2f}"
    return f"¥{text}" if symbol else text


def wan(value) -> str:
    """Amount in 万元 with 2 decimals, half up; the unit goes in the column header."""
    if value is None or value == "":
        return ""
    amount = (to_decimal(value) / TEN_THOUSAND).quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{amount:,.2f}"


def local(value: datetime) -> datetime:
    return value.astimezone(SHANGHAI)


def ymd(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value) if value.tzinfo else value
        return value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def ymd_hm(value: datetime | None) -> str:
    if value is None:
        return ""
    return local(value).strftime("%Y-%m-%d %H:%M")


def today_shanghai() -> date:
    return datetime.now(SHANGHAI).date()


def capitals(value) -> str:
    """An amount in Chinese capitals for letters and contracts (壹佰贰拾捌万元整), via cn2an."""
    import cn2an  # ~0.2 s to import: only when a page or a letter needs it

    amount = to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return cn2an.an2cn(str(amount), "rmb")
