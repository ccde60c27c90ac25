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


def test_connection_used_a_moment_ago_is_not_pinged(engine, monkeypatch):
    """Within the idle window, and with nothing from the server on the socket, no ping is sent."""
    ping_after_idle(engine, 60)
    first = _backend_pid(engine)
    pings = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_connection: pings.append(1) or True)

    assert _backend_pid(engine) == first
    assert pings == []


def test_connection_the_server_closed_a_moment_ago_is_replaced_transparently(engine, database_url):
    """Within the idle window a connection whose backend was terminated (a restart, a failover,
    an administrator) has the server's goodbye on its socket: the checkout sees it, pings,
    and the pool reconnects before any statement fails."""
    ping_after_idle(engine, 60)
    first = _backend_pid(engine)
    _terminate(database_url, first)

    second = _backend_pid(engine)

    assert second != first
    assert _backend_pid(engine) == second


def test_a_connection_without_a_socket_is_never_polled(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}", pool_size=1, max_overflow=0)
    try:
        ping_after_idle(engine, 60)
        with engine.connect() as connection:
            connection.scalar(text("SELECT 1"))
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT 2")) == 2
    finally:
        engine.dispose()


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
