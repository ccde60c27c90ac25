"""Action items on the attendees' side: the owner's staff see and close theirs, never another
institution's; the desk shows the open ones."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from marketplace.accounts.roles import OrgKind, Role
from marketplace.bureau import meetings
from marketplace.bureau.models import ActionItem
from marketplace.db import utcnow
from marketplace.extensions import db
from tests.factories import OrganisationFactory, UserFactory


def _item(app):
    coordinator = UserFactory(role=Role.BUREAU_COORDINATOR)
    bank = OrganisationFactory(kind=OrgKind.BANK)
    officer = UserFactory(role=Role.BANK_OFFICER, organisation=bank)
    with app.test_request_context():
        meeting = meetings.schedule_meeting(coordinator.organisation, coordinator, title="调度会",
                                            starts_at=utcnow() + timedelta(days=2), place="会议室",
                                            host=coordinator, attendee_ids=[bank.id])
        item = meetings.add_action_item(meeting, coordinator, description="补充授信材料", owner_org_id=bank.id,
                                        due_on=meetings.meeting_day(meeting))
    return item, officer


def test_the_bank_officer_sees_the_item_on_the_desk_and_closes_it_with_a_note(app, client, login):
    item, officer = _item(app)
    login(officer)
    assert 'data-testid="desk-action-items"' in client.get("/institution/requests/").get_data(as_text=True)
    assert "补充授信材料" in client.get("/actions/").get_data(as_text=True)
    empty = client.post(f"/actions/{item.id}", data={"note": ""})
    assert empty.status_code == 422 and item.state == "open"
    client.post(f"/actions/{item.id}", data={"note": "材料已补齐"})
    assert item.state == "done" and item.close_note == "材料已补齐"


def test_another_institution_cannot_read_or_close_the_item(app, client, login):
    item, _officer = _item(app)
    stranger = UserFactory(role=Role.BANK_OFFICER)
    login(stranger)
    assert client.get(f"/actions/{item.id}").status_code == 404
    assert client.post(f"/actions/{item.id}", data={"note": "x"}).status_code == 404
    assert "补充授信材料" not in client.get("/actions/").get_data(as_text=True)
    assert db.session.scalar(select(ActionItem.state)) == "open"


def test_the_desk_reads_the_open_items_with_the_user_and_follows_the_database(app, client, login):
    """The count comes with the user loader's statement (no statement of its own on the desk page),
    and is the database's at each request: closing the item removes the notice on the next page."""
    from tests.sql_log import statements_run

    item, officer = _item(app)
    login(officer)
    client.get("/institution/requests/")  # views and the loader's statement set up
    with statements_run(app) as statements:
        page = client.get("/institution/requests/").get_data(as_text=True)
    assert 'data-testid="desk-action-items"' in page
    assert not [s for s in statements if "FROM action_items" in s and "users" not in s]
    assert any("action_items" in s and "FROM users" in s for s in statements)
    client.post(f"/actions/{item.id}", data={"note": "材料已补齐"})
    assert 'data-testid="desk-action-items"' not in client.get("/institution/requests/").get_data(as_text=True)


def test_the_count_loaded_with_the_user_counts_theirs_and_their_institutions(app):
    from marketplace.accounts.sessions import counted_with_user
    from marketplace.extensions import login_manager

    item, officer = _item(app)
    colleague = UserFactory(role=Role.BANK_OFFICER, organisation=officer.organisation)
    with app.test_request_context():
        meeting = item.meeting
        coordinator = meeting.host
        meetings.add_action_item(meeting, coordinator, description="本人事项", owner_user_id=colleague.id,
                                 due_on=meetings.meeting_day(meeting))
    db.session.flush()
    for user, expected in ((officer, 1), (colleague, 2)):
        with app.test_request_context("/institution/requests/"):
            loaded = login_manager._user_callback(f"{user.id}.{user.auth_generation}")
            assert counted_with_user(loaded, "open_action_items") == expected
            assert meetings.open_actions_count(loaded) == expected
        with app.test_request_context("/actions/1", method="POST"):  # a POST counts afresh
            loaded = login_manager._user_callback(f"{user.id}.{user.auth_generation}")
            assert counted_with_user(loaded, "open_action_items") is None
            assert meetings.open_actions_count(loaded) == expected
