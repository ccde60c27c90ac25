"""GET /api/v1/requests/<id>/matches: a financing request's ranked, explained matches."""

from __future__ import annotations

from marketplace.api import BEARER, ApiBlueprint
from marketplace.api.schemas import MatchListSchema
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.permissions import require_owned
from marketplace.supermarket.matching import ranked_matches

bp = ApiBlueprint("api_requests", __name__, url_prefix="/requests", tag="requests",
                  description="Financing requests. The enterprise that owns a request sees its matches.")


def match_payload(match) -> dict:
    return {
        "product_id": match.product_id,
        "version_id": match.version_id,
        "institution_id": match.institution_id,
        "eligible": match.eligible,
        "score": match.score,
        "criteria": [
            {"code": c.code, "hard": c.hard, "passed": c.passed, "value": c.value, "expected": c.expected,
             "reason_zh": c.zh, "reason_en": c.en, "score": c.score}
            for c in match.criteria
        ],
    }


@bp.route("/<int(min=1, max=2147483647):request_id>/matches", methods=["GET"])
@bp.doc(security=BEARER)
@bp.response(200, MatchListSchema)
@bp.error_responses(401, 403, 404)
def request_matches(request_id: int):
    """Matches of a financing request

    Every published product against the request: eligible ones first, best first; each
    criterion says whether it passed, with the request's figure, the product's requirement
    and the reason in Chinese and English. Only the enterprise that owns the request may ask
    (another enterprise's request answers 404, as if it did not exist).
    """
    financing_request = require_owned(db.session.get(FinancingRequest, request_id))
    return {"request_id": financing_request.id,
            "items": [match_payload(m) for m in ranked_matches(financing_request)]}
