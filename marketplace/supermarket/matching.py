"""Rows in, workflows.matching out: the ranked, explained matches of a financing request.

`ranked_matches(request)` is the one function the verification and routing capability calls.
"""

from __future__ import annotations

from statistics import median

from sqlalchemy import func, select

from marketplace.accounts.models import Organisation
from marketplace.credit.models import latest_grade
from marketplace.db import as_utc
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.guarantees.models import Guarantee
from marketplace.supermarket.models import Product, ProductVersion
from workflows.identifiers import debtor_kind
from workflows.matching import (
    InstitutionRecord,
    Match,
    ProductTerms,
    RequestProfile,
    rank,
    top_institutions,
)


def has_issued_guarantee(request: FinancingRequest) -> bool:
    """Whether a guarantor issued a guarantee for the request (whatever state it has reached since)."""
    if request.id is None:
        return False
    return db.session.scalar(select(Guarantee.id).where(Guarantee.request_id == request.id,
                                                        Guarantee.status == "issued").limit(1)) is not None


def product_terms(product: Product, version: ProductVersion) -> ProductTerms:
    return ProductTerms(
        product_id=product.id, version_id=version.id, institution_id=product.institution_id,
        institution_kind=product.institution.kind, product_type=version.product_type,
        amount_min=version.amount_min, amount_max=version.amount_max,
        term_min_days=version.term_min_days, term_max_days=version.term_max_days,
        rate_min=version.rate_min, rate_max=version.rate_max, min_grade=version.min_grade,
        accepts_ungraded=version.accepts_ungraded, industries=frozenset(version.industries or ()),
        regions=frozenset(version.regions or ()), requires_guarantee=version.requires_guarantee,
        requires_debtor_confirmation=version.requires_debtor_confirmation,
        debtor_kinds=frozenset(version.debtor_kinds or ()),
    )


def request_profile(request: FinancingRequest) -> RequestProfile:
    """What the matcher knows of a request, worked out once for all products. The grade is the
    enterprise's current one from its credit file (None until it is graded, which products may
    accept or refuse through accepts_ungraded). The pledged receivables give: whether every debtor confirmed its own
    (a debtor's act, not the enterprise's declaration), the kinds of their debtors (from the
    credit codes) and whether every one names its contract."""
    pledged = [p.receivable for p in request.active_pledges]
    current = latest_grade(request.enterprise_id) if request.enterprise_id is not None else None
    return RequestProfile(
        request_id=request.id, amount=request.amount, term_days=request.term_days,
        grade=current.grade if current is not None else None,
        grade_colour=current.colour if current is not None else None,
        industry_code=request.enterprise.industry_code, region_code=request.enterprise.region_code,
        has_guarantee=has_issued_guarantee(request),
        all_debtors_confirmed=bool(pledged) and all(r.confirmation == "confirmed" for r in pledged),
        debtor_kinds=frozenset(debtor_kind(r.debtor_uscc).code for r in pledged),
        all_have_contract_numbers=bool(pledged) and all((r.contract_no or "").strip() for r in pledged),
    )


def published_terms() -> list[ProductTerms]:
    rows = db.session.execute(
        select(Product, ProductVersion)
        .join(ProductVersion, Product.current_version_id == ProductVersion.id)
        .join(Organisation, Product.institution_id == Organisation.id)
        .where(Product.state == "published", Organisation.active)
        .order_by(Product.id)  # rank() puts products in id order first: already sorted is one pass
    ).all()
    return [product_terms(product, version) for product, version in rows]


def institution_records() -> dict[int, InstitutionRecord]:
    """Turnaround and acceptance per institution, from the desks' decisions: the median days
    from routing to the institution's offer or decline, and the share of its decisions that
    were offers. An institution that has decided nothing yet gets the neutral value."""
    from marketplace.desks.models import Decline, Offer
    from marketplace.supermarket.models import RequestTarget

    decided: dict[int, dict[int, tuple[bool, float]]] = {}  # institution -> target -> (offered, days)
    offers = db.session.execute(
        select(Offer.institution_id, Offer.target_id, RequestTarget.routed_at, func.min(Offer.approved_at))
        .join(RequestTarget, RequestTarget.id == Offer.target_id)
        .where(Offer.approved_at.is_not(None), RequestTarget.routed_at.is_not(None))
        .group_by(Offer.institution_id, Offer.target_id, RequestTarget.routed_at))
    declines = db.session.execute(
        select(Decline.institution_id, Decline.target_id, RequestTarget.routed_at, func.min(Decline.created_at))
        .join(RequestTarget, RequestTarget.id == Decline.target_id)
        .where(RequestTarget.routed_at.is_not(None))
        .group_by(Decline.institution_id, Decline.target_id, RequestTarget.routed_at))
    for offered, rows in ((True, offers), (False, declines)):
        for institution_id, target_id, routed_at, decided_at in rows:
            days = max((as_utc(decided_at) - as_utc(routed_at)).total_seconds() / 86400, 0.0)
            decided.setdefault(institution_id, {}).setdefault(target_id, (offered, days))
    return {
        institution_id: InstitutionRecord(
            institution_id, median([days for _offered, days in targets.values()]),
            sum(offered for offered, _days in targets.values()) / len(targets))
        for institution_id, targets in decided.items()
    }


def ranked_matches(request: FinancingRequest) -> list[Match]:
    """Every published product against the request: eligible first, best first, each explained."""
    return rank(published_terms(), request_profile(request), institution_records())


def best_targets(request: FinancingRequest, limit: int = 3) -> list[Match]:
    """The best eligible product of each of at most `limit` institutions."""
    return top_institutions(ranked_matches(request), limit=limit)
