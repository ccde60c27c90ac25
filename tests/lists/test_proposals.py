"""The yearly lists: computed from the rows for a bureau's region, reviewed entry by entry with
reasons, confirmed and so published; the beat task runs once per region and year; a coordinator
works only on their own region's proposals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.lists import services
from marketplace.lists.models import ListMembership, ListProposal
from marketplace.lists.tasks import compute_yearly_lists
from tests.factories import EnterpriseFactory
from tests.lists.conftest import publish, yellow_enterprise
from tests.loans.helpers import accepted, repay, scheduled


def membership(proposal, enterprise) -> ListMembership | None:
    return db.session.scalar(select(ListMembership).where(ListMembership.proposal_id == proposal.id,
                                                          ListMembership.enterprise_id == enterprise.id))


def compute(app, coordinator, year=None):
    with app.test_request_context():
        proposal = services.compute_proposal(coordinator.organisation.region_code, year or today_shanghai().year,
                                             coordinator, today_shanghai())
        db.session.commit()
    return proposal


def test_the_region_is_computed_white_for_no_loan_and_yellow_for_a_dishonest_debtor(app, world):
    with app.test_request_context():
        never = EnterpriseFactory()
        dishonest = yellow_enterprise()
        beijing = EnterpriseFactory(region_code="110105")
    proposal = compute(app, world.coordinator)
    assert proposal.state == "proposed" and proposal.region_code == "320500"
    white, yellow = membership(proposal, never), membership(proposal, dishonest)
    assert (white.list_kind, white.code, white.decision) == ("white", "no_loan_ever", "included")
    assert "培育" in white.reason_zh and "cultivation pool" in white.reason_en
    assert (yellow.list_kind, yellow.code) == ("yellow", "dishonest_debtor")
    assert membership(proposal, beijing) is None  # outside the bureau's region
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "lists.proposal_computed", AuditEvent.object_id == str(proposal.id))) == 1


def test_a_borrower_that_repaid_on_time_is_red_and_one_90_days_past_due_is_yellow(app, world):
    good = accepted(app, accepted_days_ago=60)
    start = today_shanghai() - timedelta(days=60)
    loan = scheduled(app, good, on=start, rows=[(start + timedelta(days=30), Decimal("200000.00"), Decimal("600.00"))])
    repay(app, good, loan, "200600.00", on=start + timedelta(days=30))
    bad = accepted(app, accepted_days_ago=200)
    start = today_shanghai() - timedelta(days=200)
    scheduled(app, bad, on=start, rows=[(start + timedelta(days=100), Decimal("200000.00"), Decimal("600.00"))])
    db.session.commit()
    proposal = compute(app, world.coordinator)
    red = membership(proposal, good.request.enterprise)
    assert red.list_kind == "red" and "已还款1次" in red.reason_zh
    yellow = membership(proposal, bad.request.enterprise)
    assert yellow.list_kind == "yellow" and yellow.code == "evasion" and "100天" in yellow.reason_zh


def test_confirming_publishes_the_included_entries_and_not_the_excluded_one(app, world):
    with app.test_request_context():
        kept, dropped = EnterpriseFactory(), EnterpriseFactory()
    proposal = compute(app, world.coordinator)
    assert services.memberships_for(kept.id) == []  # proposed is not published
    with app.test_request_context():
        services.decide_membership(membership(proposal, dropped), world.coordinator, False, "企业已在他行获得贷款")
        services.confirm_proposal(proposal, world.coordinator, "年度审核")
        db.session.commit()
    assert proposal.state == "confirmed" and proposal.confirmed_by_id == world.coordinator.id
    published = services.memberships_for(kept.id)
    assert [(m.list_kind, m.year) for m in published] == [("white", today_shanghai().year)]
    assert published[0].published_at is not None
    excluded = membership(proposal, dropped)
    assert services.memberships_for(dropped.id) == []
    assert (excluded.decision, excluded.decision_reason, excluded.published_at) == ("excluded", "企业已在他行获得贷款", None)


def test_excluding_without_a_reason_is_refused_and_stores_nothing(app, world):
    with app.test_request_context():
        enterprise = EnterpriseFactory()
    proposal = compute(app, world.coordinator)
    entry = membership(proposal, enterprise)
    with app.test_request_context(), pytest.raises(services.ListRefused, match="理由"):
        services.decide_membership(entry, world.coordinator, False, "  ")
    db.session.refresh(entry)
    assert entry.decision == "included" and entry.decided_at is None


def test_a_confirmed_proposal_cannot_be_changed(app, world):
    with app.test_request_context():
        enterprise = EnterpriseFactory()
    proposal = publish(app, world.coordinator)
    with app.test_request_context(), pytest.raises(services.ListRefused):
        services.decide_membership(membership(proposal, enterprise), world.coordinator, False, "理由")


def test_a_new_confirmation_supersedes_the_earlier_one_of_the_same_year(app, world):
    with app.test_request_context():
        enterprise = EnterpriseFactory()
    first = publish(app, world.coordinator)
    second = publish(app, world.coordinator)
    assert (first.state, second.state) == ("superseded", "confirmed")
    assert len(services.memberships_for(enterprise.id)) == 1


def test_the_yearly_task_proposes_once_per_region_and_year(app, world):
    with app.test_request_context():
        EnterpriseFactory()
    year = today_shanghai().year - 1
    assert compute_yearly_lists(year) == 2  # Suzhou and Beijing
    assert compute_yearly_lists(year) == 0
    proposals = db.session.scalars(select(ListProposal).where(ListProposal.year == year)).all()
    assert sorted(p.region_code for p in proposals) == ["110000", "320500"]
    assert all(p.trigger == "yearly" and p.computed_by_id is None and p.evaluation_date.month == 12
               for p in proposals)


def test_a_year_in_the_future_is_refused(app, world):
    with app.test_request_context(), pytest.raises(services.ListRefused, match="年度无效"):
        services.compute_proposal("320500", today_shanghai().year + 1, world.coordinator, today_shanghai())
    assert db.session.scalar(select(func.count(ListProposal.id))) == 0


def test_a_coordinator_of_another_region_can_neither_see_nor_decide(app, world, login):
    proposal = compute(app, world.coordinator)
    client = login(world.distant)
    assert client.get(f"/bureau/lists/{proposal.id}").status_code == 404
    assert client.post(f"/bureau/lists/{proposal.id}/confirm", data={}).status_code == 404
    assert f'data-testid="proposal-{proposal.id}"' not in client.get("/bureau/lists").get_data(as_text=True)
    own = login(world.coordinator).get("/bureau/lists").get_data(as_text=True)
    assert f'data-testid="proposal-{proposal.id}"' in own
    with app.test_request_context(), pytest.raises(services.ListRefused):
        services.confirm_proposal(proposal, world.distant)


def test_the_coordinator_computes_reviews_and_confirms_on_the_pages(app, world, login):
    with app.test_request_context():
        enterprise = yellow_enterprise(name="苏州逃债测试有限公司")
    client = login(world.coordinator)
    page = client.get("/bureau/lists")
    assert page.status_code == 200 and 'data-testid="lists-compute"' in page.get_data(as_text=True)
    answer = client.post("/bureau/lists", data={"year": today_shanghai().year})
    assert answer.status_code == 302
    proposal = db.session.scalar(select(ListProposal).order_by(ListProposal.id.desc()))
    detail = client.get(f"/bureau/lists/{proposal.id}").get_data(as_text=True)
    assert "江苏省苏州市" in detail and "苏州逃债测试有限公司" in detail and "失信被执行人" in detail and "data-confirm" in detail
    entry = membership(proposal, enterprise)
    refused = client.post(f"/bureau/lists/{proposal.id}/entries/{entry.id}", data={"decision": "excluded", "reason": ""})
    assert refused.status_code == 422 and "须填写理由" in refused.get_data(as_text=True)
    assert client.post(f"/bureau/lists/{proposal.id}/confirm", data={"note": ""}).status_code == 302
    assert proposal.state == "confirmed"
    assert services.yellow_listed([enterprise.id, enterprise.id + 999]) == {enterprise.id}


def test_a_bad_year_on_the_page_is_refused_clearly(app, world, login):
    client = login(world.coordinator)
    answer = client.post("/bureau/lists", data={"year": "abc"})
    assert answer.status_code == 422
    assert db.session.scalar(select(func.count(ListProposal.id))) == 0


def test_the_beat_runs_the_yearly_lists_in_january_and_the_push_on_the_first_of_the_month(app):
    from marketplace.celery import BEAT_SCHEDULE

    yearly, monthly = BEAT_SCHEDULE["lists-yearly-proposals"], BEAT_SCHEDULE["lists-monthly-pushes"]
    assert yearly["task"] == compute_yearly_lists.name and monthly["task"].endswith("propose_monthly_pushes")
    assert yearly["schedule"].month_of_year == {1} and monthly["schedule"].day_of_month == {1}
