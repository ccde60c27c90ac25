"""Background delivery of notifications."""

from __future__ import annotations

from celery import shared_task
from flask_babel import force_locale
from sqlalchemy import update

from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.i18n import reader_locale
from marketplace.mail import send_mail
from marketplace.notifications.models import Notification


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OSError,), retry_backoff=True,
             max_retries=5)
def send_notification_email(notification_id: int) -> bool:
    """Email one notification; claims it first so a redelivered task sends it once."""
    claimed = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.emailed_at.is_(None))
        .values(emailed_at=utcnow())
    ).rowcount
    if not claimed:
        db.session.rollback()
        return False
    notification = db.session.get(Notification, notification_id)
    try:
        with force_locale(reader_locale(notification.user)):  # the recipient's language, not the sender's
            subject, body = notification.shown_title, notification.shown_body
        send_mail(notification.user.email, subject, body + (f"\n\n{notification.link}" if notification.link else ""))
    except OSError:
        db.session.rollback()  # release the claim so the retry can send it
        raise
    db.session.commit()
    return True
