"""The debtor's pages: confirm or dispute a receivable through a signed, expiring, single-use link,
or several receivables of one creditor through a debtor request's link, without an account. The
token is the credential; the pages work without JavaScript and are rate-limited per address."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from marketplace.extensions import db, limiter
from marketplace.formatting import capitals
from marketplace.receivables import debtor_requests, links, services
from marketplace.receivables.debtor_request_forms import RequestAnswerForm
from marketplace.receivables.forms import REASON_MAX, LinkAnswerForm

bp = Blueprint("debtor", __name__)


@bp.after_request
def keep_token_private(response):
    """The token is in the address: send it to no other site and keep the page out of caches."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _limit() -> str:
    return current_app.config["DEBTOR_LINK_LIMIT_PER_IP"]


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(_limit)
def confirm(token: str):
    try:
        link = links.resolve(token, for_update=request.method == "POST")
    except links.LinkProblem as problem:
        return render_template("debtor/unavailable.html", problem=problem), problem.status
    receivable = link.receivable
    form = LinkAnswerForm()
    if form.validate_on_submit():
        services.answer_by_link(link, services.Answer(
            confirm=form.confirms, name=form.confirmer_name.data, via="link", ip=request.remote_addr,
            reason=form.reason.data,
        ))
        db.session.commit()
        return render_template("debtor/done.html", r=receivable)
    status = 400 if form.is_submitted() else 200
    return render_template("debtor/confirm.html", r=receivable, form=form, reason_max=REASON_MAX,
                           capitals=capitals(receivable.face_amount)), status


@bp.route("/requests/<token>", methods=["GET", "POST"])
@limiter.limit(_limit)
def request_page(token: str):
    """Every receivable of the request on one page, confirmed or disputed line by line, submitted once."""
    try:
        req = debtor_requests.resolve(token, for_update=request.method == "POST")
    except links.LinkProblem as problem:
        return render_template("debtor/unavailable.html", problem=problem), problem.status
    lines = debtor_requests.askable_lines(req)
    form = RequestAnswerForm()
    if not form.is_submitted():
        for line in lines:
            form.lines.append_entry({"line_id": line.id})
    error = None
    if form.validate_on_submit():
        try:
            debtor_requests.submit_answers(req, form.answers(), form.confirmer_name.data, request.remote_addr)
        except services.ReceivableRefused as refused:
            error = str(refused)
        else:
            db.session.commit()
            return render_template("debtor/request_done.html", req=req)
    entries = {entry.line_id.data: entry for entry in form.lines}
    status = 400 if form.is_submitted() else 200
    return render_template("debtor/request.html", req=req, form=form, error=error, reason_max=REASON_MAX,
                           rows=[(line, entries.get(line.id)) for line in lines],
                           total=sum(line.face_amount for line in lines)), status
