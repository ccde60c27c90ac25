"""Refused sign-ins, recorded with their reason so an administrator can see why a user was
turned away (the user always sees the same neutral message)."""

from __future__ import annotations

from sqlalchemy import select

from marketplace import audit
from marketplace.extensions import db

ACTION = "auth.login_failed"

# reason code: (zh, en)
REASONS = {
    "wrong_password": ("密码错误", "Wrong password"),
    "unknown_account": ("账户不存在", "No such account"),
    "rate_limited": ("尝试过于频繁，已暂缓", "Too many attempts, slowed down"),
    "disabled": ("账户已停用", "Account disabled"),
    "organisation_disabled": ("所属机构已停用", "Organisation disabled"),
    "unconfirmed": ("注册邮件尚未确认", "Registration email not confirmed"),
    "totp_failed": ("动态验证码错误", "Wrong one-time code"),
    "totp_rate_limited": ("动态验证码尝试过于频繁", "Too many one-time codes"),
    "pending_expired": ("登录超时未完成第二步验证", "Second step not completed in time"),
}


def record(reason: str, user=None, email: str | None = None) -> None:
    """Append a refused sign-in to the audit log (the caller commits)."""
    if reason not in REASONS:
        raise ValueError(f"unknown refusal reason {reason!r}")
    email = (email or getattr(user, "email", None) or "")[:254]
    if user is not None:
        audit.record(ACTION, user, actor=None, reason=reason, email=email)
    else:
        audit.record(ACTION, object_type="users", object_id=email[:64], actor=None, reason=reason, email=email)


def recent_for(user, limit: int = 20) -> list[audit.AuditEvent]:
    """The user's latest refused sign-ins, newest first (by id or, before it existed, by email)."""
    return list(db.session.scalars(
        select(audit.AuditEvent)
        .where(audit.AuditEvent.action == ACTION, audit.AuditEvent.object_type == "users",
               audit.AuditEvent.object_id.in_([str(user.id), user.email[:64]]))
        .order_by(audit.AuditEvent.id.desc())
        .limit(limit)
    ))
