"""Forms of the debtor requests: the selection from the receivables list, the delivery per debtor,
and the debtor's answers line by line."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import AnyOf, Email, Length, Optional
from wtforms.widgets import HiddenInput

from marketplace.receivables.debtor_request_models import CHANNELS
from marketplace.receivables.debtor_requests import Delivery, LineAnswer
from marketplace.receivables.forms import AnswererForm, AnswerFields, _strip

MAX_ID = 2**31 - 1  # an integer column's largest id: anything past it names no row


def row_ids(values) -> list[int]:
    """The values that can be row ids; anything else names no row and is dropped."""
    return [int(value) for value in values or [] if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID]


class SelectionForm(FlaskForm):
    """The receivables ticked on the list (a GET: choosing sends nothing), or every pending one."""

    class Meta:
        csrf = False

    receivable = SelectMultipleField(validate_choice=False)
    scope = HiddenField()  # "pending": every pending receivable of the enterprise

    def ids(self) -> list[int] | None:
        """The ticked ids; None for every pending receivable."""
        if self.scope.data == "pending":
            return None
        return row_ids(self.receivable.raw_data)


class DeliveryForm(Form):
    """How one debtor is reached."""

    debtor_uscc = HiddenField()
    channel = StringField(default="email", validators=[AnyOf(CHANNELS, message=_l("请选择发送方式"))])
    email = StringField(_l("债务人电子邮箱"), filters=[_strip], validators=[
        Optional(), Length(max=254, message=_l("电子邮箱最多254个字符")),
        Email(message=_l("电子邮箱格式不正确")),
    ])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.channel.data == "email" and not self.email.data:
            self.email.errors.append(_l("选择电子邮件发送时，请填写债务人的电子邮箱"))
            return False
        return True


class DebtorRequestForm(FlaskForm):
    """The chosen receivables (hidden) and one delivery per debtor."""

    receivable = SelectMultipleField(validate_choice=False)
    debtors = FieldList(FormField(DeliveryForm))

    def ids(self) -> list[int]:
        return row_ids(self.receivable.data)

    def deliveries(self) -> dict[str, Delivery]:
        return {entry.debtor_uscc.data: Delivery(entry.channel.data, entry.email.data or None)
                for entry in self.debtors}


class LineAnswerForm(AnswerFields):
    """One line of the debtor's page: the line's id, confirm or dispute, and the reason."""

    line_id = IntegerField(widget=HiddenInput())


class RequestAnswerForm(AnswererForm):
    """The debtor's one submission: who answers, and every line."""

    lines = FieldList(FormField(LineAnswerForm))

    def answers(self) -> dict[int, LineAnswer]:
        return {entry.line_id.data: LineAnswer(entry.confirms, entry.reason.data or None) for entry in self.lines}
