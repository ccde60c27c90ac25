"""Redirects stay on this site, every answer carries the browser security headers, odd input
gets a clear 400 (or is ignored) rather than a 500, and the 500 page survives a database error."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pyotp
import pytest
from flask import Flask
from sqlalchemy import text

from marketplace.accounts.roles import Role
from marketplace.config import Defaults, finalise
from marketplace.extensions import db
from marketplace.web_security import safe_next
from tests.conftest import make_test_config
from tests.factories import PASSWORD, UserFactory, make_enterprise_user

# Targets that must never leave the site: tabs and newlines Werkzeug or the browser drops,
# scheme-relative and backslash forms browsers read as another host, encoded forms, schemes.
OFFSITE_TARGETS = [
    "/\t/evil.example/", "/\n/evil.example/", "/\r\n/evil.example", "\t//evil.example", "/\x00/evil.example",
    "//evil.example", "///evil.example", "//evil.example/path", "/\\evil.example", "\\\\evil.example",
    "/\\/evil.example", "\\/evil.example", "https://evil.example/", "http:evil.example", "HTTPS://evil.example",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "evil.example", "//%09/evil.example", " //evil.example", "/ /evil.example".replace(" ", "\u0085"),
    "/\u200b/evil.example".replace("\u200b", "\u2028"), "https:/evil.example", "mailto:a@evil.example",
    "", None, "?next=//evil.example", "#//evil.example", "/" + "a" * 3000,
]
LOCAL_TARGETS = ["/", "/dashboard", "/requests/3?tab=offers", "/market?q=%E4%BF%9D%E7%90%86&page=2",
                 "/a%2F%2Fb", "/lang/en?next=/market"]


@pytest.mark.no_db
@pytest.mark.parametrize("target", OFFSITE_TARGETS)
def test_safe_next_refuses_every_target_off_this_site(target):
    assert safe_next(target) is None


@pytest.mark.no_db
@pytest.mark.parametrize("target", LOCAL_TARGETS)
def test_safe_next_keeps_paths_of_this_site(target):
    assert safe_next(target) == target


def _stays_on_site(response) -> bool:
    """A refused target answers 400, or redirects to a path of this site."""
    if response.status_code == 400:
        return True
    location = response.headers.get("Location", "")
    parts = urlsplit(location)
    return (response.status_code in (301, 302, 303) and parts.netloc in ("", "localhost")
            and not parts.path.startswith("//") and "evil" not in location.split("?")[0])


ENCODED_TARGETS = ["/%09/evil.example/", "/%0a/evil.example/", "/%0d%0a/evil.example/", "//evil.example",
                   "/%5Cevil.example", "/%5C%5Cevil.example", "%2F%2Fevil.example", "https://evil.example",
                   "javascript:alert(1)", "/%00/evil.example", "%09//evil.example", "/%E2%80%A8/evil.example"]


@pytest.mark.parametrize("encoded", ENCODED_TARGETS)
def test_language_switch_never_redirects_off_site(client, encoded):
    response = client.get(f"/lang/en?next={encoded}")
    assert _stays_on_site(response), (encoded, response.status_code, response.headers.get("Location"))


@pytest.mark.parametrize("encoded", ENCODED_TARGETS)
def test_login_never_redirects_off_site(client, encoded):
    user = make_enterprise_user()
    response = client.post(f"/login?next={encoded}", data={"email": user.email, "password": PASSWORD})
    assert _stays_on_site(response), (encoded, response.status_code, response.headers.get("Location"))


@pytest.mark.parametrize("encoded", ["/%09/evil.example/", "//evil.example", "/%5Cevil.example"])
def test_second_factor_never_redirects_off_site(client, encoded):
    from marketplace.db import utcnow

    staff = UserFactory(role=Role.BANK_OFFICER, totp_secret=pyotp.random_base32(), totp_enrolled_at=utcnow())
    first = client.post(f"/login?next={encoded}", data={"email": staff.email, "password": PASSWORD})
    assert _stays_on_site(first)
    if first.status_code == 400:
        return
    response = client.post("/login/two-factor", data={"code": pyotp.TOTP(staff.totp_secret).now()})
    assert _stays_on_site(response), response.headers.get("Location")


def test_a_local_next_is_followed_after_login(client):
    user = make_enterprise_user()
    response = client.post("/login?next=" + quote("/market?page=2"), data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/market?page=2"
    assert client.get("/lang/en?next=/market").headers["Location"] == "/market"


# ---- headers --------------------------------------------------------------------------------

def assert_security_headers(response, where: str = "") -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert re.search(r"'nonce-[A-Za-z0-9_-]{16,}'", " ".join(directives.get("script-src", []))), (where, csp)
    assert "'unsafe-inline'" not in directives.get("script-src", []), where
    assert "'unsafe-eval'" not in directives.get("script-src", []), where
    assert re.search(r"'nonce-[A-Za-z0-9_-]{16,}'", " ".join(directives.get("style-src", []))), (where, csp)
    assert not {"'unsafe-inline'", "'unsafe-hashes'"} & set(directives.get("style-src", [])), where
    assert directives.get("default-src") == ["'self'"], where
    assert directives.get("object-src") == ["'none'"], where
    assert directives.get("base-uri") == ["'self'"], where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert directives.get("form-action") == ["'self'"], where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in ("strict-origin-when-cross-origin", "same-origin", "no-referrer"), where
    assert headers.get("Permissions-Policy"), where


def test_pages_files_json_redirects_and_errors_all_carry_the_headers(client):
    for url in ("/", "/market", "/login", "/static/app.css", "/static/app.js", "/healthz", "/reference/regions.json",
                "/dashboard", "/no-such-page", "/api/v1/openapi.json", "/api/v1/requests"):
        assert_security_headers(client.get(url), url)
    assert_security_headers(client.post("/lang/en"), "405")


def test_each_page_gets_its_own_nonce_and_scripts_carry_it(client):
    first, second = client.get("/login"), client.get("/login")
    nonce = re.search(r"'nonce-([^']+)'", first.headers["Content-Security-Policy"]).group(1)
    assert nonce not in second.headers["Content-Security-Policy"]
    html = first.get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(f'nonce="{nonce}"' in tag or "src=" in tag for tag in scripts)


# templates/pdf/ is rendered by WeasyPrint, never under the page's CSP, but for these: the debtor
# request letter is also a page (marketplace/receivables/debtor_request_views.py, screen=True)
SCREEN_PDF_TEMPLATES = {"debtor_request_letter.html", "base.html", "_letter_style.html"}


def test_templates_have_no_inline_event_handlers_styles_or_unnonced_inline_scripts(app):
    """A CSP without 'unsafe-inline' blocks onclick=, style= and bare <script> and <style> blocks:
    none may be left."""
    from pathlib import Path

    root = Path(app.template_folder)
    offenders = []
    for path in root.rglob("*.html"):
        if "email" in path.parts or ("pdf" in path.parts and path.name not in SCREEN_PDF_TEMPLATES):
            continue  # rendered by WeasyPrint or a mail client, never under the page's CSP
        source = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(root)}: {m.group(0)}" for m in re.finditer(r"\s(?:on[a-z]+|style)\s*=", source)]
        offenders += [f"{path.relative_to(root)}: {tag}" for tag in re.findall(r"<(?:script|style)\b[^>]*>", source)
                      if "nonce=" not in tag and "src=" not in tag]
        offenders += [f"{path.relative_to(root)}: javascript: URL" for _ in re.findall(r"javascript:", source, re.I)]
    assert offenders == []


def test_the_debtor_letters_page_styles_carry_the_nonce(app):
    """The one pdf/ template served as a page: its <style> carries this request's nonce."""
    from flask import render_template_string

    with app.test_request_context():
        from marketplace.web_security import csp_nonce

        html = render_template_string('{% extends "pdf/base.html" %}', screen=True)
        assert f'<style nonce="{csp_nonce()}">' in html
        assert "nonce=" not in render_template_string('{% extends "pdf/base.html" %}')


def test_signed_in_answers_are_not_stored_and_public_files_stay_cacheable(client, login):
    assert "no-store" not in client.get("/static/app.css").headers.get("Cache-Control", "")
    login(make_enterprise_user())
    for url in ("/dashboard", "/enterprise", "/statements", "/requests", "/market", "/no-such-page"):
        response = client.get(url, follow_redirects=False)
        assert "no-store" in response.headers.get("Cache-Control", ""), url
    assert "no-store" not in client.get("/static/app.css").headers.get("Cache-Control", "")


def test_hsts_only_over_https_or_in_production(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.no_db
def test_production_cookies_are_secure_httponly_and_same_site(tmp_path):
    config = {key: getattr(Defaults, key) for key in dir(Defaults) if key.isupper()}
    config.update(DEPLOYMENT="production", SECRET_KEY="s", AUDIT_KEY="a", ENCRYPTION_KEY="e",
                  SQLALCHEMY_DATABASE_URI="postgresql://x/y", PUBLIC_BASE_URL="https://rzfw.example.cn/",
                  UPLOAD_FOLDER=str(tmp_path), RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/1")
    finalise(config, str(tmp_path))
    for prefix in ("SESSION", "REMEMBER"):
        assert config[f"{prefix}_COOKIE_SECURE"] is True
        assert config[f"{prefix}_COOKIE_HTTPONLY"] is True
        assert config[f"{prefix}_COOKIE_SAMESITE"] == "Lax"
    embedded = {key: getattr(Defaults, key) for key in dir(Defaults) if key.isupper()}
    finalise(embedded, str(tmp_path))
    assert embedded["SESSION_COOKIE_SECURE"] is False  # plain http on a laptop still signs in


# ---- odd input ------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["q=%00", "page=1%00", "amount_min=%00", "%00=1", "q=a%01b", "next=/%0a/x"])
def test_control_characters_in_the_query_string_get_a_clear_400(client, query):
    response = client.get(f"/market?{query}")
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)
    assert_security_headers(response)


def test_control_characters_in_form_fields_get_a_clear_400_and_newlines_do_not(client, login):
    response = client.post("/login", data={"email": "a\x00@b.cn", "password": "x"})
    assert response.status_code == 400 and "控制字符" in response.get_data(as_text=True)
    response = client.post("/login", data={"email": "a@b.cn", "password": "line one\r\nline\ttwo"})
    assert response.status_code == 200  # an ordinary (wrong) login, not a refusal


def test_control_characters_in_json_posted_to_a_page_get_a_400(client):
    response = client.post("/login", json={"email": "a\u0000@b.cn", "password": "x"})
    assert response.status_code == 400


def test_the_json_api_keeps_its_own_answers_to_control_characters(client):
    """The API's schemas answer NUL themselves (a documented 422, or a harmless search)."""
    response = client.get("/api/v1/products?q=a%00b")
    assert response.status_code < 500 and response.is_json


def test_control_characters_in_an_upload_file_name_get_a_400(client, login):
    import io

    login(make_enterprise_user())
    response = client.post("/statements", data={"file": (io.BytesIO(b"x"), "a\x00.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400


@pytest.mark.parametrize("page", ["99999999999999999999999", "-5", "0", "1e309", "NaN", "２", "9" * 5000, ""])
def test_any_page_number_lands_on_a_page(client, page):
    response = client.get(f"/market?page={page}")
    assert response.status_code == 200


@pytest.mark.parametrize("amount", ["1e309", "-1e309", "NaN", "sNaN", "inf", "-Infinity", "-1", "1" * 400,
                                    "1e999999999", "0x10", "1,000,000", "１２"])
def test_odd_amount_filters_are_ignored_or_refused_cleanly(client, login, amount):
    response = client.get(f"/market?amount={quote(amount)}&max_rate={quote(amount)}&term_days={quote(amount)}")
    assert response.status_code in (200, 400)
    login(UserFactory(role=Role.BANK_OFFICER))
    response = client.get(f"/institution/requests/?amount_min={quote(amount)}&amount_max={quote(amount)}")
    assert response.status_code in (200, 400)


# ---- the 500 page ---------------------------------------------------------------------------

@pytest.fixture
def failing_view(app, monkeypatch):
    """/healthz replaced by a view that breaks the database session the way a deadlock or a dropped
    statement does: the signed-in user's row is expired (as after a commit), then a query fails."""
    assert isinstance(app, Flask)

    def broken():
        db.session.expire_all()
        db.session.execute(text("SELECT 1/0"))

    monkeypatch.setitem(app.view_functions, "health.healthz", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    return "/healthz"


def test_the_500_page_renders_after_a_database_error(client, login, failing_view):
    login(make_enterprise_user())
    response = client.get(failing_view)
    assert response.status_code == 500
    assert 'data-testid="error-page"' in response.get_data(as_text=True)
    assert_security_headers(response)
    assert client.get("/market").status_code == 200  # the next request finds a working session


def test_the_500_page_stays_in_english_for_an_english_user(client, login, failing_view):
    user = make_enterprise_user()
    login(user)
    with client.session_transaction() as session:
        session["locale"] = "en"
    body = client.get(failing_view).get_data(as_text=True)
    assert "System error" in body


# ---- 429 ------------------------------------------------------------------------------------

@pytest.fixture
def limited_app(database_url, tmp_path_factory):
    from marketplace import create_app

    config = make_test_config(database_url, tmp_path_factory)
    config.update(RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_IP="2 per minute", LOGIN_LIMIT_PER_ACCOUNT="100 per minute")
    return create_app(config, instance_path=str(tmp_path_factory.mktemp("limited-web")))


def test_429_answers_say_when_to_retry_in_the_pages_language(limited_app):
    client = limited_app.test_client()
    client.get("/lang/en?next=/login")
    codes = [client.post("/login", data={"email": f"u{i}@ent.cn", "password": "guess"}) for i in range(3)]
    refused = codes[-1]
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many requests" in refused.get_data(as_text=True)
    assert_security_headers(refused)



def test_proxy_headers_are_trusted_only_when_configured(database_url, tmp_path_factory):
    """Behind a TLS-terminating proxy (PROXY_FIX_HOPS=1) X-Forwarded-Proto makes the request
    secure; without the setting a client cannot claim it."""
    from werkzeug.test import EnvironBuilder

    from marketplace import create_app
    from tests.conftest import make_test_config

    def scheme_seen(hops: int) -> str:
        app = create_app({**make_test_config(database_url, tmp_path_factory), "PROXY_FIX_HOPS": hops},
                         instance_path=str(tmp_path_factory.mktemp("proxy")))
        seen = {}

        def probe(environ, start_response):
            seen["scheme"] = environ["wsgi.url_scheme"]
            start_response("200 OK", [])
            return [b""]

        if hops:
            app.wsgi_app.app = probe  # what ProxyFix passes on to Flask
            outer = app.wsgi_app
        else:
            outer = probe
        environ = EnvironBuilder(path="/", headers={"X-Forwarded-Proto": "https"}).get_environ()
        list(outer(environ, lambda *args: None))
        return seen["scheme"]

    assert scheme_seen(0) == "http"
    assert scheme_seen(1) == "https"
