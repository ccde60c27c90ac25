"""Versioned verification policies: the platform admin's pages and the policy service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.verification import policies
from marketplace.verification.models import PolicyVersion
from tests.factories import UserFactory, make_enterprise_user
from workflows.verification.policy import DEFAULT_POLICY, PolicyError, Thresholds


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(PolicyVersion))


def _form(version: str, effective_from, **overrides) -> dict:
    data = {name: str(value) for name, value in Thresholds().as_dict().items()}
    data.update({"version": version, "effective_from": effective_from.isoformat(), "note": "测试"})
    data.update({k: str(v) for k, v in overrides.items()})
    return data


@pytest.fixture
def admin(login):
    user = UserFactory(role=Role.PLATFORM_ADMIN)
    login(user)
    return user


def test_without_stored_versions_the_default_is_in_force(ctx):
    assert policies.current_policy() == DEFAULT_POLICY
    assert [p.version for p in policies.all_policies()] == [DEFAULT_POLICY.version]


def test_current_policy_picks_the_latest_version_in_force_on_the_date(ctx):
    admin = UserFactory(role=Role.PLATFORM_ADMIN)
    today = today_shanghai()
    policies.create_policy_version(admin, "2027.1", today + timedelta(days=10), {"r2_ok_months": 4})
    policies.create_policy_version(admin, "2026.2", today, {"r2_ok_months": 5})
    assert policies.current_policy(today - timedelta(days=1)) == DEFAULT_POLICY
    assert policies.current_policy(today).version == "2026.2"
    assert policies.current_policy().thresholds.r2_ok_months == 5
    later = policies.current_policy(today + timedelta(days=10))
    assert (later.version, later.thresholds.r2_ok_months) == ("2027.1", 4)
    assert [p.version for p in policies.all_policies()] == ["2027.1", "2026.2", DEFAULT_POLICY.version]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "policy.created").limit(1))
    assert event is not None and event.actor_user_id == admin.id


def test_service_refuses_inverted_thresholds_with_every_problem(ctx):
    admin = UserFactory(role=Role.PLATFORM_ADMIN)
    with pytest.raises(PolicyError) as raised:
        policies.create_policy_version(admin, "2026.9", today_shanghai() - timedelta(days=1),
                                       {"r4_ok_days": 200, "r4_weak_days": 100, "h5_max_share": "2"})
    text = "；".join(raised.value.problems)
    assert "生效日期不能早于今天" in text
    assert "R4 关注账龄上限（天）" in text
    assert "H5 最大债务人占比上限" in text
    assert _count() == 0


def test_admin_creates_a_version_in_force_from_its_date(client, admin):
    page = client.get("/admin/policies/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "R2 正常所需付款月数" in html and 'value="3"' in html

    today = today_shanghai()
    response = client.post("/admin/policies/new", data=_form("2026.2", today, r3_multiple="2.5"))
    assert response.status_code == 302
    row = db.session.scalar(select(PolicyVersion).where(PolicyVersion.version == "2026.2"))
    assert row.thresholds["r3_multiple"] == "2.5" and row.created_by_id == admin.id
    assert row.effective_from == today

    listing = client.get("/admin/policies").get_data(as_text=True)
    assert 'data-testid="policy-in-force">2026.2<' in listing
    assert DEFAULT_POLICY.version in listing
    detail = client.get(f"/admin/policies/{row.id}").get_data(as_text=True)
    assert 'data-testid="in-force"' in detail and "2.5" in detail
    with client.application.test_request_context():
        assert policies.current_policy().thresholds.r3_multiple == Thresholds.from_dict({"r3_multiple": "2.5"}).r3_multiple


def test_out_of_range_thresholds_are_refused_per_field_and_nothing_stored(client, admin):
    response = client.post("/admin/policies/new",
                           data=_form("2026.3", today_shanghai(), h1_ok_months="5", h1_weak_months="6",
                                      lookback_months="99", h2_max_cv="abc"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="error-h2_max_cv"' in html and "H2 月收入变异系数上限应为数字" in html
    assert _count() == 0
    response = client.post("/admin/policies/new",
                           data=_form("2026.3", today_shanghai(), h1_ok_months="5", h1_weak_months="6",
                                      lookback_months="99"))
    html = response.get_data(as_text=True)
    assert 'data-testid="error-lookback_months"' in html and "回看月数应在1到36之间" in html
    assert 'data-testid="error-h1_weak_months"' in html
    assert _count() == 0


def test_duplicate_version_is_refused(client, admin):
    today = today_shanghai()
    assert client.post("/admin/policies/new", data=_form("2026.4", today)).status_code == 302
    response = client.post("/admin/policies/new", data=_form("2026.4", today + timedelta(days=5)))
    assert response.status_code == 200
    assert 'data-testid="error-version"' in response.get_data(as_text=True)
    response = client.post("/admin/policies/new", data=_form(DEFAULT_POLICY.version, today))
    assert "已存在" in response.get_data(as_text=True)
    assert _count() == 1


def test_past_effective_date_is_refused(client, admin):
    response = client.post("/admin/policies/new", data=_form("2026.5", today_shanghai() - timedelta(days=1)))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="error-effective_from"' in html and "生效日期不能早于今天" in html
    assert _count() == 0


@pytest.mark.parametrize("role", [Role.BANK_OFFICER, Role.GUARANTOR_APPROVER, Role.ENTERPRISE_ADMIN])
def test_other_roles_are_refused(client, login, role):
    user = make_enterprise_user(role) if role.startswith("enterprise:") else UserFactory(role=role)
    login(user)
    assert client.get("/admin/policies").status_code == 403
    assert client.post("/admin/policies/new", data=_form("2026.6", today_shanghai())).status_code == 403
    assert _count() == 0
