"""Registration asks only what it must (issue 19, item 4): the credit code gives the region and the
kind of entity; the legal representative, industry, county and phone are completed later, before
the first financing request is submitted."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from tests.enterprises.test_registration import ID_NUMBER, form, profile_form
from tests.factories import EnterpriseFactory, UserFactory, make_enterprise_user, make_uscc
from tests.financing.test_requests import create, only_request, receivables, sign

INCOMPLETE = {"legal_rep_name": None, "legal_rep_id_number": None, "industry_code": None, "contact_phone": None}


@pytest.fixture
def no_mail(monkeypatch):
    monkeypatch.setattr("marketplace.enterprises.registration.send_mail", lambda to, subject, body: None)


def registered(client, **overrides) -> Enterprise:
    page = client.post("/register", data=form(**overrides)).get_data(as_text=True)
    assert "请查收邮件完成注册" in page
    return db.session.scalar(select(Enterprise).where(Enterprise.uscc == form(**overrides)["uscc"]))


def incomplete_admin(**enterprise_fields):
    return make_enterprise_user(enterprise=EnterpriseFactory(**{**INCOMPLETE, **enterprise_fields}))


def test_the_form_asks_five_things_and_nothing_the_code_says(client):
    page = client.get("/register").get_data(as_text=True)
    form_html = page[page.index('data-testid="register-form"'):page.index("</form>")]
    asked = set(re.findall(r'<(?:input|select|textarea)[^>]*name="([a-z_]+)"', form_html)) - {"csrf_token"}
    assert asked == {"enterprise_name", "uscc", "name", "email", "password"}


def test_the_region_comes_from_the_code_and_the_rest_waits(client, no_mail):
    enterprise = registered(client, uscc=make_uscc(5151, "91320506"))
    assert (enterprise.region_code, enterprise.organisation.region_code) == ("320506", "320506")
    assert [enterprise.legal_rep_name, enterprise.legal_rep_id_number, enterprise.industry_code,
            enterprise.contact_phone] == [None, None, None, None]
    assert enterprise.contact_name == "陈晓"


@pytest.mark.parametrize("prefix, kind", [("91320506", "企业"), ("92320506", "个体工商户"), ("93320506", "农民专业合作社")])
def test_the_profile_names_the_kind_of_entity_from_the_code(client, login, prefix, kind):
    user = incomplete_admin(uscc=make_uscc(77, prefix), region_code="320506")
    page = login(user).get("/enterprise").get_data(as_text=True)
    assert re.search(r'data-testid="entity-kind">' + kind + "<", page)
    assert 'data-testid="profile-incomplete"' in page and "法定代表人姓名" in page
    assert 'data-testid="complete-profile"' in page and "None" not in page


def test_a_code_registered_at_city_level_asks_the_county(client, login, no_mail):
    enterprise = registered(client, uscc=make_uscc(5252, "91320500"))
    assert enterprise.region_code == "320500"  # kept as the code says, until the enterprise picks its county
    admin = make_enterprise_user(enterprise=enterprise)
    page = login(admin).get("/enterprise/profile/complete").get_data(as_text=True)
    assert "江苏省苏州市" in page and 'data-testid="region-ask"' in page


def test_completing_the_profile_stores_it_and_returns_to_the_checklist(client, login):
    user = incomplete_admin(region_code="320500")
    login(user)
    page = client.get("/enterprise/profile/complete").get_data(as_text=True)
    assert 'data-testid="profile-form"' in page
    response = client.post("/enterprise/profile/complete", data=profile_form())
    assert response.status_code == 302 and response.headers["Location"].endswith("/enterprise/start")
    enterprise = db.session.get(Enterprise, user.enterprise.id)
    assert (enterprise.legal_rep_name, enterprise.legal_rep_id_number, enterprise.industry_code) == \
        ("陈建国", ID_NUMBER, "34")
    assert (enterprise.region_code, enterprise.organisation.region_code, enterprise.contact_phone) == \
        ("320506", "320506", "13912345678")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "enterprise.profile_completed"))
    assert event is not None and ID_NUMBER not in str(event.details)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("legal_rep_name", "", "请输入法定代表人姓名"),
    ("legal_rep_id_number", ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1"), "校验"),
    ("legal_rep_id_number", "32050619801301123X", "出生日期"),
    ("industry_code", "00", "行业"),
    ("region_code", "320571", "区县"),
    ("region_code", "320500", "区县"),  # a city is not a county
    ("contact_phone", "12345", "手机号"),
])
def test_bad_profile_input_is_refused_in_chinese_and_nothing_is_stored(client, login, field, value, message):
    user = incomplete_admin()
    response = login(user).post("/enterprise/profile/complete", data=profile_form(**{field: value}))
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    enterprise = db.session.get(Enterprise, user.enterprise.id)
    assert enterprise.legal_rep_name is None and enterprise.industry_code is None


def test_the_stored_id_number_is_never_shown_back_and_blank_keeps_it(client, login):
    user = make_enterprise_user()
    number = user.enterprise.legal_rep_id_number
    login(user)
    page = client.get("/enterprise/profile/complete").get_data(as_text=True)
    assert number not in page and number[:6] + "*" * 8 + number[-4:] in page
    response = client.post("/enterprise/profile/complete", data=profile_form(legal_rep_id_number="",
                                                                              legal_rep_name="王五"))
    assert response.status_code == 302
    enterprise = db.session.get(Enterprise, user.enterprise.id)
    assert (enterprise.legal_rep_name, enterprise.legal_rep_id_number) == ("王五", number)


def test_an_incomplete_profile_blocks_submission_with_a_link_to_complete_it(app, client, login):
    user = incomplete_admin()
    sign(app, user)
    rcvs = receivables(user, "200000.00")
    login(user)
    create(client, rcvs)
    request = only_request(user)
    page = client.get(f"/financing/{request.id}").get_data(as_text=True)
    assert "请先补全企业资料" in page and 'data-testid="blocker-complete-profile"' in page
    assert 'href="/enterprise/profile/complete"' in page
    page = client.post(f"/financing/{request.id}/submit", data={"version": request.version},
                       follow_redirects=True).get_data(as_text=True)
    assert "请先补全企业资料" in page and 'data-testid="blocker-complete-profile"' in page
    db.session.refresh(request)
    assert request.state == "draft" and request.submitted_at is None
    client.post("/enterprise/profile/complete", data=profile_form())
    assert "请先补全企业资料" not in client.get(f"/financing/{request.id}").get_data(as_text=True)


def test_an_incomplete_profile_still_gets_recommended_products(app, client, login):
    """The matcher reads no industry as none given (the request page ranks the draft's products)."""
    user = incomplete_admin()
    rcvs = receivables(user, "200000.00")
    login(user)
    create(client, rcvs)
    assert client.get(f"/financing/{only_request(user).id}").status_code == 200


@pytest.mark.parametrize("role", [Role.ENTERPRISE_APPLICANT, Role.BANK_OFFICER])
def test_only_the_enterprise_admin_completes_the_profile(client, login, role):
    user = make_enterprise_user(role) if role == Role.ENTERPRISE_APPLICANT else UserFactory(role=role)
    login(user)
    assert client.get("/enterprise/profile/complete").status_code == 403
    assert client.post("/enterprise/profile/complete", data=profile_form()).status_code == 403
