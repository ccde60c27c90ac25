"""The credit file (一企一档, issue 14 items 1 and 9): everything held about one enterprise,
assembled for one viewer.

Who sees what (docs/credit-file.md):
- the enterprise's own users: the whole file, free of charge, with its access log;
- an institution (bank, guarantor): only under an active consent to it covering at least one
  scope of the credit records (FILE_SCOPES) for the purpose it reads for; the records of the
  consented sources only (`credit.access.visible_to`), its own consents, the requests routed to
  it and the loans it made; the legal representative's ID and the contact phone masked;
- the bureau's coordinator: enterprises of its region only (404 otherwise), under the
  enterprise's consent to the bureau, as an institution; all the enterprise's submitted requests
  and loans (it oversees them in its region).
A refused read (no, expired, revoked, wrong-scope or wrong-purpose consent) is logged as
credit_data.denied; every read by anyone but the enterprise as credit_data.read.

`open_file` decides and logs; `assemble` loads the file in a constant number of queries,
however many records, grades, requests or loans it holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from marketplace import audit
from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import OrgKind
from marketplace.credit import objections, repairs, retention
from marketplace.credit.access import visible_to
from marketplace.credit.models import CreditGrade, CreditRecord
from marketplace.db import utcnow
from marketplace.enterprises.access_log import access_log_query, actor_names
from marketplace.enterprises.consents import POST_LOAN_STATES, review_purpose
from marketplace.enterprises.models import CommitmentSignature, Consent, Enterprise
from marketplace.enterprises.services import record_denial
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import local, today_shanghai
from marketplace.lists.services import memberships_for
from marketplace.loans.models import Loan
from marketplace.loans.services import LoanSummary, summary
from marketplace.pagination import Page, paginate
from marketplace.reference.industries import industry_name
from marketplace.reference.regions import region_covers, region_name
from marketplace.supermarket.models import RequestTarget
from workflows.credit_records import SOURCE_SCOPES, SOURCES
from workflows.identifiers import mask_id

# the consent scopes that open the file to an institution: those of the credit records' sources
FILE_SCOPES = tuple(sorted(set(SOURCE_SCOPES.values())))
GRADE_HISTORY_MAX = 50
# reasons that describe individual records: shown in words only to a viewer who may see every source
RECORD_REASON_CODES = frozenset({"knockout_enforcement", "knockout_dishonest_list"})

ENTERPRISE, INSTITUTION, BUREAU = "enterprise", "institution", "bureau"


class FileRefused(Exception):
    """The viewer may not read this enterprise's file: 404 (out of region, as if it did not
    exist) or 403 (no consent covering it: logged)."""

    def __init__(self, status: int, reason: str = "") -> None:
        super().__init__(status, reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Viewer:
    """Who reads the file, as what, for what purpose, and which record scopes they may see."""

    user: User
    org: Organisation
    kind: str  # enterprise | institution | bureau
    purpose: str | None = None  # a CONSENT_PURPOSES code; None for the enterprise itself
    scopes: frozenset[str] = frozenset(FILE_SCOPES)

    @property
    def is_enterprise(self) -> bool:
        return self.kind == ENTERPRISE

    @property
    def sees_every_source(self) -> bool:
        return self.is_enterprise or set(FILE_SCOPES) <= self.scopes

    @property
    def visible_sources(self) -> list[str]:
        return [s for s in SOURCES if SOURCE_SCOPES[s] in self.scopes]

    @property
    def hidden_sources(self) -> list[str]:
        return [s for s in SOURCES if SOURCE_SCOPES[s] not in self.scopes]

    def stamp(self, moment: datetime | None = None) -> str:
        """The watermark's time: Asia/Shanghai, YYYY-MM-DD HH:MM."""
        return local(moment or utcnow()).strftime("%Y-%m-%d %H:%M")


# ---- who may read --------------------------------------------------------------------------------

def _institution_purpose(enterprise_id: int, org: Organisation) -> str:
    """Monitoring a loan it made or a guarantee (the request is past disbursement), else the review
    an institution of its kind does (enterprises.consents.reading_purpose)."""
    if org.kind == OrgKind.BUREAU:
        return review_purpose(org.kind)
    lending = db.session.scalar(
        select(FinancingRequest.id).join(RequestTarget, RequestTarget.request_id == FinancingRequest.id)
        .where(FinancingRequest.enterprise_id == enterprise_id, RequestTarget.institution_id == org.id,
               RequestTarget.status == "accepted", FinancingRequest.state.in_(sorted(POST_LOAN_STATES))).limit(1))
    return "post_loan" if lending is not None else review_purpose(org.kind)


def consented_file_scopes(enterprise_id: int, org_id: int, purpose: str, day: date | None = None) -> tuple[set[str], str]:
    """The FILE_SCOPES the enterprise's consents let `org_id` read on `day` for `purpose`, and,
    when none, why ("no valid consent" or "purpose not consented", as has_consent names them)."""
    day = day or today_shanghai()
    consents = list(db.session.scalars(select(Consent).where(Consent.enterprise_id == enterprise_id,
                                                             Consent.grantee_org_id == org_id)))
    scopes = {s for s in FILE_SCOPES if any(c.covers(s, day, purpose) for c in consents)}
    if scopes:
        return scopes, ""
    any_purpose = any(c.covers(s, day) for c in consents for s in FILE_SCOPES)
    return scopes, "purpose not consented" if any_purpose else "no valid consent"


def open_file(enterprise: Enterprise | None, user: User, what: str = "credit_file") -> Viewer:
    """Decide whether `user` may read `enterprise`'s file (or its report, `what`), log the read
    (anyone but the enterprise) or the refusal, and return the viewer. Raises FileRefused; the
    caller commits either way (the refusal's log must be kept)."""
    org = user.organisation
    if enterprise is None:
        raise FileRefused(404)
    if org.kind == OrgKind.ENTERPRISE:
        if enterprise.organisation_id != org.id:
            raise FileRefused(404)
        return Viewer(user, org, ENTERPRISE)
    if org.kind == OrgKind.BUREAU:
        if not region_covers(org.region_code, enterprise.region_code):
            raise FileRefused(404)
        kind = BUREAU
    elif org.kind in (OrgKind.BANK, OrgKind.GUARANTOR):
        kind = INSTITUTION
    else:
        raise FileRefused(403)
    purpose = _institution_purpose(enterprise.id, org)
    scopes, reason = consented_file_scopes(enterprise.id, org.id, purpose)
    if not scopes:
        record_denial(enterprise.id, org.id, what, reason, purpose, reader=kind)
        raise FileRefused(403, reason)
    audit.record_credit_read(enterprise.id, what, purpose=purpose, sections=sorted(scopes), reader=kind)
    return Viewer(user, org, kind, purpose, frozenset(scopes))


# ---- what it holds -------------------------------------------------------------------------------

def mask_phone(value: str | None) -> str:
    """A phone number for display to institutions: the first 3 and last 4 digits."""
    text = (value or "").strip()
    if len(text) >= 8:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    return mask_id(text)


@dataclass
class BasicFacts:
    """The enterprise's registered facts as this viewer may see them (the ID number always masked)."""

    name: str
    uscc: str
    legal_rep_name: str
    legal_rep_id: str
    industry: str
    region: str
    park: str
    address: str
    contact_name: str
    contact_phone: str


@dataclass
class LoanLine:
    loan: Loan
    lender: str
    summary: LoanSummary


@dataclass
class CreditFile:
    """One enterprise's credit file as one viewer may see it."""

    enterprise: Enterprise
    viewer: Viewer
    generated_at: datetime
    today: date  # Shanghai
    facts: BasicFacts
    signatures: list[CommitmentSignature]
    consents: list[Consent]
    records: list[CreditRecord]
    grade: CreditGrade | None
    grade_history: list[CreditGrade]
    requests: list[FinancingRequest]
    loans: list[LoanLine]
    marks: dict = field(default_factory=dict)  # record id -> its open (else latest) CreditObjection: record_mark
    open_objections: dict = field(default_factory=dict)  # record id -> open CreditObjection (the enterprise's only)
    open_repairs: dict = field(default_factory=dict)  # record id -> undecided RepairApplication (the enterprise's only)
    objections: list = field(default_factory=list)
    repairs: list = field(default_factory=list)
    memberships: list = field(default_factory=list)
    access_log: Page | None = None
    access_log_since: date | None = None
    org_names: dict[int, str] = field(default_factory=dict)
    user_names: dict[int, str] = field(default_factory=dict)

    @property
    def records_by_source(self) -> list[tuple[str, list[CreditRecord]]]:
        """Each source the viewer may see, in SOURCES order, with its records (newest first)."""
        return [(source, [r for r in self.records if r.source == source]) for source in self.viewer.visible_sources]

    @property
    def grade_reasons(self) -> list[dict]:
        """The current grade's reasons; to a viewer who may not see every source, those that
        describe individual records keep their points but not their words."""
        reasons = list(self.grade.reasons or []) if self.grade else []
        if self.viewer.sees_every_source:
            return reasons
        return [reason if not _describes_records(reason) else
                {**reason, "zh": "公共信用记录（明细需企业授权查看）",
                 "en": "Public credit records (details need the enterprise's consent)", "masked": True}
                for reason in reasons]

    def retention_ends_on(self, record: CreditRecord) -> date | None:
        return retention.retention_ends_on(record) if record.polarity == "negative" else None


def _describes_records(reason: dict) -> bool:
    return reason.get("factor") == "records" or reason.get("code") in RECORD_REASON_CODES


def _facts(enterprise: Enterprise, viewer: Viewer) -> BasicFacts:
    return BasicFacts(
        name=enterprise.name, uscc=enterprise.uscc, legal_rep_name=enterprise.legal_rep_name or "",
        legal_rep_id=enterprise.legal_rep_id_masked,  # never shown unmasked, to anyone (models.Enterprise)
        # the profile may still be incomplete (registration asks only the credit code, issue 19)
        industry=f"{enterprise.industry_code or ''} {industry_name(enterprise.industry_code or '') or ''}".strip(),
        region=region_name(enterprise.region_code) or enterprise.region_code, park=enterprise.park or "",
        address=(enterprise.address or "") if viewer.is_enterprise else "",
        contact_name=enterprise.contact_name,
        contact_phone=(enterprise.contact_phone or "") if viewer.is_enterprise else mask_phone(enterprise.contact_phone))


def _records(enterprise: Enterprise, viewer: Viewer) -> list[CreditRecord]:
    query = (select(CreditRecord).where(CreditRecord.enterprise_id == enterprise.id)
             .options(selectinload(CreditRecord.provider))
             .order_by(CreditRecord.occurred_on.desc(), CreditRecord.id.desc()))
    if not viewer.is_enterprise:
        query = query.where(visible_to(viewer.org, purpose=viewer.purpose))
    return list(db.session.scalars(query))


def _consents(enterprise: Enterprise, viewer: Viewer) -> list[Consent]:
    query = (select(Consent).where(Consent.enterprise_id == enterprise.id)
             .options(joinedload(Consent.grantee)).order_by(Consent.id.desc()))
    if not viewer.is_enterprise:
        query = query.where(Consent.grantee_org_id == viewer.org.id)  # its own, not the enterprise's other lenders
    return list(db.session.scalars(query))


def _requests(enterprise: Enterprise, viewer: Viewer) -> list[FinancingRequest]:
    query = select(FinancingRequest).where(FinancingRequest.enterprise_id == enterprise.id)
    if viewer.kind == INSTITUTION:
        query = query.where(FinancingRequest.id.in_(
            select(RequestTarget.request_id).where(RequestTarget.institution_id == viewer.org.id,
                                                   RequestTarget.routed_at.is_not(None))))
    elif viewer.kind == BUREAU:
        query = query.where(FinancingRequest.submitted_at.is_not(None))
    return list(db.session.scalars(query.order_by(FinancingRequest.id.desc())))


def _loans(enterprise: Enterprise, viewer: Viewer, today: date) -> list[LoanLine]:
    query = (select(Loan, Organisation.name).join(FinancingRequest, FinancingRequest.id == Loan.request_id)
             .join(Organisation, Organisation.id == Loan.institution_id)
             .where(FinancingRequest.enterprise_id == enterprise.id)
             .options(selectinload(Loan.instalments), selectinload(Loan.repayments))
             .order_by(Loan.disbursed_on.desc(), Loan.id.desc()))
    if viewer.kind == INSTITUTION:
        query = query.where(Loan.institution_id == viewer.org.id)
    return [LoanLine(loan, lender, summary(loan, today)) for loan, lender in db.session.execute(query).all()]


def _grades(enterprise: Enterprise) -> list[CreditGrade]:
    return list(db.session.scalars(select(CreditGrade).where(CreditGrade.enterprise_id == enterprise.id)
                                   .order_by(CreditGrade.id.desc()).limit(GRADE_HISTORY_MAX)))


def assemble(enterprise: Enterprise, viewer: Viewer, *, with_access_log: bool = True) -> CreditFile:
    """The file of `enterprise` as `viewer` may see it. The access log (the enterprise's only)
    covers at least CREDIT_ACCESS_LOG_RETENTION_YEARS, a page at a time (?page=)."""
    today = today_shanghai()
    records = _records(enterprise, viewer)
    grades = _grades(enterprise)
    file = CreditFile(
        enterprise=enterprise, viewer=viewer, generated_at=utcnow(), today=today, facts=_facts(enterprise, viewer),
        signatures=list(db.session.scalars(
            select(CommitmentSignature).where(CommitmentSignature.enterprise_id == enterprise.id)
            .options(joinedload(CommitmentSignature.text)).order_by(CommitmentSignature.id.desc()))),
        consents=_consents(enterprise, viewer), records=records, grade=grades[0] if grades else None,
        grade_history=grades, requests=_requests(enterprise, viewer), loans=_loans(enterprise, viewer, today),
    )
    _add_other_sections(file)
    if viewer.is_enterprise and with_access_log:
        file.access_log_since = retention.access_log_since(today)
        file.access_log = paginate(access_log_query(enterprise.id, since=file.access_log_since))
        file.org_names, file.user_names = actor_names(file.access_log.items)
    return file


def _add_other_sections(file: CreditFile) -> None:
    """Objections, repairs and list memberships, from their own packages (a constant number of
    queries). An institution sees the objections and repairs of the records it may see only."""
    record_ids = [r.id for r in file.records]
    file.marks = objections.marks_for(record_ids)
    if file.viewer.is_enterprise:
        file.open_objections = objections.open_objections_by_record(record_ids)
        file.open_repairs = repairs.open_repairs_by_record(record_ids)
    visible = set(record_ids)
    file.objections = [o for o in objections.objections_for(file.enterprise.id)
                       if file.viewer.is_enterprise or o.record_id in visible]
    file.repairs = [a for a in repairs.repairs_for(file.enterprise.id)
                    if file.viewer.is_enterprise or a.record_id in visible]
    file.memberships = memberships_for(file.enterprise.id)
