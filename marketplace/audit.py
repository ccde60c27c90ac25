"""The append-only audit log, each row chained to the previous one by an HMAC.

The key comes from configuration (AUDIT_KEY), never from the database, so whoever can write
the table cannot forge a consistent chain. `flask audit verify` walks the chain and names the
first broken row.

A chain alone cannot tell that its last rows, or all of them, were removed: what remains is
still a valid chain. So its head is anchored outside the table twice over:
- `audit_anchors` (one row) names the last event, its HMAC and the number of events. A database
  trigger advances it on every insert, in the same transaction; the application role may only
  read it (see marketplace/db_roles.py).
- `audit_checkpoints` (append-only) holds the head every AUDIT_CHECKPOINT_EVERY events and at
  each `flask audit checkpoint` (run it from cron and keep its output off the database host),
  each signed with the audit key, so a checkpoint cannot be forged nor the anchor rolled back
  past one without the verification noticing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

import click
from flask import current_app, has_app_context, has_request_context, request
from flask.cli import AppGroup
from flask_login import current_user
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    select,
    text,
)
from sqlalchemy import event as orm_events
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column
from sqlalchemy.sql.util import find_tables

from marketplace.db import UTCDateTime, utcnow
from marketplace.extensions import db

GENESIS = "0" * 64


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object_type", "object_type"),)  # the audit log's filter (issue 15)

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


class AuditAnchor(db.Model):
    """The chain's head as the database last saw it, advanced by a trigger on audit_events."""

    __tablename__ = "audit_anchors"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer)
    last_hmac: Mapped[str] = mapped_column(String(64))
    events: Mapped[int] = mapped_column(Integer)


class AuditCheckpoint(db.Model):
    """The chain's head at a moment, signed with the audit key (append-only)."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_event_id: Mapped[int] = mapped_column(Integer, index=True)
    last_hmac: Mapped[str] = mapped_column(String(64))
    events: Mapped[int] = mapped_column(Integer)
    signature: Mapped[str] = mapped_column(String(64))

    def canonical(self) -> bytes:
        return (f"audit-checkpoint|{self.last_event_id}|{self.last_hmac}|{self.events}|"
                f"{self.created_at.isoformat(timespec='microseconds')}").encode()

    def line(self) -> str:
        """One line to keep outside the database (a log, another host)."""
        return (f"checkpoint id={self.id} at={self.created_at.isoformat(timespec='seconds')} "
                f"last_event_id={self.last_event_id} events={self.events} hmac={self.last_hmac} "
                f"signature={self.signature}")


def _sign(event: AuditEvent, key: str) -> str:
    return hmac.new(key.encode(), event.canonical(), hashlib.sha256).hexdigest()


def _lock_chain(session=None) -> None:
    """Serialise writers so two transactions never chain onto the same previous row."""
    session = session or db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(727001)"))


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
    (event,) = _append([_unchained(action, object_type, object_id, enterprise_id, purpose, actor, occurred_at,
                                   details)])
    return event


def _unchained(action: str, object_type: str | None, object_id: Any, enterprise_id: int | None,
               purpose: str | None, actor, occurred_at: datetime | None, details: dict) -> AuditEvent:
    """An event not yet linked to the chain (no prev_hmac, no hmac)."""
    return AuditEvent(
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
    )


# --- chaining at commit ------------------------------------------------------------------------
# Chaining takes the chain's lock, which is held until the transaction ends. Taken where an event
# is recorded, it made every transaction that audits (nearly all that write) run one at a time
# from its first event to its commit: a verification held it for 130 of its 155 ms, so a second
# Celery process added nothing. So events wait in the session (PENDING, with the transaction or
# savepoint they were recorded in) and are chained and inserted in the order recorded as the last
# step before COMMIT, or earlier when the transaction itself reads the log (a SELECT touching
# audit_events). A savepoint or transaction that rolls back drops the events recorded in it.

PENDING = "audit_pending"


def _append(events: list[AuditEvent]) -> list[AuditEvent]:
    """Queue the events, in order, to be chained at commit (their id and hmac are set then)."""
    session = db.session()
    where = session.get_nested_transaction() or session.get_transaction()
    config = current_app.config  # read now: the commit may come outside the app's context
    keyed = (config["AUDIT_KEY"], config.get("AUDIT_CHECKPOINT_EVERY") or 0)
    session.info.setdefault(PENDING, []).extend((where, keyed, event) for event in events)
    session.flush()  # the caller's rows, as when events were inserted here (services count on it)
    return events


def flush_pending(session=None) -> list[AuditEvent]:
    """Chain the session's waiting events onto the log's head and insert them now (one INSERT
    for all: the ORM assigns their ids in the order given). A checkpoint follows when an event's
    id is a multiple of AUDIT_CHECKPOINT_EVERY; it names the head as it then is."""
    session = session or db.session()
    pending = session.info.pop(PENDING, [])
    if not pending:
        return []
    events = [event for _where, _keyed, event in pending]
    key, every = pending[-1][1]
    _lock_chain(session)
    previous = session.scalar(select(AuditEvent.hmac).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
    for event in events:
        event.prev_hmac = previous
        event.hmac = previous = _sign(event, key)
    session.add_all(events)
    session.flush()
    if every and any(event.id % every == 0 for event in events):
        write_checkpoint(key, session)
    return events


def _chain_before_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released (SQLAlchemy calls this hook for those too): not the end yet
    if session.info.get(PENDING):
        session.flush()  # the transaction's other rows first: the lock is taken last
        flush_pending(session)


@orm_events.listens_for(Session, "do_orm_execute")
def _chain_before_reading(state) -> None:
    """A statement that reads (or touches) the log sees the transaction's own events (chained now)."""
    if state.session.info.get(PENDING) and AuditEvent.__table__ in find_tables(
            state.statement, include_selects=True, include_joins=True, include_crud=True):
        flush_pending(state.session)


@orm_events.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """Events recorded in the transaction or savepoint that rolled back (or in one inside it)
    are dropped with it."""
    pending = session.info.get(PENDING)
    if not pending:
        return

    def inside(where) -> bool:
        while where is not None:
            if where is previous_transaction:
                return True
            where = where.parent
        return False

    session.info[PENDING] = [entry for entry in pending if not inside(entry[0])]
    if previous_transaction.parent is None:
        session.info.pop(PENDING, None)


@orm_events.listens_for(Session, "after_commit")
def _none_left(session: Session) -> None:
    if session.in_transaction():
        return  # a savepoint released (this hook runs for those too): the transaction goes on
    left = session.info.pop(PENDING, None)
    if left and has_app_context():  # a before_commit hook registered after the audit's recorded them
        current_app.logger.error("audit: %d events recorded after the chain was written were lost", len(left))


def _sign_checkpoint(checkpoint: AuditCheckpoint, key: str) -> str:
    return hmac.new(key.encode(), checkpoint.canonical(), hashlib.sha256).hexdigest()


def read_anchor(session=None) -> AuditAnchor | None:
    """The anchor as stored now (the trigger changes it behind the session's back)."""
    return (session or db.session).scalar(select(AuditAnchor).where(AuditAnchor.id == 1).execution_options(populate_existing=True))


def write_checkpoint(key: str, session=None) -> AuditCheckpoint:
    """Sign and store the chain's current head (in the caller's transaction)."""
    session = session or db.session
    _lock_chain(session)
    anchor = read_anchor(session)
    checkpoint = AuditCheckpoint(created_at=utcnow(), last_event_id=anchor.last_event_id,
                                 last_hmac=anchor.last_hmac, events=anchor.events)
    checkpoint.signature = _sign_checkpoint(checkpoint, key)
    session.add(checkpoint)
    session.flush()
    return checkpoint


# What each kind of credit-data read is about: the detail naming the object read. A read of
# request 6's page is logged as financing_request 6 (the enterprise is in enterprise_id).
READ_OBJECT_KEYS = {
    "financing_request": "request_id",
    "financing_lead": "request_id",
    "verification_report": "report_id",
    "receivable_document": "document_id",
    "info_attachment": "attachment_id",
}


def record_credit_read(enterprise_id: int, what: str, purpose: str, **details: Any) -> AuditEvent:
    """Log a read of an enterprise's credit data; the enterprise sees these in its access log.
    `what` names the page or file read (object_type); the object's own id comes from the details
    (request_id, report_id, document_id ...), the enterprise's id when it is the object."""
    object_id = details.get(READ_OBJECT_KEYS.get(what, ""))
    return record(
        "credit_data.read",
        object_type=what,
        object_id=enterprise_id if object_id is None else object_id,
        enterprise_id=enterprise_id,
        purpose=purpose,
        **details,
    )


def record_credit_reads(what: str, purpose: str, reads: list[tuple[int, dict[str, Any]]]) -> list[AuditEvent]:
    """record_credit_read for several reads of one page at once, each (enterprise id, details):
    one event per read, as record_credit_read writes it, chained in the order given; one lock,
    one look-up of the chain's head and one INSERT, however many reads."""
    if not reads:
        return []
    actor = current_user if has_request_context() and current_user.is_authenticated else None
    key = READ_OBJECT_KEYS.get(what, "")
    return _append([
        _unchained("credit_data.read", what, enterprise_id if details.get(key) is None else details[key],
                   enterprise_id, purpose, actor, None, details)
        for enterprise_id, details in reads
    ])


# --- denials --------------------------------------------------------------------------------------
# A signed-in user refused by the route table (403) or by an ownership check (404 from a route that
# exists) may be probing other tenants' ids: each refusal is logged, at most DENIALS_LOGGED_PER_MINUTE
# per user (a scanner would otherwise fill the log; the cap itself shows in the log as a burst).

DENIAL = "access.denied"


def log_denial(response):
    """after_request: log a signed-in user's 403, or 404 on a matched route, then commit it."""
    if response.status_code not in (403, 404) or request.url_rule is None or request.endpoint == "static":
        return response
    if not current_user.is_authenticated:
        return response
    limit = current_app.config.get("DENIALS_LOGGED_PER_MINUTE", 20)
    try:
        since = utcnow() - timedelta(minutes=1)
        logged = db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == DENIAL, AuditEvent.actor_user_id == current_user.id,
            AuditEvent.occurred_at >= since))
        if logged >= limit:
            return response
        object_type, object_id = _object_of(request.view_args or {})
        record(DENIAL, object_type=object_type, object_id=object_id, status=response.status_code,
               endpoint=request.endpoint, method=request.method, path=request.path[:300])
        db.session.commit()
    except SQLAlchemyError:  # a broken transaction must not turn the refusal into a 500
        db.session.rollback()
        current_app.logger.warning("could not log the denial of %s %s", request.method, request.path)
    return response


def _object_of(view_args: dict) -> tuple[str, Any]:
    """The object a URL names: its last `<thing>_id` argument (request_id=6 -> request 6)."""
    for name, value in reversed(list(view_args.items())):
        if name.endswith("_id"):
            return name[:-3], value
    return "route", None


def init_app(app) -> None:
    app.after_request(log_denial)
    # after every module's own before_commit hooks (the app imports them first), so the lock is
    # taken as late as it can be
    if not orm_events.contains(Session, "before_commit", _chain_before_commit):
        orm_events.listen(Session, "before_commit", _chain_before_commit)


def _jsonable(details: dict) -> dict:
    return json.loads(json.dumps(details, default=str, ensure_ascii=False))


def verify_chain(key: str, batch: int = 1000) -> tuple[int, AuditEvent | None, str | None]:
    """Walk the chain in id order, then hold its end against the anchor and the signed
    checkpoints; return (rows checked, first broken row or None, why it is broken or None)."""
    checkpoints = list(db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)))
    for checkpoint in checkpoints:
        if not hmac.compare_digest(checkpoint.signature, _sign_checkpoint(checkpoint, key)):
            return 0, None, f"checkpoint id={checkpoint.id} is not signed with the audit key (forged or altered)"
    expected = {c.last_event_id: c for c in checkpoints if c.last_event_id}
    previous = GENESIS
    checked = 0
    last_id = 0
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch)):
        if event.prev_hmac != previous:
            return checked, event, "prev_hmac does not match the previous row (a row was removed or reordered)"
        if not hmac.compare_digest(event.hmac, _sign(event, key)):
            return checked, event, "hmac does not match the row's contents (the row was altered)"
        previous = event.hmac
        checked += 1
        last_id = event.id
        checkpoint = expected.pop(event.id, None)
        if checkpoint is not None and (checkpoint.last_hmac != event.hmac or checkpoint.events != checked):
            return checked, event, f"checkpoint id={checkpoint.id} recorded another chain up to this row"
    if expected:
        missing = min(expected.values(), key=lambda c: c.last_event_id)
        return checked, None, (f"checkpoint id={missing.id} names event id={missing.last_event_id}, which is "
                               f"gone: the chain was cut short after event id={last_id or '-'}")
    return checked, None, _anchor_problem(checked, last_id, previous)


def _anchor_problem(checked: int, last_id: int, last_hmac: str) -> str | None:
    anchor = read_anchor()
    if anchor is None:
        return "the chain's anchor row is missing (audit_anchors)"
    if anchor.last_event_id != last_id or anchor.last_hmac != last_hmac:
        return (f"the anchor names event id={anchor.last_event_id} as the last one, the chain ends at "
                f"id={last_id or '-'}: rows were removed from the end (or written without the trigger)")
    if anchor.events != checked:
        return f"the anchor counts {anchor.events} events, the chain has {checked}"
    return None


audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def verify_command():
    """Check the HMAC chain, its anchor and checkpoints; exit 1 naming what is broken."""
    checked, broken, why = verify_chain(current_app.config["AUDIT_KEY"])
    if why is None:
        click.echo(f"OK: {checked} audit events, chain intact up to its anchor")
        return
    if broken is not None:
        click.echo(f"BROKEN at audit event id={broken.id} ({broken.action}, "
                   f"{broken.occurred_at:%Y-%m-%d %H:%M:%S}Z): {why}")
    else:
        click.echo(f"BROKEN: {why}")
    click.echo(f"{checked} events before it are intact")
    raise SystemExit(1)


@audit_cli.command("checkpoint")
def checkpoint_command():
    """Sign and store the chain's head; print it (keep the line outside the database)."""
    checkpoint = write_checkpoint(current_app.config["AUDIT_KEY"])
    db.session.commit()
    click.echo(checkpoint.line())
