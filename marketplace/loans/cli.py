"""`flask --app wsgi loans ...`: the overdue sweep by hand."""

from __future__ import annotations

import click
from flask.cli import AppGroup

loans_cli = AppGroup("loans", help="Loans: disbursements, schedules, repayments, overdue flags.")


@loans_cli.command("flag-overdue")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Flag as of this day (YYYY-MM-DD) instead of today in Shanghai.")
def flag_overdue_command(day):
    """Flag every instalment not paid by its due day (once each) and print how many were new."""
    from marketplace.loans.tasks import flag_overdue_instalments

    count = flag_overdue_instalments.run(day.date().isoformat() if day else None)
    click.echo(f"{count} instalment(s) newly flagged overdue")
