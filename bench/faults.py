"""Load-and-fault test (issue 12, must-have 4), run by hand, not part of `make test`.

    .venv/bin/python bench/faults.py [--cases 40] [--keep]

On a fresh PostgreSQL database and Redis (127.0.0.1, as in pitfalls.md) it starts gunicorn (two
web workers) and two Celery worker processes, all reaching Redis through a small TCP proxy that
this script controls. It seeds enterprises with draft requests (the test suite's factories and
the app's services), banks and guarantors with staff (TOTP enrolled), then drives a few hundred
mixed actions over loopback with `requests`: enterprises log in, open and submit their requests
and look at them; bank officers log in with password and TOTP, open the queue, take the next
request and make an offer; enterprises accept it. Meanwhile:

  * one Celery worker is killed with SIGKILL and restarted (its unacked message stays in Redis
    for the 6-hour visibility timeout: the stalled-verification sweeper must recover it);
  * the broker is unreachable for 30 s (the proxy closes every connection and refuses new ones);
  * one database connection of the app is ended with pg_terminate_backend.

Then it acts as `celery beat` would (the outbox flush and the stalled-verification sweep; the
stall time is set to 1 minute here instead of 5) until nothing is waiting, and checks: every
submitted request verified exactly once (one report per submission), no duplicate report,
notification, accepted offer or payment, and every error a user saw was a page, not a 500.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
PG_SERVER = os.environ.get("FAULTS_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS = ("127.0.0.1", 6379)
PASSWORD = "Correct-horse-42"  # tests.factories.PASSWORD
BENCH_APP_NAME = "faults-bench"  # our own database connections: never the one we terminate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- a TCP proxy to Redis that can be cut --------------------------------------------------------

class Proxy:
    """Forwards 127.0.0.1:port to Redis; stop() closes every connection and refuses new ones."""

    def __init__(self, port: int, target=REDIS):
        self.port, self.target = port, target
        self.listener: socket.socket | None = None
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self.lock:
            for sock in list(self.sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self.lock:
                self.sockets.discard(source)
                self.sockets.discard(sink)


# ---- the system under test -----------------------------------------------------------------------

class System:
    def __init__(self, run_id: str, web_port: int, proxy_port: int, folder: Path):
        self.db_name = f"marketplace_faults_{run_id}"
        self.db_url = f"{PG_SERVER}/{self.db_name}"
        self.web = f"http://127.0.0.1:{web_port}"
        self.web_port = web_port
        prefix = f"faults-{run_id}:"
        self.prefix = prefix
        self.celery = {
            "broker_url": f"redis://127.0.0.1:{proxy_port}/0", "task_always_eager": False,
            "task_ignore_result": True, "task_default_queue": f"faults-{run_id}",
            "broker_transport_options": {"visibility_timeout": 6 * 3600, "global_keyprefix": prefix},
            "broker_connection_retry_on_startup": True, "worker_prefetch_multiplier": 1,
        }
        (folder / "uploads").mkdir()
        (folder / "instance").mkdir()
        self.env = os.environ | {
            "FLASK_SQLALCHEMY_DATABASE_URI": self.db_url, "FLASK_SECRET_KEY": "faults-secret-key",
            "FLASK_AUDIT_KEY": "faults-audit-key", "FLASK_ENCRYPTION_KEY": "faults-encryption-key",
            "FLASK_CELERY": json.dumps(self.celery), "FLASK_UPLOAD_FOLDER": str(folder / "uploads"),
            "MARKETPLACE_INSTANCE_PATH": str(folder / "instance"), "FLASK_RATELIMIT_ENABLED": "false",
            "FLASK_VERIFICATION_STALL_MINUTES": "1", "FLASK_PUBLIC_BASE_URL": self.web + "/",
        }
        self.folder = folder
        self.processes: dict[str, subprocess.Popen] = {}

    def config(self) -> dict:
        return {"SQLALCHEMY_DATABASE_URI": self.db_url, "SECRET_KEY": "faults-secret-key",
                "AUDIT_KEY": "faults-audit-key", "ENCRYPTION_KEY": "faults-encryption-key",
                "CELERY": self.celery, "UPLOAD_FOLDER": str(self.folder / "uploads"),
                "RATELIMIT_ENABLED": False, "VERIFICATION_STALL_MINUTES": 1,
                "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True,
                                              "connect_args": {"application_name": BENCH_APP_NAME}}}

    def start(self, name: str, args: list[str]) -> None:
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115  (kept open for the process)
        self.processes[name] = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)

    def start_web(self) -> None:
        self.start("web", [str(BIN / "gunicorn"), "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{self.web_port}",
                           "--timeout", "120", "wsgi:app"])

    def start_worker(self, name: str) -> None:
        self.start(name, [str(BIN / "celery"), "-A", "wsgi.celery", "worker", "--pool=solo",
                          "-Q", self.celery["task_default_queue"], "-n", f"{name}@%h", "--without-gossip",
                          "--without-mingle", "--without-heartbeat", "-l", "info"])

    def kill(self, name: str, sig=signal.SIGKILL) -> None:
        process = self.processes[name]
        if process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM)


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001,S110  (not up yet)
            pass
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}")


# ---- seeding ---------------------------------------------------------------------------------------

def seed(app, count: int) -> list[dict]:
    """`count` draft requests (mostly excellent, some mixed and poor), each with its enterprise's
    owner and its bank's officer (TOTP enrolled; the bench computes the codes)."""
    from marketplace.accounts import security
    from marketplace.db import utcnow
    from marketplace.extensions import db
    from tests.verification.cases import build

    rng = random.Random(12)
    cases = []
    with app.app_context():
        for index in range(count):
            kind = rng.choices(["excellent", "mixed", "poor"], weights=[7, 2, 1])[0]
            case = build(app, kind)
            for staff in (case.bank_staff, case.guarantor_staff):
                staff.totp_secret, staff.totp_enrolled_at = security.new_totp_secret(), utcnow()
            db.session.commit()
            cases.append({"index": index, "kind": kind, "request_id": case.request.id,
                          "owner": case.owner.email, "officer": case.bank_staff.email,
                          "officer_secret": case.bank_staff.totp_secret})
        db.session.remove()
    return cases


# ---- the users -------------------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
ACCEPT = re.compile(r'action="(/financing/\d+/offers/\d+/accept)"')


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.refusals: Counter = Counter()  # (action, status) of the 4xx answers
        self.actions: Counter = Counter()
        self.server_errors: list[str] = []
        self.no_answer: list[str] = []
        self.unclear: list[str] = []

    def add(self, action: str, response: requests.Response | None, error: Exception | None = None) -> None:
        with self.lock:
            self.actions[action] += 1
            if response is None:
                self.no_answer.append(f"{action}: {error!r}"[:200])
                self.statuses["no answer"] += 1
                return
            self.statuses[response.status_code] += 1
            if 400 <= response.status_code < 500:
                self.refusals[(action, response.status_code)] += 1
            if response.status_code >= 500 and response.status_code != 503:
                self.server_errors.append(f"{action}: {response.status_code} {response.url}")
            if response.status_code == 503 and "Retry-After" not in response.headers:
                self.server_errors.append(f"{action}: 503 without Retry-After {response.url}")
            if response.status_code >= 400 and "text/html" not in response.headers.get("Content-Type", ""):
                self.unclear.append(f"{action}: {response.status_code} {response.url}")


class User:
    def __init__(self, base: str, recorder: Recorder):
        self.base, self.recorder, self.http = base, recorder, requests.Session()

    def call(self, action: str, method: str, path: str, **kwargs) -> requests.Response | None:
        for attempt in range(3):  # a refused connection (web restarting a worker) is retried, as a browser user would
            try:
                response = self.http.request(method, self.base + path, timeout=60, **kwargs)
            except requests.RequestException as error:
                if attempt == 2:
                    self.recorder.add(action, None, error)
                    return None
                time.sleep(1)
                continue
            self.recorder.add(action, response)
            return response
        return None

    def token(self, page: requests.Response | None) -> str:
        match = CSRF.search(page.text) if page is not None else None
        return match.group(1) if match else ""

    def login(self, email: str, totp_secret: str | None = None) -> bool:
        page = self.call("login page", "GET", "/login")
        answer = self.call("login", "POST", "/login", data={"csrf_token": self.token(page), "email": email,
                                                            "password": PASSWORD})
        if answer is not None and totp_secret and "/login/two-factor" in answer.url:
            import pyotp

            answer = self.call("second factor", "POST", "/login/two-factor",
                               data={"csrf_token": self.token(answer), "code": pyotp.TOTP(totp_secret).now()})
        return answer is not None and "/login" not in answer.url


def enterprise_journey(base: str, case: dict, recorder: Recorder, submitted: set, delay: float) -> None:
    time.sleep(delay)
    user = User(base, recorder)
    if not user.login(case["owner"]):
        return
    user.call("dashboard", "GET", "/")
    page = user.call("request page", "GET", f"/financing/{case['request_id']}")
    version = VERSION.search(page.text) if page is not None else None
    answer = user.call("submit", "POST", f"/financing/{case['request_id']}/submit",
                       data={"csrf_token": user.token(page), "version": version.group(1) if version else ""})
    if answer is not None and answer.status_code < 400:
        submitted.add(case["request_id"])
    for _ in range(3):
        time.sleep(random.uniform(1, 4))
        user.call("request page", "GET", f"/financing/{case['request_id']}")
    user.call("requests list", "GET", "/financing/")
    case["enterprise_session"] = user


def officer_journey(base: str, case: dict, recorder: Recorder, state_of, deadline: float) -> None:
    while time.monotonic() < deadline and state_of(case["request_id"]) not in ("routed_to_bank", "bank_review"):
        time.sleep(2)
    if state_of(case["request_id"]) not in ("routed_to_bank", "bank_review"):
        return
    user = User(base, recorder)
    if not user.login(case["officer"], case["officer_secret"]):
        return
    user.call("queue", "GET", "/institution/requests/")
    taken = user.call("take next", "POST", "/institution/requests/claim-next",
                      data={"csrf_token": user.token(user.call("queue", "GET", "/institution/requests/"))})
    page = user.call("desk request", "GET", f"/institution/requests/{case['request_id']}")
    if taken is None or page is None or page.status_code != 200:
        return
    from marketplace.formatting import today_shanghai

    user.call("offer", "POST", f"/institution/requests/{case['request_id']}/offers", data={
        "csrf_token": user.token(page), "amount": "200000.00", "annual_rate": "3.85", "term_days": 90,
        "expires_on": (today_shanghai() + timedelta(days=10)).isoformat(), "conditions": ""})
    owner = case.get("enterprise_session")
    if owner is None:
        return
    offers = owner.call("offers", "GET", f"/financing/{case['request_id']}/offers")
    for path in ACCEPT.findall(offers.text if offers is not None else "")[:1]:
        for _ in range(2):  # a double click: the second answers 409, not 500
            owner.call("accept offer", "POST", path, data={"csrf_token": owner.token(offers)})


# ---- faults ----------------------------------------------------------------------------------------

def terminate_one_connection(app, db_name: str) -> str:
    from sqlalchemy import text

    from marketplace.extensions import db

    with app.app_context():
        row = db.session.execute(text(
            "SELECT pid, application_name, state FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
            " AND application_name <> :bench ORDER BY backend_start LIMIT 1"), {"db": db_name, "bench": BENCH_APP_NAME}
        ).first()
        if row is None:
            db.session.remove()
            return "no app connection found"
        db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": row.pid})
        db.session.commit()
        db.session.remove()
        return f"terminated backend {row.pid} ({row.application_name or 'app'}, {row.state})"


def faults(system: System, proxy: Proxy, app, log: list[str], start: float) -> None:
    def at(second: float) -> None:
        time.sleep(max(0.0, start + second - time.monotonic()))

    def note(text: str) -> None:
        log.append(f"t+{time.monotonic() - start:5.1f}s {text}")
        print(log[-1], flush=True)

    at(12)
    system.kill("worker-1")
    note("worker-1 killed with SIGKILL")
    at(16)
    system.start_worker("worker-1")
    note("worker-1 restarted")
    at(25)
    proxy.stop()
    note("broker unreachable (proxy stopped)")
    at(55)
    proxy.start()
    note("broker reachable again")
    at(62)
    note(terminate_one_connection(app, system.db_name))


# ---- the checks ------------------------------------------------------------------------------------

def waiting(app) -> tuple[int, int]:
    from sqlalchemy import func, select

    from marketplace.extensions import db
    from marketplace.financing.models import FinancingRequest
    from marketplace.outbox import OutboxMessage

    with app.app_context():
        stuck = db.session.scalar(select(func.count(FinancingRequest.id))
                                  .where(FinancingRequest.state.in_(("submitted", "verifying"))))
        pending = db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None)))
        db.session.remove()
        return stuck, pending


def act_as_beat(app) -> str:
    from marketplace import outbox
    from marketplace.verification import stalls

    with app.app_context():
        sent, _left = outbox.flush()
        counts = stalls.resend_stalled()
        from marketplace.extensions import db

        db.session.remove()
    return f"outbox sent {sent}, verifications resent {counts['resent']}, flagged {counts['flagged']}"


def figures(app, submitted: set) -> dict:
    from sqlalchemy import func, select

    from marketplace.desks.models import Offer
    from marketplace.extensions import db
    from marketplace.financing.models import FinancingRequest, WorkflowEvent
    from marketplace.notifications.models import Notification
    from marketplace.outbox import OutboxMessage
    from marketplace.payments.models import Payment
    from marketplace.verification.models import VerificationReport

    with app.app_context():
        session = db.session
        submissions = session.execute(select(WorkflowEvent.request_id, func.count()).where(
            WorkflowEvent.transition == "submit").group_by(WorkflowEvent.request_id)).all()
        reports = dict(session.execute(select(VerificationReport.request_id, func.count())
                                       .group_by(VerificationReport.request_id)).all())
        duplicate_reports = session.scalar(select(func.count()).select_from(
            select(VerificationReport.request_id).group_by(VerificationReport.request_id,
                                                           VerificationReport.submission_no)
            .having(func.count() > 1).subquery()))
        duplicate_notifications = session.scalar(select(func.count()).select_from(
            select(Notification.user_id).group_by(Notification.user_id, Notification.kind, Notification.title,
                                                  Notification.body, Notification.link)
            .having(func.count() > 1).subquery()))
        accepted_twice = session.scalar(select(func.count()).select_from(
            select(Offer.request_id).where(Offer.status == "accepted").group_by(Offer.request_id)
            .having(func.count() > 1).subquery()))
        duplicate_payments = session.scalar(select(func.count()).select_from(
            select(Payment.request_id).where(Payment.status != "cancelled")
            .group_by(Payment.request_id, Payment.purpose).having(func.count() > 1).subquery()))
        states = Counter(session.scalars(select(FinancingRequest.state).where(
            FinancingRequest.id.in_([request_id for request_id, _n in submissions]))))
        result = {
            "requests submitted (by the users)": len(submitted),
            "requests with a submission (database)": len(submissions),
            "submissions without exactly one report": sum(1 for request_id, n in submissions
                                                          if reports.get(request_id, 0) != n),
            "duplicate reports (request, submission)": duplicate_reports,
            "duplicate notifications (user, kind, text, link)": duplicate_notifications,
            "notifications": session.scalar(select(func.count(Notification.id))),
            "notifications not emailed": session.scalar(select(func.count(Notification.id))
                                                        .where(Notification.emailed_at.is_(None))),
            "requests with two accepted offers": accepted_twice,
            "offers accepted": session.scalar(select(func.count(Offer.id)).where(Offer.status == "accepted")),
            "duplicate payments (request, purpose)": duplicate_payments,
            "outbox rows": session.scalar(select(func.count(OutboxMessage.id))),
            "outbox rows sent by a sweep (send failed or stalled)": session.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.send_attempts > 1)),
            "outbox rows still pending": session.scalar(select(func.count(OutboxMessage.id))
                                                        .where(OutboxMessage.sent_at.is_(None))),
            "states of the submitted requests": dict(states),
        }
        db.session.remove()
        return result


def machine() -> str:
    model = "unknown CPU"
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                model = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.platform()}; {model}; {os.cpu_count()} cores; Python {platform.python_version()}"


# ---- main ------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=40, help="draft requests to submit (one enterprise each)")
    parser.add_argument("--keep", action="store_true", help="keep the database and logs afterwards")
    args = parser.parse_args(argv)

    from sqlalchemy import create_engine, text

    run_id = f"{os.getpid()}"
    folder = Path(tempfile.mkdtemp(prefix="faults-"))
    proxy = Proxy(free_port())
    system = System(run_id, free_port(), proxy.port, folder)
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{system.db_name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{system.db_name}" ENCODING \'UTF8\' TEMPLATE template0'))
    print(f"machine   {machine()}\nfolder    {folder} (logs)\ndatabase  {system.db_name}", flush=True)
    proxy.start()
    exit_code = 1
    try:
        from flask_migrate import upgrade

        from marketplace import create_app, crypto

        app = create_app(system.config(), instance_path=str(folder / "instance"))
        with app.app_context():
            upgrade()
        if hasattr(crypto, "use_key_outside_app_context"):
            crypto.use_key_outside_app_context(app.config["ENCRYPTION_KEY"])
        started = time.monotonic()
        cases = seed(app, args.cases)
        print(f"seeded    {len(cases)} draft requests in {time.monotonic() - started:.0f} s "
              f"({Counter(c['kind'] for c in cases)})", flush=True)

        system.start_web()
        system.start_worker("worker-1")
        system.start_worker("worker-2")
        wait_until(lambda: requests.get(system.web + "/login", timeout=5).status_code == 200, 90, "gunicorn")
        time.sleep(5)  # the workers connect

        def state_of(request_id: int) -> str:
            from marketplace.extensions import db
            from marketplace.financing.models import FinancingRequest

            with app.app_context():
                value = db.session.get(FinancingRequest, request_id).state
                db.session.remove()
                return value

        recorder, submitted, fault_log = Recorder(), set(), []
        start = time.monotonic()
        fault_thread = threading.Thread(target=faults, args=(system, proxy, app, fault_log, start), daemon=True)
        fault_thread.start()
        rng = random.Random(7)
        threads = [threading.Thread(target=enterprise_journey,
                                    args=(system.web, case, recorder, submitted, rng.uniform(0, 60)))
                   for case in cases]
        threads += [threading.Thread(target=officer_journey,
                                     args=(system.web, case, recorder, state_of, start + 150))
                    for case in cases if case["kind"] == "excellent"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=400)
        fault_thread.join(timeout=120)
        print(f"actions   {sum(recorder.actions.values())} in {time.monotonic() - start:.0f} s: "
              f"{dict(recorder.actions)}", flush=True)

        drain_start = time.monotonic()
        while time.monotonic() - drain_start < 300:
            stuck, pending = waiting(app)
            if not stuck and not pending:
                break
            print(f"drain     t+{time.monotonic() - drain_start:4.0f}s waiting: {stuck} requests, "
                  f"{pending} outbox rows; beat: {act_as_beat(app)}", flush=True)
            time.sleep(15)
        cli = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "outbox", "flush", "--all"], cwd=ROOT,
                             env=system.env, capture_output=True, text=True, timeout=120)
        print(f"cli       flask --app wsgi outbox flush --all: {cli.stdout.strip() or cli.stderr.strip()[-300:]}")
        time.sleep(3)

        result = figures(app, submitted)
        print("\nfaults:")
        for line in fault_log:
            print(f"  {line}")
        print("\nHTTP answers by status:", dict(sorted(recorder.statuses.items(), key=lambda kv: str(kv[0]))))
        print("4xx answers by action (each a page with a message):", dict(recorder.refusals))
        print(f"server errors (5xx): {len(recorder.server_errors)}", *recorder.server_errors[:20], sep="\n  ")
        print(f"no answer after 3 tries: {len(recorder.no_answer)}", *recorder.no_answer[:10], sep="\n  ")
        print(f"4xx answers that are not a page: {len(recorder.unclear)}", *recorder.unclear[:10], sep="\n  ")
        print("\nfigures:")
        for key, value in result.items():
            print(f"  {key}: {value}")
        ok = (not recorder.server_errors and not recorder.unclear
              and result["submissions without exactly one report"] == 0
              and result["duplicate reports (request, submission)"] == 0
              and result["duplicate notifications (user, kind, text, link)"] == 0
              and result["requests with two accepted offers"] == 0
              and result["duplicate payments (request, purpose)"] == 0
              and result["requests submitted (by the users)"] > 0)
        print(f"\nverdict: {'PASS' if ok else 'FAIL'}")
        exit_code = 0 if ok else 1
    finally:
        system.stop_all()
        proxy.stop()
        try:
            import redis

            client = redis.Redis(*REDIS)
            keys = list(client.scan_iter(match=f"{system.prefix}*"))
            if keys:
                client.delete(*keys)
        except Exception:  # noqa: BLE001,S110
            pass
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{system.db_name}" WITH (FORCE)'))
        admin.dispose()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
