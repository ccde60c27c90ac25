"""Self-registration that does not reveal which email addresses have accounts.

Whatever the address, the visitor sees the same page ("check your email"). A new address gets
its account created unconfirmed and an email with a link that confirms it and signs in; an
address that already has an account (an enterprise user or institution staff) gets an email
telling its owner that someone tried to register with it, and nothing is created. The link is
signed (itsdangerous) and expires after REGISTRATION_LINK_HOURS.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace import audit
from marketplace.accounts import security
from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.enterprises import services
from marketplace.extensions import db
from marketplace.mail import send_mail

SALT = "registration-confirm"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def confirmation_token(user: User) -> str:
    return _serializer().dumps({"user": user.id, "email": user.email})


def _external(endpoint: str, **values) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def _existing(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def request_registration(*, email: str, password: str, **enterprise_fields) -> Callable[[], None]:
    """Register, or prepare to tell the address's owner; returns the email to send once the
    caller has committed. The caller shows the same page either way."""
    email = email.strip().lower()
    owner = _existing(email)
    if owner is None:
        try:
            with db.session.begin_nested():
                user = services.register_enterprise(email=email, password=password, **enterprise_fields)
                user.email_confirmed_at = None
        except IntegrityError:  # the same address registered at the same moment
            owner = _existing(email)
    if owner is not None:
        security.hash_password(password)  # the same work as a registration, so timing tells nothing
        audit.record("registration.email_taken", owner, actor=None, email=email)
        return lambda: _send_already_registered(owner)
    return lambda: _send_confirmation(user)


def _send_confirmation(user: User) -> None:
    link = _external("enterprises.confirm_registration", token=confirmation_token(user))
    hours = current_app.config["REGISTRATION_LINK_HOURS"]
    send_mail(user.email, _("请确认您的企业注册"), _(
        "您好，%(name)s：\n\n请在 %(hours)s 小时内打开以下链接，完成企业注册：\n%(link)s\n\n"
        "如果不是您本人操作，请忽略本邮件，该注册不会生效。", name=user.name, hours=hours, link=link))


def _send_already_registered(owner: User) -> None:
    send_mail(owner.email, _("有人使用您的邮箱申请注册"), _(
        "您好，%(name)s：\n\n有人使用您的邮箱在平台申请注册企业账户。您已有账户，无需再次注册，"
        "可直接登录：%(link)s\n忘记密码请联系您所在机构的管理员。\n\n如果不是您本人操作，请忽略本邮件。",
        name=owner.name, link=_external("accounts.login")))


class LinkRefused(ValueError):
    """The confirmation link is invalid or expired (a message for the visitor)."""


def confirm(token: str) -> User:
    """The account the link confirms, now confirmed (audited); already-confirmed accounts are
    returned as they are (the link was used before)."""
    max_age = current_app.config["REGISTRATION_LINK_HOURS"] * 3600
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as e:
        raise LinkRefused(_("确认链接已过期，请重新注册")) from e
    except BadSignature as e:
        raise LinkRefused(_("确认链接无效")) from e
    user = db.session.get(User, data.get("user")) if isinstance(data, dict) else None
    if user is None or user.email != data.get("email"):
        raise LinkRefused(_("确认链接无效"))
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        audit.record("registration.confirmed", user, actor=user, enterprise_id=getattr(user.enterprise, "id", None))
    return user
