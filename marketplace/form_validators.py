"""Validators shared by the domains' forms."""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms.validators import Length, NumberRange, ValidationError

# Beyond this an integer is out of every range here, and float() (which WTForms' NumberRange
# applies through math.isnan) would raise OverflowError on a few hundred typed digits.
LARGEST_CHECKED = 10**15


class WholeNumberRange(NumberRange):
    """NumberRange for IntegerField: a number of any length gets the range's message, never a 500."""

    def __call__(self, form, field):
        data = field.data
        if isinstance(data, int) and abs(data) > LARGEST_CHECKED:
            message = self.message or field.gettext("Number must be between %(min)s and %(max)s.")
            raise ValidationError(message % {"min": self.min, "max": self.max})
        super().__call__(form, field)


def fold_width(value):
    """Filter for amount, rate and code fields: what a Chinese keyboard types in full width
    (１２０，０００．５０, ３．８５％, ９１３２…) folded to ASCII by NFKC, surrounding spaces (the
    ideographic space too) stripped. Not for free text, whose Chinese punctuation must stay."""
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value).strip()
    return value


TOO_LONG = _l("最多 %(max)s 个字，现在有 %(length)s 个字，请删减后再提交")


def column_length(column) -> int:
    """The size of a String(n) column (a mapped attribute such as FinancingRequest.purpose)."""
    return column.property.columns[0].type.length


class TextLength(Length):
    """Length for free text, bounded by the column it is stored in (or a number for a Text
    column), with a message saying the limit and how much was typed."""

    def __init__(self, limit, message=None):
        maximum = limit if isinstance(limit, int) else column_length(limit)
        super().__init__(max=maximum, message=message or TOO_LONG)
