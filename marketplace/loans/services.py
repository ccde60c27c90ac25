"""After acceptance: the bank records the disbursement, the repayment schedule, the repayments
and early repayments (a prepayment of part of the principal, or a payoff). Overdue tracking,
run by the daily task and after every repayment, keeps each instalment's history: the first
day it was past due (`overdue_since`) and the day a late payment cured it (`cured_on`); each
is an audit event naming the enterprise, which its credit file reads ("loan.overdue",
"loan.overdue_cured"). An instalment is reported overdue once (`overdue_flagged_at`).

The arithmetic (the proposed schedule, the checks, the allocation of repayments, days past
due, the prepayment plan) is pure and lives in workflows.loans; these verbs load, check who
acts, store, apply the request's transitions (disburse, start_repayment, close) and notify.
The caller commits.
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

from marketplace import audit, events
from marketplace.accounts.people import enterprise_users, institution_staff
from marketplace.accounts.roles import Role
from marketplace.db import utcnow
from marketplace.desks.models import Offer
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.financing.services import apply_transition
from marketplace.formatting import local, today_shanghai
from marketplace.i18n import is_english, sentences
from marketplace.loans.models import Instalment, Loan, Repayment
from marketplace.notifications.messages import later, listing
from marketplace.notifications.services import notify
from marketplace.workcalendar.services import working_calendar
from workflows.financing import State
from workflows.loans import (
    PAYOFF,
    PREPAYMENT,
    Allocation,
    InstalmentState,
    Line,
    Payment,
    PrepaymentPlan,
    PrepaymentRefused,
    RestructureRefused,
    allocate,
    dpd_bucket,
    equal_principal_schedule,
    prepayment_plan,
    restructure_plan,
    schedule_problems,
)

__all__ = [
    "LoanRefused", "record_disbursement", "record_schedule", "record_repayment", "record_prepayment", "allocation",
    "overdue_instalments", "flag_overdue", "equal_principal_schedule", "proposed_schedule",
    "loan_of", "summary", "accepted_offer", "prepayment_quote", "PAYOFF", "record_restructuring",
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
    return [Line(i.due_on, i.principal, i.interest, i.kind) for i in loan.schedule]


def _payments(loan: Loan) -> list[Payment]:
    return [Payment(r.paid_on, r.amount) for r in sorted(loan.repayments, key=lambda r: r.id)]


def due_by_rule(loan: Loan):
    """The day an instalment due on a day must be paid by: the next working day (the configured
    public holidays and make-up working days) when the offer's terms roll due days; else None."""
    if not loan.roll_to_working_day:
        return None
    return working_calendar().next_working_day


def allocation(loan: Loan) -> Allocation:
    """The schedule with what the repayments paid of each instalment (workflows.loans rule),
    in the order of loan.schedule."""
    return allocate(_lines(loan), _payments(loan), due_by_rule(loan))


@dataclass
class LoanSummary:
    """What the loan pages and the API show: each current instalment with what was paid of it,
    the totals, and the days past due on `today`."""

    loan: Loan
    today: date
    rows: list[tuple[Instalment, InstalmentState]]
    outstanding: Decimal
    principal_outstanding: Decimal
    repaid: Decimal
    fees: Decimal
    overdue: list[Instalment]  # past due today (a cured instalment is not)
    arrears: Decimal
    days_past_due: int
    max_days_late: int

    @property
    def bucket(self) -> str | None:
        return dpd_bucket(self.days_past_due)

    @property
    def worst_bucket(self) -> str | None:
        return dpd_bucket(self.max_days_late)

    @property
    def history(self) -> list[Instalment]:
        """Instalments that were ever past due (cured or not), with their dates."""
        return [row for row, state in self.rows if state.was_late(self.today)]

    @property
    def status(self) -> str:
        """no_schedule, current, past_due or repaid."""
        if not self.rows:
            return "no_schedule"
        if self.outstanding == 0:
            return "repaid"
        return "past_due" if self.days_past_due else "current"


def summary(loan: Loan, today: date | None = None) -> LoanSummary:
    today = today or today_shanghai()
    result = allocation(loan)
    rows = list(zip(loan.schedule, result.instalments, strict=True))
    return LoanSummary(loan, today, rows, result.outstanding if rows else loan.amount,
                       result.principal_outstanding if rows else loan.amount,
                       sum((r.amount for r in loan.repayments), Decimal("0.00")),
                       sum((r.fee for r in loan.repayments), Decimal("0.00")),
                       [row for row, state in rows if state.past_due(today)], result.arrears(today),
                       result.days_past_due(today), result.max_days_late(today))


@dataclass
class RepaymentLine:
    """A repayment with what it paid of each instalment (numbers 1-based in schedule order)."""

    repayment: Repayment
    splits: list[tuple[int, Decimal, Decimal]]  # (instalment number, interest, principal)


def statement(loan: Loan, today: date | None = None) -> tuple[LoanSummary, list[RepaymentLine]]:
    """The statement of account (还款明细): the summary, and each repayment, in paid order, with
    its allocation to the instalments (workflows.loans rule)."""
    totals = summary(loan, today)
    ordered = sorted(loan.repayments, key=lambda r: r.id)  # as allocation() passes them
    result = allocation(loan)
    lines = {r.id: RepaymentLine(r, []) for r in ordered}
    for split in result.splits:
        lines[ordered[split.payment].id].splits.append((split.instalment + 1, split.interest, split.principal))
    return totals, sorted(lines.values(), key=lambda line: (line.repayment.paid_on, line.repayment.id))


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
    return problems + _day_and_reference_problems(day, reference, earliest, earliest_label)


def _day_and_reference_problems(day: date, reference: str, earliest: date, earliest_label: str) -> list[str]:
    problems = []
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
                disbursed_on=disbursed_on, reference=reference, recorded_by_id=user.id,
                roll_to_working_day=offer.roll_to_working_day)
    try:
        with db.session.begin_nested():
            db.session.add(loan)
            db.session.flush()
    except IntegrityError as error:  # a colleague recorded it a moment ago
        raise LoanRefused(_("该申请已登记放款")) from error
    apply_transition(request, "disburse", user, loan_id=loan.id, offer_id=offer.id, amount=amount,
                     disbursed_on=disbursed_on, reference=reference)
    notify(enterprise_users(request), "loan.disbursed", later("融资申请 #%(id)s 已放款", id=request.id),
           later("%(bank)s 于 %(day)s 放款 ¥%(amount)s（流水号 %(ref)s）。还款计划登记后可在借款页查看。",
             bank=offer.institution.name, day=disbursed_on.isoformat(), amount=f"{amount:,.2f}", ref=reference),
           url_for("loans.enterprise_loan", request_id=request.id))
    return loan


def record_schedule(loan: Loan, user, instalments: Iterable[tuple[date, Decimal, Decimal]]) -> list[Instalment]:
    """The repayment schedule, recorded once and whole: the principal adds up to the loan's
    amount to the fen, the due days increase strictly and all come after the disbursement
    (past days are allowed: the back office may catch up). Whether an instalment due on a day
    off is payable on the next working day is the accepted offer's term
    (Offer.roll_to_working_day), copied onto the loan here, not chosen by the bank now. The
    request starts repaying."""
    _require_bank_staff(user, loan.institution_id)
    request = loan.request
    if request.state != State.DISBURSED or loan.instalments:
        raise LoanRefused(_("还款计划已登记，或该申请尚未放款"))
    lines = [Line(due_on, principal, interest) for due_on, principal, interest in instalments]
    _refuse_if(schedule_problems(lines, loan.amount, loan.disbursed_on, "en" if is_english() else "zh"))
    loan.roll_to_working_day = bool(loan.offer.roll_to_working_day)
    rows = [Instalment(loan=loan, due_on=line.due_on, principal=line.principal, interest=line.interest)
            for line in lines]
    db.session.add_all(rows)
    db.session.flush()
    total_interest = sum((line.interest for line in lines), Decimal("0.00"))
    apply_transition(request, "start_repayment", user, facts={"schedule_recorded": True}, loan_id=loan.id,
                     instalments=len(rows), first_due_on=lines[0].due_on, last_due_on=lines[-1].due_on,
                     principal=loan.amount, interest=total_interest, roll_to_working_day=loan.roll_to_working_day)
    notify(enterprise_users(request), "loan.schedule", later("融资申请 #%(id)s 的还款计划已登记", id=request.id),
           later("共 %(n)s 期，首期 %(first)s 到期，末期 %(last)s 到期；本金 ¥%(principal)s，利息 ¥%(interest)s。",
             n=len(rows), first=lines[0].due_on.isoformat(), last=lines[-1].due_on.isoformat(),
             principal=f"{loan.amount:,.2f}", interest=f"{total_interest:,.2f}"),
           url_for("loans.enterprise_loan", request_id=request.id))
    return rows


def _last_early_repayment(loan: Loan) -> date | None:
    return max((r.paid_on for r in loan.repayments if r.kind != "regular"), default=None)


def record_repayment(loan: Loan, user, paid_on: date, amount: Decimal, reference: str) -> Repayment:
    """Money the enterprise paid back: positive, at most what is still owed under the schedule,
    paid between the disbursement and today, and not before an early repayment already
    recorded (the schedule after it was recomputed from that day). The instalments' overdue
    history follows at once (a late payment cures); paying the last fen closes the request."""
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
    early = _last_early_repayment(loan)
    if paid_on is not None and early is not None and paid_on < early:
        problems.append(_("还款日期不能早于已登记的提前还款日（%(day)s）", day=early.isoformat()))
    _refuse_if(problems)
    repayment = Repayment(loan=loan, paid_on=paid_on, amount=amount, reference=reference, recorded_by_id=user.id)
    db.session.add(repayment)
    db.session.flush()
    left = allocation(loan).outstanding
    audit.record("loan.repayment", repayment, enterprise_id=request.enterprise_id, actor=user, loan_id=loan.id,
                 request_id=request.id, paid_on=paid_on, amount=amount, reference=reference, outstanding=left)
    _after_payment(loan, user, repayment, left)
    return repayment


def _after_payment(loan: Loan, user, repayment: Repayment, left: Decimal) -> None:
    """Bring the overdue history up to the payment's day (a late payment cures, and one that
    settles the loan is still a late payment: reported before closing; instalments falling due
    after that day are the daily sweep's), then close the request or tell the enterprise."""
    request = loan.request
    _track_loan(loan, repayment.paid_on)
    events.credit_input(request.enterprise_id, "loan.repayment" if repayment.kind == "regular" else f"loan.{repayment.kind}")  # the credit file regrades
    link = url_for("loans.enterprise_loan", request_id=request.id)
    paid = repayment.amount + repayment.fee
    if left == 0:
        apply_transition(request, "close", user, facts={"fully_repaid": True}, loan_id=loan.id)
        notify(enterprise_users(request) + institution_staff(loan.institution_id, BANK_ROLES), "loan.closed",
               later("融资申请 #%(id)s 已结清", id=request.id),
               later("%(day)s 收到最后一笔还款 ¥%(amount)s，借款已全部还清。", day=repayment.paid_on.isoformat(),
                 amount=f"{paid:,.2f}"), link)
    else:
        notify(enterprise_users(request), "loan.repayment", later("融资申请 #%(id)s 的还款已登记", id=request.id),
               later("%(day)s 还款 ¥%(amount)s，尚欠 ¥%(left)s。", day=repayment.paid_on.isoformat(),
                 amount=f"{paid:,.2f}", left=f"{left:,.2f}"), link)


# ---- early repayment ---------------------------------------------------------------------------

def _prepayment_message(error: PrepaymentRefused) -> str:
    p = error.params
    messages = {
        "before_disbursement": lambda: _("提前还款日期不能早于放款日（%(day)s）", day=p["day"]),
        "before_last_repayment": lambda: _("提前还款日期不能早于已登记的最后一笔还款（%(day)s）", day=p["day"]),
        "same_day": lambda: _("同一天只能登记一笔提前还款"),
        "bad_fee_rate": lambda: _("提前还款手续费率须在 0 至 %(high)s%% 之间，最多两位小数", high=p["high"]),
        "nothing_ahead": lambda: _("该日之后已没有未到期的本金，无需提前还款"),
        "bad_principal": lambda: _("提前还款本金必须大于零，最多两位小数"),
        "too_much": lambda: _("提前还款本金不能超过未到期本金（¥%(amount)s）", amount=f"{p['outstanding']:,.2f}"),
        "paid_ahead": lambda: _("已还金额足以覆盖该笔提前还款，无需再付款"),
    }
    return messages[error.code]() if error.code in messages else str(error)


def _plan(loan: Loan, paid_on: date, principal: Decimal | None) -> PrepaymentPlan:
    """The early repayment under the accepted offer's terms: its rate, and its fee rate."""
    try:
        return prepayment_plan(_lines(loan), _payments(loan), loan.disbursed_on, loan.offer.annual_rate, paid_on,
                               principal, loan.offer.prepayment_fee_rate)
    except PrepaymentRefused as error:
        raise LoanRefused(_prepayment_message(error)) from None


def prepayment_quote(loan: Loan, paid_on: date | None = None,
                     principal: Decimal | None = PAYOFF) -> PrepaymentPlan | None:
    """What an early repayment (a payoff by default) on `paid_on` (today) would take, the
    offer's fee included, or None when none can be recorded (not repaying, nothing ahead, a
    repayment dated later...)."""
    if loan.request.state != State.REPAYING or not loan.schedule:
        return None
    try:
        return _plan(loan, paid_on or today_shanghai(), principal)
    except LoanRefused:
        return None


def record_prepayment(loan: Loan, user, paid_on: date, principal: Decimal | None, reference: str,
                      expected_fee: Decimal | None = None) -> Repayment:
    """An early repayment on `paid_on` of `principal` (PAYOFF, i.e. None: all of it), as
    workflows.loans.prepayment_plan computes it under the accepted offer's terms: the arrears,
    the principal and the interest accrued up to the day are paid now, and on top the offer's
    fee (Offer.prepayment_fee_rate x the principal repaid early, half up to the fen; none when
    the rate is 0); the scheduled lines due after the day are superseded (kept, stamped) and
    replaced by the recomputed ones, or by none after a payoff, which closes the request.
    `expected_fee` (the API's optional `fee`): the fee the caller expects; the bank does not set
    the fee, so a different value is refused. Refused, with nothing changed: a day before the
    disbursement, in the future or before a recorded repayment; a principal above what is
    outstanding; a fee other than the offer's; a loan not being repaid."""
    _require_bank_staff(user, loan.institution_id)
    loan = _lock(loan)
    request = loan.request
    if request.state != State.REPAYING:
        raise LoanRefused(_("只有进入还款阶段（已登记还款计划）且未结清的借款才能登记提前还款"))
    reference = (reference or "").strip()
    problems = _day_and_reference_problems(paid_on, reference, loan.disbursed_on, _("放款日"))
    if principal is not PAYOFF and principal <= 0:
        problems.append(_("提前还款本金必须大于零，最多两位小数"))
    _refuse_if(problems)
    plan = _plan(loan, paid_on, principal)
    if expected_fee is not None and expected_fee != plan.fee:
        raise LoanRefused(_("提前还款手续费按报价条件（提前还款本金的 %(rate)s%%）应为 ¥%(fee)s，与所填 ¥%(given)s 不符",
                            rate=loan.offer.prepayment_fee_rate, fee=f"{plan.fee:,.2f}", given=f"{expected_fee:,.2f}"))
    now = utcnow()
    old = [(row.due_on.isoformat(), str(row.principal), str(row.interest)) for row in loan.schedule
           if row.kind != PREPAYMENT and row.due_on > paid_on]
    for row in loan.schedule:
        if row.kind != PREPAYMENT and row.due_on > paid_on:
            row.superseded_at = now
            if row.overdue_since is not None:  # the back-dated early repayment settled it in time
                audit.record("loan.overdue_withdrawn", row, enterprise_id=request.enterprise_id, actor=user,
                             purpose="credit file", loan_id=loan.id, request_id=request.id,
                             institution_id=loan.institution_id, due_on=row.due_on,
                             overdue_since=row.overdue_since, superseded_by_prepayment_on=paid_on)
                row.overdue_since = row.cured_on = row.overdue_flagged_at = None
    db.session.flush()  # the superseded lines leave the current schedule before their successors arrive
    new = [Instalment(loan=loan, due_on=plan.line.due_on, principal=plan.line.principal,
                      interest=plan.line.interest, kind=PREPAYMENT),
           *(Instalment(loan=loan, due_on=line.due_on, principal=line.principal, interest=line.interest,
                        kind=line.kind) for line in plan.remaining)]
    db.session.add_all(new)
    repayment = Repayment(loan=loan, paid_on=paid_on, amount=plan.amount, fee=plan.fee, reference=reference,
                          recorded_by_id=user.id, kind="payoff" if plan.payoff else "prepayment")
    db.session.add(repayment)
    db.session.flush()
    left = allocation(loan).outstanding
    audit.record("loan.prepayment", repayment, enterprise_id=request.enterprise_id, actor=user, loan_id=loan.id,
                 request_id=request.id, paid_on=paid_on, kind=repayment.kind, amount=plan.amount, fee=plan.fee,
                 fee_rate=loan.offer.prepayment_fee_rate,
                 principal=plan.line.principal, interest=plan.line.interest, arrears=plan.arrears,
                 paid_ahead=plan.paid_ahead, reference=reference, outstanding=left, replaced=old,
                 schedule=[(line.due_on.isoformat(), str(line.principal), str(line.interest))
                           for line in plan.remaining])
    _after_payment(loan, user, repayment, left)
    return repayment


# ---- restructuring ------------------------------------------------------------------------------

def _restructure_message(code: str, p: dict) -> str:
    messages = {
        "not_in_arrears": lambda: _("只有逾期（有到期未还的一期）的借款才能重组还款计划"),
        "empty": lambda: _("新还款计划至少需要一期"),
        "due_order": lambda: _("第%(n)s行：到期日须晚于 %(day)s", n=p["row"], day=p["day"]),
        "negative": lambda: _("第%(n)s行：本金和利息不能为负数", n=p["row"]),
        "zero": lambda: _("第%(n)s行：本金与利息不能同时为零", n=p["row"]),
        "decimals": lambda: _("第%(n)s行：金额最多两位小数", n=p["row"]),
        "principal": lambda: _("新计划各期本金合计 ¥%(principal)s 须等于尚欠本金 ¥%(outstanding)s",
                               principal=f"{p['principal']:,.2f}", outstanding=f"{p['outstanding']:,.2f}"),
    }
    return messages[code]() if code in messages else code


def proposed_restructuring(loan: Loan, today: date | None = None) -> list[Line]:
    """What the restructuring form starts from: the principal outstanding in equal monthly
    instalments from today to the old schedule's last due day (at least 30 days), at the offer's
    rate, the interest still unpaid on the old instalments added to the first new one."""
    today = today or today_shanghai()
    result = allocation(loan)
    principal = result.principal_outstanding
    if principal <= 0:
        return []
    last = max((s.line.due_on for s in result.instalments), default=today)
    lines = equal_principal_schedule(principal, loan.offer.annual_rate, today, max((last - today).days, 30))
    unpaid_interest = sum((s.line.interest - s.interest_paid for s in result.instalments), Decimal("0.00"))
    first = lines[0]
    return [Line(first.due_on, first.principal, first.interest + unpaid_interest), *lines[1:]]


def record_restructuring(loan: Loan, user, instalments: Iterable[tuple[date, Decimal, Decimal]],
                         note: str = "") -> list[Instalment]:
    """A new schedule the bank agreed for a loan in arrears (workflows.loans.restructure_plan):
    the instalments not paid in full are superseded (kept, with their overdue history), the part
    already paid of a partly paid one stays as a line of its own, and the new lines, marked
    `restructured`, carry exactly the principal outstanding. The overdue history is brought up
    to today first; a "loan.restructured" audit event tells the credit file (the arrears and
    days past due at the time, the old and new lines). Refused, nothing changed: a loan not in
    arrears, a schedule that does not cover the outstanding principal, bad rows."""
    _require_bank_staff(user, loan.institution_id)
    loan = _lock(loan)
    request = loan.request
    if request.state != State.REPAYING:
        raise LoanRefused(_("只有进入还款阶段且未结清的借款才能重组还款计划"))
    today = today_shanghai()
    new_lines = [Line(due_on, principal, interest) for due_on, principal, interest in instalments]
    try:
        plan = restructure_plan(_lines(loan), _payments(loan), today, new_lines, due_by_rule(loan))
    except RestructureRefused as refused:
        raise LoanRefused(sentences([_restructure_message(code, params) for code, params in refused.problems])) \
            from None
    _track_loan(loan, today)  # the history up to today belongs to the old schedule
    now = utcnow()
    current = loan.schedule
    open_rows = current[len(plan.kept):]
    old = [(row.due_on.isoformat(), row.kind, str(row.principal), str(row.interest)) for row in open_rows]
    settled_from = open_rows[0] if plan.settled is not None else None
    for row in open_rows:
        row.superseded_at = now
    db.session.flush()
    rows = []
    if plan.settled is not None:
        rows.append(Instalment(loan=loan, due_on=plan.settled.due_on, principal=plan.settled.principal,
                               interest=plan.settled.interest, kind=plan.settled.kind))
    rows += [Instalment(loan=loan, due_on=line.due_on, principal=line.principal, interest=line.interest,
                        kind=line.kind) for line in plan.new]
    db.session.add_all(rows)
    db.session.flush()
    if plan.settled is not None:
        # the part paid of the partly paid instalment: if it was paid after the due day, it keeps
        # its original's overdue history (already reported), cured on the day of its last payment
        row, state = next((r, s) for r, s in summary(loan, today).rows if r is rows[0])
        if state.was_late(today):
            row.overdue_since = settled_from.overdue_since or state.overdue_since(today)
            row.overdue_flagged_at = settled_from.overdue_flagged_at
            row.cured_on = state.cured_on(today)
            db.session.flush()
    audit.record("loan.restructured", loan, enterprise_id=request.enterprise_id, actor=user, purpose="credit file",
                 loan_id=loan.id, request_id=request.id, institution_id=loan.institution_id, on=today,
                 arrears=plan.arrears, days_past_due=plan.days_past_due,
                 principal_outstanding=plan.principal_outstanding, replaced=old, note=(note or "").strip(),
                 schedule=[(line.due_on.isoformat(), str(line.principal), str(line.interest)) for line in plan.new])
    events.credit_input(request.enterprise_id, "loan.restructured")
    link = url_for("loans.enterprise_loan", request_id=request.id)
    notify(enterprise_users(request), "loan.restructured", later("融资申请 #%(id)s 的还款计划已重组", id=request.id),
           later("%(bank)s 与贵公司约定了新的还款计划：共 %(n)s 期，尚欠本金 ¥%(principal)s。原计划及逾期记录保留，"
             "重组记录将计入企业信用档案。", bank=loan.offer.institution.name, n=len(plan.new),
             principal=f"{plan.principal_outstanding:,.2f}"), link)
    return rows


# ---- overdue ---------------------------------------------------------------------------------

def _repaying_loans(today: date) -> list[Loan]:
    """Loans still being repaid with a current instalment whose due day has passed."""
    return list(db.session.scalars(
        select(Loan).join(FinancingRequest, FinancingRequest.id == Loan.request_id)
        .where(FinancingRequest.state == State.REPAYING,
               Loan.id.in_(select(Instalment.loan_id).where(Instalment.due_on < today,
                                                            Instalment.superseded_at.is_(None))))
        .order_by(Loan.id)))


def overdue_instalments(today: date | None = None) -> list[Instalment]:
    """Instalments of loans being repaid that are past due on `today`, flagged already or not."""
    today = today or today_shanghai()
    return [row for loan in _repaying_loans(today) for row in summary(loan, today).overdue]


def flag_overdue(today: date | None = None) -> list[Instalment]:
    """The daily sweep: bring every loan's overdue history up to `today` (track_overdue) and
    return the instalments newly reported overdue.

    Idempotent: each loan is locked and re-read first, and each fact is recorded only while its
    column is empty, so a second or concurrent run adds nothing.
    """
    today = today or today_shanghai()
    flagged: list[Instalment] = []
    for loan in _repaying_loans(today):
        flagged += _track_loan(_lock(loan), today)
    return flagged


def _track_loan(loan: Loan, today: date) -> list[Instalment]:
    """One loan's overdue history on `today`, for each current instalment:

    - past due, or paid late: `overdue_since` = the first day past due (its due-by day + 1,
      whenever the sweep notices), and, once, the report to the credit file
      (`overdue_flagged_at`, a "loan.overdue" audit event, notices to the enterprise and bank);
    - paid in full after its due-by day: `cured_on` = the day of the covering payment and a
      "loan.overdue_cured" audit event with the days it was late;
    - recorded overdue but a back-dated repayment shows it paid in time: the overdue dates are
      cleared and a "loan.overdue_withdrawn" audit event tells the credit file.
    Returns the instalments newly reported overdue.
    """
    request = loan.request
    now = utcnow()
    fresh: list[tuple[Instalment, InstalmentState]] = []
    changed = False
    facts = dict(enterprise_id=request.enterprise_id, actor=None, purpose="credit file", loan_id=loan.id,
                 request_id=request.id, institution_id=loan.institution_id)
    for row, state in summary(loan, today).rows:
        changed = changed or state.past_due(today)  # still past due: its days (and bucket) grew
        if state.was_late(today):
            if row.overdue_since is None:
                row.overdue_since = state.overdue_since(today)
            if row.overdue_flagged_at is None:
                row.overdue_flagged_at = now
                changed = True
                fresh.append((row, state))
                audit.record("loan.overdue", row, **facts, due_on=row.due_on, due_by=state.due_by,
                             overdue_since=row.overdue_since, principal=row.principal, interest=row.interest,
                             unpaid=state.unpaid, paid_late_on=state.covered_on, days_overdue=state.days_late(today))
            cured = state.cured_on(today)
            if cured is not None and row.cured_on is None:
                row.cured_on = cured
                changed = True
                audit.record("loan.overdue_cured", row, **facts, due_on=row.due_on, due_by=state.due_by,
                             overdue_since=row.overdue_since, cured_on=cured, days_late=state.days_late(today))
        elif row.overdue_since is not None:
            audit.record("loan.overdue_withdrawn", row, **facts, due_on=row.due_on, overdue_since=row.overdue_since,
                         covered_on=state.covered_on)
            row.overdue_since = row.cured_on = row.overdue_flagged_at = None
            changed = True
    db.session.flush()
    if changed:
        events.credit_input(request.enterprise_id, "loan.overdue")  # the credit file regrades
    if fresh:
        _notify_overdue(loan, fresh)
    return [row for row, _state in fresh]


def _notify_overdue(loan: Loan, fresh: list[tuple[Instalment, InstalmentState]]) -> None:
    request = loan.request
    days = listing(row.due_on.isoformat() for row, _state in fresh)
    unpaid = sum((state.unpaid for _row, state in fresh), Decimal("0.00"))
    late = (later("%(days)s 到期的还款未按时还清（尚欠 ¥%(unpaid)s）", days=days, unpaid=f"{unpaid:,.2f}") if unpaid
            else later("%(days)s 到期的还款晚于到期日才还清", days=days))
    notify(enterprise_users(request), "loan.overdue", later("融资申请 #%(id)s 有逾期还款", id=request.id),
           later("%(late)s，逾期记录将计入企业信用档案。如有疑问请与 %(bank)s 联系。", late=late,
             bank=loan.offer.institution.name),
           url_for("loans.enterprise_loan", request_id=request.id))
    notify(institution_staff(loan.institution_id, BANK_ROLES), "loan.overdue",
           later("逾期：%(enterprise)s（申请 #%(id)s）", enterprise=request.enterprise.name, id=request.id),
           later("%(late)s，已记入企业信用档案。", late=late),
           url_for("loans.institution_loan", request_id=request.id))
