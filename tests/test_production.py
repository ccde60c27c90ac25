"""The production run: health checks, the refusal to start without a setting, gunicorn's settings
and its post_fork hook, the one-machine runner (deploy/)."""

from __future__ import annotations

import gc
import importlib.util
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import event

from marketplace import config as config_module
from marketplace.config import MissingSettings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
CLOSED_PORT = "127.0.0.1:1"  # nothing listens there: connections are refused at once


# ---- /healthz and /readyz -------------------------------------------------------------------

@pytest.fixture
def statements(app):
    """The SQL statements the app's engine runs meanwhile."""
    from marketplace.extensions import db

    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_healthz_answers_ok_without_touching_the_database(client, statements):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert statements == []


def test_probes_set_no_session_cookie_even_to_a_signed_in_caller(client, login):
    from tests.factories import make_enterprise_user

    login(make_enterprise_user())
    with client.session_transaction() as session:
        session.permanent = True  # a permanent session is refreshed on every other answer
    for url in ("/healthz", "/readyz"):
        response = client.get(url)
        assert "Set-Cookie" not in response.headers, url
        assert "Cookie" not in response.headers.get("Vary", ""), url
    assert "Set-Cookie" in client.get("/market").headers  # the check above can fail


def test_probes_are_public_and_exempt_from_rate_limits(app, client):
    from flask_limiter import ExemptionScope

    from marketplace.extensions import limiter
    from marketplace.permissions import PUBLIC, ROUTE_ACCESS

    assert ROUTE_ACCESS["health.healthz"] is PUBLIC and ROUTE_ACCESS["health.readyz"] is PUBLIC
    for endpoint in ("health.healthz", "health.readyz"):
        scope = limiter.limit_manager.exemption_scope(app, endpoint, "health")
        assert scope & ExemptionScope.DEFAULT and scope & ExemptionScope.APPLICATION
    assert client.get("/healthz").status_code == 200  # anonymous


def test_readyz_checks_the_database_and_names_an_eager_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "broker": "eager"}}
    assert "no-store" in response.headers["Cache-Control"]


def _broker(app, monkeypatch, url: str) -> None:
    conf = app.extensions["celery"].conf
    monkeypatch.setitem(conf, "task_always_eager", False)
    monkeypatch.setitem(conf, "broker_url", url)
    monkeypatch.setitem(app.config, "READINESS_TIMEOUT", 1)


def test_readyz_pings_a_real_broker(app, client, monkeypatch):
    _broker(app, monkeypatch, os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_answers_503_naming_the_broker_on_a_closed_port(app, client, monkeypatch):
    _broker(app, monkeypatch, f"redis://{CLOSED_PORT}/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and body["failed"] == ["broker"]
    assert body["checks"]["database"] == "ok" and body["checks"]["broker"].startswith("unreachable")
    assert response.headers["Retry-After"]


def test_readyz_answers_503_naming_the_database_when_it_does_not_answer(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SQLALCHEMY_DATABASE_URI", f"postgresql+psycopg://postgres@{CLOSED_PORT}/nothing")
    monkeypatch.setitem(app.config, "READINESS_TIMEOUT", 1)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["database"]
    assert client.get("/healthz").status_code == 200  # alive all the same: not a reason to restart


# ---- a production start with a missing setting ----------------------------------------------

def production_config(tmp_path, **overrides) -> dict:
    """Every production setting set, then `overrides` (None removes a setting)."""
    config = {key: getattr(config_module.Defaults, key) for key in dir(config_module.Defaults) if key.isupper()}
    config.update(
        DEPLOYMENT="production", SECRET_KEY="s" * 32, AUDIT_KEY="a" * 32, ENCRYPTION_KEY="e" * 32,
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://app@db/marketplace",
        PUBLIC_BASE_URL="https://rzfw.example.cn/", UPLOAD_FOLDER=str(tmp_path / "shared"), MAIL_SERVER="smtp.example.cn",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/1",
        CELERY={"broker_url": "redis://127.0.0.1:6379/0", "task_always_eager": False},
    )
    config.update(overrides)
    return config


@pytest.mark.no_db
def test_production_starts_with_every_setting(tmp_path):
    config = production_config(tmp_path)
    config_module.finalise(config, str(tmp_path / "instance"))
    assert config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.no_db
@pytest.mark.parametrize("setting", ["SECRET_KEY", "AUDIT_KEY", "ENCRYPTION_KEY", "SQLALCHEMY_DATABASE_URI",
                                     "PUBLIC_BASE_URL", "UPLOAD_FOLDER", "RATELIMIT_STORAGE_URI"])
def test_production_refuses_to_start_without_a_setting_and_names_it(tmp_path, setting):
    config = production_config(tmp_path, **{setting: None})
    with pytest.raises(MissingSettings) as refused:
        config_module.finalise(config, str(tmp_path / "instance"))
    message = str(refused.value)
    assert f"FLASK_{setting} (" in message
    assert message.count("FLASK_") == 1  # only what is missing is named
    assert not (tmp_path / "instance").exists()  # nothing made up next to the data


@pytest.mark.no_db
def test_production_needs_a_broker_unless_tasks_run_eagerly(tmp_path):
    config = production_config(tmp_path, CELERY={"task_always_eager": False})
    with pytest.raises(MissingSettings, match="FLASK_CELERY__broker_url"):
        config_module.finalise(config, str(tmp_path / "instance"))
    eager = production_config(tmp_path, CELERY={"broker_url": "memory://", "task_always_eager": True})
    config_module.finalise(eager, str(tmp_path / "instance"))


@pytest.mark.no_db
def test_production_names_every_missing_setting_at_once(tmp_path):
    config = {key: getattr(config_module.Defaults, key) for key in dir(config_module.Defaults) if key.isupper()}
    config.update(DEPLOYMENT="production", CELERY={"task_always_eager": False})
    with pytest.raises(MissingSettings) as refused:
        config_module.finalise(config, str(tmp_path))
    for name in ("SECRET_KEY", "AUDIT_KEY", "ENCRYPTION_KEY", "SQLALCHEMY_DATABASE_URI", "PUBLIC_BASE_URL",
                 "UPLOAD_FOLDER", "CELERY__broker_url", "RATELIMIT_STORAGE_URI"):
        assert f"FLASK_{name}" in str(refused.value)


def _production_env(tmp_path, **missing_or_set) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FLASK_", "GUNICORN_"))}
    env |= {
        "FLASK_DEPLOYMENT": "production", "FLASK_SECRET_KEY": "s" * 32, "FLASK_AUDIT_KEY": "a" * 32,
        "FLASK_ENCRYPTION_KEY": "e" * 32, "FLASK_SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://app@{CLOSED_PORT}/x",
        "FLASK_UPLOAD_FOLDER": str(tmp_path / "uploads"), "FLASK_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/1",
        "FLASK_MAIL_SERVER": "smtp.example.cn",
        "FLASK_CELERY__broker_url": f"redis://{CLOSED_PORT}/0", "FLASK_CELERY__task_always_eager": "false",
        "MARKETPLACE_INSTANCE_PATH": str(tmp_path / "instance"), "GUNICORN_BIND": "127.0.0.1:0",
        "GUNICORN_WORKERS": "1",
    }
    for key, value in missing_or_set.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.mark.no_db
def test_flask_exits_non_zero_naming_the_missing_setting(tmp_path):
    result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "current"], cwd=ROOT,
                            env=_production_env(tmp_path), capture_output=True, text=True, timeout=180)
    assert result.returncode == 1
    assert "FLASK_PUBLIC_BASE_URL" in result.stderr
    assert "FLASK_SECRET_KEY" not in result.stderr.split("Refusing")[-1]  # what is set is not named
    assert "Traceback" not in result.stderr


@pytest.mark.no_db
@pytest.mark.parametrize("program", ["worker", "beat"])
def test_celery_exits_non_zero_naming_the_missing_setting(tmp_path, program):
    env = _production_env(tmp_path, FLASK_ENCRYPTION_KEY=None)
    result = subprocess.run([str(BIN / "celery"), "-A", "wsgi.celery", program], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 1
    assert "Error: Refusing to start in production without FLASK_ENCRYPTION_KEY" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.no_db
def test_gunicorn_exits_non_zero_naming_the_missing_setting(tmp_path):
    env = _production_env(tmp_path, FLASK_PUBLIC_BASE_URL="https://rzfw.example.cn/", FLASK_UPLOAD_FOLDER=None)
    result = subprocess.run([str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "wsgi:app"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 1
    assert "Error: Refusing to start in production without FLASK_UPLOAD_FOLDER" in result.stderr


@pytest.mark.no_db
def test_serve_prod_refuses_to_migrate_without_the_owner_role(tmp_path):
    env = _production_env(tmp_path)
    result = subprocess.run(["bash", str(ROOT / "deploy" / "serve-prod.sh")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "FLASK_MIGRATION_DATABASE_URI" in result.stderr


# ---- gunicorn's settings and post_fork ------------------------------------------------------

def load_gunicorn_conf(monkeypatch, **env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", GUNICORN_CONF)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.no_db
def test_gunicorn_settings_come_from_the_environment(monkeypatch):
    conf = load_gunicorn_conf(monkeypatch, GUNICORN_WORKERS="3", GUNICORN_THREADS="4", GUNICORN_BIND="127.0.0.1:9001",
                              FLASK_DEPLOYMENT="production")
    assert (conf.workers, conf.threads, conf.worker_class, conf.bind) == (3, 4, "gthread", "127.0.0.1:9001")
    assert conf.preload_app is True
    assert conf.logger_class is conf.JsonLogger  # production logs JSON lines
    monkeypatch.delenv("GUNICORN_WORKERS")
    monkeypatch.delenv("GUNICORN_THREADS")
    monkeypatch.setenv("FLASK_DEPLOYMENT", "embedded")
    conf = load_gunicorn_conf(monkeypatch)
    assert conf.workers == 2 * (os.cpu_count() or 1) and conf.threads == 1 and conf.worker_class == "sync"
    assert not hasattr(conf, "logger_class")


@pytest.mark.no_db
def test_post_fork_warms_weasyprint_then_freezes_the_heap(monkeypatch, app):
    import marketplace.pdf

    calls: list[str] = []
    monkeypatch.setattr(marketplace.pdf, "warm_up", lambda: calls.append("warm"), raising=False)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    conf = load_gunicorn_conf(monkeypatch)
    logged: list[str] = []
    server = SimpleNamespace(app=SimpleNamespace(wsgi=lambda: app),
                             log=SimpleNamespace(info=lambda *a: logged.append(a[0]), debug=lambda *a: None))
    conf.post_fork(server, SimpleNamespace(pid=4242))
    assert calls == ["warm", "freeze"]
    assert logged and "frozen" in logged[0]


@pytest.mark.no_db
def test_post_fork_freezes_even_without_a_warm_up(monkeypatch, app):
    import marketplace.pdf

    monkeypatch.delattr(marketplace.pdf, "warm_up", raising=False)
    frozen: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    conf = load_gunicorn_conf(monkeypatch)
    server = SimpleNamespace(app=SimpleNamespace(wsgi=lambda: app),
                             log=SimpleNamespace(info=lambda *a: None, debug=lambda *a: None))
    conf.post_fork(server, SimpleNamespace(pid=1))
    assert frozen == [True]


@pytest.mark.no_db
def test_the_access_log_is_one_json_line_with_the_request_id(monkeypatch):
    from gunicorn.config import Config

    conf = load_gunicorn_conf(monkeypatch, FLASK_DEPLOYMENT="production")
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = conf.JsonLogger(cfg)
    buffer = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(buffer)
    response = SimpleNamespace(status="503 SERVICE UNAVAILABLE", headers=[("X-Request-Id", "abc-1")], sent=120)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/readyz", "QUERY_STRING": "", "REMOTE_ADDR": "10.0.0.9",
               "RAW_URI": "/readyz", "SERVER_PROTOCOL": "HTTP/1.1"}
    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12))
    entry = json.loads(buffer.getvalue().strip())
    assert entry["request_id"] == "abc-1" and entry["status"] == 503 and entry["path"] == "/readyz"
    assert entry["logger"] == "gunicorn.access" and entry["duration_ms"] == 12.0
    assert entry["time"].endswith("+00:00")


@pytest.mark.no_db
def test_the_deployment_guide_names_every_setting():
    guide = (ROOT / "docs" / "deployment.md").read_text()
    undocumented = [key for key in vars(config_module.Defaults) if key.isupper() and f"`{key}`" not in guide]
    assert undocumented == [], f"settings missing from docs/deployment.md: {undocumented}"
