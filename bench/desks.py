"""Benchmark of the desks' queue (issue 5): the queue page and the queue API under gunicorn, beside
a trivial endpoint on the same server in the same run, and beside the floor under every signed-in
page: a route added for the bench (`/bench/signed-in`) that checks the officer's session like any
page and then answers "ok".

Run from the project root:  .venv/bin/python bench/desks.py [--rows 100000] [--duration 15]

It builds a PostgreSQL database of its own (bench_desks, dropped first) holding `--rows`
financing requests routed to one bank (about three quarters claimed, spread over states, amounts,
industries, regions and classes), starts gunicorn on it with the production settings
(`-c deploy/gunicorn.conf.py`: the app preloaded in the master, WeasyPrint warmed and gc.freeze()
in each worker; sync workers, 2 per core by default: threads only add GIL contention to a
CPU-bound app, measured 2026-12-02; access lines formatted and written to /dev/null; workers
never recycled during a run), and drives each
endpoint with wrk at 8 connections: requests per second and p95 latency. The queue is read as
a bank officer would: the page with the session cookie a browser holds once signed in (as
login_user() writes it, then as the app last set it: a cookie the app would re-sign on every
answer measures the benchmark's cookie, not the page), the API with a bearer token, both the
first page of the default order. Needs `wrk` (apt-get install wrk).

Each endpoint's CPU time per request is printed too (gunicorn's workers + the database's
PostgreSQL backends + wrk, from /proc): on a shared machine throughput follows the load of the
other users, the CPU a request costs much less. `--root` serves another checkout on the same
database (e.g. a `git worktree add /tmp/before <commit>`); `--against OTHER --rounds 5 --duration 6`
serves this checkout and OTHER at once and alternates short bursts between them, endpoint by
endpoint (the order swapped each round), then prints the medians: two versions side by side,
under the same load from whatever else runs on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import create_database, stop_server  # noqa: E402

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = "bench_desks"
SECRET_KEY = "bench-secret-key-not-secret"
AUDIT_KEY = "bench-audit-key-not-secret"
ENCRYPTION_KEY = "bench-encryption-key-not-secret"
USER_AGENT = "bench-desks"  # sent by wrk and by the set-up requests alike (Flask-Login's session id hashes it)
WRK_P95 = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.3f %.3f\\n", summary.requests, summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout, latency:percentile(95) / 1000,
    latency:percentile(50) / 1000))
end
"""


def build_app(url: str, instance: str):
    from marketplace import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "AUDIT_KEY": AUDIT_KEY,
                       "ENCRYPTION_KEY": ENCRYPTION_KEY},
                      instance_path=instance)


def seed(app, rows: int) -> tuple[str, str]:
    """The bank, its officer, enterprises and `rows` routed requests; returns (cookie, token)."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from marketplace.accounts import security
    from marketplace.accounts.models import Organisation, User
    from marketplace.accounts.roles import Role
    from marketplace.accounts.tokens import create_token
    from marketplace.enterprises.models import Enterprise
    from marketplace.extensions import db
    from marketplace.supermarket import services as products
    from workflows.identifiers import uscc_check_char

    with app.app_context():
        upgrade()
        bank = Organisation(kind="bank", name="基准测试银行苏州分行", region_code="320500")
        db.session.add(bank)
        db.session.flush()
        officer = User(organisation_id=bank.id, email="officer@bench.local", name="王经理", role=Role.BANK_OFFICER,
                       password_hash=security.hash_password("Bench-2026!"))
        colleague = User(organisation_id=bank.id, email="colleague@bench.local", name="李经理",
                         role=Role.BANK_OFFICER, password_hash=officer.password_hash)
        db.session.add_all([officer, colleague])
        enterprises = []
        industries, regions = ("13", "17", "26", "34", "35", "38", "39", "51"), ("320505", "320506", "320585", "320582")
        for n in range(200):
            org = Organisation(kind="enterprise", name=f"苏州基准{n:03d}制造有限公司")
            db.session.add(org)
            db.session.flush()
            body = f"91320505{n:09d}"
            enterprises.append(Enterprise(
                organisation_id=org.id, uscc=body + uscc_check_char(body), name=org.name, legal_rep_name="张三",
                legal_rep_id_number="320505198001010011", industry_code=industries[n % 8], region_code=regions[n % 4],
                contact_name="张三", contact_phone="13800000000"))
        db.session.add_all(enterprises)
        db.session.flush()
        owner = User(organisation_id=enterprises[0].organisation_id, email="owner@bench.local", name="赵会计",
                     role=Role.ENTERPRISE_ADMIN, password_hash=officer.password_hash)
        db.session.add(owner)
        with app.test_request_context():
            product = products.create_product(bank, officer, products.Terms(
                name="基准应收账款质押贷", product_type="receivable_pledge", description="",
                amount_min=Decimal("100000"), amount_max=Decimal("9000000"),
                term_min_days=30, term_max_days=360, rate_min=Decimal("3.45"),
                rate_max=Decimal("5.20")))
            products.publish_product(product, officer)
        db.session.flush()
        first_enterprise, version = enterprises[0].id, product.current_version_id
        params = {"rows": rows, "first": first_enterprise, "owner": owner.id, "bank": bank.id, "version": version,
                  "officer": officer.id, "colleague": colleague.id}
        db.session.execute(text("""
            INSERT INTO financing_requests (enterprise_id, amount, term_days, purpose, state, stuck, created_by_id,
                created_at, submitted_at, state_changed_at, version, classification, sla_due_at)
            SELECT :first + (g % 200), 100000 + (g * 7919 % 8900) * 1000, 30 + g % 330, '采购原材料',
                (ARRAY['routed_to_bank','bank_review','info_requested','offer_made'])[1 + g % 4], g % 17 = 0, :owner,
                now() - make_interval(mins => g), now() - make_interval(mins => g), now() - make_interval(mins => g),
                1, (ARRAY['excellent','excellent','mixed'])[1 + g % 3], now() + make_interval(hours => (g % 200) - 50)
            FROM generate_series(1, :rows) AS g"""), params)
        db.session.execute(text("""
            INSERT INTO request_targets (request_id, product_version_id, institution_id, rank, chosen_by, status,
                routed_at, created_at)
            SELECT id, :version, :bank, 1, 'match',
                CASE state WHEN 'routed_to_bank' THEN 'routed' WHEN 'info_requested' THEN 'info_requested'
                           WHEN 'offer_made' THEN 'offered' ELSE 'reviewing' END,
                submitted_at, submitted_at
            FROM financing_requests"""), params)
        db.session.execute(text("""
            INSERT INTO consents (enterprise_id, grantee_org_id, scopes, purpose, purposes, valid_from, valid_to,
                granted_by_id, granted_at)
            SELECT id, :bank, '["bank_statements"]', '融资审查', '["financing_review", "post_loan"]',
                current_date - 1, current_date + 365, :owner, now()
            FROM enterprises"""), params)  # a bank sees only the requests of enterprises that consented
        db.session.execute(text("""
            INSERT INTO assignments (target_id, request_id, institution_id, user_id, claimed_at, touched_at,
                expires_at)
            SELECT id, request_id, institution_id, CASE WHEN id % 2 = 0 THEN :officer ELSE :colleague END,
                now(), now(), now() + interval '2 days'
            FROM request_targets WHERE status <> 'routed'"""), params)
        db.session.execute(text("ANALYZE"))
        with app.test_request_context():
            _row, token = create_token(officer, "bench")
        db.session.commit()
        cookie = session_cookie(app, f"{officer.id}.{officer.auth_generation}")
        return cookie, token


def session_cookie(app, user_key: str) -> str:
    """The signed session cookie a logged-in officer (second factor passed) carries: the user and
    Flask-Login's session id for this client (its address and User-Agent), as login_user() sets them."""
    from flask_login.utils import _create_identifier

    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}):
        identifier = _create_identifier()
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": user_key, "_fresh": True, "_id": identifier})


def settled_cookie(base: str, path: str, cookie: str) -> str:
    """The cookie a browser holds after a few pages: it keeps what the app sets (the CSRF token's
    secret on the first page with a form) until the app sets nothing more."""
    for _ in range(5):
        request = urllib.request.Request(base + path, headers={"Cookie": f"session={cookie}", "User-Agent": USER_AGENT})
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            fresh = [value for value in response.headers.get_all("Set-Cookie") or [] if value.startswith("session=")]
        if not fresh:
            return cookie
        cookie = fresh[0].split(";", 1)[0].removeprefix("session=")
    raise SystemExit(f"{path}: the app sets a new session cookie on every answer")


def reused_credentials(app) -> tuple[str, str]:
    """The officer's cookie and a new token, on a database an earlier run seeded."""
    from sqlalchemy import select

    from marketplace.accounts.models import User
    from marketplace.accounts.tokens import create_token
    from marketplace.extensions import db

    with app.app_context():
        officer = db.session.scalar(select(User).where(User.email == "officer@bench.local"))
        with app.test_request_context():
            _row, token = create_token(officer, "bench")
        db.session.commit()
        return session_cookie(app, f"{officer.id}.{officer.auth_generation}"), token


def wait_until_up(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not come up")


def check(base: str, path: str, headers: dict) -> int:
    request = urllib.request.Request(base + path, headers={"User-Agent": USER_AGENT} | headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
        return response.status if response.status != 200 else len(body)


def _cpu_ticks(pid: int) -> int:
    """User + system CPU of process `pid` in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def server_processes(server_pid: int, app, application_name: str) -> tuple[list[int], list[int]]:
    """(gunicorn's workers, the PostgreSQL backends they connected to the bench database)."""
    from sqlalchemy import text

    from marketplace.extensions import db

    try:
        workers = [int(pid) for pid in Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()]
    except OSError:
        workers = []
    with app.app_context():
        backends = list(db.session.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = :name "
                                                "AND application_name = :app AND pid <> pg_backend_pid()"),
                                           {"name": DATABASE, "app": application_name}))
        db.session.rollback()
    return workers, backends


def cpu_per_request(run, workers: list[int], backends: list[int]) -> dict:
    """`run()` (a wrk run) with the CPU milliseconds per request it cost the app, PostgreSQL and wrk."""
    tick = os.sysconf("SC_CLK_TCK")
    app_before, pg_before = sum(map(_cpu_ticks, workers)), sum(map(_cpu_ticks, backends))
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run()
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    count = max(result["requests"], 1)
    result["cpu_app_ms"] = (sum(map(_cpu_ticks, workers)) - app_before) / tick / count * 1000
    result["cpu_pg_ms"] = (sum(map(_cpu_ticks, backends)) - pg_before) / tick / count * 1000
    result["cpu_wrk_ms"] = (wrk_after.ru_utime + wrk_after.ru_stime - wrk_before.ru_utime
                            - wrk_before.ru_stime) / count * 1000
    result["cpu_ms"] = result["cpu_app_ms"] + result["cpu_pg_ms"] + result["cpu_wrk_ms"]
    return result


def run_wrk(base: str, path: str, headers: dict, duration: int, connections: int, script: str) -> dict:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "-s", script, "--timeout", "10s"]
    for name, value in ({"User-Agent": USER_AGENT} | headers).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command + [base + path], capture_output=True, text=True, check=True).stdout
    requests_, errors, p95, p50 = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+)", output).groups()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return {"path": path, "rps": rps, "p95_ms": float(p95), "p50_ms": float(p50), "requests": int(requests_),
            "errors": int(errors)}


SIGNED_IN_FLOOR = "/bench/signed-in"
FLOOR_WSGI = f'''"""bench/desks.py serves the app wsgi.py builds with one more route, a signed-in page that
does nothing: the floor under every signed-in page (session cookie, Flask-Login's check of the user
against the database, the route's access rule, the read-only transaction, the security headers)."""
from marketplace.permissions import LENDER_STAFF, ROUTE_ACCESS
from wsgi import app


@app.get("{SIGNED_IN_FLOOR}")
def bench_signed_in():
    return "ok"


ROUTE_ACCESS["bench_signed_in"] = LENDER_STAFF
'''


def start_server(root: Path, port: int, env: dict, instance: str, name: str):
    """gunicorn serving checkout `root` on `port` with the production settings (and the signed-in
    floor's route); its database connections carry application_name `name` (their PostgreSQL
    backends are told apart by it)."""
    (Path(instance) / "bench_desks_wsgi.py").write_text(FLOOR_WSGI)
    env = env | {"FLASK_SQLALCHEMY_DATABASE_URI": f"{env['FLASK_SQLALCHEMY_DATABASE_URI']}?application_name={name}",
                 # deploy/gunicorn.conf.py, as production runs it (preload, WeasyPrint warmed,
                 # gc.freeze() after the fork), with the bench's address and worker count
                 "GUNICORN_BIND": f"127.0.0.1:{port}", "PYTHONPATH": instance}
    server_log = Path(instance) / f"gunicorn-{name}.log"
    with server_log.open("wb") as log:  # a file, not a pipe nobody reads (a full pipe would stall the server)
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "-c", "deploy/gunicorn.conf.py", "bench_desks_wsgi:app"],
            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
    except SystemExit:
        print(server_log.read_text(errors="replace")[-3000:], file=sys.stderr)
        stop_server(server)
        raise
    return server, base


def endpoints_of(base: str, cookie: str, token: str) -> list[tuple[str, str, dict]]:
    cookie = settled_cookie(base, "/institution/requests/", cookie)
    return [
        ("trivial", "/healthz", {}),
        ("signed in", SIGNED_IN_FLOOR, {"Cookie": f"session={cookie}"}),
        ("queue page", "/institution/requests/", {"Cookie": f"session={cookie}"}),
        ("page, gzip", "/institution/requests/", {"Cookie": f"session={cookie}", "Accept-Encoding": "gzip"}),
        ("queue API", "/api/v1/desk/requests", {"Authorization": f"Bearer {token}"}),
    ]


def measure(app, server, name: str, base: str, endpoint: tuple, duration: int, connections: int, script: str,
            warm: int = 3) -> dict | None:
    label, path, headers = endpoint
    try:
        size = check(base, path, headers)
    except urllib.error.HTTPError as error:
        print(f"{label}: {path} answered {error.code}; skipped")
        return None
    if warm:
        run_wrk(base, path, headers, warm, connections, script)  # warm the workers
    workers, backends = server_processes(server.pid, app, name)
    result = cpu_per_request(partial(run_wrk, base, path, headers, duration, connections, script), workers, backends)
    result.update(label=label, bytes=size)
    return result


def line(result: dict) -> str:
    return (f"{result['label']:<11} {result['path']:<28} {result['rps']:8.1f} req/s   p50 {result['p50_ms']:6.1f} ms   "
            f"p95 {result['p95_ms']:6.1f} ms   errors {result['errors']}   ({result['bytes']:,} bytes)   "
            f"CPU {result['cpu_ms']:.2f} ms a request (app {result['cpu_app_ms']:.2f}, "
            f"PostgreSQL {result['cpu_pg_ms']:.2f}, wrk {result['cpu_wrk_ms']:.2f})")


def compare(app, args, env: dict, instance: str, cookie: str, token: str, script: str) -> None:
    """Both checkouts served at once, each endpoint driven on one then the other in short bursts,
    the order swapped every round: what else runs on the machine weighs on both alike."""
    servers = {}
    try:
        for number, (name, root) in enumerate((("this", args.root), ("against", args.against))):
            servers[name] = start_server(root, args.port + number, env, instance, f"bench-{name}")
        print(f"this: {args.root}   against: {args.against}   {args.rounds} rounds of {args.duration} s a burst")
        endpoints = {name: endpoints_of(base, cookie, token) for name, (_server, base) in servers.items()}
        results: dict[tuple[str, str], list[dict]] = {}
        for round_ in range(args.rounds):
            load = os.getloadavg()[0]
            for index in range(len(endpoints["this"])):
                order = ("this", "against") if round_ % 2 == 0 else ("against", "this")
                for name in order:
                    server, base = servers[name]
                    result = measure(app, server, f"bench-{name}", base, endpoints[name][index], args.duration,
                                     args.connections, script, warm=1 if round_ == 0 else 0)
                    if result is not None:
                        results.setdefault((name, result["label"]), []).append(result)
                        print(f"round {round_ + 1} (load {load:.1f}) {name:<8}{line(result)}")
    finally:
        for server, _base in servers.values():
            stop_server(server)
    print(f"medians of {args.rounds} rounds (load average now {os.getloadavg()[0]:.1f}):")
    for name in ("this", "against"):
        trivial = results.get((name, "trivial"))
        for (who, label), runs in results.items():
            if who != name:
                continue
            median = {key: statistics.median(r[key] for r in runs)
                      for key in ("rps", "p50_ms", "p95_ms", "cpu_ms", "cpu_app_ms", "cpu_pg_ms")}
            share = "" if label == "trivial" or not trivial else \
                f"   {statistics.median(r['rps'] / t['rps'] for r, t in zip(runs, trivial, strict=False)):.0%} of trivial"
            print(f"{name:<8} {label:<11} {median['rps']:8.1f} req/s   p50 {median['p50_ms']:6.1f} ms   "
                  f"p95 {median['p95_ms']:6.1f} ms   CPU {median['cpu_ms']:.2f} ms (app {median['cpu_app_ms']:.2f}, "
                  f"PostgreSQL {median['cpu_pg_ms']:.2f}){share}")
    print("this against the other, round by round (median of the rounds' ratios):")
    for label in dict.fromkeys(label for _name, label in results):
        pairs = list(zip(results.get(("this", label), []), results.get(("against", label), []), strict=False))
        if pairs:
            cpu = statistics.median(this["cpu_ms"] / other["cpu_ms"] for this, other in pairs)
            rps = statistics.median(this["rps"] / other["rps"] for this, other in pairs)
            print(f"{label:<11} CPU a request x{cpu:.2f}   requests a second x{rps:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=15, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--reuse", action="store_true", help="keep the bench_desks database a run seeded")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the checkout gunicorn serves (default: this one), e.g. a worktree of an older commit")
    parser.add_argument("--against", type=Path,
                        help="also serve this checkout (on --port + 1) and alternate bursts between the two")
    parser.add_argument("--rounds", type=int, default=5, help="with --against: bursts per endpoint and checkout")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")

    url = f"{PG_SERVER}/{DATABASE}" if args.reuse else create_database(PG_SERVER, DATABASE)
    instance = tempfile.mkdtemp(prefix="bench-desks-")
    started = time.perf_counter()
    app = build_app(url, instance)
    if args.reuse:
        cookie, token = reused_credentials(app)
    else:
        cookie, token = seed(app, args.rows)
        print(f"seeded {args.rows:,} routed requests in {time.perf_counter() - started:.1f} s")

    env = os.environ | {"FLASK_SQLALCHEMY_DATABASE_URI": url, "FLASK_SECRET_KEY": SECRET_KEY,
                        "FLASK_AUDIT_KEY": AUDIT_KEY, "FLASK_ENCRYPTION_KEY": ENCRYPTION_KEY,
                        "FLASK_DEPLOYMENT": "production", "FLASK_PUBLIC_BASE_URL": "https://bench.invalid",
                        "FLASK_UPLOAD_FOLDER": str(Path(instance) / "uploads"), "FLASK_MAIL_SERVER": "127.0.0.1",
                        "FLASK_RATELIMIT_STORAGE_URI": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
                        "MARKETPLACE_INSTANCE_PATH": instance,
                        "GUNICORN_WORKERS": str(args.workers), "GUNICORN_THREADS": str(args.threads),
                        "GUNICORN_ACCESSLOG": "/dev/null", "GUNICORN_MAX_REQUESTS": "0"}
    script = Path(instance) / "p95.lua"
    script.write_text(WRK_P95)
    if args.against is not None:
        compare(app, args, env, instance, cookie, token, str(script))
        with app.app_context():
            from marketplace.extensions import db

            db.engine.dispose()
        return
    results = []
    server, base = start_server(args.root, args.port, env, instance, "bench-this")
    try:
        for endpoint in endpoints_of(base, cookie, token):
            result = measure(app, server, "bench-this", base, endpoint, args.duration, args.connections, str(script))
            if result is not None:
                results.append(result)
                print(line(result))
    finally:
        stop_server(server)
    trivial = next((r for r in results if r["label"] == "trivial"), None)
    if trivial:
        for result in results[1:]:
            share = result["rps"] / trivial["rps"]
            target = ("the floor: no signed-in page can do better" if result["path"] == SIGNED_IN_FLOOR
                      else f"target >= 40%), p95 {result['p95_ms']:.1f} ms (target < 30 ms")
            print(f"{result['label']}: {share:.0%} of the trivial endpoint's throughput ({target}); "
                  f"CPU a request {trivial['cpu_ms'] / result['cpu_ms']:.0%} of the trivial endpoint's")
    print(json.dumps({"rows": args.rows, "connections": args.connections, "workers": args.workers, "root": str(args.root),
                      "threads": args.threads, "machine": platform.platform(),
                      "cpus": os.cpu_count(), "results": results}, ensure_ascii=False))
    with app.app_context():
        from marketplace.extensions import db

        db.engine.dispose()


if __name__ == "__main__":
    main()
