"""The audit log: append-only rows chained by an HMAC keyed outside the database."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from marketplace import audit
from marketplace.audit import AuditEvent, verify_chain
from marketplace.extensions import db
from tests.conftest import AUDIT_KEY


def tamper(statement) -> None:
    """Bypass the append-only trigger as a superuser could (the test role is one)."""
    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(statement)
    db.session.execute(text("SET LOCAL session_replication_role = origin"))
    db.session.expire_all()


def _three_events():
    events = [audit.record("test.event", object_type="thing", object_id=i, n=i) for i in range(3)]
    audit.flush_pending()  # chained now, as a commit would (the tests read their ids)
    return events


def test_each_event_chains_to_the_previous_one(ctx):
    first, second, third = _three_events()
    assert second.prev_hmac == first.hmac and third.prev_hmac == second.hmac
    assert verify_chain(AUDIT_KEY) == (db.session.scalar(select(db.func.count(AuditEvent.id))), None, None)


def test_altered_row_is_named_as_the_first_broken_one(ctx):
    _, second, _ = _three_events()
    tamper(update(AuditEvent).where(AuditEvent.id == second.id).values(purpose="rewritten"))
    checked, broken, why = verify_chain(AUDIT_KEY)
    assert broken.id == second.id and "altered" in why


def test_removed_row_breaks_the_chain_at_its_successor(ctx):
    _, second, third = _three_events()
    tamper(delete(AuditEvent).where(AuditEvent.id == second.id))
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
    tamper(update(AuditEvent).where(AuditEvent.id == second.id).values(action="forged"))
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


@pytest.mark.parametrize("statement", [
    lambda: update(AuditEvent).values(purpose="x"), lambda: delete(AuditEvent), lambda: text("TRUNCATE audit_events"),
])
def test_the_database_refuses_to_change_or_remove_audit_rows(ctx, statement):
    _three_events()
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(statement())


def test_removing_the_last_rows_is_detected_by_the_anchor(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_EVERY", 0)  # the anchor's word, not a checkpoint's
    _, second, third = _three_events()
    tamper(delete(AuditEvent).where(AuditEvent.id >= second.id))
    checked, broken, why = verify_chain(AUDIT_KEY)
    assert broken is None and f"id={third.id}" in why and "removed from the end" in why


def test_removing_every_row_is_detected_by_the_anchor(ctx):
    _three_events()
    tamper(delete(AuditEvent))
    checked, broken, why = verify_chain(AUDIT_KEY)
    assert checked == 0 and why is not None and "removed" in why


def test_the_anchor_follows_each_insert(ctx):
    *_, third = _three_events()
    anchor = audit.read_anchor()
    assert (anchor.last_event_id, anchor.last_hmac) == (third.id, third.hmac)
    assert anchor.events == db.session.scalar(select(db.func.count(AuditEvent.id)))


def test_rolling_the_anchor_back_past_a_signed_checkpoint_is_detected(ctx):
    first, _, _ = _three_events()
    audit.write_checkpoint(AUDIT_KEY)
    assert verify_chain(AUDIT_KEY)[2] is None
    # Whoever can bypass triggers removes the tail and sets the anchor back consistently ...
    tamper(delete(AuditEvent).where(AuditEvent.id > first.id))
    count = db.session.scalar(select(db.func.count(AuditEvent.id)))
    tamper(update(audit.AuditAnchor).values(last_event_id=first.id, last_hmac=first.hmac, events=count))
    # ... but the checkpoint, signed with the key, still names the removed head.
    checked, broken, why = verify_chain(AUDIT_KEY)
    assert "checkpoint" in why and "cut short" in why


def test_a_checkpoint_without_the_key_is_refused(ctx):
    _three_events()
    checkpoint = audit.write_checkpoint(AUDIT_KEY)
    tamper(update(audit.AuditCheckpoint).where(audit.AuditCheckpoint.id == checkpoint.id).values(events=1))
    assert "not signed" in verify_chain(AUDIT_KEY)[2]


def test_checkpoints_are_written_every_n_events(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_EVERY", 2)
    before = db.session.scalar(select(db.func.count(audit.AuditCheckpoint.id)))
    events = _three_events()
    written = db.session.scalar(select(db.func.count(audit.AuditCheckpoint.id))) - before
    # chained together at commit: one checkpoint for the batch, as three ids hold one or two even ones
    assert any(event.id % 2 == 0 for event in events) and written == 1
    assert verify_chain(AUDIT_KEY)[2] is None


def test_cli_names_a_truncated_chain(app, ctx, monkeypatch):
    # no checkpoint among the three (one falls wherever an id is a multiple of the setting: it would
    # name the last of them, and tell the cut itself)
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_EVERY", 0)
    first, _, _ = _three_events()
    tamper(delete(AuditEvent).where(AuditEvent.id > first.id))
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "BROKEN" in result.output and "removed from the end" in result.output


@pytest.mark.parametrize("statement", [
    lambda: delete(audit.AuditAnchor), lambda: text("TRUNCATE audit_anchors"),
    lambda: update(audit.AuditCheckpoint).values(events=0), lambda: text("TRUNCATE audit_checkpoints"),
])
def test_the_database_refuses_to_remove_the_anchor_or_change_checkpoints(ctx, statement):
    _three_events()
    audit.write_checkpoint(AUDIT_KEY)
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(statement())


def test_a_read_of_a_request_is_logged_as_that_request_not_as_the_enterprise(ctx):
    from tests.factories import EnterpriseFactory

    enterprise = EnterpriseFactory()
    event = audit.record_credit_read(enterprise.id, "financing_request", purpose="financing_review", request_id=6)
    assert (event.object_type, event.object_id, event.enterprise_id) == ("financing_request", "6", enterprise.id)
    report = audit.record_credit_read(enterprise.id, "verification_report", purpose="financing_review",
                                      request_id=6, report_id=41)
    assert report.object_id == "41"


def _holding_the_chain_lock() -> bool:
    return bool(db.session.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                       "AND objid = 727001 AND pid = pg_backend_pid()")))


def test_events_are_chained_at_commit_so_the_lock_is_held_only_at_the_end(ctx):
    event = audit.record("test.late", object_type="thing")
    db.session.execute(select(db.func.count()).select_from(audit.AuditAnchor))  # other reads: still not chained
    with db.session.begin_nested():  # a savepoint released is not the transaction's end
        audit.record("test.inner", object_type="thing")
    assert event.id is None and not _holding_the_chain_lock()
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "test.late")) is event  # reads see it
    assert event.hmac and _holding_the_chain_lock()


def test_events_of_a_savepoint_that_rolls_back_are_dropped_with_it(ctx):
    kept = audit.record("test.kept", object_type="thing")
    savepoint = db.session.begin_nested()
    audit.record("test.dropped", object_type="thing")
    inner = db.session.begin_nested()
    audit.record("test.dropped", object_type="thing")
    inner.commit()
    savepoint.rollback()
    audit.flush_pending()
    assert kept.id and not db.session.scalar(select(AuditEvent).where(AuditEvent.action == "test.dropped"))
