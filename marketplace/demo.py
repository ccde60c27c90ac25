"""Demo data: `flask --app wsgi demo seed [--reset]`.

Builds the cast of marketplace.demo_data (platform, banks, guarantors, bureau, twenty-one Suzhou
enterprises, one of them an individual business, their receivables, bank statements and
financing requests in many states) through the services where they exist, so the audit chain
holds, all in one transaction. Debtors answer through the confirmation service (the signed link,
or their own enterprise account); statements are imported before the requests; every request
past submission is verified for real and routed by its report's class; a request's other steps
go through the services that do them in the application (claims, offers side by side, guarantees
with their fee paid by a confirmed bank transfer, disbursements, schedules, repayments), so every
row a state implies exists; the business timestamps they write are then moved to a plausible
timeline. The institutions' staff's reads of what they reviewed go to the enterprises' access
logs at the moments they happened. The credit file's part (marketplace.demo_credit): the data
providers push their records through the intake service, an enterprise files an objection and
another a credit repair, and once every enterprise is graded (A to D) the bureau confirms the
red, white and yellow lists and the month's white-list push.
Deterministic apart from secrets (TOTP secrets, link nonces, payment keys) and the dates, which
are relative to today: random.Random(2026) and streams derived from the same seed, one per
enterprise and per request.
"""

from __future__ import annotations

import os
import random
import unicodedata
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import click
import pyotp
from flask import current_app, url_for
from flask_migrate import upgrade
from sqlalchemy import delete, func, inspect, select
from sqlalchemy import event as orm_events
from stdnum.cn import ric

from marketplace import audit, demo_credit, demo_data, demo_statements
from marketplace.accounts import security
from marketplace.accounts.models import Organisation, User
from marketplace.accounts.payee_account import PAYEE_KINDS, set_payee_account
from marketplace.accounts.roles import ROLE_LABELS, OrgKind, Role
from marketplace.bureau import kept
from marketplace.bureau import meetings as meeting_services
from marketplace.bureau.models import ActionItem, AgendaItem, Meeting, MeetingAttendee, RequestStay
from marketplace.bureau.region import in_region
from marketplace.credit import grading
from marketplace.db import UTCDateTime, utcnow
from marketplace.desks import claims, decisions, info
from marketplace.desks.models import Assignment, Decline, InfoRequest, Offer
from marketplace.enterprises import services as enterprise_services
from marketplace.enterprises.models import Consent, Enterprise
from marketplace.extensions import db
from marketplace.financing import routing, targets
from marketplace.financing import services as financing_services
from marketplace.financing.models import FinancingRequest, WorkflowEvent
from marketplace.formatting import SHANGHAI, local, today_shanghai
from marketplace.guarantees import services as guarantees
from marketplace.guarantees.models import Guarantee
from marketplace.loans import services as loan_services
from marketplace.loans.models import Instalment, Loan
from marketplace.notifications.models import Notification
from marketplace.payments import services as payments
from marketplace.payments.models import Payment
from marketplace.receivables import services as receivable_services
from marketplace.receivables.models import Receivable
from marketplace.reference.industries import INDUSTRY_DIVISIONS, industry_name
from marketplace.reference.regions import is_region_code, is_region_prefix
from marketplace.sla import services as sla_services
from marketplace.statements import services as statement_services
from marketplace.statements.models import StatementFile
from marketplace.supermarket import services as supermarket_services
from marketplace.supermarket.matching import ranked_matches
from marketplace.supermarket.models import (
    GRADES,
    PRODUCT_TYPES,
    RATE_CEILING,
    Product,
    ProductStat,
    RequestTarget,
)
from marketplace.verification import services as verification
from marketplace.verification.models import VerificationReport
from workflows.financing import TRANSITIONS
from workflows.guarantees import letter_number
from workflows.identifiers import uscc_check_char
from workflows.loans import due_dates

SEED = 2026
TOTP_COMMAND = ".venv/bin/flask --app wsgi totp code EMAIL"

# The _Seeder method that takes each step of demo_data.REQUESTS. A name not listed is a plain
# transition; None: the previous step's service applied it (the paid fee, a decline, the last repayment).
STEP_ACTIONS = {
    "submit": "_submit", "start_verification": "_start_verification", "complete_verification": "_verify",
    "route_to_bank": "_route", "route_to_guarantor": "_route", "return_request": "_route",
    "start_bank_review": "_claim", "start_guarantor_review": "_claim", "claim": "_claim",
    "request_info": "_ask", "make_offer": "_offer", "offer": "_offer", "accept_offer": "_accept_offer",
    "decline": "_decline", "decline_guarantee": "_decline", "offer_guarantee": "_offer_guarantee",
    "accept_guarantee": "_accept_guarantee", "confirm_fee": "_confirm_fee", "disburse": "_disburse",
    "start_repayment": "_schedule", "repay": "_repay",
    "route_guaranteed_to_bank": None, "reroute_to_bank": None, "reroute_to_guarantor": None, "close": None,
}
TRANSITION_NAMES = frozenset(t.name for t in TRANSITIONS)
# The class a verified request must have for the routing step its story names.
ROUTE_CLASSES = {"route_to_bank": "excellent", "route_to_guarantor": "mixed", "return_request": "poor"}
# What an institution's officer reads when reviewing a request, as the desk pages log it: the
# request page (with the statements the consent covers) and the verification report.
REQUEST_PAGE, REPORT_PAGE = "financing_request", "verification_report"
READ_PURPOSE = "financing review"
STATEMENTS_SCOPE = "bank_statements"
# The request's rows whose business timestamps a step's services write (see _stamp_rows).
STAMPED_MODELS = (RequestTarget, Assignment, Offer, Decline, InfoRequest, Guarantee, Payment, Loan)
OFFER_VALID_DAYS = 15
# the bank holding a guarantor's payee account (a bank's own account is held at the bank itself)
DEMO_PAYEE_BANK = {OrgKind.GUARANTOR: "中国工商银行苏州分行营业部"}

# How long each step takes, in hours (low, high); the timeline is laid out from these.
STEP_HOURS = {
    "submit": (1, 30), "start_verification": (0.02, 0.2), "complete_verification": (0.05, 0.6),
    "route_to_bank": (0.01, 0.05), "route_to_guarantor": (0.01, 0.05), "return_request": (0.01, 0.05),
    "start_guarantor_review": (3, 30), "offer_guarantee": (40, 120), "accept_guarantee": (4, 48),
    "confirm_fee": (20, 72), "route_guaranteed_to_bank": (0.01, 0.05), "decline_guarantee": (24, 96),
    "reroute_to_guarantor": (0.01, 0.05), "start_bank_review": (3, 30), "request_info": (24, 72),
    "answer_info": (24, 96), "make_offer": (40, 120), "accept_offer": (4, 48), "disburse": (20, 72),
    "start_repayment": (24, 120), "decline": (40, 120), "reroute_to_bank": (0.01, 0.05),
    "withdraw": (20, 120), "claim": (1, 30), "offer": (4, 48), "close": (0.01, 0.05),
}

MOBILE_PREFIXES = ("133", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158",
                   "159", "180", "181", "182", "187", "188", "189", "199")
SERVICE_INDUSTRIES = {"50", "59", "65", "74", "77"}  # contracts are service contracts (FW)
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code check digit
# A receivable's age: (days since issue, days from issue to due), each a (low, high) range.
AGES = {
    "fresh": ((8, 55), (90, 180)),  # recent and not yet due: what a bank finances directly
    "old": ((125, 150), (150, 180)),  # four to five months old
    "overdue": ((150, 170), (90, 120)),  # five months old and past its due date
    "funded": ((25, 55), (120, 180)),  # behind a loan paid out in the last days
    "seasoned": ((125, 145), (170, 180)),  # behind a loan paid out about three months ago, not yet due
    "any": ((1, 150), (30, 180)),
}


class SeedRefused(click.ClickException):
    """The database holds data the demo must not destroy."""


def seed(reset: bool = False, echo=print) -> None:
    """Fill the database with the demo cast and print the logins (see the module docstring)."""
    if reset:
        _reset_database(echo)
    elif _user_count() > 0:
        echo("数据库中已有用户，未做任何改动。要重建演示数据请加 --reset。")
        echo("The database already has users; nothing was changed. Use --reset to rebuild the demo.")
        return
    upgrade()  # a no-op when the schema is current; the app never migrates itself on start-up
    try:
        cast = _Seeder(random.Random(SEED)).run()
        db.session.commit()
        grading.regrade_all("demo")  # every enterprise graded from the seeded records, reports and loans
        demo_credit.publish_lists(cast["staff"]["bureau:coordinator"], today_shanghai())  # they read the grades
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    _print_summary(cast, echo)


# ---- the database -------------------------------------------------------------------------------

def _user_count() -> int:
    if not inspect(db.engine).has_table(User.__tablename__):
        return 0
    return db.session.scalar(select(func.count(User.id))) or 0


def _reset_database(echo) -> None:
    """Delete an SQLite file; anything else (PostgreSQL) is reset only when it holds no rows."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        db.session.remove()
        db.engine.dispose()
        path = url.database
        if path and path != ":memory:" and not path.startswith("file:") and Path(path).exists():
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(path + suffix).unlink(missing_ok=True)
            echo(f"已删除嵌入式数据库 Removed the embedded database: {path}")
        return
    if not _database_is_empty():
        raise SeedRefused(
            f"拒绝重置：{url.get_backend_name()} 数据库 {url.database!r} 中已有数据。演示数据只会删除嵌入式"
            "SQLite 文件，从不删除 PostgreSQL 数据库；请换用一个空数据库，或自行清空后再运行。\n"
            f"Refusing to reset: the {url.get_backend_name()} database {url.database!r} holds data. "
            "The demo only ever deletes the embedded SQLite file, never a PostgreSQL database; "
            "point FLASK_SQLALCHEMY_DATABASE_URI at an empty database or empty it yourself."
        )
    db.session.remove()


def _database_is_empty() -> bool:
    """No tables, or every table of ours empty (a freshly migrated database counts as empty)."""
    existing = set(inspect(db.engine).get_table_names())
    for table in db.metadata.sorted_tables:
        if table.name in existing and db.session.execute(select(table).limit(1)).first() is not None:
            return False
    return not (existing - {t.name for t in db.metadata.sorted_tables} - {"alembic_version"})


# ---- identifiers and everyday values ------------------------------------------------------------

def _org_code(rng: random.Random) -> str:
    """A 9-character organisation code (GB 11714): 8 digits and its check character."""
    body = [rng.randrange(10) for _ in range(8)]
    body[0] = rng.randint(1, 9)
    check = 11 - sum(d * w for d, w in zip(body, ORG_CODE_WEIGHTS, strict=True)) % 11
    return "".join(map(str, body)) + {10: "X", 11: "0"}.get(check, str(check))


def _uscc(rng: random.Random, prefix: str, taken: set[str]) -> str:
    """A valid, unused unified social credit code under `prefix` (8 characters)."""
    while True:
        body = prefix + _org_code(rng)
        code = body + uscc_check_char(body)
        if code not in taken:
            taken.add(code)
            return code


def _resident_id(rng: random.Random, gender: str) -> str:
    """A resident ID number registered in Suzhou: a county code in force in the birth year, an
    odd order digit for men and an even one for women, and the GB 11643 check digit."""
    while True:
        birth = date(rng.randint(1983, 1992), rng.randint(1, 12), rng.randint(1, 28))
        region = rng.choice(("320502", "320503", "320504", "320511", "320522", "320524", "320525",
                             "320581", "320582", "320583"))
        order = rng.randrange(0, 100) * 10 + rng.choice((1, 3, 5, 7, 9) if gender == "M" else (0, 2, 4, 6, 8))
        body = f"{region}{birth:%Y%m%d}{order:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if ric.is_valid(number):
            return number


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _workday(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _office_time(when: random.Random | int, day: date) -> datetime:
    """A moment in Shanghai office hours on `day` (`when`: seconds after 09:00, or a stream to
    draw them from), as UTC."""
    seconds = when if isinstance(when, int) else when.randint(0, 8 * 3600)
    local = datetime.combine(day, time(9, 0), tzinfo=SHANGHAI) + timedelta(seconds=seconds)
    return local.astimezone(UTC)


def _amount(rng: random.Random) -> Decimal:
    """A face amount between ¥50,000 and ¥3,000,000, with cents."""
    return (Decimal(rng.randint(5_000_000, 300_000_000)) / 100).quantize(Decimal("0.01"))


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _stream(*names: str) -> random.Random:
    """An independent deterministic stream, so one part's draws never shift another's."""
    return random.Random("/".join((str(SEED), *names)))


class _ReceivableDraw:
    """Every random value one receivable needs, drawn up front in a fixed order."""

    def __init__(self, rng: random.Random, age: str):
        issued, term = AGES[age]
        self.issue_days_ago = rng.randint(*issued)
        self.term_days = rng.randint(*term)
        self.entered_after_days = rng.randint(0, 3)
        self.created_seconds = rng.randint(0, 8 * 3600)
        self.created_hours_ago = rng.uniform(2, 6)
        self.electronic_invoice = rng.random() < 0.8
        self.invoice_channel = rng.randint(1, 2)
        self.invoice_digits = rng.randrange(10**15)
        self.amount = _amount(rng)
        self.ask_after_hours = rng.uniform(1, 30)
        self.answer_after_hours = rng.uniform(2, 120)
        self.dispute_reason = rng.choice(demo_data.DISPUTE_REASONS)
        self.confirmer = rng.choice(demo_data.CONFIRMERS)
        self.ip = f"203.0.113.{rng.randint(2, 254)}"  # TEST-NET-3: an address that is nobody's
        self.link_sent = rng.random() < 0.6


# ---- the seeder ---------------------------------------------------------------------------------

class _Seeder:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.now = utcnow()
        self.today = today_shanghai()
        self.codes: set[str] = set()
        self.orgs: dict[str, Organisation] = {}
        self.slugs: dict[int, str] = {}  # organisation id -> slug
        self.staff: dict[str, User] = {}  # "slug:role" -> user
        self.enterprises: dict[str, Enterprise] = {}
        self.admins: dict[str, User] = {}
        self.applicants: dict[str, User] = {}
        self.registered_at: dict[str, datetime] = {}
        self.debtor_codes: dict[str, str] = {}  # DEBTORS key -> its credit code
        self.tags: dict[str, Receivable] = {}
        self.free_after: dict[int, datetime] = {}  # receivable id -> earliest time it may be pledged
        self.logins: list[tuple[Role, str, str]] = []  # (role, organisation, email)
        self.statement_specs = {spec["enterprise"]: spec for spec in demo_data.STATEMENTS}
        self.uploads: dict[str, list[datetime]] = {}  # enterprise slug -> when each statement was uploaded
        self.histories: dict[str, tuple[str, list[demo_statements.Row]]] = {}  # slug -> (account no, rows)
        self.reads: list[_Read] = []  # the staff's reads of reviewed requests, written at the end
        # every demo login shares one password: the users the seed makes itself share its hash
        # too (argon2 is slow on purpose; registration hashes its own)
        self.password_hash = security.hash_password(demo_data.PASSWORD)

    def run(self) -> dict:
        self._check_reference_data()
        debtor_stream = _stream("debtors")
        for key, (_name, prefix) in demo_data.DEBTORS.items():
            self.debtor_codes[key] = _uscc(debtor_stream, prefix, self.codes)
        self._institutions()
        for spec in demo_data.PRODUCTS:
            self._product(spec)
        for spec in demo_data.ENTERPRISES:
            self._enterprise(spec)
        for spec in demo_data.STATEMENTS:
            self._plan_uploads(spec)
        for spec in demo_data.CONSENTS:
            self._consent(*spec)
        for spec in demo_data.ENTERPRISES:
            self._receivables(spec)
        for spec in demo_data.STATEMENTS:  # the statements the requests are verified against
            self._statements(spec, refresh=False)
        payments_mode = current_app.config.get("PAYMENTS")
        current_app.config["PAYMENTS"] = "offline"  # demo fees are bank transfers: no card is ever charged
        try:
            for spec in demo_data.REQUESTS:
                self._request(spec)
        finally:
            current_app.config["PAYMENTS"] = payments_mode
        self._overdue_sweep()
        self._expire_idle_claims()
        self._sla_sweep()
        self._record_reads()
        for spec in demo_data.STATEMENTS:  # uploaded since, for the requests submitted today
            self._statements(spec, refresh=True)
        for spec in demo_data.LIVE_REQUESTS:
            self._live_request(spec)
        self._restamp_stays()
        self._dispatch_meetings()
        # the data providers' records (the credit file): their own streams, after everything else
        demo_credit.seed_records(self.orgs, self.staff, self.enterprises, self.today, _stream)
        demo_credit.file_requests(self.enterprises, self.admins, self.today, _stream)
        db.session.flush()
        return {"logins": self.logins, "admins": self.admins, "enterprises": self.enterprises, "staff": self.staff}

    def _check_reference_data(self) -> None:
        for spec in demo_data.ENTERPRISES:
            if not is_region_code(spec["region"]) or industry_name(spec["industry"]) is None:
                raise ValueError(f"demo data: {spec['slug']} has an unknown region or industry code")
        for spec in demo_data.PRODUCTS:
            terms = _product_terms(spec)
            if (terms.product_type not in PRODUCT_TYPES or terms.min_grade not in (None, *GRADES)
                    or not 0 < terms.amount_min <= terms.amount_max or not 0 < terms.term_min_days <= terms.term_max_days
                    or not 0 < terms.rate_min <= terms.rate_max <= RATE_CEILING
                    or any(code not in INDUSTRY_DIVISIONS for code in terms.industries)
                    or not all(map(is_region_prefix, terms.regions))):
                raise ValueError(f"demo data: product {spec['name']} has invalid terms or codes")

    # -- institutions and staff

    def _institutions(self) -> None:
        since = self.today - timedelta(days=self.rng.randint(420, 460))
        platform = self._organisation(demo_data.PLATFORM, OrgKind.PLATFORM, since)
        slug, name = demo_data.PLATFORM["staff"][0]
        admin = self._staff_user(platform, "platform", slug, name, Role.PLATFORM_ADMIN, creator=None)
        for kind, specs in ((OrgKind.BANK, demo_data.BANKS), (OrgKind.GUARANTOR, demo_data.GUARANTORS),
                            (OrgKind.BUREAU, [demo_data.BUREAU])):
            for spec in specs:
                org = self._organisation(spec, kind, since + timedelta(days=self.rng.randint(1, 20)))
                audit.record("institution.created", org, actor=admin, kind=org.kind, name=org.name)
                if kind in PAYEE_KINDS:  # where enterprises transfer their fees (no random draw: same demo)
                    set_payee_account(org, admin, name=org.name, bank=DEMO_PAYEE_BANK.get(kind, org.name),
                                      number=f"3220198806{len(self.orgs):06d}")
                for role_short, person in spec["staff"]:
                    self._staff_user(org, spec["slug"], role_short, person, Role(f"{kind}:{role_short}"),
                                     creator=admin)
        self._providers(admin, since)

    def _providers(self, admin: User, since: date) -> None:
        """The data providers, one per source, with their own random stream (the rest of the
        demo draws the same numbers as before they existed)."""
        rng = _stream("providers")
        for spec in demo_data.PROVIDERS:
            org = Organisation(kind=OrgKind.PROVIDER, name=spec["name"], region_code=spec["region"],
                               contact=spec["contact"], credit_source=spec["source"],
                               created_at=_office_time(rng, since + timedelta(days=rng.randint(1, 20))))
            db.session.add(org)
            db.session.flush()
            self.orgs[spec["slug"]] = org
            self.slugs[org.id] = spec["slug"]
            audit.record("institution.created", org, actor=admin, kind=org.kind, name=org.name,
                         credit_source=org.credit_source)
            for role_short, person in spec["staff"]:
                email = f"{role_short}@{spec['slug']}.demo"
                user = User(organisation=org, name=person, email=email, role=Role.PROVIDER_STAFF,
                            password_hash=self.password_hash, totp_secret=pyotp.random_base32(),
                            totp_enrolled_at=self.now, created_at=org.created_at + timedelta(hours=rng.randint(1, 48)))
                db.session.add(user)
                db.session.flush()
                audit.record("user.created", user, actor=admin, role=user.role, email=email, totp_enrolled=True,
                             source="demo seed")
                self.staff[f"{spec['slug']}:{role_short}"] = user
                self.logins.append((Role.PROVIDER_STAFF, org.name, email))

    def _organisation(self, spec: dict, kind: OrgKind, since: date) -> Organisation:
        org = Organisation(kind=kind, name=spec["name"], region_code=spec["region"], contact=spec["contact"],
                           created_at=_office_time(self.rng, since))
        db.session.add(org)
        db.session.flush()
        self.orgs[spec["slug"]] = org
        self.slugs[org.id] = spec["slug"]
        return org

    def _staff_user(self, org: Organisation, slug: str, role_short: str, person: str, role: Role,
                    creator: User | None) -> User:
        """A staff user with the second factor already enrolled, so the demo can log straight in."""
        email = f"{role_short}@{slug}.demo"
        user = User(organisation=org, name=person, email=email, role=role,
                    password_hash=self.password_hash,
                    totp_secret=pyotp.random_base32(), totp_enrolled_at=self.now,
                    created_at=org.created_at + timedelta(hours=self.rng.randint(1, 48)))
        db.session.add(user)
        db.session.flush()
        audit.record("user.created", user, actor=creator, role=user.role, email=email,
                     totp_enrolled=True, source="demo seed")
        self.staff[f"{slug}:{role_short}"] = user
        self.logins.append((role, org.name, email))
        return user

    # -- financing products (金融超市)

    def _product(self, spec: dict) -> None:
        """Created by the officer, published by the approver, perhaps revised (version 2) or
        retired; the business timestamps laid out over the last months, with daily statistics."""
        rng, slug = _stream("product", spec["name"]), spec["institution"]
        officer, approver = self.staff[f"{slug}:officer"], self.staff[f"{slug}:approver"]
        terms = _product_terms(spec)
        product = supermarket_services.create_product(self.orgs[slug], officer, terms)
        created = _office_time(rng, _workday(self.today - timedelta(days=rng.randint(35, 150))))
        product.created_at = product.current_version.created_at = created
        state = spec.get("state", "published")
        if state == "draft":
            return
        supermarket_services.publish_product(product, approver)
        published = _office_time(rng, created.astimezone(SHANGHAI).date() + timedelta(days=rng.randint(1, 4)))
        product.published_at = product.current_version.published_at = published
        if "revision" in spec:
            revised = _product_terms({**spec, **spec["revision"]})
            version = supermarket_services.update_product(product, officer, revised)
            when = _office_time(rng, published.astimezone(SHANGHAI).date() + timedelta(days=rng.randint(8, 20)))
            version.created_at = version.published_at = when
        last_day = self.today
        if state == "retired":
            supermarket_services.retire_product(product, approver)
            product.retired_at = _office_time(
                rng, published.astimezone(SHANGHAI).date() + timedelta(days=rng.randint(10, 20)))
            last_day = product.retired_at.astimezone(SHANGHAI).date()
        self._product_stats(product, published.astimezone(SHANGHAI).date(), last_day, rng)

    def _product_stats(self, product: Product, first: date, last: date, rng: random.Random) -> None:
        """Daily views, matches and applications for the chart, over at most the last 30 days."""
        popularity = rng.uniform(0.5, 2.0)
        day = max(first, self.today - timedelta(days=29))
        while day <= last:
            weekday = day.weekday() < 5
            views = max(0, round(rng.gauss(9 if weekday else 3, 3) * popularity))
            matches = rng.choice((0, 0, 0, 1, 1, 2, 3)) if weekday else rng.choice((0, 0, 1))
            applications = min(matches, rng.choice((0, 0, 0, 0, 1, 1, 2)))
            db.session.add(ProductStat(product_id=product.id, day=day, views=views, matches=matches,
                                       applications=applications))
            day += timedelta(days=1)
        db.session.flush()

    # -- enterprises

    def _enterprise(self, spec: dict) -> None:
        rng = self.rng
        rep_name, gender = spec["legal_rep"]
        # 91: a company registered in Suzhou; 92: an individual business registered in its district
        prefix = f"92{spec['region']}" if spec.get("individual") else "91320500"
        admin = enterprise_services.register_enterprise(
            name=spec["name"], uscc=_uscc(rng, prefix, self.codes), legal_rep_name=rep_name,
            legal_rep_id_number=_resident_id(rng, gender), industry_code=spec["industry"],
            region_code=spec["region"], park=spec["park"], address=spec["address"],
            contact_phone=_mobile(rng), user_name=spec["admin"],
            email=f"{spec['slug']}@{demo_data.ENTERPRISE_EMAIL_DOMAIN}", password=demo_data.PASSWORD,
        )
        enterprise = admin.organisation.enterprise
        registered = _office_time(rng, _workday(self.today - timedelta(days=rng.randint(160, 320))))
        enterprise.created_at = enterprise.organisation.created_at = admin.created_at = registered
        self.enterprises[spec["slug"]] = enterprise
        self.admins[spec["slug"]] = admin
        self.registered_at[spec["slug"]] = registered
        self.logins.append((Role.ENTERPRISE_ADMIN, enterprise.name, admin.email))
        if spec.get("applicant"):
            applicant = User(organisation_id=enterprise.organisation_id, name=spec["applicant"],
                             email=f"{spec['slug']}-jb@{demo_data.ENTERPRISE_EMAIL_DOMAIN}",
                             role=Role.ENTERPRISE_APPLICANT,
                             password_hash=self.password_hash,
                             created_at=registered + timedelta(days=rng.randint(1, 10)))
            db.session.add(applicant)
            db.session.flush()
            audit.record("user.created", applicant, enterprise_id=enterprise.id, actor=admin, role=applicant.role)
            self.applicants[spec["slug"]] = applicant
            self.logins.append((Role.ENTERPRISE_APPLICANT, enterprise.name, applicant.email))
        if spec["signed"]:
            signature = enterprise_services.sign_commitment(enterprise, admin, spec["admin"], ip=None)
            in_force = _office_time(rng.randint(0, 8 * 3600), signature.text.effective_from)
            signature.signed_at = max(registered + timedelta(minutes=rng.randint(5, 3 * 24 * 60)), in_force)

    def _consent(self, slug: str, grantee: str, scopes: list[str], kind: str) -> None:
        """Granted (and perhaps revoked) through the service; an active one before the enterprise
        first uploaded a statement, so it covers every request the institution reviews."""
        rng = self.rng
        enterprise, admin = self.enterprises[slug], self.admins[slug]
        if kind == "expired":
            valid_from = self.today - timedelta(days=rng.randint(120, 150))
            valid_to = self.today - timedelta(days=rng.randint(10, 30))
        else:
            valid_from = self.today - timedelta(days=rng.randint(20, 110))
            if slug in self.uploads:
                valid_from = min(valid_from, local(self.uploads[slug][0]).date() - timedelta(days=rng.randint(1, 10)))
            valid_from = max(valid_from, local(self.registered_at[slug]).date() + timedelta(days=1))
            valid_to = valid_from + timedelta(days=365)
        purpose = demo_data.CONSENT_PURPOSES[1 if grantee.endswith("guarantee") else 0]
        consent = enterprise_services.grant_consent(
            enterprise, admin, grantee_org_id=self.orgs[grantee].id, scopes=scopes, purpose=purpose,
            valid_from=valid_from, valid_to=valid_to,
        )
        consent.granted_at = _office_time(rng, valid_from)
        if kind == "revoked":
            enterprise_services.revoke_consent(consent, admin)
            consent.revoked_at = consent.granted_at + timedelta(days=rng.randint(5, 15), hours=rng.randint(0, 6))

    # -- receivables

    def _receivables(self, spec: dict) -> None:
        """Those the requests pledge, one awaiting each platform customer's confirmation, then
        a random mix up to 3-8 per enterprise. Each enterprise draws from its own stream, every
        draw made whatever the branch, so the data does not shift with the time of day. A pledged
        one is 15-25% of the monthly turnover of the enterprise's statement, an amount its debtor's
        past payments support (R3)."""
        rng, slug = _stream("receivables", spec["slug"]), spec["slug"]
        scale = self.statement_specs.get(slug, {}).get("scale")
        planned: list[dict] = []
        for request in demo_data.REQUESTS:
            if request["enterprise"] != slug:
                continue
            for tag, confirmation, age, debtor in request["pledges"]:
                if confirmation is not None:
                    if debtor not in spec["customers"]:
                        raise ValueError(f"demo data: {tag}'s debtor {debtor} is not a customer of {slug}")
                    share = Decimal(str(rng.uniform(0.15, 0.25)))
                    planned.append({"tag": tag, "debtor": debtor, "confirmation": confirmation, "age": age,
                                    "amount": (scale * share).quantize(Decimal("0.01")) if scale else None})
        for customer in spec["customers"]:
            if customer.startswith("@"):
                planned.append({"debtor": customer, "confirmation": "pending", "age": "any"})
        count = max(rng.randint(3, 8), len(planned))
        while len(planned) < count:
            state = rng.choices(("confirmed", "pending", "disputed"), weights=(50, 38, 12))[0]
            planned.append({"debtor": rng.choice(spec["customers"]), "confirmation": state, "age": "any"})
        sequence = rng.randint(20, 300)
        for plan in planned:
            sequence += rng.randint(1, 9)
            self._receivable(spec, plan, sequence, _ReceivableDraw(rng, plan["age"]))

    def _plan_uploads(self, spec: dict) -> None:
        """When the enterprise uploaded each of its statements (office hours, before now)."""
        rng = _stream("uploads", spec["enterprise"])
        moments = [min(_office_time(rng, _workday(self.today - timedelta(days=rng.randint(*days)))),
                       self.now - timedelta(hours=1))
                   for days in spec.get("uploads", demo_data.DEFAULT_UPLOADS)]
        if moments != sorted(moments):
            raise ValueError(f"demo data: {spec['enterprise']}'s statement uploads are not in order")
        self.uploads[spec["enterprise"]] = moments

    # -- bank statements (流水)

    def _statements(self, spec: dict, refresh: bool) -> None:
        """Each file holds the twelve whole months before its upload, cut from the account's one
        history, written in the spec's layout and imported through the statements service
        (parsed, checked against the holder, stored whole, audited): the first upload, or
        (`refresh`) the later ones."""
        slug = spec["enterprise"]
        enterprise, admin = self.enterprises[slug], self.admins[slug]
        account_no, history = self._history(spec)
        # an individual business banks on its operator's personal card, in the operator's name
        holder = enterprise.legal_rep_name if spec["layout"] == "icbc_personal" else enterprise.name
        title, writer = demo_statements.LAYOUTS[spec["layout"]]
        for number, uploaded in enumerate(self.uploads[slug]):
            if (number > 0) != refresh:
                continue
            last = local(uploaded).date().replace(day=1) - timedelta(days=1)
            rows = demo_statements.period(history, demo_statements.month_starts(last)[0], last)
            suffix, data = writer(holder, account_no, rows)
            filename = f"{title}_{rows[0].moment:%Y%m}-{rows[-1].moment:%Y%m}{suffix}"
            record = statement_services.import_statement(enterprise, admin, data, filename)
            record.uploaded_at = uploaded

    def _history(self, spec: dict) -> tuple[str, list[demo_statements.Row]]:
        """The account's number and its transactions over every month any of its files holds."""
        slug = spec["enterprise"]
        if slug not in self.histories:
            rng = _stream("statement", slug)
            uploads = self.uploads[slug]
            last = local(uploads[-1]).date().replace(day=1) - timedelta(days=1)
            first = demo_statements.month_starts(local(uploads[0]).date().replace(day=1) - timedelta(days=1))[0]
            count = (last.year - first.year) * 12 + last.month - first.month + 1
            payers = [(self._debtor(key)[0], kind) for key, kind in spec["payers"].items()]
            profile = "personal" if spec["layout"] == "icbc_personal" else "company"
            rows = demo_statements.transactions(rng, demo_statements.month_starts(last, count), payers, spec["scale"],
                                                overdraft=spec.get("overdraft", False), profile=profile)
            digits = "".join(str(rng.randrange(10)) for _ in range(19))
            account_no = "6222" + digits[4:] if profile == "personal" else digits  # a debit card's BIN
            self.histories[slug] = (account_no, rows)
        return self.histories[slug]

    def _debtor(self, key: str) -> tuple[str, str, User | None]:
        """(name, credit code, the debtor's admin user when it is on the platform)."""
        if key.startswith("@"):
            enterprise = self.enterprises[key[1:]]
            return enterprise.name, enterprise.uscc, self.admins[key[1:]]
        return demo_data.DEBTORS[key][0], self.debtor_codes[key], None

    def _receivable(self, spec: dict, plan: dict, sequence: int, draw: _ReceivableDraw) -> None:
        slug = spec["slug"]
        enterprise, admin = self.enterprises[slug], self.admins[slug]
        issue = _workday(self.today - timedelta(days=draw.issue_days_ago))
        due = issue + timedelta(days=draw.term_days)
        confirmation = plan["confirmation"]
        created = min(_office_time(draw.created_seconds, issue + timedelta(days=draw.entered_after_days)),
                      self.now - timedelta(hours=draw.created_hours_ago))
        created = max(created, self.registered_at[slug] + timedelta(days=1))
        asked = min(created + timedelta(hours=draw.ask_after_hours), self.now - timedelta(hours=3))
        if (self.today - issue).days < 4 or asked < created + timedelta(minutes=10):
            confirmation = "pending"  # too recent for the debtor to have answered
        debtor_name, debtor_uscc, debtor_user = self._debtor(plan["debtor"])
        kind = "FW" if spec["industry"] in SERVICE_INDUSTRIES else "XS"
        if draw.electronic_invoice:  # 数电发票: year, province (32 Jiangsu), channel, sequence
            invoice = f"{issue:%y}32{draw.invoice_channel}{draw.invoice_digits % 10**15:015d}"
        else:  # a paper VAT invoice's 8-digit number
            invoice = f"{draw.invoice_digits % 10**8:08d}"
        receivable = Receivable(
            enterprise_id=enterprise.id, debtor_name=debtor_name, debtor_uscc=debtor_uscc, invoice_no=invoice,
            contract_no=f"{spec['abbr']}-{kind}-{issue.year}-{sequence:04d}", face_amount=plan.get("amount") or draw.amount,
            issue_date=issue, due_date=due, confirmation="pending", created_at=created, updated_at=created,
        )
        db.session.add(receivable)
        db.session.flush()
        audit.record("receivable.created", receivable, enterprise_id=enterprise.id, actor=admin,
                     debtor_uscc=debtor_uscc, invoice_no=invoice, face_amount=receivable.face_amount)
        if confirmation != "pending":
            answered = min(asked + timedelta(hours=draw.answer_after_hours), self.now - timedelta(hours=1))
            self._debtor_answers(receivable, admin, debtor_user, confirmation == "confirmed", asked, answered,
                                 name=draw.confirmer, ip=draw.ip, reason=draw.dispute_reason)
        elif debtor_user is None and asked > created and draw.link_sent:  # a link sent, open or lapsed
            self._link_issued(receivable, admin, asked)
        if "tag" in plan:
            self.tags[plan["tag"]] = receivable
        self.free_after[receivable.id] = receivable.confirmed_at or created

    def _link_issued(self, receivable: Receivable, admin: User, at: datetime):
        """The enterprise made a confirmation link for the debtor at `at` (the service's link, its
        validity counted from then)."""
        receivable_services.issue_confirmation_link(receivable, admin)
        link = max(receivable.links, key=lambda link: link.id)
        link.expires_at = at + (link.expires_at - link.created_at)
        link.created_at = at
        return link

    def _debtor_answers(self, receivable: Receivable, admin: User, debtor_user: User | None, confirm: bool,
                        asked: datetime, answered: datetime, name: str, ip: str, reason: str) -> None:
        """The debtor's own answer through the confirmation service: from its enterprise account
        when it is on the platform, else by the signed link the enterprise sent it at `asked`."""
        last_notice = db.session.scalar(select(func.max(Notification.id))) or 0
        with self._request_context():  # the creditor is told, with a link to the receivable
            if debtor_user is not None:
                receivable_services.answer(receivable, receivable_services.Answer(
                    confirm=confirm, name=debtor_user.name, via="account", ip=ip, reason=reason, user=debtor_user))
            else:
                link = self._link_issued(receivable, admin, asked)
                receivable_services.answer_by_link(link, receivable_services.Answer(
                    confirm=confirm, name=name, via="link", ip=ip, reason=reason))
                link.used_at = answered
        receivable.confirmed_at = receivable.updated_at = answered
        self._stamp_notices(last_notice, answered)

    # -- financing requests

    def _live_request(self, spec: dict) -> None:
        """Submit a request today and verify it for real (the policy against the statements)."""
        from marketplace.verification.services import verify_and_route

        slug = spec["enterprise"]
        enterprise, admin = self.enterprises[slug], self.admins[slug]
        rng = _stream("live", spec["key"])
        receivables = [self._live_receivable(enterprise, admin, item, rng) for item in spec["receivables"]]
        request = financing_services.create_request(
            enterprise, admin, amount=Decimal(spec["amount"]), term_days=spec["term"], purpose=spec["purpose"],
            receivable_ids=[r.id for r in receivables])
        with self._request_context():
            financing_services.submit_request(request, admin)  # its queued task will find the report
            financing_services.apply_transition(request, "start_verification", submission_no=1)
            report = verify_and_route(request, 1)
        if report.classification != spec["expect"]:
            raise ValueError(f"demo data: {spec['key']} verified as {report.classification}, "
                             f"not {spec['expect']}: {report.payload['reasons_zh']}")

    def _live_receivable(self, enterprise: Enterprise, admin: User, item: tuple, rng: random.Random) -> Receivable:
        """Recorded a day after its invoice; its debtor asked by link and answering 1-5 days ago."""
        debtor, confirmation, issued_days_ago, term_days, amount = item
        debtor_name, debtor_uscc, debtor_user = self._debtor(debtor)
        issue = _workday(self.today - timedelta(days=issued_days_ago))
        created = min(_office_time(rng, issue + timedelta(days=1)), self.now - timedelta(days=6))
        receivable = Receivable(
            enterprise_id=enterprise.id, debtor_name=debtor_name, debtor_uscc=debtor_uscc,
            invoice_no=f"{issue:%y}32{rng.randint(10**15, 10**16 - 1)}", contract_no=None,
            face_amount=Decimal(amount), issue_date=issue, due_date=issue + timedelta(days=term_days),
            confirmation="pending", created_at=created, updated_at=created,
        )
        db.session.add(receivable)
        db.session.flush()
        audit.record("receivable.created", receivable, enterprise_id=enterprise.id, actor=admin,
                     debtor_uscc=debtor_uscc, invoice_no=receivable.invoice_no, face_amount=receivable.face_amount)
        if confirmation != "pending":
            answered = self.now - timedelta(days=rng.randint(1, 5), hours=rng.uniform(0, 6))
            self._debtor_answers(receivable, admin, debtor_user, confirmation == "confirmed",
                                 answered - timedelta(hours=rng.uniform(2, 20)), answered, name="财务部",
                                 ip=f"203.0.113.{rng.randint(2, 254)}", reason="货物验收不合格，已办理部分退货，金额有争议")
        return receivable

    def _request(self, spec: dict) -> None:
        """Create the request, plan when each of its steps happened, take the steps through the
        services, then move the business timestamps they wrote to the planned moments."""
        rng, slug = _stream("request", spec["key"]), spec["enterprise"]
        enterprise, admin = self.enterprises[slug], self.admins[slug]
        creator = self.applicants[slug] if spec["creator"] == "applicant" else admin
        receivables = [self.tags[tag] for tag, _state, _age, _debtor in spec["pledges"]]
        pledged = sum((r.face_amount for r in receivables), Decimal("0"))
        share = Decimal(str(rng.choice((0.6, 0.7, 0.75, 0.8, 0.85, 0.9))))
        amount = max((pledged * share / 10000).quantize(Decimal("1"), rounding=ROUND_DOWN) * 10000,
                     Decimal("10000"))
        request = financing_services.create_request(
            enterprise, creator, amount=min(amount, pledged), term_days=spec["term"], purpose=spec["purpose"],
            receivable_ids=[r.id for r in receivables],
        )
        loan = self._loan_plan(spec)
        moments = self._plan(spec, receivables, loan, _stream("timeline", spec["key"]))
        run = _Run(spec, request, creator, admin, rng, moments, loan)
        with self._request_context():
            for step, previous, at in zip(spec["steps"], moments[:-1], moments[1:], strict=True):
                run.previous, run.at = previous, at
                self._step(run, step, at)
        self._stamp_timeline(run)

    def _request_context(self):
        """A request context for the services: their notifications link to pages (url_for)."""
        base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000/"
        return current_app.test_request_context("/", base_url=base_url)

    def _actor(self, key: str, creator: User, admin: User) -> User | None:
        if key == "sys":
            return None
        if key == "ent":
            return creator
        if key == "ent:admin":
            return admin
        return self.staff[key]

    # -- when it happened

    def _loan_plan(self, spec: dict) -> _LoanPlan | None:
        """The disbursement day and the days the instalments repaid on time were paid: their due
        days under the monthly schedule the bank records, or the Friday before a weekend one."""
        if "loan" not in spec:
            return None
        plan = spec["loan"]
        disbursed_on = _workday(self.today - timedelta(days=plan["disbursed_days_ago"]))
        due = due_dates(disbursed_on, spec["term"])
        repaid = len(due) if plan.get("repaid") == "all" else plan.get("repaid", 0)
        repaid_on = [_workday(day) for day in due[:repaid]]
        if repaid_on and repaid_on[-1] >= self.today:
            raise ValueError(f"demo data: {spec['key']} would be repaid today or later")
        return _LoanPlan(disbursed_on, repaid_on)

    def _plan(self, spec: dict, receivables: list[Receivable], loan: _LoanPlan | None,
              rng: random.Random) -> list[datetime]:
        """When the request was created and each step happened: after the pledged receivables
        were registered and answered, each step taking a plausible time (STEP_HOURS), people
        acting in Shanghai office hours, all before now, and after the enterprise's first statement
        upload (it is verified against it). A loan pins the disbursement and the
        last repayment to their days. (The audit log keeps the seed's real times; only the rows'
        business timestamps follow the plan, and the staff's reads, written for the enterprises'
        access logs at the moments they happened.)"""
        steps = spec["steps"]
        gaps = [timedelta(hours=rng.uniform(*STEP_HOURS.get(name, (1, 24)))) for name, _actor, _arg in steps]
        human = [True, *(actor != "sys" for _name, actor, _arg in steps)]
        latest = self.now - timedelta(days=spec.get("stalled_days", 0), hours=1)  # stalled: nothing since
        ready = [self.free_after[r.id] for r in receivables] + self.uploads.get(spec["enterprise"], [])[:1]
        floor = max(ready) + timedelta(hours=rng.uniform(1, 20))
        floor = min(floor, latest - timedelta(hours=2))
        if loan is None:
            return _recent_timeline(gaps, human, floor, latest, rng)
        names = [name for name, _actor, _arg in steps]
        pins = {names.index("disburse") + 1: _office_time(rng, loan.disbursed_on)}
        if loan.repaid_on:
            pins[names.index("repay") + 1] = _office_time(rng, loan.repaid_on[-1])
        moments = _pinned_timeline(gaps, human, pins, floor, latest, rng)
        if moments is None:
            raise ValueError(f"demo data: the steps of {spec['key']} do not fit between its receivables and now")
        return moments

    # -- the steps, through the services

    def _step(self, run: _Run, step: tuple, at: datetime) -> None:
        name, actor_key, argument = step
        actor = self._actor(actor_key, run.creator, run.admin)
        started = utcnow()
        last_notice = db.session.scalar(select(func.max(Notification.id))) or 0
        action = STEP_ACTIONS.get(name, "_transition")
        if action is not None:  # None: the previous step's service applied it (checked in _stamp_timeline)
            getattr(self, action)(run, name, actor, argument)
        self._stamp_rows(run.request, started, at)
        self._stamp_notices(last_notice, at)

    def _transition(self, run: _Run, name: str, actor: User | None, note: str | None) -> None:
        """A step with no service of its own: a withdrawal."""
        financing_services.apply_transition(run.request, name, actor, note)

    def _submit(self, run: _Run, _name: str, actor: User, _note: None) -> None:
        """Submitted with the products the enterprise picked (else the top matches), as
        submit_request does (only institutions holding its consent), at the step's moment; the
        verification is the next steps', not a queued task's."""
        matches = ranked_matches(run.request)
        picked = [self._best_product(run, matches, slug) for slug in run.spec.get("targets", [])]
        chosen = targets.choose_targets(run.request, picked or None, matches)
        financing_services.apply_transition(run.request, "submit", actor, targets=[t.institution_id for t in chosen])
        run.request.submitted_at = run.at  # the verification's as-of day

    def _start_verification(self, run: _Run, name: str, _actor: None, _note: None) -> None:
        financing_services.apply_transition(run.request, name,
                                            submission_no=verification.submission_number(run.request))

    def _verify(self, run: _Run, _name: str, _actor: None, _note: None) -> None:
        """The real verification, as run_verification does it: the policy against the statements
        and receivables as of the day the request was submitted; the immutable report is written
        at the step's moment. The seed stops when the class is not the one the story routes."""
        request = run.request
        expected = next(ROUTE_CLASSES[name] for name, _actor, _arg in run.spec["steps"] if name in ROUTE_CLASSES)
        report, _inputs, _policy, digest = verification.evaluate(request)
        if report.classification != expected:
            raise ValueError(f"demo data: {run.spec['key']} verified as {report.classification}, not {expected}: "
                             + " ".join(report.reasons_zh))
        with _inserted_at(VerificationReport, run.at):
            run.report = verification.store_report(request, verification.submission_number(request), report, digest)

    def _route(self, run: _Run, name: str, _actor: None, _note: None) -> None:
        """Routed by the report's class, as after every verification: to every bank the
        enterprise picked, or to the first guarantor while the others wait, or back to it."""
        routing.route_verified(run.request, run.report)
        done = db.session.scalar(select(WorkflowEvent).where(WorkflowEvent.request_id == run.request.id)
                                 .order_by(WorkflowEvent.id.desc()).limit(1))
        if done.transition != name:
            raise ValueError(f"demo data: {run.spec['key']} was routed by {done.transition}, not {name}: {done.note}")

    def _best_product(self, run: _Run, matches: list, slug: str) -> int:
        institution_id = self.orgs[slug].id
        for match in matches:
            if match.institution_id == institution_id and match.eligible:
                return match.product_id
        raise ValueError(f"demo data: no product of {slug} fits {run.spec['key']}")

    def _target(self, run: _Run, user: User) -> RequestTarget:
        target = db.session.scalar(select(RequestTarget).where(RequestTarget.request_id == run.request.id,
                                                               RequestTarget.institution_id == user.organisation_id))
        if target is None:
            raise ValueError(f"demo data: {run.spec['key']} never reached {user.organisation.name}")
        return target

    def _claim(self, run: _Run, _name: str, actor: User, _note: None) -> None:
        """The officer opens the request and its verification report, then claims it (the first
        claim starts the review)."""
        self._reads(run, actor, REQUEST_PAGE, REPORT_PAGE)
        claims.claim(self._target(run, actor), actor)

    def _ask(self, run: _Run, _name: str, actor: User, question: str) -> None:
        self._reads(run, actor, REQUEST_PAGE)
        info.ask(self._target(run, actor), actor, question)

    def _offer(self, run: _Run, _name: str, actor: User, terms: dict) -> None:
        """The officer's offer on the term asked for; above the four-eyes amount an approver of
        the same bank approves it."""
        request = run.request
        self._reads(run, actor, REQUEST_PAGE, REPORT_PAGE)
        amount = (request.amount * Decimal(terms.get("share", "1")) / 10000).quantize(Decimal("1"), ROUND_DOWN) * 10000
        offer = decisions.make_offer(self._target(run, actor), actor, decisions.OfferTerms(
            amount, Decimal(terms["rate"]), request.term_days, self.today + timedelta(days=OFFER_VALID_DAYS),
            terms.get("conditions", "")))
        if offer.status == "pending_approval":
            approver = self.staff[f"{self.slugs[actor.organisation_id]}:approver"]
            self._reads(run, approver, REQUEST_PAGE, REPORT_PAGE)
            decisions.approve_offer(offer, approver)

    def _accept_offer(self, run: _Run, _name: str, actor: User, _note: None) -> None:
        [offer] = db.session.scalars(select(Offer).where(Offer.request_id == run.request.id, Offer.status == "made"))
        decisions.accept_offer(offer, actor)

    def _decline(self, run: _Run, _name: str, actor: User, decision: dict) -> None:
        self._reads(run, actor, REQUEST_PAGE)
        decisions.decline(self._target(run, actor), actor, decision["reason"], decision["note"])

    def _offer_guarantee(self, run: _Run, _name: str, actor: User, terms: dict) -> None:
        self._reads(run, actor, REQUEST_PAGE, REPORT_PAGE)
        guarantees.offer_guarantee(self._target(run, actor), actor, Decimal(terms["coverage"]),
                                   Decimal(terms["fee_rate"]))

    def _accept_guarantee(self, run: _Run, _name: str, actor: User, _note: None) -> None:
        guarantees.accept_guarantee(guarantees.live_guarantee(run.request.id), actor)

    def _confirm_fee(self, run: _Run, _name: str, actor: User, _note: None) -> None:
        """The guarantor's staff confirm the enterprise's bank transfer arrived: the fee is paid,
        the guarantee issued with its letter, the request routed to the bank(s)."""
        fee = db.session.scalar(select(Payment).where(Payment.request_id == run.request.id,
                                                      Payment.status == "pending"))
        payments.confirm_offline_transfer(fee, actor, f"{run.rng.randrange(10**19, 10**20)}")  # the bank's serial no.

    def _disburse(self, run: _Run, _name: str, actor: User, _note: None) -> None:
        offer = loan_services.accepted_offer(run.request.id, actor.organisation_id)
        loan_services.record_disbursement(offer, actor, offer.amount, run.loan.disbursed_on,
                                          _reference("FK", run.loan.disbursed_on, run.rng))

    def _schedule(self, run: _Run, _name: str, actor: User, _note: None) -> None:
        """The monthly equal-principal schedule the schedule form proposes, recorded as it is."""
        loan = loan_services.loan_of(run.request.id)
        lines = loan_services.proposed_schedule(loan)
        loan_services.record_schedule(loan, actor, [(line.due_on, line.principal, line.interest) for line in lines])

    def _repay(self, run: _Run, _name: str, actor: User, _note: None) -> None:
        """Each instalment repaid on time is paid in full on its day and recorded by the bank that
        day (the last one at the step's moment, by _stamp_rows). Paying the last fen closes the
        request."""
        loan = loan_services.loan_of(run.request.id)
        repaid = list(zip(list(loan.instalments), run.loan.repaid_on, strict=False))
        for number, (instalment, paid_on) in enumerate(repaid, start=1):
            repayment = loan_services.record_repayment(loan, actor, paid_on, instalment.principal + instalment.interest,
                                                       _reference("HK", paid_on, run.rng))
            if number < len(repaid):
                repayment.created_at = _office_time(run.rng, paid_on)

    # -- what the institutions' staff read

    def _reads(self, run: _Run, user: User, *pages: str) -> None:
        """`user` opened these pages of the request, in order, in the minutes before the step
        (the report page only once there is a report)."""
        pages = tuple(page for page in pages if page != REPORT_PAGE or run.report is not None)
        room = min((run.at - run.previous) / 2, timedelta(minutes=45))
        offsets = sorted((room * run.rng.uniform(0.05, 1.0) for _ in pages), reverse=True)
        for page, offset in zip(pages, offsets, strict=True):
            self.reads.append(_Read(run.at - offset, run.request, user, page,
                                    run.report.id if run.report is not None else None))

    def _record_reads(self) -> None:
        """The reads, oldest first, through the log the desk pages write (the enterprise's access
        log): the request page with the sections the consent opened that day, the report."""
        for read in sorted(self.reads, key=lambda read: read.at):
            request, day = read.request, local(read.at).date()
            scopes = _consented_scopes(request.enterprise_id, read.user.organisation_id, day)
            if STATEMENTS_SCOPE not in scopes:
                raise ValueError(f"demo data: {read.user.organisation.name} reviewed request {request.id} on {day} "
                                 "without the enterprise's consent")
            details = {"sections": sorted(scopes)} if read.page == REQUEST_PAGE else {"report_id": read.report_id}
            audit.record_credit_read(request.enterprise_id, read.page, purpose=READ_PURPOSE, actor=read.user,
                                     occurred_at=read.at, request_id=request.id, **details)

    # -- moving what the services wrote to when it happened

    def _stamp_rows(self, request: FinancingRequest, started: datetime, at: datetime) -> None:
        """Every business timestamp the step's services wrote (the seed's clock: at or after
        `started`) takes the step's planned moment."""
        rows = [row for model in STAMPED_MODELS
                for row in db.session.scalars(select(model).where(model.request_id == request.id))]
        for loan in [row for row in rows if isinstance(row, Loan)]:
            rows += [*loan.instalments, *loan.repayments]
        for row in rows:
            for attribute in inspect(type(row)).column_attrs:
                if isinstance(attribute.columns[0].type, UTCDateTime):
                    value = getattr(row, attribute.key)
                    if value is not None and value >= started:
                        setattr(row, attribute.key, at)

    def _stamp_notices(self, last_id: int, at: datetime) -> None:
        """Notifications sent at `at`: e-mailed then (so none is mailed now), read if older than
        two days."""
        for notice in db.session.scalars(select(Notification).where(Notification.id > last_id)):
            notice.created_at = notice.emailed_at = at
            if at < self.now - timedelta(days=2):
                notice.read_at = at + timedelta(hours=1)

    def _stamp_timeline(self, run: _Run) -> None:
        """The timeline's events at their planned moments (checking the services applied exactly
        the transitions the steps name), and what follows from them: the request's own times,
        the pledges', the offers' validity, the guarantee letter's year, the claims' idle
        deadlines, the SLA clock."""
        request, moments = run.request, run.moments
        planned = [(name, at) for (name, _actor, _arg), at in zip(run.spec["steps"], moments[1:], strict=True)
                   if name in TRANSITION_NAMES]
        events = list(request.events)
        if [e.transition for e in events[1:]] != [name for name, _at in planned]:
            raise ValueError(f"demo data: {run.spec['key']} went through {[e.transition for e in events[1:]]}, "
                             f"not {[name for name, _at in planned]}")
        for event, at in zip(events, [moments[0], *(at for _name, at in planned)], strict=True):
            event.occurred_at = at
        request.created_at = moments[0]
        request.state_changed_at = events[-1].occurred_at
        submits = [e.occurred_at for e in events if e.transition == "submit"]
        if submits:
            request.submitted_at = submits[-1]
        for pledge in request.pledges:
            pledge.created_at = request.created_at
            if not pledge.active:
                pledge.released_at = request.state_changed_at
                self.free_after[pledge.receivable_id] = pledge.released_at
        for offer in db.session.scalars(select(Offer).where(Offer.request_id == request.id)):
            offer.expires_on = local(offer.created_at).date() + timedelta(days=OFFER_VALID_DAYS)
        for guarantee in db.session.scalars(select(Guarantee).where(Guarantee.request_id == request.id,
                                                                    Guarantee.issued_at.is_not(None))):
            guarantee.letter_no = letter_number(guarantee.id, local(guarantee.issued_at).year)
        for assignment in db.session.scalars(select(Assignment).where(Assignment.request_id == request.id)):
            assignment.expires_at = claims.idle_deadline(assignment.touched_at)
        request.sla_due_at = sla_services.compute_due_at(request)

    # -- what the beat tasks did meanwhile

    def _overdue_sweep(self) -> None:
        """The daily sweep flagged each instalment not repaid by its due day the night after."""
        last_notice = db.session.scalar(select(func.max(Notification.id))) or 0
        with self._request_context():
            flagged = loan_services.flag_overdue(self.today)
        for instalment in flagged:
            night = datetime.combine(instalment.due_on + timedelta(days=1), time(0, 5), tzinfo=SHANGHAI)
            instalment.overdue_flagged_at = night.astimezone(UTC)
        if flagged:
            self._stamp_notices(last_notice, min(i.overdue_flagged_at for i in flagged))

    def _sla_sweep(self) -> None:
        """The SLA sweep runs now: requests whose clock ran out on their timeline are marked stuck
        (for the bureau's list) and their people told."""
        last_notice = db.session.scalar(select(func.max(Notification.id))) or 0
        with self._request_context():
            sla_services.sweep_breaches(self.now)
        self._stamp_notices(last_notice, self.now)

    def _expire_idle_claims(self) -> None:
        """Claims left idle past their deadline went back to the queue when it passed."""
        claims.expire_idle(self.now)
        for assignment in db.session.scalars(select(Assignment).where(Assignment.end_reason == "expired")):
            assignment.ended_at = assignment.expires_at


    # -- the bureau's dispatch meetings (调度会)

    def _restamp_stays(self) -> None:
        """The stays were recorded as the services ran, at the seed's real moments; rebuilt from
        the timelines stamped since, they show the planned turnaround on the bureau's dashboard."""
        db.session.execute(delete(RequestStay))
        kept.rebuild()

    def _dispatch_meetings(self) -> None:
        """One meeting held about two weeks ago, closed, with minutes and two action items for a bank
        (one closed with a note, one overdue), and one in a few working days with an auto-built agenda."""
        bureau, coordinator = self.orgs[demo_data.BUREAU["slug"]], self.staff[f"{demo_data.BUREAU['slug']}:coordinator"]
        bank_slug = demo_data.BANKS[0]["slug"]
        bank, officer = self.orgs[bank_slug], self.staff[f"{bank_slug}:officer"]
        guarantor = self.orgs[demo_data.GUARANTORS[1]["slug"]]
        requests = list(db.session.scalars(
            select(FinancingRequest).join(Enterprise, Enterprise.id == FinancingRequest.enterprise_id)
            .where(in_region(Enterprise.region_code, bureau), FinancingRequest.state != "draft")
            .order_by(FinancingRequest.id).limit(2)))
        held_on = _workday(self.today - timedelta(days=14))
        held = datetime.combine(held_on, time(14, 30), tzinfo=SHANGHAI).astimezone(UTC)
        closed = held + timedelta(hours=3)
        meeting = Meeting(bureau_id=bureau.id, title=f"{bureau.name}应收账款融资调度会（第一次）", starts_at=held,
                          place="苏州市政务服务中心五楼会议室", host_user_id=coordinator.id, state="closed",
                          summary="会议通报了辖区应收账款融资进展，逐笔梳理了滞留申请，明确了责任机构和完成时限。",
                          created_by_id=coordinator.id, created_at=held - timedelta(days=5), closed_at=closed,
                          closed_by_id=coordinator.id, reminded_at=held - timedelta(days=1))
        meeting.attendees = [MeetingAttendee(institution_id=org.id) for org in (bank, guarantor)]
        decisions_made = ["请银行在一周内完成审查并反馈意见。", "请银行与企业核对补充材料清单，限期办结。"]
        for n, request in enumerate(requests, start=1):
            meeting.agenda.append(AgendaItem(
                position=n, request_id=request.id, stuck_kind="sla_breach",
                title=f"#{request.id} {request.enterprise.name}：融资申请办理进度",
                minutes="银行说明了审查进度及尚缺材料，企业表示可在三个工作日内补齐。", decision=decisions_made[n - 1]))
        db.session.add(meeting)
        db.session.flush()
        items = meeting.agenda
        done = ActionItem(meeting_id=meeting.id, agenda_item_id=items[0].id if items else None,
                          request_id=items[0].request_id if items else None, owner_org_id=bank.id,
                          description="完成该笔申请的授信审查并向企业反馈结果", due_on=held_on + timedelta(days=7),
                          state="done", created_by_id=coordinator.id, created_at=closed,
                          closed_at=closed + timedelta(days=4), closed_by_id=officer.id,
                          close_note="已完成审查并向企业出具授信意向，企业已确认。")
        overdue = ActionItem(meeting_id=meeting.id, agenda_item_id=items[-1].id if items else None,
                             request_id=items[-1].request_id if items else None, owner_org_id=bank.id,
                             description="与企业核对补充材料清单并书面反馈", due_on=self.today - timedelta(days=3),
                             state="open", created_by_id=coordinator.id, created_at=closed)
        db.session.add_all([done, overdue])
        db.session.flush()
        audit.record("meeting.closed", meeting, actor=coordinator, occurred_at=closed, action_items=2, source="demo seed")
        audit.record("action_item.closed", done, actor=officer, occurred_at=done.closed_at, meeting_id=meeting.id)
        starts_on = _workday(self.today + timedelta(days=4))
        starts = datetime.combine(starts_on, time(9, 30), tzinfo=SHANGHAI).astimezone(UTC)
        with self._request_context():
            meeting_services.schedule_meeting(
                bureau, coordinator, title=f"{bureau.name}应收账款融资调度会（第二次）", starts_at=starts,
                place="苏州市政务服务中心五楼会议室", host=coordinator, attendee_ids=[bank.id, guarantor.id], now=self.now)


@dataclass(frozen=True)
class _LoanPlan:
    disbursed_on: date
    repaid_on: list[date]  # the day each instalment repaid on time was paid, in due order


@dataclass
class _Run:
    """One scripted request on its way through the services."""

    spec: dict
    request: FinancingRequest
    creator: User
    admin: User
    rng: random.Random  # the request's own stream: amounts, references
    moments: list[datetime]  # when it was created, then when each step happened
    loan: _LoanPlan | None
    previous: datetime | None = None  # when the step before the current one happened
    at: datetime | None = None  # when the current step happens
    report: VerificationReport | None = field(default=None)  # the latest verification's


@dataclass(frozen=True)
class _Read:
    """A staff member's read of a request's page, for the enterprise's access log."""

    at: datetime
    request: FinancingRequest
    user: User
    page: str  # REQUEST_PAGE or REPORT_PAGE
    report_id: int | None


def _consented_scopes(enterprise_id: int, org_id: int, day: date) -> set[str]:
    """The scopes of the enterprise's data the institution may read on `day`."""
    consents = db.session.scalars(select(Consent).where(Consent.enterprise_id == enterprise_id,
                                                        Consent.grantee_org_id == org_id))
    return {scope for consent in consents for scope in consent.scopes if consent.covers(scope, day)}


@contextmanager
def _inserted_at(model, moment: datetime):
    """Rows of `model` inserted in the block are created at `moment`: an immutable row (a
    verification report) cannot be moved to its planned time after the insert."""
    def stamp(_mapper, _connection, row) -> None:
        row.created_at = moment

    orm_events.listen(model, "before_insert", stamp)
    try:
        yield
    finally:
        orm_events.remove(model, "before_insert", stamp)


def _product_terms(spec: dict) -> supermarket_services.Terms:
    """A demo_data.PRODUCTS entry as the services' Terms."""
    return supermarket_services.Terms(
        name=spec["name"], product_type=spec["type"], description=spec.get("description", ""),
        amount_min=Decimal(spec["amount"][0]), amount_max=Decimal(spec["amount"][1]),
        term_min_days=spec["term"][0], term_max_days=spec["term"][1],
        rate_min=Decimal(spec["rate"][0]), rate_max=Decimal(spec["rate"][1]),
        min_grade=spec.get("min_grade"), accepts_ungraded=spec.get("ungraded", True),
        industries=list(spec.get("industries", [])), regions=list(spec.get("regions", [])),
        requires_guarantee=spec.get("guarantee", False), requires_debtor_confirmation=spec.get("confirmation", False),
    )


def _reference(prefix: str, day: date, rng: random.Random) -> str:
    """A bank's voucher number: FK (放款) or HK (还款), the day, a sequence."""
    return f"{prefix}{day:%Y%m%d}{rng.randint(100000, 999999)}"


def _recent_timeline(gaps: list[timedelta], human: list[bool], floor: datetime, latest: datetime,
                     rng: random.Random) -> list[datetime]:
    """Ending in the last four days, starting no earlier than `floor`; the steps shrink until
    they fit, and as a last resort leave office hours."""
    start = max(floor, latest - timedelta(hours=rng.uniform(1, 96)) - sum(gaps, timedelta(0)))
    for attempt in range(10):
        snap = attempt < 9  # the last attempt gives up office hours rather than run past now
        moments = _forward(start, gaps, human, rng, snap)
        if moments[-1] <= latest:
            break
        gaps = [gap * 0.7 for gap in gaps]
        start = max(floor, min(start, latest - sum(gaps, timedelta(0))))
    return moments


def _pinned_timeline(gaps: list[timedelta], human: list[bool], pins: dict[int, datetime], floor: datetime,
                     latest: datetime, rng: random.Random) -> list[datetime] | None:
    """Forwards from a start early enough that the first pinned step waits for its moment (the
    start moved earlier, or the steps before it shrunk, until the creation comes after `floor`),
    then on through the later pins. None when they cannot fit."""
    first = min(pins)
    start = pins[first] - sum(gaps[:first], timedelta(0))
    for attempt in range(20):
        snap = attempt < 19  # the last attempt gives up office hours rather than miss the pin
        moments = _forward(start, gaps[:first - 1], human, rng, snap)
        late = moments[-1] + gaps[first - 1] - pins[first]
        if start >= floor and late <= timedelta(0):
            break
        if start - late >= floor:
            start -= late
        else:
            gaps = [gap * 0.7 for gap in gaps[:first]] + gaps[first:]
            start = max(floor, pins[first] - sum(gaps[:first], timedelta(0)))
    else:
        return None
    for i in range(first, len(gaps) + 1):
        moment = pins.get(i) or moments[-1] + gaps[i - 1]
        if i not in pins and human[i]:
            moment = _office_hours(moment, rng)
        if not moments[-1] < moment <= latest:
            return None
        moments.append(moment)
    return moments


def _forward(start: datetime, gaps: list[timedelta], human: list[bool], rng: random.Random,
             snap: bool) -> list[datetime]:
    """The creation at `start` and the steps after it, each `gap` after the one before; people's
    steps moved into office hours when `snap`."""
    moments = [_office_hours(start, rng) if snap else start]
    for gap, person in zip(gaps, human[1:], strict=False):
        moment = moments[-1] + gap
        moments.append(_office_hours(moment, rng) if snap and person else moment)
    return moments


def _office_hours(moment: datetime, rng: random.Random) -> datetime:
    """`moment`, or the next weekday morning when it falls outside 08:30-18:30 in Shanghai."""
    local = moment.astimezone(SHANGHAI)
    if local.weekday() < 5 and time(8, 30) <= local.time() <= time(18, 30):
        return moment
    day = local.date() if local.time() < time(8, 30) else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    opening = datetime.combine(day, time(8, 30), tzinfo=SHANGHAI)
    return (opening + timedelta(seconds=rng.randint(0, 2 * 3600))).astimezone(UTC)


# ---- the summary --------------------------------------------------------------------------------

def _base_url() -> str:
    host = os.environ.get("HOST") or os.environ.get("FLASK_RUN_HOST") or "127.0.0.1"
    port = os.environ.get("PORT") or os.environ.get("FLASK_RUN_PORT") or "5000"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port}/"


def _print_summary(cast: dict, echo) -> None:
    rule = "=" * 100
    receivable_states = Counter(db.session.scalars(select(Receivable.confirmation)))
    request_states = Counter(db.session.scalars(select(FinancingRequest.state)))
    kinds = Counter(db.session.scalars(select(Organisation.kind)))
    debtor = cast["enterprises"][demo_data.DEBTOR_LOGIN]
    awaiting = db.session.scalar(select(func.count(Receivable.id)).where(
        Receivable.debtor_uscc == debtor.uscc, Receivable.confirmation == "pending"))

    echo(rule)
    echo("演示数据已就绪  Demo data ready")
    echo(f"  银行 banks {kinds[OrgKind.BANK]} · 担保公司 guarantors {kinds[OrgKind.GUARANTOR]} · "
         f"金融管理局 bureau {kinds[OrgKind.BUREAU]} · 平台 platform {kinds[OrgKind.PLATFORM]} · "
         f"数据提供单位 providers {kinds[OrgKind.PROVIDER]} · 企业 enterprises {kinds[OrgKind.ENTERPRISE]} · 用户 users {db.session.scalar(select(func.count(User.id)))}")
    echo(f"  应收账款 receivables {sum(receivable_states.values())}: 待确认 pending {receivable_states['pending']}, "
         f"已确认 confirmed {receivable_states['confirmed']}, 有异议 disputed {receivable_states['disputed']}")
    echo(f"  融资申请 financing requests {sum(request_states.values())}: "
         + ", ".join(f"{state} {n}" for state, n in sorted(request_states.items())))
    product_states = Counter(db.session.scalars(select(Product.state)))
    echo(f"  金融超市产品 supermarket products {sum(product_states.values())}: "
         + ", ".join(f"{state} {n}" for state, n in sorted(product_states.items()))
         + f"   ({_base_url()}market)")
    statements = db.session.scalars(select(StatementFile)).all()
    layouts = Counter(s.original_name.split("_")[0] + Path(s.original_name).suffix for s in statements)
    echo(f"  银行流水 bank statements {len(statements)} for {len({s.enterprise_id for s in statements})} "
         f"enterprises, {sum(s.row_count for s in statements)} rows; layouts: "
         + ", ".join(f"{layout} ×{n}" if n > 1 else layout for layout, n in sorted(layouts.items())))
    classes = Counter(db.session.scalars(select(VerificationReport.classification)))
    reads = db.session.scalar(select(func.count(audit.AuditEvent.id)).where(audit.AuditEvent.action == "credit_data.read"))
    echo(f"  核验报告 verification reports {sum(classes.values())}: 优质 excellent {classes['excellent']}, "
         f"一般 mixed {classes['mixed']}, 较差 poor {classes['poor']}; 机构查阅记录 institutions' reads "
         f"in the enterprises' access logs {reads}")
    offers = Counter(db.session.scalars(select(Offer.status)))
    guarantee_states = Counter(db.session.scalars(select(Guarantee.status)))
    fees = Counter(db.session.scalars(select(Payment.status)))
    loans = db.session.scalars(select(Loan)).all()
    echo(f"  报价 offers {sum(offers.values())}, 担保 guarantees {sum(guarantee_states.values())} "
         f"(已出具 issued {guarantee_states['issued']}), 担保费 fees {sum(fees.values())} "
         f"(待确认 pending {fees['pending']}), 借款 loans {len(loans)} "
         f"(还款计划 {sum(len(loan.instalments) for loan in loans)} 期 instalments, "
         f"逾期 {db.session.scalar(select(func.count(Instalment.id)).where(Instalment.overdue_flagged_at.is_not(None)))}"
         " overdue)")
    echo("")
    echo(f"打开 Open: {_base_url()}   (启动 start: make serve, or .venv/bin/flask --app wsgi run)")
    echo(f"所有账号的密码均为 Every login's password: {demo_data.PASSWORD}")
    echo("机构工作人员登录时还需动态验证码（已预先绑定），用下面的命令获取当前验证码：")
    echo(f"Staff logins also need a TOTP code (already enrolled); get the current one with: {TOTP_COMMAND}")
    echo("")
    featured = [row for row in cast["logins"] if row[0] not in (Role.ENTERPRISE_ADMIN, Role.ENTERPRISE_APPLICANT)]
    shown_enterprises = {e.name for e in list(cast["enterprises"].values())[:4]}
    featured += [row for row in cast["logins"]
                 if row[0] in (Role.ENTERPRISE_ADMIN, Role.ENTERPRISE_APPLICANT) and row[1] in shown_enterprises]
    header = ("角色 Role", "机构 Organisation", "邮箱 Email", "动态验证码 TOTP")
    rows = []
    for role, org, email in featured:
        zh, en = ROLE_LABELS[role]
        totp = f"{TOTP_COMMAND.replace('EMAIL', email)}" if role.kind != OrgKind.ENTERPRISE else "不需要 not needed"
        rows.append((f"{zh} {en}", org, email, totp))
    widths = [max(_width(r[i]) for r in [header, *rows]) + 2 for i in range(3)]
    echo("".join(_pad(cell, w) for cell, w in zip(header[:3], widths, strict=True)) + header[3])
    echo("-" * 100)
    for row in rows:
        echo("".join(_pad(cell, w) for cell, w in zip(row[:3], widths, strict=True)) + row[3])
    echo("")
    others = [(org, email) for role, org, email in cast["logins"]
              if role.kind == OrgKind.ENTERPRISE and org not in shown_enterprises]
    echo("其他企业管理员（同一密码） Other enterprise admins (same password):")
    cells = [f"{email} {org}" for org, email in others]
    column = max(map(_width, cells), default=0) + 3
    for i in range(0, len(cells), 3):
        echo("  " + "".join(_pad(cell, column) for cell in cells[i:i + 3]).rstrip())
    echo("")
    echo(f"债务人视角 Debtor view: {cast['admins'][demo_data.DEBTOR_LOGIN].email}（{debtor.name}）"
         f"有 {awaiting} 笔应收账款待其确认 has {awaiting} receivables awaiting its confirmation:")
    echo(f"  待我确认 {_base_url()}receivables/confirmations")
    echo("")
    _print_scenarios(echo)
    demo_credit.print_guide(echo, cast["enterprises"], _base_url())
    echo(rule)


def _print_scenarios(echo) -> None:
    """Where to look for the requests past an offer: who logs in, which page."""
    def admin_of(request: FinancingRequest) -> str:
        return db.session.scalar(select(User.email).where(User.organisation_id == request.enterprise.organisation_id,
                                                          User.role == Role.ENTERPRISE_ADMIN))

    def staff_of(org_id: int, role: Role) -> str:
        return db.session.scalar(select(User.email).where(User.organisation_id == org_id, User.role == role))

    lines = []
    with current_app.test_request_context("/", base_url=_base_url()):
        for request in db.session.scalars(select(FinancingRequest).where(FinancingRequest.state == "offer_made")):
            made = db.session.scalar(select(func.count(Offer.id)).where(Offer.request_id == request.id,
                                                                         Offer.status == "made"))
            if made > 1:
                lines.append(f"  {made} 家银行报价待选择 {made} offers side by side: {admin_of(request)} "
                             f"{url_for('desk_enterprise.offers', request_id=request.id, _external=True)}")
        for guarantee in db.session.scalars(select(Guarantee).where(Guarantee.status == "issued")):
            lines.append(f"  担保函 guarantee letter {guarantee.letter_no}: {admin_of(guarantee.request)} "
                         f"{url_for('guarantees.enterprise_guarantee', request_id=guarantee.request_id, _external=True)}")
        for fee in db.session.scalars(select(Payment).where(Payment.status == "pending", Payment.method == "offline")):
            lines.append(f"  担保费待确认到账 fee awaiting the transfer: {staff_of(fee.payee_org_id, Role.GUARANTOR_OFFICER)} "
                         f"{url_for('payments.received', _external=True)}   ({admin_of(fee.request)} "
                         f"{url_for('payments.detail', payment_id=fee.id, _external=True)})")
        for loan in db.session.scalars(select(Loan).where(Loan.instalments.any(Instalment.overdue_flagged_at.is_not(None)))):
            lines.append(f"  逾期还款 overdue instalment: {admin_of(loan.request)} "
                         f"{url_for('loans.enterprise_loan', request_id=loan.request_id, _external=True)}   "
                         f"({staff_of(loan.institution_id, Role.BANK_OFFICER)} "
                         f"{url_for('loans.institution_loan', request_id=loan.request_id, _external=True)})")
    if lines:
        echo("演示场景 Scenarios past an offer:")
        for line in lines:
            echo(line)
    _print_evidence(echo, admin_of)
    _print_bureau(echo)


def _print_bureau(echo) -> None:
    """The coordinator's pages: the dashboard, the stuck list, the meetings held and to come; the
    bank whose officer holds the meetings' action items."""
    coordinator = db.session.scalar(select(User).where(User.role == Role.BUREAU_COORDINATOR).order_by(User.id))
    if coordinator is None:
        return
    meetings = list(db.session.scalars(select(Meeting).where(Meeting.bureau_id == coordinator.organisation_id)
                                       .order_by(Meeting.starts_at)))
    owner_org = db.session.scalar(select(ActionItem.owner_org_id).join(Meeting, Meeting.id == ActionItem.meeting_id)
                                  .where(Meeting.bureau_id == coordinator.organisation_id,
                                         ActionItem.owner_org_id.is_not(None)).limit(1))
    officer = owner_org and db.session.scalar(select(User.email).where(User.organisation_id == owner_org,
                                                                      User.role == Role.BANK_OFFICER))
    with current_app.test_request_context("/", base_url=_base_url()):
        echo("金融局 The finance bureau:")
        echo(f"  数据看板 the regional dashboard: {coordinator.email} {url_for('bureau_dashboard.index', _external=True)}")
        echo(f"  滞留清单 the stuck list: {coordinator.email} {url_for('bureau_requests.stuck', _external=True)}")
        for meeting in meetings:
            label = "已召开的调度会（纪要、待办一项已办结一项逾期） a past meeting with minutes and action items" \
                if meeting.state == "closed" else "即将召开的调度会 an upcoming meeting"
            echo(f"  {label}: {coordinator.email} {url_for('meetings.detail', meeting_id=meeting.id, _external=True)}")
        if officer:
            echo(f"  银行办理调度会待办事项 the bank's action items on its desk: {officer} "
                 f"{url_for('actions.index', _external=True)}")


def _print_evidence(echo, admin_of) -> None:
    """Where to see what the verification and the reviews left: a report as the reviewing bank
    sees it, an enterprise's access log, the individual business's personal-card statement."""
    lines = []
    with current_app.test_request_context("/", base_url=_base_url()):
        reviewed = db.session.scalars(select(Assignment).where(Assignment.ended_at.is_(None))
                                      .join(Organisation, Organisation.id == Assignment.institution_id)
                                      .where(Organisation.kind == OrgKind.BANK).order_by(Assignment.id)).first()
        if reviewed is not None:
            report = verification.reports_of(reviewed.request_id)[0]
            lines.append(f"  银行查看核验报告 a report as the reviewing bank sees it: {db.session.get(User, reviewed.user_id).email} "
                         f"{url_for('reports.institution_report', request_id=reviewed.request_id, report_id=report.id, _external=True)}")
            lines.append(f"  企业的数据访问记录 the enterprise's access log (the banks' reads): "
                         f"{admin_of(db.session.get(FinancingRequest, reviewed.request_id))} "
                         f"{url_for('enterprises.access_log', _external=True)}")
        for enterprise in db.session.scalars(select(Enterprise).where(Enterprise.uscc.startswith("92"))):
            card = db.session.scalar(select(StatementFile).where(StatementFile.enterprise_id == enterprise.id))
            owner = db.session.scalar(select(User.email).where(User.organisation_id == enterprise.organisation_id,
                                                               User.role == Role.ENTERPRISE_ADMIN))
            if card is not None:
                lines.append(f"  个体工商户的个人借记卡流水 an individual business's personal-card statement "
                             f"({enterprise.name}): {owner} {url_for('statements.detail', statement_id=card.id, _external=True)}")
    if lines:
        echo("核验与查阅 Verification and access:")
        for line in lines:
            echo(line)
