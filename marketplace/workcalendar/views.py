"""The platform admin's working calendar: which source decides each year, its days off and
make-up working days, and the form to set a year's official arrangement (issue 17)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.workcalendar import services
from marketplace.workcalendar.forms import CalendarYearForm, lines
from workflows.working_days import TABLE_YEARS, holidays_package_year

bp = Blueprint("calendar_admin", __name__, url_prefix="/admin/calendar")

SOURCE_LABELS = {
    "table": ("管理员或配置设定", "Set by the operator"),
    "chinese_calendar": ("chinese-calendar（官方放假与调休安排）", "chinese-calendar (official holidays and make-up days)"),
    "holidays": ("holidays（法定节假日，不含调休上班日）", "holidays (statutory holidays, no make-up working days)"),
    "weekdays": ("仅按周一至周五", "Monday to Friday only"),
}


@bp.get("")
def index():
    this_year = today_shanghai().year
    years = services.year_overviews(range(this_year - 1, this_year + 3))
    return render_template("workcalendar/index.html", years=years, source_labels=SOURCE_LABELS)


@bp.route("/<int:year>", methods=["GET", "POST"])
def year(year: int):
    if year not in TABLE_YEARS:
        abort(404)
    stored = services.year_overview(year)["stored"]
    form = CalendarYearForm(year)
    if not form.is_submitted():
        if stored is not None:
            form.holidays.data = "\n".join(stored.holidays)
            form.workdays.data = "\n".join(stored.workdays)
            form.source_note.data = stored.source_note
        else:  # a start: the statutory holidays the package knows; the make-up days come from the notice
            known = holidays_package_year(year)
            form.holidays.data = "\n".join(day.isoformat() for day in sorted(known.holidays)) if known else ""
    if form.validate_on_submit():
        services.set_year(year, lines(form.holidays.data), lines(form.workdays.data), form.source_note.data or "",
                          current_user)
        db.session.commit()
        flash(_("已保存 %(year)s 年的放假与调休安排，时限即按此计算。", year=year), "success")
        return redirect(url_for("calendar_admin.year", year=year))
    return render_template("workcalendar/year.html", overview=services.year_overview(year), form=form,
                           source_labels=SOURCE_LABELS)
