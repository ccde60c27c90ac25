"""The append-only audit log, each row chained to the previous one by an HMAC.

The key comes from configuration (AUDIT_KEY), never from the database, so whoever can write
the table cannot forge a consistent chain. `flask audit verify` walks the chain and names the
first broken row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

import click
from flask import current_app, has_request_context, request
from flask.cli import AppGroup
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, String, select, text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import UTCDateTime, utcnow
from marketplace.extensions import db

GENESIS = "0" * 64


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    # The enterprise whose data this concerns: the enterprise's access log reads this.
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    purpose: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))
    prev_hmac: Mapped[str] = mapped_column(String(64))
    hmac: Mapped[str] = mapped_column(String(64), unique=True)

    def canonical(self) -> bytes:
        """The bytes the HMAC covers: every field but id and the row's own hmac."""
        body = {
            "occurred_at": self.occurred_at.isoformat(timespec="microseconds"),
            "actor_user_id": self.actor_user_id,
            "actor_org_id": self.actor_org_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "enterprise_id": self.enterprise_id,
            "purpose": self.purpose,
            "details": self.details or {},
            "ip": self.ip,
            "prev": self.prev_hmac,
        }
        return json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()


def _sign(event: AuditEvent, key: str) -> str:
    return hmac.new(key.encode(), event.canonical(), hashlib.sha256).hexdigest()


def _lock_chain() -> None:
    """Serialise writers so two transactions never chain onto the same previous row."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(727001)"))


def record(
    action: str,
    obj: Any = None,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    enterprise_id: int | None = None,
    purpose: str | None = None,
    actor=None,
    occurred_at: datetime | None = None,
    **details: Any,
) -> AuditEvent:
    """Append one event in the current transaction (the caller's commit makes it durable).
    `occurred_at` (default: now) is for events recorded after the fact, such as the demo's
    history; the chain orders events by id whatever their times."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    _lock_chain()
    previous = db.session.scalar(select(AuditEvent.hmac).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        occurred_at=occurred_at or utcnow(),
        actor_user_id=getattr(actor, "id", None),
        actor_org_id=getattr(actor, "organisation_id", None),
        action=action,
        object_type=object_type or "-",
        object_id=None if object_id is None else str(object_id),
        enterprise_id=enterprise_id,
        purpose=purpose,
        details=_jsonable(details),
        ip=request.remote_addr if has_request_context() else None,
        prev_hmac=previous or GENESIS,
    )
    event.hmac = _sign(event, current_app.config["AUDIT_KEY"])
    db.session.add(event)
    db.session.flush()
    return event


def record_credit_read(enterprise_id: int, what: str, purpose: str, **details: Any) -> AuditEvent:
    """Log a read of an enterprise's credit data; the enterprise sees these in its access log."""
    return record(
        "credit_data.read",
        object_type=what,
        object_id=enterprise_id,
        enterprise_id=enterprise_id,
        purpose=purpose,
        **details,
    )


def _jsonable(details: dict) -> dict:
    return json.loads(json.dumps(details, default=str, ensure_ascii=False))


def verify_chain(key: str, batch: int = 1000) -> tuple[int, AuditEvent | None, str | None]:
    """Walk the chain in id order; return (rows checked, first broken row, why)."""
    previous = GENESIS
    checked = 0
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch)):
        if event.prev_hmac != previous:
            return checked, event, "prev_hmac does not match the previous row (a row was removed or reordered)"
        if not hmac.compare_digest(event.hmac, _sign(event, key)):
            return checked, event, "hmac does not match the row's contents (the row was altered)"
        previous = event.hmac
        checked += 1
    return checked, None, None


audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def verify_command():
    """Check the HMAC chain; exit 1 naming the first broken row."""
    checked, broken, why = verify_chain(current_app.config["AUDIT_KEY"])
    if broken is None:
        click.echo(f"OK: {checked} audit events, chain intact")
        return
    click.echo(f"BROKEN at audit event id={broken.id} ({broken.action}, {broken.occurred_at:%Y-%m-%d %H:%M:%S}Z): {why}")
    click.echo(f"{checked} events before it are intact")
    raise SystemExit(1)
