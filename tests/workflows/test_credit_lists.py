"""The red/white/yellow list rules on plain data: each list, the two-year window's and the
90-day boundaries, and yellow before red before white."""

from __future__ import annotations

from datetime import date, timedelta

from workflows.credit_lists import (
    GRACE_DAYS,
    RED,
    WHITE,
    YELLOW,
    ListInputs,
    LoanFacts,
    RecordFacts,
    decide,
    window_start,
)

TODAY = date(2026, 12, 31)


def loan(**fields) -> LoanFacts:
    base = {"ref": "L1", "disbursed_on": date(2026, 1, 10), "closed_on": None, "repayments": 3,
            "last_repayment_on": date(2026, 12, 10), "max_days_late": 0, "days_past_due": 0}
    base.update(fields)
    return LoanFacts(**base)


def decision(*loans, records=(), today=TODAY):
    return decide(ListInputs(today, tuple(loans), tuple(records)))


def test_an_enterprise_that_never_borrowed_is_white_with_a_reason_in_both_languages():
    result = decision()
    assert result.list_kind == WHITE and result.code == "no_loan_ever"
    assert "培育" in result.reason_zh and "cultivation pool" in result.reason_en


def test_a_loan_repaid_in_full_before_the_two_year_window_leaves_the_enterprise_white():
    old = loan(disbursed_on=date(2023, 1, 5), closed_on=window_start(TODAY) - timedelta(days=1))
    result = decision(old)
    assert result.list_kind == WHITE and result.code == "no_recent_loan"
    assert "2024-12-31" in result.reason_zh and "2024-12-31" in result.reason_en


def test_a_loan_closed_on_the_windows_first_day_counts_as_recent():
    recent = loan(disbursed_on=date(2023, 1, 5), closed_on=window_start(TODAY))
    assert decision(recent).list_kind == RED


def test_the_window_starts_on_the_same_calendar_day_two_years_earlier():
    assert window_start(date(2026, 12, 31)) == date(2024, 12, 31)
    assert window_start(date(2028, 2, 29)) == date(2026, 2, 28)


def test_a_loan_disbursed_after_the_evaluation_date_is_ignored():
    assert decision(loan(disbursed_on=TODAY + timedelta(days=1))).code == "no_loan_ever"


def test_a_recent_borrower_who_paid_on_time_is_red():
    result = decision(loan(), loan(ref="L2", repayments=1, closed_on=date(2026, 6, 1)))
    assert result.list_kind == RED and result.code == "good_repayment"
    assert "2笔贷款" in result.reason_zh and "4 repayments made" in result.reason_en


def test_lateness_within_the_grace_still_makes_red_and_beyond_it_no_list():
    assert decision(loan(max_days_late=GRACE_DAYS)).list_kind == RED
    assert f"{GRACE_DAYS}天" in decision(loan(max_days_late=GRACE_DAYS)).reason_zh
    assert decision(loan(max_days_late=GRACE_DAYS + 1)) is None
    assert decision(loan(days_past_due=GRACE_DAYS + 1, max_days_late=GRACE_DAYS + 1)) is None


def test_a_recent_borrower_without_any_repayment_is_on_no_list():
    assert decision(loan(repayments=0, last_repayment_on=None)) is None


def test_more_than_90_days_past_due_with_no_repayment_for_90_days_is_yellow():
    result = decision(loan(days_past_due=91, max_days_late=91, last_repayment_on=TODAY - timedelta(days=90)))
    assert result.list_kind == YELLOW and result.code == "evasion"
    assert "91天" in result.reason_zh and "91 days past due" in result.reason_en


def test_exactly_90_days_past_due_is_not_yellow():
    assert decision(loan(days_past_due=90, max_days_late=90, last_repayment_on=TODAY - timedelta(days=200))) is None


def test_a_repayment_within_the_last_90_days_keeps_the_enterprise_off_the_yellow_list():
    assert decision(loan(days_past_due=120, max_days_late=120, last_repayment_on=TODAY - timedelta(days=89))) is None


def test_a_loan_never_repaid_counts_its_days_without_repayment_from_the_disbursement():
    result = decision(loan(disbursed_on=TODAY - timedelta(days=200), repayments=0, last_repayment_on=None,
                           days_past_due=140, max_days_late=140))
    assert result.list_kind == YELLOW and "从未还款" in result.reason_zh


def test_an_active_dishonest_debtor_record_is_yellow_even_without_a_loan():
    record = RecordFacts("R9", "dishonest_debtor", "active", date(2026, 3, 1))
    result = decision(records=[record])
    assert result.list_kind == YELLOW and result.code == "dishonest_debtor"
    assert "失信被执行人" in result.reason_zh and "dishonest judgment debtor" in result.reason_en


def test_a_dishonest_debtor_record_that_ended_repaired_or_is_another_kind_does_not_count():
    ended = RecordFacts("R1", "dishonest_debtor", "active", date(2025, 3, 1), ended_on=TODAY - timedelta(days=1))
    repaired = RecordFacts("R2", "dishonest_debtor", "repaired", date(2025, 3, 1))
    other = RecordFacts("R3", "court_judgment", "active", date(2025, 3, 1))
    assert decision(records=[ended, repaired, other]).list_kind == WHITE


def test_yellow_comes_before_red():
    good = loan()
    record = RecordFacts("R9", "dishonest_debtor", "active", date(2026, 3, 1))
    assert decision(good, records=[record]).list_kind == YELLOW
