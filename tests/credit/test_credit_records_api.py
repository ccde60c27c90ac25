"""POST /api/v1/credit-records: one record or a batch, all or nothing, idempotent by the provider's id."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.credit.models import CreditRecord
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from tests.credit.conftest import record, token_headers
from tests.factories import UserFactory, make_enterprise_user

URL = "/api/v1/credit-records"


def stored() -> int:
    return db.session.scalar(select(func.count(CreditRecord.id)))


def test_one_record_is_stored_with_the_polarity_of_its_kind(client, world):
    response = client.post(URL, json=record(world["enterprise"]), headers=world["tax_headers"])
    assert response.status_code == 201, response.json
    assert response.json["provider_record_id"] == "T-1" and response.json["created"] is True
    assert response.json["polarity"] == "negative" and response.json["source"] == "tax"
    assert response.json["amount"] == "12000.50" and response.json["status"] == "active"
    row = db.session.get(CreditRecord, response.json["id"])
    assert row.enterprise_id == world["enterprise"].id and row.provider_org_id == world["tax"].organisation_id
    assert str(row.amount) == "12000.50" and len(row.payload_digest) == 64


def test_a_polarity_sent_by_the_provider_is_refused_not_trusted(client, world):
    response = client.post(URL, json=record(world["enterprise"], polarity="positive"), headers=world["tax_headers"])
    assert response.status_code == 422
    assert response.json["errors"]["records"][0]["errors"]["polarity"]
    assert stored() == 0


def test_a_batch_is_stored_whole_and_audited(client, world):
    records = [record(world["enterprise"], f"T-{n}") for n in range(3)]
    records.append(record(world["other"], "T-3", kind="tax_paid", amount=None, title="按期纳税"))
    response = client.post(URL, json={"records": records}, headers=world["tax_headers"])
    assert response.status_code == 201
    assert response.json["created"] == 4 and response.json["unchanged"] == 0
    assert [r["provider_record_id"] for r in response.json["records"]] == ["T-0", "T-1", "T-2", "T-3"]
    assert response.json["records"][3]["polarity"] == "positive" and response.json["records"][3]["amount"] is None
    assert stored() == 4
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "credit_records.submitted"))
    assert event.details["created"] == 4 and event.actor_org_id == world["tax"].organisation_id


def test_an_identical_repeat_answers_200_with_the_stored_record(client, world):
    first = client.post(URL, json=record(world["enterprise"]), headers=world["tax_headers"])
    again = client.post(URL, json=record(world["enterprise"]), headers=world["tax_headers"])
    assert first.status_code == 201 and again.status_code == 200
    assert again.json["id"] == first.json["id"] and again.json["created"] is False
    assert stored() == 1


def test_a_batch_mixing_new_and_repeated_records_stores_the_new_ones(client, world):
    client.post(URL, json=record(world["enterprise"], "T-1"), headers=world["tax_headers"])
    response = client.post(URL, json={"records": [record(world["enterprise"], "T-1"), record(world["enterprise"], "T-2")]},
                           headers=world["tax_headers"])
    assert response.status_code == 201 and response.json["created"] == 1 and response.json["unchanged"] == 1
    assert stored() == 2


def test_a_conflicting_repeat_is_refused_409(client, world):
    client.post(URL, json=record(world["enterprise"]), headers=world["tax_headers"])
    response = client.post(URL, json=record(world["enterprise"], amount="99.00"), headers=world["tax_headers"])
    assert response.status_code == 409
    [entry] = response.json["errors"]["records"]
    assert entry["index"] == 0 and entry["provider_record_id"] == "T-1"
    assert "different content" in entry["errors"]["provider_record_id"][0]
    assert str(db.session.scalar(select(CreditRecord.amount))) == "12000.50"


def test_a_conflict_in_a_batch_refuses_the_whole_batch(client, world):
    client.post(URL, json=record(world["enterprise"], "T-1"), headers=world["tax_headers"])
    batch = [record(world["enterprise"], "T-2"), record(world["enterprise"], "T-1", title="改过的标题")]
    response = client.post(URL, json={"records": batch}, headers=world["tax_headers"])
    assert response.status_code == 409
    assert [(r["index"], r["provider_record_id"]) for r in response.json["errors"]["records"]] == [(1, "T-1")]
    assert stored() == 1
    refused = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "credit_records.refused"))
    assert refused.details["status"] == 409


def test_the_same_id_of_another_provider_is_another_record(client, world):
    client.post(URL, json=record(world["enterprise"], "X-1"), headers=world["tax_headers"])
    response = client.post(URL, json=record(world["enterprise"], "X-1", kind="court_judgment"),
                           headers=world["court_headers"])
    assert response.status_code == 201 and response.json["source"] == "court"
    assert stored() == 2


def test_a_kind_of_another_source_is_refused(client, world):
    response = client.post(URL, json=record(world["enterprise"], kind="court_judgment"), headers=world["tax_headers"])
    assert response.status_code == 422
    [entry] = response.json["errors"]["records"]
    assert entry["index"] == 0 and entry["provider_record_id"] == "T-1"
    assert "tax_arrears" in entry["errors"]["kind"][0]  # the message lists the kinds the caller may send
    assert stored() == 0


@pytest.mark.parametrize("uscc", ["91320505000000000A", "123", "913205050000000000000"])
def test_an_invalid_credit_code_is_refused(client, world, uscc):
    response = client.post(URL, json=record(world["enterprise"], enterprise_uscc=uscc), headers=world["tax_headers"])
    assert response.status_code == 422 and "enterprise_uscc" in response.json["errors"]["records"][0]["errors"]


def test_an_unknown_enterprise_is_refused(client, world):
    from tests.factories import make_uscc

    response = client.post(URL, json=record(world["enterprise"], enterprise_uscc=make_uscc(999999)),
                           headers=world["tax_headers"])
    assert response.status_code == 422
    assert "no enterprise" in response.json["errors"]["records"][0]["errors"]["enterprise_uscc"][0]
    assert stored() == 0


@pytest.mark.parametrize("field, value", [
    ("occurred_on", "2026-02-30"), ("occurred_on", "2026/01/05"), ("occurred_on", 20260105), ("occurred_on", None),
    ("occurred_on", "2999-01-01"), ("ended_on", "2026-13-01"), ("amount", "12000"), ("amount", 12000.5),
    ("amount", "1e5"), ("amount", "-5.00"), ("amount", "12,000.00"), ("title", ""), ("title", "x" * 201),
    ("title", "含\x00空字符"), ("kind", "no_such_kind"), ("provider_record_id", "有 空格"), ("details", "text"),
])
def test_malformed_fields_are_refused_naming_the_field(client, world, field, value):
    response = client.post(URL, json=record(world["enterprise"], **{field: value}), headers=world["tax_headers"])
    assert response.status_code == 422, (field, value)
    assert field in response.json["errors"]["records"][0]["errors"]
    assert stored() == 0


def test_ended_on_must_not_be_before_occurred_on_nor_in_the_future(client, world):
    today = today_shanghai()
    before = record(world["enterprise"], "A", occurred_on=today.isoformat(), ended_on=(today - timedelta(days=1)).isoformat())
    future = record(world["enterprise"], "B", ended_on=(today + timedelta(days=1)).isoformat())
    fine = record(world["enterprise"], "C", ended_on=today.isoformat())
    response = client.post(URL, json={"records": [before, future, fine]}, headers=world["tax_headers"])
    assert response.status_code == 422
    assert [(r["index"], list(r["errors"])) for r in response.json["errors"]["records"]] == [
        (0, ["ended_on"]), (1, ["ended_on"])]


def test_a_batch_with_bad_records_stores_nothing_and_names_each(client, world):
    records = [record(world["enterprise"], f"T-{n}") for n in range(5)]
    records[1]["occurred_on"] = "not a date"
    records[3]["kind"] = "penalty"
    records[4]["provider_record_id"] = "T-0"  # repeats record 0
    response = client.post(URL, json={"records": records}, headers=world["tax_headers"])
    assert response.status_code == 422
    named = [(r["index"], r["provider_record_id"], sorted(r["errors"])) for r in response.json["errors"]["records"]]
    assert named == [(1, "T-1", ["occurred_on"]), (3, "T-3", ["kind"]), (4, "T-0", ["provider_record_id"])]
    assert stored() == 0


def test_a_record_that_is_not_an_object_is_named_by_index(client, world):
    response = client.post(URL, json={"records": [record(world["enterprise"]), "junk"]}, headers=world["tax_headers"])
    assert response.status_code == 422
    [entry] = response.json["errors"]["records"]
    assert entry["index"] == 1 and entry["provider_record_id"] is None and list(entry["errors"]) == ["record"]


@pytest.mark.parametrize("body", [{"records": []}, {"records": "x"}, [], "text", {"records": [{}], "extra": 1}])
def test_a_body_that_is_neither_a_record_nor_a_batch_is_refused(client, world, body):
    response = client.post(URL, json=body, headers=world["tax_headers"])
    assert response.status_code == 422 and response.json["code"] == 422


def test_a_body_that_is_not_json_is_a_400(client, world):
    response = client.post(URL, data="{not json", content_type="application/json", headers=world["tax_headers"])
    assert response.status_code == 400 and response.json["code"] == 400


def test_1000_records_are_accepted_and_1001_refused(client, world):
    records = [record(world["enterprise"], f"B-{n}") for n in range(1001)]
    refused = client.post(URL, json={"records": records}, headers=world["tax_headers"])
    assert refused.status_code == 422 and stored() == 0
    accepted = client.post(URL, json={"records": records[:1000]}, headers=world["tax_headers"])
    assert accepted.status_code == 201 and accepted.json["created"] == 1000 and stored() == 1000


@pytest.mark.parametrize("role", [r for r in Role if r != Role.PROVIDER_STAFF])
def test_other_roles_are_forbidden(app, client, world, role):
    user = make_enterprise_user(role) if role.startswith("enterprise:") else UserFactory(role=role)
    response = client.post(URL, json=record(world["enterprise"]), headers=token_headers(app, user))
    assert response.status_code == 403 and response.json["code"] == 403
    assert stored() == 0


def test_no_token_is_a_401(client, world):
    response = client.post(URL, json=record(world["enterprise"]))
    assert response.status_code == 401 and response.json["code"] == 401


def test_a_bad_token_is_a_401(client, world):
    response = client.post(URL, json=record(world["enterprise"]), headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_the_endpoint_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/credit-records"]["post"]
    assert operation["security"] == [{"bearerAuth": []}] and operation["tags"] == ["credit"]
    assert operation["requestBody"]["required"] is True
    assert {"200", "201", "400", "401", "403", "409", "422"} <= set(operation["responses"])
    kinds = spec["components"]["schemas"]["CreditRecordInput"]["properties"]["kind"]["enum"]
    assert "tax_arrears" in kinds and "license_revoked" in kinds
    assert spec["components"]["schemas"]["CreditRecordBatchInput"]["properties"]["records"]["maxItems"] == 1000
