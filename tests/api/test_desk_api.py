"""/api/v1/desk: an institution's systems work the desk through the API, under the pages' rules.

Requests are routed through the real path (statements, verification, matching); the API is a
thin front on the desk, guarantee and loan services, so these tests prove the mapping (status
codes, shapes, commit or rollback, the consent rule and its audit trail), not the rules again.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace.accounts.roles import Role
from marketplace.api.desk import queue_item
from marketplace.audit import AuditEvent
from marketplace.desks import claims
from marketplace.desks.models import Assignment, Decline, Offer
from marketplace.desks.queue import encode_cursor
from marketplace.enterprises.services import grant_consent
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.guarantees.models import Guarantee
from marketplace.loans.models import Loan, Repayment
from marketplace.verification.services import reports_of
from tests.desks.helpers import accepted_offer, colleague, revoke_consents, routed, target_of
from tests.guarantees.helpers import mixed, routed_guarantor
from tests.loans.helpers import accepted, disbursed
from tests.loans.helpers import scheduled as scheduled_loan
from tests.supermarket.products import lender
from tests.verification.cases import build, submit

BASE = "/api/v1/desk/requests"


@pytest.fixture
def case(app):
    """A request verified as excellent and routed to the case's bank."""
    return routed(app)


def url(case, suffix: str = "") -> str:
    return f"{BASE}/{case.request.id}{suffix}"


def offer_body(amount: str = "200000.00", rate: str = "3.85", days: int = 90, valid_days: int = 10, **extra):
    return {"amount": amount, "annual_rate": rate, "term_days": days,
            "expires_on": (today_shanghai() + timedelta(days=valid_days)).isoformat(), **extra}


def events(action: str, object_type: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action)
    if object_type is not None:
        query = query.where(AuditEvent.object_type == object_type)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def consent(app, case, org_id: int) -> None:
    owner = case.owner
    with app.test_request_context():
        today = today_shanghai()
        grant_consent(owner.enterprise, owner, grantee_org_id=org_id, scopes=["bank_statements"],
                      purpose="融资审查", valid_from=today, valid_to=today + timedelta(days=30))
        db.session.commit()


def claim(client, case, headers):
    response = client.post(url(case, "/claim"), headers=headers)
    assert response.status_code == 201, response.json
    return response


# ---- the queue --------------------------------------------------------------------------------------

def test_the_queue_lists_the_institutions_requests_and_the_cursor_walks_every_page(app, client, bearer, case):
    bank = case.bank_staff
    more = []
    for _ in range(2):  # two more requests that match only the case's bank's product
        other = build(app, "excellent", with_products=False, consent_to=[bank.organisation_id])
        submit(app, other)
        assert target_of(other, bank.organisation_id) is not None
        more.append(other)
    expected = [case.request.id, *(c.request.id for c in more)]  # routed in this order
    headers = bearer(bank)

    seen, after, pages = [], None, 0
    while True:
        response = client.get(BASE, query_string={"limit": 2, **({"after": after} if after else {})},
                              headers=headers)
        assert response.status_code == 200, response.json
        body = response.json
        assert body["counts"] == {"routed_to_bank": 3}
        seen += [item["request_id"] for item in body["items"]]
        pages += 1
        after = body["next_cursor"]
        if after is None:
            break
    assert seen == expected and pages == 2

    first = client.get(BASE, headers=headers).json["items"][0]
    assert first["amount"] == "250000.00" and first["target_status"] == "routed" and first["claimed_by"] is None
    assert first["enterprise"]["name"] == case.owner.enterprise.name and first["routed_at"].endswith("Z")

    newest_first = client.get(BASE, query_string={"order": "desc"}, headers=headers).json["items"]
    assert [i["request_id"] for i in newest_first] == expected[::-1]

    claim(client, more[0], headers)
    mine = client.get(BASE, query_string={"mine": "true"}, headers=headers).json["items"]
    assert [i["request_id"] for i in mine] == [more[0].request.id]
    assert mine[0]["claimed_by"] == {"id": bank.id, "name": bank.name} and mine[0]["claimed_by_me"] is True

    another_bank = lender(Role.BANK_OFFICER, name="另一家银行")
    assert client.get(BASE, headers=bearer(another_bank)).json == {"items": [], "next_cursor": None, "counts": {}}


def test_the_queue_items_are_what_the_documented_schema_dumps(app, client, bearer, case):
    """The queue is written without marshmallow for speed: it must say what the schema would."""
    from dataclasses import asdict

    from marketplace.api.desk_schemas import QueueItemSchema
    from marketplace.desks import queue

    bank = case.bank_staff
    claim(client, case, bearer(bank))
    with app.test_request_context():
        rows = queue.page(bank, queue.Filters(status="all")).rows
    assert rows and rows[0].claimed_by_id == bank.id
    for row in rows:
        raw = asdict(row)
        raw["enterprise"] = {"id": row.enterprise_id, "name": row.enterprise_name,
                             "industry_code": row.industry_code, "region_code": row.region_code,
                             "yellow_listed": False}  # no yellow list published here (marketplace.lists)
        raw["claimed_by"] = None if row.claimed_by_id is None else {"id": row.claimed_by_id,
                                                                    "name": row.claimed_by_name}
        raw["claimed_by_me"] = row.claimed_by_id == bank.id
        assert queue_item(row, bank.id) == QueueItemSchema().dump(raw)
    served = client.get(BASE, query_string={"status": "all"}, headers=bearer(bank)).json["items"]
    assert served == [queue_item(row, bank.id) for row in rows]


@pytest.mark.parametrize("args", [
    {"limit": 101}, {"limit": 0}, {"status": "nonsense"}, {"sort": "name"}, {"amount_min": "1e9"},
    {"after": "not-a-cursor"}, {"industry": "34\n"},
])
def test_bad_queue_arguments_are_a_422_naming_the_argument(client, bearer, case, args):
    response = client.get(BASE, query_string=args, headers=bearer(case.bank_staff))
    assert response.status_code == 422
    assert set(response.json["errors"]["query"]) == set(args)


def test_a_cursor_of_another_sort_is_refused_rather_than_compared(client, bearer, case):
    headers = bearer(case.bank_staff)
    target = target_of(case)
    cursor = encode_cursor(target.routed_at, target.id)  # as the default sort (routed) issues it
    assert client.get(BASE, query_string={"after": cursor}, headers=headers).status_code == 200
    response = client.get(BASE, query_string={"after": cursor, "sort": "amount"}, headers=headers)
    assert response.status_code == 422 and "after" in response.json["errors"]["query"]


# ---- one request -------------------------------------------------------------------------------------

def test_the_request_comes_with_its_receivables_target_and_reports(client, bearer, case):
    response = client.get(url(case), headers=bearer(case.bank_staff))
    assert response.status_code == 200
    body = response.json
    assert body["request"]["id"] == case.request.id and body["request"]["amount"] == "250000.00"
    assert body["request"]["state"] == "routed_to_bank" and body["request"]["classification"] == "excellent"
    assert sorted(r["face_amount"] for r in body["receivables"]) == ["150000.00", "150000.00"]
    assert all(r["documents"] == [] and r["document_count"] == 0 for r in body["receivables"])
    for r in body["receivables"]:  # who confirmed, how and when: the debtor's answer, not a claim
        assert {"confirmation", "confirmed_via", "confirmed_at", "declared_confirmation", "declared_at"} <= set(r)
        assert r["confirmation"] != "confirmed" or (r["confirmed_via"] in ("link", "account") and r["confirmed_at"])
    assert body["target"]["status"] == "routed" and body["target"]["explanation"]
    assert all({"code", "passed", "reason_zh", "reason_en"} <= set(c) for c in body["target"]["explanation"])
    assert body["claim"] is None and body["offers"] == [] and body["loan"] is None
    assert body["report_available"] is True and body["report_notice"] is None
    assert len(body["reports"]) == 1 and body["reports"][0]["classification"] == "excellent"


def test_after_acceptance_without_consent_the_request_comes_without_the_report_payload(app, client, bearer, case):
    accepted_offer(app, case)
    revoke_consents(app, case.owner, case.bank_staff.organisation_id)
    response = client.get(url(case), headers=bearer(case.bank_staff))
    assert response.status_code == 200
    body = response.json
    assert body["request"]["state"] == "offer_accepted" and body["target"]["status"] == "accepted"
    assert body["report_available"] is False and "授权" in body["report_notice"]
    assert len(body["reports"]) == 1 and body["reports"][0]["payload"] is None
    assert events("credit_data.read", "verification_report") == []
    assert len(events("credit_data.denied")) == 1


def test_with_consent_the_report_payload_comes_and_each_read_is_logged(app, client, bearer, case):
    bank = case.bank_staff
    consent(app, case, bank.organisation_id)
    (report,) = reports_of(case.request.id)
    headers = bearer(bank)
    for _ in range(2):
        body = client.get(url(case), headers=headers).json
        assert body["report_available"] is True and body["report_notice"] is None
        assert body["reports"][0]["payload"] == report.payload and body["reports"][0]["id"] == report.id
    reads = events("credit_data.read", "verification_report")
    assert len(reads) == 2  # one per report read
    assert all(e.enterprise_id == case.owner.enterprise.id and e.actor_user_id == bank.id
               and e.details["report_id"] == report.id and e.details["request_id"] == case.request.id
               for e in reads)
    assert events("credit_data.denied") == []


def test_another_banks_token_gets_404_an_enterprise_403_and_no_token_401(app, client, bearer, case):
    stranger = lender(Role.BANK_OFFICER, name="未被推送的银行")
    consent(app, case, stranger.organisation_id)  # consent alone does not open a request
    for method, suffix in (("GET", ""), ("POST", "/claim"), ("POST", "/release")):
        response = client.open(url(case, suffix), method=method, headers=bearer(stranger))
        assert response.status_code == 404 and response.json["code"] == 404, suffix
        response = client.open(url(case, suffix), method=method, headers=bearer(case.owner))
        assert response.status_code == 403 and response.json["code"] == 403, suffix
        response = client.open(url(case, suffix), method=method)
        assert response.status_code == 401 and response.json["code"] == 401, suffix
    assert client.get(BASE, headers=bearer(case.owner)).status_code == 403
    assert client.get(BASE).status_code == 401
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0


# ---- claims -------------------------------------------------------------------------------------------

def test_claim_then_a_colleagues_claim_is_a_409_then_release(client, bearer, case):
    bank = case.bank_staff
    mate = colleague(bank)
    mine, theirs = bearer(bank), bearer(mate)

    body = claim(client, case, mine).json
    assert body["user"] == {"id": bank.id, "name": bank.name} and body["mine"] is True
    assert body["request_id"] == case.request.id and body["ended_at"] is None
    assert case.request.state == "bank_review"

    lost = client.post(url(case, "/claim"), headers=theirs)
    assert lost.status_code == 409
    assert lost.json["code"] == 409 and lost.json["message"].startswith(f"该申请已由{bank.name}认领")
    seen_by_mate = client.get(url(case), headers=theirs).json["claim"]
    assert seen_by_mate["user"]["id"] == bank.id and seen_by_mate["mine"] is False

    # a colleague can neither release nor work it: 409 too, and nothing changes
    assert client.post(url(case, "/release"), headers=theirs).status_code == 409
    assert client.post(url(case, "/offers"), json=offer_body(), headers=theirs).status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Offer)) == 0

    released = client.post(url(case, "/release"), headers=mine)
    assert released.status_code == 200 and released.json["end_reason"] == "released"
    assert claims.open_assignment(target_of(case).id) is None
    nothing = client.post(url(case, "/release"), headers=mine)
    assert nothing.status_code == 422 and nothing.json["message"] == "该申请当前没有人认领"
    assert claim(client, case, theirs).json["user"]["id"] == mate.id


# ---- offers -------------------------------------------------------------------------------------------

def test_an_offer_needs_the_claim_and_is_made_at_once_up_to_the_four_eyes_amount(client, bearer, case):
    headers = bearer(case.bank_staff)
    unclaimed = client.post(url(case, "/offers"), json=offer_body(), headers=headers)
    assert unclaimed.status_code == 422 and "认领" in unclaimed.json["message"]
    claim(client, case, headers)

    response = client.post(url(case, "/offers"), json=offer_body(conditions="按季付息"), headers=headers)
    assert response.status_code == 201, response.json
    offer = response.json
    assert offer["status"] == "made" and offer["four_eyes"] is False
    assert offer["amount"] == "200000.00" and offer["annual_rate"] == "3.85" and offer["conditions"] == "按季付息"
    assert offer["made_by"]["id"] == offer["approved_by"]["id"] == case.bank_staff.id
    assert case.request.state == "offer_made"
    assert [o["id"] for o in client.get(url(case), headers=headers).json["offers"]] == [offer["id"]]


def test_an_offer_states_its_early_repayment_fee_and_holiday_rule(client, bearer, case):
    headers = bearer(case.bank_staff)
    claim(client, case, headers)
    response = client.post(url(case, "/offers"), json=offer_body(prepayment_fee_rate="1.50",
                                                                 roll_to_working_day=False), headers=headers)
    assert response.status_code == 201, response.json
    offer = response.json
    assert offer["prepayment_fee_rate"] == "1.50" and offer["roll_to_working_day"] is False
    stored = db.session.get(Offer, offer["id"])
    assert (stored.prepayment_fee_rate, stored.roll_to_working_day) == (Decimal("1.50"), False)


def test_an_offer_without_the_terms_has_no_fee_and_rolls_due_days(client, bearer, case):
    headers = bearer(case.bank_staff)
    claim(client, case, headers)
    offer = client.post(url(case, "/offers"), json=offer_body(), headers=headers).json
    assert offer["prepayment_fee_rate"] == "0.00" and offer["roll_to_working_day"] is True


@pytest.mark.parametrize(("rate", "schema"), [("5.01", False), ("-1.00", True), ("1.5", True), ("1", True),
                                              (1.5, True)])
def test_an_early_repayment_fee_rate_out_of_range_is_a_422_with_nothing_stored(client, bearer, case, rate, schema):
    headers = bearer(case.bank_staff)
    claim(client, case, headers)
    response = client.post(url(case, "/offers"), json=offer_body(prepayment_fee_rate=rate), headers=headers)
    assert response.status_code == 422
    if schema:
        assert "prepayment_fee_rate" in response.json["errors"]["json"]
    else:
        assert "提前还款手续费率" in response.json["message"]
    assert db.session.scalar(select(func.count()).select_from(Offer)) == 0


def test_an_offer_above_the_requested_amount_is_a_422_with_nothing_stored(client, bearer, case):
    headers = bearer(case.bank_staff)
    claim(client, case, headers)
    response = client.post(url(case, "/offers"), json=offer_body(amount="250000.01"), headers=headers)
    assert response.status_code == 422
    assert "不能超过申请金额" in response.json["message"] and "errors" not in response.json
    assert db.session.scalar(select(func.count()).select_from(Offer)) == 0
    assert case.request.state == "bank_review"


@pytest.mark.parametrize("body", [
    offer_body(amount="200000"), offer_body(amount=200000.0), offer_body(amount="2e5"), offer_body(rate="3.8"),
    offer_body(days=0), offer_body(conditions="a\x00b"), offer_body(extra="x"),
    {"amount": "200000.00"},
])
def test_malformed_offers_are_a_422_naming_the_fields(client, bearer, case, body):
    headers = bearer(case.bank_staff)
    claim(client, case, headers)
    response = client.post(url(case, "/offers"), json=body, headers=headers)
    assert response.status_code == 422 and response.json["errors"]["json"]
    assert db.session.scalar(select(func.count()).select_from(Offer)) == 0


def test_a_body_that_is_not_json_is_a_400(client, bearer, case):
    headers = {**bearer(case.bank_staff), "Content-Type": "application/json"}
    response = client.post(url(case, "/offers"), data="{not json", headers=headers)
    assert response.status_code == 400 and response.json["code"] == 400


def test_above_the_four_eyes_amount_the_offer_waits_for_another_approver(app, client, bearer, case):
    app.config["FOUR_EYES_AMOUNT"] = "100000.00"
    try:
        officer = case.bank_staff
        approver = colleague(officer, Role.BANK_APPROVER)
        claim(client, case, bearer(officer))
        pending = client.post(url(case, "/offers"), json=offer_body(), headers=bearer(officer)).json
        assert pending["status"] == "pending_approval" and pending["four_eyes"] is True
        assert pending["approved_by"] is None and case.request.state == "bank_review"

        approve = url(case, f"/offers/{pending['id']}/approve")
        refused = client.post(approve, headers=bearer(officer))  # an officer, not an approver
        assert refused.status_code == 422 and "审批人" in refused.json["message"]
        assert client.post(url(case, "/offers/987654/approve"), headers=bearer(approver)).status_code == 404
        approved = client.post(approve, headers=bearer(approver))
        assert approved.status_code == 200, approved.json
        assert approved.json["status"] == "made" and approved.json["approved_by"]["id"] == approver.id
        assert case.request.state == "offer_made"
    finally:
        app.config["FOUR_EYES_AMOUNT"] = "5000000.00"


# ---- declines -----------------------------------------------------------------------------------------

def test_decline_with_a_reason_code(client, bearer, case):
    headers = bearer(case.bank_staff)
    claim(client, case, headers)
    unknown = client.post(url(case, "/decline"), json={"reason_code": "bored"}, headers=headers)
    assert unknown.status_code == 422 and "reason_code" in unknown.json["errors"]["json"]
    no_note = client.post(url(case, "/decline"), json={"reason_code": "other"}, headers=headers)
    assert no_note.status_code == 422 and "说明" in no_note.json["message"]

    response = client.post(url(case, "/decline"), json={"reason_code": "cash_flow", "note": "流水不足"},
                           headers=headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["reason_code"] == "cash_flow" and body["note"] == "流水不足" and body["target_status"] == "declined"
    assert body["request_state"] == case.request.state != "bank_review"
    assert db.session.scalar(select(Decline.reason_code)) == "cash_flow"


def test_the_decline_reasons_in_the_document_are_the_configured_ones(app, client):
    spec = client.get("/api/v1/openapi.json").json
    enum = spec["components"]["schemas"]["DeclineArgs"]["properties"]["reason_code"]["enum"]
    assert enum == list(app.config["DECLINE_REASONS"])


# ---- guarantees ---------------------------------------------------------------------------------------

def test_a_guarantor_offers_a_guarantee_and_a_bank_cannot(app, client, bearer):
    case, _staff = mixed(app)
    guarantor = case.guarantor_staff
    assert routed_guarantor(case).institution_id == guarantor.organisation_id
    headers = bearer(guarantor)
    claim(client, case, headers)
    out_of_range = client.post(url(case, "/guarantee-offers"), json={"coverage_ratio": "120.00", "fee_rate": "1.50"},
                               headers=headers)
    assert out_of_range.status_code == 422 and "担保比例" in out_of_range.json["message"]
    assert db.session.scalar(select(func.count()).select_from(Guarantee)) == 0

    response = client.post(url(case, "/guarantee-offers"), json={"coverage_ratio": "80.00", "fee_rate": "1.50"},
                           headers=headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "offered" and body["coverage_ratio"] == "80.00" and body["fee_rate"] == "1.50"
    assert body["guaranteed_amount"] == "200000.00" and Decimal(body["fee"]) > 0
    assert client.get(url(case), headers=headers).json["guarantee"]["id"] == body["id"]
    # the case's bank was not routed this request (it waits for the guarantee)
    assert client.post(url(case, "/guarantee-offers"), json={"coverage_ratio": "80.00", "fee_rate": "1.50"},
                       headers=bearer(case.bank_staff)).status_code == 404


def test_a_bank_cannot_offer_a_guarantee(client, bearer, case):
    headers = bearer(case.bank_staff)
    claim(client, case, headers)
    response = client.post(url(case, "/guarantee-offers"), json={"coverage_ratio": "80.00", "fee_rate": "1.50"},
                           headers=headers)
    assert response.status_code == 422 and "担保机构" in response.json["message"]


# ---- loans ----------------------------------------------------------------------------------------------

def test_the_bank_records_the_disbursement_on_the_accepted_offer(app, client, bearer):
    deal = accepted(app)
    headers = bearer(deal.bank)
    too_much = client.post(url(deal.case, "/disbursement"), headers=headers, json={
        "amount": "200000.01", "disbursed_on": today_shanghai().isoformat(), "reference": "FK1"})
    assert too_much.status_code == 422 and "不能超过报价金额" in too_much.json["message"]
    assert db.session.scalar(select(func.count()).select_from(Loan)) == 0

    response = client.post(url(deal.case, "/disbursement"), headers=headers, json={
        "amount": "200000.00", "disbursed_on": today_shanghai().isoformat(), "reference": "FK20260001"})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["amount"] == "200000.00" and body["reference"] == "FK20260001" and body["request_state"] == "disbursed"
    assert body["offer_id"] == deal.offer.id and body["outstanding"] == "200000.00"
    again = client.post(url(deal.case, "/disbursement"), headers=headers, json={
        "amount": "200000.00", "disbursed_on": today_shanghai().isoformat(), "reference": "FK20260002"})
    assert again.status_code == 422
    assert client.get(url(deal.case), headers=headers).json["loan"]["id"] == body["id"]
    # a guarantor's staff may not record loans (the loan pages' rule: bank staff)
    assert client.post(url(deal.case, "/disbursement"), headers=bearer(deal.case.guarantor_staff), json={
        "amount": "1.00", "disbursed_on": today_shanghai().isoformat(), "reference": "X"}).status_code == 403


def test_no_disbursement_without_an_accepted_offer(client, bearer, case):
    response = client.post(url(case, "/disbursement"), headers=bearer(case.bank_staff), json={
        "amount": "1000.00", "disbursed_on": today_shanghai().isoformat(), "reference": "FK1"})
    assert response.status_code == 422 and "接受" in response.json["message"]


def test_the_bank_records_repayments_once_the_schedule_is_recorded(app, client, bearer):
    deal = accepted(app)
    headers = bearer(deal.bank)
    before = client.post(url(deal.case, "/repayments"), headers=headers, json={
        "amount": "1000.00", "paid_on": today_shanghai().isoformat(), "reference": "HK1"})
    assert before.status_code == 422  # not disbursed yet
    loan = scheduled_loan(app, deal)
    response = client.post(url(deal.case, "/repayments"), headers=headers, json={
        "amount": "1000.00", "paid_on": today_shanghai().isoformat(), "reference": "HK1"})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["amount"] == "1000.00" and body["loan_id"] == loan.id and body["request_state"] == "repaying"
    assert Decimal(body["outstanding"]) > 0
    assert db.session.scalar(select(func.count()).select_from(Repayment)) == 1


def test_repayments_need_a_schedule(app, client, bearer):
    deal = accepted(app)
    disbursed(app, deal)
    response = client.post(url(deal.case, "/repayments"), headers=bearer(deal.bank), json={
        "amount": "1000.00", "paid_on": today_shanghai().isoformat(), "reference": "HK1"})
    assert response.status_code == 422 and "还款计划" in response.json["message"]
