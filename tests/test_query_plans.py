"""Every hot page's statements can be served by an index (issue 15, item 4).

Each page is requested as its user would (enterprise, bank officer, bureau coordinator, platform
admin, the public market); every SELECT it sends is captured with a before_cursor_execute
listener and explained with its own parameters under `SET LOCAL enable_seqscan = off`. With
sequential scans priced out the planner still picks one only where no index can serve the
query, so a Seq Scan of a large table in any plan means a missing index: this proves the index
exists without millions of rows (bench/seed_scale.py builds those; docs/performance.md has the
plans at scale).
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.statements.models import StatementFile
from marketplace.verification.models import VerificationReport
from tests.desks.helpers import claimed, routed, target_of
from tests.factories import UserFactory, grant_consent_to

# Tables that grow with the enterprises, their requests or their statements; small reference
# tables (policies, products, calendar years, bureaus' meetings) may be read whole.
LARGE_TABLES = frozenset({
    "statement_transactions", "statement_files", "receivables", "financing_requests", "enterprises",
    "organisations", "users", "workflow_events", "audit_events", "credit_records", "credit_grades",
    "notifications", "request_stays", "request_targets", "assignments", "offers", "declines", "info_requests",
    "verification_reports", "request_pledges", "confirmation_links", "loans", "instalments", "repayments",
    "guarantees", "payments", "consents", "list_memberships", "credit_objections", "credit_repairs",
    "task_outbox", "commitment_signatures", "receivable_documents", "internal_notes",
})


def seq_scans(plan: dict) -> list[str]:
    """The large tables a plan (EXPLAIN FORMAT JSON node) reads whole: a sequential scan, or a
    walk of a whole index filtered by a LIKE that no index can serve (a bureau's region prefix;
    with sequential scans priced out the planner walks the primary key instead)."""
    found = []
    table = plan.get("Relation Name")
    if table in LARGE_TABLES:
        if plan.get("Node Type") == "Seq Scan":
            found.append(table)
        elif (plan.get("Node Type") in ("Index Scan", "Index Only Scan") and "Index Cond" not in plan
              and "~~" in plan.get("Filter", "")):
            found.append(f"{table} (whole index {plan.get('Index Name')}, filter {plan['Filter']})")
    for child in plan.get("Plans", ()):
        found += seq_scans(child)
    return found


def test_seq_scans_finds_nested_scans_of_large_tables_only():
    plan = {"Node Type": "Hash Join", "Plans": [
        {"Node Type": "Seq Scan", "Relation Name": "policy_versions"},
        {"Node Type": "Hash", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "receivables"}]},
        {"Node Type": "Index Scan", "Relation Name": "enterprises", "Index Cond": "(id = 1)"},
        {"Node Type": "Index Scan", "Relation Name": "audit_events", "Index Name": "pk_audit_events"},
        {"Node Type": "Index Scan", "Relation Name": "enterprises", "Index Name": "pk_enterprises",
         "Filter": "((region_code)::text ~~ '3205%'::text)"}]}
    assert seq_scans(plan) == ["receivables", "enterprises (whole index pk_enterprises, filter "
                                              "((region_code)::text ~~ '3205%'::text))"]


class Captured:
    """The SELECT statements sent while a page is served, with their parameters."""

    def __init__(self):
        self.statements: list[tuple[str, object]] = []

    def __call__(self, _conn, _cursor, statement, parameters, _context, executemany):
        head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if not executemany and head in ("SELECT", "WITH"):
            self.statements.append((statement, parameters))


def explain(statement: str, parameters) -> dict:
    connection = db.session.connection()
    return connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar()[0]["Plan"]


@pytest.fixture
def world(app):
    """A verified request routed to a bank and claimed by its officer; the enterprise's
    statements and report; a city bureau's coordinator and a platform admin."""
    case = routed(app)
    claimed(app, target_of(case), case.bank_staff)
    grant_consent_to(case.owner.enterprise, case.bank_staff.organisation_id, scopes=("tax",))  # the credit file
    coordinator = UserFactory(role=Role.BUREAU_COORDINATOR, organisation__region_code="320500",
                              organisation__name="苏州市地方金融管理局")
    admin = UserFactory(role=Role.PLATFORM_ADMIN)
    db.session.flush()
    return case, coordinator, admin


def pages(case, coordinator, admin) -> list[tuple[object, str]]:
    """(user or None, URL) of the hot pages: lists, queues, dashboards, search, files."""
    request_id = case.request.id
    enterprise_id = case.owner.enterprise.id
    statement_id = db.session.scalar(select(StatementFile.id).where(StatementFile.enterprise_id == enterprise_id))
    report_id = db.session.scalar(select(VerificationReport.id).where(VerificationReport.request_id == request_id))
    owner, officer = case.owner, case.bank_staff
    return [
        (owner, "/dashboard"),
        (owner, "/receivables/"),
        (owner, "/receivables/confirmations"),
        (owner, "/financing/"),
        (owner, f"/financing/{request_id}"),
        (owner, f"/financing/{request_id}/matches"),
        (owner, "/statements/"),
        (owner, f"/statements/{statement_id}"),
        (owner, "/notifications/"),
        (owner, "/enterprise/credit-file"),
        (owner, "/enterprise/access-log"),
        (owner, f"/financing/{request_id}/reports/{report_id}"),
        (owner, "/enterprise/consents"),
        (officer, "/institution/requests/"),
        (officer, "/institution/requests/?state=bank_review"),
        (officer, f"/institution/requests/{request_id}"),
        (officer, f"/institution/enterprises/{enterprise_id}/credit-file"),
        (officer, "/institution/leads/"),
        (officer, "/institution/lists"),
        (officer, "/institution/whitelist"),
        (officer, "/api/v1/desk/requests"),
        (officer, "/institution/products"),
        (None, "/market"),
        (None, "/market?q=应收账款&amount=200000"),
        (coordinator, "/bureau/dashboard"),
        (coordinator, "/bureau/stuck"),
        (coordinator, "/bureau/requests"),
        (coordinator, f"/bureau/requests/{request_id}"),
        (coordinator, "/bureau/lists"),
        (admin, "/admin/enterprises"),
        (admin, "/admin/users"),
        (admin, "/admin/institutions"),
        (admin, "/admin/audit"),
    ]


def test_no_hot_page_reads_a_large_table_sequentially(app, world, client, login):
    case, coordinator, admin = world
    captured_by_page: list[tuple[str, Captured]] = []
    unserved = []
    engine = db.session.get_bind()
    for user, url in pages(case, coordinator, admin):
        if user is None:
            with client.session_transaction() as session:
                session.clear()
        else:
            login(user)
        captured = Captured()
        event.listen(engine, "before_cursor_execute", captured)
        try:
            response = client.get(url, follow_redirects=True)
        finally:
            event.remove(engine, "before_cursor_execute", captured)
        if response.status_code != 200 or not captured.statements:
            unserved.append(f"{url}: {response.status_code}")
        captured_by_page.append((url, captured))
    assert not unserved, unserved

    db.session.connection().exec_driver_sql("SET LOCAL enable_seqscan = off")
    failures = []
    explained = 0
    for url, captured in captured_by_page:
        for statement, parameters in captured.statements:
            tables = seq_scans(explain(statement, parameters))
            explained += 1
            if tables:
                failures.append(f"{url}: reads whole: {', '.join(sorted(set(tables)))}\n    {' '.join(statement.split())[:400]}")
    assert explained > 50
    assert not failures, "\n".join(failures)
