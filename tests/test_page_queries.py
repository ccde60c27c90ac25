"""Pages whose SQL statement count does not grow with the rows they show (issue 15, item 4): the
supermarket (/market) and a bank's review page (/institution/requests/<id>). Each test renders
the page with few rows and with several times as many, and asserts the same number of statements
(counted like tests/desks/test_decisions.py: the engine's before_cursor_execute, savepoints left
out), and that number is the constant the docstring states."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.desks.models import InfoAttachment, InfoRequest, InternalNote, Offer
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.financing.models import RequestPledge
from marketplace.formatting import today_shanghai
from marketplace.receivables.models import ReceivableDocument
from marketplace.supermarket.models import RequestTarget
from marketplace.verification.models import VerificationReport
from tests.desks.helpers import claimed, colleague, routed, target_of
from tests.factories import ReceivableFactory, make_enterprise_user
from tests.sql_log import statements_run
from tests.supermarket.products import lender, make_product, shown_ids

MARKET_STATEMENTS = 4  # lending institutions for the filter, the count, the page of products, the user
# the user with its organisation; the target; the request with its enterprise, its pledges with
# their receivables, their documents; the consents; the statements; the audit log's lock, chain
# head and row; the claim; reports; notes with authors; questions with askers, their attachments;
# offers with makers and approvers; the guarantee; the yellow list; the product version
REVIEW_STATEMENTS = 20


def statements_of(app, client, url: str) -> list[str]:
    """The SQL statements one GET of `url` runs (SAVEPOINT bookkeeping of the test's outer
    transaction left out); the page must answer 200."""
    db.session.expunge_all()  # as in production, where each request starts with an empty session
    with statements_run(app) as seen:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return seen


def _products_of_new_institutions(app, n: int, start: int) -> list[int]:
    """`n` published products, each of its own bank: every card names a different institution."""
    return [make_product(app, lender(name=f"测试银行{start + i}号分行"), name=f"测试产品{start + i}",
                         rate_min=Decimal("3.45") + Decimal(i) / 100, regions=["3205"], industries=["13"]).id
            for i in range(n)]


def test_market_statements_do_not_grow_with_the_products_shown(app, client, login):
    """/market runs MARKET_STATEMENTS (4) statements for a signed-in user, whether it shows 3
    products or 9 (each of its own institution), and 3 for a visitor."""
    first = _products_of_new_institutions(app, 3, 0)
    few = statements_of(app, client, "/market")
    assert shown_ids(client.get("/market").get_data(as_text=True)) >= set(first)
    more = _products_of_new_institutions(app, 6, 3)
    many = statements_of(app, client, "/market")
    assert shown_ids(client.get("/market").get_data(as_text=True)) >= set(first + more)
    assert len(many) == len(few) == MARKET_STATEMENTS - 1, many

    login(make_enterprise_user())
    assert len(statements_of(app, client, "/market")) == MARKET_STATEMENTS


def _grow_review(ids: dict, k: int) -> None:
    """`k` more of each thing the review page lists, each by a different colleague: pledged
    receivables with a document, verification reports, offers (made and approved), internal
    notes, answered questions with an attachment."""
    bank_user = db.session.get(User, ids["bank_user"])
    enterprise = db.session.get(Enterprise, ids["enterprise"])
    target = db.session.get(RequestTarget, ids["target"])
    owner_id, request_id = ids["owner"], ids["request"]
    report = db.session.scalar(select(VerificationReport).where(VerificationReport.request_id == request_id)
                               .order_by(VerificationReport.submission_no.desc()).limit(1))
    columns = {c.key: getattr(report, c.key) for c in VerificationReport.__mapper__.column_attrs
               if c.key not in ("id", "submission_no", "created_at")}
    start = report.submission_no
    for i in range(k):
        maker, approver = colleague(bank_user), colleague(bank_user)
        receivable = ReceivableFactory(enterprise=enterprise, face_amount=Decimal("10000.00"),
                                       confirmation="confirmed" if i % 2 else "pending")
        db.session.add(RequestPledge(request_id=request_id, receivable_id=receivable.id))
        db.session.add(ReceivableDocument(receivable_id=receivable.id, original_name=f"发票{i}.pdf",
                                          stored_name=f"grow-{target.id}-{start}-{i}.pdf",
                                          content_type="application/pdf", size=2048, sha256="0" * 64,
                                          uploaded_by_id=owner_id))
        db.session.add(VerificationReport(submission_no=start + i + 1, **columns))
        db.session.add(Offer(target_id=target.id, request_id=request_id, institution_id=target.institution_id,
                             amount=Decimal("100000.00"), annual_rate=Decimal("3.85"), term_days=90,
                             expires_on=today_shanghai() + timedelta(days=10), status="closed",
                             made_by_id=maker.id, approved_by_id=approver.id, approved_at=utcnow(),
                             decided_at=utcnow()))
        db.session.add(InternalNote(target_id=target.id, author_id=colleague(bank_user).id, body=f"备注{i}"))
        question = InfoRequest(target_id=target.id, request_id=request_id, asked_by_id=colleague(bank_user).id,
                               question=f"请补充第{i}份合同", answer="已上传", answered_by_id=owner_id,
                               answered_at=utcnow())
        db.session.add(question)
        db.session.flush()
        db.session.add(InfoAttachment(info_request_id=question.id, original_name=f"合同{i}.pdf",
                                      stored_name=f"grow-a-{question.id}.pdf", content_type="application/pdf",
                                      size=1024, sha256="0" * 64, uploaded_by_id=owner_id))
    db.session.flush()
    db.session.expire_all()


def test_review_page_statements_do_not_grow_with_its_rows(app, client, login):
    """/institution/requests/<id> runs REVIEW_STATEMENTS (20: 19 after issue 15, one more since the decline form asks whether an offer was accepted; 22 before issue 15) statements (the audit log's
    write of the credit read included) whether it lists 1 or 5 of each: pledged receivables (2
    and 6: the case pledges two), their documents, reports, offers, notes, questions with
    attachments, each row by another person."""
    case = routed(app)
    target = claimed(app, target_of(case), case.bank_staff)
    ids = {"bank_user": case.bank_staff.id, "enterprise": case.owner.enterprise.id, "target": target.id,
           "owner": case.owner.id, "request": case.request.id}
    _grow_review(ids, 1)
    db.session.commit()  # the set-up's transitions refresh the bureau's figures rows at their commit, not the page's
    login(case.bank_staff)
    url = f"/institution/requests/{case.request.id}"
    few = statements_of(app, client, url)
    _grow_review(ids, 4)
    page = client.get(url).get_data(as_text=True)
    assert page.count('data-testid="offer-') >= 5 and page.count("备注") >= 5 and page.count("发票") >= 5
    many = statements_of(app, client, url)
    assert len(many) == len(few), "\n".join(many)
    assert len(few) == REVIEW_STATEMENTS, "\n".join(few)
