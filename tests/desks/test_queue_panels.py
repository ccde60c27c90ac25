"""The queue page's state tabs and filter form are rendered once per language, filters (and counts
for the tabs), then reused: other filters, another language, other counts or another refused
value render them anew, and a reused fragment shows exactly what a fresh one would."""

from __future__ import annotations

import re

from tests.desks.helpers import routed


def _page(client, query: str = "") -> str:
    html = client.get("/institution/requests/" + query).get_data(as_text=True)
    return re.sub(r' nonce="[^"]+"', "", html)


def test_tabs_and_filter_form_are_rendered_once_per_language_and_filters(app, client, login, monkeypatch):
    import marketplace.models  # noqa: F401
    from marketplace.desks import panels
    from marketplace.extensions import db

    panels.forget()
    case = routed(app)
    login(case.bank_staff)
    db.session.commit()
    rendered = []
    original = panels._macros

    def counting():
        macros = original()

        class Counting:
            def queue_tabs(self, *args):
                rendered.append("tabs")
                return macros.queue_tabs(*args)

            def queue_filters(self, *args):
                rendered.append("filters")
                return macros.queue_filters(*args)

        return Counting()

    monkeypatch.setattr(panels, "_macros", counting)
    first, again = _page(client), _page(client)
    assert first == again and 'data-testid="queue-filters"' in first and 'data-testid="state-counts"' in first
    assert rendered == ["tabs", "filters"]

    by_amount = _page(client, "?sort=amount")
    assert 'value="amount" selected' in by_amount and rendered == ["tabs", "filters"] * 2

    _page(client, "?amount_min=1000")
    shown_as_typed = _page(client, "?amount_min=1000.00")
    assert 'value="1000.00"' in shown_as_typed and rendered == ["tabs", "filters"] * 4

    refused = _page(client, "?industry=nonsense")
    other_refused = _page(client, "?industry=rubbish")
    assert "nonsense" in refused and "rubbish" in other_refused and "nonsense" not in other_refused
    assert rendered.count("filters") == 6 and rendered.count("tabs") == 4  # the tabs: the first page's filters

    client.get("/lang/en")
    english = _page(client)
    assert ">Filter</button>" in english and rendered.count("filters") == 7 and rendered.count("tabs") == 5
