"""The debtor's page: confirm or dispute a receivable through a signed, expiring, single-use link,
without an account. The token is the credential; the page works without JavaScript."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from marketplace.extensions import db
from marketplace.formatting import capitals
from marketplace.receivables import links, services
from marketplace.receivables.forms import REASON_MAX, LinkAnswerForm

bp = Blueprint("debtor", __name__)


@bp.after_request
def keep_token_private(response):
    """The token is in the address: send it to no other site and keep the page out of caches."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response




@bp.route("/confirm/<token>", methods=["GET", "POST"])
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
