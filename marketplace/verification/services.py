"""Verify a submitted request: gather its inputs from the rows, ask the asset-quality policy,
store the immutable report, and route the request by its class, in one transaction.

`run_verification(request_id, submission_no)` is what the Celery task runs. It is idempotent:
one report per (request, submission), so a redelivered or repeated task finds the report and
changes nothing more, and a task for an old submission (the request was resubmitted, withdrawn
or is already past verification) does nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import func, select

from marketplace import audit, outbox
from marketplace.events import RequestTransitioned, request_transitioned
from marketplace.extensions import db
from marketplace.financing import routing
from marketplace.financing.models import FinancingRequest, RequestPledge, WorkflowEvent
from marketplace.financing.services import apply_transition
from marketplace.formatting import SHANGHAI
from marketplace.receivables.models import Receivable
from marketplace.statements.models import StatementFile, StatementTransaction
from marketplace.verification.models import VerificationReport
from marketplace.verification.policies import current_policy
from workflows.financing import ACTIVE_STATES, State
from workflows.verification.model import Statement, Transaction
from workflows.verification.policy import (
    DECLARED,
    EnterpriseInput,
    Policy,
    ReceivableInput,
    Report,
    verify,
)


@dataclass(frozen=True)
class Inputs:
    """Everything a verification reads, as plain records, and their digests."""

    enterprise: EnterpriseInput
    receivables: tuple[ReceivableInput, ...]
    statements: tuple[Statement, ...]
    other_active_pledges: frozenset[tuple[str, str]]
    receivables_sha256: str

    def digest(self, request: FinancingRequest, as_of: date, policy: Policy) -> str:
        """One sha256 over every input: the same digest means the same verification."""
        body = {
            "request": request.id, "amount": f"{request.amount:.2f}", "as_of": as_of.isoformat(),
            "policy": policy.version, "thresholds": policy.thresholds.as_dict(),
            "enterprise": [self.enterprise.name, self.enterprise.uscc, *self.enterprise.related_parties],
            "receivables": self.receivables_sha256,
            "statements": sorted(s.sha256 for s in self.statements),
            "elsewhere": sorted(map(list, self.other_active_pledges)),
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# ---- reading the inputs ------------------------------------------------------------------------

def submission_number(request: FinancingRequest) -> int:
    """How many times the request has been submitted (its first submission is 1)."""
    return db.session.scalar(
        select(func.count(WorkflowEvent.id)).where(WorkflowEvent.request_id == request.id,
                                                   WorkflowEvent.transition == "submit")
    ) or 0


def as_of_date(request: FinancingRequest) -> date:
    """A request is verified as of the day it was submitted (Shanghai), whenever the task runs."""
    return request.submitted_at.astimezone(SHANGHAI).date()


def receivable_inputs(request: FinancingRequest) -> tuple[ReceivableInput, ...]:
    rows = [p.receivable for p in request.active_pledges]
    return tuple(
        ReceivableInput(invoice_no=r.invoice_no, debtor_name=r.debtor_name, debtor_uscc=r.debtor_uscc or "",
                        amount=r.face_amount, issue_date=r.issue_date, due_date=r.due_date,
                        confirmation=r.confirmation, contract_no=r.contract_no or "", **_confirmation_evidence(r))
        for r in sorted(rows, key=lambda r: r.id)
    )


def _confirmation_evidence(r: Receivable) -> dict:
    """Where the receivable's state comes from, for R1: the debtor's own act (link or account) and
    its time; while the debtor has not answered, the enterprise's declaration, if it made one."""
    if r.confirmation != "pending":
        return {"confirmation_source": r.confirmed_via or "", "confirmation_time": _local(r.confirmed_at)}
    if r.declared_confirmation:
        return {"confirmation_source": DECLARED, "confirmation_time": _local(r.declared_at),
                "declared": r.declared_confirmation}
    return {}


def _local(moment):
    return moment.astimezone(SHANGHAI) if moment is not None else None


def _receivables_digest(items: tuple[ReceivableInput, ...]) -> str:
    rows = [[r.invoice_no, r.debtor_name, r.debtor_uscc, f"{r.amount:.2f}", r.issue_date.isoformat(),
             r.due_date.isoformat(), r.confirmation, r.contract_no, r.confirmation_source,
             r.confirmation_time.isoformat() if r.confirmation_time else "", r.declared] for r in items]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


def enterprise_statements(enterprise_id: int) -> tuple[Statement, ...]:
    """The enterprise's uploaded statements with their rows, in two queries."""
    files = list(db.session.scalars(
        select(StatementFile).where(StatementFile.enterprise_id == enterprise_id).order_by(StatementFile.id)))
    rows: dict[int, list[Transaction]] = {f.id: [] for f in files}
    if files:
        t = StatementTransaction
        for statement_id, line, day, amount, balance, counterparty, account, summary in db.session.execute(
            select(t.statement_id, t.line, t.date, t.amount, t.balance, t.counterparty, t.counterparty_account,
                   t.summary)
            .where(t.statement_id.in_(rows)).order_by(t.statement_id, t.line)
        ):
            rows[statement_id].append(Transaction(line, day, amount, balance, counterparty or "", account or "",
                                                  summary or ""))
    return tuple(
        Statement(transactions=rows[f.id], bank=f.bank, account_no=f.account_no, account_name=f.account_name,
                  sha256=f.sha256)
        for f in files
    )


def other_active_pledges(request: FinancingRequest, items: tuple[ReceivableInput, ...]) -> frozenset:
    """(debtor credit code or name, invoice number) of the same invoices pledged in any other
    active request on the platform, whoever the creditor (R5)."""
    invoices = {r.invoice_no for r in items} | {r.invoice_no.replace(" ", "").upper() for r in items}
    if not invoices:
        return frozenset()
    rows = db.session.execute(
        select(Receivable.debtor_uscc, Receivable.debtor_name, Receivable.invoice_no)
        .join(RequestPledge, RequestPledge.receivable_id == Receivable.id)
        .join(FinancingRequest, FinancingRequest.id == RequestPledge.request_id)
        .where(RequestPledge.active, RequestPledge.request_id != request.id,
               FinancingRequest.state.in_([s.value for s in ACTIVE_STATES]),
               Receivable.invoice_no.in_(invoices))
    )
    return frozenset((uscc or name, invoice) for uscc, name, invoice in rows)


def related_parties(enterprise) -> tuple[str, ...]:
    """Names whose money is the enterprise's side, not a debtor's (red flag F2): its legal
    representative (for an individual business, the operator)."""
    name = (enterprise.legal_rep_name or "").strip()
    return (name,) if name else ()


def gather_inputs(request: FinancingRequest) -> Inputs:
    enterprise = request.enterprise
    items = receivable_inputs(request)
    return Inputs(
        enterprise=EnterpriseInput(enterprise.name, enterprise.uscc, related_parties=related_parties(enterprise)),
        receivables=items,
        statements=enterprise_statements(enterprise.id),
        other_active_pledges=other_active_pledges(request, items),
        receivables_sha256=_receivables_digest(items),
    )


def evaluate(request: FinancingRequest) -> tuple[Report, Inputs, Policy, str]:
    """The policy's report on the request as it stands (nothing is written)."""
    as_of = as_of_date(request)
    policy = current_policy(as_of)
    inputs = gather_inputs(request)
    report = verify(
        enterprise=inputs.enterprise, receivables=inputs.receivables, statements=inputs.statements,
        requested_amount=request.amount, as_of=as_of, policy=policy,
        other_active_pledges=inputs.other_active_pledges,
        statement_sha256s=[s.sha256 for s in inputs.statements], receivables_sha256=inputs.receivables_sha256,
    )
    return report, inputs, policy, inputs.digest(request, as_of, policy)


# the Celery task that runs run_verification (verification/tasks.py registers it under this name;
# enqueued by name, so this module does not import the task module that imports it)
VERIFY_TASK = "marketplace.verification.tasks.verify_request"
RENDER_PDF_TASK = "marketplace.verification.tasks.render_report_pdf"


def verification_key(request_id: int, submission_no: int) -> str:
    """The outbox key of a submission's verification (the stall sweeper counts its sends)."""
    return f"verify:{request_id}:{submission_no}"


def schedule_verification(request: FinancingRequest, submission_no: int | None = None) -> None:
    """Queue the verification of the request's latest submission through the outbox: recorded in
    this transaction, sent after the commit (eagerly run in the embedded mode)."""
    submission_no = submission_no or submission_number(request)
    outbox.enqueue(VERIFY_TASK, request.id, submission_no, key=verification_key(request.id, submission_no))


@request_transitioned.connect
def _on_transitioned(_request, *, event: RequestTransitioned) -> None:
    """An enterprise's submission (financing.services.submit_request asks for it) queues its
    verification; subscribed at app start."""
    if event.transition == "submit" and event.extra.get("queue_verification"):
        schedule_verification(event.request)


# ---- the run -----------------------------------------------------------------------------------

def _locked(request_id: int) -> FinancingRequest | None:
    """The request, its row locked until the transaction ends (PostgreSQL; SQLite locks the file
    on the first write)."""
    return db.session.scalar(
        select(FinancingRequest).where(FinancingRequest.id == request_id).with_for_update()
        .execution_options(populate_existing=True)
    )


def report_for(request_id: int, submission_no: int) -> VerificationReport | None:
    return db.session.scalar(select(VerificationReport).where(
        VerificationReport.request_id == request_id, VerificationReport.submission_no == submission_no))


def reports_of(request_id: int) -> list[VerificationReport]:
    """Every report of the request, latest first."""
    return list(db.session.scalars(select(VerificationReport).where(VerificationReport.request_id == request_id)
                                   .order_by(VerificationReport.submission_no.desc())))


def run_verification(request_id: int, submission_no: int) -> str:
    """Verify one submission and route the request; returns what happened (for logs and tests)."""
    request = _locked(request_id)
    if request is None:
        db.session.rollback()
        return "missing"
    if report_for(request_id, submission_no) is not None:
        db.session.rollback()
        return "already_done"
    if submission_number(request) != submission_no or request.state not in (State.SUBMITTED, State.VERIFYING):
        db.session.rollback()
        return "superseded"
    if request.state == State.SUBMITTED:
        apply_transition(request, "start_verification", submission_no=submission_no)
        db.session.commit()  # the request page shows "verifying" while the work goes on
    _pause_for_tests()

    request = _locked(request_id)  # a twin task may have finished meanwhile: look again, locked
    if report_for(request_id, submission_no) is not None or request.state != State.VERIFYING:
        db.session.rollback()
        return "already_done"
    row = verify_and_route(request, submission_no)
    db.session.commit()
    return row.classification


def verify_and_route(request: FinancingRequest, submission_no: int) -> VerificationReport:
    """Evaluate a request in `verifying`, store the report, mark it verified and route it, in the
    caller's transaction."""
    report, _inputs, _policy, digest = evaluate(request)
    row = store_report(request, submission_no, report, digest)
    routing.route_verified(request, row)
    return row


def store_report(request: FinancingRequest, submission_no: int, report: Report, digest: str) -> VerificationReport:
    row = VerificationReport(
        request_id=request.id, enterprise_id=request.enterprise_id, submission_no=submission_no,
        as_of=report.as_of, classification=report.classification, policy_version=report.policy_version,
        policy_effective_from=report.policy_effective_from, thresholds=dict(report.thresholds),
        inputs_sha256=digest, statement_sha256s=list(report.statement_sha256s),
        receivables_sha256=report.receivables_sha256, requested_amount=report.requested_amount,
        pledged_amount=report.pledged_amount, payload=report.to_dict(),
    )
    db.session.add(row)
    request.classification = report.classification
    db.session.flush()
    audit.record("verification.report", row, enterprise_id=request.enterprise_id, request_id=request.id,
                 classification=report.classification, policy_version=report.policy_version,
                 inputs_sha256=digest)
    apply_transition(request, "complete_verification", note=None, report_id=row.id)
    if _prerender_pdfs():
        outbox.enqueue(RENDER_PDF_TASK, row.id, key=f"report-pdf:{row.id}")
    return row


def _prerender_pdfs() -> bool:
    """REPORT_PDF_PRERENDER, or (unset) whether tasks go to a broker: in the embedded eager mode the
    render would run inside the request that stored the report."""
    configured = current_app.config.get("REPORT_PDF_PRERENDER")
    if configured is not None:
        return bool(configured)
    return not current_app.extensions["celery"].conf.task_always_eager


def _pause_for_tests() -> None:
    """VERIFICATION_PAUSE_SECONDS (0 by default) holds a run between its two transactions, so the
    redelivery test can kill a worker in the middle of a verification."""
    seconds = current_app.config.get("VERIFICATION_PAUSE_SECONDS") or 0
    if seconds:
        time.sleep(float(seconds))
