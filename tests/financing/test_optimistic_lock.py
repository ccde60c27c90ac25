"""The optimistic lock on requests: every change names the version its page was made from; a
stale version or none at all answers 409 Conflict with a clear message and changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.financing.test_requests import create, only_request, owner, receivables, sign  # noqa: F401

STALE = "该申请已被修改，请刷新页面后重试"


def edit(client, request, rcvs, amount: str, **version):
    return client.post(f"/financing/{request.id}/edit", data={
        "amount": amount, "term_days": 60, "purpose": "改", "receivables": [rcvs[0].id], **version})


@pytest.fixture
def draft(client, login, owner):  # noqa: F811
    rcvs = receivables(owner, "200000.00")
    login(owner)
    create(client, rcvs)
    return only_request(owner), rcvs


def test_an_edit_without_a_version_is_refused_not_applied(client, draft):
    request, rcvs = draft
    response = edit(client, request, rcvs, "120000")
    assert response.status_code == 409 and STALE in response.get_data(as_text=True)
    assert request.amount == Decimal("150000.00") and request.version == 1


def test_a_stale_edit_answers_409_and_keeps_the_newer_data(client, draft):
    request, rcvs = draft
    old = request.version
    assert edit(client, request, rcvs, "120000", version=old).status_code == 302
    stale = edit(client, request, rcvs, "90000", version=old)
    assert stale.status_code == 409 and STALE in stale.get_data(as_text=True)
    assert request.amount == Decimal("120000.00") and request.version == old + 1


@pytest.mark.parametrize("version", [None, "stale"])
def test_a_submit_or_withdrawal_from_a_stale_page_answers_409(app, client, draft, owner, version):  # noqa: F811
    request, rcvs = draft
    sign(app, owner)
    data = {} if version is None else {"version": request.version - 1}
    for action in ("submit", "withdraw"):
        response = client.post(f"/financing/{request.id}/{action}", data=data)
        assert response.status_code == 409 and STALE in response.get_data(as_text=True)
    assert request.state == "draft"
