"""A verification report as a document: what its web page and its PDF show (the stored payload,
the months as numbers, the charts), and the PDF itself, rendered once per report and language and
then read from the cache (marketplace.pdf.cached). A report's PDF can be made ahead of its
first download: services.store_report queues RENDER_PDF_TASK (tasks.render_report_pdf), which
renders it in the default language on a worker (REPORT_PDF_PRERENDER)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.i18n import is_english
from marketplace.lists.services import is_yellow_listed as yellow_listed
from marketplace.pdf import SVG_FONT_FAMILY, PdfRefused, cached, is_cached, render_pdf, svg_image
from marketplace.statements.views import INFLOW_COLOR, OUTFLOW_COLOR
from marketplace.supermarket.charts import bar_chart, line_chart
from marketplace.verification.models import VerificationReport
from workflows.verification.policy import CLASS_LABELS, THRESHOLD_LABELS
from workflows.verification.red_flags import FLAG_NAMES

PDF_TEMPLATE = "pdf/verification_report.html"

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


def pdf_cache_key(request: FinancingRequest, report: VerificationReport) -> str:
    """The report's key in the PDF cache: the report, and whether the enterprise is yellow-listed now
    (the PDF's title carries the flag)."""
    return f"verification-report-{report.id}{'-yellow' if yellow_listed(request.enterprise_id) else ''}"


def report_pdf(request: FinancingRequest, report: VerificationReport) -> bytes:
    """The report's PDF in the reader's language: from the cache, or rendered and cached. Raises
    marketplace.pdf.PdfRefused."""
    return cached(pdf_cache_key(request, report),
                  lambda: render_pdf(PDF_TEMPLATE, **report_context(request, report, pdf=True)))


def prerender(report_id: int) -> str:
    """Render a report's PDF in the default language into the cache, ahead of its first download.
    Returns "rendered", "cached" (already there: a redelivered task), "refused" (past the PDF limits:
    its download will say so) or "missing"."""
    report = db.session.get(VerificationReport, report_id)
    if report is None:
        return "missing"
    request = db.session.get(FinancingRequest, report.request_id)
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE") or "zh"):
        key = pdf_cache_key(request, report)
        if is_cached(key):
            return "cached"
        try:
            report_pdf(request, report)
        except PdfRefused as refused:
            current_app.logger.warning("report %s: PDF refused ahead of its download: %s", report.id, refused.cause)
            return "refused"
    return "rendered"
