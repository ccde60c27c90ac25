"""The user page and its actions, shared by the platform admin (every organisation, blueprint
"admin") and the enterprise admin (their own enterprise, blueprint "enterprises"). Each blueprint
loads the user within its scope and passes its endpoint prefix; the rest is here once."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts import management, refusals, tokens
from marketplace.accounts.forms import DisableUserForm, EnableUserForm, RoleForm
from marketplace.accounts.models import User
from marketplace.accounts.roles import ORG_KIND_LABELS, ROLE_LABELS, OrgKind, roles_for_kind
from marketplace.extensions import db
from marketplace.i18n import pick


def _role_form(user: User) -> RoleForm:
    form = RoleForm(role=user.role)  # a posted form's own value wins over this default
    form.role.choices = [(r.value, pick(ROLE_LABELS[r])) for r in roles_for_kind(OrgKind(user.organisation.kind))]
    return form


def render_user(user: User, scope: str, *, disable_form=None, role_form=None, status: int = 200):
    """The user's facts, their recent refused sign-ins and the forms to act on them."""
    page = render_template(
        "accounts/user_detail.html", user=user, scope=scope, role_labels=ROLE_LABELS, kind_labels=ORG_KIND_LABELS,
        refused=refusals.recent_for(user), reasons=refusals.REASONS, api_tokens=tokens.tokens_of(user),
        disable_form=disable_form or DisableUserForm(), enable_form=EnableUserForm(),
        role_form=role_form or _role_form(user), is_self=user.id == current_user.id,
    )
    return page, status


def _done(user: User, scope: str, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(f"{scope}.user", user_id=user.id))


def _refused(user: User, scope: str, error: management.ManagementRefused, **forms):
    flash(str(error), "danger")  # refused before anything changed
    return render_user(user, scope, status=409, **forms)


def disable(user: User, scope: str):
    form = DisableUserForm()
    if not form.validate_on_submit():
        return render_user(user, scope, disable_form=form, status=400)
    try:
        revoked = management.disable_user(user, current_user._get_current_object(), form.reason.data or "")
    except management.ManagementRefused as e:
        return _refused(user, scope, e, disable_form=form)
    message = _("已停用该用户，其登录会话已失效")
    if revoked:
        message += _("，已撤销 %(n)s 个API令牌", n=revoked)
    return _done(user, scope, message)


def enable(user: User, scope: str):
    if not EnableUserForm().validate_on_submit():
        return render_user(user, scope, status=400)
    try:
        management.enable_user(user, current_user._get_current_object())
    except management.ManagementRefused as e:
        return _refused(user, scope, e)
    return _done(user, scope, _("已重新启用该用户"))


def change_role(user: User, scope: str):
    form = _role_form(user)
    if not form.validate_on_submit():
        return render_user(user, scope, role_form=form, status=400)
    try:
        management.change_role(user, form.role.data, current_user._get_current_object())
    except management.ManagementRefused as e:
        return _refused(user, scope, e, role_form=form)
    return _done(user, scope, _("角色已修改"))
