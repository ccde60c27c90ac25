"""Run callbacks after the current transaction commits (and drop them if it rolls back).

Notifications and task.delay() must not fire for work that is then rolled back, nor before the
rows a task reads are visible to it. Callbacks run once the transaction has ended (not inside
after_commit, where the session may emit no SQL), so an eager task can use the session.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from marketplace.extensions import db

PENDING = "after_commit_pending"
READY = "after_commit_ready"
UNDO = "after_rollback_pending"


def after_commit(callback: Callable[[], None]) -> None:
    db.session.info.setdefault(PENDING, []).append(callback)


def after_rollback(callback: Callable[[], None]) -> None:
    """Run `callback` if the current transaction rolls back (dropped when it commits): undo
    what the transaction did outside the database, e.g. remove a file written for its rows."""
    db.session.info.setdefault(UNDO, []).append(callback)


@event.listens_for(Session, "after_commit")
def _mark_ready(session: Session) -> None:
    session.info.setdefault(READY, []).extend(session.info.pop(PENDING, []))
    session.info.pop(UNDO, None)


@event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(PENDING, None)
        for callback in session.info.pop(UNDO, []):
            callback()


@event.listens_for(Session, "after_transaction_end")
def _run_ready(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    callbacks = session.info.pop(READY, [])
    for callback in callbacks:
        callback()
