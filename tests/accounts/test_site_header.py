"""base.html's top bar, kept rendered per language, role, user and unread count
(marketplace.accounts.chrome): the same HTML as a fresh render, with this request's CSRF token and
language link, and never stale."""

from __future__ import annotations

import re

from flask_wtf.csrf import validate_csrf

from marketplace.accounts import chrome
from marketplace.accounts.roles import Role
from tests.factories import UserFactory


def _header(html: str) -> str:
    return html[html.index('<header class="topbar">'):html.index("</header>")]


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', _header(html)).group(1)


def test_the_kept_top_bar_is_the_fresh_one_with_this_requests_token(app, client, login):
    login(UserFactory(role=Role.BANK_OFFICER, name="王<经理>"))
    chrome.forget()
    fresh = client.get("/market").get_data(as_text=True)
    kept = client.get("/market").get_data(as_text=True)
    assert re.sub(r'value="[^"]+"', "", _header(kept)) == re.sub(r'value="[^"]+"', "", _header(fresh))
    assert "王&lt;经理&gt;" in _header(kept) and 'data-testid="nav-desk"' in _header(kept)
    with app.test_request_context():
        with client.session_transaction() as session:
            from flask import session as request_session

            request_session.update(session)
        validate_csrf(_token(kept))  # raises if the token is not this session's


def test_the_language_link_points_back_to_each_page(client, login):
    login(UserFactory(role=Role.ENTERPRISE_ADMIN))
    for path in ("/market", "/notifications/", "/market"):
        header = _header(client.get(path).get_data(as_text=True))
        assert f'<a href="/lang/en?next={path}">English</a>' in header


def test_a_new_unread_message_or_name_shows_on_the_next_page(app, client, login):
    from marketplace.extensions import db
    from marketplace.notifications.services import notify

    user = UserFactory(role=Role.BUREAU_COORDINATOR, name="李协调")
    login(user)
    assert "badge-bad" not in _header(client.get("/market").get_data(as_text=True))
    with app.test_request_context():
        notify([user], "info", "标题", "内容")
    user.name = "李协调员"
    db.session.flush()
    header = _header(client.get("/market").get_data(as_text=True))
    assert '<span class="badge badge-bad">1</span>' in header and "李协调员 ·" in header


def test_signed_out_pages_carry_no_token(client):
    header = _header(client.get("/market").get_data(as_text=True))
    assert "csrf_token" not in header and 'data-testid="nav-login"' in header
