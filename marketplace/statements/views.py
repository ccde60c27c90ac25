"""The enterprise's bank statements: the list with the upload form, the upload, and the parse report."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.extensions import db
from marketplace.pagination import paginate
from marketplace.permissions import current_enterprise, require_owned
from marketplace.statements import services
from marketplace.statements.forms import ACCEPT, UploadForm
from marketplace.statements.models import StatementFile
from marketplace.supermarket.charts import bar_chart
from workflows.verification.statement_headers import recognised_headers, recognised_labels
from workflows.verification.statement_sample import sample_statement_csv

bp = Blueprint("statements", __name__, url_prefix="/statements")

INFLOW_COLOR = "#1a7f37"
OUTFLOW_COLOR = "#b42318"


@bp.app_template_filter("masked_account")
def masked_account(value: str) -> str:
    return services.masked_account(value)


def _index(form: UploadForm, errors=(), status: int = 200):
    page = paginate(services.statements_query(current_enterprise().id))
    return render_template("statements/index.html", page=page, form=form, errors=list(errors),
                           accept=ACCEPT, headers=recognised_headers(),
                           labels=recognised_labels()), status


@bp.get("/")
def index():
    return _index(UploadForm())


@bp.post("/upload")
def upload():
    enterprise = current_enterprise()
    form = UploadForm()
    if not form.validate_on_submit():
        return _index(form, status=400)
    upload = form.file.data
    try:
        statement = services.import_statement(enterprise, current_user._get_current_object(), upload.read(),
                                              upload.filename or "")
    except services.StatementRejected as rejected:
        return _index(form, rejected.errors, status=422)
    except services.DuplicateStatement as duplicate:
        flash(_("%(message)s。本次未存入任何新数据，以下是此前上传的结果。", message=str(duplicate)), "warning")
        return redirect(url_for("statements.detail", statement_id=duplicate.existing.id))
    except services.StatementRefused as refused:
        form.file.errors.append(str(refused))
        return _index(form, status=422)
    db.session.commit()
    flash(_("已导入 %(n)s 笔交易，期间 %(start)s 至 %(end)s", n=statement.row_count,
            start=statement.first_date.isoformat(), end=statement.last_date.isoformat()), "success")
    if statement.parse_warnings:
        flash(_("导入时有 %(n)s 条提示，请查看下方“解析提示”", n=len(statement.parse_warnings)), "info")
    return redirect(url_for("statements.detail", statement_id=statement.id))


@bp.get("/sample.csv")
def sample():
    """A sample statement in the layout the importer reads (UTF-8 CSV with a BOM)."""
    return Response(sample_statement_csv(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=statement-sample.csv"})


@bp.get("/<int:statement_id>")
def detail(statement_id: int):
    statement = require_owned(db.session.get(StatementFile, statement_id))
    months = services.monthly_totals(statement)
    period = _("%(start)s 至 %(end)s", start=statement.first_date.isoformat(), end=statement.last_date.isoformat())
    charts = {
        "inflow": bar_chart([(m.month, m.inflow) for m in months], color=INFLOW_COLOR, unit=_("元"),
                            title=_("每月流入（元）"),
                            description=_("%(period)s，每月一根柱，合计流入 %(total)s 元", period=period,
                                          total=f"{statement.inflow_total:,.2f}")),
        "outflow": bar_chart([(m.month, m.outflow) for m in months], color=OUTFLOW_COLOR, unit=_("元"),
                             title=_("每月流出（元）"),
                             description=_("%(period)s，每月一根柱，合计流出 %(total)s 元", period=period,
                                           total=f"{statement.outflow_total:,.2f}")),
    }
    rows = services.first_transactions(statement)
    return render_template("statements/detail.html", s=statement, months=months, charts=charts, rows=rows,
                           more=max(0, statement.row_count - len(rows)))
