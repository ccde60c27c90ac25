"""`flask --app wsgi sla ...`: run the SLA sweep by hand, recompute due moments, check the calendar."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from marketplace.extensions import db
from workflows.working_days import TABLE_YEARS

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
    """Say what decides YEAR's working days and list its holidays on weekdays and its make-up
    working days, each with the source that decided it."""
    from marketplace.workcalendar.services import working_calendar

    if year not in TABLE_YEARS:
        raise click.BadParameter(f"{year} is out of range ({TABLE_YEARS.start}-{TABLE_YEARS.stop - 1})",
                                 param_hint="YEAR")
    calendar = working_calendar()
    decided_by = ("table + " if calendar.overridden(year) else "") + calendar.source(year)
    if calendar.makeup_days_known(year):
        status = "official make-up working days known"
    elif calendar.covers(year):
        status = f"statutory holidays only, make-up working days NOT known: set them at /admin/calendar/{year}"
    else:
        status = f"no public holidays known, counting Monday-Friday: set them at /admin/calendar/{year}"
    click.echo(f"{year}: {decided_by} ({status})")
    for entry in calendar.describe(year):
        kind = "make-up workday" if entry.working else "holiday"
        name = f" {entry.name}" if entry.name else ""
        click.echo(f"  {entry.day:%Y-%m-%d} {entry.day:%a} {kind:<15} [{entry.source}]{name}")
