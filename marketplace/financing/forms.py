"""The financing request form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.i18n import input_error
from workflows.financing import MAX_TARGETS
from workflows.identifiers import parse_money

MAX_TERM_DAYS = 720


class VersionedForm(FlaskForm):
    """Carries the version the page was rendered from (optimistic lock)."""

    version = HiddenField()

    @property
    def version_number(self) -> int | None:
        return int(self.version.data) if (self.version.data or "").isdigit() else None


class RequestForm(VersionedForm):
    amount = StringField(_l("融资金额（元）"), validators=[DataRequired(_l("请填写融资金额"))])
    term_days = IntegerField(
        _l("融资期限（天）"),
        validators=[InputRequired(_l("请填写融资期限")),
                    NumberRange(min=1, max=MAX_TERM_DAYS, message=_l("融资期限应在1至720天之间"))],
    )
    purpose = TextAreaField(_l("资金用途"), validators=[DataRequired(_l("请填写资金用途")), Length(max=500)])
    receivables = SelectMultipleField(
        _l("质押的应收账款"), coerce=int, option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
        validators=[DataRequired(_l("请至少选择一笔应收账款"))], validate_choice=False,
    )

    def __init__(self, *args, pledgeable=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.pledgeable = {r.id: r for r in pledgeable}
        self.receivables.choices = [(r.id, r.invoice_no) for r in pledgeable]
        self.parsed_amount = None

    def validate_amount(self, field):
        try:
            self.parsed_amount = parse_money(field.data or "")
        except ValueError as error:
            raise ValidationError(input_error(error)) from None
        if self.parsed_amount <= 0:
            raise ValidationError(_l("融资金额必须大于零"))

    def validate_receivables(self, field):
        if any(choice not in self.pledgeable for choice in field.data or ()):
            raise ValidationError(_l("所选应收账款中有已被其他申请质押或不属于本企业的，请刷新页面后重新选择"))

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        chosen = sum((self.pledgeable[i].face_amount for i in self.receivables.data), start=0)
        if self.parsed_amount > chosen:
            self.amount.errors.append(
                _l("融资金额不能超过所选应收账款的合计金额（%(total)s 元）", total=f"{chosen:,.2f}")
            )
            return False
        return True


class SubmitForm(VersionedForm):
    """Submission, with the products the enterprise picks (none: take the top matches)."""

    products = SelectMultipleField(coerce=int, validate_choice=False)

    def validate_products(self, field):
        if len(field.data or ()) > MAX_TARGETS:
            raise ValidationError(_l("最多选择3个产品"))
