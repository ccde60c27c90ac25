"""The enterprise's credit grade, wired in: rows in, workflows.credit_model out, the result kept.

`inputs_for` reads what the model needs (the enterprise's credit records, its latest
verification report, its loans' repayment history); `recompute` grades and stores a new
CreditGrade only when the result or the model version changed, so a repeated run adds nothing.
The Celery task `marketplace.credit.tasks.recompute_grade` is queued through the outbox when an
input changes: records stored (credit.services), a verification report made (the request's
`complete_verification` transition) and the loans' facts (marketplace.events.credit_input_changed).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from marketplace import outbox
from marketplace.after_commit import after_commit, after_rollback
from marketplace.credit.models import GRADE_TRIGGER_MAX, CreditGrade, latest_grade
from marketplace.credit.models import CreditRecord as RecordRow
from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.events import RequestTransitioned, credit_input_changed, request_transitioned
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import today_shanghai
from marketplace.loans.models import Loan
from marketplace.loans.services import summary
from marketplace.verification.models import VerificationReport
from workflows.credit_model import (
    MODEL_VERSION,
    REMOVED,
    CashFlowMetrics,
    CreditRecord,
    Grade,
    GradeInputs,
    RepaymentHistory,
    cashflow_from_report,
    grade,
)
from workflows.loans import RESTRUCTURED

# enqueued by name: the task module imports this one
RECOMPUTE_TASK = "marketplace.credit.tasks.recompute_grade"
_PENDING = "credit_regrade_pending"  # enterprise ids queued in the current transaction


# ---- inputs ------------------------------------------------------------------------------------

def _records(enterprise_id: int) -> tuple[CreditRecord, ...]:
    """Every record of the enterprise (the model applies status and retention)."""
    rows = db.session.scalars(select(RecordRow).where(RecordRow.enterprise_id == enterprise_id)
                              .order_by(RecordRow.id))
    # a record past retention (marketplace.credit.retention) has left every outward view: the
    # grade, which institutions see, no longer counts it either, whatever the configured period
    return tuple(CreditRecord(kind=r.kind, source=r.source, polarity=r.polarity, occurred_on=r.occurred_on,
                              amount=r.amount, ended_on=r.ended_on, ref=str(r.id),
                              status=REMOVED if r.retention_expired_at is not None else r.status)
                 for r in rows)


@dataclass(frozen=True)
class _Check:
    level: str
    value: str


@dataclass(frozen=True)
class StoredReport:
    """A stored VerificationReport's payload (policy.Report.to_dict()) with the few attributes
    workflows.credit_model.cashflow_from_report reads of a policy.Report."""

    payload: dict

    @property
    def as_of(self) -> date:
        return date.fromisoformat(self.payload["as_of"])

    @property
    def classification(self) -> str:
        return self.payload["classification"]

    @property
    def policy_version(self) -> str:
        return self.payload.get("policy_version", "")

    @property
    def metrics(self) -> dict:
        return self.payload["metrics"]

    def health_check(self, code: str) -> _Check:
        check = next(c for c in self.payload["health"] if c["code"] == code)
        return _Check(check["level"], check["value"])


def latest_report(enterprise_id: int, today: date) -> VerificationReport | None:
    """The enterprise's most recent verification report dated on or before `today`."""
    return db.session.scalar(
        select(VerificationReport).where(VerificationReport.enterprise_id == enterprise_id,
                                         VerificationReport.as_of <= today)
        .order_by(VerificationReport.as_of.desc(), VerificationReport.id.desc()).limit(1))


def _cashflow(enterprise_id: int, today: date) -> CashFlowMetrics | None:
    row = latest_report(enterprise_id, today)
    return cashflow_from_report(StoredReport(row.payload)) if row is not None else None


def repayment_history(enterprise_id: int, today: date) -> RepaymentHistory | None:
    """The enterprise's loans on the platform, by workflows.loans (through loans.services.summary):
    the current schedule's instalments, plus the overdue history kept on lines an early repayment
    or a restructuring superseded. None: no loan."""
    loans = list(db.session.scalars(
        select(Loan).join(FinancingRequest, FinancingRequest.id == Loan.request_id)
        .where(FinancingRequest.enterprise_id == enterprise_id).order_by(Loan.id)))
    if not loans:
        return None
    repaid = due = on_time = worst = current = restructured = cured = 0
    for loan in loans:
        s = summary(loan, today)
        repaid += s.status == "repaid"
        restructured += any(i.kind == RESTRUCTURED for i in loan.instalments)
        worst = max(worst, s.max_days_late)
        current = max(current, s.days_past_due)
        for _row, state in s.rows:
            if state.due_by < today:
                due += 1
                on_time += state.covered_on is not None and state.covered_on <= state.due_by
            cured += state.cured_on(today) is not None
        for row in loan.superseded:  # lines replaced later keep the days they were late
            if row.overdue_since is not None:
                end = row.cured_on or today
                worst = max(worst, (end - row.overdue_since).days + 1)
                cured += row.cured_on is not None
    return RepaymentHistory(loans=len(loans), repaid_in_full=repaid, instalments_due=due,
                            instalments_on_time=on_time, max_days_past_due=max(worst, current),
                            current_days_past_due=current, restructured_loans=restructured,
                            cured_late_instalments=cured)


def inputs_for(enterprise_id: int, today: date | None = None) -> GradeInputs:
    today = today or today_shanghai()
    return GradeInputs(evaluation_date=today, records=_records(enterprise_id),
                       cashflow=_cashflow(enterprise_id, today), repayment=repayment_history(enterprise_id, today))


def inputs_digest(inputs: GradeInputs) -> str:
    """sha256 of the inputs as read (the evaluation date aside: it changes every day)."""
    body: dict[str, Any] = {
        "records": [[r.ref, r.source, r.kind, r.polarity, r.occurred_on, r.ended_on, r.amount, r.status]
                    for r in inputs.records],
        "cashflow": inputs.cashflow, "repayment": inputs.repayment, "parameters": inputs.parameters,
    }
    return hashlib.sha256(json.dumps(body, default=str, sort_keys=True).encode()).hexdigest()


# ---- the stored grade --------------------------------------------------------------------------

def current_grade(enterprise_id: int) -> CreditGrade | None:
    """The latest stored grade (None: never graded, shown as ungraded)."""
    return latest_grade(enterprise_id)


def _same(row: CreditGrade, result: Grade) -> bool:
    return (row.model_version == result.model_version and row.score == result.score
            and row.grade == result.grade and row.colour == result.colour
            and list(row.reasons or []) == [r.as_dict() for r in result.reasons])


def recompute(enterprise_id: int, trigger: str, today: date | None = None) -> CreditGrade:
    """Grade the enterprise now and return its current CreditGrade: a new row only when the
    result or the model version changed. The enterprise row is locked so that two runs at once
    store one row. The caller commits."""
    db.session.scalar(select(Enterprise.id).where(Enterprise.id == enterprise_id).with_for_update())
    inputs = inputs_for(enterprise_id, today)
    result = grade(inputs)
    latest = latest_grade(enterprise_id)
    if latest is not None and _same(latest, result):
        return latest
    row = CreditGrade(enterprise_id=enterprise_id, score=result.score, grade=result.grade, colour=result.colour,
                      reasons=[r.as_dict() for r in result.reasons], model_version=MODEL_VERSION,
                      evaluated_on=inputs.evaluation_date, inputs_digest=inputs_digest(inputs),
                      computed_at=utcnow(), trigger=(trigger or "unknown")[:GRADE_TRIGGER_MAX])
    db.session.add(row)
    db.session.flush()
    return row


# ---- triggers ----------------------------------------------------------------------------------

def schedule_recompute(enterprise_id: int, trigger: str) -> None:
    """Queue the enterprise's regrade through the outbox (sent after the commit; run eagerly in
    the embedded mode), once per enterprise and transaction."""
    pending: set = db.session.info.setdefault(_PENDING, set())
    if enterprise_id in pending:
        return
    if not pending:
        after_commit(lambda: db.session.info.pop(_PENDING, None))
        after_rollback(lambda: db.session.info.pop(_PENDING, None))
    pending.add(enterprise_id)
    outbox.enqueue(RECOMPUTE_TASK, enterprise_id, trigger, key=f"credit-grade:{enterprise_id}")


@credit_input_changed.connect
def _on_credit_input(enterprise_id: int, *, trigger: str) -> None:
    """The loans' facts (repayments, early repayments, restructurings, overdue changes)."""
    schedule_recompute(enterprise_id, trigger)


@request_transitioned.connect
def _on_transitioned(_request, *, event: RequestTransitioned) -> None:
    """A verification report was stored (verification.services.store_report applies the
    request's `complete_verification` transition in the same transaction)."""
    if event.transition == "complete_verification":
        schedule_recompute(event.request.enterprise_id, "verification_report")


def regrade_all(trigger: str, today: date | None = None) -> int:
    """Recompute every enterprise's grade (the demo's last step, the CLI's --all); returns how
    many new rows were stored. The caller commits."""
    added = 0
    for enterprise_id in db.session.scalars(select(Enterprise.id).order_by(Enterprise.id)).all():
        before = latest_grade(enterprise_id)
        added += recompute(enterprise_id, trigger, today) is not before
    return added
