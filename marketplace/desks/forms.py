"""Desk forms: offer, decline, question, note; the enterprise's answer."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Optional,
    ValidationError,
)

from marketplace.form_validators import TextLength, WholeNumberRange, fold_width
from marketplace.i18n import input_error
from workflows.identifiers import parse_money
from workflows.loans import PREPAYMENT_FEE_RATE_MAX


class OfferForm(FlaskForm):
    amount = StringField(_l("授信金额（元）"), filters=[fold_width], validators=[DataRequired(_l("请填写授信金额"))])
    annual_rate = StringField(_l("年化利率（%）"), filters=[fold_width], validators=[DataRequired(_l("请填写年化利率"))])
    term_days = IntegerField(_l("期限（天）"), validators=[
        InputRequired(_l("请填写期限")), WholeNumberRange(min=1, max=1825, message=_l("期限须在1至1825天之间"))])
    expires_on = DateField(_l("报价有效期至"), validators=[InputRequired(_l("请填写报价有效期"))])
    conditions = TextAreaField(_l("条件"), validators=[Optional(), TextLength(2000)])
    prepayment_fee_rate = StringField(_l("提前还款手续费（提前还款本金的百分比）"), filters=[fold_width],
                                      validators=[Optional()])
    roll_to_working_day = BooleanField(_l("还款日遇节假日顺延至下一工作日"), default=True)

    parsed_amount: Decimal | None = None
    parsed_rate: Decimal | None = None
    parsed_fee_rate: Decimal = Decimal("0.00")  # blank: no fee

    def validate_amount(self, field):
        try:
            self.parsed_amount = parse_money(field.data or "")
        except ValueError as error:
            raise ValidationError(input_error(error)) from None

    def validate_annual_rate(self, field):
        try:
            rate = Decimal((field.data or "").strip().rstrip("%"))
        except InvalidOperation:
            raise ValidationError(_l("年化利率应为数字，例如 3.85")) from None
        if rate.is_finite() and rate.adjusted() >= 4:  # quantize() would overflow on long digit strings
            raise ValidationError(_l("利率超出合理范围"))
        if not rate.is_finite() or rate != rate.quantize(Decimal("0.01")):
            raise ValidationError(_l("年化利率最多保留两位小数"))
        self.parsed_rate = rate

    def validate_prepayment_fee_rate(self, field):
        """Blank or 0: no fee; else a percent from 0 to 5 with at most two decimals."""
        text = (field.data or "").strip().rstrip("%").strip()
        try:
            rate = Decimal(text) if text else Decimal("0.00")
        except InvalidOperation:
            raise ValidationError(_l("提前还款手续费率应为数字，例如 1.00（即提前还款本金的 1%）")) from None
        if not rate.is_finite() or rate.adjusted() >= 4 or not 0 <= rate <= PREPAYMENT_FEE_RATE_MAX \
                or rate != rate.quantize(Decimal("0.01")):
            raise ValidationError(_l("提前还款手续费率须在 0 至 %(high)s%% 之间，最多两位小数",
                                     high=PREPAYMENT_FEE_RATE_MAX))
        self.parsed_fee_rate = rate


class DeclineForm(FlaskForm):
    reason_code = SelectField(_l("拒绝原因"), validators=[DataRequired(_l("请选择拒绝原因"))])
    note = TextAreaField(_l("说明"), validators=[Optional(), TextLength(2000)])

    def __init__(self, *args, reasons: dict, locale: str = "zh", **kwargs):
        super().__init__(*args, **kwargs)
        index = 1 if locale == "en" else 0
        self.reason_code.choices = [("", _l("请选择"))] + [(code, labels[index]) for code, labels in reasons.items()]


class QuestionForm(FlaskForm):
    question = TextAreaField(_l("需要企业补充的内容"), validators=[
        DataRequired(_l("请填写需要企业补充的内容")), TextLength(2000)])


class NoteForm(FlaskForm):
    body = TextAreaField(_l("内部备注"), validators=[DataRequired(_l("备注内容不能为空")), TextLength(4000)])


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("回复"), validators=[DataRequired(_l("请填写回复内容")), TextLength(4000)])
    attachments = MultipleFileField(_l("附件（PDF、JPG、PNG，最多5个）"))
