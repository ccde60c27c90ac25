"""Financing requests: pledges (one active request per receivable, enforced by the database),
submission through the workflow engine, the timeline, withdrawal and the optimistic lock."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.enterprises.services import sign_commitment
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest, RequestPledge, WorkflowEvent
from tests.factories import ReceivableFactory, make_enterprise_user


@pytest.fixture
def owner(app):
    user = make_enterprise_user()
    return user


def sign(app, user):
    with app.test_request_context():
        sign_commitment(user.enterprise, user, user.name, "127.0.0.1")


def receivables(user, *amounts):
    return [ReceivableFactory(enterprise=user.enterprise, face_amount=Decimal(a)) for a in amounts]


def create(client, rcvs, amount="150000.00", term=90, purpose="采购原材料"):
    return client.post("/financing/new", data={
        "amount": amount, "term_days": term, "purpose": purpose, "receivables": [r.id for r in rcvs]})


def only_request(user) -> FinancingRequest:
    return db.session.scalar(select(FinancingRequest).where(FinancingRequest.enterprise_id == user.enterprise.id))


def test_enterprise_creates_a_draft_pledging_its_receivables(client, login, owner):
    rcvs = receivables(owner, "100000.00", "80000.00")
    login(owner)
    response = create(client, rcvs)
    request = only_request(owner)
    assert response.headers["Location"].endswith(f"/financing/{request.id}")
    assert request.state == "draft" and request.amount == Decimal("150000.00")
    assert {p.receivable_id for p in request.active_pledges} == {r.id for r in rcvs}
    assert request.pledged_total == Decimal("180000.00")


@pytest.mark.parametrize(("amount", "message"), [
    ("-5", "融资金额必须大于零"), ("0", "融资金额必须大于零"), ("100.123", "最多两位小数"),
    ("abc", "金额"), ("180000.01", "不能超过所选应收账款的合计金额"),
])
def test_bad_amounts_are_refused_and_nothing_is_stored(client, login, owner, amount, message):
    rcvs = receivables(owner, "100000.00", "80000.00")
    login(owner)
    page = create(client, rcvs, amount=amount).get_data(as_text=True)
    assert message in page and only_request(owner) is None


def test_term_out_of_range_is_refused(client, login, owner):
    rcvs = receivables(owner, "100000.00")
    login(owner)
    assert "融资期限应在1至720天之间" in create(client, rcvs, amount="1000", term=0).get_data(as_text=True)


def test_a_receivable_pledged_to_an_active_request_is_not_offered_again(client, login, owner):
    rcv = receivables(owner, "100000.00")
    login(owner)
    create(client, rcv + receivables(owner, "1000.00"), amount="50000")
    assert 'data-testid="pledge-' not in client.get("/financing/new").get_data(as_text=True)
    response = create(client, rcv, amount="50000")
    assert 'data-testid="all-pledged"' in response.get_data(as_text=True)  # nothing left to pledge
    assert len(db.session.scalars(select(FinancingRequest)).all()) == 1


def test_with_every_receivable_pledged_the_new_request_page_says_so_and_links_the_requests(client, login, owner):
    """Issue 16: not "no receivables, register some" when all of them back open requests."""
    login(owner)
    assert "请先登记应收账款" in client.get("/financing/new", follow_redirects=True).get_data(as_text=True)  # none
    create(client, receivables(owner, "100000.00"), amount="50000")
    request = only_request(owner)
    page = client.get("/financing/new").get_data(as_text=True)
    assert "都已质押给下列未结束的融资申请" in page and "请先登记应收账款" not in page
    assert f'href="/financing/{request.id}"' in page and 'data-testid="register-receivable"' in page


def test_choosing_an_already_pledged_receivable_is_refused(client, login, owner):
    taken, free = receivables(owner, "100000.00", "5000.00")
    login(owner)
    create(client, [taken], amount="50000")
    page = create(client, [taken, free], amount="1000").get_data(as_text=True)
    assert "已被其他申请质押或不属于本企业" in page
    assert len(db.session.scalars(select(FinancingRequest)).all()) == 1


def test_the_database_refuses_a_second_active_pledge_of_one_receivable(owner):
    rcv = receivables(owner, "100000.00")[0]
    for _ in range(2):
        request = FinancingRequest(enterprise_id=owner.enterprise.id, amount=Decimal("1"), term_days=30,
                                   purpose="x", created_by_id=owner.id)
        request.pledges.append(RequestPledge(receivable_id=rcv.id, active=True))
        db.session.add(request)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_another_enterprises_receivable_cannot_be_pledged(client, login, owner):
    foreign = receivables(make_enterprise_user(), "100000.00")
    mine = receivables(owner, "100000.00")
    login(owner)
    create(client, mine + foreign, amount="1000")
    assert only_request(owner) is None


def test_submit_is_refused_until_the_commitment_is_signed(app, client, login, owner):
    rcvs = receivables(owner, "200000.00")
    login(owner)
    create(client, rcvs)
    request = only_request(owner)
    page = client.get(f"/financing/{request.id}").get_data(as_text=True)
    assert "请先签署信用承诺书" in page and 'data-testid="submit-request"' not in page
    client.post(f"/financing/{request.id}/submit", data={"version": request.version})
    assert request.state == "draft"
    sign(app, owner)
    client.post(f"/financing/{request.id}/submit", data={"version": request.version})
    db.session.refresh(request)
    # verified at once (eager tasks): with no bank statement uploaded the cash flow cannot be
    # judged, so the request comes back with the reasons
    assert request.submitted_at is not None and request.state == "returned"


def test_submission_writes_the_timeline_and_the_audit_log(app, client, login, owner):
    from marketplace.audit import AuditEvent

    rcvs = receivables(owner, "200000.00")
    sign(app, owner)
    login(owner)
    create(client, rcvs)
    request = only_request(owner)
    client.post(f"/financing/{request.id}/submit", data={"version": request.version})
    events = db.session.scalars(select(WorkflowEvent).where(WorkflowEvent.request_id == request.id)
                                .order_by(WorkflowEvent.id)).all()
    assert [(e.from_state, e.to_state) for e in events] == [
        (None, "draft"), ("draft", "submitted"), ("submitted", "verifying"), ("verifying", "verified"),
        ("verified", "returned")]
    assert events[1].actor_user_id == owner.id and events[2].actor_user_id is None  # the platform verifies
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "financing.submit",
                                                      AuditEvent.object_id == str(request.id)))
    page = client.get(f"/financing/{request.id}").get_data(as_text=True)
    assert "已提交" in page and "草稿" in page  # both steps show on the timeline


def test_stale_form_is_refused_by_the_optimistic_lock(app, client, login, owner):
    rcvs = receivables(owner, "200000.00")
    sign(app, owner)
    login(owner)
    create(client, rcvs)
    request = only_request(owner)
    old_version = request.version
    client.post(f"/financing/{request.id}/edit", data={
        "amount": "120000", "term_days": 60, "purpose": "改", "receivables": [rcvs[0].id], "version": old_version})
    assert request.version == old_version + 1
    response = client.post(f"/financing/{request.id}/submit", data={"version": old_version}, follow_redirects=True)
    assert "已被修改" in response.get_data(as_text=True) and request.state == "draft"


def test_withdrawal_releases_the_pledges_for_a_new_request(app, client, login, owner):
    rcvs = receivables(owner, "200000.00")
    login(owner)
    create(client, rcvs)
    request = only_request(owner)
    client.post(f"/financing/{request.id}/withdraw", data={"version": request.version})
    assert request.state == "withdrawn" and not request.active_pledges
    create(client, rcvs, amount="1000")
    assert len(db.session.scalars(select(FinancingRequest)).all()) == 2


def test_submitted_request_cannot_be_edited(app, client, login, owner, worker_idle):
    rcvs = receivables(owner, "200000.00")
    sign(app, owner)
    login(owner)
    create(client, rcvs)
    request = only_request(owner)
    client.post(f"/financing/{request.id}/submit", data={"version": request.version})
    client.post(f"/financing/{request.id}/edit", data={
        "amount": "1", "term_days": 1, "purpose": "x", "receivables": [rcvs[0].id], "version": request.version})
    assert request.state == "submitted" and request.amount == Decimal("150000.00")


def test_another_enterprises_request_is_not_found(client, login, owner):
    rcvs = receivables(owner, "200000.00")
    login(owner)
    create(client, rcvs)
    request = only_request(owner)
    login(make_enterprise_user())
    assert client.get(f"/financing/{request.id}").status_code == 404
    assert client.post(f"/financing/{request.id}/withdraw").status_code == 404


def test_empty_list_invites_a_first_request(client, login, owner):
    login(owner)
    assert 'data-testid="empty"' in client.get("/financing/").get_data(as_text=True)


def test_service_turns_a_double_pledge_into_a_clear_refusal_and_keeps_the_session(app, owner):
    """Two tabs racing: the second pledge of a receivable fails inside its savepoint only."""
    from marketplace.financing.services import PledgeConflict, create_request

    rcv = receivables(owner, "100000.00")[0]
    with app.test_request_context():
        first = create_request(owner.enterprise, owner, amount=Decimal("1000"), term_days=30, purpose="甲",
                               receivable_ids=[rcv.id])
        with pytest.raises(PledgeConflict, match="只能支持一笔融资申请"):
            create_request(owner.enterprise, owner, amount=Decimal("1000"), term_days=30, purpose="乙",
                           receivable_ids=[rcv.id])
        db.session.commit()  # the session is still usable; the first request stands
    assert [p.receivable_id for p in first.active_pledges] == [rcv.id]
