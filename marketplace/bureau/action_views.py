"""Action items on the attendees' side: the staff of an owning institution see and close theirs.

Rule STAFF; an item owned by another institution (or another user) answers 404. Attendee staff
may also download the minutes of a meeting their institution attended.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.bureau import meetings as services
from marketplace.bureau.meeting_forms import CloseActionForm
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.i18n import sentences
from marketplace.pagination import paginate

bp = Blueprint("actions", __name__, url_prefix="/actions")


@bp.app_template_global("open_action_items")
def open_action_items() -> int:
    """The signed-in user's open action items (theirs or their institution's), for the desk panel."""
    if not current_user.is_authenticated:
        return 0
    return services.open_actions_count(current_user)


def _user():
    return current_user._get_current_object()


@bp.get("/")
def index():
    return render_template("bureau/actions_index.html", page=paginate(services.actions_of(_user())),
                           today=today_shanghai(), owner_name=services.owner_name)


@bp.route("/<int:item_id>", methods=["GET", "POST"])
def detail(item_id: int):
    item = services.action_for_owner(item_id, _user())
    form = CloseActionForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                services.close_action_item(item, _user(), form.note.data)
                db.session.commit()
            except services.MeetingRefused as error:
                db.session.rollback()
                flash(str(error), "danger")
            else:
                flash(_("事项已办结"), "success")
                return redirect(url_for("actions.detail", item_id=item.id))
        else:
            flash(sentences(e for errors in form.errors.values() for e in errors), "danger")
        status = 422
    return render_template("bureau/actions_detail.html", item=item, form=form, today=today_shanghai(),
                           owner_name=services.owner_name), status


@bp.get("/meetings/<int:meeting_id>/minutes.pdf")
def minutes_pdf(meeting_id: int):
    """The minutes, for staff of an institution that attended the meeting (once it is closed)."""
    from flask import abort

    from marketplace.bureau.meeting_views import minutes_pdf_response

    meeting = services.attended(meeting_id, _user())
    if meeting.state != "closed":
        abort(404)
    return minutes_pdf_response(meeting)
