"""`flask --app wsgi sla ...`: run the SLA sweep by hand, recompute due moments, check the calendar."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from marketplace.extensions import db

sla_cli = AppGroup("sla", help="SLA clocks in working days.")


@sla_cli.command("sweep")
def sweep_command():
    """Mark every request whose SLA ran out as stuck (once) and notify; print how many."""
    from marketplace.sla.tasks import sweep_sla_breaches

    count = sweep_sla_breaches.run()
    click.echo(f"{count} request(s) became stuck")


@sla_cli.command("recompute")
def recompute_command():
    """Recompute the due moments of active requests after a change of the SLA configuration."""
    from marketplace.sla.services import recompute

    base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost/"
    with current_app.test_request_context("/", base_url=base_url):
        changed = recompute()
        db.session.commit()
    click.echo(f"{changed} due moment(s) changed")


@sla_cli.command("calendar")
@click.argument("year", type=int)
def calendar_command(year: int):
    """Say what decides YEAR's working days and list its days off on weekdays and weekend workdays."""
    from datetime import date, timedelta

    from marketplace.sla.services import working_calendar

    calendar = working_calendar()
    source = calendar.source(year)
    click.echo(f"{year}: {source}" + ("" if calendar.covers(year) else
                                      " (no public holidays known: set WORKING_DAY_TABLE)"))
    day = date(year, 1, 1)
    while day.year == year:
        working = calendar.is_working_day(day)
        if working != (day.weekday() < 5):
            click.echo(f"  {day:%Y-%m-%d} {day:%a} {'workday' if working else 'day off'}")
        day += timedelta(days=1)
