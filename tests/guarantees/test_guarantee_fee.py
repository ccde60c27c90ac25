"""The guaranteed amount and the fee: Decimal, actual/365, half up to the fen; the terms' ranges."""

from __future__ import annotations

from decimal import Decimal

import pytest

from workflows.guarantees import guarantee_amounts, letter_number, term_problems

D = Decimal


@pytest.mark.no_db
@pytest.mark.parametrize(("amount", "coverage", "rate", "days", "guaranteed", "fee"), [
    ("250000.00", "80", "1.50", 90, "200000.00", "739.73"),  # 739.726... up
    ("1000000.00", "100", "2", 365, "1000000.00", "20000.00"),
    ("1000000.00", "50", "1.20", 180, "500000.00", "2958.90"),  # 2958.904... down
    ("182.50", "100", "1", 1, "182.50", "0.01"),  # exactly half a fen: up, not to even (0.00)
    ("912.50", "100", "1", 1, "912.50", "0.03"),  # 0.025: up (half-even would give 0.02)
    ("100.01", "50", "10", 365, "50.01", "5.00"),  # 50.005 guaranteed: up; fee on the rounded 50.01
])
def test_the_fee_is_the_guaranteed_amount_times_the_rate_pro_rata_rounded_half_up(
        amount, coverage, rate, days, guaranteed, fee):
    result = guarantee_amounts(D(amount), D(coverage), D(rate), days)
    assert result.guaranteed_amount == D(guaranteed) and str(result.guaranteed_amount) == guaranteed
    assert result.fee == D(fee) and str(result.fee) == fee


@pytest.mark.no_db
@pytest.mark.parametrize(("coverage", "rate", "ok"), [
    ("1", "0.01", True), ("100", "10", True), ("80.50", "1.25", True),
    ("0.99", "1", False), ("100.01", "1", False), ("0", "1", False), ("-5", "1", False),
    ("80", "0", False), ("80", "10.01", False), ("80", "0.009", False),
    ("80.555", "1", False), ("80", "1.255", False), ("NaN", "1", False), ("80", "Infinity", False),
])
def test_coverage_runs_from_1_to_100_percent_and_the_rate_from_0_01_to_10_percent_a_year(coverage, rate, ok):
    assert (term_problems(D(coverage), D(rate)) == []) is ok


@pytest.mark.no_db
def test_the_letter_number_is_the_year_and_the_id():
    assert letter_number(123, 2026) == "DB-2026-000123"
    assert letter_number(1234567, 2027) == "DB-2027-1234567"
