"""Benchmark of an institution's leads page (issue 15), in process: the former leads (every open
request of the region ranked, one audit event per lead) against the current ones (the database
hands over the candidates, one page of leads is logged in one INSERT).

Run from the project root:  .venv/bin/python bench/leads.py [--open 20000] [--runs 5] [--reuse]

It builds a PostgreSQL database of its own (bench_leads, dropped first; --reuse keeps the one a
previous run built): bench/bureau.py's banks, guarantors and `--enterprises` enterprises, and
`--history` requests lived through the state machine (their offers and declines are what the
institutions' records aggregate); then `--open` requests waiting in the lead states (verified,
routed, declined by a first institution), each pledging 1-3 receivables (mostly confirmed by
their debtors), the enterprises graded A-D (a tenth never graded) and a quarter of them
consenting to the measured bank reading their bank statements. The measured bank (the first
one) publishes three more products beside bench/bureau.py's one: a Suzhou product for three
industries from grade B, a factoring product and an order loan.

Measured, median of `--runs` runs after one warm-up, each in a rolled-back transaction:
- before: the leads function as it was at BASELINE_COMMIT (read from git), and the page's work
  then: that plus one audit event per lead found;
- after: marketplace.supermarket.pushes.leads_page (page 1) plus the audit events of the page's
  leads (audit.record_credit_reads), and the whole page through the test client.
The statements each sends are counted (a before_cursor_execute listener).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import types
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import cpu_model, create_database, memory_gb  # noqa: E402

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = "bench_leads"
SEED = 20261215
BASELINE_COMMIT = "781d0a7"  # the leads as they were before this benchmark's fixes
LEAD_STATES = ("verified", "routed_to_bank", "routed_to_guarantor", "guarantor_declined", "bank_declined")
LEAD_STATE_WEIGHTS = (10, 40, 25, 10, 15)
GRADE_WEIGHTS = {"A": 25, "B": 40, "C": 20, "D": 5, None: 10}
GRADE_COLOURS = {"A": "green", "B": "yellow", "C": "red", "D": "black"}
CONSENT_SHARE = 0.25


# ---- the data ----------------------------------------------------------------------------------

def seed(app, enterprises: int, history: int, open_requests: int, now: datetime) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from bench.bureau import generate, seed_parties
    from marketplace.extensions import db
    from marketplace.supermarket import decision_records

    rng = random.Random(SEED)
    with app.app_context():
        upgrade()
        parties = seed_parties(app, rng, enterprises)
        db.session.commit()
        bank = parties.banks[0]
        add_products(app, bank)
        db.session.commit()
        states = generate(app, parties, history, now, rng)
        decision_records.rebuild()  # the matcher's institution records (offers and declines came by COPY)
        db.session.commit()
        connection = db.session.connection().connection.driver_connection
        copy_open_requests(connection, rng, parties.applicants, open_requests, now)
        copy_grades_and_consents(connection, rng, parties.applicants, bank.id, now)
        for table in ("financing_requests", "request_targets", "offers", "receivables", "request_pledges",
                      "credit_grades", "consents"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        db.engine.dispose()
    return {"history states": dict(states.most_common())}


def add_products(app, bank) -> None:
    from marketplace.accounts.models import Organisation, User
    from marketplace.extensions import db
    from marketplace.supermarket import services as products

    institution = db.session.get(Organisation, bank.id)
    officer = db.session.get(User, bank.officers[0])
    common = {"description": "", "amount_min": Decimal("100000"), "amount_max": Decimal("10000000"),
              "term_min_days": 30, "term_max_days": 360}
    with app.test_request_context():
        for terms in (
            products.Terms(name="苏州科技贷", product_type="receivable_pledge", rate_min=Decimal("3.10"),
                           rate_max=Decimal("5.00"), regions=["3205"], industries=["34", "38", "39"], min_grade="B",
                           accepts_ungraded=False, **common),
            products.Terms(name="保理通", product_type="factoring", rate_min=Decimal("3.60"), rate_max=Decimal("6.00"),
                           **common),
            products.Terms(name="订单融资", product_type="order_loan", rate_min=Decimal("4.10"), rate_max=Decimal("6.50"),
                           **common),
        ):
            product = products.create_product(institution, officer, terms)
            products.publish_product(product, officer)


def copy_open_requests(connection, rng: random.Random, applicants, count: int, now: datetime) -> None:
    """`count` requests in the lead states, each pledging 1-3 receivables, by COPY."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM financing_requests")
        request0 = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM receivables")
        receivable0 = cursor.fetchone()[0]
        requests, receivables, pledges = [], [], []
        receivable_id = receivable0
        for n in range(1, count + 1):
            applicant = applicants[rng.randrange(len(applicants))]
            submitted = now - timedelta(days=rng.uniform(0.5, 40))
            amount = Decimal(round(10 ** rng.uniform(5, 7.3), -4))
            state = rng.choices(LEAD_STATES, LEAD_STATE_WEIGHTS)[0]
            requests.append((request0 + n, applicant.enterprise_id, amount, rng.choice((90, 180, 180, 270, 360, 540)),
                             "采购原材料及支付货款", state, None, False, "excellent" if "bank" in state else "mixed",
                             applicant.user_id, submitted - timedelta(hours=5), submitted,
                             submitted + timedelta(hours=rng.uniform(1, 72)), 1))
            for _ in range(rng.choice((1, 1, 2, 2, 3))):
                receivable_id += 1
                confirmed = rng.random() < 0.85
                issued = (submitted - timedelta(days=rng.randint(10, 120))).date()
                receivables.append((receivable_id, applicant.enterprise_id, f"债务人{receivable_id % 600:03d}集团有限公司",
                                    _debtor_code(receivable_id % 600), f"INV{receivable_id:09d}",
                                    f"HT{receivable_id:09d}" if rng.random() < 0.9 else None,
                                    (amount * Decimal("1.25")).quantize(Decimal("0.01")), issued,
                                    issued + timedelta(days=90), "confirmed" if confirmed else "pending",
                                    "link" if confirmed else None, submitted if confirmed else None, None,
                                    submitted, submitted))
                pledges.append((request0 + n, receivable_id, True, submitted, None))
        _copy(cursor, "financing_requests", ("id", "enterprise_id", "amount", "term_days", "purpose", "state",
                                             "sla_due_at", "stuck", "classification", "created_by_id", "created_at",
                                             "submitted_at", "state_changed_at", "version"), requests)
        _copy(cursor, "receivables", ("id", "enterprise_id", "debtor_name", "debtor_uscc", "invoice_no", "contract_no",
                                      "face_amount", "issue_date", "due_date", "confirmation", "confirmed_via",
                                      "confirmed_at", "dispute_reason", "created_at", "updated_at"), receivables)
        _copy(cursor, "request_pledges", ("request_id", "receivable_id", "active", "created_at", "released_at"), pledges)
    connection.commit()


def _debtor_code(n: int) -> str:
    from workflows.identifiers import uscc_check_char

    body = f"91320505{500_000_000 + n:09d}"
    return body + uscc_check_char(body)


def copy_grades_and_consents(connection, rng: random.Random, applicants, bank_id: int, now: datetime) -> None:
    import json

    today = (now + timedelta(hours=8)).date()
    grades, consents = [], []
    for applicant in applicants:
        letter = rng.choices(list(GRADE_WEIGHTS), list(GRADE_WEIGHTS.values()))[0]
        if letter is not None:
            grades.append((applicant.enterprise_id, 60, letter, GRADE_COLOURS[letter], "[]", "bench", today, "0" * 64,
                           now, "bench"))
        if rng.random() < CONSENT_SHARE:
            consents.append((applicant.enterprise_id, bank_id, json.dumps(["bank_statements"]), "融资申请审查",
                             json.dumps(["financing_review", "post_loan"]), today - timedelta(days=30),
                             today + timedelta(days=335), applicant.user_id, now))
    with connection.cursor() as cursor:
        _copy(cursor, "credit_grades", ("enterprise_id", "score", "grade", "colour", "reasons", "model_version",
                                        "evaluated_on", "inputs_digest", "computed_at", "trigger"), grades)
        _copy(cursor, "consents", ("enterprise_id", "grantee_org_id", "scopes", "purpose", "purposes", "valid_from",
                                   "valid_to", "granted_by_id", "granted_at"), consents)
    connection.commit()


def _copy(cursor, table: str, columns: tuple[str, ...], rows) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# ---- measuring ---------------------------------------------------------------------------------

def baseline_pushes() -> types.ModuleType:
    """marketplace/supermarket/pushes.py as it was at BASELINE_COMMIT, as a module of its own."""
    source = subprocess.check_output(["git", "show", f"{BASELINE_COMMIT}:marketplace/supermarket/pushes.py"], cwd=ROOT)
    module = sys.modules["baseline_pushes"] = types.ModuleType("baseline_pushes")  # dataclasses look it up
    exec(compile(source, f"{BASELINE_COMMIT}:pushes.py", "exec"), module.__dict__)  # noqa: S102  (our own code)
    return module


def measure(app, action, runs: int) -> dict:
    """Median ms of `action` over `runs` runs after one warm-up, each in a transaction rolled back
    (the audit events it writes go), and the statements of the last run."""
    from sqlalchemy import event

    from marketplace.extensions import db

    times, statements = [], []
    with app.app_context():
        engine = db.engine

        def count(*_args):
            statements.append(1)

        for n in range(runs + 1):
            statements.clear()
            event.listen(engine, "before_cursor_execute", count)
            started = time.perf_counter()
            with app.test_request_context():
                result = action()
            elapsed = time.perf_counter() - started
            event.remove(engine, "before_cursor_execute", count)
            db.session.rollback()
            db.session.expunge_all()
            if n:
                times.append(elapsed * 1000)
    return {"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times),
            "statements": len(statements), "result": result}


def run(app, runs: int, before: bool = True) -> list[tuple[str, dict]]:
    from flask_login import login_user
    from sqlalchemy import select

    from marketplace import audit
    from marketplace.accounts.models import User
    from marketplace.extensions import db
    from marketplace.supermarket import pushes

    old = baseline_pushes()
    with app.app_context():
        officer = db.session.scalar(select(User).where(User.role == "bank:officer").order_by(User.id).limit(1))
        officer_id, bank_id = officer.id, officer.organisation_id

    def as_officer():
        login_user(db.session.get(User, officer_id))

    def old_function():
        return len(old.leads_for(bank_id))

    def old_page():
        as_officer()
        leads = old.leads_for(bank_id)
        for lead in leads:
            audit.record_credit_read(lead.request.enterprise_id, "financing_lead", purpose="lead review",
                                     request_id=lead.request.id)
        return len(leads)

    def new_function():
        return pushes.leads_page(bank_id, 1, app.config["PAGE_SIZE"]).total

    def new_page():
        as_officer()
        page = pushes.leads_page(bank_id, 1, app.config["PAGE_SIZE"])
        pushes.product_names(page.items)
        audit.record_credit_reads("financing_lead", "lead review",
                                  [(lead.request.enterprise_id, {"request_id": lead.request.id}) for lead in page.items])
        return page.total

    results = []
    measures = [("before: leads_for (every open request ranked)", old_function),
                ("before: the page's work (leads_for + one audit event per lead)", old_page)] if before else []
    measures += [("after: leads_page (candidates from the database)", new_function),
                 ("after: the page's work (leads_page + the page's reads in one INSERT)", new_page)]
    for name, action in measures:
        result = measure(app, action, runs)
        results.append((name, result))
        print(f"{name}: median {result['median_ms']:,.0f} ms (min {result['min_ms']:,.0f}, max "
              f"{result['max_ms']:,.0f}), {result['statements']:,} statements, {result['result']:,} leads; "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)
    results.append(("after: GET /institution/leads/ (test client)", page_through_client(app, officer_id, runs)))
    name, result = results[-1]
    print(f"{name}: median {result['median_ms']:,.0f} ms (min {result['min_ms']:,.0f}, max {result['max_ms']:,.0f}); "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    return results


def page_through_client(app, officer_id: int, runs: int) -> dict:
    """The whole page, signed in by the session as bench/desks.py signs in (its audit events are
    committed, as in production)."""
    from marketplace.accounts.models import User
    from marketplace.extensions import db

    with app.app_context():
        user = db.session.get(User, officer_id)
        user_key = f"{user.id}.{user.auth_generation}"
    client = app.test_client()
    with client.session_transaction() as session:
        session.update({"_user_id": user_key, "_fresh": True})
    times = []
    for n in range(runs + 1):
        started = time.perf_counter()
        response = client.get("/institution/leads/")
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"GET /institution/leads/ answered {response.status_code}: the bench's sign-in failed")
        if n:
            times.append(elapsed * 1000)
    return {"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--history", type=int, default=20_000, help="requests lived through the state machine")
    parser.add_argument("--open", type=int, default=20_000, help="requests waiting in the lead states")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help=f"keep the {DATABASE} database a previous run built")
    parser.add_argument("--after-only", action="store_true",
                        help="skip the former leads (about 2 minutes a run with 20,000 open requests)")
    args = parser.parse_args()

    from bench.bureau import build_app

    instance = tempfile.mkdtemp(prefix="bench-leads-")
    now = datetime.now(UTC)
    url = f"{PG_SERVER}/{DATABASE}"
    if not args.reuse:
        url = create_database(PG_SERVER, DATABASE)
        started = time.perf_counter()
        print(f"seeding {args.enterprises:,} enterprises, {args.history:,} requests' histories and {args.open:,} "
              f"open requests into {DATABASE} ...", flush=True)
        summary = seed(build_app(url, instance), args.enterprises, args.history, args.open, now)
        print(f"seeded in {time.perf_counter() - started:.1f} s; {summary}", flush=True)
    app = build_app(url, instance)
    print(f"machine: {platform.platform()}; {cpu_model()}; {os.cpu_count()} cores; {memory_gb():.0f} GB; "
          f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f}", flush=True)
    run(app, args.runs, before=not args.after_only)


if __name__ == "__main__":
    main()
