"""Who may see which credit records: a filter every outward view of CreditRecord applies.

    select(CreditRecord).where(visible_to(org))

- the enterprise itself: all its records (it sees its whole file);
- an institution (bank, guarantor, bureau): a record in an outward status of an enterprise
  that has an active consent (not revoked, valid today) to that institution covering the
  scope the record's source needs (SOURCE_SCOPES: market_regulator needs `penalties`), and,
  when a purpose is given, granting that purpose;
- a data provider: the records it reported itself;
- anyone else (the platform): nothing through this filter.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, false, or_, select
from sqlalchemy.sql import ColumnElement

from marketplace.accounts.models import Organisation
from marketplace.accounts.roles import OrgKind
from marketplace.credit.models import CreditRecord
from marketplace.enterprises.models import Consent, Enterprise
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from workflows.credit_records import SOURCE_SCOPES

# what institutions may see: a repaired or removed record has left the outward views, and so has
# a negative record past its retention period (retention_expired_at, set by credit.retention)
OUTWARD_STATUSES = ("active", "objected")
INSTITUTION_KINDS = (OrgKind.BANK, OrgKind.GUARANTOR, OrgKind.BUREAU)


def sources_for_scopes(scopes) -> list[str]:
    granted = set(scopes or ())
    return sorted(source for source, scope in SOURCE_SCOPES.items() if scope in granted)


def visible_to(org: Organisation, *, day: date | None = None, purpose: str | None = None) -> ColumnElement[bool]:
    """A WHERE clause on CreditRecord admitting only what `org` may see on `day` (default today)."""
    if org.kind == OrgKind.ENTERPRISE:
        enterprise_id = db.session.scalar(select(Enterprise.id).where(Enterprise.organisation_id == org.id))
        return CreditRecord.enterprise_id == enterprise_id if enterprise_id is not None else false()
    if org.kind == OrgKind.PROVIDER:
        return CreditRecord.provider_org_id == org.id
    if org.kind not in INSTITUTION_KINDS:
        return false()
    day = day or today_shanghai()
    consents = db.session.scalars(select(Consent).where(
        Consent.grantee_org_id == org.id, Consent.revoked_at.is_(None),
        Consent.valid_from <= day, Consent.valid_to >= day))
    sources_by_enterprise: dict[int, set[str]] = {}
    for consent in consents:  # scopes are a JSON list: matched here rather than in SQL
        if purpose is None or purpose in (consent.purposes or ()):
            sources_by_enterprise.setdefault(consent.enterprise_id, set()).update(sources_for_scopes(consent.scopes))
    admitted = [and_(CreditRecord.enterprise_id == enterprise_id, CreditRecord.source.in_(sorted(sources)))
                for enterprise_id, sources in sorted(sources_by_enterprise.items()) if sources]
    if not admitted:
        return false()
    return and_(CreditRecord.status.in_(OUTWARD_STATUSES), CreditRecord.retention_expired_at.is_(None),
                or_(*admitted))
