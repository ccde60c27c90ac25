"""Irreversible actions in a browser with and without JavaScript (issue 16, item 6): with it the
confirm() dialog is the only question; without it the server asks on its own page, and only the
confirmed post acts (marketplace/confirmation.py)."""

from __future__ import annotations

import pytest

from tests.e2e.pages import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture
def owner_with_receivables(live_app):
    """An enterprise admin with two receivables: (email, ids)."""
    from marketplace.extensions import db
    from tests.factories import ReceivableFactory, make_enterprise_user

    with live_app.app_context():
        owner = make_enterprise_user()
        receivables = [ReceivableFactory(enterprise=owner.enterprise) for _ in range(2)]
        db.session.commit()
        result = owner.email, [r.id for r in receivables]
        db.session.remove()
    return result


def _exists(live_app, receivable_id: int) -> bool:
    from marketplace.extensions import db
    from marketplace.receivables.models import Receivable

    with live_app.app_context():
        found = db.session.get(Receivable, receivable_id) is not None
        db.session.remove()
    return found


def test_without_javascript_the_server_asks_and_cancel_changes_nothing(browser, live_app, live_server,
                                                                        owner_with_receivables):
    email, (first, _second) = owner_with_receivables
    context = browser.new_context(locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server, email)
    page.goto(f"{live_server}/receivables/{first}")
    page.get_by_test_id("delete-receivable").click()
    page.get_by_test_id("confirm-page").wait_for()
    assert "确认要删除该应收账款吗？" in page.content()
    page.get_by_test_id("confirm-cancel").click()
    page.wait_for_url(f"**/receivables/{first}")
    assert _exists(live_app, first)

    page.get_by_test_id("delete-receivable").click()
    page.get_by_test_id("confirm-yes").click()  # a fresh CSRF token, the same form data
    page.wait_for_load_state()
    assert not _exists(live_app, first)
    context.close()


def test_with_javascript_the_dialog_is_the_only_question(page, live_app, live_server, owner_with_receivables):
    email, (first, second) = owner_with_receivables
    sign_in(page, live_server, email)
    page.goto(f"{live_server}/receivables/{first}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_test_id("delete-receivable").click()
    assert _exists(live_app, first) and page.get_by_test_id("confirm-page").count() == 0

    page.goto(f"{live_server}/receivables/{second}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("delete-receivable").click()
    page.wait_for_url("**/receivables/")
    assert page.get_by_test_id("confirm-page").count() == 0 and not _exists(live_app, second)
