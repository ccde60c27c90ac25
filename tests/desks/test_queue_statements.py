"""The queue's SQL: filter values are bound parameters of a statement built once per filter shape
(so it is reused and prepared), with LIKE wildcards in a prefix taken literally and a cursor made
for another sort ignored."""

from __future__ import annotations

from decimal import Decimal

import marketplace.models  # noqa: F401  (every mapper known before the queue's aliases configure them)
from marketplace.desks import queue
from marketplace.extensions import db
from tests.desks.helpers import routed


def ids(app, officer, **filters) -> set[int]:
    with app.test_request_context():
        return {row.request_id for row in queue.page(officer, queue.Filters(status="all", **filters)).rows}


def test_filters_of_one_shape_share_one_statement_whatever_their_values(app):
    case = routed(app)
    officer = case.bank_staff
    queue._rows_statement.cache_clear()
    assert case.request.id in ids(app, officer, amount_min=Decimal("1"))
    assert ids(app, officer, amount_min=Decimal("999999999")) == set()
    assert queue._rows_statement.cache_info().misses == 1 and queue._rows_statement.cache_info().hits == 1


def test_an_industry_or_region_prefix_matches_literally(app):
    case = routed(app)
    officer, enterprise = case.bank_staff, case.request.enterprise
    assert case.request.id in ids(app, officer, industry=enterprise.industry_code[:1])
    assert case.request.id in ids(app, officer, region=enterprise.region_code[:4])
    for wildcard in ("%", "_", enterprise.industry_code[:1] + "%"):
        assert ids(app, officer, industry=wildcard) == set()
    assert ids(app, officer, region="3205_5") == set()


def test_a_cursor_made_for_another_sort_starts_from_the_first_page(app):
    first = routed(app)
    officer = first.bank_staff
    routed(app, consent_to=[officer.organisation_id])
    with app.test_request_context():
        by_amount = queue.page(officer, queue.Filters(status="all", sort="amount"), size=1)
        assert by_amount.next_cursor is not None
        first = queue.page(officer, queue.Filters(status="all"), size=1)
        foreign = queue.page(officer, queue.Filters(status="all", after=by_amount.next_cursor), size=1)
        garbage = queue.page(officer, queue.Filters(status="all", after="not-a-cursor"), size=1)
    assert [r.request_id for r in foreign.rows] == [r.request_id for r in first.rows]
    assert [r.request_id for r in garbage.rows] == [r.request_id for r in first.rows]


def test_the_sla_filters_compare_with_the_time_of_the_call(app):
    from datetime import timedelta

    case = routed(app)
    officer, request = case.bank_staff, case.request
    request.stuck, request.sla_due_at = False, None
    db.session.flush()
    with app.test_request_context():
        now = request.submitted_at
        request.sla_due_at = now + timedelta(hours=2)
        db.session.flush()
        due_soon = queue.page(officer, queue.Filters(status="all", sla="due_soon"), now=now).rows
        on_time_later = queue.page(officer, queue.Filters(status="all", sla="on_time"),
                                   now=now - timedelta(days=3)).rows
        breached_after = queue.page(officer, queue.Filters(status="all", sla="breached"),
                                    now=now + timedelta(hours=3)).rows
    assert [r.request_id for r in due_soon] == [request.id] and due_soon[0].sla_state == "due_soon"
    assert [r.request_id for r in on_time_later] == [request.id]
    assert [r.request_id for r in breached_after] == [request.id]
