"""The credit grade wired in: inputs read from the rows, the grade stored with its model version
and reasons, a history that grows only when the result changes, regrades queued through the
outbox when an input changes, and matching that reaches grade-gated products once graded."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from marketplace.credit import grading, services
from marketplace.credit.models import CreditGrade, CreditRecord
from marketplace.credit.tasks import recompute_grade
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.loans.tasks import flag_overdue_instalments
from marketplace.outbox import OutboxMessage
from marketplace.supermarket.matching import ranked_matches
from tests.credit.conftest import make_provider
from tests.desks.helpers import routed
from tests.loans.helpers import accepted, repay, scheduled
from tests.supermarket.products import make_product
from tests.verification.cases import build
from workflows.credit_model import MODEL_VERSION


def grade_rows(enterprise_id: int) -> int:
    return db.session.scalar(select(func.count(CreditGrade.id)).where(CreditGrade.enterprise_id == enterprise_id))


def push(app, provider, enterprise, provider_record_id: str, kind: str = "tax_paid", days_ago: int = 20):
    """A provider's record through the service, committed (the regrade runs after the commit)."""
    item = {"enterprise_uscc": enterprise.uscc, "provider_record_id": provider_record_id, "kind": kind,
            "title": "按期纳税", "occurred_on": (today_shanghai() - timedelta(days=days_ago)).isoformat()}
    with app.test_request_context():
        outcomes = services.submit_json(provider.organisation, [item], provider)
        db.session.commit()
    return outcomes[0].record


def late_paid_loan(app):
    """A verified request whose single instalment was repaid 3 days late (the loan is closed)."""
    deal = accepted(app, accepted_days_ago=60)
    start = today_shanghai() - timedelta(days=60)
    due = start + timedelta(days=30)
    loan = scheduled(app, deal, on=start, rows=[(due, Decimal("200000.00"), Decimal("600.00"))])
    repay(app, deal, loan, "200600.00", on=due + timedelta(days=3))
    db.session.commit()
    return deal


def test_the_inputs_are_read_from_the_records_the_latest_report_and_the_loans(app):
    deal = late_paid_loan(app)
    enterprise = deal.request.enterprise
    tax = make_provider("tax")
    push(app, tax, enterprise, "T-1")
    inputs = grading.inputs_for(enterprise.id)
    assert [(r.source, r.kind, r.polarity) for r in inputs.records] == [("tax", "tax_paid", "positive")]
    assert inputs.cashflow is not None and inputs.cashflow.classification == "excellent"
    assert inputs.cashflow.covered_months >= 12 and inputs.cashflow.negative_balance_days is not None
    history = inputs.repayment
    assert (history.loans, history.repaid_in_full, history.instalments_due, history.instalments_on_time) == (1, 1, 1, 0)
    assert (history.max_days_past_due, history.current_days_past_due, history.cured_late_instalments) == (3, 0, 1)
    assert history.restructured_loans == 0


def test_the_stored_grade_carries_its_model_version_reasons_and_trigger(app):
    deal = late_paid_loan(app)
    row = grading.current_grade(deal.request.enterprise_id)
    assert row is not None and row.graded and row.model_version == MODEL_VERSION
    assert row.grade in "ABCD" and row.colour in ("green", "yellow", "red", "black")
    # the late repayment first brought the overdue history up to date: one regrade, its first cause
    assert row.trigger == "loan.overdue"
    codes = {reason["code"] for reason in row.reasons}
    assert {"cashflow_class", "loans_repaid", "worst_past_due"} <= codes
    assert all(set(reason) == {"code", "points", "zh", "en", "factor"} for reason in row.reasons)
    assert row.score == 500 + sum(reason["points"] for reason in row.reasons)
    assert len(row.inputs_digest) == 64


def test_nothing_changed_adds_no_row(app):
    deal = late_paid_loan(app)
    enterprise_id = deal.request.enterprise_id
    before = grade_rows(enterprise_id)
    first = grading.current_grade(enterprise_id)
    with app.test_request_context():
        assert grading.recompute(enterprise_id, "test") is first
        assert recompute_grade.run(enterprise_id, "test") == first.grade
    assert grade_rows(enterprise_id) == before


def test_a_new_record_queues_a_regrade_through_the_outbox_and_adds_a_row(app):
    deal = late_paid_loan(app)
    enterprise = deal.request.enterprise
    before = grading.current_grade(enterprise.id)
    count = grade_rows(enterprise.id)
    court = make_provider("court")
    push(app, court, enterprise, "C-1", kind="court_judgment", days_ago=10)
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.key == f"credit-grade:{enterprise.id}")
                                .order_by(OutboxMessage.id.desc()).limit(1))
    assert message.task == grading.RECOMPUTE_TASK and message.sent_at is not None  # sent and run after the commit
    assert grade_rows(enterprise.id) == count + 1
    after = grading.current_grade(enterprise.id)
    assert after.trigger == "credit_records" and after.score < before.score
    assert any(reason["code"] == "negative_record" for reason in after.reasons)


def test_matching_reaches_a_grade_gated_product_once_graded_and_not_before(app):
    case = build(app, "excellent")  # a draft: no report, no loan, no record yet
    enterprise = case.request.enterprise
    gated = make_product(app, case.bank_staff, name="评级准入贷", min_grade="C",
                         accepts_ungraded=False)
    assert grading.current_grade(enterprise.id) is None

    def gated_match():
        return next(m for m in ranked_matches(case.request) if m.product_id == gated.id)

    match = gated_match()
    grade_criterion = next(c for c in match.criteria if c.code == "grade")
    assert not match.eligible and not grade_criterion.passed and grade_criterion.zh.startswith("企业尚未评级")

    push(app, make_provider("tax"), enterprise, "T-9")  # one paid month: a little data, graded C
    row = grading.current_grade(enterprise.id)
    assert (row.grade, row.colour) == ("C", "red")
    match = gated_match()
    grade_criterion = next(c for c in match.criteria if c.code == "grade")
    assert match.eligible and grade_criterion.passed and grade_criterion.value == "C"
    assert grade_criterion.zh == "企业信用等级 C（红码） 达到产品最低等级 C"
    assert grade_criterion.en == "Credit grade C (red) meets the product's minimum grade C"


def test_the_cli_regrades_one_enterprise_or_all(app):
    case = build(app, "excellent", with_products=False)
    enterprise = case.request.enterprise
    tax = make_provider("tax")
    db.session.add(CreditRecord(enterprise_id=enterprise.id, provider_org_id=tax.organisation_id, source="tax",
                                provider_record_id="T-CLI", kind="tax_paid", polarity="positive", title="按期纳税",
                                occurred_on=today_shanghai() - timedelta(days=20), details={},
                                payload_digest="0" * 64, status="active"))
    db.session.flush()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["credit", "regrade", enterprise.uscc])
    assert result.exit_code == 0, result.output
    assert f"{enterprise.uscc}: C (red)" in result.output and MODEL_VERSION in result.output
    assert grading.current_grade(enterprise.id).trigger == "cli"
    assert runner.invoke(args=["credit", "regrade"]).exit_code != 0  # neither --all nor a code


def test_a_verification_report_grades_the_enterprise(app):
    case = routed(app)  # submitted, verified (eagerly, through the outbox) and routed
    row = grading.current_grade(case.request.enterprise_id)
    assert row.trigger == "verification_report" and row.graded
    assert any(reason["code"] == "cashflow_class" for reason in row.reasons)


def test_the_daily_overdue_sweep_regrades_a_borrower_in_arrears(app):
    deal = accepted(app, accepted_days_ago=60)
    start = today_shanghai() - timedelta(days=60)
    due = start + timedelta(days=20)
    scheduled(app, deal, on=start, rows=[(due, Decimal("100000.00"), Decimal("300.00")),
                                         (due + timedelta(days=90), Decimal("100000.00"), Decimal("300.00"))])
    db.session.commit()
    before = grading.current_grade(deal.request.enterprise_id)
    assert not any(reason["code"] == "current_past_due" for reason in before.reasons)
    with app.test_request_context():
        assert flag_overdue_instalments.run() == 1
    after = grading.current_grade(deal.request.enterprise_id)
    assert after.id != before.id and after.trigger == "loan.overdue" and after.score < before.score
    assert any(reason["code"] == "current_past_due" for reason in after.reasons)
