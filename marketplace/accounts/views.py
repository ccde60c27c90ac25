"""Login (password, then a TOTP second factor for staff), logout, password change."""

from __future__ import annotations

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
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from marketplace import audit
from marketplace.accounts import security
from marketplace.accounts.forms import ChangePasswordForm, LoginForm, TotpForm
from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.extensions import db, limiter

bp = Blueprint("accounts", __name__)

PENDING = "pending_login"  # session key: user id and generation awaiting the second factor
LOGIN_FAILED = "邮箱或密码错误"  # one message whether or not the account exists


def _login_account_key() -> str:
    return "login:" + (request.form.get("email") or "").strip().lower()


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=_login_account_key)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(User.email == email))
        if not security.check_password(user.password_hash if user else None, form.password.data) or not user.is_active:
            audit.record("auth.login_failed", object_type="users", object_id=email)
            db.session.commit()
            flash(_(LOGIN_FAILED), "danger")
            return render_template("accounts/login.html", form=form), 200
        next_url = _safe_next(request.args.get("next"))
        if user.is_staff:
            session.clear()  # rotate: nothing from before the login survives
            session[PENDING] = {"id": user.id, "gen": user.auth_generation, "next": next_url}
            if user.totp_enrolled_at is None:
                return redirect(url_for("accounts.enroll_totp"))
            return redirect(url_for("accounts.two_factor"))
        return _complete_login(user, next_url)
    return render_template("accounts/login.html", form=form)


def _complete_login(user: User, next_url: str):
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user)
    user.last_login_at = utcnow()
    audit.record("auth.login", user, actor=user)
    db.session.commit()
    return redirect(next_url)


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not pending:
        return None
    user = db.session.get(User, pending["id"])
    if user is None or user.auth_generation != pending["gen"] or not user.is_active:
        return None
    return user


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
def two_factor():
    user = _pending_user()
    if user is None or user.totp_enrolled_at is None:
        return redirect(url_for("accounts.login"))
    form = TotpForm()
    if form.validate_on_submit():
        step = security.verify_totp(user.totp_secret, form.code.data, user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            return _complete_login(user, session[PENDING]["next"])
        audit.record("auth.totp_failed", user, actor=user)
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
        step = security.verify_totp(secret, form.code.data, None)
        if step is not None:
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
    audit.record("auth.logout", current_user._get_current_object())
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
