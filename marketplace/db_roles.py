"""Two database roles on PostgreSQL: the owner, which migrations run as, and the application's
role, which may read and write the business tables but only INSERT and SELECT the audit log.

The owner owns every table, so only it can ALTER them, drop or disable the audit triggers, or
TRUNCATE; the application's role owns nothing. Whoever takes over the web process (or its
database password) can then append to the audit log but not rewrite, cut or switch off its
guards. The chain's anchor (audit_anchors) is advanced by a SECURITY DEFINER trigger as the
owner; the application's role may only read it.

    flask --app wsgi db-roles create marketplace_app --password ...   # once, as the owner
    flask --app wsgi db upgrade                                        # as the owner (MIGRATION_DATABASE_URI)
    flask --app wsgi db-roles grant marketplace_app                    # after every upgrade

With APP_DATABASE_ROLE set, `flask db upgrade` re-applies the grants itself (migrations/env.py).
"""

from __future__ import annotations

import re

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

# Tables the application may append to and read, never change: the audit log and its checkpoints.
APPEND_ONLY_TABLES = ("audit_events", "audit_checkpoints")
# Tables the application may only read: the chain's anchor (its trigger writes it) and the
# migration bookkeeping.
READ_ONLY_TABLES = ("audit_anchors", "alembic_version")

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _role(name: str) -> str:
    if not ROLE_NAME.match(name):
        raise click.BadParameter("a role name is lower-case letters, digits and underscores")
    return name


def grant_statements(role: str) -> list[str]:
    """What the application role may do, from scratch each time (idempotent): run after every
    migration, as the owner, so tables a migration added are covered too."""
    role = _role(role)
    tables = "ALL TABLES IN SCHEMA public"
    statements = [
        f"REVOKE ALL ON {tables} FROM {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"REVOKE CREATE ON SCHEMA public FROM {role}",
    ]
    for table in APPEND_ONLY_TABLES:
        statements += [f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role}",
                       f"GRANT SELECT, INSERT ON {table} TO {role}"]
    for table in READ_ONLY_TABLES:
        statements += [f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {table} FROM {role}",
                       f"GRANT SELECT ON {table} TO {role}"]
    return statements


def create_statements(role: str, password: str) -> list[str]:
    """The application's login role: no superuser, no owner of anything, no CREATE anywhere."""
    role = _role(role)
    quoted = password.replace("'", "''")
    return [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
        f"CREATE ROLE {role} LOGIN; END IF; END $$",
        f"ALTER ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
        f"PASSWORD '{quoted}'",
    ]


def owner_engine() -> sa.Engine:
    """An engine for the owner's URL (MIGRATION_DATABASE_URI), else the application's own."""
    url = current_app.config.get("MIGRATION_DATABASE_URI") or current_app.config["SQLALCHEMY_DATABASE_URI"]
    return sa.create_engine(url)


def apply(connection: sa.Connection, statements: list[str]) -> None:
    for statement in statements:
        connection.exec_driver_sql(statement)


db_roles_cli = AppGroup("db-roles", help="PostgreSQL roles: the owner migrates, the application appends to the audit log.")


def _postgresql_engine() -> sa.Engine:
    engine = owner_engine()
    if engine.dialect.name != "postgresql":
        raise click.ClickException("database roles are for PostgreSQL; the embedded SQLite default has none")
    return engine


@db_roles_cli.command("create")
@click.argument("role")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="The application role's password (it goes into SQLALCHEMY_DATABASE_URI).")
def create_command(role: str, password: str):
    """Create (or update) the application's login role and grant what it may do."""
    engine = _postgresql_engine()
    with engine.begin() as connection:
        database = connection.exec_driver_sql("SELECT current_database()").scalar()
        apply(connection, create_statements(role, password))
        connection.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{database}" TO {_role(role)}')
        apply(connection, grant_statements(role))
    click.echo(f"role {role}: created; it may INSERT and SELECT the audit tables only")


@db_roles_cli.command("grant")
@click.argument("role")
def grant_command(role: str):
    """Re-apply the application role's grants (after a migration added tables)."""
    with _postgresql_engine().begin() as connection:
        apply(connection, grant_statements(role))
    click.echo(f"role {role}: grants applied")


@db_roles_cli.command("sql")
@click.argument("role")
def sql_command(role: str):
    """Print the grant statements, for a DBA who runs them by hand."""
    for statement in grant_statements(role):
        click.echo(statement + ";")
