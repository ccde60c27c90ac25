"""Test setup: one PostgreSQL database per xdist worker, migrated once; each test in a
transaction that is rolled back (commits inside the app release savepoints only)."""

from __future__ import annotations

import os

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import scoped_session, sessionmaker

PG_SERVER = os.environ.get("TEST_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
AUDIT_KEY = "test-audit-key-not-secret"


def create_database(name: str) -> str:
    """Drop and create `name` on the test server; return its URL."""
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    admin.dispose()
    return f"{PG_SERVER}/{name}"


def make_test_config(database_url: str, tmp_path_factory) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "AUDIT_KEY": AUDIT_KEY,
        "ENCRYPTION_KEY": "test-encryption-key-not-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
        "QUEUE_COUNTS_SECONDS": 0,  # counts always fresh: tests change the queue between pages
        "REPORT_PDF_PRERENDER": False,  # a worker's render after each verification: tests that want it turn it on
    }


def drop_database(name: str) -> None:
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def database_name(kind: str, testrun_uid: str, worker_id: str) -> str:
    """Unique per run and worker, so two suites on one server never drop each other's database."""
    return f"marketplace_{kind}_{testrun_uid[:10]}_{worker_id}"


@pytest.fixture(scope="session")
def database_url(testrun_uid: str, worker_id: str):
    name = database_name("test", testrun_uid, worker_id)
    url = create_database(name)
    yield url
    drop_database(name)


class ConfirmingClient(FlaskClient):
    """Posts forms as static/app.js does once the user said yes to a data-confirm question
    (confirmed=1), so tests reach the views of irreversible actions. Pass confirmed="" to post
    as a client without JavaScript (marketplace/confirmation.py)."""

    def post(self, *args, **kwargs):
        url = args[0] if args and isinstance(args[0], str) else ""
        if "json" not in kwargs and "content_type" not in kwargs and not url.startswith("/api/"):
            data = kwargs.get("data")
            if data is None:
                kwargs["data"] = {"confirmed": "1"}
            elif isinstance(data, dict) and "confirmed" not in data:
                kwargs["data"] = {**data, "confirmed": "1"}
        return super().post(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    from flask_migrate import upgrade

    from marketplace import create_app

    app = create_app(make_test_config(database_url, tmp_path_factory),
                     instance_path=str(tmp_path_factory.mktemp("instance")))
    app.test_client_class = ConfirmingClient
    from marketplace import crypto

    crypto.use_key_outside_app_context(app.config["ENCRYPTION_KEY"])  # factories run without a context
    with app.app_context():
        upgrade()
    yield app
    from marketplace.extensions import db

    with app.app_context():
        db.engine.dispose()


class TestScopedSession(scoped_session):
    """One session for the whole test: the app's per-request teardown must not close it (that
    would roll back what the test flushed), only clear a transaction a failed flush broke."""

    def remove(self):
        session = self.registry()
        transaction = session.get_transaction()
        if transaction is not None and not transaction.is_active:
            session.rollback()

    def close_for_good(self):
        scoped_session.remove(self)


@pytest.fixture(autouse=True)
def db_session(request, app):
    """Bind the app's session to one connection in an outer transaction, rolled back after.

    No app context stays pushed during the test: each test-client request must get its own
    (and so its own `g`), as in production. Tests that call services directly use `ctx`.
    """
    if "no_db" in request.keywords:
        yield None
        return
    from marketplace.extensions import db

    celery = app.extensions["celery"]  # shared tasks run on this app, whatever app another test built
    celery.set_current()
    celery.set_default()

    with app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = TestScopedSession(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    )
    try:
        yield db.session
    finally:
        db.session.close_for_good()
        db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture
def rate_limited_app(database_url, tmp_path_factory):
    """rate_limited_app(**config): an app with rate limits on and fresh counters. The limiter is
    one object for every app of the process, so it is reset and switched off again afterwards."""
    from marketplace import create_app
    from marketplace.extensions import limiter

    def make(**overrides):
        config = make_test_config(database_url, tmp_path_factory)
        config.update(RATELIMIT_ENABLED=True, **overrides)
        app = create_app(config, instance_path=str(tmp_path_factory.mktemp("limited")))
        limiter.reset()
        return app

    yield make
    limiter.reset()
    limiter.enabled = False


@pytest.fixture
def ctx(app):
    """A request context for tests that call services (audit needs the app and a request).

    Not for tests that also use `client`: requests would share this context's `g` (and so
    Flask-Login's cached user). Those tests wrap service calls in app.test_request_context().
    """
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(client):
    """login(user): make the test client's session signed in as `user` (second factor done)."""

    def _login(user):
        with client.session_transaction() as session:
            session.clear()
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return client

    return _login


@pytest.fixture
def worker_idle(monkeypatch):
    """Submissions are queued but no worker runs the verification yet (it runs eagerly otherwise)."""
    from marketplace.verification.tasks import verify_request

    monkeypatch.setattr(verify_request, "delay", lambda *args: None)
