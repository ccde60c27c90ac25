"""Retention (issue 14 item 8): a negative record leaves every outward view
CREDIT_NEGATIVE_RETENTION_YEARS after its event ended (ended_on; a matter without an end stays), marked by a
daily, audited, idempotent task; the enterprise still sees it. The access log is never deleted and
the credit file shows at least CREDIT_ACCESS_LOG_RETENTION_YEARS of it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from marketplace import audit
from marketplace.accounts.roles import OrgKind
from marketplace.audit import AuditEvent
from marketplace.celery import BEAT_SCHEDULE
from marketplace.credit import retention, tasks
from marketplace.credit.access import visible_to
from marketplace.credit.models import CreditRecord
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from tests.credit.conftest import make_provider
from tests.factories import EnterpriseFactory, OrganisationFactory, grant_consent_to

TODAY = date(2026, 12, 6)


def years_ago(years: int, days: int = 0) -> date:
    return date(TODAY.year - years, TODAY.month, TODAY.day) - timedelta(days=days)


@pytest.fixture
def kept(ctx):
    """An enterprise whose every record a bank may see (all scopes consented)."""
    enterprise = EnterpriseFactory()
    bank = OrganisationFactory(kind=OrgKind.BANK)
    grant_consent_to(enterprise, bank.id, scopes=("tax", "court", "penalties"))
    return {"enterprise": enterprise, "bank": bank, "tax": make_provider("tax").organisation}


def add(kept, record_id: str, *, occurred_on: date, ended_on: date | None = None, kind: str = "tax_arrears",
        polarity: str = "negative") -> CreditRecord:
    row = CreditRecord(enterprise_id=kept["enterprise"].id, provider_org_id=kept["tax"].id, source="tax",
                       provider_record_id=record_id, kind=kind, polarity=polarity, title=record_id,
                       occurred_on=occurred_on, ended_on=ended_on, details={}, payload_digest="0" * 64)
    db.session.add(row)
    db.session.flush()
    return row


def bank_sees(kept) -> set[str]:
    return set(db.session.scalars(select(CreditRecord.provider_record_id).where(visible_to(kept["bank"]))))


def retention_events() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == retention.RETENTION_ACTION)
                                   .order_by(AuditEvent.id)))


def test_a_negative_record_ended_five_years_ago_leaves_outward_views_but_not_one_ended_four_years_ago(kept):
    add(kept, "ENDED-5Y", occurred_on=years_ago(7), ended_on=years_ago(5))
    add(kept, "ENDED-4Y", occurred_on=years_ago(7), ended_on=years_ago(4))
    assert bank_sees(kept) == {"ENDED-5Y", "ENDED-4Y"}
    retention.expire_negative_records(TODAY)
    assert bank_sees(kept) == {"ENDED-4Y"}


def test_a_matter_without_an_end_stays_however_long_ago_it_began(kept):
    add(kept, "OPEN-9Y", occurred_on=years_ago(9))   # an arrear still unpaid: the event has not ended
    add(kept, "ENDED-5Y-MINUS-1D", occurred_on=years_ago(9), ended_on=years_ago(5, days=-1))
    assert retention.expire_negative_records(TODAY) == []
    assert bank_sees(kept) == {"OPEN-9Y", "ENDED-5Y-MINUS-1D"}


def test_a_record_past_retention_no_longer_counts_in_the_grade(kept):
    from marketplace.credit import grading

    record = add(kept, "ENDED-6Y", occurred_on=years_ago(8), ended_on=years_ago(6))
    assert [r.status for r in grading._records(record.enterprise_id)] == ["active"]
    retention.expire_negative_records(TODAY)
    assert [r.status for r in grading._records(record.enterprise_id)] == ["removed"]


def test_positive_and_neutral_records_are_kept_however_old(kept):
    add(kept, "PAID-9Y", occurred_on=years_ago(9), kind="tax_paid", polarity="positive")
    assert retention.expire_negative_records(TODAY) == []
    assert bank_sees(kept) == {"PAID-9Y"}


def test_the_run_is_audited_and_idempotent(kept):
    old = add(kept, "ENDED-6Y", occurred_on=years_ago(8), ended_on=years_ago(6))
    assert retention.expire_negative_records(TODAY) == [old.id]
    marked_at = old.retention_expired_at
    assert retention.expire_negative_records(TODAY) == []
    assert old.retention_expired_at == marked_at
    event, = retention_events()
    assert (event.object_type, event.object_id, event.enterprise_id) == ("credit_records", str(old.id),
                                                                         kept["enterprise"].id)
    assert event.details["years"] == 5 and event.details["ended_on"] == years_ago(6).isoformat()


def test_the_enterprise_still_has_the_record(kept):
    old = add(kept, "ENDED-6Y", occurred_on=years_ago(8), ended_on=years_ago(6))
    retention.expire_negative_records(TODAY)
    enterprise_org = kept["enterprise"].organisation
    assert db.session.scalar(select(CreditRecord.id).where(visible_to(enterprise_org))) == old.id


def test_the_period_is_configuration(app, kept):
    add(kept, "ENDED-4Y", occurred_on=years_ago(7), ended_on=years_ago(4))
    app.config["CREDIT_NEGATIVE_RETENTION_YEARS"] = 3
    try:
        retention.expire_negative_records(TODAY)
    finally:
        app.config["CREDIT_NEGATIVE_RETENTION_YEARS"] = 5
    assert bank_sees(kept) == set()


def test_the_daily_task_marks_and_commits_once(kept):
    add(kept, "ENDED-10Y", occurred_on=years_ago(12), ended_on=years_ago(10))
    assert tasks.expire_negative_records.run() == 1
    assert tasks.expire_negative_records.run() == 0
    assert len(retention_events()) == 1


def test_the_task_runs_daily_from_the_beat_schedule():
    entry = BEAT_SCHEDULE["credit-retention"]
    assert entry["task"] == "marketplace.credit.tasks.expire_negative_records"
    assert entry["schedule"].hour == {0}


def test_access_log_retention_is_configuration_and_at_least_three_years(app, ctx):
    assert app.config["CREDIT_ACCESS_LOG_RETENTION_YEARS"] >= 3
    assert retention.access_log_since(TODAY) == date(2023, 12, 6)


def test_the_credit_file_shows_access_log_entries_of_the_whole_period(app, kept):
    """An entry two years old still shows; nothing is deleted, so one older than the period is
    only left off the file's page (the full access log shows everything)."""
    from marketplace.enterprises.access_log import access_log_query

    enterprise = kept["enterprise"]
    now = audit.utcnow()
    recent = audit.record("credit_data.read", object_type="credit_file", enterprise_id=enterprise.id,
                          purpose="financing_review", occurred_at=now - timedelta(days=2 * 365))
    older = audit.record("credit_data.read", object_type="credit_file", enterprise_id=enterprise.id,
                         purpose="financing_review", occurred_at=now - timedelta(days=4 * 365))
    shown = set(db.session.scalars(access_log_query(enterprise.id, since=retention.access_log_since())))
    assert recent in shown and older not in shown
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.id == older.id)) == 1
    assert today_shanghai() > retention.access_log_since()
