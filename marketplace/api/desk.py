"""/api/v1/desk: the bank's and guarantor's desk for their systems, a thin front on the desk
services (marketplace.desks), the guarantees and the loans, under the pages' rules.

The queue, one request with its reports (within consent, each read logged), claim and release,
offers (four eyes above FOUR_EYES_AMOUNT) and their approval, declines, a guarantor's guarantee
offer, and, on the request whose offer the enterprise accepted, the disbursement, the
repayments, early repayments, and the loan with its schedule and days past due. A request not routed to the caller's institution answers 404, as if it did not
exist. Each action commits after the service succeeds and rolls back when it refuses:

- 409 when the claim is held by someone else (a claim that loses the race, or an action on a
  request a colleague holds): {"code": 409, "message": "该申请已由…认领…"};
- 422 when the service's rules refuse (amount above the request, nothing to release, no
  accepted offer...), the message saying why, and for invalid arguments, with `errors`;
- 400 for a body that is not JSON.
"""

from __future__ import annotations

from flask import abort, current_app, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace import audit
from marketplace.api import BEARER, ApiBlueprint
from marketplace.api import desk_schemas as schemas
from marketplace.api.fields import two_decimals, utc_iso
from marketplace.desks import claims, decisions, evidence, queue
from marketplace.desks.models import Assignment, Decline, Offer
from marketplace.enterprises.consents import reading_purpose
from marketplace.enterprises.services import has_consent
from marketplace.extensions import db
from marketplace.guarantees import services as guarantees
from marketplace.lists.services import is_yellow_listed
from marketplace.loans import services as loans
from marketplace.receivables.documents import ALLOWED_TYPES, document_response
from marketplace.supermarket.models import RequestTarget
from marketplace.verification.routed import routed_target
from marketplace.verification.services import reports_of

bp = ApiBlueprint(
    "api_desk", __name__, url_prefix="/desk", tag="desk",
    description="The institution's desk (bank and guarantor staff): the queue of requests routed to the "
                "institution, claims, offers, declines, guarantee offers, disbursements and repayments. "
                "409: someone else holds the claim; 422: invalid arguments, or the rules refuse the action "
                "(the message says why).")

REQUEST = "/requests/<int(min=1, max=2147483647):request_id>"
CONSENT_SCOPE = "bank_statements"
NO_CONSENT = ("企业尚未授权本机构查询银行流水，报告内容不予提供 / The enterprise has not consented to your "
              "institution reading its bank statements: report contents withheld")
REFUSALS = (claims.ClaimRefused, decisions.DecisionRefused, loans.LoanRefused)


def _user():
    return current_user._get_current_object()


def _target(request_id: int) -> RequestTarget:
    """The caller's institution's target on the request; 404 when it was not routed there."""
    target = routed_target(request_id, current_user.organisation_id)
    if target is None:
        abort(404, "未找到推送给本机构的该申请 / No request with this id was routed to your institution")
    return target


def _refusal_status(error: Exception, target: RequestTarget, user) -> int:
    """409 when the claim is someone else's (the race lost, or a colleague holds it); else 422."""
    if isinstance(error, claims.ClaimLost):
        return 409
    if isinstance(error, claims.ClaimRefused):
        holder = claims.open_assignment(target.id)
        if holder is not None and holder.user_id != user.id:
            return 409
    return 422


def _act(target: RequestTarget, action):
    """Run one service call: commit what it did, or roll it back and answer why it refused."""
    user = _user()
    try:
        result = action(user)
        db.session.commit()
    except REFUSALS as error:
        db.session.rollback()
        abort(_refusal_status(error, target, user), str(error))
    return result


# ---- payloads -------------------------------------------------------------------------------------

def _person(user) -> dict | None:
    return None if user is None else {"id": user.id, "name": user.name}


def _enterprise(enterprise) -> dict:
    return {"id": enterprise.id, "name": enterprise.name, "industry_code": enterprise.industry_code,
            "region_code": enterprise.region_code, "yellow_listed": is_yellow_listed(enterprise.id)}


def assignment_payload(assignment: Assignment, user) -> dict:
    return {"request_id": assignment.request_id, "target_id": assignment.target_id,
            "user": _person(assignment.user), "mine": assignment.user_id == user.id,
            "claimed_at": assignment.claimed_at, "expires_at": assignment.expires_at,
            "ended_at": assignment.ended_at, "end_reason": assignment.end_reason}


def offer_payload(offer: Offer) -> dict:
    return {"id": offer.id, "request_id": offer.request_id, "status": offer.status, "amount": offer.amount,
            "annual_rate": offer.annual_rate, "term_days": offer.term_days, "expires_on": offer.expires_on,
            "conditions": offer.conditions or "", "prepayment_fee_rate": offer.prepayment_fee_rate,
            "roll_to_working_day": offer.roll_to_working_day, "four_eyes": offer.four_eyes, "made_by": _person(offer.made_by),
            "approved_by": _person(offer.approved_by), "created_at": offer.created_at,
            "approved_at": offer.approved_at}


def guarantee_payload(guarantee) -> dict | None:
    if guarantee is None:
        return None
    return {"id": guarantee.id, "request_id": guarantee.request_id, "status": guarantee.status,
            "coverage_ratio": guarantee.coverage_ratio, "fee_rate": guarantee.fee_rate,
            "guaranteed_amount": guarantee.guaranteed_amount, "fee": guarantee.fee,
            "term_days": guarantee.term_days, "created_at": guarantee.created_at}


def loan_payload(loan) -> dict:
    totals = loans.summary(loan)
    return {"id": loan.id, "request_id": loan.request_id, "offer_id": loan.offer_id, "amount": loan.amount,
            "disbursed_on": loan.disbursed_on, "reference": loan.reference, "repaid": totals.repaid,
            "outstanding": totals.outstanding, "request_state": loan.request.state}


def _criterion(stored: dict) -> dict:
    def text(value):
        return None if value is None else str(value)

    return {"code": str(stored.get("code", "")), "hard": bool(stored.get("hard")), "passed": bool(stored.get("passed")),
            "value": text(stored.get("value")), "expected": text(stored.get("expected")),
            "reason_zh": str(stored.get("zh", "")), "reason_en": str(stored.get("en", ""))}


def document_payload(request_id: int, document) -> dict:
    return {"id": document.id, "name": document.original_name, "content_type": document.content_type,
            "size": document.size, "sha256": document.sha256, "uploaded_at": document.uploaded_at,
            "url": url_for("api_desk.get_document", request_id=request_id, document_id=document.id)}


def target_payload(target: RequestTarget) -> dict:
    version = target.product_version
    explanation = target.explanation
    return {"id": target.id, "status": target.status, "rank": target.rank, "chosen_by": target.chosen_by,
            "routed_at": target.routed_at,
            "product": {"product_id": version.product_id, "version_id": version.id, "version": version.number,
                        "name": version.name},
            "explanation": None if explanation is None else [_criterion(c) for c in explanation]}


def request_payload(req) -> dict:
    return {"id": req.id, "state": req.state, "amount": req.amount, "term_days": req.term_days,
            "purpose": req.purpose, "classification": req.classification, "submitted_at": req.submitted_at,
            "sla_due_at": req.sla_due_at, "stuck": req.stuck, "enterprise": _enterprise(req.enterprise)}


def _reports(req, org_id: int, purpose: str) -> tuple[bool, list[dict]]:
    """The request's reports; their payloads only within the enterprise's consent, each read
    logged in the enterprise's access log (a refusal is logged by has_consent)."""
    reports = reports_of(req.id)
    available = has_consent(req.enterprise_id, org_id, CONSENT_SCOPE, purpose)
    items = []
    for report in reports:
        if available:
            audit.record_credit_read(req.enterprise_id, "verification_report", purpose=purpose,
                                     request_id=req.id, report_id=report.id)
        items.append({"id": report.id, "submission_no": report.submission_no, "as_of": report.as_of,
                      "classification": report.classification, "policy_version": report.policy_version,
                      "created_at": report.created_at, "payload": report.payload if available else None})
    return available, items


# ---- the queue and one request ---------------------------------------------------------------------

@bp.route("/requests", methods=["GET"])
@bp.doc(security=BEARER)
@bp.arguments(schemas.QueueArgsSchema, location="query", as_kwargs=True)
@bp.response(200, schemas.QueuePageSchema)
@bp.error_responses(401, 403)
def list_queue(limit: int, order: str, **args):
    """The institution's queue

    The requests routed to the caller's institution, with the queue page's filters, oldest
    routed first by default. Keyset paging: pass `next_cursor` as `after` (with the same
    filters and sort) until it is null. `counts` gives the requests per state under the
    other filters.
    """
    user = _user()
    filters = queue.Filters(
        state=args.get("state"), status=args["status"], amount_min=args.get("amount_min"),
        amount_max=args.get("amount_max"), industry=args.get("industry"), region=args.get("region"),
        classification=args.get("classification"), sla=args.get("sla"), mine=args["mine"], sort=args["sort"],
        descending=order == "desc", after=args.get("after"))
    result = queue.page(user, filters, size=limit)
    # written as QueuePageSchema would dump it, without marshmallow (a fifth of the call for 20
    # rows); tests/api/test_desk_api.py holds the two to the same output
    return current_app.json.response({
        "items": [queue_item(row, user.id) for row in result.rows],
        "next_cursor": result.next_cursor,
        "counts": {str(state): count for state, count in result.counts.items()},
    })


def queue_item(row: queue.Row, user_id: int) -> dict:
    """One queue line, JSON-ready, as QueueItemSchema documents it."""
    return {
        "request_id": row.request_id, "target_id": row.target_id, "target_status": row.target_status,
        "state": row.state, "amount": two_decimals(row.amount), "term_days": row.term_days,
        "classification": row.classification,
        "enterprise": {"id": row.enterprise_id, "name": row.enterprise_name, "industry_code": row.industry_code,
                       "region_code": row.region_code, "yellow_listed": row.yellow_listed},
        "routed_at": utc_iso(row.routed_at), "sla_due_at": utc_iso(row.sla_due_at), "sla_state": row.sla_state,
        "claimed_by": None if row.claimed_by_id is None else {"id": row.claimed_by_id, "name": row.claimed_by_name},
        "claimed_by_me": row.claimed_by_id == user_id,
    }


@bp.route(REQUEST, methods=["GET"])
@bp.doc(security=BEARER)
@bp.response(200, schemas.RequestDetailSchema)
@bp.error_responses(401, 403, 404)
def get_request(request_id: int):
    """A request routed to the institution

    The request, its pledged receivables, the institution's status and why the request
    matched, the open claim, the institution's offers (a guarantor: its guarantee offer; a
    bank after disbursement: the loan), and the verification reports. A report's `payload`
    and the receivables' `documents` (invoices, contracts: fetch each from its `url`) are
    given only with the enterprise's consent to read its bank statements
    (`report_available`); each read is written to the enterprise's access log. A request
    whose enterprise's consent to the institution ended answers 404, unless the enterprise
    accepted the institution's offer or guarantee.
    """
    target = _target(request_id)
    req = target.request
    user = _user()
    purpose = reading_purpose(user.organisation.kind, req.state)
    available, reports = _reports(req, user.organisation_id, purpose)
    audit.record_credit_read(req.enterprise_id, "financing_request", purpose=purpose,
                             request_id=req.id, sections=[CONSENT_SCOPE] if available else [])
    db.session.commit()  # the reads (or the refusal) are logged whatever happens next
    assignment = claims.open_assignment(target.id)
    loan = loans.loan_of(req.id)
    offers = db.session.scalars(select(Offer).where(Offer.target_id == target.id).order_by(Offer.id.desc()))
    documents = evidence.pledged_documents(req) if available else {}
    return {
        "request": request_payload(req),
        "receivables": [{"id": r.id, "debtor_name": r.debtor_name, "invoice_no": r.invoice_no,
                         "face_amount": r.face_amount, "issue_date": r.issue_date, "due_date": r.due_date,
                         "confirmation": r.confirmation, "confirmed_via": r.confirmed_via,
                         "confirmed_at": r.confirmed_at, "declared_confirmation": r.declared_confirmation,
                         "declared_at": r.declared_at, "document_count": len(r.documents),
                         "documents": [document_payload(req.id, d) for d in documents.get(r.id, ())]}
                        for r in (p.receivable for p in req.active_pledges)],
        "target": target_payload(target),
        "claim": None if assignment is None else assignment_payload(assignment, user),
        "offers": [offer_payload(o) for o in offers],
        "guarantee": guarantee_payload(guarantees.guarantee_of_target(target)),
        "loan": loan_payload(loan) if loan is not None and loan.institution_id == target.institution_id else None,
        "report_available": available,
        "report_notice": None if available else NO_CONSENT,
        "reports": reports,
    }


@bp.route(REQUEST + "/documents/<int(min=1, max=2147483647):document_id>", methods=["GET"])
@bp.doc(security=BEARER, responses={"200": {
    "description": "The document's bytes, with its content type and `Content-Disposition` (its original name)",
    "content": {mime: {"schema": {"type": "string", "format": "binary"}} for mime in ALLOWED_TYPES}}})
@bp.error_responses(401, 403, 404)
def get_document(request_id: int, document_id: int):
    """A document of a pledged receivable

    An invoice or contract (PDF, JPEG or PNG) of a receivable pledged to the request, within
    the enterprise's consent to read its bank statements (403 without it; the refusal is
    logged). Each download is written to the enterprise's access log. 404 for a document of
    a receivable not pledged to this request.
    """
    target = _target(request_id)
    try:
        document = evidence.read_document(target, document_id)
    except evidence.EvidenceRefused as refused:
        db.session.commit()  # keep the logged refusal
        abort(refused.status, str(refused))
    db.session.commit()
    return document_response(document, download=True)


# ---- claims ---------------------------------------------------------------------------------------

@bp.route(REQUEST + "/claim", methods=["POST"])
@bp.doc(security=BEARER)
@bp.response(201, schemas.AssignmentSchema)
@bp.error_responses(401, 403, 404, 409, 422)
def claim(request_id: int):
    """Claim a request

    The caller works the request alone until it releases it, decides it, or leaves it idle
    past the configured working days. 409 when someone else holds it (or the caller already
    does); 422 when the request can no longer be claimed.
    """
    target = _target(request_id)
    assignment = _act(target, lambda user: claims.claim(target, user))
    return assignment_payload(assignment, _user())


@bp.route(REQUEST + "/release", methods=["POST"])
@bp.doc(security=BEARER)
@bp.response(200, schemas.AssignmentSchema)
@bp.error_responses(401, 403, 404, 409, 422)
def release(request_id: int):
    """Release the caller's claim

    The request goes back to the queue. 409 when a colleague holds the claim; 422 when nobody does.
    """
    target = _target(request_id)
    assignment = _act(target, lambda user: claims.release(target, user))
    return assignment_payload(assignment, _user())


# ---- decisions ------------------------------------------------------------------------------------

@bp.route(REQUEST + "/offers", methods=["POST"])
@bp.doc(security=BEARER)
@bp.arguments(schemas.OfferArgsSchema, location="json")
@bp.response(201, schemas.OfferSchema)
@bp.error_responses(400, 401, 403, 404, 409, 422)
def make_offer(terms: dict, request_id: int):
    """Make an offer (banks)

    Needs the caller's claim. At most the requested amount; up to FOUR_EYES_AMOUNT the offer
    reaches the enterprise at once (`status` made), above it it waits for a second, different
    approver (`status` pending_approval, `four_eyes` true). 422 when the terms are refused
    (nothing is stored); 409 when a colleague holds the claim.
    """
    target = _target(request_id)
    offer_terms = decisions.OfferTerms(terms["amount"], terms["annual_rate"], terms["term_days"],
                                       terms["expires_on"], terms["conditions"], terms["prepayment_fee_rate"],
                                       terms["roll_to_working_day"])
    offer = _act(target, lambda user: decisions.make_offer(target, user, offer_terms))
    return offer_payload(offer)


@bp.route(REQUEST + "/offers/<int(min=1, max=2147483647):offer_id>/approve", methods=["POST"])
@bp.doc(security=BEARER)
@bp.response(200, schemas.OfferSchema)
@bp.error_responses(401, 403, 404, 422)
def approve_offer(request_id: int, offer_id: int):
    """Approve an offer waiting for a second pair of eyes (bank approvers)

    Only an approver of the bank who did not propose it; the offer then reaches the
    enterprise. 404 for an offer of another request or institution; 422 when refused.
    """
    target = _target(request_id)
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.target_id != target.id:
        abort(404, "本机构在该申请上没有这个报价 / No such offer of your institution on this request")
    return offer_payload(_act(target, lambda user: decisions.approve_offer(offer, user)))


@bp.route(REQUEST + "/decline", methods=["POST"])
@bp.doc(security=BEARER)
@bp.arguments(schemas.DeclineArgsSchema, location="json")
@bp.response(201, schemas.DeclineSchema)
@bp.error_responses(400, 401, 403, 404, 409, 422)
def decline(body: dict, request_id: int):
    """Decline a request

    Needs the caller's claim; `reason_code` is one of the configured reasons (`other` needs a
    note). The request goes to the next bank or guarantor, or back to the enterprise. 422 when
    refused (e.g. the institution already made an offer); 409 when a colleague holds the claim.
    """
    target = _target(request_id)
    row: Decline = _act(target, lambda user: decisions.decline(target, user, body["reason_code"], body["note"]))
    return {"id": row.id, "request_id": row.request_id, "reason_code": row.reason_code, "note": row.note,
            "created_at": row.created_at, "target_status": target.status, "request_state": target.request.state}


@bp.route(REQUEST + "/guarantee-offers", methods=["POST"])
@bp.doc(security=BEARER)
@bp.arguments(schemas.GuaranteeArgsSchema, location="json")
@bp.response(201, schemas.GuaranteeSchema)
@bp.error_responses(400, 401, 403, 404, 409, 422)
def offer_guarantee(body: dict, request_id: int):
    """Offer a guarantee (guarantors)

    Needs the caller's claim, on a request in the guarantor's review: coverage (% of the
    amount) and fee rate (% a year) give the guaranteed amount and the fee. 422 when refused
    (a bank, terms out of range, a live guarantee already); 409 when a colleague holds the claim.
    """
    target = _target(request_id)
    guarantee = _act(target, lambda user: guarantees.offer_guarantee(target, user, body["coverage_ratio"],
                                                                     body["fee_rate"]))
    return guarantee_payload(guarantee)


# ---- after acceptance: the loan -------------------------------------------------------------------

@bp.route(REQUEST + "/disbursement", methods=["POST"])
@bp.doc(security=BEARER)
@bp.arguments(schemas.DisbursementArgsSchema, location="json")
@bp.response(201, schemas.LoanSchema)
@bp.error_responses(400, 401, 403, 404, 422)
def record_disbursement(body: dict, request_id: int):
    """Record the disbursement (bank staff)

    On a request whose offer by the caller's bank the enterprise accepted: at most the
    offer's amount, on a day between the acceptance and today. 422 when refused (no accepted
    offer of the bank, already disbursed, bad amount or day).
    """
    target = _target(request_id)
    offer = loans.accepted_offer(request_id, target.institution_id)

    def action(user):
        if offer is None:
            raise loans.LoanRefused(_("只有企业已接受本机构报价的申请才能登记放款"))
        return loans.record_disbursement(offer, user, body["amount"], body["disbursed_on"], body["reference"])

    return loan_payload(_act(target, action))


@bp.route(REQUEST + "/repayments", methods=["POST"])
@bp.doc(security=BEARER)
@bp.arguments(schemas.RepaymentArgsSchema, location="json")
@bp.response(201, schemas.RepaymentSchema)
@bp.error_responses(400, 401, 403, 404, 422)
def record_repayment(body: dict, request_id: int):
    """Record a repayment (bank staff)

    On the loan the caller's bank disbursed, once its repayment schedule is recorded (on the
    loan page): at most what is still owed, paid between the disbursement and today. The last
    fen closes the request. 422 when refused.
    """
    target = _target(request_id)
    loan = loans.loan_of(request_id)

    def action(user):
        if loan is None or loan.institution_id != target.institution_id:
            raise loans.LoanRefused(_("该申请尚未由本机构登记放款"))
        return loans.record_repayment(loan, user, body["paid_on"], body["amount"], body["reference"])

    repayment = _act(target, action)
    return {"id": repayment.id, "loan_id": repayment.loan_id, "request_id": request_id,
            "paid_on": repayment.paid_on, "amount": repayment.amount, "reference": repayment.reference,
            "outstanding": loans.allocation(repayment.loan).outstanding,
            "request_state": target.request.state}


def _bank_loan(target: RequestTarget):
    loan = loans.loan_of(target.request_id)
    if loan is None or loan.institution_id != target.institution_id:
        return None
    return loan


def loan_detail_payload(loan) -> dict:
    totals = loans.summary(loan)
    today = totals.today
    return {
        **loan_payload(loan), "status": totals.status, "as_of": today, "annual_rate": loan.offer.annual_rate,
        "roll_to_working_day": loan.roll_to_working_day, "prepayment_fee_rate": loan.offer.prepayment_fee_rate,
        "principal_outstanding": totals.principal_outstanding,
        "arrears": totals.arrears, "fees": totals.fees, "days_past_due": totals.days_past_due,
        "dpd_bucket": totals.bucket, "max_days_late": totals.max_days_late, "max_dpd_bucket": totals.worst_bucket,
        "schedule": [{"number": n, "kind": row.kind, "due_on": row.due_on, "due_by": state.due_by,
                      "principal": row.principal, "interest": row.interest, "paid": state.paid,
                      "unpaid": state.unpaid, "covered_on": state.covered_on,
                      "days_past_due": state.days_past_due(today), "days_late": state.days_late(today),
                      "overdue_since": state.overdue_since(today), "cured_on": state.cured_on(today),
                      "reported_overdue_at": row.overdue_flagged_at}
                     for n, (row, state) in enumerate(totals.rows, start=1)],
        "superseded": [{"due_on": row.due_on, "principal": row.principal, "interest": row.interest,
                        "superseded_at": row.superseded_at} for row in loan.superseded],
        "repayments": [{"id": r.id, "kind": r.kind, "paid_on": r.paid_on, "amount": r.amount, "fee": r.fee,
                        "reference": r.reference, "created_at": r.created_at}
                       for r in sorted(loan.repayments, key=lambda r: (r.paid_on, r.id))],
    }


@bp.route(REQUEST + "/loan", methods=["GET"])
@bp.doc(security=BEARER)
@bp.response(200, schemas.LoanDetailSchema)
@bp.error_responses(401, 403, 404)
def get_loan(request_id: int):
    """The loan the caller's bank disbursed (bank staff)

    The schedule with what the repayments paid of each instalment (in paid order, each
    instalment's interest first, then its principal), days past due today (Asia/Shanghai) per
    instalment and for the loan (its oldest unpaid instalment's) with the credit file's bucket
    (1-30, 31-60, 61-90, 90+), each instalment's overdue history (overdue since, cured on),
    the repayments, and the status. 404 when the bank has not disbursed a loan on the request.
    """
    loan = _bank_loan(_target(request_id))
    if loan is None:
        abort(404, "本机构尚未在该申请上登记放款 / Your bank has recorded no disbursement on this request")
    return loan_detail_payload(loan)


@bp.route(REQUEST + "/prepayments", methods=["POST"])
@bp.doc(security=BEARER)
@bp.arguments(schemas.PrepaymentArgsSchema, location="json")
@bp.response(201, schemas.LoanDetailSchema)
@bp.error_responses(400, 401, 403, 404, 422)
def record_prepayment(body: dict, request_id: int):
    """Record an early repayment (bank staff)

    A payoff (all the principal) or a prepayment of `principal`, on `paid_on`: the arrears,
    that principal and its interest accrued since the last due day are paid; the instalments
    due after the day are recomputed (equal principal, same due days) or, after a payoff,
    closed, and the request closes. The fee, on top, is the offer's: `prepayment_fee_rate` x
    the principal repaid early, half up to the fen (none when the rate is 0). `fee` is optional:
    when sent it must equal that fee, else 422 (the bank cannot set another fee than its offer
    stated). 422 when refused (a day before the disbursement or the last repayment, or in the
    future; more principal than is outstanding; no schedule; a fee other than the offer's),
    with nothing changed. Answers the loan.
    """
    target = _target(request_id)
    loan = _bank_loan(target)

    def action(user):
        if loan is None:
            raise loans.LoanRefused(_("该申请尚未由本机构登记放款"))
        principal = body.get("principal") if body["mode"] == "prepayment" else loans.PAYOFF
        return loans.record_prepayment(loan, user, body["paid_on"], principal, body["reference"],
                                       expected_fee=body.get("fee"))

    repayment = _act(target, action)
    return loan_detail_payload(repayment.loan)
