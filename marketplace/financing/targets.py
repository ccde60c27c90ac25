"""Which institutions a request goes to: up to 3, chosen by the enterprise among eligible
products, or the top matches of the financing supermarket."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete

from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.supermarket import services as products
from marketplace.supermarket.matching import ranked_matches
from marketplace.supermarket.models import RequestTarget
from workflows.financing import MAX_TARGETS
from workflows.matching import Match, top_institutions


class TargetRefused(ValueError):
    """A chosen product cannot take the request; the message says why."""


def choose_targets(request: FinancingRequest, product_ids: Sequence[int] | None = None,
                   matches: list[Match] | None = None) -> list[RequestTarget]:
    """Replace the request's targets: the enterprise's picks (each must be an eligible published
    product, one per institution, at most 3), or, when it picks none, the top matches."""
    matches = ranked_matches(request) if matches is None else matches
    if product_ids:
        chosen = _validated_choice(matches, list(dict.fromkeys(product_ids)))
        chosen_by = "enterprise"
    else:
        chosen = top_institutions(matches, limit=MAX_TARGETS)
        chosen_by = "match"
    db.session.execute(delete(RequestTarget).where(RequestTarget.request_id == request.id))
    targets = [
        RequestTarget(request_id=request.id, product_version_id=m.version_id, institution_id=m.institution_id,
                      rank=position, chosen_by=chosen_by)
        for position, m in enumerate(chosen, start=1)
    ]
    db.session.add_all(targets)
    db.session.flush()
    return targets


def _validated_choice(matches: list[Match], product_ids: list[int]) -> list[Match]:
    if len(product_ids) > MAX_TARGETS:
        raise TargetRefused(f"最多选择{MAX_TARGETS}个产品")
    by_product = {m.product_id: m for m in matches}
    chosen = []
    for product_id in product_ids:
        match = by_product.get(product_id)
        if match is None:
            raise TargetRefused("所选产品不存在或已下架")
        if not match.eligible:
            raise TargetRefused("所选产品不适合本申请：" + "；".join(c.zh for c in match.failures))
        chosen.append(match)
    institutions = [m.institution_id for m in chosen]
    if len(set(institutions)) != len(institutions):
        raise TargetRefused("同一机构只能选择一个产品")
    return chosen


def record_submission_statistics(matches: list[Match], targets: list[RequestTarget]) -> None:
    """A submitted request counts as a match for every eligible product, and as an application
    for the products it targets."""
    products.count([m.product_id for m in matches if m.eligible], "matches")
    chosen_versions = {t.product_version_id for t in targets}
    products.count([m.product_id for m in matches if m.version_id in chosen_versions], "applications")
