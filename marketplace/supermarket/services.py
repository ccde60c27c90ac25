"""Products: create, edit (a new version once published), publish, retire; the published
catalogue and its search; daily statistics; and the adapters that feed workflows.matching."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from statistics import median

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import contains_eager, joinedload

from marketplace import audit
from marketplace.accounts.models import Organisation
from marketplace.db import as_utc, utcnow
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.supermarket.models import (
    DEBTOR_KINDS,
    PRODUCT_TYPES,
    Product,
    ProductStat,
    ProductVersion,
    RequestTarget,
)


class ProductRefused(ValueError):
    """A product change that is not allowed now, with a message for the user."""


@dataclass
class Terms:
    """The editable terms of a product (one version's content)."""

    name: str
    product_type: str
    description: str
    amount_min: Decimal
    amount_max: Decimal
    term_min_days: int
    term_max_days: int
    rate_min: Decimal
    rate_max: Decimal
    min_grade: str | None = None
    accepts_ungraded: bool = True
    industries: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    requires_guarantee: bool = False
    requires_debtor_confirmation: bool = False
    debtor_kinds: list[str] = field(default_factory=list)  # keys of DEBTOR_KINDS; [] = the type's default

    def columns(self) -> dict:
        values = dict(self.__dict__)
        values["industries"] = sorted(set(self.industries))
        values["regions"] = sorted(set(self.regions))
        values["debtor_kinds"] = [kind for kind in DEBTOR_KINDS if kind in set(self.debtor_kinds)]
        values["name"] = self.name.strip()
        values["description"] = (self.description or "").strip()
        return values


def terms_of(version: ProductVersion) -> Terms:
    return Terms(**{name: getattr(version, name) for name in Terms.__dataclass_fields__})


def create_product(institution: Organisation, user, terms: Terms) -> Product:
    product = Product(institution_id=institution.id, state="draft", created_by_id=user.id)
    db.session.add(product)
    db.session.flush()
    version = ProductVersion(product_id=product.id, number=1, created_by_id=user.id, **terms.columns())
    db.session.add(version)
    db.session.flush()
    product.current_version = version
    audit.record("product.created", product, actor=user, name=version.name)
    return product


def update_product(product: Product, user, terms: Terms) -> ProductVersion:
    """A draft is edited in place; a published or retired product gets a new version."""
    current = product.current_version
    if product.state == "draft":
        for name, value in terms.columns().items():
            setattr(current, name, value)
        db.session.flush()
        audit.record("product.updated", product, actor=user, version=current.number)
        return current
    version = ProductVersion(product_id=product.id, number=current.number + 1, created_by_id=user.id,
                             published_at=utcnow() if product.state == "published" else None, **terms.columns())
    db.session.add(version)
    db.session.flush()
    product.current_version = version
    audit.record("product.versioned", product, actor=user, version=version.number, previous=current.number)
    return version


def publish_product(product: Product, user) -> None:
    if product.state == "published":
        raise ProductRefused("该产品已上架")
    now = utcnow()
    product.state = "published"
    product.published_at = now
    product.retired_at = None
    product.current_version.published_at = product.current_version.published_at or now
    audit.record("product.published", product, actor=user, version=product.current_version.number)


def retire_product(product: Product, user) -> None:
    if product.state != "published":
        raise ProductRefused("只有已上架的产品可以下架")
    product.state = "retired"
    product.retired_at = utcnow()
    audit.record("product.retired", product, actor=user)


def institution_products(institution_id: int) -> Select:
    return (select(Product).where(Product.institution_id == institution_id)
            .options(joinedload(Product.current_version))  # the desk shows each product's current terms
            .order_by(Product.state, Product.id.desc()))


# ---- the published catalogue --------------------------------------------------------------

@dataclass
class CatalogueFilter:
    q: str = ""
    product_type: str = ""
    institution_id: int | None = None
    amount: Decimal | None = None  # products whose range covers it
    term_days: int | None = None
    max_rate: Decimal | None = None  # products whose lowest rate is at most this
    guarantee: str = ""  # "", "required", "not_required"


def catalogue_query(f: CatalogueFilter) -> Select:
    """Published products (their current versions) matching the filter, best rate first.

    The version and the institution a card shows come from the joins themselves (contains_eager):
    a page of products costs one statement, however many cards it holds."""
    query = (
        select(Product)
        .join(ProductVersion, Product.current_version_id == ProductVersion.id)
        .join(Organisation, Product.institution_id == Organisation.id)
        .where(Product.state == "published", Organisation.active)
        .options(contains_eager(Product.current_version), contains_eager(Product.institution))
    )
    if f.product_type in PRODUCT_TYPES:
        query = query.where(ProductVersion.product_type == f.product_type)
    if f.institution_id:
        query = query.where(Product.institution_id == f.institution_id)
    if f.amount is not None:
        query = query.where(ProductVersion.amount_min <= f.amount, ProductVersion.amount_max >= f.amount)
    if f.term_days is not None:
        query = query.where(ProductVersion.term_min_days <= f.term_days, ProductVersion.term_max_days >= f.term_days)
    if f.max_rate is not None:
        query = query.where(ProductVersion.rate_min <= f.max_rate)
    if f.guarantee == "required":
        query = query.where(ProductVersion.requires_guarantee.is_(True))
    elif f.guarantee == "not_required":
        query = query.where(ProductVersion.requires_guarantee.is_(False))
    for term in _search_terms(f.q):
        query = query.where(_matches_term(term))
    return query.order_by(ProductVersion.rate_min, Product.id)


def _search_terms(q: str) -> list[str]:
    return [t for t in (q or "").replace("，", " ").replace(",", " ").split() if t][:5]


def _matches_term(term: str):
    """A search word found in the name, the description, the institution or the type's label.

    ILIKE '%word%' is served by the pg_trgm GIN indexes on PostgreSQL; SQLite scans.
    """
    pattern = f"%{term.replace('%', '').replace('_', '')}%"
    types = [code for code, (zh, en) in PRODUCT_TYPES.items() if term in zh or term.lower() in en.lower()]
    return or_(
        ProductVersion.name.ilike(pattern),
        ProductVersion.description.ilike(pattern),
        Organisation.name.ilike(pattern),
        ProductVersion.product_type.in_(types) if types else False,
    )


def lending_institutions() -> list[Organisation]:
    return list(db.session.scalars(
        select(Organisation).where(Organisation.id.in_(select(Product.institution_id).where(Product.state == "published")))
        .order_by(Organisation.name)
    ))


# ---- statistics ------------------------------------------------------------------------------

COUNTERS = ("views", "matches", "applications")


def count(product_ids, counter: str, day: date | None = None, by: int = 1) -> None:
    """Add `by` to one daily counter of each product (an upsert, safe under concurrency)."""
    if counter not in COUNTERS:
        raise ValueError(counter)
    ids = sorted(set(product_ids))
    if not ids:
        return
    day = day or today_shanghai()
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = [{"product_id": pid, "day": day, "views": 0, "matches": 0, "applications": 0, counter: by} for pid in ids]
    statement = insert(ProductStat).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["product_id", "day"],
        set_={counter: getattr(ProductStat, counter) + getattr(statement.excluded, counter)},
    )
    db.session.execute(statement)


@dataclass(frozen=True)
class OfferFigures:
    """What became of the requests routed through one product: how many got the institution's
    offer (a guarantor's: its guarantee), how many of those the enterprise accepted, and the median
    days from routing to the offer (None before the first)."""

    offers: int
    acceptances: int
    median_days: float | None


def offer_figures(product: Product) -> OfferFigures:
    from marketplace.desks.models import Offer
    from marketplace.guarantees.models import Guarantee

    if product.institution.kind == "guarantor":
        model, made_at, accepted = Guarantee, Guarantee.created_at, Guarantee.accepted_at.is_not(None)
    else:
        model, made_at, accepted = Offer, Offer.approved_at, Offer.status == "accepted"
    rows = db.session.execute(
        select(RequestTarget.routed_at, func.min(made_at), func.max(case((accepted, 1), else_=0)))
        .select_from(model).join(RequestTarget, RequestTarget.id == model.target_id)
        .join(ProductVersion, ProductVersion.id == RequestTarget.product_version_id)
        .where(ProductVersion.product_id == product.id, made_at.is_not(None))
        .group_by(RequestTarget.id, RequestTarget.routed_at)
    ).all()
    days = [max((as_utc(made) - as_utc(routed)).total_seconds() / 86400, 0.0)
            for routed, made, _accepted in rows if routed is not None]
    return OfferFigures(offers=len(rows), acceptances=sum(accepted for *_times, accepted in rows),
                        median_days=median(days) if days else None)


def stats_by_day(product_id: int, days: int = 30) -> list[ProductStat]:
    since = today_shanghai().toordinal() - days + 1
    return list(db.session.scalars(
        select(ProductStat).where(ProductStat.product_id == product_id,
                                  ProductStat.day >= date.fromordinal(since)).order_by(ProductStat.day)
    ))


def stats_totals(product_id: int) -> dict[str, int]:
    row = db.session.execute(
        select(*(func.coalesce(func.sum(getattr(ProductStat, c)), 0) for c in COUNTERS))
        .where(ProductStat.product_id == product_id)
    ).one()
    return dict(zip(COUNTERS, row, strict=True))

