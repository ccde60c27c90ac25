"""The guarantor's offer form: coverage ratio and yearly fee rate, both in percent."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, ValidationError

from marketplace.form_validators import fold_width
from workflows.guarantees import COVERAGE_MAX, COVERAGE_MIN, FEE_RATE_MAX, FEE_RATE_MIN


def _percent(field) -> Decimal:
    try:
        value = Decimal((field.data or "").strip().rstrip("%").strip())
    except InvalidOperation:
        raise ValidationError(_l("请填写数字，例如 80 或 1.5")) from None
    if not value.is_finite():
        raise ValidationError(_l("请填写数字，例如 80 或 1.5"))
    return value


class GuaranteeOfferForm(FlaskForm):
    coverage_ratio = StringField(_l("担保比例（%）"), filters=[fold_width], validators=[DataRequired(_l("请填写担保比例"))])
    fee_rate = StringField(_l("担保费率（%/年）"), filters=[fold_width], validators=[DataRequired(_l("请填写担保费率"))])

    parsed_coverage: Decimal | None = None
    parsed_fee_rate: Decimal | None = None

    def validate_coverage_ratio(self, field):
        value = _percent(field)
        if not COVERAGE_MIN <= value <= COVERAGE_MAX:
            raise ValidationError(_l("担保比例须在 %(low)s%% 与 %(high)s%% 之间", low=COVERAGE_MIN, high=COVERAGE_MAX))
        self.parsed_coverage = value

    def validate_fee_rate(self, field):
        value = _percent(field)
        if not FEE_RATE_MIN <= value <= FEE_RATE_MAX:
            raise ValidationError(_l("担保费率须在每年 %(low)s%% 与 %(high)s%% 之间", low=FEE_RATE_MIN, high=FEE_RATE_MAX))
        self.parsed_fee_rate = value
