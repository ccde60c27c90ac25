"""Health checks for a load balancer or an orchestrator.

/healthz: the process answers (no database, no broker): restart it when this fails.
/readyz: the database answers `SELECT 1` and the broker a ping, each within READINESS_TIMEOUT
seconds: take the machine out of rotation while this answers 503 (the body names what failed).

Both are public, exempt from rate limits and CSRF, and set no session cookie.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, has_request_context, jsonify, request
from flask.sessions import SecureCookieSessionInterface

from marketplace.extensions import csrf, limiter

bp = Blueprint("health", __name__)
csrf.exempt(bp)
limiter.exempt(bp)

DEFAULT_TIMEOUT = 2.0  # seconds, for each of the two checks


class ProbeAwareSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a probe's answer never sets, refreshes or
    deletes the session cookie (nor adds Vary: Cookie), whatever cookie the probe sent."""

    def save_session(self, app, session, response) -> None:
        if has_request_context() and request.blueprint == bp.name:
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = ProbeAwareSessions()


def _timeout() -> float:
    return float(current_app.config.get("READINESS_TIMEOUT") or DEFAULT_TIMEOUT)


def _readiness_engine() -> sa.Engine | None:
    """A connection per probe, with a short connect and statement timeout, apart from the app's
    pool (a probe must not wait behind busy requests, nor hang on a host that does not answer).
    None on SQLite (the embedded default), which is checked through the app's session."""
    url = sa.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if not url.drivername.startswith("postgresql"):
        return None
    engines = current_app.extensions.setdefault("readiness_engine", {})
    key = str(url)
    if key not in engines:
        seconds = _timeout()
        engines[key] = sa.create_engine(
            url, poolclass=sa.pool.NullPool,
            connect_args={"connect_timeout": max(1, round(seconds)),
                          "options": f"-c statement_timeout={int(seconds * 1000)}"})
    return engines[key]


def check_database() -> None:
    engine = _readiness_engine()
    if engine is None:
        from marketplace.extensions import db

        db.session.execute(sa.text("SELECT 1"))
        return
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def check_broker() -> str:
    """Ping the Celery broker; "eager" when tasks run in-process (no broker to reach)."""
    celery = current_app.extensions["celery"]
    if celery.conf.task_always_eager:
        return "eager"
    from kombu import Connection

    seconds = _timeout()
    options = dict(celery.conf.broker_transport_options or {})
    options.update(socket_connect_timeout=seconds, socket_timeout=seconds)
    with Connection(celery.conf.broker_url, connect_timeout=seconds, transport_options=options) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=seconds)
        client = getattr(connection.default_channel, "client", None)
        if client is not None and hasattr(client, "ping"):
            client.ping()  # Redis: the connection is made lazily; the ping proves it answers
    return "ok"


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    checks: dict[str, str] = {}
    failed: list[str] = []
    for name, check in (("database", check_database), ("broker", check_broker)):
        try:
            checks[name] = check() or "ok"
        except Exception as error:  # noqa: BLE001  (any failure means "not ready", named below)
            current_app.logger.warning("readyz: %s unreachable: %r", name, error)
            checks[name] = f"unreachable ({type(error).__name__})"
            failed.append(name)
    if failed:
        response = jsonify(status="unavailable", failed=failed, checks=checks)
        response.status_code = 503
        response.headers["Retry-After"] = "5"
    else:
        response = jsonify(status="ok", checks=checks)
    response.cache_control.no_store = True
    return response
