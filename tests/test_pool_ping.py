"""The pool pings a connection only after it sat idle (marketplace.db.ping_after_idle): a
connection the server dropped while idle is replaced without the request noticing."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, exc, text

from marketplace.db import ping_after_idle


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def _terminate(database_url: str, pid: int) -> None:
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(50):  # the backend is gone once pg_stat_activity no longer lists it
                if not connection.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}):
                    break
                time.sleep(0.02)
    finally:
        admin.dispose()


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def test_connection_killed_while_idle_is_replaced_transparently(engine, database_url):
    ping_after_idle(engine, 0.05)
    first = _backend_pid(engine)
    _terminate(database_url, first)
    time.sleep(0.1)  # idle past the threshold: the checkout pings, fails, reconnects

    second = _backend_pid(engine)

    assert second != first
    assert _backend_pid(engine) == second  # the new connection is the pool's from now on


def test_connection_used_a_moment_ago_is_not_pinged(engine, database_url):
    """Within the idle window no ping is sent: a connection killed in that window fails the one
    statement that finds it dead, and the pool replaces it for the next checkout."""
    ping_after_idle(engine, 60)
    first = _backend_pid(engine)
    _terminate(database_url, first)

    with pytest.raises(exc.OperationalError):
        _backend_pid(engine)

    assert _backend_pid(engine) != first


def test_ping_errors_that_are_not_disconnects_propagate(engine, monkeypatch):
    ping_after_idle(engine, 0)
    _backend_pid(engine)

    def broken_ping(dbapi_connection):
        raise engine.dialect.loaded_dbapi.ProgrammingError("not a disconnect")

    monkeypatch.setattr(engine.dialect, "do_ping", broken_ping)
    with pytest.raises(exc.ProgrammingError):
        _backend_pid(engine)


def test_app_engine_pings_after_idle_not_on_every_checkout(app):
    from marketplace.extensions import db

    with app.app_context():
        assert not db.engine.pool._pre_ping
        assert db.engine.pool.dispatch.checkout and db.engine.pool.dispatch.checkin


def test_pool_pre_ping_in_the_engine_options_is_kept(database_url, tmp_path):
    from marketplace import create_app
    from marketplace.extensions import db

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "k",
                      "AUDIT_KEY": "a", "ENCRYPTION_KEY": "e", "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}},
                     instance_path=str(tmp_path))
    with app.app_context():
        assert db.engine.pool._pre_ping
        assert not db.engine.pool.dispatch.checkout
        db.engine.dispose()
