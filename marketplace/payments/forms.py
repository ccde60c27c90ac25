"""The payee's confirmation that a bank transfer arrived; the enterprise's record of its transfer."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class ConfirmTransferForm(FlaskForm):
    reference = StringField(_l("银行转账流水号"), validators=[
        DataRequired(_l("请填写银行转账流水号")), Length(max=64, message=_l("流水号不超过64个字符"))])


class RecordTransferForm(FlaskForm):
    """The enterprise's transfer: the reference its bank printed and the receipt (checked by
    marketplace.payments.transfers, like every upload)."""

    reference = StringField(_l("银行转账流水号"), validators=[
        DataRequired(_l("请填写银行转账流水号")), Length(max=64, message=_l("流水号不超过64个字符"))])
    receipt = FileField(_l("转账回单（PDF、JPG或PNG，最大10 MB）"))


class RejectTransferForm(FlaskForm):
    reason = TextAreaField(_l("退回原因"), validators=[
        DataRequired(_l("请填写退回原因")), Length(max=500, message=_l("退回原因不超过500个字"))])
