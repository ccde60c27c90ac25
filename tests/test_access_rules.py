"""Every route against every role, through the one access-rule table (marketplace.permissions)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import url_for
from werkzeug.routing import IntegerConverter

from marketplace.accounts.roles import Role
from marketplace.permissions import ANONYMOUS, ROUTE_ACCESS
from tests.factories import UserFactory, make_enterprise_user

ROLES = [ANONYMOUS, *Role]


def _routes(app):
    return [rule for rule in app.url_map.iter_rules()]


def _url_for(rule) -> str:
    """Fill every URL variable with a value that names no real row."""
    values = {}
    for name in rule.arguments:
        values[name] = 987654 if isinstance(rule._converters[name], IntegerConverter) else "nonexistent"
    if rule.endpoint == "static":
        values["filename"] = "app.css"
    return rule.build(values, append_unknown=False)[1]


def test_every_route_has_an_access_rule(app):
    missing = sorted({rule.endpoint for rule in _routes(app)} - set(ROUTE_ACCESS))
    assert missing == [], f"routes without an access rule in permissions.ROUTE_ACCESS: {missing}"


def test_access_table_names_no_route_that_does_not_exist(app):
    stale = sorted(set(ROUTE_ACCESS) - {rule.endpoint for rule in _routes(app)})
    assert stale == []


def _user_for(role: str):
    if role == ANONYMOUS:
        return None
    if role.startswith("enterprise:"):
        return make_enterprise_user(Role(role))
    return UserFactory(role=Role(role))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_the_routes_its_rule_admits(app, client, login, role):
    user = _user_for(role)
    failures = []
    for rule in _routes(app):
        access = ROUTE_ACCESS[rule.endpoint]
        url = _url_for(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if user is not None:
                login(user)
            else:
                with client.session_transaction() as session:
                    session.clear()
            response = client.open(url, method=method)
            if access.admits(role):
                ok = response.status_code != 403
            elif role == ANONYMOUS and url.startswith("/api/"):
                ok = response.status_code == 401 and response.is_json and response.json["code"] == 401
            elif role == ANONYMOUS:
                ok = response.status_code == 302 and "/login" in response.headers["Location"]
            else:
                ok = response.status_code == 403
            if not ok:
                failures.append(f"{method} {url} ({rule.endpoint}, rule {access.name}) -> {response.status_code}")
    assert failures == [], "\n".join(failures)


def test_an_unlisted_endpoint_is_refused(app, client, login):
    """Fail closed: a route added without a rule answers 403 even to an admin."""
    from flask import Flask

    assert isinstance(app, Flask)
    from marketplace.permissions import ROUTE_ACCESS as table

    endpoint = "health.healthz"
    saved = table.pop(endpoint)
    try:
        response = client.get("/healthz")
    finally:
        table[endpoint] = saved
    assert response.status_code == 403


# Pages each role must find in the navigation bar (endpoints); every link there must open.
NAV_MUST_SHOW = {
    "enterprise": ("financing.index", "payments.index", "receivables.index", "statements.index"),
    "bank": ("desk.index", "leads.index", "supermarket.desk", "payments.received", "actions.index"),
    "guarantor": ("desk.index", "leads.index", "supermarket.desk", "payments.received", "actions.index"),
    "bureau": ("main.dashboard", "bureau_dashboard.index", "bureau_requests.index", "bureau_requests.stuck",
               "meetings.index", "bureau_reports.index"),
    "platform": ("admin.institutions", "admin.audit_log"),
    "provider": ("provider_records.index", "provider_records.upload"),
}


def _nav_links(html: str) -> list[str]:
    nav = re.search(r'<nav class="nav" data-testid="nav">(.*?)</nav>', html, re.S).group(1)
    return [unescape(href) for href in re.findall(r'<a [^>]*href="([^"]+)"', nav)]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_its_pages_in_the_nav_and_every_nav_link_opens(app, client, login, role):
    login(_user_for(role))
    home = client.get("/dashboard", follow_redirects=True)
    assert home.status_code == 200
    links = _nav_links(home.get_data(as_text=True))
    with app.test_request_context():
        expected = {url_for(endpoint) for endpoint in NAV_MUST_SHOW[Role(role).kind]}
    assert expected <= set(links), f"{role}: missing {expected - set(links)}"
    for href in links:
        response = client.get(href, follow_redirects=True)
        assert response.status_code == 200, f"{role}: {href} -> {response.status_code}"
