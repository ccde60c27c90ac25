"""The audit log: append-only rows chained by an HMAC keyed outside the database."""

from __future__ import annotations

from sqlalchemy import select, update

from marketplace import audit
from marketplace.audit import AuditEvent, verify_chain
from marketplace.extensions import db
from tests.conftest import AUDIT_KEY


def _three_events():
    return [audit.record("test.event", object_type="thing", object_id=i, n=i) for i in range(3)]


def test_each_event_chains_to_the_previous_one(ctx):
    first, second, third = _three_events()
    assert second.prev_hmac == first.hmac and third.prev_hmac == second.hmac
    assert verify_chain(AUDIT_KEY) == (db.session.scalar(select(db.func.count(AuditEvent.id))), None, None)


def test_altered_row_is_named_as_the_first_broken_one(ctx):
    _, second, _ = _three_events()
    db.session.execute(update(AuditEvent).where(AuditEvent.id == second.id).values(purpose="rewritten"))
    db.session.expire_all()
    checked, broken, why = verify_chain(AUDIT_KEY)
    assert broken.id == second.id and "altered" in why


def test_removed_row_breaks_the_chain_at_its_successor(ctx):
    _, second, third = _three_events()
    db.session.delete(db.session.get(AuditEvent, second.id))
    db.session.flush()
    checked, broken, why = verify_chain(AUDIT_KEY)
    assert broken.id == third.id and "removed" in why


def test_chain_cannot_be_rebuilt_without_the_key(ctx):
    _three_events()
    checked, broken, _ = verify_chain("some other key")
    assert broken is not None


def test_cli_verify_reports_ok_and_names_the_broken_row(app, ctx):
    _, second, _ = _three_events()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "chain intact" in ok.output
    db.session.execute(update(AuditEvent).where(AuditEvent.id == second.id).values(action="forged"))
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and f"id={second.id}" in broken.output


def test_event_records_actor_ip_and_details(ctx):
    event = audit.record("test.ip", object_type="thing", amount="12.50")
    assert event.ip == "203.0.113.9" and event.details == {"amount": "12.50"}


def test_credit_read_is_logged_against_the_enterprise(ctx):
    from tests.factories import EnterpriseFactory

    enterprise = EnterpriseFactory()
    event = audit.record_credit_read(enterprise.id, "enterprise_profile", purpose="review")
    assert event.enterprise_id == enterprise.id and event.action == "credit_data.read"
