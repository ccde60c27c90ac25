"""Reminders to debtors who have not answered: a registered debtor is told in the app (and by
email), the enterprise is told to remind a link-only debtor or renew its link; at most once every
DEBTOR_REMINDER_DAYS days per receivable, and a second run the same day sends nothing."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.formatting import ymd_hm
from marketplace.notifications.models import Notification
from marketplace.receivables import reminders
from marketplace.receivables.models import ConfirmationLink
from marketplace.receivables.tasks import remind_unanswered_debtors
from tests.factories import ReceivableFactory, make_enterprise_user
from tests.receivables.helpers import pledge


@pytest.fixture
def debtor_user():
    """A debtor that is itself an enterprise on the platform."""
    return make_enterprise_user()


def submitted(receivable, user):
    """Pledge the receivable to a request that has been submitted (not a mere draft)."""
    link = pledge(receivable, user)
    link.request.state, link.request.submitted_at = "submitted", utcnow()
    db.session.flush()
    return link.request


def add_link(receivable, user, *, created_days_ago: float, valid_days: float = 7) -> ConfirmationLink:
    created = utcnow() - timedelta(days=created_days_ago)
    link = ConfirmationLink(receivable=receivable, nonce=secrets.token_hex(16), created_by_id=user.id,
                            created_at=created, expires_at=created + timedelta(days=valid_days))
    db.session.add(link)
    db.session.flush()
    return link


def notifications(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(
        Notification.user_id == user.id, Notification.kind == "receivable.reminder").order_by(Notification.id)))


def run(app, now=None) -> int:
    with app.test_request_context():
        return reminders.send_reminders(now)


def test_a_registered_debtor_is_reminded_of_a_pledged_receivable_once_per_interval(app, user, enterprise,
                                                                                 debtor_user):
    receivable = ReceivableFactory(enterprise=enterprise, debtor_uscc=debtor_user.enterprise.uscc,
                                   debtor_name=debtor_user.enterprise.name, invoice_no="INV-77")
    submitted(receivable, user)

    assert run(app) == 1
    (note,) = notifications(debtor_user)
    assert "等待贵单位确认" in note.title and enterprise.name in note.body and "INV-77" in note.body
    assert note.link == "/receivables/confirmations"
    assert notifications(user) == []  # the creditor is not nagged about a debtor the platform reaches
    assert run(app) == 0  # idempotent: a second run the same day sends nothing
    days = app.config["DEBTOR_REMINDER_DAYS"]
    assert run(app, utcnow() + timedelta(days=days - 1)) == 0
    assert run(app, utcnow() + timedelta(days=days, minutes=1)) == 1
    assert len(notifications(debtor_user)) == 2


def test_several_receivables_of_one_debtor_make_one_notification(app, user, enterprise, debtor_user):
    for number in ("A-1", "A-2"):
        receivable = ReceivableFactory(enterprise=enterprise, debtor_uscc=debtor_user.enterprise.uscc,
                                       invoice_no=number)
        add_link(receivable, user, created_days_ago=4)

    assert run(app) == 2
    (note,) = notifications(debtor_user)
    assert "2 笔" in note.title and "A-1" in note.body and "A-2" in note.body


def test_for_a_link_only_debtor_the_enterprise_is_told_the_links_expiry(app, user, enterprise):
    receivable = ReceivableFactory(enterprise=enterprise, invoice_no="L-1")
    link = add_link(receivable, user, created_days_ago=4)

    assert run(app) == 1
    (note,) = notifications(user)
    assert "债务人尚未确认" in note.title and "L-1" in note.body and "有效期至" in note.body
    assert note.link == f"/receivables/{receivable.id}"
    assert ymd_hm(link.expires_at) in note.body  # Shanghai time


def test_a_pledged_receivable_whose_link_lapsed_asks_the_enterprise_to_renew(app, user, enterprise):
    receivable = ReceivableFactory(enterprise=enterprise, invoice_no="L-2")
    add_link(receivable, user, created_days_ago=10)  # expired three days ago
    submitted(receivable, user)

    assert run(app) == 1
    (note,) = notifications(user)
    assert "没有有效的确认链接，请重新生成" in note.body


@pytest.mark.parametrize("case", ["link_just_sent", "nothing_awaited", "answered", "draft_only", "link_expired"])
def test_no_reminder_when_nothing_is_awaited_or_it_is_too_soon(app, user, enterprise, case):
    receivable = ReceivableFactory(enterprise=enterprise, confirmation="confirmed" if case == "answered" else "pending")
    if case == "link_just_sent":
        add_link(receivable, user, created_days_ago=1)
    elif case == "answered":
        submitted(receivable, user)
    elif case == "draft_only":
        pledge(receivable, user)  # a draft request: nobody has asked the debtor anything yet
    elif case == "link_expired":
        add_link(receivable, user, created_days_ago=10)

    assert run(app) == 0
    assert notifications(user) == []


def test_the_beat_task_runs_the_reminders_and_is_idempotent(app, user, enterprise):
    receivable = ReceivableFactory(enterprise=enterprise)
    add_link(receivable, user, created_days_ago=4)

    with app.app_context():  # what the worker's task class provides
        assert remind_unanswered_debtors.run() == 1
        assert remind_unanswered_debtors.run() == 0
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "receivable.reminder")) == 1
    entry = app.extensions["celery"].conf.beat_schedule["receivables-remind-debtors"]
    assert entry["task"] == remind_unanswered_debtors.name
