"""Command-line verbs: flask --app wsgi <group> <command>."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from marketplace.extensions import db


def register_cli(app: Flask) -> None:
    from marketplace.accounts.tokens import tokens_cli
    from marketplace.audit import audit_cli
    from marketplace.bureau.cli import bureau_cli
    from marketplace.credit.cli import credit_cli
    from marketplace.crypto import crypto_cli
    from marketplace.db_roles import db_roles_cli
    from marketplace.loans.cli import loans_cli
    from marketplace.outbox import outbox_cli
    from marketplace.sla.cli import sla_cli
    from marketplace.statements.cli import statements_cli
    from marketplace.verification.cli import verify_cli

    app.cli.add_command(audit_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(crypto_cli)
    app.cli.add_command(totp_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(statements_cli)
    app.cli.add_command(verify_cli)
    app.cli.add_command(sla_cli)
    app.cli.add_command(loans_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(db_roles_cli)
    app.cli.add_command(bureau_cli)
    app.cli.add_command(credit_cli)


totp_cli = AppGroup("totp", help="Second factor helpers.")


@totp_cli.command("code")
@click.argument("email")
def totp_code(email: str):
    """Print a user's current TOTP code (for the demo and for support)."""
    from marketplace.accounts.models import User
    from marketplace.accounts.security import current_totp

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.totp_secret:
        raise click.ClickException(f"{email}: no such user, or no second factor enrolled")
    click.echo(current_totp(user.totp_secret))


demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--reset", is_flag=True, help="Drop the embedded database first.")
def demo_seed(reset: bool):
    """Fill the database with realistic demo data and print the logins."""
    from marketplace.demo import seed

    seed(reset=reset, echo=click.echo)
