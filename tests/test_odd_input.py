"""Every GET route, as every role, fed odd input: no answer is a 500, every answer carries the
browser security headers (routes and roles enumerated as in test_access_rules)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from werkzeug.routing import IntegerConverter

from tests import test_access_rules as access
from tests.test_web_security import assert_security_headers

# Values people and scanners put in query strings: numbers past every column, NaN and infinities,
# negative and fractional pages, scripts, quotes, path tricks, off-site redirects.
HUGE = "99999999999999999999999"
ODD_ARGUMENTS = {
    "page": HUGE, "per_page": HUGE, "amount": "1e309", "amount_min": "1e999999999", "amount_max": "NaN",
    "max_rate": "-inf", "term_days": HUGE, "product": HUGE, "institution": "-1", "institution_id": HUGE,
    "enterprise": HUGE, "request": HUGE, "id": "1e309", "after": "%%%ÿ", "before": "0" * 300,
    "state": "<script>alert(1)</script>", "status": "';--", "sort": "__class__", "order": "sideways",
    "q": "%' OR 1=1 --" + "长" * 300, "format": "../../etc/passwd", "download": "yes", "every": "-7",
    "year": HUGE, "month": "13", "date": "2026-02-30", "from": "9999-99-99", "to": "-1", "industry": "Z" * 500,
    "region": HUGE, "classification": "[]", "sla": "{}", "mine": "maybe", "action": "\u202e",
    "tab": "../", "user": HUGE, "org": HUGE, "object": "requests:" + HUGE, "lang": "xx", "next": "//evil.example",
    "scope": "x" * 1000, "kind": "\ufeff", "type": "1e309",
}
# Digit strings longer than any column or decimal context holds, in every numeric-looking name.
NUMERIC_NAMES = ("page", "amount", "amount_min", "amount_max", "max_rate", "term_days", "term", "product",
                 "institution", "institution_id", "version", "rate_min", "rate_max", "annual_rate", "fee_rate",
                 "coverage_ratio", "principal", "interest", "term_min_days", "term_max_days", "year", "every")
LONG_NUMBERS = {name: "9" * 400 + ".5" for name in NUMERIC_NAMES}
# Control characters: refused by the request guard with a clear 400, whatever the route.
CONTROL_ARGUMENTS = {"q": "a\x00b", "page": "\x00", "x\x00": "1"}


def _get_rules(app):
    return [rule for rule in access._routes(app) if "GET" in rule.methods]


def _huge_id_url(rule) -> str | None:
    """The route with every integer part far beyond any table's ids, or None without one."""
    if not any(isinstance(rule._converters[name], IntegerConverter) for name in rule.arguments):
        return None
    return access._url_for(rule).replace("987654", HUGE)


@pytest.mark.parametrize("role", access.ROLES)
def test_no_get_route_answers_500_to_odd_input(app, client, login, role):
    user = access._user_for(role)
    failures = []
    for rule in _get_rules(app):
        base = access._url_for(rule)
        refused = None if base.startswith("/api/") else 400  # the API's schemas answer for themselves
        attempts = [(base + "?" + urlencode(ODD_ARGUMENTS), None), (base + "?" + urlencode(LONG_NUMBERS), None),
                    (base + "?" + urlencode(CONTROL_ARGUMENTS), refused)]
        huge = _huge_id_url(rule)
        if huge:
            attempts.append((huge, None))
        for url, expected in attempts:
            if user is not None:
                login(user)
            response = client.get(url)
            status = response.status_code
            if status >= 500 or (expected is not None and status != expected):
                failures.append(f"GET {url[:160]} ({rule.endpoint}) -> {status}")
                continue
            try:
                assert_security_headers(response, url)
            except AssertionError as error:
                failures.append(f"GET {url[:160]} ({rule.endpoint}): headers {error}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("role", access.ROLES)
def test_no_post_route_answers_500_to_control_characters(app, client, login, role):
    """Form fields with NUL are refused before any view, service or database sees them."""
    user = access._user_for(role)
    failures = []
    for rule in access._routes(app):
        if "POST" not in rule.methods:
            continue
        if user is not None:
            login(user)
        url = access._url_for(rule)
        response = client.post(url, data={"name": "x\x00y", "note": "\x00"})
        if response.status_code != 400 and not (url.startswith("/api/") and response.status_code < 500):
            failures.append(f"POST {rule.rule} -> {response.status_code}")
    assert failures == [], "\n".join(failures)


# What a form field may hold that no column can: every numeric-looking field of every form at once.
# Two sizes: past what Decimal can quantize (400 digits), and past the Numeric(18, 2) columns only.
OTHER_FIELDS = {"rate_min": "1e309", "rate_max": "NaN", "term_days": "99999999999999999999", "version": "-1",
                "uscc": "9" * 18, "legal_rep_id_number": "9" * 18, "region_code": "9" * 500,
                "purpose": "长" * 10000, "note": "\r\n" * 5}
ODD_FORMS = {"long": {**{name: "9" * 400 for name in NUMERIC_NAMES}, **OTHER_FIELDS},
             "wide": {**{name: "9" * 20 + ".99" for name in NUMERIC_NAMES}, **OTHER_FIELDS}}


@pytest.mark.parametrize("size", ODD_FORMS)
@pytest.mark.parametrize("role", access.ROLES)
def test_no_post_route_answers_500_to_odd_form_values(app, client, login, role, size):
    user = access._user_for(role)
    failures = []
    for rule in access._routes(app):
        if "POST" not in rule.methods:
            continue
        if user is not None:
            login(user)
        response = client.post(access._url_for(rule), data=ODD_FORMS[size])
        if response.status_code >= 500:
            failures.append(f"POST {rule.rule} -> {response.status_code}")
    assert failures == [], "\n".join(failures)
