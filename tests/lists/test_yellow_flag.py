"""The yellow flag wherever staff see the enterprise: the desk queue and request page, the
bureau's request list, detail and stuck list, the desk API's JSON; one query per page however
many rows. The published lists for banks' and guarantors' staff; nobody else sees them."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest

from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.lists import services
from marketplace.verification.services import reports_of
from tests.api.conftest import token_headers
from tests.desks.helpers import routed
from tests.factories import EnterpriseFactory, make_enterprise_user
from tests.lists.conftest import publish, record
from tests.loans.helpers import accepted
from tests.sql_log import statements_run

FLAG = 'data-testid="yellow-flag"'


@pytest.fixture
def yellow_case(app, world):
    """A request routed to the case's bank, from an enterprise on the published yellow list."""
    case = routed(app)
    with app.test_request_context():
        record(case.request.enterprise, "dishonest_debtor")
    publish(app, world.coordinator)
    return case


def test_the_desk_queue_and_request_page_show_the_flag(app, login, yellow_case):
    client = login(yellow_case.bank_staff)
    queue = client.get("/institution/requests/").get_data(as_text=True)
    assert FLAG in queue
    detail = client.get(f"/institution/requests/{yellow_case.request.id}").get_data(as_text=True)
    assert FLAG in detail


def test_the_desk_queue_shows_no_flag_before_the_list_is_published(app, login, world):
    case = routed(app)
    with app.test_request_context():
        record(case.request.enterprise, "dishonest_debtor")
    assert FLAG not in login(case.bank_staff).get("/institution/requests/").get_data(as_text=True)


def test_the_bureau_request_list_and_detail_show_the_flag(app, login, world, yellow_case):
    client = login(world.coordinator)
    assert FLAG in client.get("/bureau/requests").get_data(as_text=True)
    assert FLAG in client.get(f"/bureau/requests/{yellow_case.request.id}").get_data(as_text=True)


def test_the_bureau_stuck_list_shows_the_flag(app, login, world, yellow_case):
    yellow_case.request.sla_due_at = utcnow() - timedelta(days=1)  # past its SLA: stuck
    db.session.commit()
    page = login(world.coordinator).get("/bureau/stuck").get_data(as_text=True)
    assert f'data-testid="stuck-sla_breach-{yellow_case.request.id}"' in page and FLAG in page


def test_the_desk_api_says_whether_the_enterprise_is_yellow_listed(app, client, yellow_case):
    headers = token_headers(app, yellow_case.bank_staff)
    body = client.get(f"/api/v1/desk/requests/{yellow_case.request.id}", headers=headers).json
    assert body["request"]["enterprise"]["yellow_listed"] is True
    queue = client.get("/api/v1/desk/requests", headers=headers).json
    assert [item["enterprise"]["yellow_listed"] for item in queue["items"]] == [True]


def test_the_api_says_false_for_an_enterprise_not_on_the_list(app, client, world):
    case = routed(app)
    body = client.get(f"/api/v1/desk/requests/{case.request.id}", headers=token_headers(app, case.bank_staff)).json
    assert body["request"]["enterprise"]["yellow_listed"] is False


def test_a_page_reads_the_yellow_list_once_however_many_enterprises_it_shows(app, world):
    with app.test_request_context():
        flagged = EnterpriseFactory()
        record(flagged, "dishonest_debtor")
        others = [EnterpriseFactory() for _ in range(5)]
    publish(app, world.coordinator)
    with statements_run() as run, app.test_request_context():
        flags = [services.is_yellow_listed(e.id) for e in [flagged, *others] * 10]
    statements = [s for s in run if "list_memberships" in s]
    assert flags[:6] == [True, False, False, False, False, False]
    assert len(statements) == 1


def test_the_stuck_lists_flag_reads_and_builds_its_statement_once_a_request(app, world, yellow_case, monkeypatch):
    """Asked once per row shown: one statement, built once (building it cost 2.5 ms a row)."""
    built = []
    current = services._current_yellow
    monkeypatch.setattr(services, "_current_yellow", lambda: built.append(1) or current())
    with statements_run() as run, app.test_request_context():
        flags = [services.yellow_request_ids_for_request() for _ in range(50)]
    assert all(yellow_case.request.id in found for found in flags)
    assert len(built) == 1 and len([s for s in run if "list_memberships" in s]) == 1


def test_bank_and_guarantor_staff_see_the_published_lists_with_masked_codes(app, login, world):
    with app.test_request_context():
        enterprise = EnterpriseFactory(name="苏州白名单测试有限公司")
    publish(app, world.coordinator)
    for staff in (world.officer, world.guarantor_officer):
        page = login(staff).get("/institution/lists?kind=white")
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and "苏州白名单测试有限公司" in text
        assert enterprise.uscc not in text and enterprise.uscc[-4:] in text
    assert "苏州白名单测试有限公司" not in login(world.officer).get("/institution/lists?kind=red").get_data(as_text=True)


def test_an_enterprise_cannot_see_the_lists_nor_the_coordinator_pages(app, login, world):
    with app.test_request_context():
        admin = make_enterprise_user()
    client = login(admin)
    for path in ("/institution/lists", "/bureau/lists", "/bureau/whitelist-pushes", "/institution/whitelist"):
        assert client.get(path).status_code == 403
    assert login(world.officer).get("/bureau/lists").status_code == 403


def pdf_text(data: bytes, tmp_path) -> str:
    assert data.startswith(b"%PDF")
    pdf = tmp_path / "flag.pdf"
    pdf.write_bytes(data)
    return "".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
                   .stdout.split())


def test_the_offer_letter_and_verification_report_pdfs_carry_the_flag(app, login, world, tmp_path):
    deal = accepted(app)
    request = deal.request
    report = reports_of(request.id)[-1]
    client = login(deal.bank)
    before = client.get(f"/institution/requests/{request.id}/reports/{report.id}.pdf")
    assert "黄名单" not in pdf_text(before.data, tmp_path)
    with app.test_request_context():
        record(request.enterprise, "dishonest_debtor")
    publish(app, world.coordinator)
    letter = client.get(f"/institution/requests/{request.id}/offers/{deal.offer.id}/letter.pdf")
    assert letter.status_code == 200 and "黄名单" in pdf_text(letter.data, tmp_path)
    after = client.get(f"/institution/requests/{request.id}/reports/{report.id}.pdf")  # not the cached one
    assert after.status_code == 200 and "黄名单" in pdf_text(after.data, tmp_path)
