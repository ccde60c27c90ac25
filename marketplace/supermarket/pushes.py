"""New matches reach people: the enterprise is told when a product newly fits its request, and
institutions see eligible verified requests as leads, within the enterprise's consent."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import joinedload

from marketplace.enterprises.consents import consenting_enterprises
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import today_shanghai
from marketplace.notifications.messages import later, later_plural
from marketplace.notifications.models import Notification
from marketplace.notifications.services import notify
from marketplace.pagination import Page
from marketplace.supermarket import services as products
from marketplace.supermarket.matching import (
    institution_records,
    product_terms,
    published_terms,
    ranked_matches,
    request_profile,
    request_profiles,
)
from marketplace.supermarket.models import Product, RequestTarget
from workflows.financing import State
from workflows.matching import Match, ProductTerms, explain, rank

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


def _tell_enterprise(request: FinancingRequest, kind: str, title: dict, body: dict) -> int:
    link = url_for("financing.matches", request_id=request.id)
    users = [u for u in request.enterprise.organisation.users if u.active and not _already_told(u.id, kind, link)]
    if users:
        notify(users, kind, title, body, link)
    return len(users)


def on_product_published(product: Product) -> int:
    """Tell enterprises whose open, verified requests the product newly fits. Returns how many
    requests it fits."""
    terms = product_terms(product, product.current_version)
    records = institution_records([terms.institution_id])
    fitting = [r for r in _open_requests()
               if explain(terms, request_profile(r), records.get(terms.institution_id)).eligible]
    name = product.current_version.name
    for request in fitting:
        _tell_enterprise(request, f"match.product.{product.id}", later("新产品与您的融资申请匹配"),
                         later("%(institution)s 上架了“%(name)s”，符合您的融资申请 #%(id)s 的条件。",
                           institution=product.institution.name, name=name, id=request.id))
    if fitting:
        products.count([product.id], "matches", by=len(fitting))
    return len(fitting)


def on_request_verified(request: FinancingRequest) -> list[Match]:
    """Called when a request becomes verified: tell the enterprise which products fit."""
    matches = ranked_matches(request)
    eligible = [m for m in matches if m.eligible]
    if eligible:
        _tell_enterprise(request, "match.verified", later("您的融资申请已核验，匹配到合适的产品"),
                         later_plural("融资申请 #%(id)s 匹配到 %(n)s 个产品，请查看推荐理由。",
                                      "融资申请 #%(id)s 匹配到 %(n)s 个产品，请查看推荐理由。", len(eligible), id=request.id))
    return matches


@dataclass(frozen=True)
class Lead:
    request: FinancingRequest
    match: Match


def leads_for(institution_id: int) -> list[Lead]:
    """Verified requests that one of the institution's published products fits, from enterprises
    that have granted the institution a valid consent to read their bank statements. Best fit
    first (the best product's score), then by request id."""
    return _with_requests(_ranked_leads(institution_id))


def leads_page(institution_id: int, number: int, per_page: int) -> Page:
    """Page `number` of leads_for, `per_page` leads (past the end: the last page): every lead
    ranked, only the page's requests loaded. Only they are shown, so only they are read (and
    logged) by the page."""
    ranked = _ranked_leads(institution_id)
    number = min(max(1, number), max(1, -(-len(ranked) // per_page)))
    return Page(_with_requests(ranked[(number - 1) * per_page:number * per_page]), number, per_page, len(ranked))


def product_names(leads: list[Lead]) -> dict[int, str]:
    """{product id: its current version's name} for the products the leads name, in one statement."""
    ids = {lead.match.product_id for lead in leads}
    if not ids:
        return {}
    rows = db.session.scalars(select(Product).where(Product.id.in_(sorted(ids)))
                              .options(joinedload(Product.current_version)))
    return {product.id: product.current_version.name for product in rows}


def _ranked_leads(institution_id: int) -> list[tuple[int, Match]]:
    """(request id, its best eligible product) of every lead, best first, then by request id.

    The database hands over only the requests that could be leads (_lead_candidates) and their
    profiles as plain rows; the matcher decides on those with only this institution's record:
    the score of its products depends on nothing else."""
    terms = [t for t in published_terms() if t.institution_id == institution_id]
    if not terms:
        return []
    profiles = request_profiles(_lead_candidates(institution_id, terms))
    records = institution_records([institution_id])
    ranked = []
    for request_id, profile in profiles.items():
        best = rank(terms, profile, records)[0]  # eligible ones first
        if best.eligible:
            ranked.append((request_id, best))
    return sorted(ranked, key=lambda lead: (-lead[1].score, lead[0]))


def _with_requests(ranked: list[tuple[int, Match]]) -> list[Lead]:
    """The leads with their requests and the requests' enterprises, loaded in one statement."""
    if not ranked:
        return []
    requests = {request.id: request for request in db.session.scalars(
        select(FinancingRequest).where(FinancingRequest.id.in_([request_id for request_id, _match in ranked]))
        .options(joinedload(FinancingRequest.enterprise).defer(Enterprise.legal_rep_id_number)))}  # not shown
    return [Lead(requests[request_id], match) for request_id, match in ranked]


def _lead_candidates(institution_id: int, terms: list[ProductTerms]) -> Select:
    """SQL: the ids of the requests that may be the institution's leads: in a lead state, never
    routed to the institution (one it has in its queue, or has declined, is not new to it), from
    an enterprise whose consent lets the institution read its bank statements today, and within
    the amount, term, region and industry of one of `terms`. Every lead is among them (the
    industry test is looser than the matcher's); the matcher decides on the rest (grade,
    guarantee, the receivables)."""
    reached = exists().where(RequestTarget.request_id == FinancingRequest.id,
                             RequestTarget.institution_id == institution_id, RequestTarget.routed_at.is_not(None))
    return (
        select(FinancingRequest.id)
        .join(Enterprise, Enterprise.id == FinancingRequest.enterprise_id)
        .where(FinancingRequest.state.in_(LEAD_STATES), ~reached,
               FinancingRequest.enterprise_id.in_(consenting_enterprises(institution_id, today_shanghai())),
               or_(*(_within(t) for t in terms)))
    )


def _within(terms: ProductTerms):
    """SQL: the request's amount and term within the product's, its enterprise in one of the
    product's regions (a division-code prefix) and, where it names industries, an industry code
    holding one of the product's divisions (the matcher then takes the division at its place)."""
    conditions = [FinancingRequest.amount.between(terms.amount_min, terms.amount_max),
                  FinancingRequest.term_days.between(terms.term_min_days, terms.term_max_days)]
    if terms.regions:
        conditions.append(or_(*(Enterprise.region_code.startswith(prefix, autoescape=True)
                                for prefix in sorted(terms.regions))))
    if terms.industries:
        conditions.append(or_(*(Enterprise.industry_code.contains(division, autoescape=True)
                                for division in sorted(terms.industries))))
    return and_(*conditions)
