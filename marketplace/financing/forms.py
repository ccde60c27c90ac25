"""The financing request form."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.enterprises.consents import ROUTING_SCOPE
from marketplace.enterprises.forms import ConsentForm
from marketplace.financing.models import FinancingRequest
from marketplace.form_validators import TextLength, WholeNumberRange, fold_width
from marketplace.formatting import today_shanghai
from marketplace.i18n import input_error, pick
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
    amount = StringField(_l("融资金额（元）"), filters=[fold_width], validators=[DataRequired(_l("请填写融资金额"))])
    term_days = IntegerField(
        _l("融资期限（天）"),
        validators=[InputRequired(_l("请填写融资期限")),
                    WholeNumberRange(min=1, max=MAX_TERM_DAYS, message=_l("融资期限应在1至720天之间"))],
    )
    purpose = TextAreaField(_l("资金用途"), validators=[DataRequired(_l("请填写资金用途")), TextLength(FinancingRequest.purpose)])
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


class RoutingConsentForm(ConsentForm):
    """The consent an institution needs before a request goes to it, granted from the request
    page: bank statements preset (and required), the purpose and validity shown and editable.
    One per institution on the page, told apart by a prefix."""

    grantee_org_id = None  # the institution is in the URL

    def __init__(self, *args, request_id: int, institution_id: int, **kwargs):
        super().__init__(*args, labels=pick, prefix=f"consent-{institution_id}", **kwargs)
        if not self.is_submitted():
            self.scopes.data = [ROUTING_SCOPE]
            self.purpose.data = _("融资申请 #%(id)s 的审查、授信与贷后管理", id=request_id)

    def validate_scopes(self, field):
        if ROUTING_SCOPE not in (field.data or ()):
            raise ValidationError(_l("推送融资申请需要授权该机构查询银行流水，请勾选“银行流水”"))

    def validate_valid_from(self, field):
        if field.data and field.data > today_shanghai():
            raise ValidationError(_l("生效日期不能晚于今天：推送申请需要当前有效的授权"))
