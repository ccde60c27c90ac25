"""The figures rows summed per region level, month and metric (marketplace.bureau.models.
MonthlyFigures), kept from the changes the rows go through.

When marketplace.bureau.request_figures refreshes some requests' rows, it takes their tallies
before and after (`snapshot`) and `apply` adds the difference; `rebuild` sums every row again.
Both use `tallies`, so kept and rebuilt counts agree by construction
(tests/bureau/test_request_figures.py). Metrics, each counted under every bureau level's prefix:

- the funnel's stages ("posted", "verified", "routed", "offered", "financed") and the classes
  ("excellent", "mixed", "poor"): key 0, the request's amount, in its month of submission;
- "loans": key 0, the loan's amount, in its month of disbursement;
- "inst_routed", "inst_offered", "inst_declined", "inst_financed": key the institution, n its
  targets routed, 1 for an offer that left it, its declines, its loans (with their amount), in
  the request's month of submission;
- "reason:<code>": key 0, the request's declines giving that reason, in its month of submission.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import delete, select

from marketplace.bureau.models import (
    MonthlyFigures,
    RequestDeclineFigures,
    RequestFigures,
    RequestInstitutionFigures,
)
from marketplace.bureau.periods import month_of, prefixes
from marketplace.extensions import db

STAGE_FLAGS = ("verified", "routed", "offered", "financed")
CLASSES = ("excellent", "mixed", "poor")
INSTITUTION_METRICS = ("inst_routed", "inst_offered", "inst_declined", "inst_financed")
REASON = "reason:"  # the metric of a decline reason: "reason:" + its code
ZERO = Decimal("0.00")

Tallies = dict[tuple[str, str, str, int], list]  # (prefix, month, metric, key) -> [n, amount]

_REQUEST_COLUMNS = (RequestFigures.region_code, RequestFigures.submitted_at, RequestFigures.amount,
                    RequestFigures.classification, *(getattr(RequestFigures, flag) for flag in STAGE_FLAGS),
                    RequestFigures.financed_on, RequestFigures.financed_amount)
_INSTITUTION_COLUMNS = (RequestInstitutionFigures.institution_id, RequestInstitutionFigures.region_code,
                        RequestInstitutionFigures.submitted_at, RequestInstitutionFigures.routed,
                        RequestInstitutionFigures.offered, RequestInstitutionFigures.declined,
                        RequestInstitutionFigures.financed, RequestInstitutionFigures.financed_amount)
_DECLINE_COLUMNS = (RequestDeclineFigures.reason_code, RequestDeclineFigures.region_code,
                    RequestDeclineFigures.submitted_at, RequestDeclineFigures.n)


def _add(tallies: Tallies, region_code: str, month: str, metric: str, key: int, n: int, amount) -> None:
    if not n and not amount:
        return
    for prefix in prefixes(region_code):
        cell = tallies.setdefault((prefix, month, metric, key), [0, ZERO])
        cell[0] += n
        cell[1] += amount or ZERO


def tallies(request_rows: Iterable, institution_rows: Iterable, decline_rows: Iterable = ()) -> Tallies:
    """The counts of figures rows (as _REQUEST_COLUMNS, _INSTITUTION_COLUMNS and _DECLINE_COLUMNS
    select them)."""
    result: Tallies = {}
    for region, submitted_at, amount, classification, *flags, financed_on, financed_amount in request_rows:
        month = month_of(submitted_at)
        _add(result, region, month, "posted", 0, 1, amount)
        for flag, set_ in zip(STAGE_FLAGS, flags, strict=True):
            if set_:
                _add(result, region, month, flag, 0, 1, amount)
        if classification in CLASSES:
            _add(result, region, month, classification, 0, 1, amount)
        if financed_on is not None:
            _add(result, region, financed_on.strftime("%Y-%m"), "loans", 0, 1, financed_amount)
    for institution_id, region, submitted_at, routed, offered, declined, financed, amount in institution_rows:
        month = month_of(submitted_at)
        _add(result, region, month, "inst_routed", institution_id, routed, ZERO)
        _add(result, region, month, "inst_offered", institution_id, 1 if offered else 0, ZERO)
        _add(result, region, month, "inst_declined", institution_id, declined, ZERO)
        _add(result, region, month, "inst_financed", institution_id, financed, amount)
    for reason_code, region, submitted_at, n in decline_rows:
        _add(result, region, month_of(submitted_at), REASON + reason_code, 0, n, ZERO)
    return result


def snapshot(request_ids: list[int], session=None) -> Tallies:
    """The tallies of these requests' figures rows as they stand: three statements."""
    session = session or db.session
    requests = session.execute(select(*_REQUEST_COLUMNS).where(RequestFigures.request_id.in_(request_ids)))
    institutions = session.execute(select(*_INSTITUTION_COLUMNS)
                                   .where(RequestInstitutionFigures.request_id.in_(request_ids)))
    declines = session.execute(select(*_DECLINE_COLUMNS).where(RequestDeclineFigures.request_id.in_(request_ids)))
    return tallies(requests, institutions, declines)


def _upsert(session):
    """INSERT ... ON CONFLICT adding to n and amount, for the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = MonthlyFigures.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=["region_prefix", "month", "metric", "key"],
        set_={"n": table.c.n + statement.excluded.n, "amount": table.c.amount + statement.excluded.amount})


def apply(before: Tallies, after: Tallies, session=None) -> None:
    """Add `after - before` to the kept counts: one statement (none when nothing changed)."""
    session = session or db.session
    changes = []
    for cell in sorted(set(before) | set(after)):
        n_before, amount_before = before.get(cell, (0, ZERO))
        n_after, amount_after = after.get(cell, (0, ZERO))
        if n_after != n_before or amount_after != amount_before:
            prefix, month, metric, key = cell
            changes.append({"region_prefix": prefix, "month": month, "metric": metric, "key": key,
                            "n": n_after - n_before, "amount": amount_after - amount_before})
    if changes:
        session.execute(_upsert(session), changes)


def rebuild(connection=None) -> int:
    """Every figures row summed again (the kept counts emptied first); returns the rows written."""
    target = connection or db.session
    table = MonthlyFigures.__table__
    target.execute(delete(table))
    counted = tallies(target.execute(select(*_REQUEST_COLUMNS)), target.execute(select(*_INSTITUTION_COLUMNS)),
                      target.execute(select(*_DECLINE_COLUMNS)))
    rows = [{"region_prefix": prefix, "month": month, "metric": metric, "key": key, "n": n, "amount": amount}
            for (prefix, month, metric, key), (n, amount) in sorted(counted.items())]
    for start in range(0, len(rows), 5_000):
        target.execute(table.insert(), rows[start:start + 5_000])
    return len(rows)


def read(prefix: str, first_month: str, last_month: str) -> dict[tuple[str, str, int], tuple[int, Decimal]]:
    """The kept counts of a region prefix for the months first_month to last_month: (month,
    metric, key) -> (n, amount). One statement, a range of the primary key."""
    query = (select(MonthlyFigures.month, MonthlyFigures.metric, MonthlyFigures.key, MonthlyFigures.n,
                    MonthlyFigures.amount)
             .where(MonthlyFigures.region_prefix == prefix, MonthlyFigures.month >= first_month,
                    MonthlyFigures.month <= last_month))
    return {(month, metric, key): (int(n), Decimal(amount))
            for month, metric, key, n, amount in db.session.execute(query)}
