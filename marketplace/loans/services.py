"""After acceptance: the bank records the disbursement, the repayment schedule and the
repayments; instalments not paid by their due day are flagged once, as an audit event the
enterprise's credit file reads ("loan.overdue").

The arithmetic (the proposed schedule, the checks, the allocation of repayments) is pure and
lives in workflows.loans; these verbs load, check who acts, store, apply the request's
transitions (disburse, start_repayment, close) and notify. The caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace import audit
from marketplace.accounts.roles import Role
from marketplace.db import utcnow
from marketplace.desks.models import Offer
from marketplace.desks.people import enterprise_users, institution_staff
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.financing.services import apply_transition
from marketplace.formatting import local, today_shanghai
from marketplace.i18n import is_english, sentences
from marketplace.loans.models import Instalment, Loan, Repayment
from marketplace.notifications.services import notify
from workflows.financing import State
from workflows.loans import (
    Allocation,
    InstalmentState,
    Line,
    Payment,
    allocate,
    equal_principal_schedule,
    schedule_problems,
)

__all__ = [
    "LoanRefused", "record_disbursement", "record_schedule", "record_repayment", "allocation",
    "overdue_instalments", "flag_overdue", "equal_principal_schedule", "proposed_schedule", "loan_of", "summary",
    "accepted_offer",
]

BANK_ROLES = (Role.BANK_OFFICER, Role.BANK_APPROVER)
REFERENCE_MAX = 64


class LoanRefused(ValueError):
    """The loan action cannot be recorded; the message says why (in the user's language)."""


# ---- reading ---------------------------------------------------------------------------------

def loan_of(request_id: int) -> Loan | None:
    return db.session.scalar(select(Loan).where(Loan.request_id == request_id))


def accepted_offer(request_id: int, institution_id: int) -> Offer | None:
    """The institution's offer the enterprise accepted on the request, if any."""
    return db.session.scalar(select(Offer).where(Offer.request_id == request_id, Offer.institution_id == institution_id,
                                                 Offer.status == "accepted"))


def _lines(loan: Loan) -> list[Line]:
    return [Line(i.due_on, i.principal, i.interest) for i in loan.instalments]


def allocation(loan: Loan) -> Allocation:
    """The schedule with what the repayments paid of each instalment (workflows.loans rule)."""
    payments = [Payment(r.paid_on, r.amount) for r in sorted(loan.repayments, key=lambda r: r.id)]
    return allocate(_lines(loan), payments)


@dataclass
class LoanSummary:
    """What the loan pages show: each instalment with what was paid of it, and the totals."""

    loan: Loan
    rows: list[tuple[Instalment, InstalmentState]]
    outstanding: Decimal
    principal_outstanding: Decimal
    repaid: Decimal
    overdue: list[Instalment]


def summary(loan: Loan, today: date | None = None) -> LoanSummary:
    today = today or today_shanghai()
    result = allocation(loan)
    states = {s.line.due_on: s for s in result.instalments}
    rows = [(row, states[row.due_on]) for row in loan.instalments]
    return LoanSummary(loan, rows, result.outstanding if rows else loan.amount,
                       result.principal_outstanding if rows else loan.amount,
                       sum((r.amount for r in loan.repayments), Decimal("0.00")),
                       [row for row, state in rows if state.overdue(today) or row.overdue_flagged_at is not None])


def accepted_on(offer: Offer) -> date:
    """The day (Shanghai) the enterprise accepted the offer."""
    moment = offer.decided_at or offer.request.state_changed_at
    return local(moment).date()


def proposed_schedule(loan: Loan, months: int | None = 1) -> list[Line]:
    """The equal-principal schedule the schedule form starts from: the offer's rate and term,
    from the disbursement day."""
    offer = loan.offer
    return equal_principal_schedule(loan.amount, offer.annual_rate, loan.disbursed_on, offer.term_days, months)


# ---- checks ------------------------------------------------------------------------------------

def _require_bank_staff(user, institution_id: int) -> None:
    if user.role not in BANK_ROLES or user.organisation_id != institution_id:
        raise LoanRefused(_("只有放款银行的工作人员可以登记放款与还款"))


def _common_problems(amount: Decimal, day: date, reference: str, earliest: date, earliest_label: str) -> list[str]:
    problems = []
    if amount is None or amount <= 0:
        problems.append(_("金额必须大于零"))
    if day is None:
        problems.append(_("请填写日期"))
    elif day > today_shanghai():
        problems.append(_("日期不能晚于今天"))
    elif day < earliest:
        problems.append(_("日期不能早于%(label)s（%(day)s）", label=earliest_label, day=earliest.isoformat()))
    if not reference:
        problems.append(_("请填写业务流水号/凭证号"))
    elif len(reference) > REFERENCE_MAX:
        problems.append(_("流水号最多 %(n)s 个字符", n=REFERENCE_MAX))
    return problems


def _refuse_if(problems: list[str]) -> None:
    if problems:
        raise LoanRefused(sentences(problems))


def _lock(loan: Loan) -> Loan:
    """Serialise writers on one loan (two officers recording repayments, two sweeps) and re-read
    it, schedule and repayments included, as the lock holder sees it."""
    db.session.refresh(loan, with_for_update=True)
    return loan


# ---- the verbs -----------------------------------------------------------------------------------

def record_disbursement(offer: Offer, user, amount: Decimal, disbursed_on: date, reference: str) -> Loan:
    """The bank paid out on the accepted offer: at most the offer's amount, on a day between
    the acceptance and today. The request becomes disbursed; the enterprise is told."""
    _require_bank_staff(user, offer.institution_id)
    request: FinancingRequest = offer.request
    if offer.status != "accepted" or request.state != State.OFFER_ACCEPTED:
        raise LoanRefused(_("只有企业已接受、尚未放款的报价才能登记放款"))
    if loan_of(request.id) is not None:
        raise LoanRefused(_("该申请已登记放款"))
    reference = (reference or "").strip()
    problems = _common_problems(amount, disbursed_on, reference, accepted_on(offer), _("企业接受报价的日期"))
    if amount is not None and amount > offer.amount:
        problems.append(_("放款金额不能超过报价金额（¥%(amount)s）", amount=f"{offer.amount:,.2f}"))
    _refuse_if(problems)
    loan = Loan(request_id=request.id, offer_id=offer.id, institution_id=offer.institution_id, amount=amount,
                disbursed_on=disbursed_on, reference=reference, recorded_by_id=user.id)
    try:
        with db.session.begin_nested():
            db.session.add(loan)
            db.session.flush()
    except IntegrityError as error:  # a colleague recorded it a moment ago
        raise LoanRefused(_("该申请已登记放款")) from error
    apply_transition(request, "disburse", user, loan_id=loan.id, offer_id=offer.id, amount=amount,
                     disbursed_on=disbursed_on, reference=reference)
    notify(enterprise_users(request), "loan.disbursed", _("融资申请 #%(id)s 已放款", id=request.id),
           _("%(bank)s 于 %(day)s 放款 ¥%(amount)s（流水号 %(ref)s）。还款计划登记后可在借款页查看。",
             bank=offer.institution.name, day=disbursed_on.isoformat(), amount=f"{amount:,.2f}", ref=reference),
           url_for("loans.enterprise_loan", request_id=request.id))
    return loan


def record_schedule(loan: Loan, user, instalments: Iterable[tuple[date, Decimal, Decimal]]) -> list[Instalment]:
    """The repayment schedule, recorded once and whole: the principal adds up to the loan's
    amount to the fen, the due days increase strictly and all come after the disbursement
    (past days are allowed: the back office may catch up). The request starts repaying."""
    _require_bank_staff(user, loan.institution_id)
    request = loan.request
    if request.state != State.DISBURSED or loan.instalments:
        raise LoanRefused(_("还款计划已登记，或该申请尚未放款"))
    lines = [Line(due_on, principal, interest) for due_on, principal, interest in instalments]
    _refuse_if(schedule_problems(lines, loan.amount, loan.disbursed_on, "en" if is_english() else "zh"))
    rows = [Instalment(loan=loan, due_on=line.due_on, principal=line.principal, interest=line.interest)
            for line in lines]
    db.session.add_all(rows)
    db.session.flush()
    total_interest = sum((line.interest for line in lines), Decimal("0.00"))
    apply_transition(request, "start_repayment", user, facts={"schedule_recorded": True}, loan_id=loan.id,
                     instalments=len(rows), first_due_on=lines[0].due_on, last_due_on=lines[-1].due_on,
                     principal=loan.amount, interest=total_interest)
    notify(enterprise_users(request), "loan.schedule", _("融资申请 #%(id)s 的还款计划已登记", id=request.id),
           _("共 %(n)s 期，首期 %(first)s 到期，末期 %(last)s 到期；本金 ¥%(principal)s，利息 ¥%(interest)s。",
             n=len(rows), first=lines[0].due_on.isoformat(), last=lines[-1].due_on.isoformat(),
             principal=f"{loan.amount:,.2f}", interest=f"{total_interest:,.2f}"),
           url_for("loans.enterprise_loan", request_id=request.id))
    return rows


def record_repayment(loan: Loan, user, paid_on: date, amount: Decimal, reference: str) -> Repayment:
    """Money the enterprise paid back: positive, at most what is still owed under the schedule,
    paid between the disbursement and today. Paying the last fen closes the request."""
    _require_bank_staff(user, loan.institution_id)
    loan = _lock(loan)
    request = loan.request
    if request.state != State.REPAYING:
        raise LoanRefused(_("只有进入还款阶段（已登记还款计划）且未结清的借款才能登记还款"))
    reference = (reference or "").strip()
    problems = _common_problems(amount, paid_on, reference, loan.disbursed_on, _("放款日"))
    owed = allocation(loan).outstanding
    if amount is not None and amount > owed:
        problems.append(_("还款金额不能超过尚欠金额（¥%(amount)s）", amount=f"{owed:,.2f}"))
    _refuse_if(problems)
    repayment = Repayment(loan=loan, paid_on=paid_on, amount=amount, reference=reference, recorded_by_id=user.id)
    db.session.add(repayment)
    db.session.flush()
    left = allocation(loan).outstanding
    audit.record("loan.repayment", repayment, enterprise_id=request.enterprise_id, actor=user, loan_id=loan.id,
                 request_id=request.id, paid_on=paid_on, amount=amount, reference=reference, outstanding=left)
    link = url_for("loans.enterprise_loan", request_id=request.id)
    if left == 0:
        # a late payment that settles the loan is still a late payment: report it before closing
        _flag_loan(loan, today_shanghai())
        apply_transition(request, "close", user, facts={"fully_repaid": True}, loan_id=loan.id)
        notify(enterprise_users(request) + institution_staff(loan.institution_id, BANK_ROLES), "loan.closed",
               _("融资申请 #%(id)s 已结清", id=request.id),
               _("%(day)s 收到最后一笔还款 ¥%(amount)s，借款已全部还清。", day=paid_on.isoformat(),
                 amount=f"{amount:,.2f}"), link)
    else:
        notify(enterprise_users(request), "loan.repayment", _("融资申请 #%(id)s 的还款已登记", id=request.id),
               _("%(day)s 还款 ¥%(amount)s，尚欠 ¥%(left)s。", day=paid_on.isoformat(), amount=f"{amount:,.2f}",
                 left=f"{left:,.2f}"), link)
    return repayment


# ---- overdue -------------------------------------------------------------------------------------

def _repaying_loans(today: date) -> list[Loan]:
    """Loans still being repaid with an instalment whose due day has passed."""
    return list(db.session.scalars(
        select(Loan).join(FinancingRequest, FinancingRequest.id == Loan.request_id)
        .where(FinancingRequest.state == State.REPAYING,
               Loan.id.in_(select(Instalment.loan_id).where(Instalment.due_on < today)))
        .order_by(Loan.id)))


def _overdue_of(loan: Loan, today: date) -> list[tuple[Instalment, InstalmentState]]:
    states = {s.line.due_on: s for s in allocation(loan).instalments}
    return [(row, states[row.due_on]) for row in loan.instalments if states[row.due_on].overdue(today)]


def overdue_instalments(today: date | None = None) -> list[Instalment]:
    """Instalments of loans being repaid that are overdue on `today`, flagged already or not."""
    today = today or today_shanghai()
    return [row for loan in _repaying_loans(today) for row, _state in _overdue_of(loan, today)]


def flag_overdue(today: date | None = None) -> list[Instalment]:
    """Flag every overdue instalment once: the column, one "loan.overdue" audit event naming
    the enterprise (the credit file's fact), and a notice to the enterprise and the bank.

    Idempotent: each loan is locked and re-read before flagging, and an instalment already
    flagged is skipped, so a second or concurrent run adds nothing.
    """
    today = today or today_shanghai()
    flagged: list[Instalment] = []
    for loan in _repaying_loans(today):
        flagged += _flag_loan(_lock(loan), today)
    return flagged


def _flag_loan(loan: Loan, today: date) -> list[Instalment]:
    request = loan.request
    now = utcnow()
    fresh = [(row, state) for row, state in _overdue_of(loan, today) if row.overdue_flagged_at is None]
    for row, state in fresh:
        row.overdue_flagged_at = now
        audit.record("loan.overdue", row, enterprise_id=request.enterprise_id, actor=None, purpose="credit file",
                     loan_id=loan.id, request_id=request.id, institution_id=loan.institution_id,
                     due_on=row.due_on, principal=row.principal, interest=row.interest,
                     unpaid=state.unpaid, paid_late_on=state.covered_on, days_overdue=_days_late(state, today))
    if not fresh:
        return []
    db.session.flush()
    days = "、".join(row.due_on.isoformat() for row, _state in fresh)
    unpaid = sum((state.unpaid for _row, state in fresh), Decimal("0.00"))
    late = (_("%(days)s 到期的还款未按时还清（尚欠 ¥%(unpaid)s）", days=days, unpaid=f"{unpaid:,.2f}") if unpaid
            else _("%(days)s 到期的还款晚于到期日才还清", days=days))
    notify(enterprise_users(request), "loan.overdue", _("融资申请 #%(id)s 有逾期还款", id=request.id),
           _("%(late)s，逾期记录将计入企业信用档案。如有疑问请与 %(bank)s 联系。", late=late,
             bank=loan.offer.institution.name),
           url_for("loans.enterprise_loan", request_id=request.id))
    notify(institution_staff(loan.institution_id, BANK_ROLES), "loan.overdue",
           _("逾期：%(enterprise)s（申请 #%(id)s）", enterprise=request.enterprise.name, id=request.id),
           _("%(late)s，已记入企业信用档案。", late=late),
           url_for("loans.institution_loan", request_id=request.id))
    return [row for row, _state in fresh]


def _days_late(state: InstalmentState, today: date) -> int:
    return ((state.covered_on or today) - state.line.due_on).days

