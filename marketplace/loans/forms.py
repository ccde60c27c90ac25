"""Loan forms: the disbursement, the repayment schedule (one row per instalment), a repayment,
an early repayment (a prepayment of part of the principal, or a payoff). The offer's terms
(due days rolled off holidays, the early repayment fee) are not asked again here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from marketplace.form_validators import TextLength, fold_width
from marketplace.i18n import input_error, sentences
from workflows.identifiers import parse_money


class _MoneyDayForm(FlaskForm):
    amount = StringField(_l("金额（元）"), validators=[DataRequired(_l("请填写金额"))])
    reference = StringField(_l("业务流水号/凭证号"), filters=[fold_width],
                            validators=[DataRequired(_l("请填写业务流水号/凭证号")), Length(max=64)])

    parsed_amount: Decimal | None = None

    def validate_amount(self, field):
        try:
            self.parsed_amount = parse_money(field.data or "")
        except ValueError as error:
            raise ValidationError(input_error(error)) from None


class DisbursementForm(_MoneyDayForm):
    disbursed_on = DateField(_l("放款日期"), validators=[InputRequired(_l("请填写放款日期"))])


class RepaymentForm(_MoneyDayForm):
    paid_on = DateField(_l("还款日期"), validators=[InputRequired(_l("请填写还款日期"))])


class InstalmentRowForm(Form):
    """One instalment; a wholly blank row is ignored when it comes after the last filled one."""

    due_on = DateField(_l("到期日"), validators=[Optional()])
    principal = StringField(_l("本金（元）"))
    interest = StringField(_l("利息（元）"))

    def is_blank(self) -> bool:
        return not (self.due_on.raw_data and self.due_on.raw_data[0].strip()) and not (
            (self.principal.data or "").strip() or (self.interest.data or "").strip())


class ScheduleForm(FlaskForm):
    """The rows only: whether due days roll off holidays is the accepted offer's term (shown
    read-only beside the form), not something the bank picks when it records the schedule."""

    rows = FieldList(FormField(InstalmentRowForm), min_entries=1)

    parsed_rows: list[tuple[date, Decimal, Decimal]]
    row_problems: list[str]

    def validate(self, extra_validators=None) -> bool:
        """Parse every row; a bad row is named by its number, and the schedule is refused whole."""
        ok = super().validate(extra_validators)
        self.parsed_rows, self.row_problems = [], []
        entries = list(self.rows.entries)
        while entries and entries[-1].form.is_blank():
            entries.pop()
        for number, entry in enumerate(entries, start=1):
            row = entry.form
            problems = []
            if row.is_blank():
                problems.append(_("空行（请把后面各期上移，或填写完整）"))
            elif row.due_on.errors or row.due_on.data is None:
                problems.append(_("到期日无效（格式 YYYY-MM-DD）"))
            amounts = []
            for label, field in ((_("本金"), row.principal), (_("利息"), row.interest)):
                text = (field.data or "").strip()
                if row.is_blank():
                    break
                try:
                    amounts.append(parse_money(text) if text else Decimal("0.00"))
                except ValueError as error:
                    problems.append(_("%(label)s：%(problem)s", label=label, problem=input_error(error)))
            if problems:
                self.row_problems.append(_("第%(n)s行：%(problems)s", n=number, problems=sentences(problems, "，", ", ")))
            else:
                self.parsed_rows.append((row.due_on.data, *amounts))
        if not entries:
            self.row_problems.append(_("还款计划至少需要一期"))
        return ok and not self.row_problems


class PrepaymentForm(FlaskForm):
    """An early repayment: part of the principal (`prepayment`) or all of it (`payoff`), on a
    day. No fee field: the fee is the accepted offer's (its rate x the principal repaid early),
    computed by the service."""

    mode = RadioField(_l("提前还款方式"), choices=[("payoff", _l("全部提前结清")), ("prepayment", _l("部分提前还本"))],
                      default="payoff", validators=[InputRequired(_l("请选择提前还款方式"))])
    principal = StringField(_l("提前归还本金（元）"))
    paid_on = DateField(_l("还款日期"), validators=[InputRequired(_l("请填写还款日期"))])
    reference = StringField(_l("业务流水号/凭证号"), filters=[fold_width],
                            validators=[DataRequired(_l("请填写业务流水号/凭证号")), Length(max=64)])

    parsed_principal: Decimal | None = None  # None: the payoff

    def validate_principal(self, field):
        if self.mode.data != "prepayment":
            self.parsed_principal = None
            return
        try:
            self.parsed_principal = parse_money(field.data or "")
        except ValueError as error:
            raise ValidationError(input_error(error)) from None


class RestructureForm(ScheduleForm):
    """A new schedule agreed for a loan in arrears, row by row, with the agreement's note."""

    note = TextAreaField(_l("重组说明（协议编号、原因）"), validators=[TextLength(2000)])
