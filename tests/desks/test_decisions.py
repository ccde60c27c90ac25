"""Offers (four eyes above the configured amount), declines with reason codes, competing offers
side by side, information requests."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.accounts.roles import Role
from marketplace.desks import claims, decisions, info
from marketplace.desks.models import Offer
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.notifications.models import Notification
from marketplace.supermarket.models import RequestTarget
from tests.desks.helpers import claimed, colleague, routed, target_of, terms
from tests.factories import grant_consent_to
from tests.sql_log import statements_run
from tests.supermarket.products import lender, make_product


@pytest.fixture
def case(app):
    return routed(app)


def offer(app, target, user, **kwargs):
    with app.test_request_context():
        return decisions.make_offer(target, user, terms(**kwargs))


def test_an_offer_needs_the_claim(app, case):
    with app.test_request_context(), pytest.raises(claims.ClaimRefused, match="认领"):
        decisions.make_offer(target_of(case), case.bank_staff, terms())


def test_an_offer_up_to_the_four_eyes_amount_reaches_the_enterprise_at_once(app, case):
    target = claimed(app, target_of(case), case.bank_staff)
    made = offer(app, target, case.bank_staff)
    assert made.status == "made" and made.approved_by_id == case.bank_staff.id
    assert case.request.state == "offer_made" and target.status == "offered"
    assert db.session.scalar(select(Notification).where(Notification.kind == "offer.made",
                                                        Notification.user_id == case.owner.id))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"amount": "250000.01"}, "不能超过申请金额"),
    ({"amount": "0"}, "必须大于零"),
    ({"rate": "36.50"}, "年化利率"),
    ({"rate": "0"}, "年化利率"),
    ({"valid_days": -1}, "有效期"),
    ({"valid_days": 400}, "有效期"),
])
def test_bad_offers_are_refused_with_nothing_changed(app, case, kwargs, message):
    target = claimed(app, target_of(case), case.bank_staff)
    with pytest.raises(decisions.DecisionRefused, match=message):
        offer(app, target, case.bank_staff, **kwargs)
    assert db.session.scalar(select(Offer.id)) is None and case.request.state == "bank_review"


def test_above_the_four_eyes_amount_a_second_different_approver_is_needed(app, case):
    app.config["FOUR_EYES_AMOUNT"] = "100000.00"
    try:
        approver = colleague(case.bank_staff, Role.BANK_APPROVER)
        second = colleague(case.bank_staff, Role.BANK_APPROVER)
        target = claimed(app, target_of(case), approver)
        pending = offer(app, target, approver)
        assert pending.status == "pending_approval" and case.request.state == "bank_review"
        with app.test_request_context():
            with pytest.raises(decisions.DecisionRefused, match="四眼原则"):
                decisions.approve_offer(pending, approver)
            with pytest.raises(decisions.DecisionRefused, match="审批人"):
                decisions.approve_offer(pending, case.bank_staff)  # an officer, not an approver
            decisions.approve_offer(pending, second)
        assert pending.status == "made" and pending.approved_by_id == second.id != pending.made_by_id
        assert case.request.state == "offer_made"
    finally:
        app.config["FOUR_EYES_AMOUNT"] = "5000000.00"


def test_the_database_refuses_an_offer_approved_by_its_maker(app, case):
    from sqlalchemy.exc import IntegrityError

    target = claimed(app, target_of(case), case.bank_staff)
    made = offer(app, target, case.bank_staff)  # below the four-eyes amount: one person decides
    assert made.approved_by_id == made.made_by_id and not made.four_eyes
    with pytest.raises(IntegrityError), db.session.begin_nested():
        made.four_eyes = True  # above it, the same person twice is refused whatever the code did
        db.session.flush()


@pytest.mark.parametrize("status", ["made", "accepted", "closed", "expired"])
def test_the_database_refuses_an_offer_out_of_the_bank_without_an_approver(app, case, status):
    from sqlalchemy.exc import IntegrityError

    target = claimed(app, target_of(case), case.bank_staff)
    made = offer(app, target, case.bank_staff)
    with pytest.raises(IntegrityError, match="four_eyes|approved_when_made"), db.session.begin_nested():
        made.four_eyes = True  # above the four-eyes amount, "approved" by nobody
        made.approved_by_id = None
        made.status = status
        db.session.flush()
    with pytest.raises(IntegrityError, match="approved_when_made"), db.session.begin_nested():
        made.approved_by_id = None  # below it, too: whoever decided is named
        made.status = status
        db.session.flush()


def test_a_pending_or_withdrawn_offer_needs_no_approver(app, case):
    app.config["FOUR_EYES_AMOUNT"] = "100000.00"
    try:
        approver = colleague(case.bank_staff, Role.BANK_APPROVER)
        pending = offer(app, claimed(app, target_of(case), approver), approver)
        assert pending.status == "pending_approval" and pending.approved_by_id is None
        pending.status = "withdrawn"
        db.session.flush()
    finally:
        app.config["FOUR_EYES_AMOUNT"] = "5000000.00"


def competing(app, case):
    """A second bank holding the same request: its product fits and the request goes to it too."""
    other = lender(name="第二家银行")
    make_product(app, other, name="第二家银行应收账款贷")
    grant_consent_to(case.owner.enterprise, other.organisation_id)
    target = RequestTarget(request_id=case.request.id, product_version_id=target_of(case).product_version_id,
                           institution_id=other.organisation_id, rank=2, chosen_by="match", status="routed",
                           routed_at=target_of(case).routed_at)
    db.session.add(target)
    db.session.flush()
    return other, target


def test_enterprise_sees_competing_offers_side_by_side_and_accepting_one_closes_the_others(app, client, login,
                                                                                           case):
    other, other_target = competing(app, case)
    first = offer(app, claimed(app, target_of(case), case.bank_staff), case.bank_staff, rate="4.10")
    second = offer(app, claimed(app, other_target, other), other, rate="3.65")
    db.session.commit()
    login(case.owner)
    page = client.get(f"/financing/{case.request.id}/offers").get_data(as_text=True)
    assert page.count('data-testid="offer-card"') == 2 and page.index("3.65%") < page.index("4.10%")
    client.post(f"/financing/{case.request.id}/offers/{second.id}/accept")
    assert second.status == "accepted" and first.status == "closed"
    assert case.request.state == "offer_accepted"
    assert target_of(case).status == "closed" and other_target.status == "accepted"
    assert claims.open_assignment(target_of(case).id) is None  # the losing bank's claim ended
    assert db.session.scalar(select(Notification).where(Notification.kind == "offer.closed",
                                                        Notification.user_id == case.bank_staff.id))


def test_an_expired_offer_cannot_be_accepted(app, case):
    made = offer(app, claimed(app, target_of(case), case.bank_staff), case.bank_staff)
    made.expires_on = today_shanghai() - timedelta(days=1)
    with app.test_request_context(), pytest.raises(decisions.DecisionRefused, match="过期"):
        decisions.accept_offer(made, case.owner)
    assert made.status == "made" and case.request.state == "offer_made"


def test_the_last_bank_declining_returns_the_request_with_the_reason(app, case):
    target = claimed(app, target_of(case), case.bank_staff)
    with app.test_request_context():
        with pytest.raises(decisions.DecisionRefused, match="拒绝原因"):
            decisions.decline(target, case.bank_staff, "nonsense", "")
        decisions.decline(target, case.bank_staff, "cash_flow", "近三个月回款下降")
    assert target.status == "declined" and claims.open_assignment(target.id) is None
    assert [e.transition for e in case.request.events][-2:] == ["decline", "return_after_bank"]
    assert case.request.state == "returned"


def test_one_bank_declining_leaves_the_request_with_the_others(app, case):
    other, other_target = competing(app, case)
    claimed(app, other_target, other)
    target = claimed(app, target_of(case), case.bank_staff)
    with app.test_request_context():
        decisions.decline(target, case.bank_staff, "industry_limit", "")
    assert case.request.state == "bank_review" and other_target.status == "reviewing"


def test_a_question_pauses_the_review_and_the_answer_resumes_it(app, case):
    target = claimed(app, target_of(case), case.bank_staff)
    with app.test_request_context():
        question = info.ask(target, case.bank_staff, "请补充近6个月增值税纳税申报表")
    assert case.request.state == "info_requested" and target.status == "info_requested"
    with app.test_request_context():
        info.answer(question, case.owner, "已上传", [])
    assert case.request.state == "bank_review" and target.status == "reviewing"
    assert question.answered_by_id == case.owner.id


def test_queue_lists_filters_and_counts(app, client, login, case):
    second = routed(app, consent_to=[case.bank_staff.organisation_id])
    login(case.bank_staff)
    page = client.get("/institution/requests/").get_data(as_text=True)
    assert f'data-request-id="{case.request.id}"' in page and f'data-request-id="{second.request.id}"' in page
    assert 'data-testid="count-routed_to_bank"' in page
    page = client.get("/institution/requests/?amount_min=999999999").get_data(as_text=True)
    assert 'data-testid="desk-row"' not in page and 'data-testid="empty"' in page
    claimed(app, target_of(case), case.bank_staff)
    db.session.commit()
    page = client.get("/institution/requests/?mine=1").get_data(as_text=True)
    assert f'data-request-id="{case.request.id}"' in page and f'data-request-id="{second.request.id}"' not in page


def test_keyset_pages_walk_the_whole_queue_once(app):
    from marketplace.desks import queue

    cases = [routed(app)]
    officer = cases[0].bank_staff
    cases += [routed(app, consent_to=[officer.organisation_id]) for _ in range(2)]
    seen, cursor = [], None
    with app.test_request_context():
        while True:
            result = queue.page(officer, queue.Filters(after=cursor, status="all"), size=1)
            seen += [row.request_id for row in result.rows]
            cursor = result.next_cursor
            if cursor is None:
                break
    expected = {c.request.id for c in cases if target_of(c, officer.organisation_id) is not None}
    assert len(seen) == len(set(seen)) and set(seen) == expected


def test_queue_page_costs_the_same_number_of_queries_whatever_the_rows(app):

    from marketplace.desks import queue

    first = routed(app)
    officer = first.bank_staff

    def queries() -> int:
        with app.test_request_context(), statements_run() as statements:
            result = queue.page(officer, queue.Filters(status="all"))
            for row in result.rows:  # what the page template reads
                _ = (row.amount, row.enterprise_name, row.claimed_by_name, row.routed_at)
        return len(statements)

    few = queries()
    assert few >= 2  # the rows and the counts: the listener sees them
    for _ in range(4):
        routed(app, consent_to=[officer.organisation_id])
    assert queries() == few
    assert Decimal("0") < first.request.amount


def test_offers_and_declines_feed_the_matching_history(app, case):
    from marketplace.supermarket.matching import institution_records

    other, other_target = competing(app, case)
    offer(app, claimed(app, target_of(case), case.bank_staff), case.bank_staff)
    with app.test_request_context():
        decisions.decline(claimed(app, other_target, other), other, "policy", "")
        records = institution_records()
    mine, theirs = records[case.bank_staff.organisation_id], records[other.organisation_id]
    assert mine.acceptance_rate == 1.0 and theirs.acceptance_rate == 0.0
    assert 0 <= mine.median_turnaround_days < 1


def test_withdrawing_closes_the_offers_targets_and_claims_and_tells_the_bank(app, case):
    from marketplace.financing.services import apply_transition

    target = claimed(app, target_of(case), case.bank_staff)
    made = offer(app, target, case.bank_staff)
    with app.test_request_context():
        apply_transition(case.request, "withdraw", case.owner)
    assert case.request.state == "withdrawn" and made.status == "closed" and target.status == "closed"
    assert claims.open_assignment(target.id) is None
    assert db.session.scalar(select(Notification).where(Notification.kind == "request.withdrawn",
                                                        Notification.user_id == case.bank_staff.id))


def test_withdrawing_while_the_guarantee_fee_is_due_cancels_the_fee(app):
    from marketplace.financing.services import apply_transition
    from marketplace.guarantees import services as guarantees
    from marketplace.payments.models import Payment

    mixed = routed(app, "mixed")
    target = claimed(app, target_of(mixed, mixed.guarantor_staff.organisation_id), mixed.guarantor_staff)
    with app.test_request_context():
        guarantee = guarantees.offer_guarantee(target, mixed.guarantor_staff, Decimal("80"), Decimal("1.5"))
        payment = guarantees.accept_guarantee(guarantee, mixed.owner)
        apply_transition(mixed.request, "withdraw", mixed.owner)
    assert mixed.request.state == "withdrawn" and guarantee.status == "closed"
    assert db.session.get(Payment, payment.id).status == "cancelled"


# ---- the offer's repayment terms: the early repayment fee and the holiday rule ----------------------

def offer_form(**extra) -> dict:
    return {"amount": "200000.00", "annual_rate": "3.85", "term_days": "90",
            "expires_on": (today_shanghai() + timedelta(days=10)).isoformat(), **extra}


def test_the_offer_form_states_the_early_repayment_fee_and_the_holiday_rule(app, client, login, case):
    claimed(app, target_of(case), case.bank_staff)
    login(case.bank_staff)
    page = client.get(f"/institution/requests/{case.request.id}").get_data(as_text=True)
    assert "提前还款手续费（提前还款本金的百分比）" in page and "还款日遇节假日顺延至下一工作日" in page
    box = page.split('name="roll_to_working_day"')[0].rsplit("<input", 1)[1] + page.split(
        'name="roll_to_working_day"')[1].split(">")[0]
    assert "checked" in box  # rolled unless the bank unticks it
    client.post(f"/institution/requests/{case.request.id}/offers", data=offer_form(prepayment_fee_rate="1.50"))
    made = db.session.scalar(select(Offer))
    assert (made.prepayment_fee_rate, made.roll_to_working_day) == (Decimal("1.50"), False)  # box not posted


def test_a_blank_fee_rate_is_no_fee_and_a_ticked_box_rolls_due_days(app, client, login, case):
    claimed(app, target_of(case), case.bank_staff)
    login(case.bank_staff)
    client.post(f"/institution/requests/{case.request.id}/offers",
                data=offer_form(prepayment_fee_rate=" ", roll_to_working_day="y"))
    made = db.session.scalar(select(Offer))
    assert (made.prepayment_fee_rate, made.roll_to_working_day) == (Decimal("0.00"), True)


@pytest.mark.parametrize("rate", ["5.01", "-0.50", "1.234", "abc", "1e9", "NaN"])
def test_the_offer_form_refuses_a_fee_rate_out_of_range(app, client, login, case, rate):
    claimed(app, target_of(case), case.bank_staff)
    login(case.bank_staff)
    page = client.post(f"/institution/requests/{case.request.id}/offers", follow_redirects=True,
                       data=offer_form(prepayment_fee_rate=rate)).get_data(as_text=True)
    assert "提前还款手续费率" in page
    assert db.session.scalar(select(Offer.id)) is None and case.request.state == "bank_review"


@pytest.mark.parametrize("rate", ["5.01", "-0.01", "1.001"])
def test_the_service_refuses_a_fee_rate_out_of_range(app, case, rate):
    target = claimed(app, target_of(case), case.bank_staff)
    with pytest.raises(decisions.DecisionRefused, match="提前还款手续费率"):
        offer(app, target, case.bank_staff, fee_rate=rate)
    assert db.session.scalar(select(Offer.id)) is None


def test_the_enterprise_compares_the_offers_repayment_terms(app, client, login, case):
    other, other_target = competing(app, case)
    offer(app, claimed(app, target_of(case), case.bank_staff), case.bank_staff, rate="4.10", fee_rate="1.50")
    offer(app, claimed(app, other_target, other), other, rate="3.65", roll=False)
    db.session.commit()
    login(case.owner)
    page = client.get(f"/financing/{case.request.id}/offers").get_data(as_text=True)
    cheaper, dearer = page.split('data-testid="offer-card"')[1:]
    fee = 'data-testid="offer-prepayment-fee">'
    roll = 'data-testid="offer-roll">'
    assert cheaper.split(fee)[1].startswith("无") and cheaper.split(roll)[1].startswith("否")
    assert dearer.split(fee)[1].startswith("1.50%") and dearer.split(roll)[1].startswith("是")
