"""notify(): in-app rows now, emails after the commit (through a Celery task)."""

from __future__ import annotations

from collections.abc import Iterable

from marketplace.after_commit import after_commit
from marketplace.extensions import db
from marketplace.notifications.models import Notification


def notify(users: Iterable, kind: str, title: str, body: str, link: str | None = None) -> list[Notification]:
    rows = [Notification(user_id=user.id, kind=kind, title=title, body=body, link=link) for user in users]
    db.session.add_all(rows)
    db.session.flush()
    ids = [row.id for row in rows]

    def queue_emails():
        from marketplace.notifications.tasks import send_notification_email

        for notification_id in ids:
            send_notification_email.delay(notification_id)

    after_commit(queue_emails)
    return rows


def unread_count(user) -> int:
    from sqlalchemy import func, select

    return db.session.scalar(
        select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )
