"""Marshmallow fields for the JSON API: money and rates as strings, times in UTC.

Money never crosses the API as a JSON number (a float in most clients): it is a string with
exactly 2 decimals, documented with a pattern so that generated clients and schemathesis
agree with what the server sends and accepts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from marshmallow import ValidationError, fields

CENT = Decimal("0.01")
TWO_DECIMALS_PATTERN = r"^-?\d+\.\d{2}$"


def two_decimals(value) -> str | None:
    """"1200.00" for Decimal("1200"), half up; None stays None."""
    if value is None:
        return None
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def utc_iso(value: datetime | None) -> str | None:
    """"2026-11-22T03:44:15Z" for an aware datetime; None stays None."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class TwoDecimals(fields.String):
    """A Decimal sent as a string with exactly 2 decimals: Decimal("1200") -> "1200.00"."""

    def __init__(self, **kwargs):
        metadata = {"pattern": TWO_DECIMALS_PATTERN, "example": "500000.00", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return two_decimals(value)


class DecimalQuery(fields.String):
    """A decimal in a query string ("500000", "3.5", "3.45"): at most `max_digits` before the
    point and 2 after, not negative. Deserialises to Decimal; floats are never involved."""

    def __init__(self, max_digits: int = 16, **kwargs):
        self.pattern = rf"^\d{{1,{max_digits}}}(\.\d{{1,2}})?$"
        metadata = {"pattern": self.pattern, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not re.fullmatch(self.pattern, text):
            raise ValidationError("Not a decimal with at most 2 decimals (e.g. 500000 or 3.45).")
        try:
            return Decimal(text)
        except InvalidOperation as e:  # unreachable after the pattern; kept for safety
            raise ValidationError("Not a valid decimal.") from e


class UtcDateTime(fields.DateTime):
    """An aware datetime as ISO 8601 in UTC with a Z: "2026-11-22T03:44:15Z"."""

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        return utc_iso(value)
