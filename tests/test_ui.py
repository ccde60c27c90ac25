"""Display conventions (money half up, 万元, dates, Shanghai time), language, CSRF and error pages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from marketplace import formatting
from tests.conftest import make_test_config


@pytest.mark.parametrize(("value", "shown"), [
    (Decimal("1234567.89"), "¥1,234,567.89"), (Decimal("0.125"), "¥0.13"), (Decimal("2.675"), "¥2.68"),
    (Decimal("-1500"), "¥-1,500.00"), ("100", "¥100.00"),
])
def test_yuan_rounds_half_up_with_separators(value, shown):
    assert formatting.yuan(value) == shown


def test_wan_is_ten_thousands_rounded_half_up():
    assert formatting.wan(Decimal("1234567.89")) == "123.46"
    assert formatting.wan(Decimal("125")) == "0.01"  # 0.0125 -> 0.01
    assert formatting.wan(Decimal("1250")) == "0.13"  # 0.125 -> 0.13, not banker's 0.12


def test_dates_are_iso_and_times_are_shown_in_shanghai():
    assert formatting.ymd(date(2026, 1, 5)) == "2026-01-05"
    late_utc = datetime(2026, 1, 4, 17, 30, tzinfo=UTC)  # 01:30 on the 5th in Shanghai
    assert formatting.ymd(late_utc) == "2026-01-05"
    assert formatting.ymd_hm(late_utc) == "2026-01-05 01:30"


def test_ui_is_chinese_by_default_and_switches_to_english(client):
    assert "登录" in client.get("/login").get_data(as_text=True)
    response = client.get("/lang/en?next=/login")
    assert response.headers["Location"].endswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Log in" in page
    client.get("/lang/zh_Hans_CN")
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_language_switch_refuses_to_redirect_off_site(client):
    assert client.get("/lang/en?next=//evil.example").headers["Location"] == "/"


def test_error_pages_share_the_site_style(client, login):
    from tests.factories import make_enterprise_user

    not_found = client.get("/no-such-page")
    assert not_found.status_code == 404 and 'data-testid="error-page"' in not_found.get_data(as_text=True)
    login(make_enterprise_user())
    forbidden = client.get("/admin/institutions")
    assert forbidden.status_code == 403 and "无权访问" in forbidden.get_data(as_text=True)


def test_server_error_page_is_styled_and_leaks_nothing(database_url, tmp_path_factory):
    from marketplace import create_app

    app = create_app({**make_test_config(database_url, tmp_path_factory), "TESTING": False},
                     instance_path=str(tmp_path_factory.mktemp("err")))

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    from marketplace.permissions import PUBLIC, ROUTE_ACCESS

    ROUTE_ACCESS["boom"] = PUBLIC
    try:
        response = app.test_client().get("/boom")
    finally:
        del ROUTE_ACCESS["boom"]
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and "系统错误" in page and "secret internals" not in page


def test_forms_without_a_csrf_token_are_refused(database_url, tmp_path_factory):
    from marketplace import create_app

    app = create_app({**make_test_config(database_url, tmp_path_factory), "WTF_CSRF_ENABLED": True},
                     instance_path=str(tmp_path_factory.mktemp("csrf")))
    client = app.test_client()
    response = client.post("/login", data={"email": "a@b.cn", "password": "x"})
    assert response.status_code == 400 and "表单已过期" in response.get_data(as_text=True)


def test_pages_are_usable_on_a_phone(client):
    page = client.get("/").get_data(as_text=True)
    assert 'name="viewport" content="width=device-width' in page


def test_method_not_allowed_names_the_allowed_methods(client):
    response = client.post("/healthz")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
