"""The queue page's rows are rendered once per distinct content and language, then reused: a
change to what a row shows renders it anew, and each language has its own."""

from __future__ import annotations

import re

from tests.desks.helpers import claimed, routed, target_of


def test_a_row_is_rendered_anew_when_what_it_shows_changes_and_per_language(app, client, login, monkeypatch):
    import marketplace.models  # noqa: F401
    from marketplace.desks import rows
    from marketplace.extensions import db

    rows.forget()
    case = routed(app)
    login(case.bank_staff)
    db.session.commit()
    rendered = []
    original = rows._render

    def counting(missing):
        rendered.extend(row.request_id for row in missing)
        return original(missing)

    monkeypatch.setattr(rows, "_render", counting)
    row_of = f'data-request-id="{case.request.id}"'
    first = client.get("/institution/requests/").get_data(as_text=True)
    again = client.get("/institution/requests/").get_data(as_text=True)
    same_page = re.sub(r' nonce="[^"]+"', "", first) == re.sub(r' nonce="[^"]+"', "", again)  # a nonce per answer
    assert row_of in first and same_page and rendered == [case.request.id]

    claimed(app, target_of(case), case.bank_staff)
    db.session.commit()
    after_claim = client.get("/institution/requests/").get_data(as_text=True)
    assert case.bank_staff.name in after_claim.split(row_of)[1].split("</tr>")[0]
    assert rendered == [case.request.id] * 2

    client.get("/lang/en")
    english = client.get("/institution/requests/").get_data(as_text=True)
    assert 'data-label="Claimed by"' in english and rendered == [case.request.id] * 3
