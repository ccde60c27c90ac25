"""Many requests against a whole catalogue at once, without the explanations.

`BatchMatcher` gives the same answer as `matching.rank()` restricted to eligible products (same
products, same order, same scores) but works on numpy arrays built once per catalogue:

- The soft criteria depend only on the product and its institution, never on the request, so
  each product's score is computed once, by the very function `rank()` uses, and the product
  columns are stored in rank order (score descending, then product_id, version_id). The top
  eligible products of a request are then simply its first eligible columns.
- The hard criteria become one boolean row per request: amounts are compared as exact scaled
  integers (fen, or finer if a product needs it), terms as integers; grade, guarantee, debtor
  confirmation and contract numbers (5 x 2 x 2 x 2 combinations) are a precomputed table of
  rows; industries, regions and the set of debtor kinds are rows computed once per distinct
  value and cached.

Requests are processed in chunks, so memory stays at a few megabytes whatever their number.
A BatchMatcher caches as it goes and is not meant to be shared between threads.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from itertools import islice

import numpy as np

from workflows.identifiers import DEBTOR_KIND_LABELS
from workflows.matching import (
    DEFAULT_WEIGHTS,
    GRADES,
    InstitutionRecord,
    ProductTerms,
    RequestProfile,
    Weights,
    grade_admits,
    industry_division,
    product_score,
    rate_bounds_of,
)

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_GRADE_SLOTS = (*GRADES, None)
_GRADE_INDEX = {grade: index for index, grade in enumerate(_GRADE_SLOTS)}
CELLS_PER_CHUNK = 4_000_000  # requests x products evaluated per numpy pass


class _RowCache:
    """Boolean product rows keyed by a request attribute, computed on first use."""

    def __init__(self, width: int, compute: Callable[[Hashable], np.ndarray]):
        self._compute = compute
        self._index: dict[Hashable, int] = {}
        self._rows: list[np.ndarray] = []
        self.matrix = np.zeros((0, width), dtype=bool)

    def indices(self, keys: Iterable[Hashable]) -> np.ndarray:
        index, grown = self._index, False
        found = []
        for key in keys:
            position = index.get(key)
            if position is None:
                position = index[key] = len(self._rows)
                self._rows.append(self._compute(key))
                grown = True
            found.append(position)
        if grown:
            self.matrix = np.vstack(self._rows)
        return np.array(found, dtype=np.intp)


def _money_exponent(products: Sequence[ProductTerms]) -> int:
    """Decimal places needed to hold every product amount exactly (at least 2: fen)."""
    places = 2
    for p in products:
        for amount in (p.amount_min, p.amount_max):
            places = max(places, -amount.as_tuple().exponent)
    return places


def _exact_int(amount: Decimal, places: int) -> int:
    scaled = amount.scaleb(places)
    value = int(scaled)
    if value != scaled or not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueError(f"amount {amount} cannot be held exactly at {places} places")
    return value


def _bounded_int(amount: Decimal, places: int, rounding: str) -> int:
    value = int(amount.scaleb(places).to_integral_value(rounding=rounding))
    return min(max(value, _INT64_MIN), _INT64_MAX)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class BatchMatcher:
    """The top eligible products for many requests, as `rank()` would order them."""

    def __init__(
        self,
        products: Sequence[ProductTerms],
        records: Mapping[int, InstitutionRecord],
        weights: Weights = DEFAULT_WEIGHTS,
    ):
        bounds = rate_bounds_of(products)
        scored = [
            (product_score(p, records.get(p.institution_id), weights, bounds), p) for p in products
        ]
        scored.sort(key=lambda item: (-item[0], item[1].product_id, item[1].version_id))
        ordered = [p for _, p in scored]
        self.products: tuple[ProductTerms, ...] = tuple(ordered)  # in rank order
        self.scores: tuple[float, ...] = tuple(score for score, _ in scored)
        self._ids = [p.product_id for p in ordered]
        width = len(ordered)
        self._chunk_size = max(1, CELLS_PER_CHUNK // max(width, 1))

        self._places = _money_exponent(ordered)
        self._amount_min = np.array([_exact_int(p.amount_min, self._places) for p in ordered], dtype=np.int64)
        self._amount_max = np.array([_exact_int(p.amount_max, self._places) for p in ordered], dtype=np.int64)
        self._term_min = np.array([p.term_min_days for p in ordered], dtype=np.int64)
        self._term_max = np.array([p.term_max_days for p in ordered], dtype=np.int64)
        self._profile_rows = self._build_profile_rows(ordered)

        self._any_industry = np.array([not p.industries for p in ordered], dtype=bool)
        self._industry_sets = [p.industries for p in ordered]
        self._industries = _RowCache(width, self._industry_row)

        self._any_region = np.array([not p.regions for p in ordered], dtype=bool)
        self._prefix_rows: dict[str, np.ndarray] = {}
        for column, p in enumerate(ordered):
            for prefix in p.regions:
                self._prefix_rows.setdefault(prefix, np.zeros(width, dtype=bool))[column] = True
        self._prefix_lengths = sorted({len(prefix) for prefix in self._prefix_rows})
        self._regions = _RowCache(width, self._region_row)

        accepted = [p.accepted_debtor_kinds for p in ordered]
        self._any_debtor = np.array([not kinds for kinds in accepted], dtype=bool)
        self._accepts_debtor = {  # kind -> products that accept a debtor of that kind
            kind: self._any_debtor | np.array([kind in kinds for kinds in accepted], dtype=bool)
            for kind in DEBTOR_KIND_LABELS
        }
        self._debtors = _RowCache(width, self._debtor_row)

    # ---- precomputed rows ---------------------------------------------------------------------

    @staticmethod
    def _build_profile_rows(ordered: Sequence[ProductTerms]) -> np.ndarray:
        """Rows for every (grade, has_guarantee, all_debtors_confirmed, all_have_contract_numbers):
        5 x 2 x 2 x 2."""
        # a guarantor's product provides the guarantee it requires (matching.guarantee_criterion)
        needs_guarantee = np.array([p.requires_guarantee and p.institution_kind != "guarantor" for p in ordered],
                                   dtype=bool)
        needs_confirmation = np.array([p.needs_debtor_confirmation for p in ordered], dtype=bool)
        needs_contracts = np.array([p.needs_contract_numbers for p in ordered], dtype=bool)
        rows = []
        for grade in _GRADE_SLOTS:
            admits = np.array(
                [grade_admits(p.min_grade, p.accepts_ungraded, grade) for p in ordered], dtype=bool
            )
            for has_guarantee in (False, True):
                for confirmed in (False, True):
                    for contracts in (False, True):
                        rows.append(
                            admits
                            & (has_guarantee | ~needs_guarantee)
                            & (confirmed | ~needs_confirmation)
                            & (contracts | ~needs_contracts)
                        )
        return np.array(rows, dtype=bool).reshape(len(rows), len(ordered))

    @staticmethod
    def _profile_index(request: RequestProfile) -> int:
        return (
            _GRADE_INDEX[request.grade] * 8
            + 4 * bool(request.has_guarantee)
            + 2 * bool(request.all_debtors_confirmed)
            + bool(request.all_have_contract_numbers)
        )

    def _debtor_row(self, kinds: frozenset[str]) -> np.ndarray:
        """Products that accept every one of the debtor kinds (with none pledged: those that ask for no kind)."""
        row = self._any_debtor.copy()
        if kinds:
            row[:] = True
            for kind in kinds:
                row &= self._accepts_debtor[kind]
        return row

    def _industry_row(self, industry_code: str) -> np.ndarray:
        division = industry_division(industry_code)
        listed = np.array([division in codes for codes in self._industry_sets], dtype=bool)
        return self._any_industry | listed

    def _region_row(self, region_code: str) -> np.ndarray:
        row = self._any_region.copy()
        for length in self._prefix_lengths:
            if length > len(region_code):
                break
            listed = self._prefix_rows.get(region_code[:length])
            if listed is not None:
                row |= listed
        return row

    # ---- matching -----------------------------------------------------------------------------

    def _eligible(self, requests: Sequence[RequestProfile]) -> np.ndarray:
        """(len(requests), len(products)) booleans: every hard criterion passes."""
        places = self._places
        floor = np.array([_bounded_int(r.amount, places, ROUND_FLOOR) for r in requests], dtype=np.int64)
        ceiling = np.array([_bounded_int(r.amount, places, ROUND_CEILING) for r in requests], dtype=np.int64)
        term = np.array([r.term_days for r in requests], dtype=np.int64)
        profile = np.array([self._profile_index(r) for r in requests], dtype=np.intp)
        industry = self._industries.indices(r.industry_code for r in requests)
        region = self._regions.indices(r.region_code for r in requests)
        debtors = self._debtors.indices(r.debtor_kinds for r in requests)

        mask = self._profile_rows[profile]
        mask &= self._industries.matrix[industry]
        mask &= self._regions.matrix[region]
        mask &= self._debtors.matrix[debtors]
        mask &= floor[:, None] >= self._amount_min
        mask &= ceiling[:, None] <= self._amount_max
        mask &= term[:, None] >= self._term_min
        mask &= term[:, None] <= self._term_max
        return mask

    def _top(self, requests: Sequence[RequestProfile], limit: int) -> list[list[tuple[int, float]]]:
        found: list[list[tuple[int, float]]] = [[] for _ in requests]
        if limit <= 0 or not self.products:
            return found
        mask = self._eligible(requests)
        if limit < mask.shape[1]:
            counts = np.cumsum(mask, axis=1, dtype=np.int32)
            mask &= counts <= limit
        rows, columns = np.nonzero(mask)  # row-major: columns ascend within a row = rank order
        ids, scores = self._ids, self.scores
        for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
            found[row].append((ids[column], scores[column]))
        return found

    def best_for(self, request: RequestProfile, limit: int = 3) -> list[tuple[int, float]]:
        """(product_id, score) of the request's top eligible products, best first."""
        return self._top([request], limit)[0]

    def match_many(
        self, requests: Iterable[RequestProfile], limit: int = 3
    ) -> dict[int, list[tuple[int, float]]]:
        """best_for() of every request, keyed by request_id."""
        result: dict[int, list[tuple[int, float]]] = {}
        for chunk in _chunks(requests, self._chunk_size):
            for request, top in zip(chunk, self._top(chunk, limit), strict=True):
                result[request.request_id] = top
        return result
