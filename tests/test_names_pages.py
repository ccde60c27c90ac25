"""Names where people read codes (issue 16): the admin's enterprise page, the access and audit logs,
the institution form's region picker; in Chinese and English, the codes on hover."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organisation
from marketplace.accounts.roles import Role
from marketplace.enterprises.access_log import PURPOSE_LABELS, READ_LABELS, WHAT_LABELS
from marketplace.enterprises.models import CONSENT_PURPOSES
from marketplace.extensions import db
from tests.factories import EnterpriseFactory, UserFactory, make_enterprise_user

MARKETPLACE = Path(__file__).resolve().parents[1] / "marketplace"


def _english(client):
    with client.session_transaction() as session:
        session["locale"] = "en"


@pytest.mark.parametrize("english, industry, region", [
    (False, "计算机、通信和其他电子设备制造业", "江苏省苏州市虎丘区"),
    (True, "Manufacture of Computers, Communication and Other Electronic Equipment", "Huqiu District, Suzhou, Jiangsu"),
])  # fmt: skip
def test_the_admins_enterprise_page_names_industry_and_region_with_codes_on_hover(client, login, english,
                                                                                 industry, region):
    enterprise = EnterpriseFactory(industry_code="39", region_code="320505")
    login(UserFactory(role=Role.PLATFORM_ADMIN))
    if english:
        _english(client)
    page = client.get(f"/admin/enterprises/{enterprise.id}").get_data(as_text=True)
    assert re.search(r'data-testid="fact-industry"><span title="[^"]* 39" data-code="39">' + re.escape(industry), page)
    assert re.search(r'data-testid="fact-region"><span title="[^"]* 320505" data-code="320505">' + re.escape(region), page)


@pytest.mark.parametrize("english, what, purpose", [
    (False, "企业信息", "平台管理"), (True, "Enterprise profile", "Platform administration"),
])
def test_the_access_log_names_what_was_read_and_why_with_the_codes_on_hover(client, login, english, what, purpose):
    owner = make_enterprise_user()
    login(UserFactory(role=Role.PLATFORM_ADMIN))
    client.get(f"/admin/enterprises/{owner.enterprise.id}")  # the admin's read is logged
    login(owner)
    if english:
        _english(client)
    page = client.get("/enterprise/access-log").get_data(as_text=True)
    assert f'<span title="enterprise_profile" data-code="enterprise_profile">{what}</span>' in page
    assert f'<span title="platform administration" data-code="platform administration">{purpose}</span>' in page
    login(UserFactory(role=Role.PLATFORM_ADMIN))
    if english:
        _english(client)
    audit_page = client.get("/admin/audit?action=credit_data.").get_data(as_text=True)
    assert f'data-code="platform administration">{purpose}</span>' in audit_page
    assert '<span title="enterprise_profile">' in audit_page  # the code on hover


def _literal_reads() -> tuple[set[str], set[str]]:
    """The object types and purposes written as literals where the code logs a read of credit data."""
    whats, purposes = set(), set()
    for path in MARKETPLACE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        whats |= set(re.findall(r'record_credit_read\([^,()]+,\s*"([^"]+)"', text))
        whats |= set(re.findall(r'_log_read\([^,()]+,\s*"([^"]+)"', text))
        purposes |= set(re.findall(r'purpose="([^"]+)"', text))
        purposes |= set(re.findall(r'^(?!FEE_)[A-Z_]*PURPOSE = "([^"]+)"', text, flags=re.M))  # not a payment's
    return whats, purposes


def test_every_object_read_and_every_purpose_has_words_in_both_languages():
    whats, purposes = _literal_reads()
    assert {"financing_request", "verification_report", "enterprise_profile"} <= whats
    assert whats <= WHAT_LABELS.keys(), whats - WHAT_LABELS.keys()
    assert {"financing review", "platform administration"} <= purposes
    assert (purposes | set(CONSENT_PURPOSES)) <= PURPOSE_LABELS.keys(), purposes - PURPOSE_LABELS.keys()
    for zh, en in (*READ_LABELS.values(), *PURPOSE_LABELS.values()):
        assert re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[\u4e00-\u9fff]", en)


@pytest.mark.parametrize("typed, stored", [
    ("320505", "320505"), ("３２０５０５", "320505"), ("苏州市虎丘区", "320505"),
    ("Huqiu District, Suzhou, Jiangsu", "320505"), ("3205 江苏省苏州市", "320500"), ("江苏省", "320000"),
])  # fmt: skip
def test_the_institution_form_takes_a_region_by_code_or_name_in_either_language(client, login, typed, stored):
    login(UserFactory(role=Role.PLATFORM_ADMIN))
    _english(client)  # an English admin typing a Chinese name is understood too
    response = client.post("/admin/institutions/new", data={"kind": "bank", "name": "江苏银行", "region_code": typed})
    assert response.status_code == 302
    assert db.session.scalar(select(Organisation.region_code).where(Organisation.name == "江苏银行")) == stored


@pytest.mark.parametrize("typed, said", [("999999", "未知的地区：999999"), ("朝阳区", "“朝阳区”可指多个地区")])
def test_the_institution_form_refuses_an_unknown_or_ambiguous_region_and_stores_nothing(client, login, typed, said):
    login(UserFactory(role=Role.PLATFORM_ADMIN))
    page = client.post("/admin/institutions/new", data={"kind": "bank", "name": "某银行", "region_code": typed})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and said in text and f'value="{typed}"' in text
    assert db.session.scalar(select(Organisation).where(Organisation.name == "某银行")) is None


def test_the_institution_form_region_picker_lists_names_without_javascript(client, login):
    login(UserFactory(role=Role.PLATFORM_ADMIN))
    page = client.get("/admin/institutions/new").get_data(as_text=True)
    assert 'list="region_code-options"' in page and '<option value="3205 江苏省苏州市">' in page


@pytest.mark.parametrize("english, region", [
    (False, "产品不限地区（企业所在地：江苏省苏州市虎丘区）"),
    (True, "The product accepts every region (the enterprise is in Huqiu District, Suzhou, Jiangsu)"),
])  # fmt: skip
def test_the_match_explanation_names_the_region_with_the_codes_on_hover(app, client, login, english, region):
    from tests.desks.helpers import routed

    case = routed(app)
    login(case.bank_staff)
    if english:
        _english(client)
    page = client.get(f"/institution/requests/{case.request.id}").get_data(as_text=True)
    assert re.search(r'data-testid="criterion-region" title="320505 → any">✓ ' + re.escape(region), page)
    assert 'data-testid="criterion-industry" title="39 → any">' in page


def test_the_region_tree_for_the_cascading_picker_comes_in_either_language(client):
    chinese = client.get("/reference/regions.json").get_json()
    english = client.get("/reference/regions.json?lang=en").get_json()
    jiangsu_zh = next(p for p in chinese if p["code"] == "32")
    jiangsu_en = next(p for p in english if p["code"] == "32")
    assert (jiangsu_zh["name"], jiangsu_en["name"]) == ("江苏省", "Jiangsu")
    suzhou = next(c for c in jiangsu_en["cities"] if c["code"] == "3205")
    assert suzhou["name"] == "Suzhou" and {"code": "320506", "name": "Wuzhong District"} in suzhou["districts"]
    assert [p["code"] for p in english] == [p["code"] for p in chinese]
