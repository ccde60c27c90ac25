"""The enterprise's bank statements: the list with the upload form, the upload, and the parse report."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.extensions import db
from marketplace.pagination import paginate
from marketplace.permissions import current_enterprise, require_owned
from marketplace.statements import services
from marketplace.statements.forms import ACCEPT, UploadForm
from marketplace.statements.models import StatementFile
from marketplace.supermarket.charts import bar_chart

bp = Blueprint("statements", __name__, url_prefix="/statements")

INFLOW_COLOR = "#1a7f37"
OUTFLOW_COLOR = "#b42318"


@bp.app_template_filter("masked_account")
def masked_account(value: str) -> str:
    return services.masked_account(value)


def _index(form: UploadForm, errors=(), status: int = 200):
    page = paginate(services.statements_query(current_enterprise().id))
    return render_template("statements/index.html", page=page, form=form, errors=list(errors),
                           accept=ACCEPT), status


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
        flash(str(duplicate), "warning")
        return redirect(url_for("statements.detail", statement_id=duplicate.existing.id))
    except services.StatementRefused as refused:
        form.file.errors.append(str(refused))
        return _index(form, status=422)
    db.session.commit()
    flash(_("已导入 %(n)s 笔交易", n=statement.row_count), "success")
    return redirect(url_for("statements.detail", statement_id=statement.id))


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
