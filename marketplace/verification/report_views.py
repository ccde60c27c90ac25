"""Verification reports: the enterprise sees its own; a routed institution sees them within the
enterprise's consent, each view logged as a credit-data read. Page and PDF share one context and
one loader per audience; each has its body (templates/verification/_report_body.html, and the
lighter templates/pdf/verification_report.html), both worded by verification/_report_labels.html."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import Blueprint, abort, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import audit
from marketplace.enterprises.consents import reading_purpose
from marketplace.enterprises.services import has_consent
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.i18n import is_english
from marketplace.lists.services import is_yellow_listed as yellow_listed
from marketplace.pdf import SVG_FONT_FAMILY, pdf_response, svg_image
from marketplace.permissions import require_owned
from marketplace.statements.views import INFLOW_COLOR, OUTFLOW_COLOR
from marketplace.supermarket.charts import bar_chart, line_chart
from marketplace.verification.models import VerificationReport
from marketplace.verification.routed import routed_target
from workflows.verification.policy import CLASS_LABELS, THRESHOLD_LABELS
from workflows.verification.red_flags import FLAG_NAMES

bp = Blueprint("reports", __name__)

CONSENT_SCOPE = "bank_statements"
BALANCE_COLOR = "#2b6cb0"
CLASS_BADGES = {"excellent": "ok", "mixed": "warn", "poor": "bad"}
LEVEL_BADGES = {"ok": "ok", "weak": "warn", "fail": "bad"}
FLAG_BADGES = {"high": "bad", "medium": "warn"}
PDF_RECEIVABLE_ROWS = 50  # past this many, the PDF lists these and totals per grade
GRADE_ORDER = ("优", "良", "差")


@dataclass(frozen=True)
class MonthRow:
    """One window month of the report's metrics, as numbers."""

    month: str
    covered: bool
    inflow: Decimal
    outflow: Decimal
    closing_balance: Decimal | None
    transactions: int

    @classmethod
    def of(cls, data: dict) -> MonthRow:
        balance = data.get("closing_balance")
        return cls(month=data["month"], covered=bool(data.get("covered")), inflow=Decimal(data["inflow"]),
                   outflow=Decimal(data["outflow"]), closing_balance=None if balance is None else Decimal(balance),
                   transactions=int(data.get("transactions") or 0))


def _report(request: FinancingRequest, report_id: int) -> VerificationReport:
    report = db.session.get(VerificationReport, report_id)
    if report is None or report.request_id != request.id:
        abort(404)
    return report


def _enterprise_report(request_id: int, report_id: int) -> tuple[FinancingRequest, VerificationReport]:
    """The report, for users of the enterprise that made the request."""
    request = require_owned(db.session.get(FinancingRequest, request_id))
    return request, _report(request, report_id)


def _institution_report(request_id: int, report_id: int) -> tuple[FinancingRequest, VerificationReport]:
    """The report, for staff of an institution the request was routed to, within consent."""
    request = db.session.get(FinancingRequest, request_id)
    if request is None or routed_target(request.id, current_user.organisation_id) is None:
        abort(404)
    report = _report(request, report_id)
    purpose = reading_purpose(current_user.organisation.kind, request.state)
    if not has_consent(request.enterprise_id, current_user.organisation_id, CONSENT_SCOPE, purpose):
        db.session.commit()  # keep the logged refusal
        abort(403)
    audit.record_credit_read(request.enterprise_id, "verification_report", purpose=purpose,
                             request_id=request.id, report_id=report.id)
    db.session.commit()
    return request, report


@dataclass(frozen=True)
class GradeTotal:
    """The receivables of one grade: how many, and their face value."""

    grade: str
    count: int
    amount: Decimal


def grade_totals(receivables: list[dict]) -> list[GradeTotal]:
    """Count and amount per grade, in the order 优, 良, 差 (then any other grade)."""
    totals: dict[str, list] = {}
    for item in receivables:
        entry = totals.setdefault(item.get("grade", ""), [0, Decimal("0.00")])
        entry[0] += 1
        entry[1] += Decimal(str(item.get("amount") or 0))
    order = {grade: index for index, grade in enumerate(GRADE_ORDER)}
    return [GradeTotal(grade, count, amount)
            for grade, (count, amount) in sorted(totals.items(), key=lambda kv: order.get(kv[0], len(order)))]


def report_context(request: FinancingRequest, report: VerificationReport, *, pdf: bool = False) -> dict:
    """What the report body needs: the stored payload, its months as numbers, the charts. The PDF
    lists the first PDF_RECEIVABLE_ROWS receivables and totals per grade; the page lists all."""
    payload = report.payload
    receivables = list(payload.get("receivables") or ())
    shown = receivables[:PDF_RECEIVABLE_ROWS] if pdf else receivables
    metrics = payload.get("metrics") or {}
    months = [MonthRow.of(m) for m in metrics.get("months") or ()]
    window = metrics.get("window") or {}
    english = is_english()
    return {
        "req": request, "report": report, "payload": payload, "months": months, "english": english,
        "charts": _charts(months, window, metrics, pdf=pdf),
        "class_label": CLASS_LABELS[report.classification][1 if english else 0],
        "class_badge": CLASS_BADGES[report.classification], "level_badges": LEVEL_BADGES,
        "reasons": payload.get("reasons_en" if english else "reasons_zh") or [],
        "threshold_labels": THRESHOLD_LABELS,
        # None: a report stored before red flags were checked (its payload has no such key)
        "red_flags": payload.get("red_flags"), "flag_names": FLAG_NAMES, "flag_badges": FLAG_BADGES,
        "flags_affect_class": bool((payload.get("thresholds") or {}).get("red_flags_affect_class")),
        "receivables": shown, "receivables_omitted": len(receivables) - len(shown),
        "grade_totals": grade_totals(receivables) if len(shown) < len(receivables) else [],
    }


def _charts(months: list[MonthRow], window: dict, metrics: dict, *, pdf: bool = False) -> dict:
    """The three cash-flow charts: inline SVG for the page, or (`pdf`) images of SVG for paper."""
    period = _("%(start)s 至 %(end)s", start=window.get("start", ""), end=window.get("end", ""))
    inflow_total = Decimal(metrics.get("inflow_total") or 0)
    outflow_total = Decimal(metrics.get("outflow_total") or 0)
    # on paper: no tooltips, the PDF's typeface, and a little shorter (a typical report then takes five pages)
    medium = {"tooltips": False, "font_family": SVG_FONT_FAMILY, "height": 150} if pdf else {}
    charts = {
        "inflow": bar_chart([(m.month, m.inflow) for m in months], color=INFLOW_COLOR, unit=_("元"),
                            title=_("每月流入（元）"),
                            description=_("%(period)s，每月一根柱，合计流入 %(total)s 元", period=period,
                                          total=f"{inflow_total:,.2f}"), **medium),
        "outflow": bar_chart([(m.month, m.outflow) for m in months], color=OUTFLOW_COLOR, unit=_("元"),
                             title=_("每月流出（元）"),
                             description=_("%(period)s，每月一根柱，合计流出 %(total)s 元", period=period,
                                           total=f"{outflow_total:,.2f}"), **medium),
        "balance": line_chart([(m.month, m.closing_balance) for m in months], color=BALANCE_COLOR, unit=_("元"),
                              title=_("月末余额（元）"), missing=_("无余额数据"),
                              description=_("%(period)s，每月月末余额；无余额数据的月份留空", period=period),
                              **medium),
    }
    return {name: svg_image(chart) for name, chart in charts.items()} if pdf else charts


def _page(request: FinancingRequest, report: VerificationReport, *, pdf_url: str, back_url: str):
    return render_template("verification/report.html", pdf_url=pdf_url, back_url=back_url,
                           **report_context(request, report))


def _pdf(request: FinancingRequest, report: VerificationReport):
    """Reports never change: the PDF is rendered once per report and language, then cached."""
    return pdf_response("pdf/verification_report.html",
                        f"verification-report-{request.id}-{report.submission_no}.pdf",
                        cache_key=f"verification-report-{report.id}{'-yellow' if yellow_listed(request.enterprise_id) else ''}",
                        **report_context(request, report, pdf=True))


@bp.get("/financing/<int:request_id>/reports/<int:report_id>")
def enterprise_report(request_id: int, report_id: int):
    request, report = _enterprise_report(request_id, report_id)
    return _page(request, report, back_url=url_for("financing.detail", request_id=request.id),
                 pdf_url=url_for("reports.enterprise_report_pdf", request_id=request.id, report_id=report.id))


@bp.get("/financing/<int:request_id>/reports/<int:report_id>.pdf")
def enterprise_report_pdf(request_id: int, report_id: int):
    return _pdf(*_enterprise_report(request_id, report_id))


@bp.get("/institution/requests/<int:request_id>/reports/<int:report_id>")
def institution_report(request_id: int, report_id: int):
    request, report = _institution_report(request_id, report_id)
    return _page(request, report, back_url=url_for("desk.detail", request_id=request.id),
                 pdf_url=url_for("reports.institution_report_pdf", request_id=request.id, report_id=report.id))


@bp.get("/institution/requests/<int:request_id>/reports/<int:report_id>.pdf")
def institution_report_pdf(request_id: int, report_id: int):
    return _pdf(*_institution_report(request_id, report_id))
