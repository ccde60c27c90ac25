"""The platform admin versions the red-flag thresholds and the "flags change the class" setting
with the rest of the policy (issue 11 item 7)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.verification import policies
from marketplace.verification.models import PolicyVersion
from tests.factories import UserFactory
from workflows.verification.policy import Thresholds


@pytest.fixture
def admin(login):
    user = UserFactory(role=Role.PLATFORM_ADMIN)
    login(user)
    return user


def form(version: str, **overrides) -> dict:
    data = {name: str(value) for name, value in Thresholds().as_dict().items()}
    data.update({"version": version, "effective_from": today_shanghai().isoformat(), "note": "红旗"})
    data.update(overrides)
    return data


def test_the_form_offers_the_setting_as_a_choice_prefilled_off(client, admin):
    html = client.get("/admin/policies/new").get_data(as_text=True)
    assert '<select' in html and 'name="red_flags_affect_class"' in html
    assert '<option selected value="false">' in html or '<option value="false" selected>' in html
    assert "F1 资金回流的间隔天数上限" in html and 'name="burst_multiple"' in html and 'value="4"' in html


def test_the_admin_saves_a_version_with_the_setting_on_and_new_thresholds(client, admin):
    response = client.post("/admin/policies/new", data=form("2026.7", red_flags_affect_class="true",
                                                           round_trip_days="10", burst_multiple="3.5"))
    assert response.status_code == 302
    row = db.session.scalar(select(PolicyVersion).where(PolicyVersion.version == "2026.7"))
    assert row.thresholds["red_flags_affect_class"] is True
    assert (row.thresholds["round_trip_days"], row.thresholds["burst_multiple"]) == (10, "3.5")
    detail = client.get(f"/admin/policies/{row.id}").get_data(as_text=True)
    assert 'data-testid="threshold-red_flags_affect_class">是<' in detail
    with client.application.test_request_context():
        in_force = policies.current_policy().thresholds
    assert in_force.red_flags_affect_class is True and in_force.flag_limits().round_trip_days == 10


def test_the_default_policy_page_shows_the_setting_off(client, admin):
    html = client.get("/admin/policies/default").get_data(as_text=True)
    assert 'data-testid="threshold-red_flags_affect_class">否<' in html


def test_bad_red_flag_values_are_refused_per_field_and_nothing_is_stored(client, admin):
    response = client.post("/admin/policies/new", data=form("2026.8", red_flags_affect_class="maybe",
                                                           round_trip_tolerance="0.8"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="error-red_flags_affect_class"' in html
    response = client.post("/admin/policies/new", data=form("2026.8", round_trip_tolerance="0.8", burst_days="2"))
    html = response.get_data(as_text=True)
    assert 'data-testid="error-round_trip_tolerance"' in html and 'data-testid="error-burst_days"' in html
    assert db.session.scalar(select(func.count()).select_from(PolicyVersion)) == 0


def test_versions_stored_before_red_flags_keep_the_defaults(ctx):
    admin = UserFactory(role=Role.PLATFORM_ADMIN)
    row = policies.create_policy_version(admin, "2026.6", today_shanghai(), {"r2_ok_months": 4})
    legacy = {k: v for k, v in row.thresholds.items() if not k.startswith(("round_trip", "same_day", "burst", "red_"))}
    row.thresholds = legacy  # as a version saved before this release holds them
    policy = policies.as_policy(row)
    assert policy.thresholds.red_flags_affect_class is False and policy.thresholds.round_trip_days == 7
