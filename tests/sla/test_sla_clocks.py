"""SLA clocks on financing requests: due moments in working days across holidays, the bank's
clock paused while the enterprise answers, the sweep that marks late requests stuck once and
tells the people concerned, and the CLI and beat fronts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.audit import AuditEvent
from marketplace.celery import TASK_MODULES
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.sla import services
from tests.sla.helpers import make_scene, sh


@pytest.fixture
def scene(app, monkeypatch):
    """A request entering bank review on Wednesday 30 September 2026 at 10:00, Beijing time."""
    with app.test_request_context():
        made = make_scene(monkeypatch, sh("2026-09-30 09:00"))
        made.into_bank_review(sh("2026-09-30 10:00"))
        yield made


def told(kind="sla.breached") -> set[int]:
    return set(db.session.scalars(select(Notification.user_id).where(Notification.kind == kind)))


def breach_audits(request_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "financing.sla_breached", AuditEvent.object_id == str(request_id)))


def test_submission_starts_the_platforms_one_day_clock_across_mid_autumn(app, monkeypatch):
    with app.test_request_context():
        scene = make_scene(monkeypatch, sh("2026-09-24 15:00"))  # Thursday; Friday to Sunday off
        assert scene.request.state == "submitted"
        assert scene.request.sla_due_at == sh("2026-09-28 15:00")


def test_bank_review_is_due_five_working_days_later_across_national_day(scene):
    # 8, 9, 10 (a make-up Saturday), 12 and 13 October
    assert scene.request.state == "bank_review"
    assert scene.request.sla_due_at == sh("2026-10-13 10:00")
    assert scene.request.stuck is False


def test_routed_to_bank_gives_the_bank_two_working_days(app, monkeypatch):
    with app.test_request_context():
        scene = make_scene(monkeypatch, sh("2026-09-29 09:00"))
        for name in ("start_verification", "complete_verification"):
            scene.move(name, sh("2026-09-29 10:00"))
        scene.move("route_to_bank", sh("2026-09-29 10:00"), facts={"classification": "excellent",
                                                                  "route_targets": 1})
        assert scene.request.sla_due_at == sh("2026-10-08 10:00")  # 29-30 September, then the holidays


def test_the_review_clock_pauses_while_the_enterprise_answers(app, monkeypatch):
    with app.test_request_context():
        scene = make_scene(monkeypatch, sh("2026-10-30 09:00"))
        scene.into_bank_review(sh("2026-10-30 10:00"))               # Friday
        assert scene.request.sla_due_at == sh("2026-11-06 10:00")

        scene.move("request_info", sh("2026-11-03 10:00"), scene.officer)  # Tuesday: 2 working days used
        assert scene.request.sla_due_at == sh("2026-11-10 10:00")    # the enterprise's 5 working days

        scene.move("answer_info", sh("2026-11-13 10:00"), scene.owner)     # 10 days later, a Friday
        # 3 working days remain from the answer: Monday 16, Tuesday 17, Wednesday 18 November
        assert scene.request.state == "bank_review"
        assert scene.request.sla_due_at == sh("2026-11-18 10:00")

        # a second question after 1 more working day leaves 2 after the second answer
        scene.move("request_info", sh("2026-11-16 10:00"), scene.officer)
        scene.move("answer_info", sh("2026-11-17 10:00"), scene.owner)
        assert scene.request.sla_due_at == sh("2026-11-19 10:00")


def test_a_review_after_a_new_routing_starts_a_fresh_clock(scene):
    scene.move("decline", sh("2026-10-08 10:00"), scene.officer)
    assert scene.request.sla_due_at == sh("2026-10-09 10:00")        # the platform's 1 working day
    scene.move("reroute_to_bank", sh("2026-10-08 11:00"), facts={"has_next_bank": True})
    scene.move("start_bank_review", sh("2026-10-09 10:00"), scene.officer)
    assert scene.request.sla_due_at == sh("2026-10-15 10:00")        # 10 (Saturday), 12, 13, 14, 15


def test_states_without_a_clock_have_no_due_moment(scene):
    scene.move("withdraw", sh("2026-10-08 10:00"), scene.owner)
    assert scene.request.sla_due_at is None and scene.request.stuck is False


def test_configured_days_and_a_table_year_are_used(app, monkeypatch):
    monkeypatch.setitem(app.config, "SLA_WORKING_DAYS", {"bank_review": 2})
    monkeypatch.setitem(app.config, "WORKING_DAY_TABLE", {"2027": {"holidays": ["2027-10-01..2027-10-07"],
                                                                   "workdays": ["2027-10-09"]}})
    with app.test_request_context():
        scene = make_scene(monkeypatch, sh("2027-09-30 09:00"))
        scene.into_bank_review(sh("2027-09-30 10:00"))               # Thursday
        assert scene.request.sla_due_at == sh("2027-10-09 10:00")    # Friday 8, Saturday 9 (make-up)


# ---- the sweep ------------------------------------------------------------------------------

def test_the_sweep_marks_a_late_request_stuck_once_and_tells_the_bank_and_the_bureau(scene):
    on_time = services.sweep_breaches(sh("2026-10-13 10:00"))
    assert on_time == [] and not scene.request.stuck

    assert services.sweep_breaches(sh("2026-10-13 10:01")) == [scene.request.id]
    assert scene.request.stuck is True
    assert scene.request.state == "bank_review"                      # the state does not change
    assert breach_audits(scene.request.id) == 1
    # the holding bank's officer and approver, the bureaus whose region holds the enterprise
    assert told() == {scene.officer.id, scene.approver.id, scene.local_bureau.id, scene.province_bureau.id}
    note = db.session.scalar(select(Notification).where(Notification.user_id == scene.officer.id))
    assert note.title == f"融资申请 #{scene.request.id} 已超时：银行审查中"
    assert "2026-10-13 10:00" in note.body and note.link == f"/institution/requests/{scene.request.id}"

    assert services.sweep_breaches(sh("2026-10-14 10:00")) == []     # a second sweep does nothing more
    assert breach_audits(scene.request.id) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.kind == "sla.breached")) == 4


def test_a_transition_clears_stuck_and_starts_the_next_clock(scene):
    services.sweep_breaches(sh("2026-10-14 10:00"))
    scene.move("make_offer", sh("2026-10-14 11:00"), scene.officer)
    assert scene.request.stuck is False
    assert scene.request.sla_due_at == sh("2026-10-21 11:00")


def test_a_late_answer_tells_the_enterprise_not_the_bank(scene):
    scene.move("request_info", sh("2026-10-08 10:00"), scene.officer)
    assert services.sweep_breaches(sh("2026-10-16 10:01")) == [scene.request.id]   # 9, 10, 12, 13, 14
    assert told() == {scene.owner.id, scene.colleague.id, scene.local_bureau.id, scene.province_bureau.id}
    note = db.session.scalar(select(Notification).where(Notification.user_id == scene.owner.id))
    assert "待补充材料" in note.body and note.link == f"/financing/{scene.request.id}"


def test_a_stuck_automatic_step_tells_the_platform(app, monkeypatch):
    with app.test_request_context():
        scene = make_scene(monkeypatch, sh("2026-11-02 10:00"))
        scene.move("start_verification", sh("2026-11-02 10:00"))
        assert services.sweep_breaches(sh("2026-11-03 10:01")) == [scene.request.id]
        assert told() == {scene.platform_admin.id, scene.local_bureau.id, scene.province_bureau.id}


def test_finished_and_clockless_requests_are_never_swept(scene):
    scene.move("withdraw", sh("2026-10-08 10:00"), scene.owner)
    scene.request.sla_due_at = sh("2026-10-08 10:00")                # even with a stale due moment
    assert services.sweep_breaches(sh("2027-01-01 00:00")) == []


def test_recompute_applies_a_new_configuration(app, scene, monkeypatch):
    services.sweep_breaches(sh("2026-10-14 10:00"))
    monkeypatch.setitem(app.config, "SLA_WORKING_DAYS", {"bank_review": 10})
    assert services.recompute(sh("2026-10-14 10:00")) == 1
    assert scene.request.sla_due_at == sh("2026-10-20 10:00")
    assert scene.request.stuck is False


# ---- the fronts -----------------------------------------------------------------------------

def test_flask_sla_sweep_prints_how_many_became_stuck(app, scene):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sla", "sweep"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 request(s) became stuck"     # now is long after 13 October
    assert runner.invoke(args=["sla", "sweep"]).output.strip() == "0 request(s) became stuck"


def test_the_sweep_runs_every_fifteen_minutes(app):
    assert "marketplace.sla.tasks" in TASK_MODULES
    entry = app.extensions["celery"].conf.beat_schedule["sla-sweep"]
    assert entry["task"] == "marketplace.sla.tasks.sweep_sla_breaches"
    assert entry["schedule"] == timedelta(minutes=15).total_seconds()
