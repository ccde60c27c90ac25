"""The payee's confirmation that a bank transfer arrived."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class ConfirmTransferForm(FlaskForm):
    reference = StringField(_l("银行转账流水号"), validators=[
        DataRequired(_l("请填写银行转账流水号")), Length(max=64, message=_l("流水号不超过64个字符"))])
