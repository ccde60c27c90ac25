"""The demo seed: a complete, valid, audited cast on the embedded SQLite default, idempotent."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace import create_app, demo_statements
from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import OrgKind, Role
from marketplace.audit import AuditEvent, verify_chain
from marketplace.demo import seed
from marketplace.enterprises.models import CommitmentSignature, Consent, Enterprise
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest, RequestPledge, WorkflowEvent
from marketplace.formatting import today_shanghai
from marketplace.receivables.models import ConfirmationLink, Receivable
from marketplace.reference.industries import INDUSTRY_DIVISIONS
from marketplace.reference.regions import is_region_prefix
from marketplace.statements.models import StatementFile, StatementTransaction
from marketplace.supermarket.models import PRODUCT_TYPES, Product, ProductStat, ProductVersion
from workflows.financing import TERMINAL_STATES
from workflows.identifiers import resident_id_problem, uscc_problem

pytestmark = [pytest.mark.sqlite, pytest.mark.xdist_group("demo")]

AUDIT_KEY = "y"
TABLES = (Organisation, User, Enterprise, CommitmentSignature, Consent, Receivable, ConfirmationLink,
          FinancingRequest, RequestPledge, WorkflowEvent, AuditEvent, Product, ProductVersion, ProductStat,
          StatementFile, StatementTransaction)


@pytest.fixture(autouse=True)
def db_session():
    """This module brings its own SQLite database: no PostgreSQL rollback fixture."""
    yield None


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One seeded app for the module (seeding hashes ~35 passwords); tests only read it."""
    tmp_path = tmp_path_factory.mktemp("demo")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/demo.db", "SECRET_KEY": "x",
                      "AUDIT_KEY": AUDIT_KEY}, instance_path=str(tmp_path))
    lines: list[str] = []
    with app.app_context():
        seed(reset=True, echo=lines.append)
        yield app, "\n".join(lines)
        db.session.remove()


def _counts() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) for model in TABLES}


def test_seed_creates_every_kind_of_organisation_and_a_user_for_every_role(seeded):
    kinds = Counter(db.session.scalars(select(Organisation.kind)))
    assert kinds == {OrgKind.BANK: 3, OrgKind.GUARANTOR: 2, OrgKind.BUREAU: 1, OrgKind.PLATFORM: 1,
                     OrgKind.ENTERPRISE: 20}
    roles = set(db.session.scalars(select(User.role)))
    assert roles == {str(role) for role in Role}


def test_staff_have_their_second_factor_enrolled_and_enterprise_users_do_not_need_one(seeded):
    for user in db.session.scalars(select(User)):
        assert (user.totp_secret is not None and user.totp_enrolled_at is not None) == user.is_staff


def test_enterprise_identifiers_are_valid_and_unique(seeded):
    enterprises = db.session.scalars(select(Enterprise)).all()
    assert len({e.uscc for e in enterprises}) == 20
    for enterprise in enterprises:
        assert uscc_problem(enterprise.uscc) is None, enterprise.name
        assert resident_id_problem(enterprise.legal_rep_id_number) is None, enterprise.name
    debtor_codes = set(db.session.scalars(select(Receivable.debtor_uscc)))
    assert all(uscc_problem(code) is None for code in debtor_codes)


def test_most_but_not_all_enterprises_signed_the_commitment(seeded):
    signed = db.session.scalar(select(func.count(func.distinct(CommitmentSignature.enterprise_id))))
    assert 10 < signed < 20


def test_consents_include_active_expired_and_revoked(seeded):
    today = today_shanghai()
    states = Counter(c.state_on(today) for c in db.session.scalars(select(Consent)))
    assert states["active"] >= 5 and states["expired"] == 1 and states["revoked"] == 1


def test_receivables_are_in_all_three_confirmation_states_with_plausible_facts(seeded):
    receivables = db.session.scalars(select(Receivable)).all()
    per_enterprise = Counter(r.enterprise_id for r in receivables)
    # 3-8 each, plus 2 for each request verified live at the end of the seed
    assert all(3 <= n <= 10 for n in per_enterprise.values()) and len(per_enterprise) == 20
    assert {r.confirmation for r in receivables} == {"pending", "confirmed", "disputed"}
    for r in receivables:
        assert 50_000 <= r.face_amount <= 3_000_000
        assert 30 <= (r.due_date - r.issue_date).days <= 180
        assert len(r.invoice_no) in (8, 20) and r.invoice_no.isdigit()
        if r.confirmation == "pending":
            assert r.confirmed_at is None
        else:
            assert r.confirmed_at is not None and r.confirmed_via in ("link", "account") and r.confirmed_by_name
        assert (r.confirmation == "disputed") == (r.dispute_reason is not None)


def test_a_platform_enterprise_has_receivables_waiting_for_its_confirmation(seeded):
    debtor = db.session.scalar(select(Enterprise).where(Enterprise.name == "苏州恒达精密机械有限公司"))
    waiting = db.session.scalar(select(func.count(Receivable.id)).where(
        Receivable.debtor_uscc == debtor.uscc, Receivable.confirmation == "pending"))
    assert waiting >= 3


def test_requests_span_the_workflow_and_pledges_stay_consistent(seeded):
    requests = db.session.scalars(select(FinancingRequest)).all()
    states = {r.state for r in requests}
    assert len(states) >= 3 and {"draft", "submitted", "withdrawn", "closed"} <= states
    for request in requests:
        if request.state in TERMINAL_STATES:
            assert request.active_pledges == [] and all(p.released_at for p in request.pledges)
        else:
            assert request.active_pledges and request.amount <= request.pledged_total
        assert request.events[0].transition == "create" and request.events[-1].to_state == request.state
        times = [e.occurred_at for e in request.events]
        assert times == sorted(times)
    twice = db.session.execute(
        select(RequestPledge.receivable_id).where(RequestPledge.active)
        .group_by(RequestPledge.receivable_id).having(func.count() > 1)
    ).all()
    assert twice == []


def test_the_supermarket_has_30_published_products_of_every_type_from_the_five_lenders(seeded):
    products = db.session.scalars(select(Product)).all()
    states = Counter(p.state for p in products)
    assert states["published"] >= 30 and states["draft"] >= 2 and states["retired"] == 1
    published = [p for p in products if p.state == "published"]
    assert {p.current_version.product_type for p in published} == set(PRODUCT_TYPES)
    kinds = Counter((p.institution.kind, p.current_version.product_type == "guaranteed_loan") for p in products)
    assert kinds[(OrgKind.BANK, True)] == 0  # banks offer the other types
    assert kinds[(OrgKind.GUARANTOR, True)] > kinds[(OrgKind.GUARANTOR, False)] > 0  # guarantors mostly 担保贷
    assert len({p.institution_id for p in products}) == 5
    assert len({p.current_version.name for p in products}) == len(products)


def test_demo_products_have_plausible_terms_and_valid_codes(seeded):
    versions = db.session.scalars(select(ProductVersion)).all()
    for v in versions:
        assert Decimal("100000") <= v.amount_min <= v.amount_max <= Decimal("30000000"), v.name
        assert 30 <= v.term_min_days <= v.term_max_days <= 720, v.name
        assert Decimal("3.10") <= v.rate_min <= v.rate_max <= Decimal("8.50"), v.name
        assert all(code in INDUSTRY_DIVISIONS for code in v.industries), v.name
        assert all(is_region_prefix(code) for code in v.regions), v.name
    assert any(v.min_grade for v in versions) and any(not v.accepts_ungraded for v in versions)
    assert {"32", "3205", "320506"} <= {code for v in versions for code in v.regions}
    assert any(v.industries == [str(d) for d in range(13, 44)] for v in versions)  # manufacturing only
    assert any(v.requires_guarantee for v in versions) and any(v.requires_debtor_confirmation for v in versions)


def test_one_demo_product_was_revised_after_publishing_and_kept_version_1(seeded):
    revised = [p for p in db.session.scalars(select(Product)) if len(p.versions) > 1]
    assert len(revised) == 1
    first, second = revised[0].versions
    assert revised[0].current_version == second and second.number == 2
    assert first.published_at < second.published_at and first.rate_min > second.rate_min


def test_published_demo_products_have_recent_daily_statistics(seeded):
    today = today_shanghai()
    rows = db.session.scalars(select(ProductStat)).all()
    assert all((today - row.day).days < 30 and row.applications <= row.matches for row in rows)
    with_stats = {row.product_id for row in rows}
    published = set(db.session.scalars(select(Product.id).where(Product.state == "published")))
    drafts = set(db.session.scalars(select(Product.id).where(Product.state == "draft")))
    assert published <= with_stats and not drafts & with_stats
    assert sum(row.views for row in rows) > 1000


def test_statements_in_several_layouts_were_accepted_for_several_enterprises(seeded):
    _app, output = seeded
    statements = db.session.scalars(select(StatementFile)).all()
    assert len({s.enterprise_id for s in statements}) >= 5
    layouts = {(s.original_name.split("_")[0], s.original_name.rsplit(".", 1)[-1], s.bank) for s in statements}
    assert len(layouts) >= 4 and {layout[1] for layout in layouts} == {"csv", "xlsx", "xls"}
    assert {"中国工商银行", "中国农业银行", "中国银行"} <= {s.bank for s in statements}
    hengda = db.session.scalar(select(Enterprise).where(Enterprise.name == "苏州恒达精密机械有限公司"))
    assert hengda.id in {s.enterprise_id for s in statements}
    today = today_shanghai()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    for s in statements:
        rows = db.session.scalar(select(func.count()).where(StatementTransaction.statement_id == s.id))
        assert 100 <= s.row_count == rows <= 400, s.original_name
        assert s.account_name in ("", db.session.get(Enterprise, s.enterprise_id).name)
        assert s.last_date <= last_month_end and (last_month_end - s.first_date).days > 330
        assert s.inflow_total > 0 and s.outflow_total > 0
    imported = db.session.scalar(select(func.count()).where(AuditEvent.action == "statement.imported"))
    assert imported == len(statements)
    assert f"银行流水 bank statements {len(statements)} for" in output


def test_statement_debtors_paid_some_enterprises_regularly_and_others_not_at_all(seeded):
    """Inflows come from the enterprises' own receivable debtors, regularly for some and never for others."""
    months_paid: dict[tuple[int, str], set] = {}
    for s in db.session.scalars(select(StatementFile)):
        debtors = set(db.session.scalars(select(Receivable.debtor_name).where(Receivable.enterprise_id == s.enterprise_id)))
        for row in db.session.scalars(select(StatementTransaction).where(
                StatementTransaction.statement_id == s.id, StatementTransaction.amount > 0)):
            if row.counterparty in debtors:
                months_paid.setdefault((s.enterprise_id, row.counterparty), set()).add((row.date.year, row.date.month))
    counts = sorted(len(months) for months in months_paid.values())
    assert counts[-1] >= 9 and counts[0] <= 2
    receivable_debtors = db.session.execute(select(Receivable.enterprise_id, Receivable.debtor_name).where(
        Receivable.enterprise_id.in_(select(StatementFile.enterprise_id)))).all()
    assert any(tuple(pair) not in months_paid for pair in receivable_debtors)  # some debtors never paid


def test_one_demo_statement_goes_below_zero_for_a_few_days(seeded):
    negative = db.session.scalars(select(StatementTransaction.date).where(StatementTransaction.balance < 0)).all()
    assert negative and (max(negative) - min(negative)).days <= 7


def test_the_audit_chain_verifies(seeded):
    checked, broken, why = verify_chain(AUDIT_KEY)
    assert broken is None, why
    assert checked == db.session.scalar(select(func.count(AuditEvent.id))) > 100


def test_the_printout_names_every_login_the_password_and_the_totp_command(seeded):
    _app, output = seeded
    for email in db.session.scalars(select(User.email)):
        assert email in output
    assert "Demo-2026!" in output
    assert "flask --app wsgi totp code officer@ccb-suzhou.demo" in output
    assert "打开 Open: http://" in output


def test_seeding_again_without_reset_changes_nothing(seeded):
    before = _counts()
    lines: list[str] = []
    seed(reset=False, echo=lines.append)
    assert _counts() == before
    assert any("nothing was changed" in line for line in lines)


def test_demo_statement_bytes_are_deterministic():
    def files() -> list[bytes]:
        rng = random.Random("2026/statement/test")
        rows = demo_statements.transactions(rng, demo_statements.month_starts(date(2025, 12, 1)),
                                            [("江苏华宇汽车集团有限公司", "regular")], 1_000_000, overdraft=True)
        return [writer("苏州恒达精密机械有限公司", "6222000011112222333", rows)[1]
                for _title, writer in demo_statements.LAYOUTS.values()]

    assert files() == files()
