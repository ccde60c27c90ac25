"""Request ids and JSON log lines (marketplace/observability.py): the id a request gets, its echo,
the shape of a line, and the id reaching the Celery tasks the request enqueues (eagerly through the
outbox, and through a real worker on Redis)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import shared_task

from marketplace import observability
from marketplace.observability import (
    JsonFormatter,
    current_request_id,
    remove_json_logging,
    request_id_var,
    task_var,
)
from tests.conftest import make_test_config
from tests.workers import stop_worker

ROOT = Path(__file__).resolve().parents[1]
CELERY = str(Path(sys.executable).with_name("celery"))
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ECHO_TASK = "tests.test_observability.echo_request_id"

seen_in_tasks: list[tuple[str | None, tuple | None]] = []


@shared_task(name=ECHO_TASK)
def echo_request_id():
    """Logs and records the request id and task it runs under (the real worker imports this module)."""
    logging.getLogger("tests.echo").info("echo %s", current_request_id())
    seen_in_tasks.append((current_request_id(), task_var.get()))
    return current_request_id()


def _line(stream: io.StringIO, **match) -> dict:
    for text in stream.getvalue().splitlines():
        entry = json.loads(text)
        if all(entry.get(key) == value for key, value in match.items()):
            return entry
    raise AssertionError(f"no JSON line with {match} in:\n{stream.getvalue()}")


@pytest.fixture
def json_app(app, database_url, tmp_path_factory):
    """An app logging JSON lines into a buffer (LOG_FORMAT json), its Celery not eager and its
    broker on a closed port; the root logger is put back afterwards."""
    from marketplace import create_app

    root = logging.getLogger()
    level = root.level
    config = make_test_config(database_url, tmp_path_factory) | {
        "LOG_FORMAT": "json", "READINESS_TIMEOUT": 1,
        "CELERY": {"broker_url": "redis://127.0.0.1:1/0", "task_always_eager": False, "task_ignore_result": True},
    }
    json_app = create_app(config, instance_path=str(tmp_path_factory.mktemp("json-logs")))
    handler = next(h for h in root.handlers if getattr(h, "_marketplace_json_handler", False))
    buffer = io.StringIO()
    handler.setStream(buffer)
    app.extensions["celery"].set_current()  # the suite's eager Celery app stays the default
    app.extensions["celery"].set_default()
    try:
        yield json_app, buffer
    finally:
        remove_json_logging()
        root.setLevel(level)


def test_a_log_line_is_one_json_object_with_time_zone_level_logger_message_and_request_id():
    record = logging.LogRecord("marketplace.x", logging.WARNING, __file__, 1, "收到 %s 条", (3,), None)
    token = request_id_var.set("req-1")
    try:
        entry = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert entry["level"] == "WARNING" and entry["logger"] == "marketplace.x"
    assert entry["message"] == "收到 3 条" and entry["request_id"] == "req-1"
    assert entry["time"].endswith("+00:00") and "T" in entry["time"]
    assert "task_id" not in entry


def test_an_exception_is_kept_inside_its_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line and "ValueError: boom" in json.loads(line)["exc"]


def test_the_callers_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a.2:9_x"})
    assert response.headers["X-Request-Id"] == "lb-7f3a.2:9_x"


@pytest.mark.parametrize("sent", ["a" * 65, "bad id", 'x"y', "\u4e2d\u6587", ""])
def test_an_unsafe_or_long_request_id_is_replaced_by_a_fresh_one(client, sent):
    answered = client.get("/healthz", headers={"X-Request-Id": sent}).headers["X-Request-Id"]
    assert answered != sent and len(answered) == 32 and answered.isalnum()


def test_each_request_without_an_id_gets_its_own(client):
    first, second = (client.get("/healthz").headers["X-Request-Id"] for _ in range(2))
    assert first != second
    assert current_request_id() is None  # nothing leaks out of the request


def test_json_logs_carry_the_request_id_of_the_request_that_logged(json_app):
    app, buffer = json_app
    response = app.test_client().get("/readyz", headers={"X-Request-Id": "probe-42"})
    assert response.status_code == 503  # the broker is on a closed port: readyz logs a warning
    entry = _line(buffer, logger=app.logger.name)
    assert entry["request_id"] == "probe-42" and entry["level"] == "WARNING"
    assert "broker" in entry["message"]
    assert set(entry) >= {"time", "level", "logger", "message", "request_id"}


def test_text_logs_stay_the_default_outside_production(app):
    assert observability.log_format(app.config) == "text"
    assert observability.log_format({"DEPLOYMENT": "production"}) == "json"
    assert observability.log_format({"DEPLOYMENT": "production", "LOG_FORMAT": "text"}) == "text"


def test_a_published_task_carries_the_request_id_and_the_worker_restores_it():
    headers: dict = {}
    token = request_id_var.set("req-99")
    try:
        observability._add_request_id_header(headers=headers)
    finally:
        request_id_var.reset(token)
    assert headers["request_id"] == "req-99"

    class FakeTask:
        name = "marketplace.x.task"

        class request:  # noqa: N801  (Celery's task.request context)
            request_id = "req-99"

    observability._task_started(task_id="t-1", task=FakeTask)
    assert current_request_id() == "req-99" and task_var.get() == ("t-1", "marketplace.x.task")
    observability._task_finished(task_id="t-1")
    assert current_request_id() is None and task_var.get() is None


def test_a_task_enqueued_through_the_outbox_runs_with_the_requests_id(app):
    from marketplace import outbox
    from marketplace.extensions import db

    seen_in_tasks.clear()
    with app.test_request_context("/", headers={"X-Request-Id": "web-req-1"}):
        app.preprocess_request()
        outbox.enqueue(ECHO_TASK)
        db.session.commit()  # after the commit the outbox sends it (eagerly here)
    assert len(seen_in_tasks) == 1
    request_id, task = seen_in_tasks[0]
    assert request_id == "web-req-1"
    assert task is not None and task[1] == ECHO_TASK


# ---- a real worker on Redis -------------------------------------------------------------------

@pytest.mark.xdist_group("celery-worker")
def test_a_real_worker_logs_the_task_with_the_request_id_of_the_request_that_sent_it(
        app, database_url, testrun_uid, worker_id, tmp_path_factory):
    from marketplace import create_app

    queue = f"obs-{testrun_uid[:10]}-{worker_id}"
    prefix = f"test-{queue}:"
    celery_config = {"broker_url": REDIS_URL, "task_always_eager": False, "task_ignore_result": True,
                     "task_default_queue": queue, "imports": ["tests.test_observability"],
                     "broker_transport_options": {"global_keyprefix": prefix}}
    config = make_test_config(database_url, tmp_path_factory) | {"CELERY": celery_config}
    instance = tmp_path_factory.mktemp("obs-worker")
    env = os.environ | {
        "FLASK_SQLALCHEMY_DATABASE_URI": database_url, "FLASK_SECRET_KEY": config["SECRET_KEY"],
        "FLASK_AUDIT_KEY": config["AUDIT_KEY"], "FLASK_ENCRYPTION_KEY": config["ENCRYPTION_KEY"],
        "FLASK_CELERY": json.dumps(celery_config), "FLASK_LOG_FORMAT": "json",
        "MARKETPLACE_INSTANCE_PATH": str(instance), "PYTHONUNBUFFERED": "1",
    }
    worker = subprocess.Popen(
        [CELERY, "-A", "wsgi.celery", "worker", "--pool=solo", "-Q", queue, "-n", f"obs-{worker_id}@%h",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, text=True)
    publisher = create_app(config, instance_path=str(tmp_path_factory.mktemp("obs-publisher")))
    try:
        with publisher.test_request_context("/", headers={"X-Request-Id": "from-the-web-1"}):
            publisher.preprocess_request()
            publisher.extensions["celery"].send_task(ECHO_TASK)
        lines = _read_until(worker, lambda entry: entry.get("logger") == "tests.echo", timeout=90)
    finally:
        stop_worker(worker)
        app.extensions["celery"].set_current()
        app.extensions["celery"].set_default()
        _flush_redis(prefix)
    echo = lines[-1]
    assert echo["request_id"] == "from-the-web-1" and echo["message"] == "echo from-the-web-1"
    assert echo["task_name"] == ECHO_TASK and echo["task_id"]


def _read_until(worker: subprocess.Popen, wanted, timeout: float) -> list[dict]:
    """The worker's JSON lines up to the first `wanted` one (its banner is not JSON: skipped),
    read by a thread so that a silent worker cannot block the test past `timeout`."""
    import threading

    texts: list[str] = []

    def read() -> None:
        for text in worker.stdout:
            texts.append(text)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    entries: list[dict] = []
    while time.monotonic() < deadline:
        entries = []
        for text in list(texts):
            try:
                entries.append(json.loads(text))
            except ValueError:
                continue
            if wanted(entries[-1]):
                return entries
        if worker.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"the worker logged no such line in {timeout} s (exit {worker.poll()}); JSON lines: {entries[-20:]}")


def _flush_redis(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
