"""The first application as one checklist (issue 19, item 3): what an enterprise still has to do
between registration and a submitted financing request, each step's state read from the rows of
the domain it belongs to, and the consents for the likely institutions granted in one step
through the enterprise's consent service.

A page that shows several domains at once (the house, floor 8): it reads enterprises,
receivables, statements and financing; none of them knows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from marketplace.accounts.models import Organisation
from marketplace.enterprises import profile
from marketplace.enterprises import services as enterprises
from marketplace.enterprises.consents import (
    ROUTING_SCOPE,
    consenting_institutions,
    default_purposes,
)
from marketplace.enterprises.models import Consent, Enterprise
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import today_shanghai
from marketplace.receivables.models import Receivable
from marketplace.statements.models import StatementFile
from marketplace.supermarket.matching import likely_institutions
from workflows.financing import State
from workflows.verification.bank_guides import BankGuide, guide_for, guide_for_bank_name

STEPS = ("profile", "commitment", "consents", "receivables", "statement", "request")
PROPOSED_INSTITUTIONS = 3
# What the one-step consents grant: the bank statements a request is routed and reviewed under
# (enterprises.consents.ROUTING_SCOPE), for the review the institution does and the monitoring
# after, for a year. More scopes stay a choice on the full consent form.
PROPOSED_SCOPES = (ROUTING_SCOPE,)
PROPOSED_DAYS = 365


@dataclass(frozen=True)
class Step:
    key: str  # one of STEPS
    done: bool
    facts: dict = field(default_factory=dict)  # what the page says about the step's state


@dataclass(frozen=True)
class Proposal:
    """An institution proposed for the one-step consents, with the product that put it there."""

    institution: Organisation
    product_id: int
    purposes: tuple[str, ...]


@dataclass(frozen=True)
class Checklist:
    steps: list[Step]
    proposals: list[Proposal]  # likely institutions that do not hold the consent yet
    bank: BankGuide

    @property
    def next_step(self) -> str | None:
        return next((step.key for step in self.steps if not step.done), None)

    @property
    def done(self) -> bool:
        return self.next_step is None


def checklist(enterprise: Enterprise, bank_code: str | None = None) -> Checklist:
    """Every step's state, the consents to propose and the bank whose export the statement step
    describes (`bank_code`, else the bank of the latest statement, else the generic text)."""
    steps = checklist_steps(enterprise)
    consenting, latest = steps[2].facts["institutions"], steps[4].facts["latest"]
    bank = guide_for(bank_code) if bank_code else guide_for_bank_name(latest.bank if latest else None)
    return Checklist(steps, proposals(enterprise, {o.id for o in consenting}), bank)


def checklist_steps(enterprise: Enterprise) -> list[Step]:
    """The steps in the order of STEPS, without the proposals (the home page shows what remains)."""
    latest = _latest_statement(enterprise.id)
    consenting = _consenting(enterprise.id)
    return [
        Step("profile", profile.is_complete(enterprise), {"missing": profile.missing_fields(enterprise)}),
        Step("commitment", enterprises.current_signature(enterprise) is not None),
        Step("consents", bool(consenting), {"institutions": consenting}),
        _receivables_step(enterprise.id),
        Step("statement", latest is not None, {"latest": latest}),
        _request_step(enterprise.id),
    ]


def _consenting(enterprise_id: int) -> list[Organisation]:
    """The banks and guarantors a request can go to now: they hold a valid bank-statement consent."""
    institutions = list(db.session.scalars(
        select(Organisation).where(Organisation.kind.in_(("bank", "guarantor")), Organisation.active)
        .where(Organisation.id.in_(select(Consent.grantee_org_id).where(Consent.enterprise_id == enterprise_id)))
        .order_by(Organisation.name)))
    ids = consenting_institutions(enterprise_id, [o.id for o in institutions])
    return [o for o in institutions if o.id in ids]


def _receivables_step(enterprise_id: int) -> Step:
    """Done once one receivable is registered; `pending` counts those the debtor has not answered
    (the step then offers the debtor requests)."""
    counts = db.session.execute(
        select(func.count(), func.count().filter(Receivable.confirmation == "confirmed"),
               func.count().filter(Receivable.confirmation == "pending"))
        .where(Receivable.enterprise_id == enterprise_id)).one()
    return Step("receivables", counts[0] > 0, {"count": counts[0], "confirmed": counts[1], "pending": counts[2]})


def _latest_statement(enterprise_id: int) -> StatementFile | None:
    return db.session.scalar(select(StatementFile).where(StatementFile.enterprise_id == enterprise_id)
                             .order_by(StatementFile.id.desc()).limit(1))


def _request_step(enterprise_id: int) -> Step:
    """Done once a request left the draft (submitted, whatever came after); else the draft to
    continue, if there is one."""
    rows = db.session.execute(select(FinancingRequest.id, FinancingRequest.state)
                              .where(FinancingRequest.enterprise_id == enterprise_id)
                              .order_by(FinancingRequest.id.desc())).all()
    submitted = next((row.id for row in rows if row.state not in (State.DRAFT, State.WITHDRAWN)), None)
    draft = next((row.id for row in rows if row.state == State.DRAFT), None)
    return Step("request", submitted is not None, {"submitted": submitted, "draft": draft})


def proposals(enterprise: Enterprise, consenting_ids: set[int]) -> list[Proposal]:
    """The supermarket's likely institutions for the enterprise that do not hold its consent yet."""
    matches = [m for m in likely_institutions(enterprise, PROPOSED_INSTITUTIONS) if m.institution_id not in consenting_ids]
    if not matches:
        return []
    institutions = {o.id: o for o in db.session.scalars(
        select(Organisation).where(Organisation.id.in_([m.institution_id for m in matches])))}
    return [Proposal(institutions[m.institution_id], m.product_id,
                     tuple(default_purposes(institutions[m.institution_id].kind))) for m in matches]


def proposed_validity(today: date | None = None) -> tuple[date, date]:
    start = today or today_shanghai()
    return start, start + timedelta(days=PROPOSED_DAYS)


class NothingChosen(ValueError):
    """No proposed institution was ticked."""


class NotProposed(ValueError):
    """An institution chosen is not (or no longer) among those proposed: e.g. it was granted a
    consent in another tab meanwhile."""


def grant_proposed_consents(enterprise: Enterprise, user, institution_ids: list[int], purpose: str) -> list[Consent]:
    """Grant the proposed consent to each chosen institution in one go, each through
    enterprises.services.grant_consent (audited, announced); ids outside the proposal are refused
    whole, so nothing is granted to an institution the page did not show."""
    offered = {p.institution.id: p for p in proposals(enterprise, {o.id for o in _consenting(enterprise.id)})}
    chosen = list(dict.fromkeys(institution_ids or ()))
    if not chosen:
        raise NothingChosen
    if any(i not in offered for i in chosen):
        raise NotProposed
    valid_from, valid_to = proposed_validity()
    return [enterprises.grant_consent(enterprise, user, grantee_org_id=i, scopes=list(PROPOSED_SCOPES),
                                      purposes=list(offered[i].purposes), purpose=purpose,
                                      valid_from=valid_from, valid_to=valid_to)
            for i in chosen]
