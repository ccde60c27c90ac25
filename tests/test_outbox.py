"""The transactional outbox: a request submitted while the broker is unreachable is committed,
the user sees the normal page, and the verification is sent by the sweeper once the broker is
back; a rolled-back transaction leaves nothing to send; sent rows are not sent again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy import select

from marketplace import outbox
from marketplace.extensions import db
from marketplace.outbox import OutboxMessage
from marketplace.verification.models import VerificationReport
from tests.verification.cases import build


class Broker:
    """Switches the suite's Celery app to publishing (not eager) against a broker that refuses
    every connection, and back."""

    def __init__(self, app, monkeypatch):
        self.celery, self.monkeypatch = app.extensions["celery"], monkeypatch
        self.sent: list[str] = []

    def down(self):
        def refuse(task, *args, **kwargs):
            self.sent.append(task.name)
            raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        self.monkeypatch.setitem(self.celery.conf, "task_always_eager", False)
        self.monkeypatch.setattr(self.celery.Task, "apply_async", refuse)

    def up(self):
        self.monkeypatch.undo()


@pytest.fixture
def broker(app, monkeypatch):
    return Broker(app, monkeypatch)


def rows(task_suffix: str = ""):
    return [row for row in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            if row.task.endswith(task_suffix)]


def test_submitting_while_the_broker_is_down_commits_and_the_sweeper_verifies_later(app, client, login, broker):
    case = build(app, "excellent")
    db.session.commit()
    login(case.owner)
    broker.down()
    response = client.post(f"/financing/{case.request.id}/submit", data={"version": case.request.version})
    assert response.status_code == 302  # the normal answer, not a 500
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "申请已提交" in page
    assert case.request.state == "submitted" and "marketplace.verification.tasks.verify_request" in broker.sent
    (pending,) = rows("verify_request")
    assert pending.sent_at is None and pending.args == [case.request.id, 1] and pending.send_attempts == 1
    assert "Connection refused" in pending.last_error and pending.key == f"verify:{case.request.id}:1"

    with app.test_request_context():
        assert outbox.flush() == (0, len(rows()))  # younger than the grace: left to its sender
        still_down = outbox.flush(grace=timedelta(0))
    assert still_down[0] == 0 and pending.send_attempts == 2  # stopped at the first refusal

    broker.up()
    with app.test_request_context():
        sent, left = outbox.flush(grace=timedelta(0))
    assert sent >= 1 and left == 0
    assert case.request.state == "routed_to_bank"
    assert len(db.session.scalars(select(VerificationReport)
                                  .where(VerificationReport.request_id == case.request.id)).all()) == 1
    assert all(row.sent_at is not None for row in rows())


def test_a_rolled_back_transaction_sends_nothing(app, ctx, monkeypatch):
    from marketplace.verification.tasks import verify_request

    calls = []
    monkeypatch.setattr(verify_request, "delay", lambda *args: calls.append(args))
    db.session.commit()
    outbox.enqueue(verify_request, 999, 1)
    db.session.rollback()
    assert rows() == [] and calls == []


def test_a_sent_row_is_marked_and_not_sent_again(app, ctx, monkeypatch):
    from marketplace.verification.tasks import verify_request

    calls = []
    monkeypatch.setattr(verify_request, "delay", lambda *args: calls.append(args))
    outbox.enqueue(verify_request, 999, 1, key="verify:999:1")
    db.session.commit()
    assert calls == [(999, 1)]
    (row,) = rows()
    assert row.sent_at is not None and row.send_attempts == 1
    assert outbox.flush(grace=timedelta(0)) == (0, 0) and calls == [(999, 1)]


def test_the_cli_flushes_what_a_failed_send_left(app, broker, monkeypatch):
    from marketplace.verification.tasks import verify_request

    with app.test_request_context():
        broker.down()
        outbox.enqueue(verify_request, 999, 1)
        db.session.commit()
        broker.up()
    calls = []
    monkeypatch.setattr(verify_request, "delay", lambda *args: calls.append(args))
    result = app.test_cli_runner().invoke(args=["outbox", "flush", "--all"])
    assert result.exit_code == 0, result.output
    assert "1 task(s) sent, 0 pending" in result.output and calls == [(999, 1)]
