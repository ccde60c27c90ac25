"""`flask --app wsgi credit regrade [--all | USCC]`: recompute credit grades by hand (after a
model version change, or to check an enterprise)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from marketplace.credit import grading
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db

credit_cli = AppGroup("credit", help="The credit file.")


@credit_cli.command("regrade")
@click.option("--all", "everything", is_flag=True, help="Every enterprise.")
@click.argument("uscc", required=False)
def regrade_command(everything: bool, uscc: str | None):
    """Recompute the grade of the enterprise USCC, or of every enterprise with --all."""
    if everything == bool(uscc):
        raise click.UsageError("give either --all or one USCC")
    if everything:
        added = grading.regrade_all("cli")
        db.session.commit()
        click.echo(f"{added} grade(s) changed")
        return
    enterprise_id = db.session.scalar(select(Enterprise.id).where(Enterprise.uscc == uscc.strip().upper()))
    if enterprise_id is None:
        raise click.ClickException(f"no enterprise with the credit code {uscc}")
    row = grading.recompute(enterprise_id, "cli")
    db.session.commit()
    shown = f"{row.grade} ({row.colour}), score {row.score}" if row.graded else "ungraded"
    click.echo(f"{uscc}: {shown}, model {row.model_version}")
