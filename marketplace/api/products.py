"""GET /api/v1/products and /api/v1/products/<id>: the published catalogue, as on the web."""

from __future__ import annotations

import unicodedata

from flask import abort
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from marketplace.api import ApiBlueprint
from marketplace.api.schemas import ProductListArgsSchema, ProductPageSchema, ProductSchema
from marketplace.extensions import db
from marketplace.i18n import pick
from marketplace.supermarket.models import PRODUCT_TYPES, Product
from marketplace.supermarket.services import CatalogueFilter, catalogue_query

bp = ApiBlueprint("api_products", __name__, url_prefix="/products", tag="products",
                  description="Published financing products (金融超市). Public: no token needed.")


def product_payload(product: Product) -> dict:
    """A product as the API shows it: its identity, institution and current published terms."""
    version = product.current_version
    institution = product.institution
    return {
        "id": product.id,
        "version": version.number,
        "version_id": version.id,
        "institution": {"id": institution.id, "name": institution.name, "kind": institution.kind},
        "name": version.name,
        "type": version.product_type,
        "type_label": pick(PRODUCT_TYPES.get(version.product_type, (version.product_type,) * 2)),
        "description": version.description or "",
        "amount_min": version.amount_min,
        "amount_max": version.amount_max,
        "term_min_days": version.term_min_days,
        "term_max_days": version.term_max_days,
        "rate_min": version.rate_min,
        "rate_max": version.rate_max,
        "min_grade": version.min_grade,
        "accepts_ungraded": version.accepts_ungraded,
        "industries": list(version.industries or []),
        "regions": list(version.regions or []),
        "requires_guarantee": version.requires_guarantee,
        "requires_debtor_confirmation": version.needs_debtor_confirmation,
        "debtor_kinds": version.accepted_debtor_kinds,
        "requires_contract_numbers": version.needs_contract_numbers,
        "published_at": version.published_at or product.published_at,
    }


def _printable(text: str) -> str:
    """Search words without control characters (PostgreSQL refuses NUL in a string)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cc")


def _with_terms(query):
    """Load each product's current version and institution with it (no query per product)."""
    return query.options(contains_eager(Product.current_version), contains_eager(Product.institution))


@bp.route("", methods=["GET"])
@bp.arguments(ProductListArgsSchema, location="query", as_kwargs=True)
@bp.response(200, ProductPageSchema)
@bp.error_responses(401)
def list_products(page: int, per_page: int, **filters):
    """List published products

    The web catalogue's filters, best rate first. `amount` and `term_days` keep the products
    whose ranges cover them; `max_rate` the products whose lowest rate is at most it.
    """
    query = catalogue_query(CatalogueFilter(
        q=_printable(filters.get("q") or ""),
        product_type=filters.get("type") or "",
        institution_id=filters.get("institution_id"),
        amount=filters.get("amount"),
        term_days=filters.get("term_days"),
        max_rate=filters.get("max_rate"),
        guarantee=filters.get("guarantee") or "",
    ))
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    products = db.session.scalars(_with_terms(query).limit(per_page).offset((page - 1) * per_page)).unique()
    return {
        "items": [product_payload(p) for p in products],
        "pagination": {"page": page, "per_page": per_page, "total": total,
                       "pages": max(1, -(-total // per_page))},
    }


@bp.route("/<int(min=1, max=2147483647):product_id>", methods=["GET"])
@bp.response(200, ProductSchema)
@bp.error_responses(401, 404)
def get_product(product_id: int):
    """Get a published product

    404 for a product that does not exist, is not published, or whose institution is inactive.
    """
    product = db.session.scalars(
        _with_terms(catalogue_query(CatalogueFilter())).where(Product.id == product_id)
    ).unique().one_or_none()
    if product is None:
        abort(404, "产品不存在或未上架 / No published product with this id")
    return product_payload(product)
