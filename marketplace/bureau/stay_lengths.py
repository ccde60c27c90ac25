"""Stay-length histograms (marketplace.bureau.models.StayLength) and the turnaround figures
read from them.

Exact percentiles over a province's million stays cannot be read within a page's time: the
join and the sort are the cost, whatever the index (docs/performance.md, issue 13). So each
finished stay is counted once, when it closes, in a length bucket of its region prefix (one
row set per bureau level: the region code cut to 0, 2, 4 and 6 characters), the month it began
(Beijing time), its state and the institution that ended it (0: none). A bureau's range reads
the whole months inside it from these counts and the partial months at its edges from the
stays themselves, bucketed the same way; the median and p90 are read from the merged counts,
each value at its bucket's middle, interpolated between ranks as PostgreSQL's percentile_cont
does. A bucket is 1/8 of a natural-log unit wide, so the value read is within 6.5 % of the
exact one (tests/bureau/test_stay_lengths.py).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, text

from marketplace.bureau.models import RequestStay, StayLength
from marketplace.bureau.periods import PREFIX_LENGTHS, month_of, prefixes, split, utc_start
from marketplace.bureau.region import in_region
from marketplace.extensions import db
from marketplace.reference.regions import region_prefix

BUCKETS_PER_UNIT = 8  # buckets per natural-log unit of (seconds + 1)
LAST_BUCKET = 143  # stays of about 2 years and more share the last bucket
NO_INSTITUTION = 0


def bucket_of(seconds: int) -> int:
    return min(LAST_BUCKET, int(math.floor(math.log(max(seconds, 0) + 1) * BUCKETS_PER_UNIT)))


def bucket_seconds(bucket: int) -> float:
    """The value a bucket stands for: its middle on the log scale."""
    return math.exp((bucket + 0.5) / BUCKETS_PER_UNIT) - 1


def _upsert(session):
    """An INSERT ... ON CONFLICT DO UPDATE n = n + excluded.n for the session's dialect."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(StayLength.__table__)
    keys = ["region_prefix", "month", "state", "institution_id", "bucket"]
    return statement.on_conflict_do_update(index_elements=keys, set_={"n": StayLength.__table__.c.n + statement.excluded.n})


def count(stays: list[RequestStay], session=None) -> None:
    """Count finished stays (left_at and seconds set) in the histograms: one statement."""
    session = session or db.session
    rows: dict[tuple, int] = defaultdict(int)
    for stay in stays:
        if stay.seconds is None or stay.left_at is None:
            continue
        for prefix in prefixes(stay.region_code):
            key = (prefix, month_of(stay.entered_at), stay.state, stay.institution_id or NO_INSTITUTION,
                   bucket_of(stay.seconds))
            rows[key] += 1
    if rows:
        session.execute(_upsert(session), [
            {"region_prefix": p, "month": m, "state": s, "institution_id": i, "bucket": b, "n": n}
            for (p, m, s, i, b), n in sorted(rows.items())])


# Every finished stay counted again from request_stays (the migration, the demo, the benches).
_REBUILD_SQL = """
INSERT INTO request_stay_lengths (region_prefix, month, state, institution_id, bucket, n)
SELECT substr(s.region_code, 1, levels.length), {month}, s.state, COALESCE(s.institution_id, 0),
       {bucket}, count(*)
FROM request_stays s
CROSS JOIN ({levels}) AS levels
WHERE s.seconds IS NOT NULL AND s.left_at IS NOT NULL
GROUP BY 1, 2, 3, 4, 5
"""
_DIALECT_SQL = {
    "postgresql": {
        "month": "to_char(s.entered_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')",
        "bucket": f"LEAST({LAST_BUCKET}, CAST(floor(ln(s.seconds + 1) * {BUCKETS_PER_UNIT}) AS INTEGER))",
    },
    "sqlite": {
        "month": "strftime('%Y-%m', s.entered_at, '+8 hours')",
        "bucket": f"MIN({LAST_BUCKET}, CAST(floor(ln(s.seconds + 1) * {BUCKETS_PER_UNIT}) AS INTEGER))",
    },
}


def rebuild(connection=None) -> int:
    """Count every finished stay again (the histograms emptied first); returns the rows written."""
    target = connection or db.session
    dialect = (connection.dialect if connection is not None else db.engine.dialect).name
    parts = _DIALECT_SQL["postgresql" if dialect.startswith("postgres") else "sqlite"]
    levels = " UNION ALL ".join(f"SELECT {n} AS length" for n in PREFIX_LENGTHS)
    target.execute(text("DELETE FROM request_stay_lengths"))
    result = target.execute(text(_REBUILD_SQL.format(levels=levels, **parts)))
    return result.rowcount or 0


@dataclass(frozen=True)
class StayPercentiles:
    state: str
    institution_id: int | None
    count: int
    median_seconds: float
    p90_seconds: float


def _percentile(counts: list[tuple[int, int]], total: int, fraction: float) -> float:
    """percentile_cont over the values the (bucket, n) pairs stand for, in bucket order."""
    position = fraction * (total - 1)
    low_rank, high_rank = int(position), min(int(position) + 1, total - 1)
    values, seen = {}, 0
    for bucket, n in counts:
        for rank in (low_rank, high_rank):
            if seen <= rank < seen + n:
                values[rank] = bucket_seconds(bucket)
        seen += n
    return values[low_rank] + (values[high_rank] - values[low_rank]) * (position - low_rank)


def _edge_counts(bureau, low: date, high: date, tallies) -> None:
    """Add the finished stays (seconds set: left) that began in [low, high) (Beijing dates),
    bucketed in SQL; an index-only scan of ix_request_stays_entered_finished."""
    if low >= high:
        return
    bucket = func.floor(func.ln(RequestStay.seconds + 1) * BUCKETS_PER_UNIT)
    query = (select(RequestStay.state, RequestStay.institution_id, bucket, func.count())
             .where(in_region(RequestStay.region_code, bureau), RequestStay.seconds.is_not(None),
                    RequestStay.entered_at >= utc_start(low),
                    RequestStay.entered_at < utc_start(high))
             .group_by(RequestStay.state, RequestStay.institution_id, bucket))
    for state, institution_id, raw_bucket, n in db.session.execute(query):
        tallies[(state, institution_id or NO_INSTITUTION)][min(LAST_BUCKET, int(raw_bucket))] += int(n)


def percentiles(bureau, start: date, end: date) -> list[StayPercentiles]:
    """Median and p90 per state and institution of the region's finished stays that began from
    start to end (Beijing dates, inclusive). At most three statements: the whole months from the
    histograms, each partial edge month from the stays."""
    tallies: dict[tuple[str, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    periods = split(start, end)
    if periods.first_month:
        query = (select(StayLength.state, StayLength.institution_id, StayLength.bucket, func.sum(StayLength.n))
                 .where(StayLength.region_prefix == region_prefix(bureau.region_code),
                        StayLength.month >= periods.first_month, StayLength.month <= periods.last_month)
                 .group_by(StayLength.state, StayLength.institution_id, StayLength.bucket))
        for state, institution_id, bucket, n in db.session.execute(query):
            tallies[(state, institution_id)][bucket] += int(n)
    for low, high in periods.edges:
        _edge_counts(bureau, low, high, tallies)
    result = []
    for (state, institution_id), buckets in tallies.items():
        counts = sorted(buckets.items())
        total = sum(n for _, n in counts)
        result.append(StayPercentiles(state=state, institution_id=institution_id or None, count=total,
                                      median_seconds=_percentile(counts, total, 0.5),
                                      p90_seconds=_percentile(counts, total, 0.9)))
    return result
