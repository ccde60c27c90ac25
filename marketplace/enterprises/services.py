"""Enterprise onboarding, the credit commitment and data consents."""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import select

from marketplace import audit
from marketplace.accounts import security
from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import OrgKind, Role
from marketplace.db import utcnow
from marketplace.enterprises import commitment_text
from marketplace.enterprises.consents import default_purposes
from marketplace.enterprises.models import CommitmentSignature, CommitmentText, Consent, Enterprise
from marketplace.enterprises.signals import consent_granted, consent_revoked
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from workflows.credit_code import decode_uscc
from workflows.identifiers import normalise_uscc


def register_enterprise(*, name: str, uscc: str, user_name: str, email: str, password: str,
                        contact_phone: str | None = None, legal_rep_name: str | None = None,
                        legal_rep_id_number: str | None = None, industry_code: str | None = None,
                        region_code: str | None = None, park: str | None = None,
                        address: str | None = None) -> User:
    """Create the enterprise's organisation, its record and its first user (the admin).

    Only the name, the credit code and the admin are required: the region defaults to the credit
    code's registration division, and the rest is completed later (complete_profile) before the
    first financing request."""
    region_code = region_code or decode_uscc(uscc).division_code
    org = Organisation(kind=OrgKind.ENTERPRISE, name=name.strip(), region_code=region_code)
    enterprise = Enterprise(
        organisation=org, uscc=normalise_uscc(uscc), name=name.strip(), legal_rep_name=_text(legal_rep_name),
        legal_rep_id_number=_text(legal_rep_id_number, upper=True), industry_code=industry_code or None,
        region_code=region_code, park=_text(park), address=_text(address),
        contact_name=user_name.strip(), contact_phone=_text(contact_phone),
    )
    user = User(organisation=org, name=user_name.strip(), email=email.strip().lower(),
                role=Role.ENTERPRISE_ADMIN, password_hash=security.hash_password(password))
    db.session.add_all([org, enterprise, user])
    db.session.flush()
    audit.record("enterprise.registered", enterprise, enterprise_id=enterprise.id, actor=user,
                 uscc=enterprise.uscc, name=enterprise.name)
    return user


def _text(value: str | None, *, upper: bool = False) -> str | None:
    """A typed value stripped (upper-cased for identifiers); empty as None."""
    value = (value or "").strip()
    return (value.upper() if upper else value) or None


def complete_profile(enterprise: Enterprise, user: User, *, legal_rep_name: str, legal_rep_id_number: str,
                     industry_code: str, region_code: str, contact_phone: str, park: str | None,
                     address: str | None) -> None:
    """Fill in (or correct) what registration left for later; audited without the ID number. A
    blank ID number keeps the stored one (the form never shows it back)."""
    enterprise.legal_rep_name = _text(legal_rep_name)
    enterprise.legal_rep_id_number = _text(legal_rep_id_number, upper=True) or enterprise.legal_rep_id_number
    enterprise.industry_code = industry_code
    enterprise.region_code = enterprise.organisation.region_code = region_code
    enterprise.contact_phone = _text(contact_phone)
    enterprise.park, enterprise.address = _text(park), _text(address)
    db.session.flush()
    audit.record("enterprise.profile_completed", enterprise, enterprise_id=enterprise.id, actor=user,
                 industry_code=industry_code, region_code=region_code, legal_rep_name=enterprise.legal_rep_name)


def current_commitment_text() -> CommitmentText:
    """The commitment wording in force, created from the built-in text on first use."""
    text = db.session.scalar(select(CommitmentText).where(CommitmentText.version == commitment_text.VERSION))
    if text is None:
        text = CommitmentText(
            version=commitment_text.VERSION, title=commitment_text.TITLE, body=commitment_text.BODY,
            sha256=hashlib.sha256(commitment_text.BODY.encode()).hexdigest(),
            effective_from=date.fromisoformat(commitment_text.EFFECTIVE_FROM),
        )
        db.session.add(text)
        db.session.flush()
    return text


def current_signature(enterprise: Enterprise) -> CommitmentSignature | None:
    """The enterprise's signature of the wording in force, if any."""
    return db.session.scalar(
        select(CommitmentSignature)
        .join(CommitmentText)
        .where(CommitmentSignature.enterprise_id == enterprise.id,
               CommitmentText.version == commitment_text.VERSION)
        .order_by(CommitmentSignature.id.desc())
        .limit(1)
    )


def sign_commitment(enterprise: Enterprise, user: User, signer_name: str, ip: str | None) -> CommitmentSignature:
    existing = current_signature(enterprise)
    if existing is not None:
        return existing
    text = current_commitment_text()
    signature = CommitmentSignature(enterprise_id=enterprise.id, text_id=text.id, user_id=user.id,
                                    signer_name=signer_name.strip(), ip=ip)
    db.session.add(signature)
    db.session.flush()
    audit.record("commitment.signed", signature, enterprise_id=enterprise.id, actor=user, version=text.version,
                 text_sha256=text.sha256, signer_name=signature.signer_name)
    return signature


def grantable_institutions() -> list[Organisation]:
    return list(db.session.scalars(
        select(Organisation)
        .where(Organisation.kind.in_([OrgKind.BANK, OrgKind.GUARANTOR, OrgKind.BUREAU]), Organisation.active)
        .order_by(Organisation.kind, Organisation.name)
    ))


def grant_consent(enterprise: Enterprise, user: User, *, grantee_org_id: int, scopes: list[str], purpose: str,
                  valid_from: date, valid_to: date, purposes: list[str] | None = None) -> Consent:
    """`purposes` (codes of CONSENT_PURPOSES) default to what the grantee does by its kind."""
    if not purposes:
        grantee = db.session.get(Organisation, grantee_org_id)
        purposes = default_purposes(grantee.kind if grantee else "")
    consent = Consent(enterprise_id=enterprise.id, grantee_org_id=grantee_org_id, scopes=sorted(set(scopes)),
                      purpose=purpose.strip(), purposes=sorted(set(purposes)), valid_from=valid_from,
                      valid_to=valid_to, granted_by_id=user.id)
    db.session.add(consent)
    db.session.flush()
    audit.record("consent.granted", consent, enterprise_id=enterprise.id, actor=user, grantee_org_id=grantee_org_id,
                 scopes=consent.scopes, purposes=consent.purposes, valid_from=valid_from, valid_to=valid_to)
    consent_granted.send(consent, actor=user)
    return consent


def revoke_consent(consent: Consent, user: User) -> list:
    """Revoke the consent; listeners close what the institution was reviewing under it. Returns
    the ids they report (the requests closed for the institution), empty when already revoked."""
    if consent.revoked_at is not None:
        return []
    consent.revoked_at = utcnow()
    consent.revoked_by_id = user.id
    db.session.flush()
    audit.record("consent.revoked", consent, enterprise_id=consent.enterprise_id, actor=user,
                 grantee_org_id=consent.grantee_org_id, scopes=consent.scopes)
    return [item for _receiver, value in consent_revoked.send(consent, actor=user) for item in value or ()]


def has_consent(enterprise_id: int, org_id: int, scope: str, purpose: str, day: date | None = None) -> bool:
    """Whether `org_id` may read `scope` of the enterprise's data today for `purpose` (a code of
    CONSENT_PURPOSES, see consents.reading_purpose). A refusal is logged, naming why."""
    day = day or today_shanghai()
    consents = list(db.session.scalars(
        select(Consent).where(Consent.enterprise_id == enterprise_id, Consent.grantee_org_id == org_id)
    ))
    if any(c.covers(scope, day, purpose) for c in consents):
        return True
    reason = "purpose not consented" if any(c.covers(scope, day) for c in consents) else "no valid consent"
    record_denial(enterprise_id, org_id, scope, reason, purpose)
    return False


def record_denial(enterprise_id: int, org_id: int, what: str, reason: str, purpose: str, **details) -> None:
    """Log a refused read of the enterprise's data (its access log shows it): `what` the scope or
    page asked for, `reason` "no valid consent" or "purpose not consented"."""
    audit.record("credit_data.denied", object_type=what, object_id=enterprise_id, enterprise_id=enterprise_id,
                 purpose=reason, grantee_org_id=org_id, requested_purpose=purpose, **details)
