"""The monthly white-list push: only A/B grades, with the enterprise's consent to be recommended
and no active negative record; once per region and month; confirmed by the region's coordinator;
then in every bank's leads and as an XLSX download. The enterprise admin gives or withdraws the
consent on its consents page."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.lists import services
from marketplace.lists.models import WhitelistPush
from marketplace.lists.tasks import propose_monthly_pushes
from tests.factories import EnterpriseFactory, make_enterprise_user
from tests.lists.conftest import consenting, graded, publish, record, yellow_enterprise


def candidates(app):
    """Enterprises of Suzhou: A and B with consent (pushed); C; A without consent; A with an
    active negative record; A with only a repaired negative record (pushed); A yellow-listed."""
    with app.test_request_context():
        made = {name: EnterpriseFactory(name=f"苏州{name}有限公司") for name in
                ("甲A", "乙B", "丙C", "丁未同意", "戊负面", "己已修复")}
        for name, grade in (("甲A", "A"), ("乙B", "B"), ("丙C", "C"), ("丁未同意", "A"), ("戊负面", "A"),
                            ("己已修复", "A")):
            graded(made[name], grade, {"A": 800, "B": 650, "C": 500}[grade])
            if name != "丁未同意":
                consenting(made[name])
        record(made["戊负面"], "tax_arrears", source="tax")
        record(made["己已修复"], "tax_arrears", source="tax", status="repaired")
        made["庚黄名单"] = consenting(yellow_enterprise(name="苏州庚黄名单有限公司"))
        graded(made["庚黄名单"], "A")
    return made


def propose(app, world):
    with app.test_request_context():
        push = services.propose_whitelist_push(world.coordinator.organisation.region_code, today_shanghai(),
                                               today_shanghai())
        db.session.commit()
    return push


def test_the_push_picks_only_a_and_b_grades_with_consent_and_no_active_negative_record(app, world):
    made = candidates(app)
    publish(app, world.coordinator)  # the yellow list is published
    push = propose(app, world)
    picked = {entry.enterprise_id: entry for entry in push.entries}
    assert set(picked) == {made["甲A"].id, made["乙B"].id, made["己已修复"].id}
    entry = picked[made["乙B"].id]
    assert (entry.grade, entry.score, entry.decision) == ("B", 650, "included")
    assert "信用等级B" in entry.reason_zh and "agreed to be recommended" in entry.reason_en
    assert push.month == today_shanghai().replace(day=1) and push.state == "proposed"


def test_the_monthly_task_proposes_once_per_region_and_month(app, world):
    candidates(app)
    assert propose_monthly_pushes() == 2  # Suzhou and Beijing
    assert propose_monthly_pushes() == 0
    assert db.session.scalar(select(func.count(WhitelistPush.id))) == 2


def test_only_a_coordinator_of_the_region_confirms(app, world):
    candidates(app)
    push = propose(app, world)
    with app.test_request_context(), pytest.raises(services.ListRefused):
        services.confirm_push(push, world.distant)
    assert push.state == "proposed"


def confirmed_push(app, world, login):
    made = candidates(app)
    push = propose(app, world)
    client = login(world.coordinator)
    dropped = next(e for e in push.entries if e.enterprise_id == made["乙B"].id)
    answer = client.post(f"/bureau/whitelist-pushes/{push.id}/entries/{dropped.id}",
                         data={"decision": "excluded", "reason": "企业近期经营异常"})
    assert answer.status_code == 302
    assert client.post(f"/bureau/whitelist-pushes/{push.id}/confirm").status_code == 302
    assert push.state == "confirmed" and push.confirmed_by_id == world.coordinator.id
    return made, push


def test_the_bank_sees_the_confirmed_push_in_its_leads_and_on_the_whitelist_page(app, world, login):
    made, push = confirmed_push(app, world, login)
    client = login(world.officer)
    leads = client.get("/institution/leads/").get_data(as_text=True)
    assert 'data-testid="leads-whitelist"' in leads
    assert "苏州甲A有限公司" in leads and "苏州乙B有限公司" not in leads  # excluded by the coordinator
    page = client.get("/institution/whitelist")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and text.count('data-testid="whitelist-row"') == 2
    assert made["甲A"].uscc not in text  # the code is masked
    reads = db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "credit_data.read", AuditEvent.object_type == "whitelist_push"))
    assert reads == 2


def test_the_bank_downloads_the_push_as_xlsx(app, world, login):
    made, push = confirmed_push(app, world, login)
    answer = login(world.officer).get(f"/institution/whitelist.xlsx?month={push.month:%Y-%m}")
    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(answer.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("推送月份", "企业名称")
    assert sorted(row[1] for row in rows[1:]) == ["苏州己已修复有限公司", "苏州甲A有限公司"]
    first = next(row for row in rows[1:] if row[1] == "苏州甲A有限公司")
    assert first[0] == f"{push.month:%Y-%m}" and first[5] == "A" and first[6] == 800 and "*" in first[2]


def test_a_guarantor_and_an_enterprise_cannot_open_the_push(app, world, login):
    confirmed_push(app, world, login)
    assert login(world.guarantor_officer).get("/institution/whitelist").status_code == 403
    with app.test_request_context():
        admin = make_enterprise_user()
    assert login(admin).get("/institution/whitelist.xlsx").status_code == 403
    assert "leads-whitelist" not in login(world.guarantor_officer).get("/institution/leads/").get_data(as_text=True)


def test_the_enterprise_admin_consents_to_be_recommended_and_withdraws(app, login):
    with app.test_request_context():
        admin = make_enterprise_user(Role.ENTERPRISE_ADMIN)
        applicant = make_enterprise_user(Role.ENTERPRISE_APPLICANT, enterprise=admin.enterprise)
    enterprise = admin.enterprise
    client = login(admin)
    assert 'data-testid="recommend-toggle"' in client.get("/enterprise/consents").get_data(as_text=True)
    assert client.post("/enterprise/recommendation", data={"consent": "yes"}).status_code == 302
    assert enterprise.recommend_consent_at is not None and enterprise.recommend_consent_by_id == admin.id
    assert client.post("/enterprise/recommendation", data={"consent": "no"}).status_code == 302
    assert enterprise.recommend_consent_at is None
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "enterprises")
                                      .order_by(AuditEvent.id)))
    assert actions[-2:] == ["enterprise.recommend_consent_granted", "enterprise.recommend_consent_withdrawn"]
    assert login(applicant).post("/enterprise/recommendation", data={"consent": "yes"}).status_code == 403
    assert enterprise.recommend_consent_at is None
