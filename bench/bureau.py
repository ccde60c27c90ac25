"""Benchmark of the finance bureau's dashboard figures and stuck list (issue 13), in process.

Run from the project root:  .venv/bin/python bench/bureau.py [--rows 100000] [--runs 20] [--reuse]
                                [--pg-setting jit=on ...]

It builds a PostgreSQL database of its own (bench_bureau, dropped first; --reuse keeps the one
a previous run built, upgraded to the current migrations) holding `--rows` financing requests
of Jiangsu enterprises (a few percent from Shanghai and Zhejiang), submitted over three years
up to now, each with the timeline the state machine allows (workflow_events), its request
stays (rebuilt by marketplace.bureau.kept.rebuild from the timelines, with the stay-length histograms and per-request figures), targets, claims, information requests,
offers, declines, guarantees, loans, pledged receivables and debtor confirmation links, SLA
due moments and stuck flags. Old requests have mostly ended (financed and closed, declined and
returned, withdrawn); recent ones are open; about one request in eight stalls once somewhere
for days to months, and one in fifty stops for good (nobody acts on it again): these are what
the stuck list finds. Rows go in with COPY, chunk by chunk.

Then, after a warm-up, it times marketplace.bureau.dashboard.figures() over the last year and
over the whole range, the stuck list's page as /bureau/stuck reads it (marketplace.bureau.stuck.
stuck_page(): the first page, and the 20th) and the whole list (stuck_entries(), as the export
and a meeting's agenda read it), for a city bureau (Suzhou,
320500) and the province's bureau (Jiangsu, 320000): median and p95 over `--runs` runs, and
the statements each sends (a before_cursor_execute listener). Target: under 200 ms each.
--pg-setting measures a PostgreSQL setting (jit=on, work_mem=64MB) on the same data without
touching the server's configuration (the app itself connects with jit=off on PostgreSQL since
issue 13's fixes; an explicit jit=... here wins).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import cpu_model, create_database, memory_gb  # noqa: E402

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = "bench_bureau"
SECRET_KEY = "bench-secret-key-not-secret"
AUDIT_KEY = "bench-audit-key-not-secret"
ENCRYPTION_KEY = "bench-encryption-key-not-secret"
SEED = 20261206
YEARS = 3  # submissions spread over the last three years
CHUNK = 5_000  # requests generated and copied at a time
TARGET_MS = 200

# Where the enterprises are: Jiangsu's cities by weight (its districts evenly within a city),
# and a few outside the province that neither bureau may see.
CITY_WEIGHTS = {"3205": 34, "3201": 15, "3202": 12, "3204": 7, "3206": 7, "3203": 4, "3210": 3, "3211": 3,
                "3212": 3, "3209": 2, "3208": 2, "3207": 1.5, "3213": 1.5}
OUTSIDE = {"310115": 2, "310112": 1, "330106": 1, "330212": 1}
BUREAUS = (("江苏省地方金融管理局", "320000"), ("苏州市地方金融管理局", "320500"),
           ("南京市地方金融管理局", "320100"), ("无锡市地方金融管理局", "320200"))
BANKS = ("工商银行苏州分行", "建设银行苏州分行", "农业银行苏州分行", "中国银行江苏省分行", "交通银行江苏省分行",
         "江苏银行", "苏州银行", "南京银行", "招商银行南京分行", "兴业银行无锡分行", "浦发银行苏州分行",
         "常熟农商银行")
GUARANTORS = ("江苏省信用再担保集团", "苏州市融资再担保有限公司", "南京市融资担保有限公司", "无锡市融资担保有限公司")
INDUSTRIES = ("13", "17", "26", "29", "34", "35", "38", "39", "47", "51", "54", "65")
DECLINE_WEIGHTS = {"credit_risk": 25, "cash_flow": 20, "receivable_quality": 20, "incomplete": 12, "policy": 10,
                   "industry_limit": 8, "other": 5}
CLASS_WEIGHTS = {"excellent": 55, "mixed": 30, "poor": 15}
STALL_SHARE = 0.008  # chance that any one step waits an extra 2-120 days
STALL_SHARE_BY_STEP = {"answer_info": 0.06, "start_bank_review": 0.02, "accept_offer": 0.02}
ABANDONED_SHARE = 0.02  # requests that stop for good at some step (nobody acts again): open for years
TERMINAL = ("closed", "withdrawn")


def build_app(url: str, instance: str, pg_settings: list[str] | None = None):
    """The app on `url`; `pg_settings` (NAME=VALUE, e.g. jit=off) are set on every connection,
    to measure a proposed server setting without changing the server."""
    from marketplace import create_app
    from marketplace.config import Defaults

    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "AUDIT_KEY": AUDIT_KEY,
              "ENCRYPTION_KEY": ENCRYPTION_KEY}
    if pg_settings:
        options = " ".join(f"-c {setting}" for setting in pg_settings)
        config["SQLALCHEMY_ENGINE_OPTIONS"] = Defaults.SQLALCHEMY_ENGINE_OPTIONS | {"connect_args": {"options": options}}
    return create_app(config, instance_path=instance)


# ---- the parties -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Institution:
    id: int
    version_id: int  # its one published product's version
    officers: tuple[int, ...]
    approver: int


@dataclass(frozen=True)
class Applicant:
    enterprise_id: int
    organisation_id: int
    user_id: int
    region_code: str


@dataclass
class Parties:
    banks: list[Institution] = field(default_factory=list)
    guarantors: list[Institution] = field(default_factory=list)
    applicants: list[Applicant] = field(default_factory=list)


def region_codes() -> tuple[list[str], list[float]]:
    """Division codes and their weights: each city's weight shared by its districts."""
    from marketplace.reference.regions import region_tree

    codes, weights = [], []
    jiangsu = next(p for p in region_tree() if p["code"] == "32")
    for city in jiangsu["cities"]:
        districts = [d["code"] for d in city["districts"]]
        for code in districts:
            codes.append(code)
            weights.append(CITY_WEIGHTS.get(city["code"], 1) / len(districts))
    codes += list(OUTSIDE)
    weights += list(OUTSIDE.values())
    return codes, weights


def seed_parties(app, rng: random.Random, enterprises: int) -> Parties:
    """Bureaus with a coordinator each, banks and guarantors with two officers, an approver and
    a published product, and `enterprises` enterprises with an admin each (through the ORM)."""
    from marketplace.accounts.models import Organisation, User
    from marketplace.accounts.roles import Role
    from marketplace.enterprises.models import Enterprise
    from marketplace.extensions import db
    from marketplace.supermarket import services as products
    from workflows.identifiers import uscc_check_char

    password = "bench-no-login"  # nobody signs in: the benchmark calls the functions directly
    parties = Parties()
    for name, code in BUREAUS:
        bureau = Organisation(kind="bureau", name=name, region_code=code)
        db.session.add(bureau)
        db.session.flush()
        db.session.add(User(organisation_id=bureau.id, email=f"coordinator-{code}@bench.local", name="协调员",
                            role=Role.BUREAU_COORDINATOR, password_hash=password))
    for kind, names in (("bank", BANKS), ("guarantor", GUARANTORS)):
        for n, name in enumerate(names):
            org = Organisation(kind=kind, name=name, region_code="320500" if "苏州" in name else "320100")
            db.session.add(org)
            db.session.flush()
            staff = [User(organisation_id=org.id, email=f"{kind}{n}-{role.short}{i}@bench.local", name=f"{name[:2]}经理{i}",
                          role=role, password_hash=password)
                     for i, role in enumerate((Role.BANK_OFFICER, Role.BANK_OFFICER, Role.BANK_APPROVER) if kind == "bank"
                                              else (Role.GUARANTOR_OFFICER, Role.GUARANTOR_OFFICER,
                                                    Role.GUARANTOR_APPROVER))]
            db.session.add_all(staff)
            db.session.flush()
            with app.test_request_context():
                product = products.create_product(org, staff[0], products.Terms(
                    name=f"{name}应收账款融资", product_type="receivable_pledge" if kind == "bank" else "guaranteed_loan",
                    description="", amount_min=Decimal("100000"), amount_max=Decimal("30000000"),
                    term_min_days=30, term_max_days=720, rate_min=Decimal("3.20"), rate_max=Decimal("6.50")))
                products.publish_product(product, staff[0])
            db.session.flush()
            institution = Institution(org.id, product.current_version_id, (staff[0].id, staff[1].id), staff[2].id)
            (parties.banks if kind == "bank" else parties.guarantors).append(institution)
    codes, weights = region_codes()
    regions = rng.choices(codes, weights, k=enterprises)
    orgs = [Organisation(kind="enterprise", name=f"{region[:4]}基准{n:05d}科技有限公司") for n, region in enumerate(regions)]
    db.session.add_all(orgs)
    db.session.flush()
    for n, (org, region) in enumerate(zip(orgs, regions, strict=True)):
        body = f"91{region}{n:09d}"
        enterprise = Enterprise(organisation_id=org.id, uscc=body + uscc_check_char(body), name=org.name,
                                legal_rep_name="张三", legal_rep_id_number="320505198001010011",
                                industry_code=rng.choice(INDUSTRIES), region_code=region, contact_name="张三",
                                contact_phone="13800000000")
        admin = User(organisation_id=org.id, email=f"admin{n:05d}@bench.local", name="财务", role=Role.ENTERPRISE_ADMIN,
                     password_hash=password)
        db.session.add_all([enterprise, admin])
    db.session.flush()
    rows = db.session.execute(db.select(Enterprise.id, Enterprise.organisation_id, User.id, Enterprise.region_code)
                              .join(User, User.organisation_id == Enterprise.organisation_id)
                              .order_by(Enterprise.id)).all()
    parties.applicants = [Applicant(*row) for row in rows]
    return parties


# ---- the requests ------------------------------------------------------------------------------

class NotYet(Exception):
    """The story's next step would happen after now: the request waits where it is."""


def hours(rng: random.Random, low: float, high: float) -> timedelta:
    """A log-uniform delay between `low` and `high` hours."""
    return timedelta(hours=math.exp(rng.uniform(math.log(low), math.log(high))))


def beijing_date(moment: datetime) -> date:
    return (moment + timedelta(hours=8)).date()


class Tables:
    """The rows of one chunk, per table, in COPY column order; ids assigned here where other
    rows refer to them."""

    COLUMNS = {
        "financing_requests": ("id", "enterprise_id", "amount", "term_days", "purpose", "state", "sla_due_at",
                               "stuck", "classification", "created_by_id", "created_at", "submitted_at",
                               "state_changed_at", "version"),
        "workflow_events": ("request_id", "transition", "from_state", "to_state", "actor_user_id", "actor_org_id",
                            "note", "occurred_at"),
        "request_targets": ("id", "request_id", "product_version_id", "institution_id", "rank", "chosen_by", "status",
                            "routed_at", "created_at"),
        "assignments": ("target_id", "request_id", "institution_id", "user_id", "claimed_at", "touched_at",
                        "expires_at", "ended_at", "end_reason"),
        "info_requests": ("target_id", "request_id", "asked_by_id", "question", "asked_at", "answer",
                          "answered_by_id", "answered_at"),
        "offers": ("id", "target_id", "request_id", "institution_id", "amount", "annual_rate", "term_days",
                   "conditions", "expires_on", "status", "four_eyes", "made_by_id", "approved_by_id", "created_at",
                   "approved_at", "decided_at"),
        "declines": ("target_id", "request_id", "institution_id", "reason_code", "note", "decided_by_id",
                     "created_at"),
        "guarantees": ("target_id", "request_id", "institution_id", "coverage_ratio", "fee_rate",
                       "guaranteed_amount", "fee", "term_days", "status", "offered_by_id", "created_at",
                       "accepted_at", "issued_at", "letter_no"),
        "loans": ("request_id", "offer_id", "institution_id", "amount", "disbursed_on", "reference",
                  "recorded_by_id", "created_at"),
        "receivables": ("id", "enterprise_id", "debtor_name", "debtor_uscc", "invoice_no", "contract_no",
                        "face_amount", "issue_date", "due_date", "confirmation", "confirmed_via", "confirmed_at",
                        "dispute_reason", "created_at", "updated_at"),
        "request_pledges": ("request_id", "receivable_id", "active", "created_at", "released_at"),
        "confirmation_links": ("receivable_id", "nonce", "created_by_id", "created_at", "expires_at", "used_at"),
    }

    def __init__(self):
        self.rows = {table: [] for table in self.COLUMNS}
        self.next_id = Counter({"request_targets": 1, "offers": 1, "receivables": 1})

    def new_id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] += 1
        return value

    def copy(self, connection) -> int:
        """COPY every table's rows (parents first) and forget them; returns the row count."""
        total = 0
        with connection.cursor() as cursor:
            for table, columns in self.COLUMNS.items():
                rows = self.rows[table]
                if not rows:
                    continue
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                total += len(rows)
                rows.clear()
        return total


class Story:
    """One request's life, step by step through the state machine, until now: each step writes
    its timeline row and the rows the desks, the guarantors and the loans would have written."""

    def __init__(self, out: Tables, rng: random.Random, parties: Parties, debtors: list[tuple[str, str]],
                 now: datetime, request_id: int, applicant: Applicant, submitted: datetime):
        self.out, self.rng, self.parties, self.debtors, self.now = out, rng, parties, debtors, now
        self.id, self.applicant = request_id, applicant
        self.amount = Decimal(round(10 ** rng.uniform(5, 7.3), -4))
        self.term = rng.choice((90, 180, 180, 270, 360, 360, 540))
        self.classification = rng.choices(list(CLASS_WEIGHTS), list(CLASS_WEIGHTS.values()))[0]
        self.created = submitted - hours(rng, 0.5, 240)
        self.submitted = submitted
        self.t = self.created
        self.state = "draft"
        self.pending: list[tuple[str, list]] = []  # rows completed at the end (claims, targets, ...)
        self.offered = False
        self.steps = 0
        self.abandon_at = rng.randint(1, 9) if rng.random() < ABANDONED_SHARE else None

    # -- plumbing

    def step(self, transition: str, to_state: str, delay: timedelta, actor: tuple[int | None, int | None] = (None, None),
             note: str | None = None) -> None:
        self.steps += 1
        if self.steps == self.abandon_at:
            raise NotYet
        stall = STALL_SHARE_BY_STEP.get(transition, STALL_SHARE)
        if self.rng.random() < stall:
            delay += hours(self.rng, 48, 24 * 120)
        at = self.t + delay
        if at > self.now:
            raise NotYet
        self.out.rows["workflow_events"].append(
            (self.id, transition, self.state, to_state, actor[0], actor[1], note, at))
        self.state, self.t = to_state, at

    def enterprise(self) -> tuple[int, int]:
        return self.applicant.user_id, self.applicant.organisation_id

    def target(self, institution: Institution, rank: int, routed: bool) -> list:
        row = [self.out.new_id("request_targets"), self.id, institution.version_id, institution.id, rank, "match",
               "routed" if routed else "chosen", self.t if routed else None, self.t]
        self.pending.append(("request_targets", row))
        return row

    @staticmethod
    def route(target: list, at: datetime) -> None:
        target[6], target[7] = "routed", at

    def claim(self, target: list, institution: Institution, user: int) -> list:
        row = [target[0], self.id, institution.id, user, self.t, self.t, None, None, None]  # expires_at: finish()
        self.pending.append(("assignments", row))
        return row

    def touch(self, claim: list, ended: str | None = None) -> None:
        claim[5] = self.t
        if ended:
            claim[7], claim[8] = self.t, ended

    # -- the life

    def live(self) -> None:
        rng = self.rng
        user, org = self.enterprise()
        events = self.out.rows["workflow_events"]
        events.append((self.id, "create", None, "draft", user, org, None, self.created))
        events.append((self.id, "submit", "draft", "submitted", user, org, None, self.submitted))
        self.state, self.t = "submitted", self.submitted
        self.step("start_verification", "verifying", hours(rng, 0.01, 0.2))
        self.step("complete_verification", "verified", hours(rng, 0.05, 1.5))
        if self.classification == "poor":
            self.step("return_request", "returned", hours(rng, 0.01, 0.5))
        elif self.classification == "mixed":
            self.guarantor_path()
        else:
            banks = rng.sample(self.parties.banks, rng.choice((1, 2, 2, 3)))
            targets = [self.target(bank, rank, routed=False) for rank, bank in enumerate(banks, 1)]
            self.step("route_to_bank", "routed_to_bank", hours(rng, 0.01, 0.5))
            self.bank_path(banks, targets)

    def maybe_withdraw(self, share: float, low: float, high: float) -> bool:
        if self.rng.random() >= share:
            return False
        self.step("withdraw", "withdrawn", hours(self.rng, low, high), self.enterprise())
        return True

    def guarantor_path(self) -> None:
        rng = self.rng
        guarantors = rng.sample(self.parties.guarantors, rng.choice((1, 1, 2)))
        targets = [self.target(g, rank, routed=False) for rank, g in enumerate(guarantors, 1)]
        for n, (guarantor, target) in enumerate(zip(guarantors, targets, strict=True)):
            if n == 0:
                self.step("route_to_guarantor", "routed_to_guarantor", hours(rng, 0.01, 0.5))
            else:
                self.step("reroute_to_guarantor", "routed_to_guarantor", hours(rng, 0.05, 4))
            self.route(target, self.t)
            officer = rng.choice(guarantor.officers)
            self.step("start_guarantor_review", "guarantor_review", hours(rng, 2, 72), (officer, guarantor.id))
            target[6] = "reviewing"
            claim = self.claim(target, guarantor, officer)
            if rng.random() < 0.25:
                self.step("decline_guarantee", "guarantor_declined", hours(rng, 24, 144), (officer, guarantor.id))
                self.touch(claim, "decided")
                target[6] = "declined"
                self.decline(target, guarantor, officer)
                continue
            self.step("offer_guarantee", "guarantee_offered", hours(rng, 24, 144), (officer, guarantor.id))
            self.touch(claim, "decided")
            target[6] = "offered"
            coverage = Decimal("80.00")
            rate = Decimal(str(round(rng.uniform(1.0, 2.5), 2)))
            covered = (self.amount * coverage / 100).quantize(Decimal("0.01"))
            fee = (covered * rate / 100 * self.term / 365).quantize(Decimal("0.01"))
            guarantee = [target[0], self.id, guarantor.id, coverage, rate, covered, fee, self.term, "offered",
                         officer, self.t, None, None, None]
            self.pending.append(("guarantees", guarantee))
            if self.maybe_withdraw(0.06, 24, 240):
                guarantee[8] = "closed"
                target[6] = "closed"
                return
            self.step("accept_guarantee", "fee_pending", hours(rng, 12, 120), self.enterprise())
            guarantee[8], guarantee[11] = "accepted", self.t
            target[6] = "accepted"
            self.step("confirm_fee", "guaranteed", hours(rng, 24, 96), (guarantor.approver, guarantor.id))
            guarantee[8], guarantee[12], guarantee[13] = "issued", self.t, f"DB{self.id:08d}"
            banks = rng.sample(self.parties.banks, rng.choice((1, 2, 2)))
            bank_targets = [self.target(bank, rank, routed=False) for rank, bank in enumerate(banks, 1)]
            self.step("route_guaranteed_to_bank", "routed_to_bank", hours(rng, 0.05, 24))
            self.bank_path(banks, bank_targets)
            return
        self.step("return_after_guarantor", "returned", hours(rng, 0.01, 2))

    def bank_path(self, banks: list[Institution], targets: list[list]) -> None:
        rng = self.rng
        for n, (bank, target) in enumerate(zip(banks, targets, strict=True)):
            if n > 0:
                self.step("reroute_to_bank", "routed_to_bank", hours(rng, 0.05, 4))
            self.route(target, self.t)
            if self.maybe_withdraw(0.02, 24, 200):
                return
            officer = rng.choice(bank.officers)
            self.step("start_bank_review", "bank_review", hours(rng, 2, 72), (officer, bank.id))
            target[6] = "reviewing"
            claim = self.claim(target, bank, officer)
            if rng.random() < 0.3:
                self.step("request_info", "info_requested", hours(rng, 12, 96), (officer, bank.id))
                self.touch(claim)
                target[6] = "info_requested"
                info = [target[0], self.id, officer, "请补充最近六个月的增值税纳税申报表及主要购销合同。", self.t, None, None,
                        None]
                self.pending.append(("info_requests", info))
                if self.maybe_withdraw(0.04, 24, 300):
                    self.touch(claim, "closed")
                    target[6] = "closed"
                    return
                user, org = self.enterprise()
                self.step("answer_info", "bank_review", hours(rng, 12, 144), (user, org))
                info[5:8] = ["已上传纳税申报表及购销合同。", user, self.t]
                target[6] = "reviewing"
            decline = rng.random() < (0.35 if self.classification == "mixed" else 0.25)
            delay = hours(rng, 24, 144)
            if decline:
                self.step("decline", "bank_declined", delay, (officer, bank.id))
                self.touch(claim, "decided")
                target[6] = "declined"
                self.decline(target, bank, officer)
                continue
            self.step("make_offer", "offer_made", delay, (officer, bank.id))
            self.touch(claim, "decided")
            self.offer(target, bank, officer)
            return
        self.step("return_after_bank", "returned", hours(rng, 0.01, 2))

    def decline(self, target: list, institution: Institution, user: int) -> None:
        code = self.rng.choices(list(DECLINE_WEIGHTS), list(DECLINE_WEIGHTS.values()))[0]
        self.out.rows["declines"].append((target[0], self.id, institution.id, code, "", user, self.t))

    def offer(self, target: list, bank: Institution, officer: int) -> None:
        rng = self.rng
        target[6] = "offered"
        amount = (self.amount * Decimal(rng.choice(("1", "1", "0.8", "0.6")))).quantize(Decimal("0.01"))
        offer_id = self.out.new_id("offers")
        offer = [offer_id, target[0], self.id, bank.id, amount, Decimal(str(round(rng.uniform(3.2, 6.5), 2))),
                 self.term, "", beijing_date(self.t) + timedelta(days=15), "made", amount > 5_000_000, officer,
                 bank.approver, self.t, self.t, None]
        self.pending.append(("offers", offer))
        self.offered = True
        if self.maybe_withdraw(0.08, 24, 240):
            offer[9], offer[15] = "closed", self.t
            target[6] = "closed"
            return
        self.step("accept_offer", "offer_accepted", hours(rng, 12, 120), self.enterprise())
        offer[9], offer[15] = "accepted", self.t
        target[6] = "accepted"
        self.step("disburse", "disbursed", hours(rng, 24, 96), (officer, bank.id))
        self.out.rows["loans"].append((self.id, offer_id, bank.id, amount, beijing_date(self.t), f"LN{self.id:08d}",
                                       officer, self.t))
        self.step("start_repayment", "repaying", hours(rng, 2, 48), (officer, bank.id))
        self.step("close", "closed", timedelta(days=self.term) + hours(rng, 1, 72), (officer, bank.id))
        target[6] = "closed"

    # -- the rest: receivables, the request row

    def receivables(self) -> None:
        """1-3 receivables pledged at creation, confirmation links sent then; a debtor answers
        most of them within days, less often for requests that never got an offer."""
        rng, out = self.rng, self.out
        count = rng.choice((1, 1, 2, 2, 3))
        faces = [(self.amount * Decimal("1.25") / count).quantize(Decimal("0.01"))] * count
        ended = self.state in TERMINAL
        answered_share = 0.99 if self.offered else (0.7 if self.classification == "poor" else 0.88)
        for face in faces:
            receivable_id = out.new_id("receivables")
            name, uscc = rng.choice(self.debtors)
            issued = beijing_date(self.created) - timedelta(days=rng.randint(10, 120))
            sent = self.created + hours(rng, 0.1, 24)
            answer, via, answered, reason = "pending", None, None, None
            if rng.random() < answered_share:
                at = sent + hours(rng, 1, 160)
                if at <= self.now:
                    answer, via, answered = "confirmed", "link", at
                    if rng.random() < 0.02 and not self.offered:
                        answer, reason = "disputed", "该笔货款已于开票当月结清"
            out.rows["receivables"].append(
                (receivable_id, self.applicant.enterprise_id, name, uscc, f"INV{receivable_id:09d}",
                 f"HT{receivable_id:09d}", face, issued, issued + timedelta(days=rng.choice((60, 90, 120, 180))),
                 answer, via, answered, reason, self.created, answered or self.created))
            out.rows["request_pledges"].append(
                (self.id, receivable_id, not ended, self.created, self.t if ended else None))
            out.rows["confirmation_links"].append(
                (receivable_id, f"{receivable_id:032x}", self.applicant.user_id, sent, sent + timedelta(days=7), answered))

    def finish(self, calendar, sla_days, claim_days: float) -> None:
        from workflows import sla

        for table, row in self.pending:
            if table == "assignments":
                row[6] = calendar.add_working_days(row[5], claim_days)  # as desks.claims.idle_deadline
                if row[7] is None and row[6] <= self.now:
                    row[7], row[8] = row[6], "expired"  # as the beat task expire_idle_claims ends it
            self.out.rows[table].append(tuple(row))
        due = sla.due_at(self.state, self.t, calendar, sla_days)
        self.out.rows["financing_requests"].append(
            (self.id, self.applicant.enterprise_id, self.amount, self.term, "采购原材料及支付货款", self.state, due,
             due is not None and due < self.now, self.classification, self.applicant.user_id, self.created,
             self.submitted, self.t, 1))


def generate(app, parties: Parties, rows: int, now: datetime, rng: random.Random,
             debtors: list[tuple[str, str]] | None = None) -> Counter:
    """Write `rows` requests and everything hanging on them, CHUNK at a time; returns the states.
    `debtors` (name, credit code) default to 600 made-up groups (bench/seed_scale.py gives valid codes)."""
    from marketplace.extensions import db
    from marketplace.sla.services import sla_days
    from marketplace.workcalendar.services import working_calendar

    calendar, days = working_calendar(), sla_days()
    calendar.is_working_day = functools.cache(calendar.is_working_day)  # a few thousand distinct days
    claim_days = app.config["CLAIM_IDLE_WORKING_DAYS"]
    if debtors is None:
        debtors = [(f"债务人{n:03d}集团有限公司", f"91320{n:04d}MA1X{n:05d}"[:18]) for n in range(600)]
    out = Tables()
    states: Counter = Counter()
    start = now - timedelta(days=365 * YEARS)
    span = (now - start).total_seconds()
    # submissions grow over the years (about twice as many a day at the end as at the start)
    moments = sorted(start + timedelta(seconds=span * (math.sqrt(1 + 3 * rng.random()) - 1)) for _ in range(rows))
    connection = db.session.connection().connection.driver_connection
    for request_id, submitted in enumerate(moments, 1):
        story = Story(out, rng, parties, debtors, now, request_id, rng.choice(parties.applicants), submitted)
        try:
            story.live()
        except NotYet:
            pass
        story.receivables()
        story.finish(calendar, days, claim_days)
        states[story.state] += 1
        if request_id % CHUNK == 0 or request_id == rows:
            out.copy(connection)
    return states


def seed(app, rows: int, enterprises: int, now: datetime) -> Counter:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from marketplace.bureau import kept
    from marketplace.extensions import db

    rng = random.Random(SEED)
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        parties = seed_parties(app, rng, enterprises)
        db.session.commit()
        print(f"  parties: {len(parties.banks)} banks, {len(parties.guarantors)} guarantors, "
              f"{len(parties.applicants):,} enterprises in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        states = generate(app, parties, rows, now, rng)
        for table in ("financing_requests", "request_targets", "offers", "receivables"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"))
        db.session.commit()
        print(f"  requests and their rows copied in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        counts = kept.rebuild()
        db.session.commit()
        print(f"  {counts['stays']:,} request stays, {counts['stay_lengths']:,} stay-length rows, "
              f"{counts['figures']:,} figures rows rebuilt in {time.perf_counter() - started:.1f} s")
        db.session.commit()
        started = time.perf_counter()
        # what autovacuum would have done by now: statistics, and the visibility map that lets
        # index-only scans skip the heap
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        print(f"  VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")
        db.engine.dispose()
    return states


# ---- measuring ---------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def measure(action, runs: int, warmup: int = 3) -> dict:
    """Median and p95 ms of `action` over `runs` runs after `warmup`, its statement count, and
    the median time spent executing statements (from sending one to its result being ready; the
    rest is fetching rows and Python). Each run ends its transaction with COMMIT, as a read-only
    request does (marketplace/read_transactions.py); the commit is not timed."""
    from sqlalchemy import event

    from marketplace.extensions import db

    started_at: list[float] = []
    executing: list[float] = []

    def before(*_args, **_kwargs):
        started_at.append(time.perf_counter())

    def after(*_args, **_kwargs):
        executing.append(time.perf_counter() - started_at[-1])

    times, sql_times, result, queries = [], [], None, 0
    for n in range(warmup + runs):
        started_at.clear()
        executing.clear()
        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        try:
            started = time.perf_counter()
            result = action()
            elapsed = time.perf_counter() - started
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
            event.remove(db.engine, "after_cursor_execute", after)
        queries = len(started_at)
        db.session.commit()
        if n >= warmup:
            times.append(elapsed * 1000)
            sql_times.append(sum(executing) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(percentile(times, 0.95), 1),
            "sql_median_ms": round(statistics.median(sql_times), 1), "runs": runs, "queries": queries,
            "result": result}


def describe(result) -> str:
    """A few figures of the answer, to show the data exercise it."""
    if isinstance(result, list):
        kinds = Counter(entry.kind for entry in result)
        return f"{len(result):,} entries " + json.dumps(dict(sorted(kinds.items())))
    if isinstance(result, tuple):  # stuck_page(): a page and the counts
        page, counts = result
        return f"{len(page.items)} of {page.total:,} entries, page {page.page}/{page.pages} " + json.dumps(counts)
    funnel = ", ".join(f"{stage.stage} {stage.count:,}" for stage in result.funnel)
    return (f"{funnel}; {len(result.turnaround)} turnaround rows, {len(result.institutions)} institutions, "
            f"{len(result.financed_by_month)} months")


def run_measures(app, runs: int, now: datetime) -> list[dict]:
    from sqlalchemy import select

    from marketplace.accounts.models import Organisation
    from marketplace.bureau.dashboard import figures
    from marketplace.bureau.stuck import stuck_entries, stuck_page
    from marketplace.extensions import db

    today = beijing_date(now)
    first = today - timedelta(days=365 * YEARS + 2)
    year_ago = today - timedelta(days=364)
    results = []
    with app.test_request_context():  # as the pages call them (the stuck list's texts are translated)
        for label, code in (("city 320500", "320500"), ("province 320000", "320000")):
            bureau = db.session.scalars(select(Organisation).where(Organisation.kind == "bureau",
                                                                    Organisation.region_code == code)).one()
            db.session.expunge(bureau)  # loaded once, as current_user's organisation would be
            db.session.commit()
            measures = (
                ("figures(), last year", lambda b=bureau: figures(b, year_ago, today)),
                ("figures(), whole range", lambda b=bureau: figures(b, first, today)),
                ("stuck_page(), page 1", lambda b=bureau: stuck_page(b)),
                ("stuck_page(), page 20", lambda b=bureau: stuck_page(b, page=20)),
                ("stuck_entries(), whole", lambda b=bureau: stuck_entries(b)),
            )
            for name, action in measures:
                result = measure(action, runs)
                result.update(bureau=label, measure=name, answer=describe(result.pop("result")))
                results.append(result)
                verdict = "met" if result["p95_ms"] < TARGET_MS else "MISSED"
                print(f"{label:<16} {name:<24} median {result['median_ms']:7.1f} ms   p95 {result['p95_ms']:7.1f} ms"
                      f"   {result['queries']:2d} queries (executing: {result['sql_median_ms']:.1f} ms)"
                      f"   target < {TARGET_MS} ms: {verdict}")
                print(f"{'':<16} {'':<24} {result['answer']}")
    return results


def database_summary(app) -> dict:
    from sqlalchemy import text

    from marketplace.extensions import db

    tables = ("financing_requests", "workflow_events", "request_stays", "request_targets", "assignments",
              "info_requests", "offers", "declines", "guarantees", "loans", "receivables", "confirmation_links")
    with app.app_context():
        counts = {table: db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() for table in tables}
        counts["postgresql"] = db.session.execute(text("SHOW server_version")).scalar_one()
        db.session.commit()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--enterprises", type=int, default=4_000)
    parser.add_argument("--runs", type=int, default=20, help="timed runs per measure, after 3 warm-up runs")
    parser.add_argument("--reuse", action="store_true", help=f"keep the {DATABASE} database a previous run built")
    parser.add_argument("--pg-setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a PostgreSQL setting for the measured connections, e.g. jit=off (repeatable)")
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="bench-bureau-")
    now = datetime.now(UTC)
    if args.reuse:
        url = f"{PG_SERVER}/{DATABASE}"
    else:
        url = create_database(PG_SERVER, DATABASE)
        started = time.perf_counter()
        print(f"seeding {args.rows:,} requests into {DATABASE} ...")
        states = seed(build_app(url, instance), args.rows, args.enterprises, now)
        print(f"seeded in {time.perf_counter() - started:.1f} s; states: "
              + ", ".join(f"{state} {count:,}" for state, count in states.most_common()))
    app = build_app(url, instance, args.pg_setting)
    if args.reuse:  # bring a kept database to the current schema (migrations added since it was built)
        from flask_migrate import upgrade
        from sqlalchemy import text

        from marketplace.extensions import db

        with app.app_context():
            upgrade()
            # the tables a migration just filled, as autovacuum would leave them (index-only scans)
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
    summary = database_summary(app)
    print("rows: " + ", ".join(f"{table} {count:,}" for table, count in summary.items() if table != "postgresql"))
    print(f"machine: {platform.platform()}; {cpu_model()}; {os.cpu_count()} cores; {memory_gb():.0f} GB; "
          f"Python {platform.python_version()}; PostgreSQL {summary['postgresql']}; "
          f"load average {os.getloadavg()[0]:.2f}" + (f"; settings: {', '.join(args.pg_setting)}" if args.pg_setting else ""))
    print()
    results = run_measures(app, args.runs, now)
    print(json.dumps({"rows": summary["financing_requests"], "runs": args.runs, "settings": args.pg_setting,
                      "machine": platform.platform(),
                      "cpus": os.cpu_count(), "results": results}, ensure_ascii=False))
    with app.app_context():
        from marketplace.extensions import db

        db.engine.dispose()


if __name__ == "__main__":
    main()
