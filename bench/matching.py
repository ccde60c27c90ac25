"""Benchmark of the matcher (issue 3): rank() with explanations and the BatchMatcher.

Run from the project root:  .venv/bin/python bench/matching.py [--requests N] [--products N]

The data are random but seeded and shaped like a Jiangsu/Suzhou catalogue: 1,000 products of
the 7 types with type-typical amounts, terms and rates, and 100,000 requests.

Issue 15 (province scale) adds the part printed first, or alone with --scale-only:
rank() over 100, 1,000 and 10,000 products; at 10,000 warm, cold, with every explanation read,
and with 100,000 objects alive (median, p95 and their ratio, the collector left on as in a
server). --baseline FILE times an older copy of workflows/matching.py on the same data in the
same run, interleaved, for a ratio that the machine's load does not skew:

    git show <commit>:workflows/matching.py > /tmp/matching_before.py
    .venv/bin/python bench/matching.py --scale-only --baseline /tmp/matching_before.py
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import platform
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import cpu_model  # noqa: E402
from workflows.matching import (  # noqa: E402
    InstitutionRecord,
    ProductTerms,
    RequestProfile,
    clear_caches,
    rank,
)
from workflows.matching_batch import BatchMatcher  # noqa: E402

SEED = 20261122

# type: (amount floor range, amount ceiling range, term min choices, term max choices, rate_min range)
TYPE_SHAPES = {
    "receivable_pledge": ((100_000, 1_000_000), (5_000_000, 30_000_000), (30, 60), (180, 360), (3.0, 6.5)),
    "factoring": ((100_000, 2_000_000), (5_000_000, 50_000_000), (30, 60, 90), (180, 360), (3.5, 8.0)),
    "order_loan": ((100_000, 500_000), (2_000_000, 10_000_000), (30, 60), (180, 360), (4.0, 9.0)),
    "contract_loan": ((200_000, 1_000_000), (5_000_000, 20_000_000), (90, 180), (360, 720), (3.8, 8.5)),
    "gov_procurement_loan": ((100_000, 500_000), (3_000_000, 10_000_000), (30, 60), (180, 365), (2.8, 5.0)),
    "credit_loan": ((100_000, 300_000), (1_000_000, 3_000_000), (90, 180), (360, 720), (3.5, 12.0)),
    "guaranteed_loan": ((500_000, 2_000_000), (10_000_000, 50_000_000), (90, 180), (360, 720), (3.0, 7.0)),
}
# GB/T 4754 divisions common among Suzhou SMEs: manufacturing, construction, trade, logistics, IT
INDUSTRIES = [
    "13", "14", "17", "18", "22", "26", "27", "29", "30", "33", "34", "35", "36", "38", "39",
    "40", "47", "48", "50", "51", "52", "54", "58", "59", "63", "64", "65", "72", "73", "75",
]
PRODUCT_REGIONS = [
    "32", "3201", "3202", "3204", "3205", "3206", "3213",
    "320505", "320506", "320507", "320508", "320509", "320571", "320581", "320582", "320583", "320585",
]
REQUEST_REGIONS = [
    "320505", "320506", "320507", "320508", "320509", "320571", "320581", "320582", "320583",
    "320585", "320102", "320106", "320211", "320214", "320412", "320602", "321302", "310115",
]


def _yuan(value: float) -> Decimal:
    return Decimal(round(value / 10_000) * 10_000)


def make_products(rng: random.Random, count: int, institutions: int) -> list[ProductTerms]:
    products = []
    for product_id in range(1, count + 1):
        kind = rng.choice(list(TYPE_SHAPES))
        floors, ceilings, term_mins, term_maxes, rates = TYPE_SHAPES[kind]
        rate_min = Decimal(str(round(rng.uniform(*rates), 2)))
        institution_id = rng.randint(1, institutions)
        products.append(
            ProductTerms(
                product_id=product_id,
                version_id=product_id * 10 + 1,
                institution_id=institution_id,
                institution_kind="guarantor" if institution_id % 4 == 0 else "bank",
                product_type=kind,
                amount_min=_yuan(rng.uniform(*floors)),
                amount_max=_yuan(rng.uniform(*ceilings)),
                term_min_days=rng.choice(term_mins),
                term_max_days=rng.choice(term_maxes),
                rate_min=rate_min,
                rate_max=min(Decimal("12.00"), rate_min + Decimal(str(round(rng.uniform(0.5, 4), 2)))),
                min_grade=rng.choices([None, "A", "B", "C", "D"], [2, 2, 4, 3, 1])[0],
                accepts_ungraded=rng.random() < 0.4,
                industries=frozenset(rng.sample(INDUSTRIES, rng.randint(0, 5))),
                regions=frozenset(rng.sample(PRODUCT_REGIONS, rng.randint(0, 3))),
                requires_guarantee=kind == "guaranteed_loan" or rng.random() < 0.1,
                requires_debtor_confirmation=kind in ("receivable_pledge", "factoring") and rng.random() < 0.7,
            )
        )
    return products


def make_records(rng: random.Random, institutions: int) -> dict[int, InstitutionRecord]:
    records = {}
    for institution_id in range(1, institutions + 1):
        if rng.random() < 0.8:  # the rest have no history yet
            records[institution_id] = InstitutionRecord(
                institution_id, round(rng.uniform(0.5, 30), 1), round(rng.uniform(0.2, 0.95), 3)
            )
    return records


# The kinds of the pledged receivables' debtors (workflows.identifiers.DEBTOR_KINDS), with weights.
DEBTOR_MIXES = ([frozenset({"enterprise"}), frozenset({"public_body"}), frozenset({"enterprise", "public_body"}),
                 frozenset({"individual_business"}), frozenset({"enterprise", "unknown"})], [14, 3, 1, 1, 1])


def make_requests(rng: random.Random, count: int) -> list[RequestProfile]:
    debtors = random.Random(SEED + count)  # a stream of its own: the other facts stay as they were
    requests = []
    for request_id in range(1, count + 1):
        amount = Decimal(round(10 ** rng.uniform(5, 7.5), -3))
        if rng.random() < 0.1:
            amount += Decimal(rng.randint(1, 99_999)) / 100  # some with yuan and fen
        requests.append(
            RequestProfile(
                request_id=request_id,
                amount=amount,
                term_days=rng.choice([30, 60, 90, 120, 180, 270, 360, 540, 720]),
                grade=rng.choices(["A", "B", "C", "D", None], [2, 3.5, 2, 0.5, 2])[0],
                industry_code=rng.choice(INDUSTRIES),
                region_code=rng.choice(REQUEST_REGIONS),
                has_guarantee=rng.random() < 0.25,
                all_debtors_confirmed=rng.random() < 0.6,
                debtor_kinds=debtors.choices(*DEBTOR_MIXES)[0],
                all_have_contract_numbers=debtors.random() < 0.7,
            )
        )
    return requests


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def load_baseline(path: str):
    """An older workflows/matching.py, loaded under another name (it reads the products' and
    requests' attributes only, so the same data serve both)."""
    spec = importlib.util.spec_from_file_location("matching_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it runs
    spec.loader.exec_module(module)
    return module


def read_all(matches) -> int:
    """What a caller that shows every explanation does: read each match's criteria."""
    return sum(len(m.criteria) for m in matches)


def scale(args) -> None:
    """Issue 15: rank() against a 10,000-product catalogue, and with a crowded heap."""
    rng = random.Random(SEED)
    products = make_products(rng, args.scale_products, args.institutions)
    records = make_records(rng, args.institutions)
    sample = make_requests(random.Random(SEED + 2), args.scale_runs)
    implementations = [("rank()", rank, clear_caches)]
    if args.baseline:
        old = load_baseline(args.baseline)
        implementations.append(("baseline", old.rank, old.clear_caches))
    for _name, ranker, _clear in implementations:  # both warm before anything is timed
        ranker(products, sample[0], records)

    rows: list[tuple[str, str, list[float], float]] = []
    # The collector's passes, timed wherever they land and charged to the code that ran last: a
    # call that pauses the collector must not look faster by leaving its collections to the next.
    collecting = {"who": None, "since": 0.0, "spent": {}}

    def on_collection(phase: str, _info: dict) -> None:
        if phase == "start":
            collecting["since"] = time.perf_counter()
        elif collecting["who"] is not None:
            spent = collecting["spent"]
            spent[collecting["who"]] = spent.get(collecting["who"], 0.0) + time.perf_counter() - collecting["since"]

    def measure(label: str, action, prepare=None) -> None:
        times = {name: [] for name, _r, _c in implementations}
        collecting["spent"] = {}
        gc.callbacks.append(on_collection)
        try:
            for request in sample:
                for name, ranker, clear in implementations:  # interleaved: the load hits both alike
                    if prepare is not None:
                        prepare(clear)
                    collecting["who"] = name
                    times[name].append(timed(lambda r=request, f=ranker: action(f, r))[0])
        finally:
            gc.callbacks.remove(on_collection)
            collecting["who"] = None
        for name, _r, _c in implementations:
            rows.append((label, name, times[name], collecting["spent"].get(name, 0.0) / len(sample)))

    for size in (100, 1_000, len(products)):
        subset = products[:size]
        measure(f"{size:,} products, warm", lambda f, r, s=subset: f(s, r, records))
    measure(f"{len(products):,} products, cold (caches cleared)", lambda f, r: f(products, r, records),
            prepare=lambda clear: (clear(), gc.collect()))
    measure(f"{len(products):,} products, every explanation read",
            lambda f, r: read_all(f(products, r, records)))
    crowd = make_requests(random.Random(SEED + 3), args.requests)  # alive from here on
    alive = len(gc.get_objects())
    measure(f"{len(products):,} products, {alive:,} objects alive", lambda f, r: f(products, r, records))
    measure(f"1,000 products, {alive:,} objects alive", lambda f, r: f(products[:1_000], r, records))
    gc.freeze()  # what gunicorn's post_fork does with the objects made at start-up
    measure(f"{len(products):,} products, the same after gc.freeze()", lambda f, r: f(products, r, records))
    gc.unfreeze()
    del crowd

    print()
    print(f"issue 15: rank() over {len(products):,} products, {args.scale_runs} requests per row "
          f"(seed {SEED}); garbage collector on; load average {os.getloadavg()[0]:.2f}")
    print("(gc/call: the collector's passes, wherever they ran, charged to the code that ran last, per call)")
    print(f"{'measure':<48}{'code':<10}{'median':>10}{'p95':>10}{'p95/med':>9}{'mean':>10}{'gc/call':>10}")
    for label, name, times, collecting_time in rows:
        middle, high = statistics.median(times), percentile(times, 0.95)
        print(f"{label:<48}{name:<10}{middle * 1e3:>8.2f}ms{high * 1e3:>8.2f}ms{high / middle:>9.2f}"
              f"{statistics.mean(times) * 1e3:>8.2f}ms{collecting_time * 1e3:>8.2f}ms")
    if args.baseline:
        print()
        for index in range(0, len(rows), 2):
            label, _n, new, _c = rows[index]
            _l, _n, old, _c = rows[index + 1]
            print(f"{label:<48}baseline / rank(), median: {statistics.median(old) / statistics.median(new):.1f} x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--institutions", type=int, default=60)
    parser.add_argument("--single-runs", type=int, default=50, help="requests timed through rank()")
    parser.add_argument("--batch-runs", type=int, default=3, help="repetitions of match_many")
    parser.add_argument("--scale-products", type=int, default=10_000, help="catalogue of the issue 15 part")
    parser.add_argument("--scale-runs", type=int, default=40, help="requests timed per issue 15 row")
    parser.add_argument("--scale-only", action="store_true", help="only the issue 15 part")
    parser.add_argument("--baseline", help="an older workflows/matching.py to time alongside")
    args = parser.parse_args()
    print(f"machine   {platform.platform()}; {cpu_model()}; {os.cpu_count()} cores; "
          f"Python {platform.python_version()}; numpy {__import__('numpy').__version__}")
    scale(args)  # first, before the first part's 100,000 requests exist
    if args.scale_only:
        return

    rng = random.Random(SEED)
    products = make_products(rng, args.products, args.institutions)
    records = make_records(rng, args.institutions)
    sample = make_requests(random.Random(SEED + 1), 2 * args.single_runs)

    # (a) is what a web request does; it runs before the 100,000 requests exist, as a web worker
    # does not hold them either (a big live heap makes the cyclic GC's full passes costlier).
    # cold: as after a restart or a catalogue change (no cached soft criteria or formatting)
    cold = []
    for request in sample[: args.single_runs]:
        clear_caches()
        gc.collect()
        cold.append(timed(lambda r=request: rank(products, r, records))[0])
    # warm: the steady state of a worker serving one catalogue
    single, eligible = [], []
    for request in sample[args.single_runs :]:
        gc.collect()
        seconds, matches = timed(lambda r=request: rank(products, r, records))
        single.append(seconds)
        eligible.append(sum(m.eligible for m in matches))

    requests = make_requests(rng, args.requests)
    # the same, with the 100,000 requests alive and no collection beforehand
    crowded = [timed(lambda r=request: rank(products, r, records))[0] for request in sample[args.single_runs :]]

    builds, runs = [], []
    answer: dict = {}
    for _ in range(args.batch_runs):
        gc.collect()
        seconds, matcher = timed(lambda: BatchMatcher(products, records))
        builds.append(seconds)
        seconds, answer = timed(lambda m=matcher: m.match_many(requests, limit=3))
        runs.append(seconds)
    served = sum(1 for top in answer.values() if top)

    print()
    print(f"data      {len(products):,} products, {len(records)} of {args.institutions} institutions "
          f"with history, {len(requests):,} requests (seed {SEED})")
    print()
    print(f"{'measure':<52}{'median':>12}{'p95 (b: max)':>14}{'runs':>6}")
    label = "(a) rank(): 1 request x " + format(len(products), ",") + " products"
    for name, times in ((label + ", warm", single), (label + ", cold", cold),
                        (label + ", warm, 100k objects alive", crowded)):
        print(f"{name:<52}{statistics.median(times) * 1e3:>10.1f}ms"
              f"{percentile(times, 0.95) * 1e3:>12.1f}ms{len(times):>6}")
    print(f"{'(b) BatchMatcher build':<52}{statistics.median(builds) * 1e3:>10.1f}ms"
          f"{max(builds) * 1e3:>12.1f}ms{len(builds):>6}")
    print(f"{'(b) match_many: ' + format(len(requests), ',') + ' requests, top 3':<52}"
          f"{statistics.median(runs):>11.2f}s{max(runs):>13.2f}s{len(runs):>6}")
    print(f"{'    per request':<52}{statistics.median(runs) / len(requests) * 1e6:>10.1f}us")
    print()
    print(f"eligible products per request (rank sample): median {statistics.median(eligible):.0f}; "
          f"requests with at least one eligible product: {served:,} of {len(requests):,}")


if __name__ == "__main__":
    main()
