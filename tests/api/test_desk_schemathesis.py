"""Schemathesis against the desk API as each role: a bank officer, a guarantor officer, an
enterprise user and nobody. Generated requests (half of them on a request really routed to the
caller's institution, so claims, offers and declines get past the 404) never answer a 5xx, and
every answer is documented and matches its schema.

422 counts as an acceptable answer to schema-valid data: the document cannot say that an offer
must not exceed the requested amount, or that a decline needs the claim; the services say so,
with a 422 and the reason.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.desks.helpers import routed
from tests.guarantees.helpers import mixed

STAFF_EXAMPLES = 12  # per operation; the whole file runs in well under a minute
REFUSED_EXAMPLES = 4


def run_schemathesis(app, headers: dict, request_id: int | None, examples: int, negative: bool = False) -> Counter:
    """Every desk operation, `examples` generated calls each; returns the statuses seen."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).include(path_regex=r"^/api/v1/desk/")
    schema.config.checks.positive_data_acceptance.expected_statuses = ["2xx", "401", "403", "404", "409", "422"]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 13
    statuses: Counter = Counter()
    for operation in operations:
        strategies = [operation.as_strategy()]
        if request_id is not None and "request_id" in operation.path:
            strategies.append(operation.as_strategy(path_parameters={"request_id": request_id}))
        if negative:
            strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))

        @given(case=st.one_of(strategies))
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def call(case):
            # the WSGI transport does not undo gzip (marketplace/compression.py): ask for the plain body
            response = case.call_and_validate(headers={**headers, "Accept-Encoding": "identity"})
            assert response.status_code < 500
            statuses[response.status_code] += 1

        call()
    return statuses


def test_a_bank_officer_gets_no_server_error_and_only_documented_answers(app, bearer):
    case = routed(app)
    statuses = run_schemathesis(app, bearer(case.bank_staff), case.request.id, STAFF_EXAMPLES, negative=True)
    assert {200, 201, 404, 409, 422} <= set(statuses), statuses  # queue, claim, other ids, claim held, refusals


def test_a_guarantor_officer_gets_no_server_error_and_only_documented_answers(app, bearer):
    case, _staff = mixed(app)
    statuses = run_schemathesis(app, bearer(case.guarantor_staff), case.request.id, STAFF_EXAMPLES)
    assert {200, 201, 403, 404} <= set(statuses), statuses  # 403: disbursements and repayments are banks'


@pytest.mark.parametrize("who", ["enterprise", "anonymous"])
def test_an_enterprise_user_and_nobody_are_refused_with_documented_errors(app, bearer, who):
    case = routed(app)
    headers = bearer(case.owner) if who == "enterprise" else {}
    statuses = run_schemathesis(app, headers, case.request.id, REFUSED_EXAMPLES)
    assert set(statuses) == ({403} if who == "enterprise" else {401}), statuses
