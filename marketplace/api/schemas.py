"""The shapes the JSON API sends and accepts (marshmallow; documented in the OpenAPI spec)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from marketplace.api.fields import DecimalQuery, TwoDecimals, UtcDateTime
from marketplace.supermarket.models import DEBTOR_KINDS, GRADES, PRODUCT_TYPES

MAX_PER_PAGE = 100
MAX_PAGE = 100_000


class ErrorSchema(Schema):
    """Every error: a code (the HTTP status), a message for people, and for validation errors
    the offending fields."""

    code = fields.Integer(required=True, metadata={"description": "The HTTP status code", "example": 404})
    message = fields.String(required=True, metadata={"description": "What went wrong, for people (中文 / English)"})
    errors = fields.Dict(metadata={"description": "Validation errors by location and field, "
                                                  "e.g. {\"query\": {\"per_page\": [\"...\"]}}"})


class PaginationSchema(Schema):
    page = fields.Integer(required=True, metadata={"minimum": 1})
    per_page = fields.Integer(required=True, metadata={"minimum": 1, "maximum": MAX_PER_PAGE})
    total = fields.Integer(required=True, metadata={"minimum": 0, "description": "Items matching the filters"})
    pages = fields.Integer(required=True, metadata={"minimum": 1})


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class ProductListArgsSchema(PageArgsSchema):
    """The web catalogue's filters."""

    type = fields.String(validate=validate.OneOf(sorted(PRODUCT_TYPES)),
                         metadata={"description": "Product type code"})
    institution_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    amount = DecimalQuery(max_digits=16, metadata={"description": "Yuan: products whose amount range covers it"})
    term_days = fields.Integer(validate=validate.Range(min=1, max=36500),
                               metadata={"description": "Days: products whose term range covers it"})
    max_rate = DecimalQuery(max_digits=3, metadata={"description": "Annual %: products whose lowest rate is at most this"})
    guarantee = fields.String(validate=validate.OneOf(["required", "not_required"]))
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "Search words (Chinese or English) in the name, description, "
                                               "institution or type"})


class InstitutionSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": ["bank", "guarantor", "bureau", "platform", "enterprise"]})


class ProductSchema(Schema):
    id = fields.Integer(required=True)
    version = fields.Integer(required=True, metadata={"description": "The version number of the current terms"})
    version_id = fields.Integer(required=True)
    institution = fields.Nested(InstitutionSchema, required=True)
    name = fields.String(required=True)
    type = fields.String(required=True, metadata={"enum": sorted(PRODUCT_TYPES)})
    type_label = fields.String(required=True, metadata={"description": "The type's name in the caller's language"})
    description = fields.String(required=True)
    amount_min = TwoDecimals(required=True, metadata={"description": "Yuan"})
    amount_max = TwoDecimals(required=True, metadata={"description": "Yuan"})
    term_min_days = fields.Integer(required=True)
    term_max_days = fields.Integer(required=True)
    rate_min = TwoDecimals(required=True, metadata={"description": "Annual %", "example": "3.45"})
    rate_max = TwoDecimals(required=True, metadata={"description": "Annual %", "example": "6.00"})
    min_grade = fields.String(required=True, allow_none=True, metadata={"enum": [*GRADES, None]})
    accepts_ungraded = fields.Boolean(required=True)
    industries = fields.List(fields.String(), required=True,
                             metadata={"description": "GB/T 4754 divisions; empty: every industry"})
    regions = fields.List(fields.String(), required=True,
                          metadata={"description": "Division-code prefixes; empty: every region"})
    requires_guarantee = fields.Boolean(required=True)
    requires_debtor_confirmation = fields.Boolean(
        required=True, metadata={"description": "Every pledged receivable must be confirmed by its debtor "
                                                "(always for factoring)"})
    debtor_kinds = fields.List(
        fields.String(metadata={"enum": list(DEBTOR_KINDS)}), required=True,
        metadata={"description": "The kinds of debtor accepted, judged by characters 1-2 of the debtor's "
                                 "credit code (GB 32100); empty: every kind. 政采贷 (gov_procurement_loan) "
                                 "accepts public_body only"})
    requires_contract_numbers = fields.Boolean(
        required=True, metadata={"description": "Every pledged receivable must name its contract "
                                                "(order and contract loans)"})
    published_at = UtcDateTime(required=True, allow_none=True, metadata={"description": "ISO 8601, UTC"})


class ProductPageSchema(Schema):
    items = fields.List(fields.Nested(ProductSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class CriterionSchema(Schema):
    code = fields.String(required=True, metadata={"example": "amount"})
    hard = fields.Boolean(required=True, metadata={"description": "Hard criteria must pass; soft ones rank"})
    passed = fields.Boolean(required=True)
    value = fields.String(required=True, metadata={"description": "The request's (or institution's) figure"})
    expected = fields.String(required=True, metadata={"description": "What the product requires"})
    reason_zh = fields.String(required=True)
    reason_en = fields.String(required=True)
    score = fields.Float(required=True, allow_none=True,
                         metadata={"description": "Soft criteria: the contribution to the match score; hard: null"})


class MatchSchema(Schema):
    product_id = fields.Integer(required=True)
    version_id = fields.Integer(required=True)
    institution_id = fields.Integer(required=True)
    eligible = fields.Boolean(required=True)
    score = fields.Float(required=True, metadata={"minimum": 0, "maximum": 1})
    criteria = fields.List(fields.Nested(CriterionSchema), required=True)


class MatchListSchema(Schema):
    request_id = fields.Integer(required=True)
    items = fields.List(fields.Nested(MatchSchema), required=True,
                        metadata={"description": "Eligible products first, best first; then the others"})
