"""Load test (issue 15, item 5): a mix of enterprise, officer and coordinator pages under gunicorn,
driven by locust, and Celery verifications per minute with 1 and 2 worker processes.

Run from the project root, after `make bench` (installs locust) and a scale data set:

    .venv/bin/python bench/seed_scale.py                  # the scale data (database bench_scale)
    .venv/bin/python bench/load.py [--database bench_scale] [--users 16] [--duration 60]
                                   [--verifications 40] [--skip-http] [--skip-celery]

HTTP: signs in up to 20 users of each kind found in the database (enterprise admins with their
requests, bank officers with the requests routed to their bank, bureau coordinators; one of each is
made when the data set has none) by their session cookies (second factor passed, as bench/desks.py
does), starts gunicorn on the database with deploy/gunicorn.conf.py (production settings, sync workers,
2 per core), warms it,
then runs locust headless (bench/locustfile.py) for --duration seconds with --users concurrent
users: requests per second, p50, p95 and p99 per endpoint and the errors (zero expected).

Celery: builds --verifications draft requests in a database of their own (bench_load_verify; the
test suite's case builder: 12 months of statements, two receivables), starts one worker with
concurrency 1 on Redis (db 13, emptied first) listening to an idle queue, submits them all (their
verifications queue up), then points the worker at the queue and times until every verification
has finished; again with 2.
Verifications per minute for each.

Figures go to docs/performance.md ("Load test (issue 15)") with the machine and its load.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import cpu_model, create_database, memory_gb, stop_server  # noqa: E402
from bench.desks import (  # noqa: E402
    AUDIT_KEY,
    ENCRYPTION_KEY,
    PG_SERVER,
    SECRET_KEY,
    build_app,
    session_cookie,
    wait_until_up,
)

BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/13")
PER_ROLE = 20


# ---- who signs in ---------------------------------------------------------------------------

def load_users(app) -> dict:
    """Session cookies and the ids each user's pages open, per role (made when missing)."""
    from sqlalchemy import select

    from marketplace.accounts.models import Organisation, User
    from marketplace.accounts.roles import OrgKind, Role
    from marketplace.enterprises.models import Enterprise
    from marketplace.extensions import db
    from marketplace.financing.models import FinancingRequest
    from marketplace.formatting import today_shanghai
    from marketplace.sla.services import HOLDING_TARGET_STATUSES
    from marketplace.supermarket.models import RequestTarget
    from marketplace.verification.routed import visible_to_institution

    users: dict[str, list[dict]] = {"enterprise": [], "officer": [], "coordinator": []}
    with app.app_context():
        wanted = {"enterprise": Role.ENTERPRISE_ADMIN, "officer": Role.BANK_OFFICER,
                  "coordinator": Role.BUREAU_COORDINATOR}
        kinds = {"enterprise": OrgKind.ENTERPRISE, "officer": OrgKind.BANK, "coordinator": OrgKind.BUREAU}
        for key, role in wanted.items():
            found = list(db.session.scalars(select(User).where(User.role == role, User.active.is_(True))
                                            .order_by(User.id).limit(PER_ROLE)))
            if not found:
                org = db.session.scalar(select(Organisation).where(Organisation.kind == kinds[key])
                                        .order_by(Organisation.id).limit(1))
                if org is None:
                    print(f"the data set has no {kinds[key]} organisation: its pages are left out of the mix")
                    continue
                user = User(organisation=org, name=f"压测{key}", email=f"load-{key}@bench.invalid", role=role,
                            password_hash="!", totp_secret=None)
                db.session.add(user)
                db.session.flush()
                found = [user]
            for user in found:
                if key == "enterprise":
                    ids = db.session.scalars(select(FinancingRequest.id).join(Enterprise).where(
                        Enterprise.organisation_id == user.organisation_id).limit(20)).all()
                elif key == "officer":
                    ids = db.session.scalars(  # what its desk shows: routed to it and visible to it today
                        select(RequestTarget.request_id)
                        .join(FinancingRequest, FinancingRequest.id == RequestTarget.request_id)
                        .where(RequestTarget.institution_id == user.organisation_id,
                               RequestTarget.status.in_(HOLDING_TARGET_STATUSES),
                               visible_to_institution(user.organisation_id, today_shanghai())).limit(50)).all()
                else:
                    ids = []
                users[key].append({"cookie": session_cookie(app, f"{user.id}.{user.auth_generation}"),
                                   "requests": list(ids)})
        db.session.commit()
    return users


# ---- HTTP -----------------------------------------------------------------------------------

def run_http(url: str, args, instance: str) -> list[dict]:
    app = build_app(url, instance)
    users = load_users(app)
    users_file = Path(instance) / "users.json"
    users_file.write_text(json.dumps(users), encoding="utf-8")
    env = os.environ | {"FLASK_SQLALCHEMY_DATABASE_URI": url, "FLASK_SECRET_KEY": SECRET_KEY,
                        "FLASK_AUDIT_KEY": AUDIT_KEY, "FLASK_ENCRYPTION_KEY": ENCRYPTION_KEY,
                        "FLASK_DEPLOYMENT": "production", "FLASK_PUBLIC_BASE_URL": "http://127.0.0.1/",
                        "FLASK_UPLOAD_FOLDER": f"{instance}/uploads", "FLASK_RATELIMIT_ENABLED": "false",
                        "FLASK_CELERY__broker_url": BROKER, "FLASK_CELERY__task_always_eager": "false",
                        "MARKETPLACE_INSTANCE_PATH": instance, "LOAD_USERS": str(users_file)}
    # the production configuration (deploy/gunicorn.conf.py: preloaded app, warmed PDFs, gc.freeze)
    env |= {"GUNICORN_BIND": f"127.0.0.1:{args.port}", "GUNICORN_WORKERS": str(args.workers),
            "GUNICORN_ACCESSLOG": "/dev/null"}
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
         "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{args.port}"
    prefix = Path(instance) / "locust"
    try:
        wait_until_up(base, timeout=60)
        classes = [name for role, name in (("enterprise", "Enterprise"), ("officer", "Officer"),
                                           ("coordinator", "Coordinator"))
                   if users[role] and role in args.roles] + ["Yardstick"]
        locust = [str(Path(sys.executable).with_name("locust")), "-f", str(ROOT / "bench" / "locustfile.py"),
                  "--headless", "--host", base, "-u", str(args.users), "-r", str(args.users), "--only-summary",
                  "--exit-code-on-error", "0",
                  *classes]
        subprocess.run(locust + ["-t", "10s"], cwd=ROOT, env=env, check=True, capture_output=True)  # warm
        subprocess.run(locust + ["-t", f"{args.duration}s", "--csv", str(prefix)], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    finally:
        stop_server(server)
    with open(f"{prefix}_failures.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            print(f"failures: {row['Method']} {row['Name']}: {row['Error']} x{row['Occurrences']}")
    rows = []
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.append({"endpoint": row["Name"], "requests": int(row["Request Count"]),
                         "errors": int(row["Failure Count"]), "rps": float(row["Requests/s"]),
                         "p50_ms": float(row["50%"] or 0), "p95_ms": float(row["95%"] or 0),
                         "p99_ms": float(row["99%"] or 0)})
    return rows


# ---- Celery ---------------------------------------------------------------------------------

def build_requests(count: int, instance: str):
    """A database of `count` draft requests ready to submit (the broker emptied first); returns
    (url, app, cases)."""
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    url = create_database(PG_SERVER, "bench_load_verify")
    from marketplace import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "AUDIT_KEY": AUDIT_KEY,
                      "ENCRYPTION_KEY": ENCRYPTION_KEY, "PUBLIC_BASE_URL": "http://127.0.0.1/",
                      "CELERY": {"broker_url": BROKER, "task_always_eager": False,
                                 "result_backend": None, "task_ignore_result": True}},
                     instance_path=instance)
    from flask_migrate import upgrade

    from marketplace import crypto
    from marketplace.extensions import db

    crypto.use_key_outside_app_context(ENCRYPTION_KEY)
    app.extensions["celery"].set_default()
    with app.app_context():
        upgrade()
        from tests.verification.cases import build  # the suite's case builder (factory_boy)

        cases = []
        for _ in range(count):
            case = build(app, "excellent")
            cases.append((case.request.id, case.owner.id))
            db.session.commit()
        db.session.remove()
    return url, app, cases


def drain(url: str, app, cases, concurrency: int, instance: str) -> float:
    """Start a worker with `concurrency` processes listening to an empty queue and wait until it
    answers; submit every request (their verifications queue up), then point the worker at the
    queue and return the seconds until none is waiting for its verification."""
    from sqlalchemy import create_engine, text

    from marketplace.accounts.models import User
    from marketplace.extensions import db
    from marketplace.financing import services as financing
    from marketplace.financing.models import FinancingRequest

    env = os.environ | {"FLASK_SQLALCHEMY_DATABASE_URI": url, "FLASK_SECRET_KEY": SECRET_KEY,
                        "FLASK_AUDIT_KEY": AUDIT_KEY, "FLASK_ENCRYPTION_KEY": ENCRYPTION_KEY,
                        "FLASK_PUBLIC_BASE_URL": "http://127.0.0.1/", "FLASK_CELERY__broker_url": BROKER,
                        "FLASK_CELERY__task_always_eager": "false", "MARKETPLACE_INSTANCE_PATH": instance}
    engine = create_engine(url)
    worker = subprocess.Popen(
        [str(Path(sys.executable).with_name("celery")), "-A", "wsgi.celery", "worker", "--concurrency",
         str(concurrency), "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "-Q", "bench_idle"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    ids = [request_id for request_id, _owner in cases]
    try:
        celery = app.extensions["celery"]
        deadline = time.monotonic() + 120
        while not celery.control.ping(timeout=1.0):
            if time.monotonic() > deadline:
                raise SystemExit("the worker did not answer within 2 minutes")
        with app.test_request_context():  # queued while the worker listens elsewhere
            for request_id, owner_id in cases:
                financing.submit_request(db.session.get(FinancingRequest, request_id), db.session.get(User, owner_id),
                                         None)
                db.session.commit()
            db.session.remove()
        started = time.perf_counter()
        # limit=1: back as soon as the one worker answers (without it the call waits out its whole
        # timeout for more answers, which the figures before 2026-12-07 05:00 UTC measured)
        celery.control.add_consumer(celery.conf.task_default_queue or "celery", reply=True, timeout=10, limit=1)
        while True:
            with engine.connect() as conn:
                waiting = conn.execute(text("SELECT count(*) FROM financing_requests WHERE id = ANY(:ids) "
                                            "AND state IN ('draft', 'submitted', 'verifying')"), {"ids": ids}).scalar()
            if not waiting:
                return time.perf_counter() - started
            if time.perf_counter() - started > 1800:
                raise SystemExit(f"{waiting} verifications still waiting after 30 minutes")
            time.sleep(0.2)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        engine.dispose()


def run_celery(args, instance: str) -> list[dict]:
    results = []
    for concurrency in (1, 2):
        url, app, cases = build_requests(args.verifications, instance)
        seconds = drain(url, app, cases, concurrency, instance)
        count = len(cases)
        results.append({"worker_processes": concurrency, "verifications": count, "seconds": round(seconds, 1),
                        "per_minute": round(count / seconds * 60, 1)})
        print(f"celery: {count} verifications with {concurrency} worker process(es) in {seconds:.1f} s: "
              f"{count / seconds * 60:.1f} per minute (all queued first, the worker already up)")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="bench_scale", help="the data set (bench/seed_scale.py)")
    parser.add_argument("--users", type=int, default=16, help="concurrent locust users")
    parser.add_argument("--duration", type=int, default=60, help="seconds of measured load")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn workers")
    parser.add_argument("--verifications", type=int, default=40)
    parser.add_argument("--roles", nargs="+", default=["enterprise", "officer", "coordinator"],
                        choices=["enterprise", "officer", "coordinator"], help="whose pages the mix holds")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-celery", action="store_true")
    args = parser.parse_args()
    if not args.skip_http and not Path(sys.executable).with_name("locust").exists():
        raise SystemExit("locust is missing: pip install -e '.[bench]' (`make bench` installs it)")
    instance = tempfile.mkdtemp(prefix="bench-load-")
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, {memory_gb():.0f} GiB; load {os.getloadavg()}")
    report = {"machine": platform.platform(), "cpus": os.cpu_count(), "database": args.database}
    if not args.skip_http:
        rows = run_http(f"{PG_SERVER}/{args.database}", args, instance)
        print(f"{'endpoint':<34} {'req/s':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'errors':>7}")
        for row in rows:
            print(f"{row['endpoint']:<34} {row['rps']:8.1f} {row['p50_ms']:6.0f}ms {row['p95_ms']:6.0f}ms "
                  f"{row['p99_ms']:6.0f}ms {row['errors']:7d}")
        report["http"] = rows
    if not args.skip_celery:
        report["celery"] = run_celery(args, instance)
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
