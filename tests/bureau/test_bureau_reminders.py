"""Reminders before a meeting and before an action item falls due: in working days, once each."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from marketplace.accounts.roles import OrgKind, Role
from marketplace.bureau import reminders
from marketplace.bureau.models import ActionItem, Meeting, MeetingAttendee
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from tests.factories import OrganisationFactory, UserFactory


def test_working_days_before_skips_the_weekend_and_holidays():
    assert reminders.working_days_before(date(2026, 12, 7), 1, _Weekdays()) == date(2026, 12, 4)  # Mon -> Fri
    assert reminders.working_days_before(date(2026, 12, 8), 2, _Weekdays()) == date(2026, 12, 4)


class _Weekdays:
    def is_working_day(self, day):
        return day.weekday() < 5


def _cast():
    coordinator = UserFactory(role=Role.BUREAU_COORDINATOR)
    bank = OrganisationFactory(kind=OrgKind.BANK)
    officer = UserFactory(role=Role.BANK_OFFICER, organisation=bank)
    return coordinator, bank, officer


def test_the_meeting_reminder_goes_once_one_working_day_before(ctx):
    coordinator, bank, officer = _cast()
    # Monday 2026-12-07 10:00 Beijing; Friday 2026-12-04 is one working day before
    meeting = Meeting(bureau_id=coordinator.organisation_id, title="调度会", place="会议室", host_user_id=coordinator.id,
                      created_by_id=coordinator.id, starts_at=datetime(2026, 12, 7, 2, 0, tzinfo=UTC),
                      attendees=[MeetingAttendee(institution_id=bank.id)])
    db.session.add(meeting)
    db.session.flush()
    thursday = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    friday = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
    assert reminders.send_meeting_reminders(thursday) == 0
    assert reminders.send_meeting_reminders(friday) == 1
    assert reminders.send_meeting_reminders(friday + timedelta(hours=2)) == 0
    told = set(db.session.scalars(select(Notification.user_id)))
    assert told == {coordinator.id, officer.id} and meeting.reminded_at is not None


def test_the_action_item_reminder_goes_once_two_working_days_before_to_the_owner(ctx):
    coordinator, bank, officer = _cast()
    meeting = Meeting(bureau_id=coordinator.organisation_id, title="调度会", place="会议室", host_user_id=coordinator.id,
                      created_by_id=coordinator.id, starts_at=datetime(2026, 11, 30, 2, 0, tzinfo=UTC), state="scheduled")
    db.session.add(meeting)
    db.session.flush()
    item = ActionItem(meeting_id=meeting.id, description="放款", owner_org_id=bank.id, due_on=date(2026, 12, 8),
                      created_by_id=coordinator.id, state="open")
    db.session.add(item)
    db.session.flush()
    assert reminders.send_action_reminders(datetime(2026, 12, 3, 1, 0, tzinfo=UTC)) == 0  # Thursday: 3 working days
    assert reminders.send_action_reminders(datetime(2026, 12, 4, 1, 0, tzinfo=UTC)) == 1  # Friday: 2 working days
    assert reminders.send_action_reminders(datetime(2026, 12, 7, 1, 0, tzinfo=UTC)) == 0
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == officer.id)) == 1
