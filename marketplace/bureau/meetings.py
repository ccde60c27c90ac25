"""Dispatch meetings (调度会): schedule, the agenda built from the stuck list and the open action
items of earlier meetings, minutes and decisions, action items tracked to closure.

Every verb checks its rule and raises MeetingRefused (a sentence in the user's language) before
it changes anything; a closed meeting refuses every edit of its minutes, agenda and attendees.
Services flush; the view commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, func, or_, select

from marketplace import audit
from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import OrgKind, Role
from marketplace.accounts.sessions import counted_with_user, load_count_with_user
from marketplace.bureau.models import ActionItem, AgendaItem, Meeting, MeetingAttendee
from marketplace.bureau.region import in_region
from marketplace.bureau.stuck import stuck_entries
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.formatting import local, today_shanghai

ATTENDEE_KINDS = (OrgKind.BANK, OrgKind.GUARANTOR, OrgKind.BUREAU, OrgKind.ENTERPRISE)
TITLE_MAX = 300


class MeetingRefused(ValueError):
    """The meeting action cannot be done; the message says why (in the user's language)."""


# ---- reading ---------------------------------------------------------------------------------

def meeting_of(meeting_id: int, bureau: Organisation) -> Meeting:
    """The bureau's meeting, or 404 (another bureau's meeting is as if it did not exist)."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.bureau_id != bureau.id:
        abort(404)
    return meeting


def agenda_item_of(meeting: Meeting, item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        abort(404)
    return item


def upcoming_meetings(bureau: Organisation) -> Select:
    return (select(Meeting).where(Meeting.bureau_id == bureau.id, Meeting.state == "scheduled")
            .order_by(Meeting.starts_at, Meeting.id))


def past_meetings(bureau: Organisation) -> Select:
    return (select(Meeting).where(Meeting.bureau_id == bureau.id, Meeting.state == "closed")
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc()))


def hosts(bureau: Organisation) -> list[User]:
    """Who may host the bureau's meetings: its active coordinators."""
    return list(db.session.scalars(select(User).where(
        User.organisation_id == bureau.id, User.role == Role.BUREAU_COORDINATOR, User.active).order_by(User.id)))


def attendee_choices(bureau: Organisation) -> list[Organisation]:
    """The institutions a meeting may invite: active banks, guarantors and bureaus, and the
    active enterprises of the bureau's region."""
    kinds = [OrgKind.BANK, OrgKind.GUARANTOR, OrgKind.BUREAU]
    query = (select(Organisation).where(Organisation.active, or_(
        Organisation.kind.in_(kinds),
        (Organisation.kind == OrgKind.ENTERPRISE) & in_region(Organisation.region_code, bureau)))
        .order_by(Organisation.kind, Organisation.name, Organisation.id))
    return list(db.session.scalars(query))


def meeting_day(meeting: Meeting) -> date:
    """The meeting's date in Beijing time."""
    return local(meeting.starts_at).date()


def owner_choices(meeting: Meeting) -> tuple[list[Organisation], list[User]]:
    """Who may own the meeting's action items: an attendee institution or the bureau, or an active
    user of one of them."""
    orgs = [meeting.bureau, *(a.institution for a in meeting.attendees if a.institution_id != meeting.bureau_id)]
    users = list(db.session.scalars(select(User).where(
        User.organisation_id.in_([o.id for o in orgs]), User.active).order_by(User.organisation_id, User.id)))
    return orgs, users


def owner_name(item: ActionItem) -> str:
    if item.owner_user is not None:
        return f"{item.owner_user.name}（{item.owner_user.organisation.name}）"
    return item.owner_org.name


def actions_of(user: User) -> Select:
    """The action items the user owns, or the user's institution owns; open ones first, by due date."""
    return (select(ActionItem).where(or_(ActionItem.owner_org_id == user.organisation_id,
                                         ActionItem.owner_user_id == user.id))
            .order_by((ActionItem.state == "done"), ActionItem.due_on, ActionItem.id))


_open_actions_statement: Select | None = None


def _open_actions_of(org_id, user_id):
    return (select(func.count()).select_from(ActionItem)
            .where(or_(ActionItem.owner_org_id == org_id, ActionItem.owner_user_id == user_id),
                   ActionItem.state == "open"))


def open_actions_column(user_entity):
    """The user's open action items as a scalar subquery on the user's row: the user loader
    reads it with the user (accounts.sessions.load_count_with_user), one round trip less a page."""
    return (_open_actions_of(user_entity.organisation_id, user_entity.id)
            .correlate_except(ActionItem).scalar_subquery())


load_count_with_user("open_action_items", open_actions_column)


def open_actions_count(user: User) -> int:
    """The user's open action items (the desk shows the count on every queue page): the count
    the user loader read with the user on a GET page, else one statement with bound parameters,
    built once per process (issue 15)."""
    loaded = counted_with_user(user, "open_action_items")
    if loaded is not None:
        return loaded
    global _open_actions_statement
    if _open_actions_statement is None:
        _open_actions_statement = _open_actions_of(bindparam("org_id"), bindparam("user_id"))
    return db.session.scalar(_open_actions_statement, {"org_id": user.organisation_id, "user_id": user.id}) or 0


def action_for_owner(item_id: int, user: User) -> ActionItem:
    """The action item when the user or the user's institution owns it, else 404."""
    item = db.session.get(ActionItem, item_id)
    if item is None or not _owns(item, user):
        abort(404)
    return item


def attended(meeting_id: int, user: User) -> Meeting:
    """The meeting when the user's institution attended it (or held it), else 404."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not (meeting.bureau_id == user.organisation_id
                               or any(a.institution_id == user.organisation_id for a in meeting.attendees)):
        abort(404)
    return meeting


@dataclass(frozen=True)
class Discussion:
    """What one meeting said about a request: its agenda items (minutes, decisions) and action items."""

    meeting: Meeting
    agenda_items: list[AgendaItem]
    action_items: list[ActionItem]


def discussions(request_id: int) -> list[Discussion]:
    """The meetings that discussed the request, in date order, with what was minuted and decided."""
    items = list(db.session.scalars(select(AgendaItem).where(AgendaItem.request_id == request_id)))
    actions = list(db.session.scalars(select(ActionItem).where(ActionItem.request_id == request_id)
                                      .order_by(ActionItem.id)))
    meetings = {i.meeting for i in items} | {a.meeting for a in actions}
    return [Discussion(m, [i for i in items if i.meeting_id == m.id], [a for a in actions if a.meeting_id == m.id])
            for m in sorted(meetings, key=lambda m: (m.starts_at, m.id))]


# ---- scheduling --------------------------------------------------------------------------------

def _require_open(meeting: Meeting) -> None:
    if meeting.state != "scheduled":
        raise MeetingRefused(_("会议已结束，纪要已定稿，不能再修改"))


def _check_details(bureau: Organisation, starts_at: datetime, host: User | None, attendee_ids, now: datetime):
    if starts_at <= now:
        raise MeetingRefused(_("会议时间不能早于当前时间"))
    if host is None or host.organisation_id != bureau.id or host.role != Role.BUREAU_COORDINATOR or not host.active:
        raise MeetingRefused(_("主持人须为本局的协调员"))
    allowed = {o.id for o in attendee_choices(bureau)}
    if not attendee_ids:
        raise MeetingRefused(_("请至少选择一家参会机构"))
    if any(i not in allowed for i in attendee_ids):
        raise MeetingRefused(_("参会机构无效"))


def schedule_meeting(bureau: Organisation, user: User, *, title: str, starts_at: datetime, place: str,
                     host: User | None, attendee_ids, request_ids=None, now: datetime | None = None) -> Meeting:
    """Schedule a meeting in the future and build its agenda (see build_agenda)."""
    now = now or utcnow()
    attendee_ids = list(dict.fromkeys(attendee_ids or []))
    _check_details(bureau, starts_at, host, attendee_ids, now)
    meeting = Meeting(bureau_id=bureau.id, title=title.strip(), starts_at=starts_at, place=place.strip(),
                      host_user_id=host.id, created_by_id=user.id, state="scheduled")
    meeting.attendees = [MeetingAttendee(institution_id=i) for i in attendee_ids]
    db.session.add(meeting)
    db.session.flush()
    build_agenda(meeting, request_ids, now=now)
    audit.record("meeting.scheduled", meeting, actor=user, title=meeting.title, starts_at=starts_at.isoformat(),
                 attendees=attendee_ids, agenda=len(meeting.agenda))
    return meeting


def update_meeting(meeting: Meeting, user: User, *, title: str, starts_at: datetime, place: str,
                   host: User | None, attendee_ids, now: datetime | None = None) -> None:
    _require_open(meeting)
    attendee_ids = list(dict.fromkeys(attendee_ids or []))
    _check_details(meeting.bureau, starts_at, host, attendee_ids, now or utcnow())
    if starts_at != meeting.starts_at:
        meeting.reminded_at = None  # moved: remind again before the new time
    meeting.title, meeting.starts_at, meeting.place, meeting.host_user_id = title.strip(), starts_at, place.strip(), host.id
    kept = {a.institution_id: a for a in meeting.attendees}
    meeting.attendees = [kept.get(i) or MeetingAttendee(institution_id=i) for i in attendee_ids]
    db.session.flush()
    audit.record("meeting.updated", meeting, actor=user, title=meeting.title, starts_at=starts_at.isoformat(),
                 attendees=attendee_ids)


def build_agenda(meeting: Meeting, request_ids=None, now: datetime | None = None) -> list[AgendaItem]:
    """Append one item per stuck request of the region (only those in `request_ids` when given),
    its kind kept, then one per open action item of the bureau's earlier meetings not on it yet."""
    wanted = None if request_ids is None else set(request_ids)
    on_agenda = {i.request_id for i in meeting.agenda if i.request_id and i.carried_action_id is None}
    carried = {i.carried_action_id for i in meeting.agenda if i.carried_action_id}
    position = max((i.position for i in meeting.agenda), default=0)
    added = []
    stuck = stuck_entries(meeting.bureau, now, wanted) if wanted is None or wanted else []
    for entry in stuck:
        if entry.request_id in on_agenda or (wanted is not None and entry.request_id not in wanted):
            continue
        on_agenda.add(entry.request_id)
        position += 1
        title = f"#{entry.request_id} {entry.enterprise_name}：{entry.detail}"[:TITLE_MAX]
        added.append(AgendaItem(position=position, title=title, request_id=entry.request_id, stuck_kind=entry.kind))
    earlier = db.session.scalars(
        select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id)
        .where(Meeting.bureau_id == meeting.bureau_id, ActionItem.meeting_id != meeting.id,
               ActionItem.state == "open")
        .order_by(ActionItem.due_on, ActionItem.id))
    for action in earlier:
        if action.id in carried:
            continue
        position += 1
        title = _("督办：%(text)s（%(owner)s）", text=action.description, owner=owner_name(action))[:TITLE_MAX]
        added.append(AgendaItem(position=position, title=title, request_id=action.request_id,
                                carried_action_id=action.id))
    meeting.agenda.extend(added)
    db.session.flush()
    return added


# ---- the agenda ------------------------------------------------------------------------------------

def _renumber(meeting: Meeting) -> None:
    for n, item in enumerate(sorted(meeting.agenda, key=lambda i: (i.position, i.id)), start=1):
        item.position = n


def add_topic(meeting: Meeting, user: User, title: str) -> AgendaItem:
    _require_open(meeting)
    title = (title or "").strip()
    if not title:
        raise MeetingRefused(_("请填写议题"))
    item = AgendaItem(position=max((i.position for i in meeting.agenda), default=0) + 1, title=title[:TITLE_MAX])
    meeting.agenda.append(item)
    db.session.flush()
    audit.record("meeting.agenda_added", meeting, actor=user, item_id=item.id, title=item.title)
    return item


def edit_topic(item: AgendaItem, user: User, title: str) -> None:
    _require_open(item.meeting)
    title = (title or "").strip()
    if not title:
        raise MeetingRefused(_("请填写议题"))
    previous, item.title = item.title, title[:TITLE_MAX]
    db.session.flush()
    audit.record("meeting.agenda_edited", item.meeting, actor=user, item_id=item.id, previous=previous, title=item.title)


def remove_topic(item: AgendaItem, user: User) -> None:
    meeting = item.meeting
    _require_open(meeting)
    if db.session.scalar(select(ActionItem.id).where(ActionItem.agenda_item_id == item.id).limit(1)):
        raise MeetingRefused(_("该议题已有待办事项，不能删除"))
    meeting.agenda.remove(item)
    db.session.flush()
    _renumber(meeting)
    audit.record("meeting.agenda_removed", meeting, actor=user, item_id=item.id, title=item.title)


def move_topic(item: AgendaItem, user: User, direction: str) -> None:
    meeting = item.meeting
    _require_open(meeting)
    _renumber(meeting)
    ordered = sorted(meeting.agenda, key=lambda i: i.position)
    index = ordered.index(item)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return
    item.position, ordered[other].position = ordered[other].position, item.position
    db.session.flush()
    audit.record("meeting.agenda_moved", meeting, actor=user, item_id=item.id, direction=direction)


# ---- minutes -------------------------------------------------------------------------------------

def record_item_minutes(item: AgendaItem, user: User, minutes: str | None, decision: str | None) -> None:
    _require_open(item.meeting)
    item.minutes = (minutes or "").strip() or None
    item.decision = (decision or "").strip() or None
    db.session.flush()
    audit.record("meeting.minutes", item.meeting, actor=user, item_id=item.id, decision=item.decision)


def record_summary(meeting: Meeting, user: User, summary: str | None) -> None:
    _require_open(meeting)
    meeting.summary = (summary or "").strip() or None
    db.session.flush()
    audit.record("meeting.summary", meeting, actor=user)


def close_meeting(meeting: Meeting, user: User) -> None:
    """Finalise the minutes: nothing of the meeting changes after this."""
    _require_open(meeting)
    meeting.state, meeting.closed_at, meeting.closed_by_id = "closed", utcnow(), user.id
    db.session.flush()
    audit.record("meeting.closed", meeting, actor=user, action_items=len(meeting.action_items))


# ---- action items --------------------------------------------------------------------------------

def add_action_item(meeting: Meeting, user: User, *, description: str, due_on: date | None,
                    owner_org_id: int | None = None, owner_user_id: int | None = None,
                    agenda_item_id: int | None = None) -> ActionItem:
    """An action item for an attendee institution, the bureau, or a user of one of them, due on or
    after the meeting's day."""
    _require_open(meeting)
    description = (description or "").strip()
    if not description:
        raise MeetingRefused(_("请填写待办事项内容"))
    if not owner_org_id and not owner_user_id:
        raise MeetingRefused(_("请指定待办事项的负责人（机构或个人）"))
    orgs, users = owner_choices(meeting)
    if owner_org_id and owner_org_id not in {o.id for o in orgs}:
        raise MeetingRefused(_("负责机构须为参会机构或本局"))
    if owner_user_id and owner_user_id not in {u.id for u in users}:
        raise MeetingRefused(_("负责人须为参会机构或本局的人员"))
    if due_on is None:
        raise MeetingRefused(_("请填写完成期限"))
    if due_on < meeting_day(meeting):
        raise MeetingRefused(_("完成期限不能早于会议日期（%(day)s）", day=meeting_day(meeting).isoformat()))
    agenda_item = None
    if agenda_item_id:
        agenda_item = next((i for i in meeting.agenda if i.id == agenda_item_id), None)
        if agenda_item is None:
            raise MeetingRefused(_("议题无效"))
    item = ActionItem(meeting_id=meeting.id, agenda_item_id=agenda_item_id or None,
                      request_id=agenda_item.request_id if agenda_item else None, description=description,
                      owner_org_id=owner_org_id or None, owner_user_id=owner_user_id or None, due_on=due_on,
                      state="open", created_by_id=user.id)
    db.session.add(item)
    db.session.flush()
    db.session.refresh(meeting, ["action_items"])
    audit.record("action_item.added", item, actor=user, meeting_id=meeting.id, due_on=due_on.isoformat(),
                 owner_org_id=item.owner_org_id, owner_user_id=item.owner_user_id)
    return item


def _owns(item: ActionItem, user: User) -> bool:
    return item.owner_user_id == user.id or (item.owner_org_id is not None and item.owner_org_id == user.organisation_id)


def close_action_item(item: ActionItem, user: User, note: str) -> None:
    """The owner's staff closes the item with a note (state done)."""
    if not _owns(item, user):
        raise MeetingRefused(_("只有负责机构或负责人可以办结该事项"))
    if item.state != "open":
        raise MeetingRefused(_("该事项已办结"))
    note = (note or "").strip()
    if not note:
        raise MeetingRefused(_("请填写办结说明"))
    item.state, item.closed_at, item.closed_by_id, item.close_note = "done", utcnow(), user.id, note
    db.session.flush()
    audit.record("action_item.closed", item, actor=user, meeting_id=item.meeting_id)


def action_status(item: ActionItem, today: date | None = None) -> str:
    return item.status(today or today_shanghai())
