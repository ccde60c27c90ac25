"""The coordinator's regional dashboard and its exports.

The figures come from marketplace.bureau.dashboard (seven aggregate queries whatever the number of
requests); this module only chooses the date range, labels the figures in the page's language and
lays them out as tables, chart data (static/bureau-dashboard.js draws them with the vendored
Chart.js) and spreadsheets. Coordinators only (rule BUREAU); the region is the coordinator's bureau.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Optional

from marketplace.accounts.roles import ORG_KIND_LABELS, OrgKind
from marketplace.bureau import spreadsheets as sheets
from marketplace.bureau.dashboard import CLASSES, DashboardFigures, figures
from marketplace.bureau.region import current_bureau
from marketplace.desks.reasons import decline_reasons
from marketplace.downloads import file_headers
from marketplace.errors import render_error
from marketplace.formatting import TEN_THOUSAND, today_shanghai
from marketplace.i18n import pick, sentences
from workflows.financing import STATE_LABELS, State
from workflows.verification.policy import CLASS_LABELS

bp = Blueprint("bureau_dashboard", __name__, url_prefix="/bureau")

# The widest range one page or export covers: three years (36 months in the monthly chart).
MAX_SPAN_DAYS = 3 * 366
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
_YMD = re.compile(r"\d{4}-\d{2}-\d{2}")

STAGE_LABELS = {
    "posted": _l("已提交"), "verified": _l("已核验"), "routed": _l("已推送机构"),
    "offered": _l("已获报价"), "financed": _l("已放款"),
}
SECTIONS = ("funnel", "classes", "turnaround", "declines", "monthly", "institutions", "grades")


class RangeForm(FlaskForm):
    """The date-range filter (GET, so no CSRF token): Beijing dates, YYYY-MM-DD, both inclusive.
    A missing end is today, a missing start the first of January of the end's year."""

    class Meta:
        csrf = False

    start = StringField(_l("起始日期"), validators=[Optional()])
    end = StringField(_l("截止日期"), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        self.start_date, self.end_date = default_range()
        if not super().validate(extra_validators):
            return False
        start, end = _parse(self.start), _parse(self.end)
        if self.start.errors or self.end.errors:
            return False
        end = end or today_shanghai()
        start = start or date(end.year, 1, 1)
        if start > end:
            self.end.errors.append(_("起始日期不能晚于截止日期"))
            return False
        if (end - start).days >= MAX_SPAN_DAYS:
            self.end.errors.append(_("日期范围最长三年，请缩短范围"))
            return False
        self.start_date, self.end_date = start, end
        return True


def _parse(field) -> date | None:
    text = (field.data or "").strip()
    if not text:
        return None
    try:
        if not _YMD.fullmatch(text):
            raise ValueError(text)
        value = date.fromisoformat(text)
    except ValueError:
        field.errors.append(_("日期格式应为 YYYY-MM-DD，例如 2026-01-31"))
        return None
    if not EARLIEST <= value <= LATEST:
        field.errors.append(_("日期应在 2000-01-01 至 2099-12-31 之间"))
        return None
    return value


def default_range() -> tuple[date, date]:
    """This year so far, in Beijing time."""
    today = today_shanghai()
    return date(today.year, 1, 1), today


def _range_form() -> tuple[RangeForm, str | None]:
    """The form read from the query string and, when it was refused, the message to show."""
    form = RangeForm(request.args)
    if form.validate():
        return form, None
    reasons = sentences(e for field in (form.start, form.end) for e in field.errors)
    start, end = form.start_date, form.end_date
    return form, _("%(reasons)s。已改为显示默认范围 %(start)s 至 %(end)s。", reasons=reasons,
                   start=start.isoformat(), end=end.isoformat())


# ---- the figures, labelled -------------------------------------------------------------------

def _state_label(state: str) -> str:
    try:
        return pick(STATE_LABELS[State(state)])
    except ValueError:
        return state


def _kind_label(kind: str) -> str:
    try:
        return pick(ORG_KIND_LABELS[OrgKind(kind)])
    except ValueError:
        return kind


def _months(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@dataclass(frozen=True)
class Tables:
    """The dashboard's figures as labelled rows: what the page's tables, the charts and the
    spreadsheets all show. Amounts stay Decimal yuan; the page shows them in 万元."""

    funnel: list[tuple[str, int, Decimal]]  # (label, count, amount)
    classes: list[tuple[str, int, Decimal]]
    turnaround: list[tuple[str, str, int, float, float]]  # (state, institution, count, median h, p90 h)
    turnaround_states: list[str]  # state labels in workflow order
    turnaround_series: list[tuple[str, list[float | None]]]  # (institution, median per state)
    declines: list[tuple[str, str, int]]  # (code, label, count)
    monthly: list[tuple[str, int, Decimal]]  # every month of the range, zeros included
    institutions: list[tuple[str, str, int, int, int, int, Decimal]]
    grades: list[tuple[str, str, int]]  # (grade code, label, enterprises): A, B, C, D, ungraded


def tables(result: DashboardFigures) -> Tables:
    reasons = decline_reasons()
    others = _("企业、平台或系统")
    turnaround = [(_state_label(t.state), t.institution_name or others, t.count, t.median_hours, t.p90_hours)
                  for t in result.turnaround]
    states = list(dict.fromkeys(row[0] for row in turnaround))
    series: dict[str, dict[str, float]] = {}
    for state, institution, _count, median, _p90 in turnaround:
        series.setdefault(institution, {})[state] = median
    by_month = {month: (count, amount) for month, count, amount in result.financed_by_month}
    return Tables(
        funnel=[(str(STAGE_LABELS[s.stage]), s.count, s.amount) for s in result.funnel],
        classes=[(pick(CLASS_LABELS[name]), *result.classification_mix.get(name, (0, Decimal(0))))
                 for name in CLASSES],
        turnaround=turnaround,
        turnaround_states=states,
        turnaround_series=[(name, [medians.get(state) for state in states]) for name, medians in series.items()],
        declines=[(code, pick(reasons[code]) if code in reasons else code, count)
                  for code, count in result.decline_reasons],
        monthly=[(month, *by_month.get(month, (0, Decimal(0)))) for month in _months(result.start, result.end)],
        institutions=[(i.name, _kind_label(i.kind), i.routed, i.offered, i.declined, i.financed, i.financed_amount)
                      for i in result.institutions],
        grades=[(grade, _("未评级") if grade == "ungraded" else grade, count)
                for grade, count in result.grade_distribution],
    )


def _wan_number(amount: Decimal) -> str:
    """万元 as a plain decimal string for the charts ("1234.50"): no thousands separators."""
    return f"{(Decimal(amount) / TEN_THOUSAND):.2f}"


def chart_data(t: Tables) -> dict:
    """What static/bureau-dashboard.js draws; numbers as strings (Decimal never goes through float here)."""
    return {
        "text": {"count": _("笔数"), "amount": _("金额（万元）"), "median": _("中位数（小时）"),
                 "enterprises": _("企业数")},
        "funnel": {"labels": [r[0] for r in t.funnel], "counts": [r[1] for r in t.funnel],
                   "amounts": [_wan_number(r[2]) for r in t.funnel]},
        "classes": {"labels": [r[0] for r in t.classes], "counts": [r[1] for r in t.classes],
                    "amounts": [_wan_number(r[2]) for r in t.classes]},
        "turnaround": {"labels": t.turnaround_states,
                       "series": [{"label": name, "data": values} for name, values in t.turnaround_series]},
        "declines": {"labels": [r[1] for r in t.declines], "counts": [r[2] for r in t.declines]},
        "monthly": {"labels": [r[0] for r in t.monthly], "counts": [r[1] for r in t.monthly],
                    "amounts": [_wan_number(r[2]) for r in t.monthly]},
        "grades": {"codes": [r[0] for r in t.grades], "labels": [r[1] for r in t.grades],
                   "counts": [r[2] for r in t.grades]},
    }


# ---- the spreadsheets ------------------------------------------------------------------------

def _sheets(t: Tables) -> dict[str, sheets.Sheet]:
    """One sheet per figure group; amounts in yuan (MONEY), so Excel shows ¥ and can add them up."""
    count, money = sheets.Column(_("笔数"), sheets.INTEGER, 10), sheets.Column(_("金额（元）"), sheets.MONEY, 18)
    return {
        "funnel": sheets.Sheet(_("融资漏斗"), [sheets.Column(_("阶段"), width=16), count, money], t.funnel),
        "classes": sheets.Sheet(_("核验分类"), [sheets.Column(_("分类")), count, money], t.classes),
        "turnaround": sheets.Sheet(_("办理时长"), [
            sheets.Column(_("状态"), width=18), sheets.Column(_("经办机构"), width=28), count,
            sheets.Column(_("中位数（小时）"), sheets.DECIMAL), sheets.Column(_("P90（小时）"), sheets.DECIMAL)],
            t.turnaround),
        "declines": sheets.Sheet(_("拒绝原因"), [
            sheets.Column(_("原因代码"), width=20), sheets.Column(_("拒绝原因"), width=36), count], t.declines),
        "monthly": sheets.Sheet(_("月度放款"), [sheets.Column(_("月份"), width=10), count, money], t.monthly),
        "institutions": sheets.Sheet(_("机构表现"), [
            sheets.Column(_("机构"), width=28), sheets.Column(_("类型"), width=10),
            sheets.Column(_("推送笔数"), sheets.INTEGER, 10), sheets.Column(_("报价笔数"), sheets.INTEGER, 10),
            sheets.Column(_("拒绝笔数"), sheets.INTEGER, 10), sheets.Column(_("放款笔数"), sheets.INTEGER, 10),
            sheets.Column(_("放款金额（元）"), sheets.MONEY, 18)], t.institutions),
        "grades": sheets.Sheet(_("信用等级分布"), [
            sheets.Column(_("信用等级"), width=12), sheets.Column(_("企业数"), sheets.INTEGER, 10)],
            [(label, count) for _code, label, count in t.grades]),
    }


def _scope_sheet(bureau, start: date, end: date) -> sheets.Sheet:
    rows = [(_("辖区"), bureau.name), (_("起始日期"), start.isoformat()), (_("截止日期"), end.isoformat()),
            (_("统计口径"), _("期间内提交的本辖区融资申请；月度放款按放款日期统计")),
            (_("信用等级分布"), _("本辖区全部企业按当前信用等级统计，不限统计期间；未评级：尚无评级结果或数据不足。"))]
    return sheets.Sheet(_("统计范围"), [sheets.Column(_("项目"), width=12), sheets.Column(_("内容"), width=60)], rows)


# ---- the pages -------------------------------------------------------------------------------

@bp.get("/dashboard")
def index():
    """The dashboard for the range in the query string (this year so far when it is missing or refused)."""
    form, error = _range_form()
    bureau = current_bureau()
    start, end = form.start_date, form.end_date
    labelled = tables(figures(bureau, start, end))
    return render_template("bureau/dashboard.html", form=form, error=error, bureau=bureau, start=start, end=end,
                           t=labelled, charts=chart_data(labelled))


@bp.get("/dashboard/export")
def export():
    """The dashboard's figures as a file: `format=xlsx` (default) gives one workbook with a sheet
    per figure group after a sheet naming the region and range; `format=csv` gives one figure group,
    chosen by `section` (funnel, classes, turnaround, declines, monthly, institutions or grades; default
    funnel), since a CSV file holds one table: the page links each table to its own CSV.
    `start`/`end` as on the page; a refused range goes back to the page, which says why."""
    kind = request.args.get("format", "xlsx")
    section = request.args.get("section", "funnel")
    if kind not in ("xlsx", "csv") or section not in SECTIONS:
        return render_error(400, _("导出格式应为 xlsx 或 csv，数据板块应为页面上的板块之一。"))
    form, error = _range_form()
    if error:  # the page shows the same message beside the range
        return redirect(url_for("bureau_dashboard.index", start=request.args.get("start"), end=request.args.get("end")))
    bureau = current_bureau()
    start, end = form.start_date, form.end_date
    by_section = _sheets(tables(figures(bureau, start, end)))
    span = f"{start.isoformat()}_{end.isoformat()}"
    if kind == "xlsx":
        body, mimetype = sheets.to_xlsx([_scope_sheet(bureau, start, end), *by_section.values()]), sheets.XLSX_TYPE
        names = (_("区域融资看板_%(span)s.xlsx", span=span), f"dashboard_{span}.xlsx")
    else:
        sheet = by_section[section]
        body, mimetype = sheets.to_csv(sheet), sheets.CSV_TYPE
        names = (_("区域融资看板_%(section)s_%(span)s.csv", section=sheet.title, span=span),
                 f"dashboard_{section}_{span}.csv")
    return Response(body, mimetype=mimetype, headers=file_headers(*names))
