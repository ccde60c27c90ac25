"""The credit file's demo (issue 14 item 10): the records the data providers push.

marketplace.demo calls `seed_records` once the enterprises exist: every provider of
demo_data.PROVIDERS pushes one batch through the real intake service
(marketplace.credit.services.submit_json, as its API does), made of demo_data.CREDIT_FILES: a
record for each month an enterprise paid its taxes, social insurance, housing fund or utilities
on time, and its other facts (tax grade A, arrears, court cases, penalties, listings). Each
enterprise draws its amounts and days from a stream of its own, so the rest of the demo draws the
same numbers as before the credit file existed. The grades come after the commit, from
grading.regrade_all (marketplace.demo.seed).

`file_requests` has enterprises act on their files through the services they use
(marketplace.credit.objections, .repairs, marketplace.lists): one objection left open, one
repair application in review, the consents to be recommended to banks. After the grades,
`publish_lists` has the bureau's coordinator compute and confirm the red, white and yellow lists
and confirm the month's white-list push.

`print_guide` adds the credit file's lines to the printed guide: which enterprise login shows
which grade, the yellow-listed one, the objection and the repair, the lists, the provider logins.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app, url_for
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.routing import BuildError

from marketplace import demo_data
from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import OrgKind, Role
from marketplace.credit import objections, repairs
from marketplace.credit import services as credit_services
from marketplace.credit.models import CreditObjection, CreditRecord, RepairApplication, latest_grade
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.formatting import SHANGHAI
from marketplace.lists import services as list_services
from marketplace.lists.models import ListMembership, ListProposal, WhitelistPush
from workflows.credit_records import KINDS, SOURCES

# a provider's record ids: its prefix, the enterprise's credit code, then the month or the event
ID_PREFIXES = {"tax": "SW", "utilities": "GY", "social_insurance": "SB", "housing_fund": "GJJ", "court": "FY",
               "market_regulator": "SJ"}
PAYMENT_KINDS = {"tax": "tax_paid", "social_insurance": "social_insurance_paid",
                 "housing_fund": "housing_fund_paid", "utilities": "utility_paid"}
DEFAULT_SCALE = 1_000_000  # monthly turnover (yuan) of an enterprise without a demo statement
CENT = Decimal("0.01")


def _money(value: float | Decimal) -> str:
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def _last_whole_month_end(today: date) -> date:
    """The last day of the most recent whole calendar month (today when it is a month's last day),
    as the grade model's payment window counts months."""
    if (today + timedelta(days=1)).month != today.month:
        return today
    return today.replace(day=1) - timedelta(days=1)


def _months_back(today: date, count: int) -> list[date]:
    """The first days of the `count` most recent whole months, oldest first."""
    end = _last_whole_month_end(today)
    firsts, first = [], end.replace(day=1)
    for _ in range(count):
        firsts.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return firsts[::-1]


def _previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def _fill(template, day: date):
    """A title or a detail with {year} and {ym} of `day` filled in (other values as they are)."""
    if isinstance(template, str):
        return template.format(year=day.year, ym=f"{day.year}年{day.month}月")
    return template


def _payment_item(source: str, uscc: str, first: date, rng: random.Random, scale: int, staff: int) -> dict:
    """One on-time payment, made in the month starting `first` for the month before it."""
    period = _previous_month(first)
    paid_on = first.replace(day=rng.randint(5, 15))
    label = f"{period.year}年{period.month}月"
    if source == "tax":
        amount = scale * rng.uniform(0.035, 0.055)
        title, details = f"{label}增值税及附加税费按期申报缴纳", {"tax_types": "增值税、城市维护建设税、教育费附加"}
    elif source == "social_insurance":
        amount = staff * rng.uniform(1450, 1650)
        title, details = f"{label}社会保险费按期足额缴纳", {"insured_staff": staff}
    elif source == "housing_fund":
        amount = staff * rng.uniform(520, 680)
        title, details = f"{label}住房公积金按期缴存", {"contributing_staff": staff}
    else:
        amount = scale * rng.uniform(0.006, 0.014)
        title, details = f"{label}电费、水费按期缴纳", {"utilities": "电费、水费"}
    return {"provider_record_id": f"{ID_PREFIXES[source]}-{uscc}-{period:%Y%m}", "kind": PAYMENT_KINDS[source],
            "title": title, "amount": _money(amount), "occurred_on": paid_on.isoformat(),
            "details": {"period": f"{period:%Y-%m}", **details}}


def _event_item(uscc: str, number: int, event: tuple, today: date) -> dict:
    kind, title, amount, days_ago, lasted, details = event
    occurred = today - timedelta(days=days_ago)
    ended = None if lasted is None else occurred + timedelta(days=lasted)
    if ended is not None and ended > today:
        raise ValueError(f"demo data: a {kind} record of {uscc} would end in the future")
    source = KINDS[kind].source
    return {"provider_record_id": f"{ID_PREFIXES[source]}-{uscc}-{number:02d}", "kind": kind,
            "title": _fill(title, occurred), "amount": amount, "occurred_on": occurred.isoformat(),
            "ended_on": None if ended is None else ended.isoformat(),
            "details": {key: _fill(value, occurred) for key, value in details.items()}}


def credit_batches(usccs: dict[str, str], today: date, stream: Callable[..., random.Random]) -> dict[str, list[dict]]:
    """source -> the items its provider pushes (the JSON the API takes), from CREDIT_FILES."""
    scales = {spec["enterprise"]: spec["scale"] for spec in demo_data.STATEMENTS}
    batches: dict[str, list[dict]] = {source: [] for source in SOURCES}
    for slug, spec in demo_data.CREDIT_FILES.items():
        rng, uscc = stream("credit", slug), usccs[slug]
        scale = scales.get(slug, DEFAULT_SCALE) * rng.uniform(0.9, 1.1)
        for source in PAYMENT_KINDS:  # every source drawn for every enterprise: the draws never shift
            months = spec["paid"].get(source, 0)
            items = [_payment_item(source, uscc, first, rng, int(scale), spec["staff"])
                     for first in _months_back(today, 12)]
            batches[source] += [{"enterprise_uscc": uscc, **item} for item in items[12 - months:]]
        for number, event in enumerate(spec["events"], start=1):
            item = _event_item(uscc, number, event, today)
            batches[KINDS[event[0]].source].append({"enterprise_uscc": uscc, **item})
    return batches


def seed_records(orgs: dict[str, Organisation], staff: dict[str, User], enterprises: dict[str, Enterprise],
                 today: date, stream: Callable[..., random.Random]) -> int:
    """Each provider pushes its batch through the intake service; returns how many records were
    stored. The caller commits (the grades follow: grading.regrade_all)."""
    batches = credit_batches({slug: e.uscc for slug, e in enterprises.items()}, today, stream)
    stored = 0
    for spec in demo_data.PROVIDERS:
        items = batches[spec["source"]]
        if not items:
            continue
        provider, user = orgs[spec["slug"]], staff[f"{spec['slug']}:{spec['staff'][0][0]}"]
        outcomes = credit_services.submit_json(provider, items, user, today=today)
        stored += sum(o.created for o in outcomes)
    return stored


# ---- the enterprises act on their files, the bureau publishes the lists ---------------------------

def _pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing `lines` (ASCII, Helvetica): the evidence the demo attaches."""
    text = "".join(f"({line.replace(chr(92), '').replace('(', '[').replace(')', ']')}) Tj 0 -22 Td "
                   for line in lines)
    stream = f"BT /F1 14 Tf 72 760 Td {text}ET".encode("ascii")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _evidence(name: str, lines: list[str]) -> list[FileStorage]:
    return [FileStorage(stream=io.BytesIO(_pdf(lines)), filename=name, content_type="application/pdf")]


def _filed_at(today: date, days_ago: int, rng: random.Random) -> datetime:
    """An office-hours moment `days_ago` days before today (Shanghai), in UTC."""
    day = today - timedelta(days=days_ago)
    moment = datetime.combine(day, time(9, 0), tzinfo=SHANGHAI) + timedelta(minutes=rng.randint(0, 8 * 60))
    return moment.astimezone(UTC)


def _record_of(enterprise: Enterprise, kind: str) -> CreditRecord:
    return db.session.scalars(select(CreditRecord).where(CreditRecord.enterprise_id == enterprise.id,
                                                         CreditRecord.kind == kind).order_by(CreditRecord.id)).first()


def file_requests(enterprises: dict[str, Enterprise], admins: dict[str, User], today: date,
                  stream: Callable[..., random.Random]) -> None:
    """One objection left open and one repair application in review, each filed by the
    enterprise's admin through its service; the consents to be recommended to banks."""
    rng = stream("credit", "requests")
    slug, kind, days_ago, reason, name, lines = demo_data.CREDIT_OBJECTION
    objections.file_objection(_record_of(enterprises[slug], kind), admins[slug], reason,
                              evidence=_evidence(name, lines), now=_filed_at(today, days_ago, rng))
    slug, kind, days_ago, commitment, name, lines = demo_data.CREDIT_REPAIR
    repairs.apply_for_repair(_record_of(enterprises[slug], kind), admins[slug], commitment,
                             evidence=_evidence(name, lines), now=_filed_at(today, days_ago, rng))
    for slug in demo_data.RECOMMEND_CONSENTS:
        list_services.set_recommend_consent(enterprises[slug], admins[slug], True)


def publish_lists(coordinator: User, today: date) -> tuple[ListProposal, WhitelistPush]:
    """The coordinator computes this year's lists for the bureau's region and confirms them, then
    confirms the month's white-list push. Needs the grades (after grading.regrade_all)."""
    region = coordinator.organisation.region_code
    proposal = list_services.compute_proposal(region, today.year, coordinator, today)
    list_services.confirm_proposal(proposal, coordinator, note="已逐户核对名单理由，同意发布。")
    push = list_services.propose_whitelist_push(region, today, today, actor=coordinator)
    list_services.confirm_push(push, coordinator)
    return proposal, push


# ---- the printed guide ---------------------------------------------------------------------------

def _url(endpoint: str, **values) -> str:
    """The page's address, or "" when that page is not part of this build."""
    try:
        return url_for(endpoint, _external=True, **values)
    except BuildError:
        return ""


def print_guide(echo, enterprises: dict[str, Enterprise], base_url: str) -> None:
    """Which enterprise login shows which grade, the yellow-listed enterprise, the objection and
    the repair, the lists and the push, the providers."""
    if not db.session.scalar(select(func.count(CreditRecord.id))):
        return
    with current_app.test_request_context("/", base_url=base_url):
        _print_guide(echo, enterprises)


def _print_guide(echo, enterprises: dict[str, Enterprise]) -> None:
    echo("信用档案 The credit file (一企一档):")
    own_file = _url("credit_file.enterprise_file")
    shown: set[str] = set()
    for wanted in ("A", "B", "C", "D"):
        for slug, spec in demo_data.CREDIT_FILES.items():
            enterprise = enterprises.get(slug)
            if spec["expect"] != wanted or enterprise is None or wanted in shown:
                continue
            grade = latest_grade(enterprise.id)
            if grade is None or grade.grade != wanted:
                continue
            shown.add(wanted)
            echo(f"  {wanted}级 grade {wanted} ({grade.score}): {_admin_email(enterprise)} {enterprise.name} {own_file}")
    for slug, spec in demo_data.CREDIT_FILES.items():
        enterprise = enterprises.get(slug)
        if enterprise is None:
            continue
        yellow = db.session.scalar(select(func.count(ListMembership.id)).where(
            ListMembership.enterprise_id == enterprise.id, ListMembership.list_kind == "yellow",
            ListMembership.published_at.is_not(None)))
        if yellow:
            echo(f"  失信被执行人，黄名单 a dishonest judgment debtor, on the yellow list: "
                 f"{_admin_email(enterprise)} {enterprise.name}")
        if spec["expect"] is None:
            echo(f"  暂未评级 ungraded (no data): {_admin_email(enterprise)} {enterprise.name}")
    banks = {spec["slug"] for spec in demo_data.BANKS}
    slug, grantee = next((slug, grantee) for slug, grantee, scopes, kind in demo_data.CONSENTS
                         if grantee in banks and kind == "active" and {"tax", "court"} <= set(scopes))
    bank = f"officer@{grantee}.demo"
    if slug in enterprises:
        echo(f"  银行按授权查看信用记录（税务、法院） a bank's consented view (tax, court records): {bank} "
             f"{_url('credit_file.institution_file', enterprise_id=enterprises[slug].id)}")
    objection = db.session.scalars(select(CreditObjection).order_by(CreditObjection.id)).first()
    if objection is not None:
        record = db.session.get(CreditRecord, objection.record_id)
        provider = db.session.scalar(select(User.email).where(User.organisation_id == record.provider_org_id,
                                                              User.role == Role.PROVIDER_STAFF))
        echo(f"  异议处理中（{objection.due_on.isoformat()}前答复） an open objection, due "
             f"{objection.due_on.isoformat()}: {_admin_email(record.enterprise)} "
             f"{_url('credit_objections.objection', objection_id=objection.id)}   "
             f"({provider} {_url('provider_objections.detail', objection_id=objection.id)})")
    repair = db.session.scalars(select(RepairApplication).order_by(RepairApplication.id)).first()
    if repair is not None:
        coordinator = db.session.scalar(select(User.email).where(User.role == Role.BUREAU_COORDINATOR).order_by(User.id))
        echo(f"  信用修复审核中 a credit repair in review: {_admin_email(repair.enterprise)} "
             f"{_url('credit_objections.repair', repair_id=repair.id)}   "
             f"({coordinator} {_url('bureau_objections.repair', repair_id=repair.id)})")
    proposal = db.session.scalars(select(ListProposal).where(ListProposal.state == "confirmed")
                                  .order_by(ListProposal.id.desc())).first()
    if proposal is not None:
        counts = dict(db.session.execute(select(ListMembership.list_kind, func.count(ListMembership.id))
                                         .where(ListMembership.proposal_id == proposal.id,
                                                ListMembership.decision == "included")
                                         .group_by(ListMembership.list_kind)).all())
        coordinator = db.session.get(User, proposal.confirmed_by_id)
        echo(f"  {proposal.year}年名单已确认发布 the {proposal.year} lists, confirmed: 红名单 red {counts.get('red', 0)}, "
             f"白名单 white {counts.get('white', 0)}, 黄名单 yellow {counts.get('yellow', 0)}: "
             f"{coordinator.email} {_url('lists.proposal', proposal_id=proposal.id)}")
    push = db.session.scalars(select(WhitelistPush).where(WhitelistPush.state == "confirmed")
                              .order_by(WhitelistPush.id.desc())).first()
    if push is not None:
        included = sum(1 for entry in push.entries if entry.decision == "included")
        echo(f"  {push.month:%Y-%m} 白名单推送 the month's white-list push ({included} 家 enterprises), "
             f"in the banks' leads: {bank} {_url('lists.whitelist')}")
    counts = dict(db.session.execute(select(CreditRecord.source, func.count(CreditRecord.id))
                                     .group_by(CreditRecord.source)).all())
    for provider in db.session.scalars(select(Organisation).where(Organisation.kind == OrgKind.PROVIDER)
                                       .order_by(Organisation.id)):
        email = db.session.scalar(select(User.email).where(User.organisation_id == provider.id,
                                                           User.role == Role.PROVIDER_STAFF).order_by(User.id))
        echo(f"  数据提供单位 provider {email} {provider.name}: {counts.get(provider.credit_source, 0)} 条记录 records "
             f"{_url('provider_records.index')}")


def _admin_email(enterprise: Enterprise) -> str:
    return db.session.scalar(select(User.email).where(User.organisation_id == enterprise.organisation_id,
                                                      User.role == Role.ENTERPRISE_ADMIN).order_by(User.id)) or ""
