"""Celery beat tasks: reminders before a meeting and before an action item falls due.

A meeting's host and the active users of its attendee institutions are told
BUREAU_MEETING_REMINDER_WORKING_DAYS working days before its day (default 1); an open action
item's owner (the user, or the active users of the institution) BUREAU_ACTION_REMINDER_WORKING_DAYS
working days before its due date (default 2). Each once: `reminded_at` is stamped in the
transaction that writes the notifications, rows taken FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from celery import shared_task
from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from marketplace.accounts.models import User
from marketplace.bureau.models import ActionItem, Meeting
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.formatting import SHANGHAI, local, ymd_hm
from marketplace.notifications.messages import later
from marketplace.notifications.services import notify
from marketplace.workcalendar.services import working_calendar


def working_days_before(day: date, n: int, calendar=None) -> date:
    """The working day `n` working days before `day` (n=0: `day` itself)."""
    calendar = calendar or working_calendar()
    for _step in range(n):
        day -= timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= timedelta(days=1)
    return day


def _users_of(org_ids) -> list[User]:
    return list(db.session.scalars(select(User).where(User.organisation_id.in_(list(org_ids)), User.active)
                                   .order_by(User.id)))


def send_meeting_reminders(now: datetime | None = None) -> int:
    now = now or utcnow()
    today = now.astimezone(SHANGHAI).date()
    n = int(current_app.config.get("BUREAU_MEETING_REMINDER_WORKING_DAYS", 1))
    calendar = working_calendar()
    count = 0
    for meeting in db.session.scalars(select(Meeting).where(
            Meeting.state == "scheduled", Meeting.reminded_at.is_(None), Meeting.starts_at > now)
            .order_by(Meeting.id).with_for_update(skip_locked=True, of=Meeting)):
        if today < working_days_before(local(meeting.starts_at).date(), n, calendar):
            continue
        users = {u.id: u for u in _users_of(a.institution_id for a in meeting.attendees)}
        users.setdefault(meeting.host.id, meeting.host)
        notify(users.values(), "meeting_reminder", later("调度会提醒：%(title)s", title=meeting.title),
               later("调度会将于 %(when)s 在 %(place)s 召开，请准时参加。", when=ymd_hm(meeting.starts_at), place=meeting.place),
               url_for("actions.index"))
        meeting.reminded_at = now
        count += 1
    db.session.flush()
    return count


def send_action_reminders(now: datetime | None = None) -> int:
    now = now or utcnow()
    today = now.astimezone(SHANGHAI).date()
    n = int(current_app.config.get("BUREAU_ACTION_REMINDER_WORKING_DAYS", 2))
    calendar = working_calendar()
    count = 0
    for item in db.session.scalars(select(ActionItem).where(
            ActionItem.state == "open", ActionItem.reminded_at.is_(None), ActionItem.due_on >= today)
            .order_by(ActionItem.id).with_for_update(skip_locked=True, of=ActionItem)):
        if today < working_days_before(item.due_on, n, calendar):
            continue
        users = [item.owner_user] if item.owner_user is not None else _users_of([item.owner_org_id])
        notify(users, "action_item_reminder", later("调度会待办事项即将到期"),
               later("“%(text)s”将于 %(due)s 到期，请按时办结。", text=item.description, due=item.due_on.isoformat()),
               url_for("actions.detail", item_id=item.id))
        item.reminded_at = now
        count += 1
    db.session.flush()
    return count


def _run(send, now: str | None) -> int:
    moment = datetime.fromisoformat(now) if now else None
    base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost/"
    with current_app.test_request_context("/", base_url=base_url):
        count = send(moment)
        db.session.commit()
    return count


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def remind_meeting_attendees(now: str | None = None) -> int:
    """Remind the attendees and host of the meetings due for it; idempotent (reminded_at)."""
    return _run(send_meeting_reminders, now)


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def remind_action_owners(now: str | None = None) -> int:
    """Remind the owners of the action items falling due soon; idempotent (reminded_at)."""
    return _run(send_action_reminders, now)
