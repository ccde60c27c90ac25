"""Accepting an offer from an out-of-date page (another offer was accepted meanwhile, or this one
twice) answers 409 with the offers as they are now and a clear message, and changes nothing."""

from __future__ import annotations

from tests.desks.helpers import claimed, routed, target_of
from tests.desks.test_decisions import competing, offer


def test_accepting_after_another_offer_was_accepted_is_a_clear_409(app, client, login):
    from marketplace.extensions import db

    case = routed(app)
    other, other_target = competing(app, case)
    first = offer(app, claimed(app, target_of(case), case.bank_staff), case.bank_staff, rate="4.10")
    second = offer(app, claimed(app, other_target, other), other, rate="3.65")
    db.session.commit()
    login(case.owner)
    assert client.post(f"/financing/{case.request.id}/offers/{second.id}/accept").status_code == 302
    stale = client.post(f"/financing/{case.request.id}/offers/{first.id}/accept")
    assert stale.status_code == 409
    assert "该申请已接受了其他机构的报价" in stale.get_data(as_text=True)
    again = client.post(f"/financing/{case.request.id}/offers/{second.id}/accept")
    assert again.status_code == 409 and "该报价已被接受" in again.get_data(as_text=True)
    assert (first.status, second.status, case.request.state) == ("closed", "accepted", "offer_accepted")
