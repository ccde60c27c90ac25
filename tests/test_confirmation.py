"""Irreversible actions work without JavaScript (issue 16, item 6): a POST that was not confirmed
in the browser gets the server's own confirmation page and changes nothing; the confirmed POST
acts (marketplace/confirmation.py)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from marketplace.accounts.roles import Role
from marketplace.confirmation import IRREVERSIBLE
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from tests.factories import ReceivableFactory, UserFactory, make_enterprise_user

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# Forms that post to their own page (no action attribute): the endpoints that render them.
SELF_POSTING = {
    "bureau/actions_detail.html": {"actions.detail"},
    "credit/objection_detail.html": {"provider_objections.detail", "admin_objections.objection"},
    "credit/repair_detail.html": {"admin_objections.repair", "bureau_objections.repair"},
    "loans/restructure.html": {"loans.restructure"},
    "loans/schedule.html": {"loans.schedule"},
    "credit/objection_new.html": {"credit_objections.file_objection"},
    "credit/repair_new.html": {"credit_objections.apply_repair"},
}
# Forms whose own required "我确认……" checkbox is the server-side confirmation.
OWN_CHECKBOX = {"credit_objections.file_objection", "credit_objections.apply_repair",
                "admin.disable_user", "enterprises.disable_user"}


def _endpoints_behind_a_confirm(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    name = path.relative_to(TEMPLATES).as_posix()
    found = {m for m in re.findall(r"confirm_button\(url_for\('([\w.]+)'", text)}
    for tag in re.findall(r"<form\b[^>]*>", text, flags=re.S):
        if "data-confirm" not in tag or "{{ action }}" in tag:  # the confirm_button macro itself
            continue
        action = re.search(r"url_for\((?:'([\w.]+)'|scope \+ '([\w.]+)')", tag)
        if action is None:
            found |= SELF_POSTING[name]
        elif action.group(1):
            found.add(action.group(1))
        else:  # the user pages are served under the admin's and the enterprise admin's prefixes
            found |= {f"admin{action.group(2)}", f"enterprises{action.group(2)}"}
    return found


def test_every_form_with_a_javascript_confirm_is_confirmed_on_the_server_too(app):
    behind_confirm = set()
    for path in TEMPLATES.rglob("*.html"):
        behind_confirm |= _endpoints_behind_a_confirm(path)
    assert behind_confirm, "no data-confirm form found: the scan is broken"
    assert sorted(behind_confirm - set(IRREVERSIBLE) - OWN_CHECKBOX) == []
    post_endpoints = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods}
    assert sorted(set(IRREVERSIBLE) - post_endpoints) == []


def _draft(client, login):
    owner = make_enterprise_user()
    receivable = ReceivableFactory(enterprise=owner.enterprise, face_amount=Decimal("200000.00"))
    login(owner)
    client.post("/financing/new", data={"amount": "1000", "term_days": 90, "purpose": "采购原材料",
                                         "receivables": [receivable.id]})
    return db.session.scalar(select(FinancingRequest).where(FinancingRequest.enterprise_id == owner.enterprise.id))


def _hidden_fields(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)


def test_a_post_without_confirmation_asks_on_a_page_and_changes_nothing(client, login):
    request = _draft(client, login)
    url = f"/financing/{request.id}/withdraw"
    response = client.post(url, data={"version": request.version, "confirmed": ""},
                           headers={"Referer": f"http://localhost/financing/{request.id}"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="confirm-page"' in page
    assert "确认要撤回该融资申请吗？" in page and "质押的应收账款将被释放" in page
    assert f'action="{url}"' in page
    assert ("version", str(request.version)) in _hidden_fields(page) and ("confirmed", "1") in _hidden_fields(page)
    assert f'href="/financing/{request.id}" data-testid="confirm-cancel"' in page
    db.session.refresh(request)
    assert request.state == "draft" and request.active_pledges


def test_the_confirmation_pages_own_form_acts(client, login):
    request = _draft(client, login)
    url = f"/financing/{request.id}/withdraw"
    page = client.post(url, data={"version": request.version, "confirmed": ""}).get_data(as_text=True)
    fields = dict((name, value) for name, value in _hidden_fields(page) if name != "csrf_token")
    response = client.post(url, data=fields)
    assert response.status_code == 302
    db.session.refresh(request)
    assert request.state == "withdrawn" and not request.active_pledges


def test_repeated_fields_are_carried_and_cancel_never_leaves_the_site(client, login):
    request = _draft(client, login)
    page = client.post(f"/financing/{request.id}/withdraw",
                       data={"version": request.version, "tag": ["a", "b"], "confirmed": ""},
                       headers={"Referer": "https://evil.example/financing/1"}).get_data(as_text=True)
    assert [v for n, v in _hidden_fields(page) if n == "tag"] == ["a", "b"]
    assert 'href="/" data-testid="confirm-cancel"' in page


def test_the_route_access_check_comes_before_the_question(client, login):
    request = _draft(client, login)
    login(UserFactory(role=Role.BANK_OFFICER))
    response = client.post(f"/financing/{request.id}/withdraw", data={"confirmed": ""})
    assert response.status_code == 403 and 'data-testid="confirm-page"' not in response.get_data(as_text=True)
