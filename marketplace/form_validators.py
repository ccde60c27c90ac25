"""Validators shared by the domains' forms."""

from __future__ import annotations

from wtforms.validators import NumberRange, ValidationError

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
