"""Steps the browser tests share."""

from __future__ import annotations

import pyotp

from tests.factories import PASSWORD


def sign_in(page, base_url: str, email: str, secret: str | None = None) -> None:
    """Sign in on the login page with the factories' password (and the second factor, for staff
    whose TOTP secret is given)."""
    page.goto(base_url + "/login")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    if secret:
        page.get_by_test_id("totp-code").fill(pyotp.TOTP(secret).now())
        page.get_by_test_id("totp-submit").click()
    page.wait_for_load_state()
