"""The coordinator's request pages: the region's list with filters and its XLSX/CSV export, the
stuck list and its export, one request's progress and parties; another region's request answers
404; the enterprise's credit data shows only under its consent to the bureau, and that read is
logged."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.bureau.models import ActionItem, AgendaItem, Meeting
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.financing.models import WorkflowEvent
from tests.bureau.test_bureau_stuck import BUILDERS, make_request, make_world, sla_breach
from tests.factories import EnterpriseFactory, UserFactory, grant_consent_to, make_enterprise_user


@pytest.fixture
def world(app):
    with app.test_request_context():
        return make_world()


def _text(response) -> str:
    return response.get_data(as_text=True)


def _reads() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "credit_data.read", AuditEvent.object_type == "financing_request"))


def test_the_list_shows_the_regions_requests_with_filters(app, login, world):
    with app.test_request_context():
        mine = sla_breach(world)
        other = make_request(make_enterprise_user(enterprise=EnterpriseFactory(name="无锡另一家公司")),
                             "routed_to_bank", due_in=timedelta(days=1))
        beijing = make_request(make_enterprise_user(enterprise=EnterpriseFactory(region_code="110105")),
                               "bank_review", due_in=timedelta(days=1))
    client = login(world.coordinator)
    page = _text(client.get("/bureau/requests"))
    assert f'request-row-{mine.id}"' in page and f'request-row-{other.id}"' in page
    assert f'request-row-{beijing.id}"' not in page
    assert "50.00" in page and "苏州测试银行" in page  # 万元, and the holding bank
    filtered = _text(client.get("/bureau/requests", query_string={"q": "无锡另一家"}))
    assert f'request-row-{other.id}"' in filtered and f'request-row-{mine.id}"' not in filtered
    by_state = _text(client.get("/bureau/requests", query_string={"state": "bank_review"}))
    assert f'request-row-{mine.id}"' in by_state and f'request-row-{other.id}"' not in by_state
    later = (utcnow() + timedelta(days=2)).date().isoformat()
    assert 'data-testid="empty"' in _text(client.get("/bureau/requests", query_string={"submitted_from": later}))


def test_an_empty_region_shows_the_empty_state(login, world):
    client = login(world.distant)
    page = _text(client.get("/bureau/requests"))
    assert 'data-testid="empty"' in page
    assert 'data-testid="empty"' in _text(client.get("/bureau/stuck"))


def test_the_xlsx_export_has_amounts_as_yuan_numbers_and_codes_as_text(app, login, world):
    with app.test_request_context():
        request = sla_breach(world)
    response = login(world.coordinator).get("/bureau/requests/export?format=xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert ".xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == request.id)
    amount = row[header.index("申请金额（元）")]
    assert isinstance(amount.value, int | float) and Decimal(str(amount.value)) == Decimal("500000")
    assert "¥" in amount.number_format
    uscc = row[header.index("统一社会信用代码")]
    assert uscc.value == world.owner.enterprise.uscc and uscc.number_format == "@"
    region = row[header.index("地区代码")]
    assert region.value == "320505" and isinstance(region.value, str)


def test_the_csv_export_starts_with_a_bom_and_keeps_the_filters(app, login, world):
    with app.test_request_context():
        request = sla_breach(world)
        other = make_request(world.owner, "routed_to_bank", due_in=timedelta(days=1))
    response = login(world.coordinator).get("/bureau/requests/export?format=csv&state=bank_review")
    assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    ids = [row[0] for row in rows[1:]]
    assert str(request.id) in ids and str(other.id) not in ids
    assert rows[1][4] == "500000.00"
    assert login(world.coordinator).get("/bureau/requests/export?format=pdf").status_code == 400


def test_the_stuck_page_lists_every_kind_and_links_to_a_meeting(app, login, world):
    with app.test_request_context():
        built = {kind: build(world) for kind, build in BUILDERS.items()}
    client = login(world.coordinator)
    page = _text(client.get("/bureau/stuck"))
    for kind, request in built.items():
        assert f'data-testid="stuck-{kind}-{request.id}"' in page
    assert 'data-testid="schedule-meeting-from-stuck"' in page and "/bureau/meetings/new?request=" in page
    only = _text(client.get("/bureau/stuck", query_string={"kind": "idle_claim"}))
    assert f'stuck-idle_claim-{built["idle_claim"].id}"' in only
    assert f'stuck-sla_breach-{built["sla_breach"].id}"' not in only
    form = _text(client.get(f"/bureau/meetings/new?request={built['sla_breach'].id}"))
    assert form.count("checked") >= 1


def test_the_stuck_page_pages_through_a_long_list(app, login, world, monkeypatch):
    monkeypatch.setitem(app.config, "BUREAU_STUCK_PAGE_SIZE", 2)
    with app.test_request_context():
        built = {kind: build(world) for kind, build in BUILDERS.items()}
    client = login(world.coordinator)
    first = _text(client.get("/bureau/stuck"))
    assert first.count('data-testid="stuck-link-') == 2 and "page=2" in first
    third = _text(client.get("/bureau/stuck", query_string={"page": 3}))
    assert third.count('data-testid="stuck-link-') == 1
    shown = {int(part.split('"')[0]) for page in (first, third, _text(client.get("/bureau/stuck?page=2")))
             for part in page.split('data-testid="stuck-link-')[1:]}
    assert shown == {request.id for request in built.values()}


def test_the_stuck_export_in_both_formats(app, login, world):
    with app.test_request_context():
        request = sla_breach(world)
    client = login(world.coordinator)
    xlsx = client.get("/bureau/stuck/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == request.id)
    assert row[1].value == "超过处理时限" and "苏州测试银行" in row[8].value
    csv_response = client.get("/bureau/stuck/export?format=csv&kind=sla_breach")
    assert csv_response.data.startswith(b"\xef\xbb\xbf") and str(request.id).encode() in csv_response.data


def test_the_detail_shows_progress_parties_and_meetings(app, login, world):
    with app.test_request_context():
        request = sla_breach(world)
        db.session.add(WorkflowEvent(request_id=request.id, transition="start_bank_review", from_state="routed_to_bank",
                                     to_state="bank_review", actor_user_id=world.officer.id,
                                     actor_org_id=world.bank.id, occurred_at=utcnow() - timedelta(days=5)))
        meeting = Meeting(bureau_id=world.bureau.id, title="吴中区第三次调度会", starts_at=utcnow() - timedelta(days=1),
                          place="区政府", host_user_id=world.coordinator.id, created_by_id=world.coordinator.id,
                          state="closed", closed_at=utcnow(), closed_by_id=world.coordinator.id)
        db.session.add(meeting)
        db.session.flush()
        db.session.add(AgendaItem(meeting_id=meeting.id, position=1, title="督办审查", request_id=request.id,
                                  decision="银行五个工作日内给出审批意见"))
        db.session.add(ActionItem(meeting_id=meeting.id, request_id=request.id, description="完成审批",
                                  owner_org_id=world.bank.id, due_on=(utcnow() + timedelta(days=5)).date(),
                                  created_by_id=world.coordinator.id))
        db.session.flush()
    page = _text(login(world.coordinator).get(f"/bureau/requests/{request.id}"))
    assert 'data-testid="request-timeline"' in page and "苏州测试银行" in page
    assert 'data-testid="party-institution-' in page and world.owner.enterprise.uscc in page
    assert "吴中区第三次调度会" in page and "银行五个工作日内给出审批意见" in page and "完成审批" in page


def test_another_regions_coordinator_gets_404(app, login, world):
    with app.test_request_context():
        request = sla_breach(world)
    assert login(world.distant).get(f"/bureau/requests/{request.id}").status_code == 404
    assert login(world.distant).get("/bureau/requests/999999").status_code == 404


def test_credit_data_needs_the_enterprises_consent_to_the_bureau(app, login, world):
    with app.test_request_context():
        request = sla_breach(world)
        grant_consent_to(world.owner.enterprise, world.bank.id)  # a bank's consent is not the bureau's
    client = login(world.coordinator)
    before = _reads()
    page = _text(client.get(f"/bureau/requests/{request.id}"))
    assert "企业未授权金融局查看信用数据" in page and 'data-testid="credit-report"' not in page
    assert _reads() == before
    with app.test_request_context():
        grant_consent_to(world.owner.enterprise, world.bureau.id, purposes=("financing_review", "post_loan"))
    page = _text(client.get(f"/bureau/requests/{request.id}"))
    assert "企业未授权金融局查看信用数据" not in page and 'data-testid="request-credit"' in page
    assert _reads() == before + 1
    read = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "credit_data.read")
                             .order_by(AuditEvent.id.desc()).limit(1))
    assert read.enterprise_id == world.owner.enterprise.id and read.actor_org_id == world.bureau.id


def test_a_revoked_or_expired_consent_hides_the_credit_data_again(app, login, world):
    with app.test_request_context():
        request = sla_breach(world)
        consent, = grant_consent_to(world.owner.enterprise, world.bureau.id, purposes=("financing_review",))
        consent.revoked_at = utcnow()
        db.session.flush()
    page = _text(login(world.coordinator).get(f"/bureau/requests/{request.id}"))
    assert "企业未授权金融局查看信用数据" in page


def test_other_roles_are_refused(app, login, world):
    assert login(world.officer).get("/bureau/requests").status_code == 403
    assert login(world.owner).get("/bureau/stuck").status_code == 403
    with app.test_request_context():
        enterprise_user = UserFactory(role=Role.ENTERPRISE_ADMIN)
    assert login(enterprise_user).get("/bureau/stuck/export?format=csv").status_code == 403
