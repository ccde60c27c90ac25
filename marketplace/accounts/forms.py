"""Login, second factor, password and staff-user forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from marketplace.accounts.payee_account import account_number_problem, normalise_account_number
from marketplace.accounts.security import password_problem
from marketplace.extensions import db
from marketplace.i18n import localized
from marketplace.reference.picker import RegionField


def _email_taken(email: str) -> bool:
    from marketplace.accounts.models import User

    return db.session.scalar(select(func.count()).where(User.email == email.strip().lower())) > 0


class LoginForm(FlaskForm):
    email = EmailField(_l("邮箱"), validators=[DataRequired(_l("请输入邮箱")), Length(max=254)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码"))])


class TotpForm(FlaskForm):
    code = StringField(_l("动态验证码"), validators=[DataRequired(_l("请输入6位动态验证码")), Length(min=6, max=7)])


class NewPasswordMixin:
    @staticmethod
    def check_strength(field):
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(localized(problem))


class ChangePasswordForm(FlaskForm, NewPasswordMixin):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请输入当前密码"))])
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(_l("请输入新密码"))])
    confirm = PasswordField(
        _l("确认新密码"), validators=[DataRequired(), EqualTo("new_password", _l("两次输入的新密码不一致"))]
    )

    def validate_new_password(self, field):
        self.check_strength(field)


class UserFields(FlaskForm, NewPasswordMixin):
    """Name, email and initial password for a new user."""

    name = StringField(_l("姓名"), validators=[DataRequired(_l("请输入姓名")), Length(max=100)])
    email = EmailField(
        _l("邮箱"),
        validators=[DataRequired(_l("请输入邮箱")), Email(_l("邮箱格式不正确")), Length(max=254)],
    )
    password = PasswordField(_l("初始密码"), validators=[DataRequired(_l("请输入密码"))])

    def validate_email(self, field):
        if _email_taken(field.data):
            raise ValidationError(_l("该邮箱已被使用"))

    def validate_password(self, field):
        self.check_strength(field)


class StaffUserForm(UserFields):
    role = SelectField(_l("角色"), validators=[DataRequired()])


class InstitutionForm(FlaskForm):
    kind = SelectField(_l("机构类型"), validators=[DataRequired()])
    name = StringField(_l("机构名称"), validators=[DataRequired(_l("请输入机构名称")), Length(max=200)])
    region_code = RegionField(_l("所在地区"), six_digits=True,
                              description=_l("省、市或区县：从列表中选择，或填写名称或行政区划代码"))
    contact = StringField(_l("联系方式"), validators=[Length(max=200)])
    # data providers only (kind "provider"): the one source its records come from
    credit_source = SelectField(_l("数据来源（仅数据提供单位）"), default="")

    def validate_credit_source(self, field):
        if self.kind.data == "provider" and not field.data:
            raise ValidationError(_l("数据提供单位须选择数据来源"))
        if self.kind.data != "provider" and field.data:
            raise ValidationError(_l("只有数据提供单位有数据来源"))


class DisableUserForm(FlaskForm):
    """Disabling a user ends their sessions and API tokens: an explicit confirmation is required."""

    reason = StringField(_l("停用原因"), validators=[Optional(), Length(max=200)])
    confirm = BooleanField(_l("我确认停用该用户：其登录会话和API令牌将立即失效"),
                           validators=[DataRequired(_l("请勾选确认后再停用"))])


class EnableUserForm(FlaskForm):
    """Carries only the CSRF token."""


class RoleForm(FlaskForm):
    role = SelectField(_l("角色"), validators=[DataRequired(_l("请选择角色"))])


class PayeeAccountForm(FlaskForm):
    """The account enterprises transfer fees into (marketplace.accounts.payee_account)."""

    account_name = StringField(_l("户名"), validators=[
        DataRequired(_l("请填写户名")), Length(max=100, message=_l("户名不超过100个字"))])
    bank_name = StringField(_l("开户行"), validators=[
        DataRequired(_l("请填写开户行")), Length(max=100, message=_l("开户行不超过100个字"))])
    account_number = StringField(_l("账号"), validators=[DataRequired(_l("请填写账号")), Length(max=64)])

    def validate_account_number(self, field):
        problem = account_number_problem(normalise_account_number(field.data))
        if problem:
            raise ValidationError(problem)
