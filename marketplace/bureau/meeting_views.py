"""Dispatch meetings (调度会): schedule, agenda, minutes, action items, the minutes PDF.

Coordinators only (rule BUREAU); every meeting is loaded scoped to the coordinator's bureau, so
another bureau's meeting answers 404.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.bureau import meetings as services
from marketplace.bureau.meeting_forms import (
    ActionItemForm,
    ConfirmForm,
    ItemMinutesForm,
    MeetingForm,
    MoveForm,
    SummaryForm,
    TopicForm,
)
from marketplace.bureau.region import current_bureau
from marketplace.bureau.stuck import STUCK_PAGE_SIZE, stuck_entries, stuck_page
from marketplace.extensions import db
from marketplace.formatting import SHANGHAI, local, today_shanghai
from marketplace.i18n import sentences
from marketplace.pagination import paginate
from marketplace.pdf import pdf_response

bp = Blueprint("meetings", __name__, url_prefix="/bureau/meetings")


def _user():
    return current_user._get_current_object()


def _errors(form) -> str:
    return sentences(e for errors in form.errors.values() for e in errors)


def _detail(meeting):
    return redirect(url_for("meetings.detail", meeting_id=meeting.id))


def _apply(meeting, action, success: str):
    """Run one service call, commit, flash; a refusal rolls back and says why."""
    try:
        action()
        db.session.commit()
    except services.MeetingRefused as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        flash(success, "success")
    return _detail(meeting)


def _meeting_form(bureau, form: MeetingForm, entries=None) -> MeetingForm:
    form.host.choices = [(u.id, u.name) for u in services.hosts(bureau)]
    form.attendees.choices = [(o.id, o.name) for o in services.attendee_choices(bureau)]
    if entries is not None:
        seen = {}
        for entry in entries:
            seen.setdefault(entry.request_id, f"#{entry.request_id} {entry.enterprise_name}：{entry.detail}")
        form.requests.choices = list(seen.items())
    return form


def _stuck_choices(bureau) -> list:
    """The stuck entries the form offers for the agenda: those of the requests picked on the stuck
    list (or ticked in the form sent back), else the longest stuck page of the list."""
    picked = request.args.getlist("request", type=int) or request.form.getlist("requests", type=int)
    if picked:
        return stuck_entries(bureau, request_ids=picked[:STUCK_PAGE_SIZE * 4])
    page, _counts = stuck_page(bureau)
    return page.items


@bp.get("/")
def index():
    bureau = current_bureau()
    upcoming = list(db.session.scalars(services.upcoming_meetings(bureau)))
    return render_template("bureau/meetings_index.html", upcoming=upcoming, page=paginate(services.past_meetings(bureau)))


@bp.route("/new", methods=["GET", "POST"])
def new():
    bureau = current_bureau()
    form = _meeting_form(bureau, MeetingForm(), _stuck_choices(bureau))
    if request.method == "GET":
        form.host.data = current_user.id
        form.title.data = form.title.data or _("%(bureau)s调度会", bureau=bureau.name)
        picked = request.args.getlist("request", type=int)
        form.requests.data = picked or [value for value, _label in form.requests.choices]
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                meeting = services.schedule_meeting(
                    bureau, _user(), title=form.title.data, starts_at=form.starts_at_utc, place=form.place.data,
                    host=db.session.get(services.User, form.host.data), attendee_ids=form.attendees.data,
                    request_ids=form.requests.data or [])
                db.session.commit()
            except services.MeetingRefused as error:
                db.session.rollback()
                flash(str(error), "danger")
            else:
                flash(_("调度会已安排，议程已根据滞留清单和未办结事项生成"), "success")
                return _detail(meeting)
        status = 422
    return render_template("bureau/meetings_form.html", form=form, meeting=None), status


@bp.get("/<int:meeting_id>")
def detail(meeting_id: int):
    meeting = services.meeting_of(meeting_id, current_bureau())
    orgs, users = services.owner_choices(meeting)
    action_form = ActionItemForm(formdata=None, due_on=services.meeting_day(meeting))
    action_form.owner.choices = [("", _("请选择负责人")), *((f"org:{o.id}", o.name) for o in orgs),
                                 *((f"user:{u.id}", f"{u.name}（{u.organisation.name}）") for u in users)]
    action_form.agenda_item.choices = [(0, _("（不关联议题）")), *((i.id, f"{i.position}. {i.title}") for i in meeting.agenda)]
    return render_template(
        "bureau/meetings_detail.html", meeting=meeting, today=today_shanghai(), action_form=action_form,
        topic_form=TopicForm(formdata=None), confirm_form=ConfirmForm(), summary_form=SummaryForm(formdata=None, summary=meeting.summary),
        minutes_forms={i.id: ItemMinutesForm(formdata=None, minutes=i.minutes, decision=i.decision, prefix=f"i{i.id}")
                       for i in meeting.agenda},
        owner_name=services.owner_name)


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
def edit(meeting_id: int):
    bureau = current_bureau()
    meeting = services.meeting_of(meeting_id, bureau)
    if meeting.state != "scheduled":
        flash(_("会议已结束，纪要已定稿，不能再修改"), "danger")
        return _detail(meeting)
    form = _meeting_form(bureau, MeetingForm())
    del form.requests
    if request.method == "GET":
        form.title.data, form.place.data, form.host.data = meeting.title, meeting.place, meeting.host_user_id
        form.starts_at.data = local(meeting.starts_at).replace(tzinfo=None)
        form.attendees.data = [a.institution_id for a in meeting.attendees]
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                services.update_meeting(meeting, _user(), title=form.title.data, starts_at=form.starts_at_utc,
                                        place=form.place.data, host=db.session.get(services.User, form.host.data),
                                        attendee_ids=form.attendees.data)
                db.session.commit()
            except services.MeetingRefused as error:
                db.session.rollback()
                flash(str(error), "danger")
            else:
                flash(_("会议信息已保存"), "success")
                return _detail(meeting)
        status = 422
    return render_template("bureau/meetings_form.html", form=form, meeting=meeting), status


@bp.post("/<int:meeting_id>/agenda")
def add_topic(meeting_id: int):
    meeting = services.meeting_of(meeting_id, current_bureau())
    form = TopicForm()
    if not form.validate():
        flash(_errors(form), "danger")
        return _detail(meeting)
    return _apply(meeting, lambda: services.add_topic(meeting, _user(), form.title.data), _("议题已添加"))


@bp.post("/<int:meeting_id>/agenda/rebuild")
def rebuild_agenda(meeting_id: int):
    meeting = services.meeting_of(meeting_id, current_bureau())

    def rebuild():
        if meeting.state != "scheduled":
            raise services.MeetingRefused(_("会议已结束，纪要已定稿，不能再修改"))
        services.build_agenda(meeting)
    return _apply(meeting, rebuild, _("已补充新的滞留申请和未办结事项"))


@bp.post("/<int:meeting_id>/agenda/<int:item_id>/title")
def edit_topic(meeting_id: int, item_id: int):
    meeting = services.meeting_of(meeting_id, current_bureau())
    item = services.agenda_item_of(meeting, item_id)
    form = TopicForm()
    if not form.validate():
        flash(_errors(form), "danger")
        return _detail(meeting)
    return _apply(meeting, lambda: services.edit_topic(item, _user(), form.title.data), _("议题已修改"))


@bp.post("/<int:meeting_id>/agenda/<int:item_id>/remove")
def remove_topic(meeting_id: int, item_id: int):
    meeting = services.meeting_of(meeting_id, current_bureau())
    item = services.agenda_item_of(meeting, item_id)
    return _apply(meeting, lambda: services.remove_topic(item, _user()), _("议题已删除"))


@bp.post("/<int:meeting_id>/agenda/<int:item_id>/move")
def move_topic(meeting_id: int, item_id: int):
    meeting = services.meeting_of(meeting_id, current_bureau())
    item = services.agenda_item_of(meeting, item_id)
    form = MoveForm()
    if not form.validate():
        return _detail(meeting)
    return _apply(meeting, lambda: services.move_topic(item, _user(), form.direction.data), _("议程顺序已调整"))


@bp.post("/<int:meeting_id>/agenda/<int:item_id>/minutes")
def item_minutes(meeting_id: int, item_id: int):
    meeting = services.meeting_of(meeting_id, current_bureau())
    item = services.agenda_item_of(meeting, item_id)
    form = ItemMinutesForm(prefix=f"i{item.id}")
    if not form.validate():
        flash(_errors(form), "danger")
        return _detail(meeting)
    return _apply(meeting, lambda: services.record_item_minutes(item, _user(), form.minutes.data, form.decision.data),
                  _("议题纪要已保存"))


@bp.post("/<int:meeting_id>/summary")
def summary(meeting_id: int):
    meeting = services.meeting_of(meeting_id, current_bureau())
    form = SummaryForm()
    if not form.validate():
        flash(_errors(form), "danger")
        return _detail(meeting)
    return _apply(meeting, lambda: services.record_summary(meeting, _user(), form.summary.data), _("会议纪要已保存"))


@bp.post("/<int:meeting_id>/actions")
def add_action(meeting_id: int):
    meeting = services.meeting_of(meeting_id, current_bureau())
    form = ActionItemForm()
    if not form.validate():
        flash(_errors(form), "danger")
        return _detail(meeting)
    owner_org_id, owner_user_id = form.owner_ids
    return _apply(meeting, lambda: services.add_action_item(
        meeting, _user(), description=form.description.data, due_on=form.due_on.data, owner_org_id=owner_org_id,
        owner_user_id=owner_user_id, agenda_item_id=form.agenda_item.data or None), _("待办事项已添加"))


@bp.post("/<int:meeting_id>/close")
def close(meeting_id: int):
    meeting = services.meeting_of(meeting_id, current_bureau())
    return _apply(meeting, lambda: services.close_meeting(meeting, _user()), _("会议已结束，纪要已定稿"))


def minutes_pdf_response(meeting):
    """The minutes (会议纪要) as a PDF."""
    return pdf_response("pdf/meeting_minutes.html", f"meeting-minutes-{meeting.id}.pdf", meeting=meeting,
                        starts=local(meeting.starts_at), today=today_shanghai(), owner_name=services.owner_name,
                        tz=SHANGHAI)


@bp.get("/<int:meeting_id>/minutes.pdf")
def minutes_pdf(meeting_id: int):
    return minutes_pdf_response(services.meeting_of(meeting_id, current_bureau()))
