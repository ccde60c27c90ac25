"""A real Celery worker on Redis is killed with SIGKILL in the middle of a verification; after
redelivery to a second worker there is exactly one report and one notification of each kind.

The worker processes run `celery -A wsgi.celery worker` against a database of their own (real
commits), a Redis key prefix of their own, and a visibility timeout of a few seconds so the
unacknowledged task comes back quickly. VERIFICATION_PAUSE_SECONDS holds the first worker
between the run's two transactions: after "verifying" is committed, before the report.
"""

from __future__ import annotations

import json
import os
import re
import select as io_select
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import create_database, database_name, drop_database, make_test_config
from tests.workers import stop_worker

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

pytestmark = pytest.mark.xdist_group("celery-worker")


@pytest.fixture(autouse=True)
def db_session():
    """The workers commit for real into their own database; no rollback fixture here."""
    yield None


@pytest.fixture
def worker_setup(testrun_uid, worker_id, tmp_path_factory, app):
    yield from _worker_setup(testrun_uid, worker_id, tmp_path_factory, app,
                             {"visibility_timeout": 4, "unacked_restore_interval": 1, "unacked_restore_throttle": 1})


@pytest.fixture
def production_worker_setup(testrun_uid, worker_id, tmp_path_factory, app):
    """As in production: an unacked message comes back only after 6 hours."""
    yield from _worker_setup(testrun_uid, worker_id, tmp_path_factory, app, {"visibility_timeout": 6 * 3600})


def _worker_setup(testrun_uid, worker_id, tmp_path_factory, app, transport_options: dict):
    name = database_name("celery", testrun_uid, worker_id)
    url = create_database(name)
    prefix = f"test-{testrun_uid[:10]}-{worker_id}:"
    celery_config = {
        "broker_url": REDIS_URL,
        "task_always_eager": False,
        "task_ignore_result": True,
        "task_default_queue": f"verify-{testrun_uid[:10]}-{worker_id}",
        "broker_transport_options": transport_options | {"global_keyprefix": prefix},
        "worker_prefetch_multiplier": 1,
    }
    config = make_test_config(url, tmp_path_factory) | {"CELERY": celery_config}
    instance = tmp_path_factory.mktemp("celery-instance")
    from flask_migrate import upgrade

    from marketplace import create_app

    worker_app = create_app(config, instance_path=str(instance))
    with worker_app.app_context():
        upgrade()
    env = os.environ | {
        "FLASK_SQLALCHEMY_DATABASE_URI": url, "FLASK_SECRET_KEY": config["SECRET_KEY"],
        "FLASK_AUDIT_KEY": config["AUDIT_KEY"], "FLASK_CELERY": json.dumps(celery_config),
        "FLASK_UPLOAD_FOLDER": config["UPLOAD_FOLDER"], "MARKETPLACE_INSTANCE_PATH": str(instance),
    } | ({"FLASK_ENCRYPTION_KEY": config["ENCRYPTION_KEY"]} if config.get("ENCRYPTION_KEY") else {})
    yield worker_app, env, celery_config
    app.extensions["celery"].set_current()  # the suite's eager Celery app again
    app.extensions["celery"].set_default()
    from marketplace.extensions import db

    with worker_app.app_context():
        db.session.remove()
        db.engine.dispose()
    _flush_redis(prefix)
    drop_database(name)


def broker_drained(celery_config: dict) -> bool:
    """Nothing left to deliver or to deliver again: the queue's list is empty and no message is
    unacknowledged (the tasks ack late, so a message leaves the unacked hash only once its run
    finished, and kombu moves one back to the queue in a transaction)."""
    import redis

    prefix = celery_config["broker_transport_options"]["global_keyprefix"]
    client = redis.Redis.from_url(REDIS_URL)
    return client.llen(prefix + celery_config["task_default_queue"]) == 0 and client.hlen(prefix + "unacked") == 0


def _flush_redis(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)


def start_worker(env: dict, queue: str, name: str, pause: int) -> subprocess.Popen:
    return subprocess.Popen(
        [CELERY, "-A", "wsgi.celery", "worker", "--pool=solo", "-Q", queue, "-n", f"{name}@%h", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "-l", "info"],
        cwd=ROOT, env=env | {"FLASK_VERIFICATION_PAUSE_SECONDS": str(pause)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )


def wait_for(check, timeout: float, what: str, worker: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker exited ({worker.returncode}) before {what}:\n"
                        + worker.stdout.read().decode(errors="replace")[-4000:])
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def wait_until_ready(worker: subprocess.Popen, timeout: float = 90) -> str:
    """Read the worker's output until Celery says it is ready (it consumes from then on); what it
    printed so far."""
    return read_until(worker, re.compile(r" ready\."), "", timeout, "get ready")


def read_until(worker: subprocess.Popen, pattern: re.Pattern, printed: str, timeout: float, what: str) -> str:
    """Read the worker's output until `pattern` appears in what it printed after `printed`; all it
    printed so far."""
    seen = b""
    deadline = time.monotonic() + timeout
    while not pattern.search(seen.decode(errors="replace")):
        if time.monotonic() > deadline or worker.poll() is not None:
            pytest.fail(f"the worker did not {what}:\n" + (printed + seen.decode(errors="replace"))[-4000:])
        if io_select.select([worker.stdout], [], [], 0.5)[0]:
            seen += os.read(worker.stdout.fileno(), 65536)
    return printed + seen.decode(errors="replace")


def stop(worker: subprocess.Popen, printed: str = "") -> str:
    """Stop the worker; what it printed (`printed`: what was read of it before)."""
    stop_worker(worker)
    return printed + worker.stdout.read().decode(errors="replace")


def test_a_worker_killed_mid_verification_leaves_one_report_and_one_notification(worker_setup):
    from marketplace.extensions import db
    from marketplace.financing.models import FinancingRequest
    from marketplace.notifications.models import Notification
    from marketplace.verification.models import VerificationReport
    from tests.verification.cases import build, submit

    worker_app, env, celery_config = worker_setup
    queue = celery_config["task_default_queue"]
    with worker_app.app_context():
        case = build(worker_app, "excellent")
        db.session.commit()
        owner_id, bank_user_id, request_id = case.owner.id, case.bank_staff.id, case.request.id
        submit(worker_app, case)  # commits, then publishes the task to Redis

    def state() -> str:
        with worker_app.app_context():
            value = db.session.scalar(select(FinancingRequest.state).where(FinancingRequest.id == request_id))
            db.session.remove()
            return value

    def counts() -> tuple[int, list]:
        with worker_app.app_context():
            reports = db.session.scalar(select(func.count(VerificationReport.id))
                                        .where(VerificationReport.request_id == request_id))
            told = db.session.execute(select(Notification.user_id, Notification.kind, func.count())
                                      .group_by(Notification.user_id, Notification.kind)
                                      .order_by(Notification.kind)).all()
            db.session.remove()
            return reports, [tuple(row) for row in told]

    assert state() == "submitted"
    first = start_worker(env, queue, "first", pause=120)
    try:
        wait_for(lambda: state() == "verifying", 60, "the first worker to start verifying", first)
        os.killpg(first.pid, signal.SIGKILL)  # in the middle: "verifying" committed, no report yet
        first.wait(timeout=10)
    finally:
        stop(first)
    assert first.returncode == -signal.SIGKILL
    assert state() == "verifying" and counts()[0] == 0

    second = start_worker(env, queue, "second", pause=0)
    try:
        wait_for(lambda: state() == "routed_to_bank", 90, "the redelivered task to finish", second)
        # every copy of the message delivered and acknowledged: none can come back and run again
        wait_for(lambda: broker_drained(celery_config), 30, "the broker to hold nothing unacknowledged", second)
        reports, told = counts()
    finally:
        log = stop(second)
    assert reports == 1, log
    assert all(count == 1 for _user, _kind, count in told), told  # nothing told twice
    assert {(user, kind) for user, kind, _count in told} >= {(bank_user_id, "request.routed"),
                                                             (owner_id, "verification.done")}
    assert "verify_request" in log and "succeeded" in log


def test_a_worker_killed_mid_verification_is_recovered_by_the_sweeper_not_the_visibility_timeout(
        production_worker_setup):
    """The issue's case: the whole worker is SIGKILLed, its message stays unacked for 6 hours and a
    restarted worker does not get it. The stalled-verification sweeper (here run as if the stall
    time had passed) sends it again; the restarted worker makes the one report."""
    from sqlalchemy import Interval, literal, update

    from marketplace.extensions import db
    from marketplace.financing.models import FinancingRequest
    from marketplace.outbox import OutboxMessage
    from marketplace.verification import stalls
    from marketplace.verification.models import VerificationReport
    from tests.verification.cases import build, submit

    worker_app, env, celery_config = production_worker_setup
    queue = celery_config["task_default_queue"]
    with worker_app.app_context():
        case = build(worker_app, "excellent")
        db.session.commit()
        request_id = case.request.id
        submit(worker_app, case)

    def state_and_reports() -> tuple[str, int]:
        with worker_app.app_context():
            value = db.session.scalar(select(FinancingRequest.state).where(FinancingRequest.id == request_id))
            reports = db.session.scalar(select(func.count(VerificationReport.id))
                                        .where(VerificationReport.request_id == request_id))
            db.session.remove()
            return value, reports

    first = start_worker(env, queue, "first", pause=120)
    try:
        wait_for(lambda: state_and_reports()[0] == "verifying", 60, "the first worker to start verifying", first)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    second = start_worker(env, queue, "second", pause=0)
    printed = ""
    try:
        printed = wait_until_ready(second)
        # a message sent after the restart is consumed and run: the worker took from the queue, and
        # the killed worker's unacked message did not come back with it
        probe = worker_app.extensions["celery"].send_task("celery.accumulate", args=(1,), queue=queue)
        printed = read_until(second, re.compile(rf"{probe.id}\] succeeded"), printed, 60, "run the probe task")
        assert state_and_reports() == ("verifying", 0)
        assert not broker_drained(celery_config)  # the killed worker's message, still unacknowledged
        with worker_app.app_context(), worker_app.test_request_context():
            stale = OutboxMessage.created_at - literal(timedelta(minutes=10), Interval())
            db.session.execute(update(OutboxMessage).values(created_at=stale))  # ten minutes later
            assert stalls.resend_stalled() == {"resent": 1, "flagged": 0}
            db.session.remove()
        wait_for(lambda: state_and_reports()[0] == "routed_to_bank", 90, "the resent task to finish", second)
        result = state_and_reports()
    finally:
        log = stop(second, printed)
    assert result == ("routed_to_bank", 1), log
