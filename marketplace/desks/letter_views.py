"""The bank's offer letter (授信意向书) PDF, for the enterprise and for the bank's staff, once the
offer is made (or accepted)."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from marketplace.desks.models import Offer
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import ymd
from marketplace.pdf import pdf_response
from marketplace.permissions import require_owned

bp = Blueprint("offer_letters", __name__)

LETTER_STATUSES = ("made", "accepted")


def _offer(request_id: int, offer_id: int) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.request_id != request_id or offer.status not in LETTER_STATUSES:
        abort(404)
    return offer


def _letter(offer: Offer):
    return pdf_response("pdf/offer_letter.html", f"offer-{offer.id}.pdf", offer=offer, req=offer.request,
                        ent=offer.request.enterprise, bank=offer.institution, letter_no=f"SX-{offer.id:06d}",
                        dated=ymd(offer.approved_at or offer.created_at))


@bp.get("/financing/<int:request_id>/offers/<int:offer_id>/letter.pdf")
def enterprise_pdf(request_id: int, offer_id: int):
    require_owned(db.session.get(FinancingRequest, request_id))
    return _letter(_offer(request_id, offer_id))


@bp.get("/institution/requests/<int:request_id>/offers/<int:offer_id>/letter.pdf")
def institution_pdf(request_id: int, offer_id: int):
    """Only the bank that made the offer."""
    offer = _offer(request_id, offer_id)
    if offer.institution_id != current_user.organisation_id:
        abort(404)
    return _letter(offer)
