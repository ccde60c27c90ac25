"""The matcher's institution records read from kept rows (target_decisions, issue 15): the rows
the desks' decisions keep are the rows a rebuild writes, the migration's fill writes the same,
and the records are those computed from the offers and declines themselves, as before."""

from __future__ import annotations

import importlib.util
import random
from datetime import timedelta
from pathlib import Path
from statistics import median

import pytest
from sqlalchemy import func, select

from marketplace.accounts.roles import Role
from marketplace.db import utcnow
from marketplace.desks import decisions
from marketplace.desks.models import Decline, Offer
from marketplace.extensions import db
from marketplace.supermarket import decision_records, matching
from marketplace.supermarket.models import RequestTarget, TargetDecision
from tests.desks.helpers import claimed, colleague, routed, target_of
from tests.desks.test_decisions import competing, offer
from tests.factories import EnterpriseFactory
from tests.supermarket.products import lender, make_product
from tests.supermarket.test_leads import open_request

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "20261207_c23a00000001_target_decisions.py"


def kept_rows() -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        select(TargetDecision.target_id, TargetDecision.institution_id, TargetDecision.offered, TargetDecision.days)
        .order_by(TargetDecision.target_id))]


def rebuilt_rows() -> list[tuple]:
    db.session.flush()
    return sorted(tuple(row) for row in db.session.execute(decision_records.decided_targets()))


def reference_records() -> dict[int, tuple[float, float]]:
    """(median days, offer share) per institution as institution_records computed them before
    the kept rows: from the offers and declines joined to their targets, in Python."""
    decided: dict[int, dict[int, tuple[bool, float]]] = {}
    routed_at = {t.id: t.routed_at for t in db.session.scalars(select(RequestTarget))}
    firsts: dict[tuple[bool, int], object] = {}
    for offered, rows in ((True, db.session.execute(select(Offer.target_id, Offer.approved_at)
                                                    .where(Offer.approved_at.is_not(None)))),
                          (False, db.session.execute(select(Decline.target_id, Decline.created_at)))):
        for target_id, moment in rows:
            key = (offered, target_id)
            firsts[key] = min(firsts.get(key, moment), moment)
    for (offered, target_id), moment in sorted(firsts.items(), key=lambda item: not item[0][0]):  # offers first
        target = db.session.get(RequestTarget, target_id)
        if routed_at[target_id] is None:
            continue
        days = max((moment - routed_at[target_id]).total_seconds() / 86400, 0.0)
        decided.setdefault(target.institution_id, {}).setdefault(target_id, (offered, days))
    return {institution: (median([d for _o, d in targets.values()]),
                          sum(o for o, _d in targets.values()) / len(targets))
            for institution, targets in decided.items()}


def test_the_desks_decisions_keep_the_rows_a_rebuild_writes(app, monkeypatch):
    case = routed(app)
    other, other_target = competing(app, case)
    assert kept_rows() == []
    monkeypatch.setitem(app.config, "FOUR_EYES_AMOUNT", "100000.00")
    approver = colleague(case.bank_staff, Role.BANK_APPROVER)
    target = claimed(app, target_of(case), approver)
    pending = offer(app, target, approver)
    db.session.flush()
    assert kept_rows() == []  # an offer awaiting its second approver is no decision yet
    with app.test_request_context():
        decisions.approve_offer(pending, colleague(case.bank_staff, Role.BANK_APPROVER))
        decisions.decline(claimed(app, other_target, other), other, "policy", "")
    db.session.flush()
    rows = kept_rows()
    assert [(t, i, o) for t, i, o, _d in rows] == sorted([(target.id, case.bank_staff.organisation_id, True),
                                                          (other_target.id, other.organisation_id, False)])
    assert rows == rebuilt_rows()
    assert decision_records.rebuild() == 2
    assert kept_rows() == rows


@pytest.fixture
def many_decisions(app):
    """Three banks, 60 routed targets decided at random: offers (some never approved), declines,
    both on one target, several of each, a decision before its routing moment, one target never
    routed, and a target routed again after its decision."""
    rng = random.Random(23)
    banks = [lender(name=f"记录银行{i}") for i in range(3)]
    versions = [make_product(app, bank, name=f"记录产品{i}").current_version_id for i, bank in enumerate(banks)]
    now = utcnow()
    targets = []
    for n in range(60):
        request = open_request(EnterpriseFactory(), state="bank_review")
        i = n % 3
        target = RequestTarget(request_id=request.id, product_version_id=versions[i],
                               institution_id=banks[i].organisation_id, rank=1, chosen_by="match",
                               status="routed", routed_at=now - timedelta(days=rng.uniform(5, 60)))
        db.session.add(target)
        db.session.flush()
        targets.append(target)
        for _ in range(rng.choice([0, 1, 1, 2])):
            at = target.routed_at + timedelta(days=rng.uniform(-1, 20), seconds=rng.randint(0, 86399))
            if rng.random() < 0.5:
                approved = rng.random() < 0.8
                db.session.add(Offer(target_id=target.id, request_id=request.id, institution_id=target.institution_id,
                                     amount=request.amount, annual_rate=4, term_days=90, expires_on=now.date(),
                                     made_by_id=banks[i].id, status="made" if approved else "pending_approval",
                                     approved_by_id=banks[i].id if approved else None,
                                     approved_at=at if approved else None))
            else:
                db.session.add(Decline(target_id=target.id, request_id=request.id, institution_id=target.institution_id,
                                       reason_code="policy", decided_by_id=banks[i].id, created_at=at))
            db.session.flush()
    never_routed = targets[0]
    never_routed.status, never_routed.routed_at = "waiting", None
    targets[1].routed_at = targets[1].routed_at - timedelta(days=3)  # routed again: its days change
    db.session.flush()
    return banks


def test_the_records_are_those_of_the_decisions_themselves(app, many_decisions):
    assert kept_rows() == rebuilt_rows()
    matching._records_kept.clear()
    records = matching.institution_records()
    reference = reference_records()
    assert set(records) == set(reference) == {bank.organisation_id for bank in many_decisions}
    for institution, (days, share) in reference.items():
        assert records[institution].median_turnaround_days == pytest.approx(days, rel=1e-9)
        assert records[institution].acceptance_rate == pytest.approx(share, rel=1e-12)
    one = many_decisions[1].organisation_id
    assert matching.institution_records([one]) == {one: records[one]}


def test_postgresql_and_the_embedded_database_agree(app, many_decisions):
    """PostgreSQL's percentile_cont and the Python median SQLite's path takes, on the same rows."""
    in_python = matching.records_of(db.session.execute(
        select(TargetDecision.institution_id, TargetDecision.offered, TargetDecision.days)))
    matching._records_kept.clear()
    in_sql = matching.institution_records()
    assert set(in_python) == set(in_sql)
    for institution, record in in_sql.items():
        assert record.median_turnaround_days == pytest.approx(in_python[institution].median_turnaround_days, rel=1e-12)
        assert record.acceptance_rate == in_python[institution].acceptance_rate


def test_the_migrations_fill_writes_what_a_rebuild_writes(app, many_decisions):
    """The revision's own SQL (no app code) on the decisions already there."""
    spec = importlib.util.spec_from_file_location("c23a00000001", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    expected = rebuilt_rows()
    db.session.execute(TargetDecision.__table__.delete())

    class Op:
        @staticmethod
        def get_bind():
            return db.session.connection()

    migration.op = Op
    migration.fill()
    assert kept_rows() == expected and db.session.scalar(select(func.count()).select_from(TargetDecision)) > 30
