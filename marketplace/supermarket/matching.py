"""Rows in, workflows.matching out: the ranked, explained matches of a financing request.

`ranked_matches(request)` is the one function the verification and routing capability calls.
"""

from __future__ import annotations

from sqlalchemy import select

from marketplace.accounts.models import Organisation
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.supermarket.models import Product, ProductVersion
from workflows.financing import State
from workflows.matching import (
    InstitutionRecord,
    Match,
    ProductTerms,
    RequestProfile,
    rank,
    top_institutions,
)

# States in which the request holds a guarantee issued for it.
GUARANTEED_STATES = frozenset({State.GUARANTEED})


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
    )


def request_profile(request: FinancingRequest) -> RequestProfile:
    """What the matcher knows of a request. Grades come with the credit-file capability;
    until then every enterprise is ungraded (None), which products may accept or refuse."""
    pledged = [p.receivable for p in request.active_pledges]
    return RequestProfile(
        request_id=request.id, amount=request.amount, term_days=request.term_days, grade=None,
        industry_code=request.enterprise.industry_code, region_code=request.enterprise.region_code,
        has_guarantee=request.state in GUARANTEED_STATES,
        all_debtors_confirmed=bool(pledged) and all(r.confirmation == "confirmed" for r in pledged),
    )


def published_terms() -> list[ProductTerms]:
    rows = db.session.execute(
        select(Product, ProductVersion)
        .join(ProductVersion, Product.current_version_id == ProductVersion.id)
        .join(Organisation, Product.institution_id == Organisation.id)
        .where(Product.state == "published", Organisation.active)
    ).all()
    return [product_terms(product, version) for product, version in rows]


def institution_records() -> dict[int, InstitutionRecord]:
    """Turnaround and acceptance per institution, from recorded offers. No offers are recorded
    before the desks capability, so every institution gets the neutral value for now."""
    return {}


def ranked_matches(request: FinancingRequest) -> list[Match]:
    """Every published product against the request: eligible first, best first, each explained."""
    return rank(published_terms(), request_profile(request), institution_records())


def best_targets(request: FinancingRequest, limit: int = 3) -> list[Match]:
    """The best eligible product of each of at most `limit` institutions."""
    return top_institutions(ranked_matches(request), limit=limit)
