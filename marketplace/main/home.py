"""The day's work on each role's home page: what waits, what is due, what breached, what needs a
decision. Each section is a count and its first few rows, read in one or two statements whatever
the number of rows (the queue's sections through the desk queue's own filters, so the section's
link shows exactly the rows it counted).

A page that shows several domains at once, so it reads their models (conventions, rule 13).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import Role
from marketplace.db import utcnow
from marketplace.desks import queue
from marketplace.desks.claims import WORKABLE_STATUSES
from marketplace.desks.models import InfoRequest, Offer
from marketplace.enterprises.models import Consent, Enterprise
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import today_shanghai
from marketplace.guarantees.models import Guarantee
from marketplace.onboarding import services as onboarding
from marketplace.payments.models import FeeTransfer, Payment
from marketplace.payments.status import FAILED, PENDING, TRANSFER_RECORDED
from marketplace.supermarket.models import RequestTarget

FIRST_ROWS = 5
CONSENT_WARNING_DAYS = 30
# the desk queue's sections: (key, the queue filters it shows)
QUEUE_SECTIONS = (
    ("waiting", queue.Filters()),
    ("mine", queue.Filters(mine=True)),
    ("due_today", queue.Filters(sla="due_today")),
    ("breached", queue.Filters(sla="breached")),
)


@dataclass
class Section:
    """How many things of one kind wait, and the first FIRST_ROWS of them."""

    key: str
    count: int
    rows: list = field(default_factory=list)
    link_args: dict = field(default_factory=dict)  # the desk queue's filters, for the queue sections

    @property
    def more(self) -> int:
        return max(self.count - len(self.rows), 0)


def _counted(statement) -> tuple[int, list]:
    """(total, first rows) of a statement that selects `func.count().over()` as its last column."""
    rows = db.session.execute(statement.limit(FIRST_ROWS)).all()
    return (rows[0][-1] if rows else 0), rows


# ---- banks and guarantors ----------------------------------------------------------------------

def lender_sections(user: User) -> list[Section]:
    """The officer's and approver's day: the queue, their claims, what is due today and what
    breached its SLA; for a bank approver, offers waiting for them; for all, recorded transfers
    of fees owed to the institution that wait for a confirmation."""
    now = utcnow()
    sections = []
    for key, filters in QUEUE_SECTIONS:
        page = queue.page(user, filters, size=FIRST_ROWS, now=now)
        sections.append(Section(key, page.total, page.rows, filters.args()))
    if user.role == Role.BANK_APPROVER:
        sections.append(Section("approvals", *offers_awaiting_approval(user)))
    sections.append(Section("transfers", *transfers_to_confirm(user.organisation_id)))
    return sections


def offers_awaiting_approval(user: User) -> tuple[int, list]:
    """Offers of the user's bank waiting for a second approver, other than the user's own."""
    return _counted(
        select(Offer.id, Offer.request_id, Offer.amount, Offer.annual_rate, Offer.created_at,
               Enterprise.name.label("enterprise_name"), User.name.label("made_by_name"), func.count().over())
        .join(FinancingRequest, FinancingRequest.id == Offer.request_id)
        .join(Enterprise, Enterprise.id == FinancingRequest.enterprise_id)
        .join(User, User.id == Offer.made_by_id)
        .where(Offer.institution_id == user.organisation_id, Offer.status == "pending_approval",
               Offer.made_by_id != user.id)
        .order_by(Offer.created_at, Offer.id))


def transfers_to_confirm(institution_id: int) -> tuple[int, list]:
    return _counted(
        select(FeeTransfer.id, FeeTransfer.reference, FeeTransfer.recorded_at, Payment.id.label("payment_id"),
               Payment.amount, Payment.purpose, Enterprise.name.label("enterprise_name"), func.count().over())
        .join(Payment, Payment.id == FeeTransfer.payment_id)
        .join(Enterprise, Enterprise.id == Payment.enterprise_id)
        .where(Payment.payee_org_id == institution_id, Payment.status == PENDING,
               FeeTransfer.status == TRANSFER_RECORDED)
        .order_by(FeeTransfer.recorded_at, FeeTransfer.id))


# ---- enterprises -------------------------------------------------------------------------------

def enterprise_sections(enterprise: Enterprise) -> list[Section]:
    """What needs the enterprise's action: the first application's checklist while a step of it
    remains (marketplace.onboarding), the commitment to sign, questions to answer, offers and
    guarantees to decide, fees to pay, consents that end within CONSENT_WARNING_DAYS."""
    today = today_shanghai()
    checklist = {step.key: step for step in onboarding.checklist_steps(enterprise)}
    remaining = [key for key, step in checklist.items() if not step.done]
    signed = checklist["commitment"].done
    offers, guarantees = offers_to_decide(enterprise.id, today), guarantees_to_decide(enterprise.id)
    decisions = sorted([("offer", row) for row in offers[1]] + [("guarantee", row) for row in guarantees[1]],
                       key=lambda item: item[1].created_at)[:FIRST_ROWS]
    return [
        Section("checklist", 1 if remaining else 0, remaining),  # one item: the first application
        Section("commitment", 0 if signed else 1),
        Section("questions", *open_questions(enterprise.id)),
        Section("decisions", offers[0] + guarantees[0], decisions),
        Section("fees", *fees_to_pay(enterprise.id)),
        Section("consents", *consents_ending(enterprise.id, today)),
    ]


def open_questions(enterprise_id: int) -> tuple[int, list]:
    """Institutions' questions not answered yet, on requests the institution still works."""
    return _counted(
        select(InfoRequest.id, InfoRequest.request_id, InfoRequest.question, InfoRequest.asked_at,
               Organisation.name.label("institution_name"), func.count().over())
        .join(RequestTarget, RequestTarget.id == InfoRequest.target_id)
        .join(FinancingRequest, FinancingRequest.id == InfoRequest.request_id)
        .join(Organisation, Organisation.id == RequestTarget.institution_id)
        .where(FinancingRequest.enterprise_id == enterprise_id, InfoRequest.answered_at.is_(None),
               RequestTarget.status.in_(WORKABLE_STATUSES))
        .order_by(InfoRequest.asked_at, InfoRequest.id))


def offers_to_decide(enterprise_id: int, today) -> tuple[int, list]:
    """Banks' offers made to the enterprise and not expired."""
    return _counted(
        select(Offer.id, Offer.request_id, Offer.amount, Offer.annual_rate, Offer.expires_on, Offer.created_at,
               Organisation.name.label("institution_name"), func.count().over())
        .join(FinancingRequest, FinancingRequest.id == Offer.request_id)
        .join(Organisation, Organisation.id == Offer.institution_id)
        .where(FinancingRequest.enterprise_id == enterprise_id, Offer.status == "made", Offer.expires_on >= today)
        .order_by(Offer.expires_on, Offer.id))


def guarantees_to_decide(enterprise_id: int) -> tuple[int, list]:
    """Guarantors' offers waiting for the enterprise to accept them."""
    return _counted(
        select(Guarantee.id, Guarantee.request_id, Guarantee.guaranteed_amount, Guarantee.fee, Guarantee.created_at,
               Organisation.name.label("institution_name"), func.count().over())
        .join(FinancingRequest, FinancingRequest.id == Guarantee.request_id)
        .join(Organisation, Organisation.id == Guarantee.institution_id)
        .where(FinancingRequest.enterprise_id == enterprise_id, Guarantee.status == "offered")
        .order_by(Guarantee.created_at, Guarantee.id))


def fees_to_pay(enterprise_id: int) -> tuple[int, list]:
    """Fees not paid yet; `waiting` says a recorded transfer waits for the payee's confirmation."""
    waiting = (select(FeeTransfer.id).where(FeeTransfer.payment_id == Payment.id,
                                            FeeTransfer.status == TRANSFER_RECORDED).exists())
    return _counted(
        select(Payment.id, Payment.purpose, Payment.amount, Payment.method, Payment.status,
               Organisation.name.label("payee_name"), waiting.label("waiting"), func.count().over())
        .join(Organisation, Organisation.id == Payment.payee_org_id)
        .where(Payment.enterprise_id == enterprise_id, Payment.status.in_((PENDING, FAILED)))
        .order_by(Payment.created_at, Payment.id))


def consents_ending(enterprise_id: int, today) -> tuple[int, list]:
    """Consents in force that end within CONSENT_WARNING_DAYS days."""
    return _counted(
        select(Consent.id, Consent.valid_to, Organisation.name.label("grantee_name"), func.count().over())
        .join(Organisation, Organisation.id == Consent.grantee_org_id)
        .where(Consent.enterprise_id == enterprise_id, Consent.revoked_at.is_(None), Consent.valid_from <= today,
               Consent.valid_to >= today, Consent.valid_to <= today + timedelta(days=CONSENT_WARNING_DAYS))
        .order_by(Consent.valid_to, Consent.id))
