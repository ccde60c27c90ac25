"""After acceptance: the bank records the disbursement, the schedule and the repayments; the
last repayment closes the request; unpaid instalments are flagged once for the credit file."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace.audit import AuditEvent
from marketplace.desks import claims, decisions
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.loans import services
from marketplace.loans.models import Instalment, Loan, Repayment
from marketplace.loans.tasks import flag_overdue_instalments
from marketplace.notifications.models import Notification
from tests.desks.helpers import colleague, routed, target_of, terms
from tests.factories import make_enterprise_user
from tests.loans.helpers import accepted, disbursed, repay, scheduled
from tests.supermarket.products import lender


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def notified(user, kind: str) -> bool:
    return count(Notification, Notification.user_id == user.id, Notification.kind == kind) > 0


# ---- disbursement ----------------------------------------------------------------------------

def test_the_bank_records_the_disbursement_and_the_enterprise_is_told(app):
    deal = accepted(app)
    loan = disbursed(app, deal, amount="180000.00")
    assert deal.request.state == "disbursed"
    assert (loan.amount, loan.institution_id, loan.offer_id) == (Decimal("180000.00"), deal.offer.institution_id,
                                                                 deal.offer.id)
    assert notified(deal.owner, "loan.disbursed")


@pytest.mark.parametrize(("change", "message"), [
    ({"amount": Decimal("200000.01")}, "不能超过报价金额"),
    ({"amount": Decimal("0")}, "必须大于零"),
    ({"day": 1}, "不能晚于今天"),
    ({"day": -1}, "不能早于企业接受报价的日期"),
    ({"reference": "  "}, "流水号"),
])
def test_a_bad_disbursement_is_refused_with_nothing_stored(app, change, message):
    deal = accepted(app)
    args = {"amount": Decimal("200000.00"), "day": 0, "reference": "FK1"} | change
    with app.test_request_context(), pytest.raises(services.LoanRefused, match=message):
        services.record_disbursement(deal.offer, deal.bank, args["amount"],
                                     today_shanghai() + timedelta(days=args["day"]), args["reference"])
    assert count(Loan) == 0 and deal.request.state == "offer_accepted"


def test_another_bank_cannot_record_the_disbursement(app):
    deal = accepted(app)
    with app.test_request_context(), pytest.raises(services.LoanRefused, match="放款银行"):
        services.record_disbursement(deal.offer, lender(name="别家银行"), Decimal("1000.00"), today_shanghai(), "X")
    assert count(Loan) == 0


def test_no_disbursement_before_the_enterprise_accepts(app):
    case = routed(app)
    target = target_of(case)
    with app.test_request_context():
        claims.claim(target, case.bank_staff)
        offer = decisions.make_offer(target, case.bank_staff, terms())
        with pytest.raises(services.LoanRefused, match="已接受"):
            services.record_disbursement(offer, case.bank_staff, Decimal("1000.00"), today_shanghai(), "X")
    assert count(Loan) == 0 and case.request.state == "offer_made"


def test_a_second_disbursement_is_refused(app):
    deal = accepted(app)
    disbursed(app, deal)
    with app.test_request_context(), pytest.raises(services.LoanRefused):
        services.record_disbursement(deal.offer, colleague(deal.bank), Decimal("1.00"), today_shanghai(), "Y")
    assert count(Loan) == 1


# ---- schedule --------------------------------------------------------------------------------

def test_the_schedule_starts_the_repayment(app):
    deal = accepted(app)
    loan = scheduled(app, deal)
    assert deal.request.state == "repaying"
    assert sum(i.principal for i in loan.instalments) == loan.amount and len(loan.instalments) == 3
    assert notified(deal.owner, "loan.schedule")


def test_a_schedule_whose_principal_misses_the_amount_is_refused_with_nothing_stored(app):
    deal = accepted(app)
    loan = disbursed(app, deal)
    day = loan.disbursed_on
    rows = [(day + timedelta(days=30), Decimal("100000.00"), Decimal("600.00")),
            (day + timedelta(days=60), Decimal("99999.99"), Decimal("300.00"))]
    with app.test_request_context(), pytest.raises(services.LoanRefused, match="相差 ¥0.01"):
        services.record_schedule(loan, deal.bank, rows)
    assert count(Instalment) == 0 and deal.request.state == "disbursed"


# ---- repayments ------------------------------------------------------------------------------

def test_a_repayment_above_what_is_owed_is_refused(app):
    deal = accepted(app)
    loan = scheduled(app, deal)
    owed = services.allocation(loan).outstanding
    with app.test_request_context(), pytest.raises(services.LoanRefused, match="不能超过尚欠金额"):
        services.record_repayment(loan, deal.bank, today_shanghai(), owed + Decimal("0.01"), "HK1")
    assert count(Repayment) == 0


def test_no_repayment_before_the_schedule(app):
    deal = accepted(app)
    loan = disbursed(app, deal)
    with app.test_request_context(), pytest.raises(services.LoanRefused, match="还款计划"):
        services.record_repayment(loan, deal.bank, today_shanghai(), Decimal("1.00"), "HK1")


def test_paying_everything_closes_the_request(app):
    deal = accepted(app)
    loan = scheduled(app, deal)
    owed = services.allocation(loan).outstanding
    repay(app, deal, loan, "1000.00")
    assert deal.request.state == "repaying"
    repay(app, deal, loan, str(owed - Decimal("1000.00")), reference="HK002")
    assert deal.request.state == "closed" and services.allocation(loan).outstanding == 0
    assert notified(deal.owner, "loan.closed") and notified(deal.bank, "loan.closed")
    assert all(not p.active for p in deal.request.pledges)  # the receivables are free again
    assert count(Instalment, Instalment.overdue_flagged_at.is_not(None)) == 0  # paid early: nothing late


def test_a_late_payment_that_settles_the_loan_is_still_reported(app):
    """Back-office catch-up: schedule and repayment recorded after the due day."""
    deal = accepted(app, accepted_days_ago=60)
    start = today_shanghai() - timedelta(days=60)
    due = start + timedelta(days=30)
    loan = scheduled(app, deal, on=start, rows=[(due, Decimal("200000.00"), Decimal("600.00"))])
    repay(app, deal, loan, "200600.00", on=due + timedelta(days=3))
    assert deal.request.state == "closed"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "loan.overdue"))
    assert event.enterprise_id == deal.request.enterprise_id and event.details["days_overdue"] == 3


# ---- overdue ---------------------------------------------------------------------------------

def test_overdue_instalments_are_flagged_once_for_the_credit_file(app):
    deal = accepted(app)
    loan = scheduled(app, deal)
    first = loan.instalments[0]
    repay(app, deal, loan, str(first.interest))  # interest paid, principal not
    after_due = first.due_on + timedelta(days=1)
    assert services.overdue_instalments(first.due_on) == []  # due today is not late yet
    with app.test_request_context():
        assert services.flag_overdue(after_due) == [first]
        assert services.flag_overdue(after_due) == []
        assert services.overdue_instalments(after_due) == [first]  # still overdue, flagged already
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "loan.overdue")).all()
    assert len(events) == 1
    assert events[0].enterprise_id == deal.request.enterprise_id and events[0].object_id == str(first.id)
    assert events[0].details["unpaid"] == str(first.principal)
    assert first.overdue_flagged_at is not None and loan.instalments[1].overdue_flagged_at is None
    assert count(Notification, Notification.kind == "loan.overdue", Notification.user_id == deal.owner.id) == 1
    assert count(Notification, Notification.kind == "loan.overdue", Notification.user_id == deal.bank.id) == 1


def test_the_daily_task_and_the_cli_flag_idempotently(app):
    deal = accepted(app)
    loan = scheduled(app, deal)
    late = (loan.instalments[1].due_on + timedelta(days=1)).isoformat()
    with app.app_context():  # what the worker's task class provides
        assert flag_overdue_instalments.run(late) == 2
        assert flag_overdue_instalments.run(late) == 0
    result = app.test_cli_runner().invoke(args=["loans", "flag-overdue", "--date", late])
    assert result.exit_code == 0 and result.output.strip() == "0 instalment(s) newly flagged overdue"
    assert count(AuditEvent, AuditEvent.action == "loan.overdue") == 2


# ---- pages -----------------------------------------------------------------------------------

def test_the_enterprise_page_shows_the_overdue_flag_until_a_late_payment_cures_it(app, client, login):
    deal = accepted(app, accepted_days_ago=60)
    start = today_shanghai() - timedelta(days=60)
    first_due, second_due = start + timedelta(days=20), start + timedelta(days=90)
    loan = scheduled(app, deal, on=start, rows=[(first_due, Decimal("100000.00"), Decimal("200.00")),
                                                (second_due, Decimal("100000.00"), Decimal("700.00"))])
    with app.test_request_context():
        services.flag_overdue()
    page = login(deal.owner).get(f"/financing/{deal.request.id}/loan")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="overdue-flag-1"' in html and 'data-testid="overdue-flag-2"' not in html
    assert 'data-testid="overdue-warning"' in html and 'data-testid="dpd-1">40<' in html
    assert "31-60" in html  # the loan's bucket
    assert 'data-testid="loan-link"' in client.get(f"/financing/{deal.request.id}").get_data(as_text=True)
    # the late payment cures it: no overdue flag any more, the history stays
    repay(app, deal, loan, "100200.00")
    html = client.get(f"/financing/{deal.request.id}/loan").get_data(as_text=True)
    assert 'data-testid="overdue-flag-1"' not in html and 'data-testid="overdue-warning"' not in html
    assert 'data-testid="cured-1"' in html and 'data-testid="overdue-history"' in html
    assert login(make_enterprise_user()).get(f"/financing/{deal.request.id}/loan").status_code == 404


def test_the_bank_works_the_loan_through_its_pages(app, client, login):
    deal = accepted(app)
    rid = deal.request.id
    login(deal.bank)
    desk = client.get(f"/institution/requests/{rid}").get_data(as_text=True)
    assert 'data-testid="loan-section"' in desk
    page = client.get(f"/institution/requests/{rid}/loan").get_data(as_text=True)
    assert 'data-testid="disbursement-submit"' in page and "data-confirm=" in page
    today = today_shanghai().isoformat()
    response = client.post(f"/institution/requests/{rid}/loan/disbursement",
                           data={"amount": "200,000.00", "disbursed_on": today, "reference": "FK9"})
    assert response.status_code == 302 and deal.request.state == "disbursed"
    form = client.get(f"/institution/requests/{rid}/loan/schedule")
    assert form.status_code == 200 and 'name="rows-0-principal" type="text" value="66666.67"' in form.get_data(as_text=True)
    loan = services.loan_of(rid)
    proposal = services.proposed_schedule(loan)
    rows = {}
    for i, line in enumerate(proposal):
        rows |= {f"rows-{i}-due_on": line.due_on.isoformat(), f"rows-{i}-principal": str(line.principal),
                 f"rows-{i}-interest": str(line.interest)}
    bad = rows | {"rows-1-principal": "abc", "rows-2-due_on": today}
    refused = client.post(f"/institution/requests/{rid}/loan/schedule", data=bad | {"rows-3-due_on": ""})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "第2行" in text and count(Instalment) == 0
    assert client.post(f"/institution/requests/{rid}/loan/schedule", data=rows).status_code == 302
    assert deal.request.state == "repaying" and count(Instalment) == 3
    page = client.get(f"/institution/requests/{rid}/loan").get_data(as_text=True)
    assert 'data-testid="schedule"' in page and 'data-testid="repayment-submit"' in page
    owed = services.allocation(loan).outstanding
    client.post(f"/institution/requests/{rid}/loan/repayments",
                data={"amount": f"{owed:.2f}", "paid_on": today, "reference": "HK9"})
    assert deal.request.state == "closed"
    assert 'data-testid="loan-brief"' in client.get(f"/institution/requests/{rid}").get_data(as_text=True)


def test_another_bank_gets_404_on_the_loan_pages(app, client, login):
    deal = accepted(app)
    rid = deal.request.id
    login(lender(name="别家银行"))
    assert client.get(f"/institution/requests/{rid}/loan").status_code == 404
    today = today_shanghai().isoformat()
    response = client.post(f"/institution/requests/{rid}/loan/disbursement",
                           data={"amount": "1000.00", "disbursed_on": today, "reference": "X"})
    assert response.status_code == 404 and count(Loan) == 0
