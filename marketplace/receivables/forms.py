"""Receivable, document, import and debtor-answer forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, Form, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from marketplace.form_validators import fold_width
from marketplace.formatting import today_shanghai
from marketplace.i18n import input_error, localized
from marketplace.receivables import services
from workflows.identifiers import normalise_uscc, parse_money, uscc_problem

REASON_MAX = 500


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ReceivableForm(FlaskForm):
    """One receivable; `enterprise` is the creditor, `receivable` the row being edited (if any)."""

    debtor_name = StringField(_l("债务人名称"), filters=[_strip],
                              validators=[DataRequired(_l("请输入债务人名称")), Length(max=200)])
    debtor_uscc = StringField(_l("债务人统一社会信用代码"), filters=[normalise_uscc],
                              validators=[DataRequired(_l("请输入债务人统一社会信用代码"))])
    invoice_no = StringField(_l("发票号码"), filters=[fold_width],
                             validators=[DataRequired(_l("请输入发票号码")), Length(max=64)])
    contract_no = StringField(_l("合同编号"), filters=[fold_width], validators=[Optional(), Length(max=64)])
    amount = StringField(_l("金额（元）"), filters=[_strip], validators=[DataRequired(_l("请输入金额"))])
    issue_date = DateField(_l("开票日期"), validators=[DataRequired(_l("请输入开票日期（YYYY-MM-DD）"))])
    due_date = DateField(_l("到期日"), validators=[DataRequired(_l("请输入到期日（YYYY-MM-DD）"))])

    def __init__(self, *args, enterprise, receivable=None, **kwargs):
        super().__init__(*args, obj=receivable, **kwargs)
        self.enterprise = enterprise
        self.receivable = receivable
        self.face_amount = None
        if receivable is not None and not self.is_submitted():
            self.amount.data = f"{receivable.face_amount:.2f}"

    def validate_debtor_uscc(self, field):
        problem = uscc_problem(field.data) or services.related_party_problem(self.enterprise, field.data)
        if problem:
            raise ValidationError(localized(problem))

    def validate_debtor_name(self, field):
        if self.debtor_uscc.data == self.enterprise.uscc:
            return  # the code already names the enterprise: said once, on the code's field
        problem = services.related_party_problem(self.enterprise, "", field.data)
        if problem:
            raise ValidationError(problem)

    def validate_amount(self, field):
        try:
            amount = parse_money(field.data)
        except ValueError as error:
            raise ValidationError(input_error(error)) from None
        if amount <= 0:
            raise ValidationError(_l("金额必须大于0"))
        problem = services.amount_problem(amount)
        if problem:
            raise ValidationError(problem)
        self.face_amount = amount

    def validate_issue_date(self, field):
        if field.data > today_shanghai():
            raise ValidationError(_l("开票日期不能晚于今天"))

    def validate_due_date(self, field):
        if self.issue_date.data and field.data < self.issue_date.data:
            raise ValidationError(_l("到期日不能早于开票日期"))

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        exclude = self.receivable.id if self.receivable is not None else None
        existing = services.duplicate_of(self.enterprise.id, self.debtor_uscc.data, self.invoice_no.data, exclude)
        if existing is not None:
            self.invoice_no.errors.append(services.duplicate_message(existing, self.enterprise.id))
            return False
        return True

    def values(self) -> services.ReceivableFields:
        return services.ReceivableFields(
            debtor_name=self.debtor_name.data, debtor_uscc=self.debtor_uscc.data,
            invoice_no=self.invoice_no.data, contract_no=self.contract_no.data or None,
            face_amount=self.face_amount, issue_date=self.issue_date.data, due_date=self.due_date.data,
        )


class DocumentForm(FlaskForm):
    file = FileField(_l("文件（PDF、JPG或PNG，最大10 MB）"), validators=[FileRequired(_l("请选择要上传的文件"))])


class ImportForm(FlaskForm):
    file = FileField(_l("导入文件（CSV或XLSX）"), validators=[FileRequired(_l("请选择要导入的文件"))])


class AnswerFields(Form):
    """The debtor's answer: confirm, or dispute with a reason (a form of its own below, or one
    line of a debtor request's page)."""

    action = StringField(validators=[AnyOf(["confirm", "dispute"], message=_l("请选择确认或提出异议"))])
    reason = TextAreaField(_l("异议原因"), filters=[_strip],
                           validators=[Length(max=REASON_MAX, message=_l("异议原因最多500个字"))])

    @property
    def confirms(self) -> bool:
        return self.action.data == "confirm"

    def validate_reason(self, field):
        if self.action.data == "dispute" and not field.data:
            raise ValidationError(_l("提出异议时请填写异议原因"))


class AnswerForm(AnswerFields, FlaskForm):
    """The debtor's answer to one receivable, posted on its own."""


class AnswererForm(FlaskForm):
    """A form posted through a debtor's link: the person answering names themself."""

    confirmer_name = StringField(_l("确认人姓名"), filters=[_strip],
                                 validators=[DataRequired(_l("请填写确认人姓名")), Length(max=100)])


class LinkAnswerForm(AnswerFields, AnswererForm):
    """The answer to one receivable given through its signed link."""
