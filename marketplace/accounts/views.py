"""Login (password, then a TOTP second factor for staff), logout, password change."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from marketplace import audit
from marketplace.accounts import chrome, refusals, security, throttle
from marketplace.accounts.forms import ChangePasswordForm, LoginForm, TotpForm
from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.extensions import db, limiter
from marketplace.web_security import safe_next

bp = Blueprint("accounts", __name__)
bp.add_app_template_global(chrome.site_header, "site_header")  # base.html's top bar, kept rendered

PENDING = "pending_login"  # session key: user id and generation awaiting the second factor
LOGIN_FAILED = "邮箱或密码错误"  # one message whether or not the account exists


def _client_address() -> str:
    return request.remote_addr or "-"


def _too_many(retry_seconds: int, template: str, form):
    """429 with Retry-After, the page redrawn with a Chinese explanation."""
    minutes = max(1, -(-retry_seconds // 60))
    flash(ngettext("尝试次数过多，请 %(minutes)s 分钟后再试", "尝试次数过多，请 %(minutes)s 分钟后再试", minutes,
                   minutes=minutes), "danger")
    return render_template(template, form=form), 429, {"Retry-After": str(retry_seconds)}


def _safe_next(target: str | None) -> str:
    """Where to go after the login: a path of this site (web_security.safe_next), else the dashboard."""
    return safe_next(target) or url_for("main.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        pair = (email, _client_address())
        user = db.session.scalar(select(User).where(User.email == email))
        wait = throttle.retry_after("LOGIN_FAILURES_PER_ACCOUNT_IP", *pair)
        if wait:
            refusals.record("rate_limited", user, email)
            db.session.commit()
            return _too_many(wait, "accounts/login.html", form)
        reason = _password_refusal(user, form.password.data)
        if reason == "unconfirmed":
            refusals.record(reason, user)
            db.session.commit()
            flash(_("请先查收注册邮件，点击其中的链接完成注册"), "warning")
            return render_template("accounts/login.html", form=form), 200
        if reason:
            if reason in ("wrong_password", "unknown_account"):
                throttle.count_failure("LOGIN_FAILURES_PER_ACCOUNT_IP", *pair)
            refusals.record(reason, user, email)
            db.session.commit()
            flash(_(LOGIN_FAILED), "danger")
            return render_template("accounts/login.html", form=form), 200
        throttle.forget("LOGIN_FAILURES_PER_ACCOUNT_IP", *pair)
        next_url = _safe_next(request.args.get("next"))
        if user.is_staff:
            session.clear()  # rotate: nothing from before the login survives
            session[PENDING] = {"id": user.id, "gen": user.auth_generation, "next": next_url, "at": time.time()}
            if user.totp_enrolled_at is None:
                return redirect(url_for("accounts.enroll_totp"))
            return redirect(url_for("accounts.two_factor"))
        return _complete_login(user, next_url)
    return render_template("accounts/login.html", form=form)


def _password_refusal(user: User | None, password: str) -> str | None:
    """Why this sign-in is refused (a refusals.REASONS code), None to go on. The password is
    checked first and for unknown accounts too, so every refusal costs the same time."""
    if not security.check_password(user.password_hash if user else None, password):
        return "unknown_account" if user is None else "wrong_password"
    if not user.active:
        return "disabled"
    if not user.organisation.active:
        return "organisation_disabled"
    if user.email_confirmed_at is None:
        return "unconfirmed"
    return None


def _complete_login(user: User, next_url: str):
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
        user.locale = locale  # the language chosen before signing in is the one emails are written in
    login_user(user)
    user.last_login_at = utcnow()
    audit.record("auth.login", user, actor=user)
    db.session.commit()
    return redirect(_safe_next(next_url))


def _pending_user() -> User | None:
    """The user whose password was accepted in this session, while the second factor is pending
    (LOGIN_PENDING_SECONDS at most; an expired one is dropped and logged)."""
    pending = session.get(PENDING)
    if not pending:
        return None
    user = db.session.get(User, pending["id"])
    if user is None or user.auth_generation != pending["gen"] or not user.is_active:
        return None
    if time.time() - pending.get("at", 0) > current_app.config["LOGIN_PENDING_SECONDS"]:
        session.pop(PENDING, None)
        session.pop("enroll_secret", None)
        refusals.record("pending_expired", user)
        db.session.commit()
        flash(_("登录已超时，请重新输入密码"), "warning")
        return None
    return user


def _totp_refused(user: User, template: str, form):
    """The answer to too many wrong codes for this account, or None while codes may be tried."""
    wait = throttle.retry_after("TOTP_FAILURES_PER_ACCOUNT", str(user.id))
    if not wait:
        return None
    refusals.record("totp_rate_limited", user)
    db.session.commit()
    return _too_many(wait, template, form)


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
def two_factor():
    user = _pending_user()
    if user is None or user.totp_enrolled_at is None:
        return redirect(url_for("accounts.login"))
    form = TotpForm()
    if form.validate_on_submit():
        if (refused := _totp_refused(user, "accounts/two_factor.html", form)) is not None:
            return refused
        step = security.verify_totp(user.totp_secret, form.code.data, user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            throttle.forget("TOTP_FAILURES_PER_ACCOUNT", str(user.id))
            return _complete_login(user, session[PENDING]["next"])
        throttle.count_failure("TOTP_FAILURES_PER_ACCOUNT", str(user.id))
        refusals.record("totp_failed", user)
        db.session.commit()
        flash(_("动态验证码不正确或已使用，请等待新的验证码"), "danger")
    return render_template("accounts/two_factor.html", form=form)


@bp.route("/login/enroll", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
def enroll_totp():
    """First staff login: bind an authenticator app by QR code, then prove it with a code."""
    user = _pending_user()
    if user is None or user.totp_enrolled_at is not None:
        return redirect(url_for("accounts.login"))
    secret = session.get("enroll_secret") or security.new_totp_secret()
    session["enroll_secret"] = secret
    form = TotpForm()
    if form.validate_on_submit():
        if (refused := _totp_refused(user, "accounts/enroll_totp.html", form)) is not None:
            return refused
        step = security.verify_totp(secret, form.code.data, None)
        if step is None:
            throttle.count_failure("TOTP_FAILURES_PER_ACCOUNT", str(user.id))
        else:
            user.totp_secret = secret
            user.totp_enrolled_at = utcnow()
            user.totp_last_step = step
            audit.record("auth.totp_enrolled", user, actor=user)
            flash(_("已绑定动态验证码"), "success")
            return _complete_login(user, session[PENDING]["next"])
        flash(_("动态验证码不正确，请确认手机时间准确后重试"), "danger")
    uri = security.totp_uri(secret, user.email, current_app.config["TOTP_ISSUER"])
    return render_template("accounts/enroll_totp.html", form=form, qr_svg=security.totp_qr_svg(uri), secret=secret)


@bp.post("/logout")
def logout():
    """End the session on the server too: the auth generation moves on, so a copy of this
    session's cookie (and the user's other sessions) no longer signs anyone in."""
    user: User = current_user._get_current_object()
    user.auth_generation += 1
    audit.record("auth.logout", user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("您已退出登录"), "info")
    return redirect(url_for("main.index"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user: User = current_user._get_current_object()
        if not security.check_password(user.password_hash, form.current_password.data):
            form.current_password.errors.append(_("当前密码不正确"))
        else:
            user.password_hash = security.hash_password(form.new_password.data)
            user.auth_generation += 1  # every other session of this user ends here
            audit.record("auth.password_changed", user)
            db.session.commit()
            login_user(user)  # this session carries the new generation
            flash(_("密码已修改，其他设备上的登录已失效"), "success")
            return redirect(url_for("main.dashboard"))
    return render_template("accounts/change_password.html", form=form)
