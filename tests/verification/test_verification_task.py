"""The verification run: submitted -> verifying -> verified -> routed or returned, by class; one
immutable report per submission, whatever the number of runs; resubmission keeps old reports."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from marketplace.extensions import db
from marketplace.financing.models import WorkflowEvent
from marketplace.notifications.models import Notification
from marketplace.supermarket.models import RequestTarget
from marketplace.verification import services
from marketplace.verification.models import PolicyVersion, VerificationReport
from tests.verification.cases import build, submit


def targets_of(request):
    return db.session.scalars(select(RequestTarget).where(RequestTarget.request_id == request.id)
                              .order_by(RequestTarget.rank)).all()


def reports_of(request):
    return db.session.scalars(select(VerificationReport).where(VerificationReport.request_id == request.id)).all()


def timeline(request):
    return [e.to_state for e in db.session.scalars(
        select(WorkflowEvent).where(WorkflowEvent.request_id == request.id).order_by(WorkflowEvent.id))]


def notifications(kind=None):
    query = select(Notification.user_id, Notification.kind)
    if kind:
        query = query.where(Notification.kind == kind)
    return db.session.execute(query).all()


def test_excellent_request_goes_to_the_bank_with_why_its_product_matched(app):
    case = build(app, "excellent")
    submit(app, case)
    request = case.request
    assert timeline(request) == ["draft", "submitted", "verifying", "verified", "routed_to_bank"]
    (report,) = reports_of(request)
    assert report.classification == "excellent" and report.submission_no == 1
    assert report.policy_version == "2026.1" and report.thresholds["r2_ok_months"] == 3
    assert report.payload["receivables"][0]["grade"] == "优"
    assert len(report.statement_sha256s) == 1 and len(report.inputs_sha256) == 64
    (target,) = targets_of(request)
    assert target.institution_id == case.bank_staff.organisation_id
    assert target.status == "routed" and target.routed_at is not None
    assert {c["code"] for c in target.explanation} >= {"amount", "term", "rate"}
    assert all(c["passed"] for c in target.explanation if c["hard"])
    told = notifications("request.routed")
    assert told == [(case.bank_staff.id, "request.routed")]
    assert notifications("verification.done") == [(case.owner.id, "verification.done")]


def test_mixed_request_goes_to_one_guarantor_first(app):
    case = build(app, "mixed")
    submit(app, case)
    assert case.request.state == "routed_to_guarantor"
    (report,) = reports_of(case.request)
    assert report.classification == "mixed"
    (target,) = targets_of(case.request)
    assert target.institution_id == case.guarantor_staff.organisation_id and target.status == "routed"


def test_poor_request_is_returned_and_routed_nowhere(app):
    case = build(app, "poor")
    submit(app, case)
    assert case.request.state == "returned"
    (report,) = reports_of(case.request)
    assert report.classification == "poor"
    assert any("H0" in reason or "流水" in reason for reason in report.payload["reasons_zh"])
    assert all(t.status == "chosen" for t in targets_of(case.request))
    assert notifications("request.routed") == []


def test_excellent_request_with_no_bank_to_take_it_is_returned_with_the_reason(app):
    case = build(app, "excellent", with_products=False)
    submit(app, case)
    assert case.request.state == "returned"
    last = case.request.events[-1]
    assert last.transition == "return_request" and "银行产品" in last.note


def test_running_the_task_again_leaves_one_report_and_one_notification(app):
    case = build(app, "excellent")
    submit(app, case)
    before = notifications()
    with app.test_request_context():
        assert services.run_verification(case.request.id, 1) == "already_done"
        assert services.run_verification(case.request.id, 1) == "already_done"
    assert len(reports_of(case.request)) == 1
    assert notifications() == before
    assert timeline(case.request).count("routed_to_bank") == 1


def test_a_task_for_an_old_submission_does_nothing(app):
    case = build(app, "poor")
    submit(app, case)
    with app.test_request_context():
        assert services.run_verification(case.request.id, 7) == "superseded"
    assert len(reports_of(case.request)) == 1


def test_resubmission_makes_a_new_report_and_keeps_the_old_one(app):
    case = build(app, "poor")
    submit(app, case)
    assert case.request.state == "returned"
    submit(app, case)
    reports = sorted(reports_of(case.request), key=lambda r: r.submission_no)
    assert [r.submission_no for r in reports] == [1, 2]
    assert case.request.state == "returned"


def test_the_report_names_the_policy_version_in_force(app):
    from workflows.verification.policy import DEFAULT_POLICY

    thresholds = DEFAULT_POLICY.thresholds.as_dict() | {"r2_ok_months": 4}
    db.session.add(PolicyVersion(version="2026.9", effective_from=date(2026, 1, 2), thresholds=thresholds))
    db.session.flush()
    case = build(app, "excellent")
    submit(app, case)
    (report,) = reports_of(case.request)
    assert report.policy_version == "2026.9" and report.thresholds["r2_ok_months"] == 4
    assert report.payload["policy_version"] == "2026.9"


@pytest.mark.parametrize("statement", ["UPDATE verification_reports SET classification = 'excellent'",
                                       "DELETE FROM verification_reports"])
def test_the_database_refuses_to_change_a_report(app, statement):
    case = build(app, "poor")
    submit(app, case)
    with pytest.raises(DBAPIError, match="immutable"):
        with db.session.begin_nested():
            db.session.execute(text(statement))
    assert db.session.scalar(select(func.count(VerificationReport.id))) >= 1
