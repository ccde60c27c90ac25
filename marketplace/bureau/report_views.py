"""Half-year and full-year summary reports of the region: request, progress, download.

Coordinators only (rule BUREAU); every report is loaded scoped to the coordinator's bureau, so
another bureau's report answers 404. The PDF is built by the Celery task
marketplace.bureau.summaries.build_summary_report; the page polls `status` for its progress.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, ValidationError

from marketplace.bureau import summaries as services
from marketplace.bureau.region import current_bureau
from marketplace.downloads import file_headers
from marketplace.errors import render_error
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.pagination import paginate

bp = Blueprint("bureau_reports", __name__, url_prefix="/bureau/reports")


class ReportForm(FlaskForm):
    """Which report to build: a year and a period (H1, H2 or Y); the service checks the period
    has started."""

    year = IntegerField(_l("年度"), validators=[InputRequired(_l("请填写年度"))])
    period = SelectField(_l("期间"), choices=[(p, label) for p, label in services.PERIOD_LABELS.items()],
                         validate_choice=False)

    def validate_year(self, field):
        # not NumberRange: it calls math.isnan on the value, which a 400-digit year overflows
        if field.data is not None and not services.MIN_YEAR <= field.data <= 9999:
            raise ValidationError(_l("报告年度无效（%(min)s年起）", min=services.MIN_YEAR))


def _default_form() -> ReportForm:
    """The last half-year that has ended: H2 of last year in the first half, else H1 of this year."""
    today = today_shanghai()
    year, period = (today.year - 1, "H2") if today.month <= 6 else (today.year, "H1")
    return ReportForm(formdata=None, year=year, period=period)


def _report(report_id: int):
    report = services.report_of(report_id, current_bureau())
    if report is None:
        abort(404)
    return report


def _index(form: ReportForm, status: int = 200):
    page = paginate(services.reports_of(current_bureau()))
    return render_template("bureau/reports_index.html", form=form, page=page, period_label=services.period_label,
                           step_label=services.step_label, state_labels=services.STATE_LABELS), status


@bp.get("/")
def index():
    return _index(_default_form())


@bp.post("/")
def create():
    form = ReportForm()
    if not form.validate():
        return _index(form, 422)
    try:
        report = services.request_report(current_bureau(), form.year.data, form.period.data,
                                         current_user._get_current_object())
        db.session.commit()  # the build is sent to the worker after this commit (marketplace.outbox)
    except services.ReportRefused as refused:
        db.session.rollback()
        flash(str(refused), "danger")
        return _index(form, 422)
    flash(_("已提交%(year)s年%(period)s总结报告的生成请求，生成完成后可在下方下载",
            year=report.year, period=services.period_label(report.period)), "success")
    return redirect(url_for("bureau_reports.index"))


@bp.get("/<int:report_id>/status")
def status(report_id: int):
    """How far the report's build is, for the reports page's progress bars."""
    report = _report(report_id)
    answer = {"state": report.state, "state_label": str(services.STATE_LABELS[report.state]),
              "progress": report.progress, "step": report.step, "step_label": services.step_label(report.step)}
    if report.state == "done":
        answer["download_url"] = url_for("bureau_reports.download", report_id=report.id)
    return answer


@bp.get("/<int:report_id>/download")
def download(report_id: int):
    report = _report(report_id)
    if report.state != "done":  # 404 with a reason (the error pages have no title for 409)
        return render_error(404, _("报告尚未生成完成，请稍后再下载"))
    path = services.report_path(report)
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, mimetype="application/pdf", max_age=0)
    response.headers.update(file_headers(services.download_name(report), f"summary-report-{report.id}.pdf"))
    return response
