"""Retention of the credit file (issue 14 item 8, design.md section 8).

- A negative credit record leaves every outward view CREDIT_NEGATIVE_RETENTION_YEARS (5) after
  its event ended (`ended_on`; 征信业管理条例 art. 16: from the day the conduct or event ended).
  A record without an end date is a matter still going on (an unpaid arrear, an enforcement
  under way): it stays, as it stays in the grade model (workflows.credit_model.record_expired),
  until its provider reports the end. The daily task
  (marketplace.credit.tasks.expire_negative_records, BEAT_SCHEDULE "credit-retention") sets
  `CreditRecord.retention_expired_at`, which `marketplace.credit.access.visible_to` excludes;
  the row stays, so the enterprise still sees it on its own file, marked 已过保存期. Each record
  so marked is one audit event (credit_record.retention_expired); a second run finds nothing.
- The access log (audit events credit_data.read / credit_data.denied) is kept at least
  CREDIT_ACCESS_LOG_RETENTION_YEARS (3). The audit log is append-only and HMAC-chained
  (marketplace/audit.py): nothing in the application deletes its rows, so the period is a floor
  the credit file's access log shows (`access_log_since`), never a deletion date.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select

from marketplace import audit
from marketplace.credit.models import CreditRecord
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from workflows.loans import add_months

DEFAULT_NEGATIVE_YEARS = 5
DEFAULT_ACCESS_LOG_YEARS = 3
RETENTION_ACTION = "credit_record.retention_expired"


def negative_retention_years() -> int:
    return int(current_app.config.get("CREDIT_NEGATIVE_RETENTION_YEARS", DEFAULT_NEGATIVE_YEARS))


def access_log_years() -> int:
    return int(current_app.config.get("CREDIT_ACCESS_LOG_RETENTION_YEARS", DEFAULT_ACCESS_LOG_YEARS))


def years_before(day: date, years: int) -> date:
    """`day` minus whole years (29 February becomes 28 February in a common year)."""
    return add_months(day, -12 * years)


def negative_cutoff(today: date | None = None) -> date:
    """A negative record whose event ended on or before this day is past retention today."""
    return years_before(today or today_shanghai(), negative_retention_years())


def retention_ends_on(record: CreditRecord) -> date | None:
    """The day a negative record leaves the outward views (None while its matter goes on)."""
    if record.ended_on is None:
        return None
    return add_months(record.ended_on, 12 * negative_retention_years())


def access_log_since(today: date | None = None) -> date:
    """The first day of the period the credit file's access log must show."""
    return years_before(today or today_shanghai(), access_log_years())


def expired_query(today: date | None = None):
    """Negative records past retention that still show outward (not yet marked)."""
    return (select(CreditRecord)
            .where(CreditRecord.polarity == "negative", CreditRecord.retention_expired_at.is_(None),
                   CreditRecord.ended_on <= negative_cutoff(today))
            .order_by(CreditRecord.id))


def expire_negative_records(today: date | None = None, *, batch: int = 500) -> list[int]:
    """Mark every negative record past retention on `today` (Shanghai) and audit each one;
    returns the ids marked. Idempotent: marked records are skipped, so a repeat marks nothing.
    Rows are locked (SKIP LOCKED) so two runs at once never mark a record twice. The caller commits."""
    today = today or today_shanghai()
    cutoff = negative_cutoff(today)
    years = negative_retention_years()
    marked: list[int] = []
    while True:
        query = expired_query(today).limit(batch)
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(db.session.scalars(query))
        if not rows:
            return marked
        now = utcnow()
        for record in rows:
            record.retention_expired_at = now
            audit.record(RETENTION_ACTION, record, enterprise_id=record.enterprise_id, kind=record.kind,
                         source=record.source, ended_on=record.ended_on.isoformat(), years=years,
                         cutoff=cutoff.isoformat())
            marked.append(record.id)
        db.session.flush()
