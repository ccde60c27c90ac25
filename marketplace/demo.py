"""Demo data: `flask --app wsgi demo seed [--reset]`.

Builds the cast of marketplace.demo_data (platform, banks, guarantors, bureau, twenty Suzhou
enterprises, their receivables and financing requests in many states) through the services
where they exist, so the audit chain holds, all in one transaction. Deterministic apart from
secrets (TOTP secrets, link nonces) and the dates, which are relative to today: random.Random(2026)
and streams derived from the same seed, one per enterprise and per request.
"""

from __future__ import annotations

import os
import random
import secrets
import unicodedata
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import click
import pyotp
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import func, inspect, select
from stdnum.cn import ric

from marketplace import audit, demo_data, demo_statements
from marketplace.accounts import security
from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import ROLE_LABELS, OrgKind, Role
from marketplace.db import utcnow
from marketplace.enterprises import services as enterprise_services
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.financing import services as financing_services
from marketplace.financing.models import FinancingRequest, WorkflowEvent
from marketplace.formatting import SHANGHAI, today_shanghai, yuan
from marketplace.receivables.models import ConfirmationLink, Receivable
from marketplace.reference.industries import INDUSTRY_DIVISIONS, industry_name
from marketplace.reference.regions import is_region_code, is_region_prefix
from marketplace.statements import services as statement_services
from marketplace.statements.models import StatementFile
from marketplace.supermarket import services as supermarket_services
from marketplace.supermarket.models import GRADES, PRODUCT_TYPES, RATE_CEILING, Product, ProductStat
from workflows.identifiers import uscc_check_char

SEED = 2026
TOTP_COMMAND = ".venv/bin/flask --app wsgi totp code EMAIL"

# Transitions whose guards read facts that later capabilities will record (the verification
# report's class, the fee payment, the repayment schedule, the routing list). The demo asserts
# those facts, says so in the audit event, and otherwise applies the transition as the table says.
ASSERTED_FACTS = {
    "route_to_bank": {"classification": "excellent", "route_targets": 1},
    "route_to_guarantor": {"classification": "mixed", "route_targets": 1},
    "return_request": {"classification": "poor"},
    "confirm_fee": {"fee_paid": True},
    "reroute_to_guarantor": {"has_next_guarantor": True},
    "reroute_to_bank": {"has_next_bank": True},
    "start_repayment": {"schedule_recorded": True},
    "close": {"fully_repaid": True},
}

# How long each step takes, in hours (low, high); the timeline is laid out from these.
STEP_HOURS = {
    "submit": (1, 30), "start_verification": (0.02, 0.2), "complete_verification": (0.05, 0.6),
    "route_to_bank": (0.01, 0.05), "route_to_guarantor": (0.01, 0.05), "return_request": (0.01, 0.05),
    "start_guarantor_review": (3, 30), "offer_guarantee": (40, 120), "accept_guarantee": (4, 48),
    "confirm_fee": (20, 72), "route_guaranteed_to_bank": (0.01, 0.05), "decline_guarantee": (24, 96),
    "reroute_to_guarantor": (0.01, 0.05), "start_bank_review": (3, 30), "request_info": (24, 72),
    "answer_info": (24, 96), "make_offer": (40, 120), "accept_offer": (4, 48), "disburse": (20, 72),
    "start_repayment": (24, 120), "decline": (40, 120), "reroute_to_bank": (0.01, 0.05),
    "withdraw": (20, 120),
}

MOBILE_PREFIXES = ("133", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158",
                   "159", "180", "181", "182", "187", "188", "189", "199")
SERVICE_INDUSTRIES = {"50", "59", "65", "74", "77"}  # contracts are service contracts (FW)
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code check digit
RATES = ("3.45%", "3.65%", "3.85%", "4.05%")
# A receivable's age: (days since issue, days from issue to due), each a (low, high) range.
AGES = {
    "fresh": ((8, 55), (90, 180)),  # recent and not yet due: what a bank finances directly
    "old": ((125, 150), (150, 180)),  # four to five months old
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
        self.staff: dict[str, User] = {}  # "slug:role" -> user
        self.enterprises: dict[str, Enterprise] = {}
        self.admins: dict[str, User] = {}
        self.applicants: dict[str, User] = {}
        self.registered_at: dict[str, datetime] = {}
        self.debtor_codes: dict[str, str] = {}  # DEBTORS key -> its credit code
        self.tags: dict[str, Receivable] = {}
        self.free_after: dict[int, datetime] = {}  # receivable id -> earliest time it may be pledged
        self.logins: list[tuple[Role, str, str]] = []  # (role, organisation, email)

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
        for spec in demo_data.CONSENTS:
            self._consent(*spec)
        for spec in demo_data.ENTERPRISES:
            self._receivables(spec)
        for spec in demo_data.REQUESTS:
            self._request(spec)
        for spec in demo_data.STATEMENTS:
            self._statement(spec)
        for spec in demo_data.LIVE_REQUESTS:
            self._live_request(spec)
        db.session.flush()
        return {"logins": self.logins, "admins": self.admins, "enterprises": self.enterprises}

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
                for role_short, person in spec["staff"]:
                    self._staff_user(org, spec["slug"], role_short, person, Role(f"{kind}:{role_short}"),
                                     creator=admin)

    def _organisation(self, spec: dict, kind: OrgKind, since: date) -> Organisation:
        org = Organisation(kind=kind, name=spec["name"], region_code=spec["region"], contact=spec["contact"],
                           created_at=_office_time(self.rng, since))
        db.session.add(org)
        db.session.flush()
        self.orgs[spec["slug"]] = org
        return org

    def _staff_user(self, org: Organisation, slug: str, role_short: str, person: str, role: Role,
                    creator: User | None) -> User:
        """A staff user with the second factor already enrolled, so the demo can log straight in."""
        email = f"{role_short}@{slug}.demo"
        user = User(organisation=org, name=person, email=email, role=role,
                    password_hash=security.hash_password(demo_data.PASSWORD),
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
        admin = enterprise_services.register_enterprise(
            name=spec["name"], uscc=_uscc(rng, "91320500", self.codes), legal_rep_name=rep_name,
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
                             password_hash=security.hash_password(demo_data.PASSWORD),
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
        rng = self.rng
        enterprise, admin = self.enterprises[slug], self.admins[slug]
        if kind == "expired":
            valid_from = self.today - timedelta(days=rng.randint(120, 150))
            valid_to = self.today - timedelta(days=rng.randint(10, 30))
        else:
            valid_from = self.today - timedelta(days=rng.randint(20, 110))
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
        draw made whatever the branch, so the data does not shift with the time of day."""
        rng, slug = _stream("receivables", spec["slug"]), spec["slug"]
        external = [c for c in spec["customers"] if not c.startswith("@")]
        planned: list[dict] = []
        for request in demo_data.REQUESTS:
            if request["enterprise"] != slug:
                continue
            for tag, confirmation, age in request["pledges"]:
                if confirmation is not None:
                    planned.append({"tag": tag, "debtor": rng.choice(external), "confirmation": confirmation,
                                    "age": age})
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

    # -- bank statements (流水)

    def _statement(self, spec: dict) -> None:
        """Twelve months ending last month, written in the spec's layout and imported through the
        statements service (parsed, checked against the holder, stored whole, audited)."""
        rng, slug = _stream("statement", spec["enterprise"]), spec["enterprise"]
        enterprise, admin = self.enterprises[slug], self.admins[slug]
        payers = [(self._debtor(key)[0], kind) for key, kind in spec["payers"].items()]
        last_month = self.today.replace(day=1) - timedelta(days=1)
        rows = demo_statements.transactions(rng, demo_statements.month_starts(last_month), payers, spec["scale"],
                                            overdraft=spec.get("overdraft", False))
        account_no = "".join(str(rng.randrange(10)) for _ in range(19))
        title, writer = demo_statements.LAYOUTS[spec["layout"]]
        suffix, data = writer(enterprise.name, account_no, rows)
        filename = f"{title}_{rows[0].moment:%Y%m}-{rows[-1].moment:%Y%m}{suffix}"
        record = statement_services.import_statement(enterprise, admin, data, filename)
        record.uploaded_at = min(_office_time(rng, _workday(self.today - timedelta(days=rng.randint(1, 6)))),
                                 self.now - timedelta(hours=1))

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
            contract_no=f"{spec['abbr']}-{kind}-{issue.year}-{sequence:04d}", face_amount=draw.amount,
            issue_date=issue, due_date=due, confirmation="pending", created_at=created, updated_at=created,
        )
        link = None
        if confirmation != "pending":
            answered = min(asked + timedelta(hours=draw.answer_after_hours), self.now - timedelta(hours=1))
            receivable.confirmation = confirmation
            receivable.confirmed_at = receivable.updated_at = answered
            if confirmation == "disputed":
                receivable.dispute_reason = draw.dispute_reason
            if debtor_user is not None:  # the debtor answered from its own account
                receivable.confirmed_via = "account"
                receivable.confirmed_by_user_id = debtor_user.id
                receivable.confirmed_by_name = debtor_user.name
            else:
                receivable.confirmed_via = "link"
                receivable.confirmed_by_name = draw.confirmer
                receivable.confirmed_ip = draw.ip
                link = ConfirmationLink(nonce=secrets.token_hex(16), created_by_id=admin.id, created_at=asked,
                                        expires_at=asked + timedelta(days=7), used_at=answered)
        elif debtor_user is None and asked > created and draw.link_sent:  # a link sent, open or lapsed
            link = ConfirmationLink(nonce=secrets.token_hex(16), created_by_id=admin.id, created_at=asked,
                                    expires_at=asked + timedelta(days=7))
        if link is not None:
            receivable.links.append(link)
        db.session.add(receivable)
        db.session.flush()
        audit.record("receivable.created", receivable, enterprise_id=enterprise.id, actor=admin,
                     debtor_uscc=debtor_uscc, invoice_no=invoice, face_amount=receivable.face_amount)
        if link is not None:
            audit.record("receivable.link_issued", receivable, enterprise_id=enterprise.id, actor=admin,
                         link_id=link.id, expires_at=link.expires_at)
        if confirmation != "pending":
            audit.record(f"receivable.{confirmation}", receivable, enterprise_id=enterprise.id, actor=debtor_user,
                         via=receivable.confirmed_via, confirmed_by_name=receivable.confirmed_by_name,
                         dispute_reason=receivable.dispute_reason)
        if "tag" in plan:
            self.tags[plan["tag"]] = receivable
        self.free_after[receivable.id] = receivable.confirmed_at or created

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
        base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000/"
        with current_app.test_request_context("/", base_url=base_url):  # notifications carry links
            financing_services.submit_request(request, admin)  # its queued task will find the report
            financing_services.apply_transition(request, "start_verification", submission_no=1)
            report = verify_and_route(request, 1)
        if report.classification != spec["expect"]:
            raise ValueError(f"demo data: {spec['key']} verified as {report.classification}, "
                             f"not {spec['expect']}: {report.payload['reasons_zh']}")

    def _live_receivable(self, enterprise: Enterprise, admin: User, item: tuple, rng: random.Random) -> Receivable:
        debtor, confirmation, issued_days_ago, term_days, amount = item
        debtor_name, debtor_uscc, _user = self._debtor(debtor)
        issue = _workday(self.today - timedelta(days=issued_days_ago))
        receivable = Receivable(
            enterprise_id=enterprise.id, debtor_name=debtor_name, debtor_uscc=debtor_uscc,
            invoice_no=f"{issue:%y}32{rng.randint(10**15, 10**16 - 1)}", contract_no=None,
            face_amount=Decimal(amount), issue_date=issue, due_date=issue + timedelta(days=term_days),
            confirmation=confirmation,
        )
        if confirmation != "pending":
            receivable.confirmed_via, receivable.confirmed_by_name = "link", "财务部"
            receivable.confirmed_at = self.now - timedelta(days=rng.randint(1, 5))
            if confirmation == "disputed":
                receivable.dispute_reason = "货物验收不合格，已办理部分退货，金额有争议"
        db.session.add(receivable)
        db.session.flush()
        audit.record("receivable.created", receivable, enterprise_id=enterprise.id, actor=admin,
                     debtor_uscc=debtor_uscc, invoice_no=receivable.invoice_no, face_amount=receivable.face_amount)
        return receivable

    def _request(self, spec: dict) -> None:
        rng, slug = _stream("request", spec["key"]), spec["enterprise"]
        enterprise, admin = self.enterprises[slug], self.admins[slug]
        creator = self.applicants[slug] if spec["creator"] == "applicant" else admin
        receivables = [self.tags[tag] for tag, _state, _age in spec["pledges"]]
        pledged = sum((r.face_amount for r in receivables), Decimal("0"))
        share = Decimal(str(rng.choice((0.6, 0.7, 0.75, 0.8, 0.85, 0.9))))
        amount = max((pledged * share / 10000).quantize(Decimal("1"), rounding=ROUND_DOWN) * 10000,
                     Decimal("10000"))
        request = financing_services.create_request(
            enterprise, creator, amount=min(amount, pledged), term_days=spec["term"], purpose=spec["purpose"],
            receivable_ids=[r.id for r in receivables],
        )
        names = {s: org.name for s, org in self.orgs.items()}
        for name, actor_key, note in spec["steps"]:
            actor = self._actor(actor_key, creator, admin)
            if note:
                note = note.format(**names, amount=yuan(request.amount), rate=rng.choice(RATES),
                                   term=request.term_days)
            if name in ASSERTED_FACTS:
                financing_services.apply_transition(request, name, actor, note, facts=ASSERTED_FACTS[name],
                                                    source="demo seed")
            else:
                financing_services.apply_transition(request, name, actor, note)
        self._lay_out_timeline(request, receivables, _stream("timeline", spec["key"]))

    def _actor(self, key: str, creator: User, admin: User) -> User | None:
        if key == "sys":
            return None
        if key == "ent":
            return creator
        if key == "ent:admin":
            return admin
        return self.staff[key]

    def _lay_out_timeline(self, request: FinancingRequest, receivables: list[Receivable],
                          rng: random.Random) -> None:
        """Spread the timeline over plausible days: after the receivables were registered and
        answered, people acting in Shanghai office hours, ending before now. (The audit log
        keeps the seed's real times; only the rows' business timestamps are laid out.)"""
        events = list(request.events)
        gaps = [_step_duration(event, request, rng) for event in events[1:]]
        latest = self.now - timedelta(hours=1)
        floor = max(self.free_after[r.id] for r in receivables) + timedelta(hours=rng.uniform(1, 20))
        floor = min(floor, latest - timedelta(hours=2))
        start = max(floor, latest - timedelta(hours=rng.uniform(1, 96)) - sum(gaps, timedelta(0)))
        for attempt in range(10):
            snap = attempt < 9  # the last attempt gives up office hours rather than run past now
            moments = [_office_hours(start, rng) if snap else start]
            for event, gap in zip(events[1:], gaps, strict=True):
                moment = moments[-1] + gap
                moments.append(_office_hours(moment, rng) if snap and event.actor_user_id else moment)
            if moments[-1] <= latest:
                break
            gaps = [gap * 0.7 for gap in gaps]
            start = max(floor, min(start, latest - sum(gaps, timedelta(0))))
        for event, moment in zip(events, moments, strict=True):
            event.occurred_at = moment
        request.created_at = moments[0]
        request.state_changed_at = moments[-1]
        submits = [e.occurred_at for e in events if e.transition == "submit"]
        if submits:
            request.submitted_at = submits[-1]
        for pledge in request.pledges:
            pledge.created_at = request.created_at
            if not pledge.active:
                pledge.released_at = moments[-1]
                self.free_after[pledge.receivable_id] = pledge.released_at


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


def _step_duration(event: WorkflowEvent, request: FinancingRequest, rng: random.Random) -> timedelta:
    if event.transition == "close":  # repaid at the end of the term
        return timedelta(days=request.term_days + rng.uniform(-3, 1))
    low, high = STEP_HOURS.get(event.transition, (1, 24))
    return timedelta(hours=rng.uniform(low, high))


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
         f"企业 enterprises {kinds[OrgKind.ENTERPRISE]} · 用户 users {db.session.scalar(select(func.count(User.id)))}")
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
    echo(rule)
