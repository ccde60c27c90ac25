"""The application's PostgreSQL role appends to the audit log and reads it, and nothing more:
no UPDATE, DELETE or TRUNCATE of audit rows, no ALTER TABLE, no switching the triggers off;
while the business tables take ordinary reads and writes. Migrations run as the owner."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from marketplace.db_roles import create_statements, grant_statements

pytestmark = pytest.mark.no_db


@pytest.fixture(scope="module")
def app_role(app, database_url):
    """A throw-away application role on the test database; an engine connecting as it."""
    role = f"app_{secrets.token_hex(4)}"
    password = secrets.token_hex(8)
    owner = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        for statement in create_statements(role, password):
            connection.exec_driver_sql(statement)
        database = connection.exec_driver_sql("SELECT current_database()").scalar()
        connection.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
        for statement in grant_statements(role):
            connection.exec_driver_sql(statement)
    engine = create_engine(make_url(database_url).set(username=role, password=password))
    yield engine
    engine.dispose()
    with owner.connect() as connection:
        connection.exec_driver_sql(f"DROP OWNED BY {role}")
        connection.exec_driver_sql(f"DROP ROLE {role}")
    owner.dispose()


def attempt(engine, sql: str):
    """Run `sql` as the application role in a transaction that is rolled back whatever happens."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            return connection.execute(text(sql))
        finally:
            transaction.rollback()


INSERT_EVENT = """INSERT INTO audit_events (occurred_at, action, object_type, details, prev_hmac, hmac)
                  VALUES (now(), 'test.by_app_role', '-', '{}', :prev, :mine)"""


@pytest.mark.parametrize("sql", [
    "UPDATE audit_events SET action = 'forged'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
    "UPDATE audit_anchors SET events = 0",
    "DELETE FROM audit_anchors",
    "INSERT INTO audit_anchors (id, last_event_id, last_hmac, events) VALUES (2, 0, 'x', 0)",
    "UPDATE audit_checkpoints SET events = 0",
    "DELETE FROM audit_checkpoints",
    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change",
    "ALTER TABLE audit_events DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_events_no_change ON audit_events",
    "ALTER TABLE audit_events ADD COLUMN note text",
    "SET session_replication_role = replica",
    "CREATE TABLE shadow (id int)",
    "UPDATE alembic_version SET version_num = 'x'",
])
def test_the_application_role_cannot_change_remove_or_unguard_audit_rows(app_role, sql):
    with pytest.raises(DBAPIError, match="permission denied|must be owner|must be superuser|"
                                         "append-only"):
        attempt(app_role, sql)


def test_the_application_role_appends_and_reads_and_the_anchor_follows(app_role):
    with app_role.connect() as connection:
        transaction = connection.begin()
        try:
            before = connection.execute(text("SELECT events FROM audit_anchors")).scalar()
            connection.execute(text(INSERT_EVENT), {"prev": "0" * 64, "mine": secrets.token_hex(32)})
            assert connection.execute(text("SELECT events FROM audit_anchors")).scalar() == before + 1
            assert connection.execute(text("SELECT count(*) FROM audit_events")).scalar() >= 1
        finally:
            transaction.rollback()


def test_the_application_role_writes_the_business_tables(app_role):
    with app_role.connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(text("INSERT INTO organisations (kind, name, active, created_at) "
                                    "VALUES ('bank', '角色测试银行', true, now())"))
            connection.execute(text("UPDATE organisations SET name = '角色测试银行2' WHERE name = '角色测试银行'"))
            assert connection.execute(text("DELETE FROM organisations WHERE name = '角色测试银行2'")).rowcount == 1
        finally:
            transaction.rollback()


def test_the_grants_are_printed_for_a_dba(app):
    result = app.test_cli_runner().invoke(args=["db-roles", "sql", "marketplace_app"])
    assert result.exit_code == 0
    assert "REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM marketplace_app;" in result.output
    assert app.test_cli_runner().invoke(args=["db-roles", "sql", "bad-name; DROP"]).exit_code != 0


def test_migrations_run_as_the_owner_and_re_grant_the_application_role(app_role, database_url, tmp_path_factory):
    from marketplace import create_app
    from tests.conftest import make_test_config

    app_url = app_role.url.render_as_string(hide_password=False)
    role = app_role.url.username
    config = {**make_test_config(app_url, tmp_path_factory), "MIGRATION_DATABASE_URI": database_url,
              "APP_DATABASE_ROLE": role}
    split = create_app(config, instance_path=str(tmp_path_factory.mktemp("split")))
    result = split.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with pytest.raises(DBAPIError, match="permission denied"):
        attempt(app_role, "DELETE FROM audit_events")
    with split.app_context():
        split.extensions["migrate"].db.engine.dispose()
