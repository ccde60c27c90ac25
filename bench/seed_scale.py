"""Province-scale data (issue 15, item 3): a PostgreSQL database of its own filled with COPY.

Run from the project root:  .venv/bin/python bench/seed_scale.py [--scale 1] [--database bench_scale]

At --scale 1 it holds 100,000 enterprises (each with its organisation and an admin user),
1,000,000 receivables, 10,000,000 bank-statement transactions (in about 150,000 statement
files) and 200,000 financing requests; --scale 0.01 is a quick run (1,000 enterprises ...).
Enterprises sit in Jiangsu's districts (marketplace/reference regions 32xxxx, weighted by city
as bench/bureau.py does) and a few in Shanghai and Zhejiang; 12 banks and 4 guarantors with a
published product each, 4 bureaus with a coordinator. Each request lives through the state
machine up to now (bench/bureau.py's Story: targets, claims, information requests, offers,
declines, guarantees, loans, pledged receivables with their confirmation links, the timeline),
its request stays, stay-length histograms and figures rows are rebuilt (marketplace.bureau.kept.rebuild), each
verified request has its verification report, users have notifications. Every unified social
credit code (enterprises and debtors) carries a valid check character.

The schema comes from the migrations (`flask db upgrade`, in process). The large tables are
loaded without their secondary indexes and foreign-key triggers (session_replication_role =
replica, as pg_restore does); the indexes are built again afterwards, then VACUUM ANALYZE.

Interrupted runs: everything is built in a database named `<database>__building`, dropped first
if a previous run left one, and renamed to `<database>` only at the very end, after the row in
`bench_seed_state` that records the scale and the row counts has been written. A database under
the final name is therefore always whole; `is_complete(url)` says so for a consumer such as a
load test. A rerun starts clean; the last whole database stays usable until the new one replaces
it.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import cpu_model, create_database, memory_gb  # noqa: E402

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = "bench_scale"
BUILDING_SUFFIX = "__building"
SEED = 20261207
STATE_TABLE = "bench_seed_state"

# at --scale 1
ENTERPRISES = 100_000
RECEIVABLES = 1_000_000
TRANSACTIONS = 10_000_000
REQUESTS = 200_000

# share of enterprises that uploaded statements, and files per such enterprise (accounts x periods)
STATEMENT_SHARE = 0.8
FILES_PER_ENTERPRISE = (1, 1, 2, 2, 3)
BANK_NAMES = ("中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "交通银行", "江苏银行", "苏州银行", "南京银行",
              "招商银行", "兴业银行")
SUMMARIES_IN = ("货款", "销售回款", "往来款", "退款", "利息")
SUMMARIES_OUT = ("采购付款", "工资", "社保", "税款", "房租", "水电费", "运费", "往来款")
# receivables not pledged in any request: confirmation as debtors answer links over time
CONFIRMATION_WEIGHTS = {"confirmed": 62, "pending": 34, "disputed": 4}
NOTIFICATIONS_PER_REQUEST = 3


def scaled(count: int, scale: float) -> int:
    return max(1, round(count * scale))


def valid_uscc(region: str, serial: int, kind: str = "91") -> str:
    """A unified social credit code with a correct check character: registration authority and
    kind (91: company registered with the market regulator), the 6-digit division, a 9-character
    organisation code, the check character."""
    from workflows.identifiers import uscc_check_char

    body = f"{kind}{region}{serial:09d}"
    return body + uscc_check_char(body)


# ---- the database: built under a temporary name, renamed when whole ----------------------------

def admin_engine():
    from sqlalchemy import create_engine

    return create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")


def publish(building: str, final: str) -> None:
    """Replace `final` with the finished `building` database."""
    from sqlalchemy import text

    engine = admin_engine()
    with engine.connect() as conn:
        # sessions of this run the pool may still hold (nobody else uses a database being built)
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                     {"name": building})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{final}" WITH (FORCE)'))
        conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{final}"'))
    engine.dispose()


def is_complete(url: str, scale: float | None = None) -> bool:
    """True when the database at `url` was finished by this script (and at `scale`, if given)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text(f"SELECT scale FROM {STATE_TABLE} WHERE finished_at IS NOT NULL")).first()
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()
    return row is not None and (scale is None or math.isclose(row.scale, scale))


def build_app(url: str):
    from bench.bureau import build_app as bureau_app

    return bureau_app(url, tempfile.mkdtemp(prefix="bench-scale-"))


# ---- COPY helpers -------------------------------------------------------------------------------

def copy_text(cursor, table: str, columns: tuple[str, ...], buffer: io.StringIO) -> None:
    """COPY the tab-separated lines in `buffer` (text format, \\N for NULL) into `table`."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())


def secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the indexes on `table` that no constraint owns."""
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)", (table,))
    return cursor.fetchall()


class BulkLoad:
    """Drop the secondary indexes of the big tables for the load, build them again at the end."""

    # workflow_events and request_stays keep theirs: the stays' backfill looks rows up by request
    # (without the indexes it took 150 s of CPU for 22,000 rows)
    TABLES = ("financing_requests", "request_targets", "assignments",
              "info_requests", "offers", "declines", "guarantees", "loans", "request_pledges", "confirmation_links",
              "receivables", "statement_transactions", "statement_files", "notifications", "verification_reports")

    def __init__(self, connection):
        self.connection = connection
        self.saved: list[tuple[str, str]] = []

    def __enter__(self):
        with self.connection.cursor() as cursor:
            for table in self.TABLES:
                for name, definition in secondary_indexes(cursor, table):
                    self.saved.append((name, definition))
                    cursor.execute(f'DROP INDEX "{name}"')
        self.connection.commit()
        return self

    def rebuild(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for _name, definition in self.saved:
                cursor.execute(definition)
        self.connection.commit()

    def __exit__(self, *exc):
        return False


# ---- the parties --------------------------------------------------------------------------------

def seed_enterprises(connection, rng: random.Random, count: int, now: datetime):
    """COPY `count` enterprises with their organisation and an admin user; returns bench.bureau
    Applicants."""
    from bench.bureau import INDUSTRIES, Applicant, region_codes
    from marketplace.crypto import encrypt

    codes, weights = region_codes()
    regions = rng.choices(codes, weights, k=count)
    id_token = encrypt("320505198001010011")  # one ciphertext for all: nobody looks it up
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM organisations")
        org0 = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM users")
        user0 = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM enterprises")
        ent0 = cursor.fetchone()[0]
        orgs, ents, users = io.StringIO(), io.StringIO(), io.StringIO()
        applicants = []
        start = now - timedelta(days=365 * 4)
        for n, region in enumerate(regions, 1):
            org_id, ent_id, user_id = org0 + n, ent0 + n, user0 + n
            created = (start + timedelta(seconds=rng.random() * 365 * 3 * 86400)).isoformat()
            name = f"{region[:4]}规模{n:06d}制造有限公司"
            orgs.write(f"{org_id}\tenterprise\t{name}\t\\N\t\\N\tt\t{created}\t\\N\n")
            ents.write(f"{ent_id}\t{org_id}\t{valid_uscc(region, n)}\t{name}\t张三\t{id_token}\t"
                       f"{rng.choice(INDUSTRIES)}\t{region}\t\\N\t张三\t13800000000\t\\N\t{created}\t\\N\t\\N\n")
            users.write(f"{user_id}\t{org_id}\tadmin{n:06d}@scale.bench\t财务\tenterprise:admin\tbench-no-login\t"
                        f"1\t\\N\t\\N\t\\N\t\\N\tt\t{created}\t\\N\t{created}\t\\N\n")
            applicants.append(Applicant(ent_id, org_id, user_id, region))
        copy_text(cursor, "organisations", ("id", "kind", "name", "region_code", "contact", "active", "created_at",
                                            "credit_source"), orgs)
        copy_text(cursor, "enterprises", ("id", "organisation_id", "uscc", "name", "legal_rep_name",
                                          "legal_rep_id_number", "industry_code", "region_code", "park",
                                          "contact_name", "contact_phone", "address", "created_at",
                                          "recommend_consent_at", "recommend_consent_by_id"), ents)
        copy_text(cursor, "users", ("id", "organisation_id", "email", "name", "role", "password_hash",
                                    "auth_generation", "totp_secret", "totp_enrolled_at", "totp_last_step", "locale",
                                    "active", "created_at", "last_login_at", "email_confirmed_at", "disabled_at"),
                  users)
    connection.commit()
    return applicants


def debtors(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Debtor companies (name, valid credit code): large buyers in Jiangsu and Shanghai."""
    from bench.bureau import region_codes

    codes, _weights = region_codes()
    return [(f"债务人{n:04d}集团有限公司", valid_uscc(rng.choice(codes), 500_000_000 + n)) for n in range(count)]


# ---- the requests (bench/bureau.py's stories) ------------------------------------------------------

def seed_requests(app, parties, rows: int, now: datetime, rng: random.Random, debtor_list) -> Counter:
    """`rows` requests, each through the state machine up to now, CHUNK at a time (bench/bureau.py's
    stories, with debtors that carry valid credit codes)."""
    from bench.bureau import generate

    return generate(app, parties, rows, now, rng, debtors=debtor_list)


# ---- receivables, statements, reports, notifications --------------------------------------------

RECEIVABLE_COLUMNS = ("id", "enterprise_id", "debtor_name", "debtor_uscc", "invoice_no", "contract_no", "face_amount",
                      "issue_date", "due_date", "confirmation", "confirmed_via", "confirmed_at", "dispute_reason",
                      "created_at", "updated_at")


def seed_receivables(connection, rng: random.Random, applicants, debtor_list, count: int, now: datetime) -> int:
    """Receivables no request pledged (yet), up to `count` in all."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), coalesce(max(id), 0) FROM receivables")
        existing, last_id = cursor.fetchone()
        missing = max(0, count - existing)
        states = rng.choices(list(CONFIRMATION_WEIGHTS), list(CONFIRMATION_WEIGHTS.values()), k=missing)
        today = now.date()
        buffer = io.StringIO()
        for n, state in enumerate(states, 1):
            rid = last_id + n
            applicant = applicants[rng.randrange(len(applicants))]
            name, uscc = debtor_list[rng.randrange(len(debtor_list))]
            issued = today - timedelta(days=rng.randint(5, 720))
            due = issued + timedelta(days=rng.choice((60, 90, 120, 180)))
            face = f"{rng.randint(50_000, 5_000_000)}.{rng.randint(0, 99):02d}"
            created = datetime.combine(issued, datetime.min.time(), UTC) + timedelta(days=rng.randint(0, 20),
                                                                                     seconds=rng.randint(0, 86_399))
            created = min(created, now)
            if state == "pending":
                via = at = reason = "\\N"
            else:
                via, at = "link", min(created + timedelta(hours=rng.uniform(1, 200)), now).isoformat()
                reason = "发票金额与合同不符" if state == "disputed" else "\\N"
            updated = created.isoformat() if state == "pending" else at
            buffer.write(f"{rid}\t{applicant.enterprise_id}\t{name}\t{uscc}\tINV{rid:010d}\tHT{rid:010d}\t{face}\t"
                         f"{issued}\t{due}\t{state}\t{via}\t{at}\t{reason}\t{created.isoformat()}\t"
                         f"{updated}\n")
            if n % 100_000 == 0:
                copy_text(cursor, "receivables", RECEIVABLE_COLUMNS, buffer)
                buffer = io.StringIO()
        copy_text(cursor, "receivables", RECEIVABLE_COLUMNS, buffer)
        cursor.execute("SELECT setval(pg_get_serial_sequence('receivables', 'id'), max(id)) FROM receivables")
    connection.commit()
    return missing


STATEMENT_FILE_COLUMNS = ("id", "enterprise_id", "original_name", "sha256", "size", "bank", "account_no",
                          "account_name", "first_date", "last_date", "row_count", "inflow_total", "outflow_total",
                          "uploaded_by_id", "uploaded_at")
TRANSACTION_COLUMNS = ("id", "statement_id", "line", "date", "amount", "balance", "counterparty",
                       "counterparty_account", "summary")


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def seed_statements(connection, rng: random.Random, applicants, debtor_list, total_rows: int, now: datetime):
    """Statement files of 12 months each (one per account and year) and their `total_rows` rows."""
    holders = [a for a in applicants if rng.random() < STATEMENT_SHARE] or applicants[:1]
    files = [(a, k) for a in holders for k in range(rng.choice(FILES_PER_ENTERPRISE))]
    per_file = max(1, total_rows // len(files))
    remainder = total_rows - per_file * len(files)
    today = now.date()
    counterparties = [(name, f"6222{n:015d}") for n, (name, _uscc) in enumerate(debtor_list)]
    written = 0
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # no FK triggers for the load
        file_buffer, tx_buffer = io.StringIO(), io.StringIO()
        tx_id = 0
        for file_id, (applicant, k) in enumerate(files, 1):
            rows = per_file + (1 if file_id <= remainder else 0)
            last = today.replace(day=1) - timedelta(days=1 + 365 * k)
            first = last - timedelta(days=364)
            offsets = sorted(rng.randrange(365) for _ in range(rows))
            balance = rng.randint(100_000, 50_000_000) * 100
            inflow = outflow = 0
            bank = BANK_NAMES[file_id % len(BANK_NAMES)]
            account = f"3201{applicant.enterprise_id:010d}{k:02d}"
            for line, offset in enumerate(offsets, 1):
                tx_id += 1
                if rng.random() < 0.45:
                    amount = int(rng.lognormvariate(11.5, 1.2)) * 100
                    name, party_account = counterparties[rng.randrange(len(counterparties))]
                    summary = SUMMARIES_IN[line % len(SUMMARIES_IN)]
                    inflow += amount
                else:
                    amount = -int(rng.lognormvariate(11, 1.2)) * 100
                    name, party_account = counterparties[rng.randrange(len(counterparties))]
                    summary = SUMMARIES_OUT[line % len(SUMMARIES_OUT)]
                    outflow -= amount
                balance += amount
                tx_buffer.write(f"{tx_id}\t{file_id}\t{line}\t{first + timedelta(days=offset)}\t{_yuan(amount)}\t"
                                f"{_yuan(balance)}\t{name}\t{party_account}\t{summary}\n")
            written += rows
            digest = f"{file_id:064x}"
            uploaded = datetime.combine(last, datetime.min.time(), UTC) + timedelta(days=rng.randint(1, 20))
            file_buffer.write(f"{file_id}\t{applicant.enterprise_id}\t{bank}流水{last.year}.csv\t{digest}\t"
                              f"{rows * 120}\t{bank}\t{account}\t{applicant.enterprise_id}号企业\t{first}\t{last}\t"
                              f"{rows}\t{_yuan(inflow)}\t{_yuan(outflow)}\t{applicant.user_id}\t"
                              f"{min(uploaded, now).isoformat()}\n")
            if tx_buffer.tell() > 32 * 1024 * 1024:
                copy_text(cursor, "statement_transactions", TRANSACTION_COLUMNS, tx_buffer)
                tx_buffer = io.StringIO()
        copy_text(cursor, "statement_files", STATEMENT_FILE_COLUMNS, file_buffer)
        copy_text(cursor, "statement_transactions", TRANSACTION_COLUMNS, tx_buffer)
        for table in ("statement_files", "statement_transactions"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
        cursor.execute("SET session_replication_role = origin")
    connection.commit()
    return len(files), written


def report_payloads() -> dict[str, str]:
    """A report payload per class, as JSON text: the shape the pages read, with stand-in figures."""
    import json

    return {cls: json.dumps({"classification": cls, "policy_version": "2026.1", "checks": [], "red_flags": [],
                             "seeded": True}, ensure_ascii=False) for cls in ("excellent", "mixed", "poor")}


def seed_reports_and_notifications(connection, now: datetime) -> tuple[int, int]:
    """A verification report for each classified request; notifications to each request's
    applicant (one read, the newer ones unread). Server-side from the rows already there."""
    import json

    payloads = report_payloads()
    thresholds = json.dumps({"seeded": True})
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "INSERT INTO verification_reports (request_id, enterprise_id, submission_no, as_of, classification, "
            "policy_version, policy_effective_from, thresholds, inputs_sha256, statement_sha256s, receivables_sha256, "
            "requested_amount, pledged_amount, payload, created_at) "
            "SELECT r.id, r.enterprise_id, 1, (r.submitted_at AT TIME ZONE 'Asia/Shanghai')::date, r.classification, "
            "'2026.1', DATE '2026-01-01', %s::json, md5(r.id::text) || md5(r.id::text), '[]'::json, "
            "md5(r.enterprise_id::text) || md5(r.enterprise_id::text), r.amount, r.amount * 1.25, "
            "CASE r.classification WHEN 'excellent' THEN %s::json WHEN 'mixed' THEN %s::json ELSE %s::json END, "
            "r.submitted_at + interval '3 minutes' FROM financing_requests r WHERE r.classification IS NOT NULL "
            "AND r.state NOT IN ('draft', 'submitted', 'verifying')",
            (thresholds, payloads["excellent"], payloads["mixed"], payloads["poor"]))
        reports = cursor.rowcount
        cursor.execute(
            "INSERT INTO notifications (user_id, kind, title, body, link, created_at, read_at) "
            "SELECT r.created_by_id, k.kind, k.title, '', '/requests/' || r.id, "
            "r.submitted_at + k.n * interval '1 day', "
            "CASE WHEN k.n = 1 OR r.id %% 3 = 0 THEN r.submitted_at + k.n * interval '1 day' END "
            "FROM financing_requests r CROSS JOIN (VALUES (1, 'request.verified', '核验完成'), "
            "(2, 'request.routed', '已推送至机构'), (3, 'request.updated', '申请有新进展')) AS k(n, kind, title) "
            "WHERE r.submitted_at IS NOT NULL AND r.created_by_id IS NOT NULL "
            "AND r.submitted_at + k.n * interval '1 day' <= %s", (now,))
        notifications = cursor.rowcount
        cursor.execute("SET session_replication_role = origin")
    connection.commit()
    return reports, notifications


class CpuClock:
    """CPU seconds spent by this process and by the PostgreSQL backends it uses (read from /proc:
    the server runs on this machine), step by step. On a shared machine wall time measures the
    other sessions too; CPU time is what the seeding itself costs."""

    def __init__(self):
        self.backends: set[int] = set()
        self.last = (self._own(), 0.0)

    def watch(self, connection) -> None:
        """Count `connection`'s server process, and the one of the app's session."""
        from marketplace.extensions import db

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backends.add(cursor.fetchone()[0])
        self.backends.add(db.session.execute(db.text("SELECT pg_backend_pid()")).scalar())

    @staticmethod
    def _own() -> float:
        usage = os.times()
        return usage.user + usage.system

    def _server(self) -> float:
        total = 0.0
        for pid in self.backends:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def lap(self) -> tuple[float, float]:
        now = (self._own(), self._server())
        own, server = now[0] - self.last[0], max(0.0, now[1] - self.last[1])
        self.last = now
        return own, server


# ---- the whole run ------------------------------------------------------------------------------

def seed(url: str, scale: float, now: datetime, log=print) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from bench.bureau import seed_parties
    from marketplace.bureau import kept
    from marketplace.extensions import db

    rng = random.Random(SEED)
    app = build_app(url)
    timings: dict[str, float] = {}
    cpu_seconds: dict[str, tuple[float, float]] = {}

    cpu = CpuClock()

    def step(name: str, started: float) -> None:
        timings[name] = time.perf_counter() - started
        own, server = cpu.lap()
        cpu_seconds[name] = (own, server)
        log(f"  {name}: {timings[name]:.1f} s wall; CPU {own:.1f} s here + {server:.1f} s in PostgreSQL "
            f"(load average {os.getloadavg()[0]:.1f})")

    with app.app_context():
        started = time.perf_counter()
        upgrade()
        step("schema (flask db upgrade)", started)

        started = time.perf_counter()
        parties = seed_parties(app, rng, 0)  # bureaus, banks, guarantors, products (through the services)
        db.session.commit()
        raw = db.engine.raw_connection()  # kept referenced: the pool takes it back when it goes
        connection = raw.driver_connection
        cpu.watch(connection)
        parties.applicants = seed_enterprises(connection, rng, scaled(ENTERPRISES, scale), now)
        step("parties and enterprises", started)

        debtor_list = debtors(rng, max(50, scaled(2_000, scale)))
        started = time.perf_counter()
        # the load as pg_restore does it: no secondary indexes (built again at the end) and no
        # foreign-key triggers (every connection opened from here on: the setting is the
        # database's, and the pool is emptied); the generators keep the references whole
        database = url.rsplit("/", 1)[1]
        loader = BulkLoad(connection).__enter__()
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{database}" SET session_replication_role = replica')
        connection.commit()
        db.session.commit()
        db.engine.dispose()
        cpu.watch(connection)
        step("indexes dropped for the load", started)

        started = time.perf_counter()
        states = seed_requests(app, parties, scaled(REQUESTS, scale), now, rng, debtor_list)
        for table in ("financing_requests", "request_targets", "offers", "receivables"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"))
        db.session.commit()
        step("requests (stories)", started)

        started = time.perf_counter()
        kept.rebuild()
        db.session.commit()
        step("request stays, stay lengths, figures", started)

        started = time.perf_counter()
        seed_receivables(connection, rng, parties.applicants, debtor_list, scaled(RECEIVABLES, scale), now)
        step("receivables", started)

        started = time.perf_counter()
        seed_statements(connection, rng, parties.applicants, debtor_list, scaled(TRANSACTIONS, scale), now)
        step("statements", started)

        started = time.perf_counter()
        seed_reports_and_notifications(connection, now)
        step("reports and notifications", started)

        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{database}" RESET session_replication_role')
        connection.commit()
        loader.rebuild()
        step("indexes rebuilt", started)

        started = time.perf_counter()
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        step("VACUUM ANALYZE", started)

        counts = {}
        with connection.cursor() as cursor:
            for table in ("enterprises", "receivables", "statement_files", "statement_transactions",
                          "financing_requests", "workflow_events", "request_stays", "request_targets", "offers",
                          "verification_reports", "notifications", "users", "organisations"):
                cursor.execute(f"SELECT count(*) FROM {table}")
                counts[table] = cursor.fetchone()[0]
            cursor.execute(f"CREATE TABLE {STATE_TABLE} (scale double precision NOT NULL, counts json NOT NULL, "
                           "seconds json NOT NULL, finished_at timestamptz)")
            import json

            # written last: its presence under the final name is what "whole" means
            cursor.execute(f"INSERT INTO {STATE_TABLE} VALUES (%s, %s, %s, now())",
                           (scale, json.dumps(counts), json.dumps({"wall": timings, "cpu": cpu_seconds})))
        raw.invalidate()  # closed for good: its pool was disposed above, and the rename needs no session
        db.session.remove()
        db.engine.dispose()
    return {"states": states, "counts": counts, "timings": timings, "cpu": cpu_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 100,000 enterprises ... 10,000,000 transactions")
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args()
    building = args.database + BUILDING_SUFFIX
    print(f"machine: {platform.platform()}; {cpu_model()}; {os.cpu_count()} cores; {memory_gb():.0f} GB; "
          f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f}")
    print(f"seeding scale {args.scale} into {building} (renamed to {args.database} when whole) ...")
    started = time.perf_counter()
    url = create_database(PG_SERVER, building)  # drops what an interrupted run left
    result = seed(url, args.scale, datetime.now(UTC))
    publish(building, args.database)
    own = sum(c[0] for c in result["cpu"].values())
    server = sum(c[1] for c in result["cpu"].values())
    print(f"done in {time.perf_counter() - started:.1f} s wall (load average {os.getloadavg()[0]:.2f}); "
          f"CPU {own:.0f} s here + {server:.0f} s in PostgreSQL")
    print("rows: " + ", ".join(f"{table} {count:,}" for table, count in result["counts"].items()))
    print("request states: " + ", ".join(f"{state} {count:,}" for state, count in result["states"].most_common()))


if __name__ == "__main__":
    main()
