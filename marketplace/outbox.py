"""A transactional outbox: the intent to run a Celery task is a row written in the transaction
that makes the task necessary, so a broker that is down when that transaction commits loses
nothing.

`enqueue(task, *args)` adds the row; after the commit the task is sent at once and the row is
marked sent. If sending fails (Redis unreachable, ...), the failure is logged, not raised: the
user's work is committed and the page answers normally. `flush()` (the beat task
`marketplace.outbox.flush_outbox` and `flask --app wsgi outbox flush`) sends the rows left
behind. A row can be sent twice (sent, then the mark failed): every task sent this way is
idempotent by construction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import click
from celery import current_app as current_celery
from celery import shared_task
from flask.cli import AppGroup
from sqlalchemy import JSON, Integer, String, Text, delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.after_commit import after_commit
from marketplace.db import UTCDateTime, utcnow
from marketplace.extensions import db

log = logging.getLogger(__name__)

# A row younger than this is left to the sender of its own transaction.
SWEEP_GRACE = timedelta(seconds=30)
# Sent rows are kept this long (the verification sweeper counts a submission's attempts in them).
KEEP_SENT = timedelta(days=30)


class OutboxMessage(db.Model):
    """One task to send: its name and arguments; sent_at once the broker took it."""

    __tablename__ = "task_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(200))
    args: Mapped[list] = mapped_column(JSON, default=list)
    # What the task is about, for sweepers that ask "was this already queued?" (e.g. "verify:12:1").
    key: Mapped[str | None] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    send_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


def enqueue(task, *args: Any, key: str | None = None) -> OutboxMessage:
    """Record `task(*args)` in the current transaction; it is sent after the commit (and never,
    if the transaction rolls back)."""
    name = task if isinstance(task, str) else task.name
    message = OutboxMessage(task=name, args=list(args), key=key, created_at=utcnow(), send_attempts=0)
    db.session.add(message)
    db.session.flush()
    message_id, arguments = message.id, list(args)
    after_commit(lambda: _send_committed(message_id, name, arguments))
    return message


def _eager() -> bool:
    return bool(current_celery.conf.task_always_eager)


def _publish(name: str, args: list) -> None:
    """Hand the task to the broker (or run it, in the eager embedded mode). `delay` rather than
    `send_task`, so a test that replaces a task's delay still sees every send."""
    from marketplace.celery import import_task_modules

    import_task_modules()  # a task known by name only: its module may not be imported in this process
    current_celery.tasks[name].delay(*args)


def _send_committed(message_id: int, name: str, args: list) -> None:
    """After the commit: send the task and mark its row; a failure waits for the sweeper."""
    try:
        _publish(name, args)
    except Exception as error:  # noqa: BLE001  (any broker failure: the sweeper sends it later)
        if _eager():
            raise  # no broker in the eager mode: the task itself failed, as it would inline
        log.warning("outbox: task %s%s not sent, left for the sweeper: %r", name, tuple(args), error)
        _note_failure(message_id, error)
        return
    _mark_sent(message_id)


def _mark_sent(message_id: int) -> None:
    try:
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
                           .values(sent_at=utcnow(), send_attempts=OutboxMessage.send_attempts + 1))
        db.session.commit()
    except SQLAlchemyError as error:  # sent but not marked: the sweeper sends it again (harmless)
        db.session.rollback()
        log.warning("outbox: message %s sent but not marked sent: %r", message_id, error)


def _note_failure(message_id: int, error: Exception) -> None:
    try:
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                           .values(send_attempts=OutboxMessage.send_attempts + 1, last_error=repr(error)[:1000]))
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()


def pending_count() -> int:
    from sqlalchemy import func

    return db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None))) or 0


def flush(grace: timedelta = SWEEP_GRACE, limit: int = 1000) -> tuple[int, int]:
    """Send the unsent rows older than `grace`, one locked row at a time (two sweepers never send
    the same row at once); stops at the first broker failure. Returns (sent, still pending)."""
    cutoff = utcnow() - grace
    sent = 0
    for _ in range(limit):
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.sent_at.is_(None), OutboxMessage.created_at <= cutoff)
            .order_by(OutboxMessage.id).limit(1).with_for_update(skip_locked=True))
        if message is None:
            break
        message_id, name, args = message.id, message.task, list(message.args or [])
        try:
            _publish(name, args)
        except Exception as error:  # noqa: BLE001
            db.session.rollback()
            if _eager():
                raise
            log.warning("outbox: sweep stopped, task %s%s not sent: %r", name, tuple(args), error)
            _note_failure(message_id, error)
            break
        _mark_sent(message_id)  # commits (in the eager mode the task may have committed already)
        sent += 1
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.sent_at < utcnow() - KEEP_SENT))
    db.session.commit()
    return sent, pending_count()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def flush_outbox() -> int:
    """Beat: send what a failed enqueue left behind."""
    sent, _pending = flush()
    return sent


outbox_cli = AppGroup("outbox", help="The task outbox.")


@outbox_cli.command("flush")
@click.option("--all", "everything", is_flag=True, help="Send the rows of the last 30 s too.")
def flush_command(everything: bool):
    """Send the tasks whose enqueue failed; print how many were sent and how many remain."""
    sent, pending = flush(grace=timedelta(0) if everything else SWEEP_GRACE)
    click.echo(f"{sent} task(s) sent, {pending} pending")
