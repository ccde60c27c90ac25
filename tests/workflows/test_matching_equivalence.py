"""The optimised rank() (issue 15) gives exactly what a straightforward implementation gives.

A generated catalogue covers every branch of every criterion (below, within and above the
amounts and terms; every grade, ungraded, with colours; industries with section letters; region
prefixes of every length; guarantors and banks; the product types that imply debtor rules;
institutions with, without and with partial history; equal rate floors). The reference below
explains each product with the public criterion functions, one by one, and sorts with
`rank_key`: no sharing, no laziness. The digest was recorded from rank() as it was before the
optimisation, so both the reference and the fast path are held to the old output.
"""

import hashlib
import pickle
import random
from decimal import Decimal

import pytest

from workflows.matching import (
    DEFAULT_WEIGHTS,
    HARD_CHECKS,
    HARD_CRITERIA,
    PRODUCT_TYPES,
    SOFT_CRITERIA,
    InstitutionRecord,
    Match,
    ProductTerms,
    RequestProfile,
    Weights,
    combined_score,
    explain,
    rank,
    rank_key,
    rate_bounds_of,
    soft_criteria,
    top_institutions,
)

D = Decimal
INDUSTRIES = ["13", "17", "26", "33", "39", "51", "52", "64", "72"]
PREFIXES = ["32", "31", "3205", "3201", "320506", "320583", "310115", "3"]
REGIONS = ["320506", "320583", "320102", "310115", "330100"]
KIND_SETS = [frozenset(), frozenset({"enterprise"}), frozenset({"public_body"}),
             frozenset({"enterprise", "public_body"}), frozenset({"individual_business", "enterprise"})]
DEBTOR_MIXES = [frozenset(), frozenset({"enterprise"}), frozenset({"public_body"}),
                frozenset({"enterprise", "public_body"}), frozenset({"enterprise", "unknown"}),
                frozenset({"individual_business"})]


def catalogue(seed: int, count: int) -> list[ProductTerms]:
    rng = random.Random(seed)
    products = []
    for i in range(count):
        rate_min = D(rng.choice(["2.80", "3.45", "3.5", "4.00", "4.35", "6.125", "9.90", "12.00", "13.50"]))
        low = D(rng.choice([100_000, 500_000, 1_000_000, 2_000_000])) + D(rng.choice(["0", "0.50", "0.005"]))
        products.append(ProductTerms(
            product_id=rng.randint(1, count // 2),  # duplicates: ties broken by version_id
            version_id=1000 + i,
            institution_id=rng.randint(1, 12),
            institution_kind=rng.choice(["bank", "bank", "guarantor"]),
            product_type=rng.choice(sorted(PRODUCT_TYPES)),
            amount_min=low,
            amount_max=low + D(rng.choice([0, 1_000_000, 4_000_000, 30_000_000])),
            term_min_days=rng.choice([30, 60, 90]),
            term_max_days=rng.choice([90, 180, 360, 720]),
            rate_min=rate_min,
            rate_max=rate_min + D(rng.choice(["0", "1.5", "3.25"])),
            min_grade=rng.choice([None, "A", "B", "C", "D"]),
            accepts_ungraded=rng.random() < 0.4,
            industries=frozenset(rng.sample(INDUSTRIES, rng.choice([0, 0, 1, 3]))),
            regions=frozenset(rng.sample(PREFIXES, rng.choice([0, 0, 1, 2]))),
            requires_guarantee=rng.random() < 0.3,
            requires_debtor_confirmation=rng.random() < 0.3,
            debtor_kinds=rng.choice(KIND_SETS),
        ))
    return products


def records(seed: int) -> dict[int, InstitutionRecord]:
    rng = random.Random(seed)
    found = {}
    for institution_id in range(1, 13):
        shape = institution_id % 4
        if shape == 0:
            continue  # no record at all
        found[institution_id] = InstitutionRecord(
            institution_id,
            None if shape == 1 else round(rng.uniform(0.2, 40), 1),
            None if shape == 2 else round(rng.uniform(0, 1), 3),
        )
    return found


def requests(seed: int, count: int) -> list[RequestProfile]:
    rng = random.Random(seed)
    found = []
    for i in range(count):
        grade = rng.choice(["A", "B", "C", "D", None])
        found.append(RequestProfile(
            request_id=i + 1,
            amount=D(rng.choice(["99999.99", "100000", "100000.005", "500000.50", "1000000", "2500000",
                                 "5000000", "31000000.01", "40000000"])),
            term_days=rng.choice([15, 30, 90, 180, 360, 720, 900]),
            grade=grade,
            industry_code=rng.choice(["39", "C3911", "3911", "51", "72", "99"]),
            region_code=rng.choice(REGIONS),
            has_guarantee=rng.random() < 0.4,
            all_debtors_confirmed=rng.random() < 0.5,
            debtor_kinds=rng.choice(DEBTOR_MIXES),
            all_have_contract_numbers=rng.random() < 0.5,
            grade_colour=rng.choice([None, "green", "yellow"]) if grade else None,
        ))
    return found


def reference_rank(products, request, found_records, weights=DEFAULT_WEIGHTS) -> list[Match]:
    """Every product explained on its own, criterion by criterion, then sorted by rank_key."""
    bounds = rate_bounds_of(products)
    matches = []
    for p in products:
        hard = tuple(check(p, request) for check, _fields in HARD_CHECKS)
        soft = soft_criteria(p, found_records.get(p.institution_id), weights, bounds)
        matches.append(Match(p.product_id, p.version_id, p.institution_id, all(c.passed for c in hard),
                             combined_score(soft), (*hard, *soft)))
    return sorted(matches, key=rank_key)


def digest(rankings: list[list[Match]]) -> str:
    text = "\n".join(repr(match) for ranking in rankings for match in ranking)
    return hashlib.sha256(text.encode()).hexdigest()


PRODUCTS = catalogue(20261206, 600)
RECORDS = records(20261206)
REQUESTS = requests(20261207, 60)
# rank() before the issue 15 optimisation, on the data above (all 60 requests, every match repr'd);
# recorded again when the industry and region sentences came to name what they had shown as codes
# (issue 16): only those sentences changed, and the reference test below still holds rank() to the
# one-product-at-a-time explanation.
RECORDED_DIGEST = "3e5c376dde73d4cf18794b6edd98464969eff8b2985bf53dfc54d024b8cb9f76"


def test_the_generated_data_reach_every_outcome():
    outcomes = {(c.code, c.passed, c.expected) for r in REQUESTS for m in rank(PRODUCTS, r, RECORDS)
                for c in m.criteria}
    assert {(code, passed) for code, passed, _ in outcomes} == {
        (code, passed) for code in HARD_CRITERIA for passed in (True, False)} | {
        (code, True) for code in SOFT_CRITERIA}
    assert {"provided", "optional", "required", "any"} <= {expected for *_, expected in outcomes}


def test_rank_gives_exactly_the_recorded_output():
    assert digest([rank(PRODUCTS, r, RECORDS) for r in REQUESTS]) == RECORDED_DIGEST


def test_rank_equals_the_straightforward_reference_match_by_match():
    for request in REQUESTS:
        fast, slow = rank(PRODUCTS, request, RECORDS), reference_rank(PRODUCTS, request, RECORDS)
        assert [(m.product_id, m.version_id) for m in fast] == [(m.product_id, m.version_id) for m in slow]
        assert fast == slow
        assert [m.criteria for m in fast] == [m.criteria for m in slow]  # the explanations, in order


@pytest.mark.parametrize("weights", [Weights(1, 0, 0), Weights(0.2, 0.2, 0.6)])
def test_rank_equals_the_reference_with_other_weights_and_subsets(weights):
    for size in (0, 1, 2, 37):
        subset = PRODUCTS[:size]
        for request in REQUESTS[:10]:
            assert rank(subset, request, RECORDS, weights) == reference_rank(subset, request, RECORDS, weights)


def test_rank_accepts_any_sequence_and_leaves_it_alone():
    products = tuple(reversed(PRODUCTS[:100]))
    before = list(products)
    assert rank(products, REQUESTS[0], RECORDS) == reference_rank(before, REQUESTS[0], RECORDS)
    assert list(products) == before


def test_matches_compare_hash_print_copy_and_pickle_like_plain_ones():
    fast = rank(PRODUCTS[:50], REQUESTS[3], RECORDS)
    slow = reference_rank(PRODUCTS[:50], REQUESTS[3], RECORDS)
    assert {hash(m) for m in fast} == {hash(m) for m in slow}
    assert [repr(m) for m in fast] == [repr(m) for m in slow]
    assert pickle.loads(pickle.dumps(fast)) == slow
    assert top_institutions(fast) == top_institutions(slow)
    assert explain(PRODUCTS[0], REQUESTS[3], RECORDS.get(PRODUCTS[0].institution_id)) == reference_rank(
        PRODUCTS[:1], REQUESTS[3], RECORDS)[0]


def test_rank_runs_with_the_collector_paused_and_leaves_it_on(monkeypatch):
    """Its thousands of matches are not moved to the old generation while it runs (issue 15)."""
    import gc

    from workflows import matching

    seen = []
    history = matching._history_criteria
    monkeypatch.setattr(matching, "_history_criteria", lambda *a: seen.append(gc.isenabled()) or history(*a))
    ranked = rank(catalogue(3, 40), requests(4, 1)[0], records(5))
    assert len(ranked) == 40 and seen and not any(seen) and gc.isenabled()
