"""The data provider's pages: its own records, and an XLSX batch upload for providers without
an API integration (the same checks as POST /api/v1/credit-records, all or nothing)."""

from __future__ import annotations

import io

from flask import Blueprint, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.credit import services
from marketplace.credit.forms import RecordsUploadForm
from marketplace.credit.models import POLARITY_LABELS, STATUS_LABELS
from marketplace.extensions import db
from marketplace.i18n import is_english
from marketplace.pagination import paginate
from workflows.credit_records import KINDS, SOURCE_LABELS, kinds_of, template_xlsx
from workflows.tabular import TableError

bp = Blueprint("provider_records", __name__, url_prefix="/provider/records")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _provider():
    return current_user.organisation


def _labels() -> dict:
    source = _provider().credit_source
    return {"kinds": KINDS, "source_label": SOURCE_LABELS[source], "source_kinds": kinds_of(source),
            "polarity_labels": POLARITY_LABELS, "status_labels": STATUS_LABELS}


@bp.get("")
def index():
    page = paginate(services.provider_records_query(_provider()))
    return render_template("credit/records.html", page=page, **_labels())


@bp.route("/upload", methods=["GET", "POST"])
def upload():
    form = RecordsUploadForm()
    errors, status = [], 200
    if form.validate_on_submit():
        status = 422
        provider, user = _provider(), current_user._get_current_object()
        upload_file = form.file.data
        try:
            outcomes = services.submit_file(provider, upload_file.read(), upload_file.filename or "", user)
        except TableError as error:  # unreadable, over the upload limits, or too heavy to parse
            form.file.errors.append(error.en if is_english() and error.en else str(error))
        except services.BatchRejected as rejected:
            errors = rejected.problems  # nothing of the file was stored: log the refusal
            services.refusal_audit(provider, user, channel="xlsx", status=422, problems=errors)
            db.session.commit()
        else:
            db.session.commit()
            created = sum(o.created for o in outcomes)
            flash(_("已报送 %(created)s 条新记录，%(unchanged)s 条与已报送的记录相同", created=created,
                    unchanged=len(outcomes) - created), "success")
            return redirect(url_for("provider_records.index"))
    return render_template("credit/upload.html", form=form, errors=errors, **_labels()), status


@bp.get("/template.xlsx")
def template():
    return send_file(io.BytesIO(template_xlsx(_provider().credit_source)), mimetype=XLSX, as_attachment=True,
                     download_name="信用记录报送模板.xlsx")
