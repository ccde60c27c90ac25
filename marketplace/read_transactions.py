"""A web request that only read ends its transaction with COMMIT instead of ROLLBACK.

For a transaction that ran nothing but SELECTs the two are the same. The difference is psycopg's:
it forgets its prepared statements on every ROLLBACK (it cannot know what the rollback undid),
so PostgreSQL would plan every query afresh on every request: about 0.6 ms of the server's CPU
for the desk queue's five-table join, three times what the join then takes to run. Ending read
requests with COMMIT lets psycopg keep the plans it prepares after a query's fifth use.

Anything else rolls back as before: a request that raised, flushed, executed a statement that
is not a SELECT (text() included), holds changes it did not flush or queued after-commit work.
After a migration that changes a table, restart the web workers (a prepared plan whose result
columns changed fails with "cached plan must not change result type").
"""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from marketplace.after_commit import PENDING
from marketplace.extensions import db

WROTE = "transaction_wrote"


@event.listens_for(Session, "after_transaction_create")
def _forget_writes(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(WROTE, None)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _flush_context) -> None:
    session.info[WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info[WROTE] = True


def only_read(session: Session) -> bool:
    """Whether the session's open transaction ran only SELECTs and has nothing waiting to be written."""
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active:
        return False
    return not (session.info.get(WROTE) or session.info.get(PENDING)
                or session.new or session.dirty or session.deleted)


def end_read_only_transaction(exc: BaseException | None) -> None:
    """teardown_request: commit a transaction that only read (Flask-SQLAlchemy's teardown, which
    runs later, rolls back whatever is left)."""
    if exc is not None or not db.session.registry.has():
        return
    session = db.session()
    if not only_read(session):
        return
    try:
        session.commit()
    except SQLAlchemyError:
        current_app.logger.exception("could not end a read-only transaction; rolling back")
        session.rollback()


def init_app(app: Flask) -> None:
    app.teardown_request(end_read_only_transaction)
