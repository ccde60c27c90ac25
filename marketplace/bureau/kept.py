"""Rebuild the kept rows from the records they are derived from: the request stays (from the
timelines), the stay-length histograms (from the stays), the per-request figures (from the
requests, targets, offers and loans) and the matcher's decided targets (from the offers and
declines). For data loaded without the services (the
migration c19a00000001, the demo's restamped timelines, the benches' COPY, `flask --app wsgi
bureau rebuild-figures`); the services keep them as they go."""

from __future__ import annotations

from marketplace.bureau import request_figures, stay_lengths, stays
from marketplace.supermarket import decision_records


def rebuild(connection=None) -> dict[str, int]:
    """Stays added for requests that have none; the histograms, the figures rows and the
    decided targets written anew. `connection`: a SQLAlchemy connection (the migration's); else the app's session."""
    added = stays.backfill(connection)
    lengths = stay_lengths.rebuild(connection)
    figures = request_figures.rebuild(connection)
    decided = decision_records.rebuild(connection)
    return {"stays": added, "stay_lengths": lengths, "figures": figures, "decided_targets": decided}
