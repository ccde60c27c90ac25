"""Browser tests: a live server on its own PostgreSQL database (real commits, CSRF on), driven by
Playwright in Debian's Chromium (never a downloaded browser)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import create_database, database_name, drop_database, make_test_config

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(autouse=True)
def db_session():
    """The live server commits for real into its own database; no rollback fixture here."""
    yield None


@pytest.fixture(scope="session")
def live_database(testrun_uid, worker_id):
    name = database_name("e2e", testrun_uid, worker_id)
    yield create_database(name)
    drop_database(name)


@pytest.fixture(scope="session")
def live_app(live_database, tmp_path_factory):
    from flask_migrate import upgrade

    from marketplace import create_app

    config = make_test_config(live_database, tmp_path_factory)
    config.update(WTF_CSRF_ENABLED=True, TESTING=False)
    app = create_app(config, instance_path=str(tmp_path_factory.mktemp("e2e-instance")))
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(scope="session")
def live_server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's Chromium is missing at {CHROMIUM}: run `make install` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def is_csp_violation(text: str) -> bool:
    return "Content Security Policy" in text or "Content-Security-Policy" in text


@pytest.fixture
def page(browser, request):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    page.set_default_timeout(15000)
    violations = []  # every browser test also proves the pages run under the CSP (web_security.py)
    page.on("console", lambda message: violations.append(message.text) if is_csp_violation(message.text) else None)
    yield page
    if violations:
        pytest.fail("Content Security Policy violations:\n" + "\n".join(violations))
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
