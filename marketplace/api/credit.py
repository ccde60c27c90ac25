"""/api/v1/credit-records: data providers push the records of their source (issue 14, item 2).

A thin front on marketplace.credit.services. The body is one record, or {"records": [...]}
with 1 to 1,000 of them. The batch is stored whole or not at all:

- 201: at least one record is new; 200: every record was already stored with the same content
  (a repeat answers with the stored record, so a provider may resend after a timeout);
- 422: some records are invalid (each named by `index` and `provider_record_id`, with the
  reasons per field), or the body is not one record or a list of 1..1,000;
- 409: some ids are already stored with other content (each named); nothing is stored;
- 400: the body is not JSON.

Only a data provider's staff may call it (permissions.ROUTE_ACCESS), and only for kinds of the
provider's own source. The polarity comes from the kind, never from the caller.
"""

from __future__ import annotations

from flask import abort, current_app, request
from flask_login import current_user
from flask_smorest import abort as abort_with
from marshmallow import Schema, fields, validate

from marketplace.api import BEARER, ApiBlueprint
from marketplace.api.desk_schemas import FullMatch
from marketplace.api.fields import TwoDecimals, utc_iso
from marketplace.credit import services
from marketplace.extensions import db
from workflows.credit_records import (
    AMOUNT_PATTERN,
    KINDS,
    MAX_BATCH,
    POLARITIES,
    PROVIDER_RECORD_ID_PATTERN,
    SOURCES,
    TITLE_MAX,
)

# ---- shapes (the document; the checks themselves are workflows.credit_records') ---------------------


class CreditRecordInputSchema(Schema):
    enterprise_uscc = fields.String(required=True, validate=FullMatch(r"^[0-9A-Z]{18}$"),
                                    metadata={"description": "统一社会信用代码 of an enterprise on the platform",
                                              "example": "913205050000000015"})
    provider_record_id = fields.String(required=True, validate=FullMatch(PROVIDER_RECORD_ID_PATTERN),
                                       metadata={"description": "The provider's own id of the record: a repeat with "
                                                                "the same id and content is answered with the "
                                                                "stored record, other content is refused (409)"})
    kind = fields.String(required=True, validate=validate.OneOf(sorted(KINDS)),
                         metadata={"description": "One of the kinds of the caller's source (see docs/api.md); "
                                                  "the polarity follows from it"})
    title = fields.String(required=True, validate=validate.Length(min=1, max=TITLE_MAX))
    amount = fields.String(allow_none=True, validate=FullMatch(AMOUNT_PATTERN),
                           metadata={"description": "Yuan, a string with exactly 2 decimals", "example": "12000.00"})
    occurred_on = fields.Date(required=True, metadata={"description": "When it happened; not in the future"})
    ended_on = fields.Date(allow_none=True, metadata={"description": "When the matter ended (paid, closed): "
                                                                     "not before occurred_on, not in the future"})
    details = fields.Dict(allow_none=True, metadata={"description": "A small JSON object (at most 2,000 characters)"})


class CreditRecordBatchInputSchema(Schema):
    records = fields.List(fields.Nested(CreditRecordInputSchema), required=True,
                          validate=validate.Length(min=1, max=MAX_BATCH))


class CreditRecordSchema(Schema):
    id = fields.Integer(required=True)
    enterprise_uscc = fields.String(required=True)
    provider_record_id = fields.String(required=True)
    source = fields.String(required=True, metadata={"enum": list(SOURCES)})
    kind = fields.String(required=True, metadata={"enum": sorted(KINDS)})
    polarity = fields.String(required=True, metadata={"enum": list(POLARITIES)})
    title = fields.String(required=True)
    amount = TwoDecimals(required=True, allow_none=True)
    occurred_on = fields.Date(required=True)
    ended_on = fields.Date(required=True, allow_none=True)
    details = fields.Dict(required=True)
    status = fields.String(required=True, metadata={"enum": ["active", "objected", "repaired", "removed"]})
    received_at = fields.DateTime(required=True)
    created = fields.Boolean(required=True, metadata={"description": "false when this call repeated a stored record"})


class CreditRecordBatchResultSchema(Schema):
    records = fields.List(fields.Nested(CreditRecordSchema), required=True)
    created = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


bp = ApiBlueprint(
    "api_credit", __name__, url_prefix="/credit-records", tag="credit",
    description="Data providers (tax, utilities, social insurance, housing fund, court, market regulator) push "
                "credit records of their own source, one or up to 1,000 at a time, all or nothing.",
    components={"CreditRecordInput": CreditRecordInputSchema, "CreditRecordBatchInput": CreditRecordBatchInputSchema,
                "CreditRecord": CreditRecordSchema, "CreditRecordBatchResult": CreditRecordBatchResultSchema})

_BODY = {"oneOf": [_ref("CreditRecordInput"), _ref("CreditRecordBatchInput")]}
_RESULT = {"oneOf": [_ref("CreditRecord"), _ref("CreditRecordBatchResult")]}

INVALID = "有记录未通过校验，整批未保存 / Some records are invalid: nothing was stored"
CONFLICTS = "有记录编号已以不同内容报送，整批未保存 / Some ids are already stored with other content: nothing was stored"
NOT_A_BATCH = (f"请求体须为一条记录，或 {{\"records\": [...]}}，含1至{MAX_BATCH}条 / The body must be one record, or "
               f"{{\"records\": [...]}} with 1 to {MAX_BATCH} records")


def record_payload(outcome: services.Outcome) -> dict:
    record = outcome.record
    return {"id": record.id, "enterprise_uscc": outcome.enterprise_uscc, "provider_record_id": record.provider_record_id,
            "source": record.source, "kind": record.kind, "polarity": record.polarity, "title": record.title,
            "amount": None if record.amount is None else f"{record.amount:.2f}",
            "occurred_on": record.occurred_on.isoformat(),
            "ended_on": None if record.ended_on is None else record.ended_on.isoformat(),
            "details": record.details or {}, "status": record.status, "received_at": utc_iso(record.received_at),
            "created": outcome.created}


def _named(problems: list[services.ItemProblem]) -> list[dict]:
    """[{index, provider_record_id, errors: {field: [message]}}], one entry per record."""
    entries: dict[int, dict] = {}
    for item in problems:
        entry = entries.setdefault(item.position, {"index": item.position,
                                                   "provider_record_id": item.provider_record_id, "errors": {}})
        entry["errors"].setdefault(item.problem.field, []).append(item.problem.text)
    return [entries[index] for index in sorted(entries)]


def _refuse(status: int, message: str, problems: list[services.ItemProblem]):
    """Answer a refused batch (the services stored nothing of it), after logging the refusal."""
    provider = current_user.organisation
    services.refusal_audit(provider, current_user._get_current_object(), channel="api", status=status,
                           problems=problems)
    db.session.commit()
    abort_with(status, message=message, errors={"records": _named(problems)})


@bp.route("", methods=["POST"])
@bp.doc(security=BEARER,
        requestBody={"required": True, "content": {"application/json": {"schema": _BODY}}},
        responses={"201": {"description": "Stored: the record (one sent), or the batch's records",
                           "content": {"application/json": {"schema": _RESULT}}},
                   "200": {"description": "Every record was already stored with the same content",
                           "content": {"application/json": {"schema": _RESULT}}}})
@bp.error_responses(400, 401, 403, 409, 422)
def submit_records():
    body = request.get_json(silent=True)
    if body is None:
        abort(400, "请求体须为JSON / The body must be JSON")
    single = isinstance(body, dict) and "records" not in body
    items = [body] if single else body.get("records") if isinstance(body, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH or (not single and set(body) != {"records"}):
        abort_with(422, message=NOT_A_BATCH, errors={"json": {"records": [f"1 to {MAX_BATCH} records"]}})
    user = current_user._get_current_object()
    try:
        outcomes = services.submit_json(user.organisation, items, user)
    except services.BatchRejected as rejected:
        _refuse(422, INVALID, rejected.problems)
    except services.BatchConflict as conflict:
        _refuse(409, CONFLICTS, conflict.conflicts)
    db.session.commit()
    created = sum(o.created for o in outcomes)
    status = 201 if created else 200
    if single:
        return current_app.json.response(record_payload(outcomes[0])), status
    return current_app.json.response({"records": [record_payload(o) for o in outcomes], "created": created,
                                      "unchanged": len(outcomes) - created}), status
