"""Statement transactions at scale: the hot queries on the plain table against a copy partitioned
by month (issue 15, item 4), and the plans of the other hot statements.

Run from the project root, after bench/seed_scale.py:
    .venv/bin/python bench/explain.py [--database bench_scale] [--samples 200] [--keep-copy]

It reads the database bench/seed_scale.py built (refused unless that run finished), copies
statement_transactions into `statement_transactions_by_month` (PARTITION BY RANGE (date), one
partition a month, primary key (id, date) as partitioning requires, the same indexes), and times
the statements the app sends for transactions, each on both tables for the same random
statements, interleaved so that both see the same machine load:

- the verification's read (marketplace.verification.services.enterprise_statements): every row
  of an enterprise's statement files, by statement_id, ordered by statement and line;
- the statement page's preview (statements.services.first_transactions: 20 rows by line) and
  its monthly totals (statements.services.monthly_totals);
- what partitioning is for: archiving a month of old rows (DELETE of one month, rolled back,
  against DETACH + DROP of its partition, rolled back).

The copy is dropped at the end unless --keep-copy. Medians and p95 in ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import cpu_model, memory_gb  # noqa: E402
from bench.seed_scale import DATABASE, PG_SERVER, is_complete  # noqa: E402

COPY = "statement_transactions_by_month"

QUERIES = {
    "verification read (enterprise's files)": (
        "SELECT t.statement_id, t.line, t.date, t.amount, t.balance, t.counterparty, t.counterparty_account, "
        "t.summary FROM {table} t WHERE t.statement_id = ANY(%(ids)s) ORDER BY t.statement_id, t.line"),
    "statement preview (20 rows)": (
        "SELECT * FROM {table} t WHERE t.statement_id = %(id)s ORDER BY t.line, t.id LIMIT 20"),
    "statement monthly totals": (
        "SELECT extract(year FROM t.date), extract(month FROM t.date), t.amount > 0, sum(t.amount) "
        "FROM {table} t WHERE t.statement_id = %(id)s GROUP BY 1, 2, 3"),
}


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def build_partitioned_copy(conn) -> float:
    """The partitioned copy, one partition per month that has rows; returns seconds taken."""
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {COPY}")
        cur.execute("SELECT date_trunc('month', min(date))::date, max(date) FROM statement_transactions")
        first, last = cur.fetchone()
        cur.execute(f"CREATE TABLE {COPY} (LIKE statement_transactions INCLUDING DEFAULTS) PARTITION BY RANGE (date)")
        month = first
        while month <= last:
            following = next_month(month)
            cur.execute(f"CREATE TABLE {COPY}_{month:%Y%m} PARTITION OF {COPY} "
                        f"FOR VALUES FROM ('{month}') TO ('{following}')")
            month = following
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute(f"INSERT INTO {COPY} SELECT * FROM statement_transactions")
        cur.execute(f"ALTER TABLE {COPY} ADD PRIMARY KEY (id, date)")
        cur.execute(f"CREATE INDEX ON {COPY} (statement_id)")
        cur.execute(f"CREATE INDEX ON {COPY} (date)")
    conn.commit()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"VACUUM ANALYZE {COPY}")
    conn.autocommit = False
    return time.perf_counter() - started


def timed(conn, sql: str, params: dict) -> float:
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(sql, params)
        cur.fetchall()
    return (time.perf_counter() - started) * 1000


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"median {statistics.median(values):7.2f} ms, p95 {p95:7.2f} ms"


def plan_of(conn, sql: str, params: dict) -> str:
    with conn.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        lines = [row[0] for row in cur.fetchall()]
    if len(lines) > 12:  # one index scan per partition: the first few tell the story
        lines = lines[:8] + [f"  ... {len(lines) - 10} more lines ..."] + lines[-2:]
    return "\n".join(lines)


def archive_month(conn, partitioned: bool, month) -> float:
    """Remove one month of rows, rolled back; ms."""
    started = time.perf_counter()
    with conn.cursor() as cur:
        if partitioned:
            cur.execute(f"ALTER TABLE {COPY} DETACH PARTITION {COPY}_{month:%Y%m}")
            cur.execute(f"DROP TABLE {COPY}_{month:%Y%m}")
        else:
            following = next_month(month)
            cur.execute("DELETE FROM statement_transactions WHERE date >= %s AND date < %s", (month, following))
    elapsed = (time.perf_counter() - started) * 1000
    conn.rollback()
    return elapsed


def main() -> None:
    import psycopg

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--keep-copy", action="store_true")
    parser.add_argument("--no-partitions", action="store_true", help="skip the partitioning comparison")
    parser.add_argument("--bureau-runs", type=int, default=0,
                        help="also time the bureau's figures() and stuck list (bench/bureau.py's measures) on "
                             "this data, that many runs after 3 warm-ups")
    parser.add_argument("--upgrade", action="store_true",
                        help="first bring the database to the current migrations (e.g. new indexes)")
    args = parser.parse_args()
    url = f"{PG_SERVER}/{args.database}"
    if not is_complete(url):
        sys.exit(f"{args.database} is not a finished bench/seed_scale.py database: run that first")
    if args.upgrade:
        from flask_migrate import upgrade

        from bench.seed_scale import build_app

        started = time.perf_counter()
        with build_app(url).app_context():
            upgrade()
        print(f"upgraded to the current migrations in {time.perf_counter() - started:.1f} s")
    if args.bureau_runs:
        from bench.bureau import run_measures
        from bench.seed_scale import build_app

        print(f"bureau measures (load average {os.getloadavg()[0]:.2f}):")
        run_measures(build_app(url), args.bureau_runs, datetime.now(UTC))
        print(f"load average after the bureau measures {os.getloadavg()[0]:.2f}")
    if args.no_partitions:
        return
    conn = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
    with conn.cursor() as cur:
        cur.execute("SET jit = off")
        cur.execute("SELECT count(*) FROM statement_transactions")
        rows = cur.fetchone()[0]
        cur.execute("SELECT version()")
        version = cur.fetchone()[0].split(",")[0]
    print(f"machine: {platform.platform()}; {cpu_model()}; {os.cpu_count()} cores; {memory_gb():.0f} GB; "
          f"{version}; load average {os.getloadavg()[0]:.2f}; {rows:,} statement transactions")
    with conn.cursor() as cur:
        cur.execute(f"SELECT to_regclass('{COPY}') IS NOT NULL")
        exists = cur.fetchone()[0]
    if not exists:
        print(f"building the partitioned copy ({COPY}) ...")
        print(f"  built in {build_partitioned_copy(conn):.1f} s (load average {os.getloadavg()[0]:.2f})")
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM pg_inherits WHERE inhparent = '{COPY}'::regclass")
        partitions = cur.fetchone()[0]
        for table in ("statement_transactions", COPY):
            cur.execute(f"SELECT pg_size_pretty(pg_total_relation_size('{table}')), "
                        f"(SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits "
                        f"WHERE inhparent = '{table}'::regclass)")
            size, part_size = cur.fetchone()
            print(f"  {table}: {part_size or size} with indexes")
        cur.execute("SELECT enterprise_id, array_agg(id) FROM statement_files GROUP BY enterprise_id")
        enterprises = cur.fetchall()
    print(f"  {partitions} monthly partitions")
    rng = random.Random(7)
    sample = [rng.choice(enterprises) for _ in range(args.samples)]
    for name, template in QUERIES.items():
        results = {"plain": [], "partitioned": []}
        for n, (_enterprise, ids) in enumerate(sample):
            params = {"ids": ids, "id": ids[0]}
            order = (("plain", "statement_transactions"), ("partitioned", COPY))
            for label, table in order if n % 2 else order[::-1]:
                results[label].append(timed(conn, template.format(table=table), params))
        conn.rollback()
        ratio = statistics.median(results["partitioned"]) / statistics.median(results["plain"])
        print(f"{name}:\n  plain       {summary(results['plain'])}\n  partitioned {summary(results['partitioned'])}"
              f"  (x{ratio:.2f})")
    ids = sample[0][1]
    for table in ("statement_transactions", COPY):
        print(f"\nplan, verification read on {table}:")
        print(plan_of(conn, QUERIES["verification read (enterprise's files)"].format(table=table), {"ids": ids}))
    conn.rollback()
    with conn.cursor() as cur:
        cur.execute("SELECT date_trunc('month', min(date))::date FROM statement_transactions")
        oldest = cur.fetchone()[0]
    conn.rollback()
    for label, partitioned in (("plain DELETE of the oldest month", False),
                               ("DETACH + DROP of its partition", True)):
        runs = [archive_month(conn, partitioned, oldest) for _ in range(3)]
        print(f"archiving, {label}: median {statistics.median(runs):.0f} ms (3 runs, rolled back)")
    if not args.keep_copy:
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE {COPY}")
        conn.commit()
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
