"""The red, white and yellow lists (issue 14 item 4, design.md sections 3 and 8), pure: plain
facts about one enterprise in, at most one list with its reasons in Chinese and English out.

- **yellow** (黄名单, malicious evasion of bank debt): a loan on the platform more than
  YELLOW_DAYS_PAST_DUE days past due (the "90+" bucket: 91 days and more) with no repayment for
  YELLOW_DAYS_WITHOUT_REPAYMENT days (the last one that many days or more before the evaluation
  date, or none at all); or an active court record of a dishonest judgment debtor
  (失信被执行人) that has not ended by the evaluation date.
- **red** (红名单, borrowers that repay well): had a loan on the platform within the
  WINDOW_YEARS years before the evaluation date, every instalment of those loans paid no more
  than GRACE_DAYS days late (nothing past due beyond the grace now either), and at least one
  repayment made.
- **white** (白名单, the cultivation pool): no loan on the platform ever, or none within the
  window.

A loan is *within the window* when it was outstanding at some time between the window's first
day (the same calendar day WINDOW_YEARS years earlier) and the evaluation date: disbursed on or
before the evaluation date and not repaid in full before the window's first day. Yellow comes
first (a yellow-listed enterprise is neither a good borrower nor in the cultivation pool), then
red, then white; an enterprise with a loan in the window that was late beyond the grace (or
has not repaid anything yet) is on no list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from workflows.loans import add_months
from workflows.text import counted

RED, WHITE, YELLOW = "red", "white", "yellow"
LIST_KINDS = (RED, WHITE, YELLOW)
LIST_LABELS = {
    RED: ("红名单", "Red list"),
    WHITE: ("白名单", "White list"),
    YELLOW: ("黄名单", "Yellow list"),
}
LIST_DESCRIPTIONS = {
    RED: ("按时还款的守信借款企业", "borrowers that repay well"),
    WHITE: ("近两年无贷款的培育企业", "no loan in two years: the cultivation pool"),
    YELLOW: ("恶意逃废银行债务企业", "malicious evasion of bank debt"),
}

WINDOW_YEARS = 2
GRACE_DAYS = 3
YELLOW_DAYS_PAST_DUE = 90  # more than this: the 90+ bucket
YELLOW_DAYS_WITHOUT_REPAYMENT = 90
DISHONEST_DEBTOR = "dishonest_debtor"
ACTIVE = "active"


@dataclass(frozen=True)
class LoanFacts:
    """One platform loan as of the evaluation date."""

    ref: str
    disbursed_on: date
    closed_on: date | None = None  # the day it was repaid in full (None: still outstanding)
    repayments: int = 0  # repayments made on or before the evaluation date
    last_repayment_on: date | None = None
    max_days_late: int = 0  # the most days any instalment was (or is) past due, cured or not
    days_past_due: int = 0  # days past due on the evaluation date


@dataclass(frozen=True)
class RecordFacts:
    """A credit record from a data provider (only court dishonest-debtor records matter here)."""

    ref: str
    kind: str
    status: str
    occurred_on: date
    ended_on: date | None = None


@dataclass(frozen=True)
class ListInputs:
    evaluation_date: date
    loans: Sequence[LoanFacts] = field(default_factory=tuple)
    records: Sequence[RecordFacts] = field(default_factory=tuple)


@dataclass(frozen=True)
class ListDecision:
    """The list an enterprise belongs on, with one reason per line in each language."""

    list_kind: str
    code: str  # why, as a code: good_repayment, no_loan_ever, no_recent_loan, evasion, dishonest_debtor
    reason_zh: str
    reason_en: str


def window_start(evaluation_date: date) -> date:
    """The first day of the two-year window (29 February counts from 28 February)."""
    return add_months(evaluation_date, -12 * WINDOW_YEARS)


def in_window(loan: LoanFacts, evaluation_date: date) -> bool:
    return loan.disbursed_on <= evaluation_date and (loan.closed_on is None
                                                     or loan.closed_on >= window_start(evaluation_date))


def days_without_repayment(loan: LoanFacts, evaluation_date: date) -> int:
    """Days since the last repayment (since the disbursement when none was made)."""
    return (evaluation_date - (loan.last_repayment_on or loan.disbursed_on)).days


def evading(loan: LoanFacts, evaluation_date: date) -> bool:
    return (loan.disbursed_on <= evaluation_date and loan.days_past_due > YELLOW_DAYS_PAST_DUE
            and days_without_repayment(loan, evaluation_date) >= YELLOW_DAYS_WITHOUT_REPAYMENT)


def dishonest(record: RecordFacts, evaluation_date: date) -> bool:
    return (record.kind == DISHONEST_DEBTOR and record.status == ACTIVE and record.occurred_on <= evaluation_date
            and (record.ended_on is None or record.ended_on >= evaluation_date))


def _yellow(inputs: ListInputs) -> ListDecision | None:
    today = inputs.evaluation_date
    for loan in inputs.loans:
        if evading(loan, today):
            last = loan.last_repayment_on
            since_zh = f"最近一次还款为{last.isoformat()}" if last else "放款后从未还款"
            since_en = f"the last repayment was on {last.isoformat()}" if last else "nothing was ever repaid"
            return ListDecision(
                YELLOW, "evasion",
                f"贷款{loan.ref}已逾期{loan.days_past_due}天（超过{YELLOW_DAYS_PAST_DUE}天），"
                f"且{YELLOW_DAYS_WITHOUT_REPAYMENT}天以上未还款（{since_zh}）",
                f"Loan {loan.ref} is {loan.days_past_due} days past due (more than {YELLOW_DAYS_PAST_DUE}) "
                f"with no repayment for {YELLOW_DAYS_WITHOUT_REPAYMENT} days or more ({since_en})")
    for record in inputs.records:
        if dishonest(record, today):
            return ListDecision(
                YELLOW, "dishonest_debtor",
                f"法院失信被执行人记录（{record.occurred_on.isoformat()}起，记录{record.ref}）仍然有效",
                f"A court record of a dishonest judgment debtor (since {record.occurred_on.isoformat()}, "
                f"record {record.ref}) is in force")
    return None


def decide(inputs: ListInputs) -> ListDecision | None:
    """The one list the enterprise belongs on as of the evaluation date, or None."""
    yellow = _yellow(inputs)
    if yellow is not None:
        return yellow
    today = inputs.evaluation_date
    start = window_start(today)
    recent = [loan for loan in inputs.loans if in_window(loan, today)]
    if not recent:
        if not any(loan.disbursed_on <= today for loan in inputs.loans):
            return ListDecision(WHITE, "no_loan_ever", "在平台从未有过贷款，列入培育名单",
                                "Never had a loan on the platform: in the cultivation pool")
        return ListDecision(WHITE, "no_recent_loan",
                            f"{start.isoformat()}以来（近{WINDOW_YEARS}年）在平台无贷款，列入培育名单",
                            f"No loan on the platform since {start.isoformat()} (the last {WINDOW_YEARS} years): "
                            "in the cultivation pool")
    worst = max(max(loan.max_days_late, loan.days_past_due) for loan in recent)
    repayments = sum(loan.repayments for loan in recent)
    if worst > GRACE_DAYS or repayments == 0:
        return None
    grace_zh = "均按期还款" if worst == 0 else f"最长逾期{worst}天（宽限期{GRACE_DAYS}天内）"
    grace_en = "every instalment paid on time" if worst == 0 else \
        f"at most {worst} days late (within the {GRACE_DAYS}-day grace)"
    return ListDecision(
        RED, "good_repayment",
        f"近{WINDOW_YEARS}年在平台有{len(recent)}笔贷款，已还款{repayments}次，{grace_zh}",
        f"{counted(len(recent), 'loan')} on the platform in the last {WINDOW_YEARS} years, "
        f"{counted(repayments, 'repayment')} made, "
        f"{grace_en}")

