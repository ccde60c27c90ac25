"""The enterprise, its credit commitment and its data consents."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.crypto import EncryptedText
from marketplace.db import UTCDateTime, utcnow
from marketplace.extensions import db
from workflows.identifiers import mask_id

CONSENT_SCOPES = (
    "bank_statements", "tax", "utilities", "social_insurance", "housing_fund", "court", "penalties",
)
SCOPE_LABELS = {
    "bank_statements": ("银行流水", "Bank statements"),
    "tax": ("纳税信息", "Tax"),
    "utilities": ("水电气缴费", "Utilities"),
    "social_insurance": ("社保缴纳", "Social insurance"),
    "housing_fund": ("公积金缴存", "Housing fund"),
    "court": ("司法诉讼", "Court cases"),
    "penalties": ("行政处罚", "Penalties"),
}

# Why an institution may read under a consent; every read names one, and a consent that does not
# grant it is no consent for that read (see consents.reading_purpose).
CONSENT_PURPOSES = ("financing_review", "guarantee_review", "post_loan")
CONSENT_PURPOSE_LABELS = {
    "financing_review": ("融资审查", "Financing review"),
    "guarantee_review": ("担保审查", "Guarantee review"),
    "post_loan": ("贷后管理", "Post-loan monitoring"),
}


class Enterprise(db.Model):
    __tablename__ = "enterprises"
    # LIKE '3205%' (a bureau's region) needs pattern ops: the collation (C.UTF-8) keeps the plain
    # index from serving prefixes (issue 15, migration c18a00000001)
    __table_args__ = (Index("ix_enterprises_region_code_prefix", "region_code",
                            postgresql_ops={"region_code": "varchar_pattern_ops"}),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # Registration asks only what the credit code does not say (issue 19); the legal representative,
    # the industry and the phone are completed before the first request (enterprises.profile).
    legal_rep_name: Mapped[str | None] = mapped_column(String(50))
    # encrypted at rest, never shown unmasked
    legal_rep_id_number: Mapped[str | None] = mapped_column(EncryptedText)
    industry_code: Mapped[str | None] = mapped_column(String(4))
    # from the credit code's characters 3-8 at registration; a county's code once the profile is complete
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    park: Mapped[str | None] = mapped_column(String(100))
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # consent to be recommended to banks in the monthly white-list push (marketplace.lists); None: no
    recommend_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recommend_consent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # days from an invoice's issue to its due date, for receivables imported from invoices (set once
    # at the first invoice import, marketplace/receivables/invoice_import.py); None: not yet set
    default_payment_term_days: Mapped[int | None] = mapped_column(Integer)

    organisation = relationship("Organisation", back_populates="enterprise")

    @property
    def legal_rep_id_masked(self) -> str:
        return mask_id(self.legal_rep_id_number)


class CommitmentText(db.Model):
    """A version of the credit commitment's wording; signatures point at the version signed."""

    __tablename__ = "commitment_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    effective_from: Mapped[date] = mapped_column(Date)


class CommitmentSignature(db.Model):
    __tablename__ = "commitment_signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    text_id: Mapped[int] = mapped_column(ForeignKey("commitment_texts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str] = mapped_column(String(50))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))

    text = relationship("CommitmentText")
    user = relationship("User")
    enterprise = relationship("Enterprise")


class Consent(db.Model):
    """The enterprise lets one institution read some scopes of its data, for a purpose, for a while."""

    __tablename__ = "consents"
    __table_args__ = (CheckConstraint("valid_to >= valid_from", name="validity_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    grantee_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(200))  # the enterprise's own words
    # What the grantee may read for: codes of enterprises.consents.PURPOSES.
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    grantee = relationship("Organisation")
    enterprise = relationship("Enterprise")

    def state_on(self, day: date) -> str:
        """revoked, pending (not yet valid), expired or active."""
        if self.revoked_at is not None:
            return "revoked"
        if day < self.valid_from:
            return "pending"
        if day > self.valid_to:
            return "expired"
        return "active"

    def covers(self, scope: str, day: date, purpose: str | None = None) -> bool:
        """Active on `day`, `scope` granted, and (when given) the reading's purpose granted."""
        return (self.state_on(day) == "active" and scope in self.scopes
                and (purpose is None or purpose in (self.purposes or ())))
