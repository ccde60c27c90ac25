"""notify(): in-app rows now, emails after the commit (through a Celery task, via the outbox)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import has_request_context, request
from sqlalchemy import func, select

from marketplace import outbox
from marketplace.extensions import db
from marketplace.notifications.messages import Node, stored
from marketplace.notifications.models import Notification


def notify(users: Iterable, kind: str, title: Node, body: Node, link: str | None = None) -> list[Notification]:
    """Tell users: a row each now, an email each after the commit.

    `title` and `body` are messages (`later(...)`), kept as their msgids and parameters and put into
    words in each reader's language when shown or emailed; a plain string is kept and shown as it is.
    """
    title_text, title_key, title_params = stored(title)
    body_text, body_key, body_params = stored(body)
    rows = [Notification(user_id=user.id, kind=kind, title=title_text[:200], body=body_text, link=link,
                         title_key=title_key, title_params=title_params, body_key=body_key,
                         body_params=body_params) for user in users]
    db.session.add_all(rows)
    db.session.flush()
    from marketplace.notifications.tasks import send_notification_email

    for row in rows:  # sent after the commit; the outbox keeps them if the broker is down
        outbox.enqueue(send_notification_email, row.id)
    return rows


def _count_unread(user_id):
    return select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))


def unread_count_column(user_id):
    """A scalar subquery: the user's unread notifications, to load with the user."""
    return _count_unread(user_id).correlate_except(Notification).scalar_subquery()


def remember_unread_count(user, count: int) -> None:
    """Keep the count loaded with the user for this request's page."""
    user._unread_loaded = count


def unread_count(user) -> int:
    """The user's unread notifications. A GET page uses the count loaded with the user (nothing
    it does marks notifications read or sends the user one); any other request counts afresh."""
    loaded = getattr(user, "_unread_loaded", None)
    if loaded is not None and has_request_context() and request.method in ("GET", "HEAD"):
        return loaded
    return db.session.scalar(_count_unread(user.id))
