"""Debtor evidence comes from the debtor: a declaration stays a declaration until the debtor's own
act (the signed link, or its enterprise account) answers; the database holds nothing else as an
answer; the enterprise sees its link's expiry and can renew it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.formatting import ymd_hm
from marketplace.receivables import services
from tests.factories import ReceivableFactory, make_enterprise_user
from tests.receivables.helpers import page_text, receivable_form


@pytest.fixture
def declared(enterprise, user):
    """A receivable the enterprise declared confirmed in its import."""
    return ReceivableFactory(enterprise=enterprise, declared_confirmation="confirmed", declared_at=utcnow(),
                             declared_by_id=user.id)


def link_token(client, receivable) -> str:
    html = page_text(client.post(f"/receivables/{receivable.id}/link", follow_redirects=True))
    return re.search(r'/confirm/([^"]+)"[^>]*data-testid="debtor-link"', html).group(1)


def test_the_debtor_confirming_by_link_turns_a_declaration_into_a_confirmation(signed_in, client, declared):
    token = link_token(signed_in, declared)
    with client.session_transaction() as session:
        session.clear()
    client.post(f"/confirm/{token}", data={"confirmer_name": "王会计", "action": "confirm"})

    db.session.refresh(declared)
    assert (declared.confirmation, declared.confirmed_via) == ("confirmed", "link")
    assert declared.declared_confirmation == "confirmed"  # the enterprise's statement is kept beside it


def test_after_the_debtors_answer_the_page_names_the_way_and_the_earlier_declaration(login, user, declared):
    with login(user).application.test_request_context():
        services.answer(declared, services.Answer(confirm=True, name="王会计", via="link", ip="203.0.113.9"))
    html = page_text(login(user).get(f"/receivables/{declared.id}"))
    assert 'data-testid="confirmed-via">确认链接<' in html
    assert 'data-testid="declared-state"' in html and 'data-testid="declaration"' not in html


def test_a_registered_debtor_answers_a_declared_receivable_from_its_account(login, declared):
    debtor = make_enterprise_user()
    declared.debtor_uscc = debtor.enterprise.uscc
    db.session.flush()
    client = login(debtor)
    assert declared.invoice_no in page_text(client.get("/receivables/confirmations"))

    client.post(f"/receivables/confirmations/{declared.id}", data={"action": "dispute", "reason": "未收到货"})

    db.session.refresh(declared)
    assert (declared.confirmation, declared.confirmed_via, declared.dispute_reason) == ("disputed", "account", "未收到货")


def test_only_the_debtors_own_act_is_accepted_as_an_answer(ctx, declared):
    with pytest.raises(ValueError):
        services.answer(declared, services.Answer(confirm=True, name="本企业", via="import", ip=None))
    assert declared.confirmation == "pending"


@pytest.mark.parametrize("columns", [
    {"confirmation": "confirmed", "confirmed_via": "import"},  # the old import's mark
    {"confirmation": "confirmed", "confirmed_via": None, "confirmed_at": None},  # an answer naming no act
    {"confirmation": "pending", "confirmed_via": "link", "confirmed_at": "now"},  # an answer's traces on a pending one
    {"declared_confirmation": "confirmed", "declared_at": None},
    {"declared_confirmation": "maybe", "declared_at": "now"},
])
def test_the_database_refuses_an_answer_that_is_not_the_debtors(enterprise, columns):
    values = {name: utcnow() if value == "now" else value for name, value in columns.items()}
    with pytest.raises(IntegrityError), db.session.begin_nested():
        ReceivableFactory(enterprise=enterprise, **values)


def test_the_page_shows_an_open_links_expiry_in_shanghai_time_and_offers_renewal(signed_in, declared):
    link_token(signed_in, declared)
    (link,) = declared.links

    html = page_text(signed_in.get(f"/receivables/{declared.id}"))

    assert 'data-testid="link-status" data-state="open"' in html
    assert f"当前确认链接有效期至 {ymd_hm(link.expires_at)}（北京时间）" in html
    assert "重新生成确认链接（续期）" in html


def test_an_expired_link_is_shown_expired_and_renewing_makes_a_fresh_one(signed_in, declared):
    link_token(signed_in, declared)
    (old,) = declared.links
    old.created_at, old.expires_at = utcnow() - timedelta(days=9), utcnow() - timedelta(days=2)
    db.session.flush()

    html = page_text(signed_in.get(f"/receivables/{declared.id}"))
    assert 'data-testid="link-status" data-state="expired"' in html and "已于" in html and "过期" in html

    link_token(signed_in, declared)  # the renew button posts to the same action
    html = page_text(signed_in.get(f"/receivables/{declared.id}"))
    assert 'data-testid="link-status" data-state="open"' in html


def test_a_receivable_without_links_offers_the_first_one(signed_in, enterprise):
    receivable = ReceivableFactory(enterprise=enterprise)
    html = page_text(signed_in.get(f"/receivables/{receivable.id}"))
    assert 'data-testid="link-status"' not in html and "生成债务人确认链接" in html


def test_changing_the_amount_drops_a_declaration_made_about_the_old_facts(signed_in, declared):
    signed_in.post(f"/receivables/{declared.id}/edit",
                   data=receivable_form(declared.debtor_uscc, invoice_no=declared.invoice_no, amount="1.00"))
    db.session.refresh(declared)
    assert (declared.declared_confirmation, declared.declared_at, declared.declared_by_id) == (None, None, None)
