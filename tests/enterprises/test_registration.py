"""Enterprise self-registration: credit code, ID number, industry and region, masking."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from tests.factories import EnterpriseFactory, make_resident_id, make_uscc

ID_NUMBER = make_resident_id(123)


def form(**overrides):
    data = {
        "enterprise_name": "苏州恒达精密机械有限公司", "uscc": make_uscc(4242), "legal_rep_name": "陈建国",
        "legal_rep_id_number": ID_NUMBER, "industry_code": "34", "region_code": "320506",
        "park": "吴中经济技术开发区", "address": "", "contact_phone": "13912345678",
        "name": "陈晓", "email": "chen@hengda.cn", "password": "Hengda-2026!",
    }
    data.update(overrides)
    return data


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_registration_creates_the_enterprise_and_signs_its_admin_in(client):
    response = client.post("/register", data=form())
    assert response.status_code == 302 and response.headers["Location"].endswith("/enterprise/commitment")
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.name == "苏州恒达精密机械有限公司"))
    admin = db.session.scalar(select(User).where(User.email == "chen@hengda.cn"))
    assert admin.role == Role.ENTERPRISE_ADMIN and admin.organisation_id == enterprise.organisation_id
    assert client.get("/enterprise").status_code == 200


@pytest.mark.parametrize(("field", "value", "message"), [
    ("uscc", "91320506MA1X", "应为18位"),
    ("uscc", make_uscc(4242)[:17] + ("0" if make_uscc(4242)[17] != "0" else "1"), "校验位错误"),
    ("uscc", "B" + make_uscc(4242)[1:], "登记管理部门代码"),
    ("legal_rep_id_number", ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1"), "校验"),
    ("legal_rep_id_number", "32050619801301123X", "出生日期"),
    ("industry_code", "00", "行业"),
    ("region_code", "320571", "区县"),
    ("contact_phone", "12345", "手机号"),
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
        assert response.status_code == 302, response.get_data(as_text=True)
        client.post("/logout")


def test_a_credit_code_cannot_be_registered_twice(client):
    existing = EnterpriseFactory()
    page = client.post("/register", data=form(uscc=existing.uscc.lower())).get_data(as_text=True)
    assert "已注册" in page


def test_duplicate_email_is_refused(client):
    client.post("/register", data=form())
    client.post("/logout")
    page = client.post("/register", data=form(uscc=make_uscc(777))).get_data(as_text=True)
    assert "该邮箱已被使用" in page


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
