"""No page loads what it shows one row at a time (issue 15, item 4: no page whose statement count
grows with the rows it shows). On the demo's data, every page a role may open (each route without
an argument, and each with one id for the first ids) is read as the first user of that role; a
SELECT run more than MAX_REPEATS times in one answer is a lazy load per row shown (an
institution's products, a list's enterprises, a request's pledges) and fails the test, naming the
page and the statement. tests/test_page_queries.py checks the supermarket and the review page with
few and with many rows; this one covers every page at once."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import event, select

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.permissions import ROUTE_ACCESS
from tests.demo_seed import get_as, seeded_demo

pytestmark = [pytest.mark.sqlite, pytest.mark.xdist_group("demo")]

MAX_REPEATS = 2  # a product page reads the product and then its institution's other products
IDS = (1, 2, 3, 5, 8)
SKIPPED = re.compile(r"/logout|/lang/|\.pdf|/api/v1/docs|/openapi")


@pytest.fixture(autouse=True)
def db_session():
    """This module brings its own SQLite database: no PostgreSQL rollback fixture."""
    yield None


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    yield from seeded_demo(tmp_path_factory)


def _paths(app, role: str) -> list[str]:
    """The GET pages `role` may open: each without an argument, each with one id (for IDS)."""
    paths = []
    for rule in app.url_map.iter_rules():
        admitted = ROUTE_ACCESS.get(rule.endpoint)
        if ("GET" not in rule.methods or rule.endpoint == "static" or len(rule.arguments) > 1
                or SKIPPED.search(rule.rule) or admitted is None or admitted.public or not admitted.admits(role)):
            continue
        if rule.arguments and rule._converters[next(iter(rule.arguments))].regex != r"\d+":
            continue  # not an id
        paths += [re.sub(r"<[^>]+>", str(i), rule.rule) for i in IDS] if rule.arguments else [rule.rule]
    return sorted(paths)


def test_no_page_runs_a_select_once_per_row_it_shows(seeded):
    app, _printout = seeded
    app.test_client().get("/healthz")  # the views are registered on the first request
    users = {}
    for user in db.session.scalars(select(User).order_by(User.id)):
        users.setdefault(user.role, user)
    selects: list[str] = []

    def remember_select(_connection, _cursor, statement, *_args):
        if statement.lstrip()[:6].upper() == "SELECT":
            selects.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember_select)
    opened, offenders = 0, []
    try:
        for role, user in users.items():
            for path in _paths(app, role):
                selects.clear()
                response = get_as(app, user, path)
                if response.status_code != 200 or not selects:
                    continue
                opened += 1
                statement, times = Counter(selects).most_common(1)[0]
                if times > MAX_REPEATS:
                    offenders.append(f"{role} {path}: {times} times {' '.join(statement.split())[:160]}")
    finally:
        event.remove(db.engine, "before_cursor_execute", remember_select)
    assert opened > 150  # the cast's pages answered (not a run of 404s)
    assert offenders == []
