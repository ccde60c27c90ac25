"""Receivables from issued invoices: upload the tax bureau's invoice list or e-invoice XML files,
see the preview (column mapping, what is imported, skipped or wrong), confirm. Nothing is stored
before the confirmation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.downloads import file_headers
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.i18n import input_error, is_english
from marketplace.permissions import current_enterprise
from marketplace.receivables import invoice_import, services
from marketplace.receivables.invoice_forms import ACCEPT, InvoicePreviewForm, InvoiceUploadForm
from workflows.identifiers import uscc_check_char
from workflows.invoices import FIELDS, Sample, SampleInvoice, sample_invoice_xml, sample_list_xlsx
from workflows.tabular import TableError

bp = Blueprint("invoices", __name__, url_prefix="/receivables/invoices")

SAMPLE_BUYERS = (  # name, the first 17 characters of the credit code
    ("上海示例贸易有限公司（示例）", "91310115MA1K3ABC0"),
    ("无锡示例机械有限公司（示例）", "91320211MA1W2XYK0"),
)


def _table_error(error: TableError) -> str:
    return error.en if is_english() and error.en else str(error)


def _render_preview(form: InvoicePreviewForm, preview: invoice_import.Preview, status: int = 200):
    if preview.draft.table is not None:
        form.set_columns(preview.draft.table.headers)
    return render_template("receivables/invoice_preview.html", form=form, p=preview, fields=FIELDS), status


def _preview_form(draft: invoice_import.Draft, term_days: int | None) -> InvoicePreviewForm:
    data = {"token": invoice_import.draft_token(draft, current_enterprise()), "term_days": term_days}
    data |= {f"map_{name}": "" if column is None else str(column)
             for name, column in invoice_import.detected_mapping(draft).items()}
    return InvoicePreviewForm(formdata=None, data=data)


@bp.route("/", methods=["GET", "POST"])
def upload():
    enterprise = current_enterprise()
    form = InvoiceUploadForm(data={"term_days": enterprise.default_payment_term_days})
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            draft = invoice_import.read_uploads(form.uploads())
        except TableError as error:  # unreadable, over the upload limits, or too heavy to parse
            errors.append(_table_error(error))
        except invoice_import.InvoiceImportRefused as error:
            errors.append(input_error(error))
        else:
            preview = invoice_import.preview(enterprise, draft, None, form.term_days.data)
            return _render_preview(_preview_form(draft, form.term_days.data), preview)
    status = 422 if form.is_submitted() else 200
    return render_template("receivables/invoice_upload.html", form=form, errors=errors, accept=ACCEPT,
                           term_set=enterprise.default_payment_term_days is not None), status


def _submitted_preview() -> tuple[InvoicePreviewForm, invoice_import.Draft | None]:
    """The preview form as posted, and its draft when the form and its token are sound (else the
    problem is flashed)."""
    enterprise = current_enterprise()
    form = InvoicePreviewForm()
    try:
        draft = invoice_import.draft_from_token(form.token.data, enterprise)
    except invoice_import.InvoiceImportRefused as error:
        flash(input_error(error), "danger")
        return form, None
    if draft.table is not None:
        form.set_columns(draft.table.headers)
    return form, draft


@bp.post("/preview")
def preview():
    form, draft = _submitted_preview()
    if draft is None:
        return redirect(url_for("invoices.upload"))
    valid = form.validate_on_submit()
    term = form.term_days.data if valid else None
    result = invoice_import.preview(current_enterprise(), draft, form.mapping(), term)
    return _render_preview(form, result, 200 if valid else 422)


@bp.post("/confirm")
def confirm():
    form, draft = _submitted_preview()
    if draft is None:
        return redirect(url_for("invoices.upload"))
    enterprise = current_enterprise()
    if not form.validate_on_submit():
        return _render_preview(form, invoice_import.preview(enterprise, draft, form.mapping(), None), 422)
    try:
        result, checked = invoice_import.confirm(enterprise, draft, form.mapping(), form.term_days.data,
                                                 current_user._get_current_object())
    except (invoice_import.InvoiceImportRefused, services.ImportRejected) as error:
        db.session.rollback()
        message = input_error(error) if isinstance(error, invoice_import.InvoiceImportRefused) else \
            _("导入时发现部分发票刚被登记，未导入任何发票，请核对后重新预览")
        flash(message, "danger")
        preview = invoice_import.preview(enterprise, draft, form.mapping(), form.term_days.data)
        return _render_preview(form, preview, 422)
    db.session.commit()
    flash(_("已从发票导入 %(n)s 笔应收账款，均为待确认，请向债务人发送确认请求。", n=result.count), "success")
    if checked.skipped or checked.errors:
        flash(_("未导入：跳过 %(skipped)s 张，有误 %(errors)s 张（见导入前的预览）。",
                skipped=len(checked.skipped), errors=len(checked.errors)), "warning")
    return redirect(url_for("receivables.index"))


# --- samples ----------------------------------------------------------------------------------------

def _sample() -> Sample:
    """Two invoices issued by the signed-in enterprise, one voided and one red-letter, so that a
    trial upload shows each kind of row; the buyers are marked 示例 (nothing is stored unconfirmed)."""
    enterprise = current_enterprise()
    today = today_shanghai()
    buyers = [(name, body + uscc_check_char(body)) for name, body in SAMPLE_BUYERS]
    invoices = (
        SampleInvoice("26312000000000100001", *buyers[0], today - timedelta(days=20), Decimal("100000.00"),
                      Decimal("13000.00")),
        SampleInvoice("26312000000000100002", *buyers[1], today - timedelta(days=12), Decimal("50000.00"),
                      Decimal("6500.00")),
        SampleInvoice("26312000000000100003", *buyers[0], today - timedelta(days=10), Decimal("8000.00"),
                      Decimal("1040.00"), status="作废"),
        SampleInvoice("26312000000000100004", *buyers[1], today - timedelta(days=5), Decimal("-5000.00"),
                      Decimal("-650.00"), positive=False),
    )
    return Sample(enterprise.uscc, enterprise.name, invoices)


SAMPLES = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "发票清单示例.xlsx",
             "invoice-list-sample.xlsx"),
    "xml": ("application/xml", "数电票示例.xml", "e-invoice-sample.xml"),
}


@bp.get("/sample.<kind>")
def sample(kind: str):
    """A sample invoice list (XLSX, laid out as the tax bureau's export) or e-invoice XML."""
    if kind not in SAMPLES:
        abort(404)
    sample_data = _sample()
    if kind == "xlsx":
        body = sample_list_xlsx(sample_data)
    else:
        body = sample_invoice_xml(sample_data, sample_data.invoices[0]).encode("utf-8")
    mimetype, name, fallback = SAMPLES[kind]
    return Response(body, mimetype=mimetype, headers=file_headers(name, fallback))
