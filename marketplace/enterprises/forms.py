"""Enterprise registration, consent and user forms."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.accounts.forms import UserFields
from marketplace.enterprises.models import (
    CONSENT_PURPOSE_LABELS,
    CONSENT_PURPOSES,
    CONSENT_SCOPES,
    SCOPE_LABELS,
    Enterprise,
)
from marketplace.extensions import db
from marketplace.form_validators import fold_width
from marketplace.formatting import today_shanghai
from marketplace.i18n import localized
from marketplace.reference.industries import INDUSTRY_DIVISIONS, industry_choices
from marketplace.reference.picker import RegionField
from marketplace.reference.regions import is_region_code
from workflows.identifiers import normalise_uscc, resident_id_problem, uscc_problem

PHONE = Regexp(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$", message=_l("请输入手机号或带区号的固定电话"))


class RegistrationForm(UserFields):
    """The enterprise and its first user (the enterprise admin) in one step, asking only what the
    credit code does not say; the rest is completed later (ProfileForm) before the first request."""

    enterprise_name = StringField(_l("企业名称"), validators=[DataRequired(_l("请输入企业名称")), Length(min=4, max=200)])
    uscc = StringField(_l("统一社会信用代码"), filters=[fold_width], validators=[DataRequired(_l("请输入统一社会信用代码"))])

    def validate_uscc(self, field):
        problem = uscc_problem(field.data or "")
        if problem:
            raise ValidationError(localized(problem))
        code = normalise_uscc(field.data)
        exists = db.session.scalar(select(func.count()).where(Enterprise.uscc == code))
        if exists:
            raise ValidationError(_l("该统一社会信用代码已注册，如需加入该企业请联系其管理员"))

    def validate_email(self, field):
        """No "already used" error here: that would tell anyone which addresses have accounts
        (registration.request_registration answers the same either way)."""


class ProfileForm(FlaskForm):
    """What registration left for later, required before the first financing request."""

    legal_rep_name = StringField(_l("法定代表人姓名"), validators=[DataRequired(_l("请输入法定代表人姓名")), Length(max=50)])
    legal_rep_id_number = StringField(
        _l("法定代表人身份证号码"), validators=[DataRequired(_l("请输入法定代表人身份证号码"))]
    )
    industry_code = SelectField(_l("所属行业（GB/T 4754）"), validators=[DataRequired(_l("请选择行业"))])
    region_code = RegionField(_l("所在区县"), counties_only=True, validators=[InputRequired(_l("请选择所在区县"))],
                              description=_l("填写区县名称或6位行政区划代码，也可从列表中选择"))
    park = StringField(_l("所在园区"), validators=[Optional(), Length(max=100)])
    address = StringField(_l("经营地址"), validators=[Optional(), Length(max=200)])
    contact_phone = StringField(_l("联系电话"), filters=[fold_width], validators=[DataRequired(_l("请输入联系电话")), PHONE])

    def __init__(self, *args, has_id_number: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # a dict makes WTForms render <optgroup>s; the first, unlabelled group holds the prompt
        self.industry_code.choices = {"": [("", _l("请选择行业"))], **dict(industry_choices())}
        if has_id_number:  # the stored number is never put back in the field: blank keeps it
            self.legal_rep_id_number.validators = [Optional()]
            self.legal_rep_id_number.flags.required = False

    def validate_legal_rep_id_number(self, field):
        problem = resident_id_problem(field.data or "")
        if problem:
            raise ValidationError(localized(problem))

    def validate_industry_code(self, field):
        if field.data not in INDUSTRY_DIVISIONS:
            raise ValidationError(_l("请从列表中选择行业"))

    def validate_region_code(self, field):
        if field.errors:
            return  # the picker said why it could not read what was typed
        if not is_region_code(field.data):
            raise ValidationError(_l("请选择到区县一级的行政区划"))


class ConsentForm(FlaskForm):
    grantee_org_id = SelectField(_l("授权机构"), coerce=int, validators=[DataRequired(_l("请选择机构"))])
    scopes = SelectMultipleField(
        _l("授权范围"),
        choices=[(s, s) for s in CONSENT_SCOPES],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validators=[DataRequired(_l("请至少选择一项授权范围"))],
    )
    # What the institution may read for; none ticked: the review it does by its kind.
    purposes = SelectMultipleField(
        _l("用途类别"),
        choices=[(p, p) for p in CONSENT_PURPOSES],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        description=_l("机构只能为所选用途查询您的数据；不选则按机构类型默认：银行为融资审查和贷后管理，担保公司为担保审查和贷后管理"),
    )
    purpose = StringField(_l("授权用途"), validators=[DataRequired(_l("请填写授权用途")), Length(max=200)])
    valid_from = DateField(_l("生效日期"), validators=[DataRequired(_l("请填写生效日期"))])
    valid_to = DateField(_l("截止日期"), validators=[DataRequired(_l("请填写截止日期"))])

    def __init__(self, *args, labels=None, **kwargs):
        super().__init__(*args, **kwargs)
        if labels:
            self.scopes.choices = [(s, labels(SCOPE_LABELS[s])) for s in CONSENT_SCOPES]
            self.purposes.choices = [(p, labels(CONSENT_PURPOSE_LABELS[p])) for p in CONSENT_PURPOSES]
        if not self.valid_from.data and not self.is_submitted():
            self.valid_from.data = today_shanghai()
            self.valid_to.data = today_shanghai() + timedelta(days=365)

    def validate_valid_to(self, field):
        if self.valid_from.data and field.data and field.data < self.valid_from.data:
            raise ValidationError(_l("截止日期不能早于生效日期"))
        if field.data and field.data < today_shanghai():
            raise ValidationError(_l("截止日期不能早于今天"))
        if self.valid_from.data and field.data and (field.data - self.valid_from.data).days > 3 * 366:
            raise ValidationError(_l("授权期限最长3年"))


class CommitmentSignForm(FlaskForm):
    signer_name = StringField(_l("签署人姓名"), validators=[DataRequired(_l("请输入签署人姓名")), Length(max=50)])


class EnterpriseUserForm(UserFields):
    role = SelectField(_l("角色"), validators=[DataRequired()])


class RevokeForm(FlaskForm):
    """Carries only the CSRF token for a confirmed, irreversible action."""

    reason = TextAreaField(_l("原因"), validators=[Optional(), Length(max=200)])


class ConfirmForm(FlaskForm):
    """Carries only the CSRF token, for a button that confirms."""
