"""The regional dashboard's figures (marketplace.bureau.dashboard). Smoke level so far: the
queries run on PostgreSQL and an empty region gives zeros; the known-dataset tests are still to
be written (see /work/i18n/dashboard-report.md)."""

from datetime import date, timedelta
from decimal import Decimal

from marketplace.bureau import kept
from marketplace.bureau.dashboard import CLASSES, FUNNEL_STAGES, GRADES, figures
from tests.factories import OrganisationFactory
from tests.sql_log import statements_run


def test_empty_region_gives_zero_in_every_stage_and_class(ctx):
    bureau = OrganisationFactory(kind="bureau", region_code="320500")
    result = figures(bureau, date(2026, 1, 1), date(2026, 12, 31))
    assert [s.stage for s in result.funnel] == list(FUNNEL_STAGES)
    assert all(s.count == 0 and s.amount == Decimal(0) for s in result.funnel)
    assert result.classification_mix == {name: (0, Decimal(0)) for name in CLASSES}
    assert result.turnaround == [] and result.decline_reasons == [] and result.institutions == []
    assert result.financed_by_month == []
    assert result.grade_distribution == [(grade, 0) for grade in GRADES]


# ---- issue 13: what the performance changes must not change ------------------------------------

def _posted_requests(bureau_code: str, rows: list[tuple[str, str, list[str]]]):
    """Requests submitted now by enterprises of the given division codes, each with a timeline
    of the given states (a row: region code, classification, states entered in turn)."""
    from datetime import UTC, datetime

    from marketplace.accounts.models import Organisation
    from marketplace.extensions import db
    from marketplace.financing.models import FinancingRequest, WorkflowEvent
    from tests.factories import EnterpriseFactory, UserFactory

    bureau = db.session.merge(Organisation(kind="bureau", name=f"局 {bureau_code}", region_code=bureau_code))
    user = UserFactory()
    now = datetime.now(UTC)
    for serial, (region, classification, states) in enumerate(rows):
        enterprise = EnterpriseFactory(region_code=region)
        request = FinancingRequest(enterprise_id=enterprise.id, amount=Decimal("100000.00") * (serial + 1),
                                   term_days=90, purpose="采购", state=states[-1], classification=classification,
                                   created_by_id=user.id, submitted_at=now)
        db.session.add(request)
        db.session.flush()
        previous = "draft"
        for state in states:
            db.session.add(WorkflowEvent(request_id=request.id, transition="t", from_state=previous, to_state=state))
            previous = state
    db.session.flush()
    kept.rebuild()  # rows written without the services: the dashboard's kept rows rebuilt
    return bureau


ROWS = [
    ("320505", "excellent", ["submitted", "verifying", "verified"]),  # verified
    ("320506", "poor", ["submitted", "verifying", "returned"]),  # not verified
    ("320505", "excellent", ["submitted", "verifying", "verified", "returned", "submitted", "verifying",
                             "verified"]),  # verified twice: counted once
    ("320100", "excellent", ["submitted", "verifying", "verified"]),  # Nanjing: not Suzhou's
]


def test_the_funnel_counts_each_request_once_per_stage_and_only_the_regions(ctx):
    today = date.today()
    bureau = _posted_requests("320500", ROWS)
    result = figures(bureau, today - timedelta(days=1), today + timedelta(days=1))
    stages = {s.stage: (s.count, s.amount) for s in result.funnel}
    assert stages["posted"] == (3, Decimal("600000.00"))
    assert stages["verified"] == (2, Decimal("400000.00"))  # the first and the third
    assert stages["routed"] == stages["offered"] == stages["financed"] == (0, Decimal(0))
    assert result.classification_mix["excellent"] == (2, Decimal("400000.00"))
    assert result.classification_mix["poor"] == (1, Decimal("200000.00"))
    province = figures(_posted_requests("320000", []), today - timedelta(days=1), today + timedelta(days=1))
    assert {s.stage: s.count for s in province.funnel}["posted"] == 4


def test_the_region_prefix_is_rendered_into_the_sql_and_escaped(ctx):

    from marketplace.bureau.region import like_prefix_pattern

    assert like_prefix_pattern("3205") == "3205%"
    assert like_prefix_pattern("3_%/") == "3/_/%//%"  # LIKE's metacharacters and the escape itself
    bureau = _posted_requests("320500", ROWS)
    with statements_run() as statements:
        figures(bureau, date(2026, 1, 1), date(2026, 12, 31))
    # the prefix is a literal of each statement that filters by region (a plan per bureau), not a parameter
    assert any("LIKE '3205%" in s for s in statements)
    assert not any("LIKE %(" in s or "|| '%" in s for s in statements)


def test_postgresql_connections_run_without_jit(ctx):
    from sqlalchemy import text

    from marketplace.config import without_jit
    from marketplace.extensions import db

    assert db.session.execute(text("SHOW jit")).scalar_one() == "off"
    config = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/d", "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}}
    without_jit(config)
    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True, "connect_args": {"options": "-c jit=off"}}
    chosen = {"SQLALCHEMY_DATABASE_URI": "postgresql://u@h/d",
              "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": "-c jit=on -c work_mem=64MB"}}}
    without_jit(chosen)  # an explicit choice stays
    assert chosen["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"] == "-c jit=on -c work_mem=64MB"
    sqlite = {"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db", "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}}
    without_jit(sqlite)
    assert sqlite["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}


# ---- issue 13 item 2: the region's enterprises by their current credit grade ---------------------

def add_grade(enterprise_id: int, letter: str | None, score: int | None = None):
    """A grade row for the enterprise (letter None: an ungraded result, no data)."""
    from marketplace.credit.models import CreditGrade
    from marketplace.extensions import db
    from workflows.credit_model import COLOURS

    row = CreditGrade(enterprise_id=enterprise_id, grade=letter, colour=COLOURS[letter] if letter else None,
                      score=(score or 600) if letter else None, reasons=[], model_version="test",
                      evaluated_on=date.today(), inputs_digest="0" * 64, trigger="test")
    db.session.add(row)
    db.session.flush()
    return row


def graded_region():
    """Suzhou (320500): an enterprise graded A then C (C is current), one B, one whose latest row is
    ungraded (B before it), one never graded; Nanjing (320100): one A, not Suzhou's."""
    from marketplace.accounts.models import Organisation
    from marketplace.extensions import db
    from tests.factories import EnterpriseFactory

    history, b, lost, never = (EnterpriseFactory(region_code=code) for code in ("320505", "320506", "320505", "320505"))
    add_grade(history.id, "A", 800)
    add_grade(b.id, "B")
    add_grade(lost.id, "B")
    add_grade(history.id, "C", 500)
    add_grade(lost.id, None)
    add_grade(EnterpriseFactory(region_code="320100").id, "A", 800)
    assert never.id
    return db.session.merge(Organisation(kind="bureau", name="苏州局", region_code="320500"))


def test_the_grade_distribution_counts_the_regions_enterprises_by_their_latest_grade(ctx):
    from marketplace.accounts.models import Organisation
    from marketplace.extensions import db

    bureau = graded_region()
    result = figures(bureau, date(2026, 1, 1), date(2026, 1, 31))  # no request in range: grades all the same
    assert result.grade_distribution == [("A", 0), ("B", 1), ("C", 1), ("D", 0), ("ungraded", 2)]
    province = db.session.merge(Organisation(kind="bureau", name="江苏局", region_code="320000"))
    assert dict(figures(province, date(2026, 1, 1), date(2026, 1, 31)).grade_distribution) == {
        "A": 1, "B": 1, "C": 1, "D": 0, "ungraded": 2}
