"""Which institutions hold an enterprise's valid consent: asked in Python for one enterprise, or
written into SQL (an EXISTS clause) for queues that filter thousands of rows.

A consent is valid on a day when it is not revoked and the day lies within its validity dates.
A request is routed to, and seen by, an institution only while it holds a valid consent whose
scopes include the enterprise's bank statements (ROUTING_SCOPE): the verification report, the
statements and the receivables' documents it reviews are all read under that consent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Boolean, exists, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from marketplace.accounts.models import Organisation
from marketplace.enterprises.models import Consent
from marketplace.extensions import db
from marketplace.formatting import today_shanghai

ROUTING_SCOPE = "bank_statements"
# After the money is out, institutions read to monitor the loan or guarantee, not to decide on it.
POST_LOAN_STATES = frozenset({"disbursed", "repaying", "closed"})


def review_purpose(institution_kind: str) -> str:
    """The purpose an institution of this kind reviews a request for: a guarantor's guarantee
    review, anyone else's financing review."""
    return "guarantee_review" if institution_kind == "guarantor" else "financing_review"


def default_purposes(institution_kind: str) -> list[str]:
    """What a consent grants when the enterprise names no purpose: the review the institution does
    and, should it finance or guarantee, the monitoring that follows."""
    return [review_purpose(institution_kind), "post_loan"]


def reading_purpose(institution_kind: str, request_state: str | None = None) -> str:
    """The purpose of a read by an institution of this kind of a request in this state."""
    if request_state in POST_LOAN_STATES:
        return "post_loan"
    return review_purpose(institution_kind)


class scope_included(FunctionElement):  # noqa: N801  (an SQL function, named as SQL names them)
    """SQL: the consent's JSON list of scopes holds `scope`, on PostgreSQL and SQLite alike."""

    type = Boolean()
    name = "scope_included"
    inherit_cache = True


@compiles(scope_included, "postgresql")
def _scope_included_postgresql(element, compiler, **kw):
    scopes, scope = list(element.clauses)
    return (f"(CAST({compiler.process(scopes, **kw)} AS JSONB) @> "
            f"jsonb_build_array(CAST({compiler.process(scope, **kw)} AS TEXT)))")


@compiles(scope_included)
def _scope_included_default(element, compiler, **kw):  # SQLite: the list is JSON text
    scopes, scope = list(element.clauses)
    return (f"EXISTS (SELECT 1 FROM json_each({compiler.process(scopes, **kw)}) "
            f"WHERE json_each.value = {compiler.process(scope, **kw)})")


def valid_consent(enterprise_id, institution_id, day, scope: str = ROUTING_SCOPE):
    """SQL: some consent of the enterprise lets the institution read `scope` on `day`. Each
    argument may be a value, a bound parameter or a column of the outer query (correlated)."""
    return exists().where(
        Consent.enterprise_id == enterprise_id, Consent.grantee_org_id == institution_id,
        Consent.revoked_at.is_(None), Consent.valid_from <= day, Consent.valid_to >= day,
        scope_included(Consent.scopes, literal(scope)),
    )


def consenting_enterprises(institution_id, day, scope: str = ROUTING_SCOPE):
    """SQL: the ids of the enterprises whose consent lets the institution read `scope` on `day`.
    Not correlated with an outer query, so PostgreSQL builds it once and probes it as a hash
    (the desk queue filters a whole institution's rows with it)."""
    return select(Consent.enterprise_id).where(
        Consent.grantee_org_id == institution_id, Consent.revoked_at.is_(None), Consent.valid_from <= day,
        Consent.valid_to >= day, scope_included(Consent.scopes, literal(scope)))


def consenting_institutions(enterprise_id: int, institution_ids: Iterable[int], scope: str = ROUTING_SCOPE,
                            day: date | None = None) -> set[int]:
    """Those of `institution_ids` that may read `scope` of the enterprise's data on `day` (today)
    for the review they would do: a consent granted only for post-loan monitoring routes nothing."""
    ids = set(institution_ids)
    if not ids:
        return set()
    day = day or today_shanghai()
    rows = db.session.execute(
        select(Consent, Organisation.kind).join(Organisation, Organisation.id == Consent.grantee_org_id)
        .where(Consent.enterprise_id == enterprise_id, Consent.grantee_org_id.in_(ids))).all()
    return {consent.grantee_org_id for consent, kind in rows
            if consent.covers(scope, day, review_purpose(kind))}


def holds_consent(enterprise_id: int, institution_id: int, scope: str = ROUTING_SCOPE,
                  day: date | None = None) -> bool:
    """Whether the institution may read `scope` now (nothing logged: see services.has_consent)."""
    return institution_id in consenting_institutions(enterprise_id, [institution_id], scope, day)
