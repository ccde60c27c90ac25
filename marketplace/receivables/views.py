"""The enterprise's receivables: list, record, edit, delete, documents, bulk import, the debtor's
confirmation link, and, as a debtor itself, the receivables other enterprises ask it to confirm."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from marketplace.downloads import file_headers
from marketplace.extensions import db
from marketplace.financing.services import is_pledged, pledged_receivable_ids
from marketplace.i18n import is_english
from marketplace.pagination import paginate
from marketplace.permissions import current_enterprise, require_owned
from marketplace.receivables import documents, links, services
from marketplace.receivables.forms import AnswerForm, DocumentForm, ImportForm, ReceivableForm
from marketplace.receivables.models import (
    CONFIRMATION_LABELS,
    CONFIRMATION_STATES,
    Receivable,
    ReceivableDocument,
)
from workflows.receivables_file import template_csv, template_xlsx
from workflows.tabular import TableError

bp = Blueprint("receivables", __name__, url_prefix="/receivables")

NEW_LINK_KEY = "receivables.new_link"  # the link just made, shown once on the detail page
TEMPLATES = {
    "csv": (template_csv, "text/csv; charset=utf-8"),
    "xlsx": (template_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def _owned(receivable_id: int) -> Receivable:
    return require_owned(db.session.get(Receivable, receivable_id))


def _owned_document(document_id: int) -> ReceivableDocument:
    document = db.session.get(ReceivableDocument, document_id)
    require_owned(document.receivable if document else None)
    return document


def _to_detail(receivable: Receivable):
    return redirect(url_for("receivables.detail", receivable_id=receivable.id))


def _user():
    return current_user._get_current_object()


@bp.get("/")
def index():
    enterprise = current_enterprise()
    state = request.args.get("state")
    state = state if state in CONFIRMATION_STATES else None
    page = paginate(services.receivables_query(enterprise.id, state))
    return render_template("receivables/index.html", page=page, state=state, states=CONFIRMATION_STATES,
                           labels=CONFIRMATION_LABELS, pledged=pledged_receivable_ids(enterprise.id))


@bp.route("/new", methods=["GET", "POST"])
def new():
    enterprise = current_enterprise()
    form = ReceivableForm(enterprise=enterprise)
    if form.validate_on_submit():
        try:
            receivable = services.create_receivable(enterprise, form.values())
        except services.DuplicateReceivable as error:
            form.invoice_no.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("应收账款已登记。可上传发票、合同等材料，并请债务人确认。"), "success")
            return _to_detail(receivable)
    return render_template("receivables/form.html", form=form, receivable=None)


@bp.route("/<int:receivable_id>/edit", methods=["GET", "POST"])
def edit(receivable_id: int):
    receivable = _owned(receivable_id)
    try:
        services.ensure_unpledged(receivable)
    except services.ReceivableLocked as error:
        flash(str(error), "danger")
        return _to_detail(receivable)
    form = ReceivableForm(enterprise=current_enterprise(), receivable=receivable)
    if form.validate_on_submit():
        try:
            reset = services.update_receivable(receivable, form.values())
        except services.DuplicateReceivable as error:
            form.invoice_no.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("应收账款已修改。"), "success")
            if reset:
                flash(_("由于修改了金额、债务人或发票号码，债务人的确认结果已失效，状态已重置为待确认，请重新请债务人确认。"),
                      "warning")
            return _to_detail(receivable)
    return render_template("receivables/form.html", form=form, receivable=receivable)


@bp.get("/<int:receivable_id>")
def detail(receivable_id: int):
    receivable = _owned(receivable_id)
    new_link = session.pop(NEW_LINK_KEY, None)
    if new_link and new_link.get("receivable") != receivable.id:
        new_link = None
    return render_template(
        "receivables/detail.html", r=receivable, labels=CONFIRMATION_LABELS, pledged=is_pledged(receivable.id),
        history=services.link_history(receivable), new_link_url=new_link and new_link["url"],
        document_form=DocumentForm(), link_days=current_app.config["DEBTOR_LINK_DAYS"],
    )


@bp.post("/<int:receivable_id>/delete")
def delete(receivable_id: int):
    receivable = _owned(receivable_id)
    try:
        stored = services.delete_receivable(receivable)
    except services.ReceivableRefused as error:
        flash(str(error), "danger")
        return _to_detail(receivable)
    db.session.commit()
    documents.remove_files(stored)
    flash(_("应收账款已删除"), "success")
    return redirect(url_for("receivables.index"))


# --- documents ---------------------------------------------------------------------------------

@bp.post("/<int:receivable_id>/documents")
def upload_document(receivable_id: int):
    receivable = _owned(receivable_id)
    form = DocumentForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for e in form.file.errors) or _("请选择要上传的文件"), "danger")
        return _to_detail(receivable)
    try:
        documents.store_document(receivable, _user(), form.file.data)
    except documents.DocumentRefused as error:
        flash(str(error), "danger")
        return _to_detail(receivable)
    db.session.commit()
    flash(_("材料已上传"), "success")
    return _to_detail(receivable)


@bp.get("/documents/<int:document_id>")
def document(document_id: int):
    doc = _owned_document(document_id)
    path = documents.document_path(doc)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=doc.content_type, max_age=0)
    response.headers.update(file_headers(documents.download_name(doc), documents.ascii_download_name(doc)))
    return response


@bp.post("/documents/<int:document_id>/delete")
def delete_document(document_id: int):
    doc = _owned_document(document_id)
    receivable = doc.receivable
    try:
        stored = documents.delete_document(doc)
    except services.ReceivableRefused as error:
        flash(str(error), "danger")
        return _to_detail(receivable)
    db.session.commit()
    documents.remove_files([stored])
    flash(_("材料已删除"), "success")
    return _to_detail(receivable)


# --- bulk import -------------------------------------------------------------------------------

@bp.route("/import", methods=["GET", "POST"])
def import_file():
    enterprise = current_enterprise()
    form = ImportForm()
    errors = []
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        status = 422
        try:
            result = services.import_receivables(enterprise, upload.read(), upload.filename or "", _user())
        except TableError as error:  # unreadable, over the upload limits, or too heavy to parse
            form.file.errors.append(error.en if is_english() and error.en else str(error))
        except services.ImportRejected as rejected:
            errors = rejected.errors
        else:
            db.session.commit()
            flash(ngettext("已导入 %(n)s 笔应收账款", "已导入 %(n)s 笔应收账款", result.count, n=result.count), "success")
            if result.declared:
                flash(_("其中 %(n)s 笔填写了确认状态（声明已确认 %(confirmed)s 笔，声明有异议 %(disputed)s 笔），"
                        "已记录为本企业的声明，不视为债务人的确认，状态仍为待确认。请向债务人发送确认链接，"
                        "债务人本人确认后才计为已确认。", n=result.declared, confirmed=result.declared_confirmed,
                        disputed=result.declared_disputed), "warning")
            return redirect(url_for("receivables.index"))
    return render_template("receivables/import.html", form=form, errors=errors), status


@bp.get("/template")
def template():
    extension = request.args.get("format", "csv")
    if extension not in TEMPLATES:
        abort(404)
    build, mimetype = TEMPLATES[extension]
    return send_file(io.BytesIO(build()), mimetype=mimetype, as_attachment=True,
                     download_name=f"应收账款导入模板.{extension}")


# --- the debtor's confirmation -----------------------------------------------------------------

@bp.post("/<int:receivable_id>/link")
def send_link(receivable_id: int):
    receivable = _owned(receivable_id)
    try:
        token = services.issue_confirmation_link(receivable, _user())
    except services.ReceivableRefused as error:
        flash(str(error), "danger")
        return _to_detail(receivable)
    db.session.commit()
    session[NEW_LINK_KEY] = {"receivable": receivable.id, "url": links.link_url(token)}
    flash(_("已生成确认链接，之前未使用的链接已作废。请复制下方链接发给债务人，链接只显示这一次。"), "success")
    return _to_detail(receivable)


@bp.get("/confirmations")
def confirmations():
    page = paginate(services.confirmations_query(current_enterprise()))
    return render_template("receivables/confirmations.html", page=page)


@bp.post("/confirmations/<int:receivable_id>")
def answer_confirmation(receivable_id: int):
    enterprise = current_enterprise()
    receivable = services.receivable_owed_by(enterprise, receivable_id)
    if receivable is None:
        abort(404)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "danger")
        return redirect(url_for("receivables.confirmations"))
    user = _user()
    try:
        services.answer(receivable, services.Answer(
            confirm=form.confirms, name=user.name, via="account", ip=request.remote_addr,
            reason=form.reason.data, user=user,
        ))
    except services.ReceivableRefused as error:
        flash(str(error), "danger")
        return redirect(url_for("receivables.confirmations"))
    db.session.commit()
    flash(_("已确认该应收账款") if form.confirms else _("已提出异议，债权人将看到您的异议原因"), "success")
    return redirect(url_for("receivables.confirmations"))
