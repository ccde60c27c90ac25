"""New matches reach people: the enterprise is told when a product newly fits its request, and
institutions see eligible verified requests as leads, within the enterprise's consent."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from marketplace.enterprises.consents import ROUTING_SCOPE
from marketplace.enterprises.models import Consent
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import today_shanghai
from marketplace.notifications.models import Notification
from marketplace.notifications.services import notify
from marketplace.supermarket import services as products
from marketplace.supermarket.matching import (
    institution_records,
    product_terms,
    published_terms,
    ranked_matches,
    request_profile,
)
from marketplace.supermarket.models import Product
from workflows.financing import State
from workflows.matching import Match, explain, rank

# Verified requests still looking for funding: new products may fit them, institutions may bid.
LEAD_STATES = frozenset({
    State.VERIFIED, State.ROUTED_TO_BANK, State.ROUTED_TO_GUARANTOR, State.GUARANTOR_DECLINED,
    State.BANK_DECLINED,
})


def _open_requests() -> list[FinancingRequest]:
    return list(db.session.scalars(select(FinancingRequest).where(FinancingRequest.state.in_(LEAD_STATES))))


def _already_told(user_id: int, kind: str, link: str) -> bool:
    return db.session.scalar(
        select(Notification.id).where(Notification.user_id == user_id, Notification.kind == kind,
                                      Notification.link == link).limit(1)
    ) is not None


def _tell_enterprise(request: FinancingRequest, kind: str, title: str, body: str) -> int:
    link = url_for("financing.matches", request_id=request.id)
    users = [u for u in request.enterprise.organisation.users if u.active and not _already_told(u.id, kind, link)]
    if users:
        notify(users, kind, title, body, link)
    return len(users)


def on_product_published(product: Product) -> int:
    """Tell enterprises whose open, verified requests the product newly fits. Returns how many
    requests it fits."""
    terms = product_terms(product, product.current_version)
    records = institution_records()
    fitting = [r for r in _open_requests()
               if explain(terms, request_profile(r), records.get(terms.institution_id)).eligible]
    name = product.current_version.name
    for request in fitting:
        _tell_enterprise(request, f"match.product.{product.id}", _("新产品与您的融资申请匹配"),
                         _("%(institution)s 上架了“%(name)s”，符合您的融资申请 #%(id)s 的条件。",
                           institution=product.institution.name, name=name, id=request.id))
    if fitting:
        products.count([product.id], "matches", by=len(fitting))
    return len(fitting)


def on_request_verified(request: FinancingRequest) -> list[Match]:
    """Called when a request becomes verified: tell the enterprise which products fit."""
    matches = ranked_matches(request)
    eligible = [m for m in matches if m.eligible]
    if eligible:
        _tell_enterprise(request, "match.verified", _("您的融资申请已核验，匹配到合适的产品"),
                         _("融资申请 #%(id)s 匹配到 %(n)s 个产品，请查看推荐理由。", id=request.id, n=len(eligible)))
    return matches


@dataclass(frozen=True)
class Lead:
    request: FinancingRequest
    match: Match


def leads_for(institution_id: int) -> list[Lead]:
    """Verified requests that one of the institution's published products fits, from enterprises
    that have granted the institution a valid consent to read their bank statements. Best fit first."""
    terms = [t for t in published_terms() if t.institution_id == institution_id]
    if not terms:
        return []
    today = today_shanghai()
    consenting = {  # a valid consent to read the bank statements: what a request is routed under
        c.enterprise_id for c in db.session.scalars(select(Consent).where(Consent.grantee_org_id == institution_id))
        if c.covers(ROUTING_SCOPE, today)
    }
    records = institution_records()
    leads = []
    for request in _open_requests():
        if request.enterprise_id not in consenting:
            continue
        best = next((m for m in rank(terms, request_profile(request), records) if m.eligible), None)
        if best is not None:
            leads.append(Lead(request, best))
    return sorted(leads, key=lambda lead: (-lead.match.score, lead.request.id))
