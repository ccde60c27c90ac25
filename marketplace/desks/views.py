"""The bank's and guarantor's desk: the requests routed to the institution and each request's
page, with why its product matched and the verification reports (within consent)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.i18n import is_english
from marketplace.pagination import paginate
from marketplace.supermarket.models import RequestTarget
from marketplace.verification.routed import VISIBLE_TARGET_STATUSES, routed_target
from marketplace.verification.services import reports_of

bp = Blueprint("desk", __name__, url_prefix="/institution/requests")


@bp.get("/")
def index():
    page = paginate(
        select(RequestTarget).join(FinancingRequest, FinancingRequest.id == RequestTarget.request_id)
        .where(RequestTarget.institution_id == current_user.organisation_id,
               RequestTarget.status.in_(VISIBLE_TARGET_STATUSES))
        .order_by(RequestTarget.routed_at.desc(), RequestTarget.id.desc())
    )
    return render_template("desks/index.html", page=page)


@bp.get("/<int:request_id>")
def detail(request_id: int):
    target = routed_target(request_id, current_user.organisation_id)
    if target is None:
        abort(404)
    request = db.session.get(FinancingRequest, request_id)
    return render_template("desks/detail.html", req=request, target=target, reports=reports_of(request.id),
                           locale="en" if is_english() else "zh")
