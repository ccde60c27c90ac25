"""The enterprise's debtor requests (issue 19): choose receivables, send one request per debtor
(email or a printed letter with a QR code), follow who answered, print the letter, revoke.
The debtor's own page is debtor_views.request_page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask import request as http
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.pagination import paginate
from marketplace.pdf import pdf_response
from marketplace.permissions import current_enterprise, require_owned
from marketplace.receivables import debtor_requests as service
from marketplace.receivables.debtor_request_forms import DebtorRequestForm, SelectionForm
from marketplace.receivables.debtor_request_models import DebtorRequest
from marketplace.receivables.models import CONFIRMATION_LABELS

bp = Blueprint("debtor_requests", __name__, url_prefix="/receivables/debtor-requests")


def _owned(request_id: int) -> DebtorRequest:
    return require_owned(db.session.get(DebtorRequest, request_id))


def _to_detail(req: DebtorRequest):
    return redirect(url_for("debtor_requests.detail", request_id=req.id))


@bp.get("/")
def index():
    page = paginate(service.requests_query(current_enterprise().id))
    return render_template("debtor_requests/index.html", page=page, state_of=service.state_of,
                           progress=service.progress)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """GET: the receivables ticked on the list (or every pending one) grouped by debtor, with a
    delivery to choose per debtor. POST: one request per debtor."""
    enterprise = current_enterprise()
    form = DebtorRequestForm()
    if form.is_submitted():
        selection = service.select_receivables(enterprise, form.ids())
    else:
        selection = service.select_receivables(enterprise, SelectionForm(formdata=http.args).ids())
        form.receivable.data = [str(i) for i in selection.receivable_ids]
        for group in selection.groups:
            form.debtors.append_entry({"debtor_uscc": group.debtor_uscc, "channel": "email"})
    if not form.is_submitted() and not selection.groups and not selection.left_out:
        flash(_("请先在应收账款列表中勾选要请债务人确认的应收账款"), "warning")
        return redirect(url_for("receivables.index"))
    status = 200
    if form.validate_on_submit():
        try:
            created = service.create_requests(enterprise, current_user._get_current_object(),
                                              form.ids(), form.deliveries())
        except service.RequestRefused as error:
            flash(str(error), "danger")
            status = 422
        else:
            db.session.commit()
            emails = sum(req.channel == "email" for req in created)
            flash(_("已创建 %(n)s 个确认请求：%(emails)s 个通过电子邮件发送，%(letters)s 个请打印确认函寄给债务人。",
                    n=len(created), emails=emails, letters=len(created) - emails), "success")
            return redirect(url_for("debtor_requests.index"))
    elif form.is_submitted():
        status = 400
    return render_template("debtor_requests/new.html", form=form, selection=selection,
                           groups={g.debtor_uscc: g for g in selection.groups}), status


@bp.get("/<int:request_id>")
def detail(request_id: int):
    req = _owned(request_id)
    return render_template("debtor_requests/detail.html", req=req, state=service.state_of(req),
                           progress=service.progress(req), labels=CONFIRMATION_LABELS)


def _letter_context(req: DebtorRequest) -> dict:
    url = service.link_url(req)
    return {"req": req, "url": url, "qr": service.qr_svg(url), "issued_on": today_shanghai()}


def _open_or_back(req: DebtorRequest):
    """A letter only for a request whose link still works; else back to the request, with why."""
    if service.state_of(req) == "open":
        return None
    flash(_("该确认请求已答复、已过期或已撤回，不能再打印确认函"), "warning")
    return _to_detail(req)


@bp.get("/<int:request_id>/letter")
def letter(request_id: int):
    """The letter as a page to print from the browser."""
    req = _owned(request_id)
    return _open_or_back(req) or render_template("pdf/debtor_request_letter.html", screen=True,
                                                     **_letter_context(req))


@bp.get("/<int:request_id>/letter.pdf")
def letter_pdf(request_id: int):
    req = _owned(request_id)
    return _open_or_back(req) or pdf_response("pdf/debtor_request_letter.html",
                                                  f"应收账款确认函-{req.id}.pdf", **_letter_context(req))


@bp.post("/<int:request_id>/revoke")
def revoke(request_id: int):
    req = _owned(request_id)
    try:
        service.revoke_request(req, current_user._get_current_object())
    except service.RequestRefused as error:
        flash(str(error), "danger")
        return _to_detail(req)
    db.session.commit()
    flash(_("确认请求已撤回，链接已作废。其中的应收账款可以重新发送确认请求。"), "success")
    return _to_detail(req)
