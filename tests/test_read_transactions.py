"""A request that only read ends with COMMIT (psycopg keeps its prepared statements); one that
wrote, raised or holds unflushed changes is left to the rollback."""

from __future__ import annotations

from sqlalchemy import select, text

from marketplace.accounts.models import User
from marketplace.after_commit import after_commit
from marketplace.extensions import db
from marketplace.read_transactions import end_read_only_transaction, only_read
from tests.factories import UserFactory


def fresh_transaction():
    db.session.commit()
    db.session.scalar(select(User.id).limit(1))


def test_a_transaction_of_selects_only_read_and_is_committed(ctx):
    UserFactory()
    fresh_transaction()
    assert only_read(db.session())
    end_read_only_transaction(None)
    assert not db.session().in_transaction()


def test_a_flush_a_statement_that_is_not_a_select_or_pending_work_is_not_committed(ctx):
    fresh_transaction()
    UserFactory()  # added and flushed
    assert not only_read(db.session())

    fresh_transaction()
    db.session.execute(text("SELECT 1"))  # text: not known to be a select
    assert not only_read(db.session())

    fresh_transaction()
    db.session.add(User(email="pending@example.com", name="x", role="enterprise:admin", password_hash="x"))
    assert not only_read(db.session())
    db.session.expunge_all()

    fresh_transaction()
    after_commit(lambda: None)
    assert not only_read(db.session())


def test_a_request_that_raised_is_not_committed(ctx):
    fresh_transaction()
    end_read_only_transaction(RuntimeError("boom"))
    assert db.session().in_transaction()


def test_a_page_that_only_read_ends_with_a_commit(app, client, login):
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from tests.desks.helpers import routed

    case = routed(app)
    login(case.bank_staff)
    db.session.commit()
    commits = []
    listener = lambda session: commits.append(session)  # noqa: E731
    event.listen(Session, "after_commit", listener)
    try:
        assert client.get("/institution/requests/").status_code == 200
    finally:
        event.remove(Session, "after_commit", listener)
    assert len(commits) == 1
