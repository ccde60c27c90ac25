"""Rows in, workflows.matching out: the ranked, explained matches of a financing request.

`ranked_matches(request)` is the one function the verification and routing capability calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from statistics import median

from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager

from marketplace.accounts.models import Organisation
from marketplace.credit.models import CreditGrade, latest_grade
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest, RequestPledge
from marketplace.guarantees.models import Guarantee
from marketplace.receivables.models import Receivable
from marketplace.supermarket.models import Product, ProductVersion, TargetDecision
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
    current = latest_grade(request.enterprise_id) if request.enterprise_id is not None else None
    return _profile(request.id, request.amount, request.term_days, request.enterprise, current,
                    has_issued_guarantee(request), [p.receivable for p in request.active_pledges])


def request_profiles(request_ids: Select) -> dict[int, RequestProfile]:
    """request_profile of every request `request_ids` (a SELECT of ids) names, {id: profile}, in
    four statements whatever their number: the requests with their enterprise's industry and
    region, their pledged receivables, the enterprises' current grades, the issued guarantees.
    Plain rows, no ORM objects: matching thousands of requests (an institution's leads) then
    costs about what the matching does."""
    chosen = FinancingRequest.id.in_(request_ids)
    rows = db.session.execute(
        select(FinancingRequest.id, FinancingRequest.enterprise_id, FinancingRequest.amount,
               FinancingRequest.term_days, Enterprise.industry_code, Enterprise.region_code)
        .join(Enterprise, Enterprise.id == FinancingRequest.enterprise_id).where(chosen)).all()
    pledged: dict[int, list] = {}
    for row in db.session.execute(
            select(RequestPledge.request_id, Receivable.confirmation, Receivable.debtor_uscc, Receivable.contract_no)
            .join(Receivable, Receivable.id == RequestPledge.receivable_id)
            .where(RequestPledge.active, RequestPledge.request_id.in_(request_ids))):
        pledged.setdefault(row.request_id, []).append(row)
    latest = (select(func.max(CreditGrade.id))
              .where(CreditGrade.enterprise_id.in_(select(FinancingRequest.enterprise_id).where(chosen)))
              .group_by(CreditGrade.enterprise_id))
    grades = {row.enterprise_id: row for row in db.session.execute(
        select(CreditGrade.enterprise_id, CreditGrade.grade, CreditGrade.colour).where(CreditGrade.id.in_(latest)))}
    guaranteed = set(db.session.scalars(select(Guarantee.request_id).distinct().where(
        Guarantee.request_id.in_(request_ids), Guarantee.status == "issued")))
    return {row.id: _profile(row.id, row.amount, row.term_days, row, grades.get(row.enterprise_id),
                             row.id in guaranteed, pledged.get(row.id, []))
            for row in rows}


def _profile(request_id: int | None, amount, term_days: int, enterprise, current, has_guarantee: bool,
             pledged: Sequence) -> RequestProfile:
    """The profile from the request's figures, its enterprise's industry and region, the
    enterprise's current grade (its grade and colour; None: ungraded), whether a guarantee was
    issued and the pledged receivables (their confirmation, debtor code, contract number): ORM
    objects or plain rows alike."""
    return RequestProfile(
        request_id=request_id, amount=amount, term_days=term_days,
        grade=current.grade if current is not None else None,
        grade_colour=current.colour if current is not None else None,
        industry_code=enterprise.industry_code or "", region_code=enterprise.region_code,
        has_guarantee=has_guarantee,
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
        .options(contains_eager(Product.institution))  # its kind, from the join: no statement per institution
        .order_by(Product.id)  # rank() puts products in id order first: already sorted is one pass
    ).all()
    return [product_terms(product, version) for product, version in rows]


# Institution records as last computed, per process, keyed by the decisions' state (the latest
# offer and decline ids and the latest approval): every request page, routing and checklist asks
# for them, and they change only with a decision.
_records_kept: dict[tuple, dict[int, InstitutionRecord]] = {}
_RECORDS_KEPT_MAX = 32


def _decisions_state() -> tuple:
    """What the records depend on, in one statement of three index look-ups."""
    from marketplace.desks.models import Decline, Offer

    return tuple(db.session.execute(select(
        select(func.max(Offer.id)).scalar_subquery(), select(func.max(Offer.approved_at)).scalar_subquery(),
        select(func.max(Decline.id)).scalar_subquery())).one())


def institution_records(institution_ids: Iterable[int] | None = None) -> dict[int, InstitutionRecord]:
    """Turnaround and acceptance per institution, from the desks' decisions: the median days
    from routing to the institution's first decision on a target (offer or decline), and the
    share of its decided targets it made an offer on. An institution that has decided nothing yet
    gets the neutral value. `institution_ids`: only these institutions' records. Read from the
    decisions' kept rows (decision_records.py); kept per process while no decision is added or
    approved (the result is shared: read it only)."""
    wanted = None if institution_ids is None else tuple(sorted(set(institution_ids)))
    bind = db.session.get_bind()
    key = (str(getattr(bind, "engine", bind).url), wanted, *_decisions_state())
    records = _records_kept.get(key)
    if records is None:
        if len(_records_kept) >= _RECORDS_KEPT_MAX:
            _records_kept.clear()
        records = _records_kept[key] = _computed_records(wanted)
    return records


def _computed_records(institution_ids: tuple[int, ...] | None) -> dict[int, InstitutionRecord]:
    """PostgreSQL takes each institution's median over the index on (institution, days); SQLite,
    which has no percentile_cont, hands the rows over (the embedded database is small)."""
    decided = TargetDecision.__table__.c
    where = () if institution_ids is None else (decided.institution_id.in_(institution_ids),)
    if db.session.get_bind().dialect.name == "postgresql":
        rows = db.session.execute(
            select(decided.institution_id, func.percentile_cont(0.5).within_group(decided.days),
                   func.count().filter(decided.offered), func.count())
            .where(*where).group_by(decided.institution_id))
        return {institution_id: InstitutionRecord(institution_id, float(days), offers / count)
                for institution_id, days, offers, count in rows}
    return records_of(db.session.execute(select(decided.institution_id, decided.offered, decided.days).where(*where)))


def records_of(rows: Iterable[tuple[int, bool, float]]) -> dict[int, InstitutionRecord]:
    """The records of (institution, offered, days) rows, one a decided target, in Python."""
    by_institution: dict[int, list[tuple[bool, float]]] = {}
    for institution_id, offered, days in rows:
        by_institution.setdefault(institution_id, []).append((bool(offered), days))
    return {institution_id: InstitutionRecord(institution_id, median([days for _offered, days in targets]),
                                              sum(o for o, _days in targets) / len(targets))
            for institution_id, targets in by_institution.items()}


def ranked_matches(request: FinancingRequest) -> list[Match]:
    """Every published product against the request: eligible first, best first, each explained."""
    return rank(published_terms(), request_profile(request), institution_records())


def best_targets(request: FinancingRequest, limit: int = 3) -> list[Match]:
    """The best eligible product of each of at most `limit` institutions."""
    return top_institutions(ranked_matches(request), limit=limit)


# What a request decides (its amount, term, guarantee and receivables) rather than the enterprise.
REQUEST_CRITERIA = frozenset({"amount", "term", "guarantee", "debtor_confirmation", "debtor_kind", "contract_number"})


def enterprise_profile(enterprise: Enterprise) -> RequestProfile:
    """The enterprise as the matcher sees it before it has a request: its grade, industry and
    region; the request's own figures are placeholders that likely_institutions ignores."""
    current = latest_grade(enterprise.id)
    return RequestProfile(
        request_id=0, amount=Decimal("0"), term_days=0, grade=current.grade if current is not None else None,
        grade_colour=current.colour if current is not None else None, industry_code=enterprise.industry_code or "",
        region_code=enterprise.region_code, has_guarantee=False, all_debtors_confirmed=False)


def likely_institutions(enterprise: Enterprise, limit: int = 3) -> list[Match]:
    """The institutions the enterprise is likely to pick for its first request: every published
    product ranked as for a request, kept when it fails nothing the enterprise itself decides
    (grade, industry, region; the industry not yet given counts as no failure), best score first,
    the best product of each of at most `limit` institutions."""
    ignored = REQUEST_CRITERIA | (set() if enterprise.industry_code else {"industry"})
    fitting = [m for m in rank(published_terms(), enterprise_profile(enterprise), institution_records())
               if all(c.code in ignored for c in m.failures)]
    best: dict[int, Match] = {}
    for match in sorted(fitting, key=lambda m: (-m.score, m.product_id)):
        if len(best) >= limit:
            break
        best.setdefault(match.institution_id, match)
    return list(best.values())
