"""The bureau's command-line verbs: flask --app wsgi bureau <command>."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.extensions import db

bureau_cli = AppGroup("bureau", help="The finance bureau's records.")


@bureau_cli.command("backfill-stays")
def backfill_stays():
    """Build the state stays of requests that have none from their timelines (idempotent)."""
    from marketplace.bureau.stays import backfill

    added = backfill()
    db.session.commit()
    click.echo(f"{added} stays added")


@bureau_cli.command("rebuild-figures")
def rebuild_figures():
    """Rebuild the kept rows (stays, stay-length histograms, per-request figures, the matcher's
    decided targets) from the records; for data loaded without the services. Idempotent."""
    from marketplace.bureau.kept import rebuild

    counts = rebuild()
    db.session.commit()
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))
