"""The main pages in Chromium, which enforces the Content Security Policy: no page logs a CSP
violation, and the behaviours moved out of inline handlers (confirmations, the region picker)
still work."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import is_csp_violation
from tests.e2e.test_dispatch_meeting import stuck_case  # noqa: F401  (a fixture)
from tests.e2e.test_officer_day import routed_case, sign_in  # noqa: F401  (routed_case is a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _open_all(browser, base_url, paths, sign_in_as=None, then=None):
    """Open `paths` in one signed-in context; the CSP violations logged and each page's status
    (and what `then(page)` returns on the last page, when given)."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    seen = []
    page.on("console", lambda message: seen.append(f"{page.url}: {message.text}")
            if is_csp_violation(message.text) else None)
    if sign_in_as:
        sign_in(page, base_url, *sign_in_as)
    statuses = {}
    for path in paths:
        response = page.goto(base_url + path)
        page.wait_for_load_state("networkidle")
        statuses[path] = response.status if response else None
        csp = response.headers.get("content-security-policy", "") if response else ""
        assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert "'unsafe-inline'" not in csp.split("style-src")[1].split(";")[0]
    looked = then(page) if then else None
    context.close()
    return (seen, statuses) if then is None else (seen, statuses, looked)


def test_public_and_enterprise_and_officer_pages_run_under_the_policy(browser, live_server, routed_case):  # noqa: F811
    request_id = routed_case["request"]
    seen, statuses = _open_all(browser, live_server, [
        "/", "/market", "/login", "/register", "/api/v1/docs", "/no-such-page", "/lang/en?next=/market",
    ])
    owner, statuses_owner = _open_all(browser, live_server, [
        "/enterprise", "/financing/", f"/financing/{request_id}", "/statements/", "/receivables/", "/payments/",
        f"/financing/{request_id}/offers", "/notifications/", "/enterprise/consents",
    ], sign_in_as=(routed_case["owner"],))
    officer, statuses_officer = _open_all(browser, live_server, [
        "/institution/requests/", f"/institution/requests/{request_id}", "/market",
    ], sign_in_as=(routed_case["officer"], routed_case["secret"]))
    assert seen + owner + officer == []
    assert statuses["/"] == 200 and statuses_owner[f"/financing/{request_id}"] == 200
    assert statuses_officer[f"/institution/requests/{request_id}"] == 200


def test_a_dismissed_confirmation_posts_nothing(browser, live_server, routed_case):  # noqa: F811
    """data-confirm replaced onsubmit="return confirm(...)": cancelling keeps the request."""
    request_id = routed_case["request"]
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    questions = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    sign_in(page, live_server, routed_case["owner"])
    page.goto(f"{live_server}/financing/{request_id}")
    page.get_by_test_id("withdraw-request").click()
    page.wait_for_timeout(300)
    assert questions and "撤回" in questions[0]
    assert page.url.endswith(f"/financing/{request_id}")
    assert page.get_by_test_id("withdraw-request").is_visible()  # still withdrawable: nothing was posted
    context.close()


def test_the_bureaus_pages_and_charts_run_under_the_policy(browser, live_server, stuck_case):  # noqa: F811
    """The coordinator's pages, styled by classes only (style-src without 'unsafe-inline'): no
    violation, and each dashboard chart's box takes its height from its class."""
    def chart_heights(page):
        return (page.eval_on_selector_all(".chart-frame", "boxes => boxes.map(b => b.getBoundingClientRect().height)"),
                page.eval_on_selector_all(".chart-frame canvas", "cs => cs.map(c => c.getBoundingClientRect().height)"))

    violations, statuses, (heights, canvases) = _open_all(
        browser, live_server, ["/bureau/stuck", "/bureau/requests", "/bureau/meetings/", "/bureau/reports/",
                               "/bureau/dashboard"],
        sign_in_as=(stuck_case["coordinator"], stuck_case["coordinator_secret"]), then=chart_heights)
    assert violations == [] and set(statuses.values()) == {200}, (violations, statuses)
    assert heights and all(h in (220, 260, 300) for h in heights), heights
    assert canvases == heights  # Chart.js drew each chart to its box
