"""Dispatch meetings: scheduling (never in the past), the auto-built agenda, edits refused after
the meeting closed, another bureau's coordinator refused, the minutes PDF in Chinese."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from marketplace.accounts.roles import OrgKind, Role
from marketplace.audit import AuditEvent
from marketplace.bureau import meetings
from marketplace.bureau.models import ActionItem, Meeting
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from tests.factories import OrganisationFactory, UserFactory


@pytest.fixture
def cast(app):
    coordinator = UserFactory(role=Role.BUREAU_COORDINATOR, name="朱建华")
    bank = OrganisationFactory(kind=OrgKind.BANK, name="苏州测试银行")
    officer = UserFactory(role=Role.BANK_OFFICER, organisation=bank)
    return coordinator, bank, officer


def _meeting(coordinator, bank, days=3):
    return meetings.schedule_meeting(coordinator.organisation, coordinator, title="吴中区调度会",
                                     starts_at=utcnow() + timedelta(days=days), place="区政府三楼会议室",
                                     host=coordinator, attendee_ids=[bank.id])


def test_a_meeting_is_scheduled_with_attendees_and_audited(ctx, cast):
    coordinator, bank, _officer = cast
    meeting = _meeting(coordinator, bank)
    assert meeting.state == "scheduled" and [a.institution_id for a in meeting.attendees] == [bank.id]
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "meeting.scheduled"))


def test_a_meeting_in_the_past_is_refused_and_nothing_is_stored(ctx, cast):
    coordinator, bank, _officer = cast
    with pytest.raises(meetings.MeetingRefused, match="不能早于当前时间"):
        _meeting(coordinator, bank, days=-1)
    assert db.session.scalar(select(func.count(Meeting.id))) == 0


def test_the_agenda_carries_open_action_items_of_earlier_meetings_and_is_editable(ctx, cast):
    coordinator, bank, _officer = cast
    first = _meeting(coordinator, bank)
    action = meetings.add_action_item(first, coordinator, description="三日内完成放款审批", due_on=meetings.meeting_day(first),
                                      owner_org_id=bank.id)
    meetings.close_meeting(first, coordinator)
    second = _meeting(coordinator, bank, days=10)
    assert [i.carried_action_id for i in second.agenda] == [action.id]
    topic = meetings.add_topic(second, coordinator, "其他事项")
    meetings.move_topic(topic, coordinator, "up")
    assert [i.title for i in sorted(second.agenda, key=lambda i: i.position)][0] == "其他事项"
    meetings.edit_topic(topic, coordinator, "其他事项（修改）")
    meetings.remove_topic(topic, coordinator)
    assert len(second.agenda) == 1


def test_action_items_need_an_owner_and_a_due_date_on_or_after_the_meeting(ctx, cast):
    coordinator, bank, officer = cast
    meeting = _meeting(coordinator, bank)
    with pytest.raises(meetings.MeetingRefused, match="负责人"):
        meetings.add_action_item(meeting, coordinator, description="x", due_on=date(2099, 1, 1))
    with pytest.raises(meetings.MeetingRefused, match="不能早于会议日期"):
        meetings.add_action_item(meeting, coordinator, description="x", owner_org_id=bank.id,
                                 due_on=meetings.meeting_day(meeting) - timedelta(days=1))
    stranger = OrganisationFactory(kind=OrgKind.BANK)
    with pytest.raises(meetings.MeetingRefused):
        meetings.add_action_item(meeting, coordinator, description="x", owner_org_id=stranger.id, due_on=date(2099, 1, 1))
    assert db.session.scalar(select(func.count(ActionItem.id))) == 0
    item = meetings.add_action_item(meeting, coordinator, description="x", owner_user_id=officer.id,
                                    due_on=meetings.meeting_day(meeting))
    assert item.status(today_shanghai()) == "open" and item.status(item.due_on + timedelta(days=1)) == "overdue"


def test_after_closing_minutes_agenda_and_attendees_are_refused_unchanged(ctx, cast):
    coordinator, bank, _officer = cast
    meeting = _meeting(coordinator, bank)
    item = meetings.add_topic(meeting, coordinator, "议题一")
    meetings.record_item_minutes(item, coordinator, "讨论了", "同意")
    meetings.close_meeting(meeting, coordinator)
    for attempt in (lambda: meetings.record_item_minutes(item, coordinator, "改", "改"),
                    lambda: meetings.record_summary(meeting, coordinator, "改"),
                    lambda: meetings.add_topic(meeting, coordinator, "新"),
                    lambda: meetings.remove_topic(item, coordinator),
                    lambda: meetings.update_meeting(meeting, coordinator, title="改", starts_at=utcnow() + timedelta(days=5),
                                                    place="改", host=coordinator, attendee_ids=[bank.id])):
        with pytest.raises(meetings.MeetingRefused, match="已定稿"):
            attempt()
    assert (item.minutes, item.decision, meeting.title, len(meeting.agenda)) == ("讨论了", "同意", "吴中区调度会", 1)


def test_pages_schedule_record_and_close_and_refuse_another_bureau(app, client, login, cast):
    coordinator, bank, _officer = cast
    login(coordinator)
    when = (today_shanghai() + timedelta(days=5)).isoformat() + "T09:30"
    response = client.post("/bureau/meetings/new", data={"title": "调度会", "starts_at": when, "place": "会议室",
                                                          "host": coordinator.id, "attendees": [bank.id]})
    assert response.status_code == 302
    meeting = db.session.scalar(select(Meeting))
    assert client.get(f"/bureau/meetings/{meeting.id}").status_code == 200
    assert client.get("/bureau/meetings/").status_code == 200
    assert client.get("/bureau/meetings/new").status_code == 200
    assert client.get(f"/bureau/meetings/{meeting.id}/edit").status_code == 200
    past = client.post("/bureau/meetings/new", data={"title": "调度会", "starts_at": "2020-01-01T09:00", "place": "x",
                                                     "host": coordinator.id, "attendees": [bank.id]})
    assert past.status_code == 422 and "不能早于当前时间" in past.get_data(as_text=True)
    client.post(f"/bureau/meetings/{meeting.id}/agenda", data={"title": "议题一"})
    client.post(f"/bureau/meetings/{meeting.id}/close")
    assert meeting.state == "closed"
    refused = client.post(f"/bureau/meetings/{meeting.id}/summary", data={"summary": "改"}, follow_redirects=True)
    assert "已定稿" in refused.get_data(as_text=True) and meeting.summary is None
    other = UserFactory(role=Role.BUREAU_COORDINATOR)
    login(other)
    assert client.get(f"/bureau/meetings/{meeting.id}").status_code == 404
    assert client.post(f"/bureau/meetings/{meeting.id}/agenda", data={"title": "x"}).status_code == 404


def test_the_minutes_pdf_is_in_chinese(app, client, login, cast, tmp_path):
    coordinator, bank, _officer = cast
    with app.test_request_context():
        meeting = _meeting(coordinator, bank)
        item = meetings.add_topic(meeting, coordinator, "融资进度")
        meetings.record_item_minutes(item, coordinator, "银行说明审批进度", "五日内放款")
        meetings.add_action_item(meeting, coordinator, description="完成放款", owner_org_id=bank.id,
                                 due_on=meetings.meeting_day(meeting))
        meetings.close_meeting(meeting, coordinator)
    login(coordinator)
    response = client.get(f"/bureau/meetings/{meeting.id}/minutes.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    pdf = tmp_path / "m.pdf"
    pdf.write_bytes(response.data)
    text = "".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())
    assert "会议纪要" in text and "五日内放款" in text and "苏州测试银行" in text
