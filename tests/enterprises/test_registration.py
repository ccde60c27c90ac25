"""Enterprise self-registration: credit code, ID number, industry and region, masking."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from tests.factories import EnterpriseFactory, make_resident_id, make_uscc

ID_NUMBER = make_resident_id(123)


def form(**overrides):
    """Registration asks five things (issue 19): the rest comes from the credit code or later."""
    data = {
        "enterprise_name": "苏州恒达精密机械有限公司", "uscc": make_uscc(4242, "91320506"),
        "name": "陈晓", "email": "chen@hengda.cn", "password": "Hengda-2026!",
    }
    data.update(overrides)
    return data


def profile_form(**overrides):
    """What the enterprise completes before its first request (/enterprise/profile/complete)."""
    data = {
        "legal_rep_name": "陈建国", "legal_rep_id_number": ID_NUMBER, "industry_code": "34", "region_code": "320506",
        "park": "吴中经济技术开发区", "address": "", "contact_phone": "13912345678",
    }
    data.update(overrides)
    return data


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def mailbox(monkeypatch):
    """The registration emails, as (to, subject, body)."""
    sent = []
    monkeypatch.setattr("marketplace.enterprises.registration.send_mail",
                        lambda to, subject, body: sent.append((to, subject, body)))
    return sent


def link_in(body: str) -> str:
    return "/register/confirm/" + re.search(r"/register/confirm/(\S+)", body).group(1)


def test_registration_waits_for_the_email_link_then_signs_the_admin_in(client, mailbox):
    response = client.post("/register", data=form())
    assert response.status_code == 200 and "请查收邮件完成注册" in response.get_data(as_text=True)
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.name == "苏州恒达精密机械有限公司"))
    admin = db.session.scalar(select(User).where(User.email == "chen@hengda.cn"))
    assert admin.role == Role.ENTERPRISE_ADMIN and admin.organisation_id == enterprise.organisation_id
    assert admin.email_confirmed_at is None and client.get("/enterprise").status_code == 302
    # the password alone does not sign in before the link is used
    page = client.post("/login", data={"email": "chen@hengda.cn", "password": "Hengda-2026!"}).get_data(as_text=True)
    assert "请先查收注册邮件" in page
    ((to, _subject, body),) = mailbox
    assert to == "chen@hengda.cn"
    link = link_in(body)
    assert client.get(link).status_code == 200  # opening the link (a mail scanner) confirms nothing
    assert db.session.get(User, admin.id).email_confirmed_at is None
    response = client.post(link)
    assert response.status_code == 302 and response.headers["Location"].endswith("/enterprise/start")
    assert client.get("/enterprise").status_code == 200


def test_registration_answers_the_same_whether_the_email_has_an_account(client, mailbox):
    from tests.factories import UserFactory

    staff = UserFactory(role=Role.BANK_OFFICER, email="officer@bank.cn")
    taken = client.post("/register", data=form(email="OFFICER@bank.cn"))
    fresh = client.post("/register", data=form(email="fresh@hengda.cn", uscc=make_uscc(4343)))
    assert taken.status_code == fresh.status_code == 200

    def comparable(response, email):
        return re.sub(r'(nonce|value)="[^"]*"', "", response.get_data(as_text=True).replace(email, "X"))

    assert comparable(taken, "officer@bank.cn") == comparable(fresh, "fresh@hengda.cn")
    # nothing was created for the taken address; its owner is told instead
    assert count(Enterprise) == 1
    assert db.session.get(User, staff.id).organisation.kind == "bank"
    assert [to for to, _s, _b in mailbox] == ["officer@bank.cn", "fresh@hengda.cn"]
    assert "/register/confirm/" not in mailbox[0][2] and "已有账户" in mailbox[0][2]


def test_a_forged_or_expired_link_is_refused(client, mailbox, app, monkeypatch):
    client.post("/register", data=form())
    link = link_in(mailbox[0][2])
    assert "确认链接无效" in client.post(link[:-3] + "xyz", follow_redirects=True).get_data(as_text=True)
    monkeypatch.setitem(app.config, "REGISTRATION_LINK_HOURS", -1)
    assert "已过期" in client.post(link, follow_redirects=True).get_data(as_text=True)
    assert client.get("/enterprise").status_code == 302


def test_registration_is_rate_limited_per_address(rate_limited_app, mailbox):
    client = rate_limited_app(REGISTER_LIMIT_PER_EMAIL="2 per hour", REGISTER_LIMIT_PER_IP="50 per hour").test_client()
    codes = [client.post("/register", data=form(uscc="bad")).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.post("/register", data=form(uscc="bad", email="other@hengda.cn")).status_code == 200


def test_registration_is_rate_limited_per_ip(rate_limited_app, mailbox):
    client = rate_limited_app(REGISTER_LIMIT_PER_EMAIL="50 per hour", REGISTER_LIMIT_PER_IP="3 per hour").test_client()
    codes = [client.post("/register", data=form(uscc="bad", email=f"x{i}@hengda.cn")).status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("uscc", "91320506MA1X", "应为18位"),
    ("uscc", make_uscc(4242)[:17] + ("0" if make_uscc(4242)[17] != "0" else "1"), "校验位错误"),
    ("uscc", "B" + make_uscc(4242)[1:], "登记管理部门代码"),
    ("enterprise_name", "", "请输入企业名称"),
    ("password", "short", "密码至少10位"),
])
def test_bad_input_is_refused_in_chinese_and_nothing_is_stored(client, field, value, message):
    before = count(Enterprise)
    page = client.post("/register", data=form(**{field: value})).get_data(as_text=True)
    assert message in page
    assert count(Enterprise) == before


def test_codes_starting_with_a_n_or_y_are_accepted(client):
    for i, first in enumerate("ANY"):
        body = f"{first}1320506{i:09d}"
        from workflows.identifiers import uscc_check_char

        code = body + uscc_check_char(body)
        response = client.post("/register", data=form(uscc=code, email=f"{first}@x.cn"))
        assert "请查收邮件完成注册" in response.get_data(as_text=True)
        assert db.session.scalar(select(Enterprise).where(Enterprise.uscc == code)) is not None


def test_a_credit_code_cannot_be_registered_twice(client):
    existing = EnterpriseFactory()
    page = client.post("/register", data=form(uscc=existing.uscc.lower())).get_data(as_text=True)
    assert "已注册" in page


def test_id_number_is_shown_masked_everywhere(client, login):
    from tests.factories import make_enterprise_user

    user = make_enterprise_user()
    number = user.enterprise.legal_rep_id_number
    login(user)
    page = client.get("/enterprise").get_data(as_text=True)
    assert number not in page
    assert number[:6] + "*" * 8 + number[-4:] in page


def test_region_picker_data_lists_county_level_codes(client):
    tree = client.get("/reference/regions.json").get_json()
    jiangsu = next(p for p in tree if p["name"] == "江苏省")
    suzhou = next(c for c in jiangsu["cities"] if c["name"] == "苏州市")
    assert {"code": "320506", "name": "吴中区"} in suzhou["districts"]
