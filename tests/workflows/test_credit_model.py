"""The credit grade model (workflows/credit_model.py) and its documentation's worked examples."""

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows import credit_model as cm
from workflows.credit_model import (
    BASE_SCORE,
    CashFlowMetrics,
    CreditRecord,
    GradeInputs,
    Parameters,
    RepaymentHistory,
    grade,
)

ON = date(2026, 12, 1)  # payment window: 2025-12 .. 2026-11
DOC = Path(__file__).resolve().parents[2] / "docs" / "credit-model.md"


def monthly(source, first, n, kind=None, day=10):
    """n payment records of `source`, one a month from (year, month) `first`."""
    y, m = first
    kind = kind or cm.PAYMENT_KINDS[source]
    return tuple(CreditRecord(kind, source, "positive",
                              date(y + (m - 1 + i) // 12, (m - 1 + i) % 12 + 1, day))
                 for i in range(n))


def negative(source="tax", kind="tax_arrears", occurred=date(2026, 5, 1), ended=None, status="active",
             amount=None):
    return CreditRecord(kind, source, "negative", occurred, amount, ended, status)


def excellent_report(**changes):
    return replace(CashFlowMetrics(date(2026, 11, 20), "excellent", 12, 12, True, 0), **changes)


def codes(g):
    return [r.code for r in g.reasons]


def points(g, code):
    return [r.points for r in g.reasons if r.code == code]


def assert_consistent(g):
    assert g.score - BASE_SCORE == sum(r.points for r in g.reasons)
    assert g.grade == cm.grade_for(g.score)
    assert g.colour == cm.COLOURS[g.grade]
    assert cm.SCORE_MIN <= g.score <= cm.SCORE_MAX


# ---- the worked examples of docs/credit-model.md -----------------------------------------------

EXAMPLES = {
    "good": GradeInputs(
        ON,
        records=monthly("tax", (2025, 12), 12) + monthly("social_insurance", (2025, 12), 12)
        + monthly("housing_fund", (2025, 12), 12) + monthly("utilities", (2025, 12), 12),
        cashflow=CashFlowMetrics(date(2026, 11, 20), "excellent", 12, 12, True, 0),
        repayment=RepaymentHistory(loans=2, repaid_in_full=2, instalments_due=12,
                                   instalments_on_time=12)),
    "thin": GradeInputs(
        ON, records=monthly("tax", (2025, 12), 12) + monthly("social_insurance", (2026, 6), 6)),
    "enforcement": GradeInputs(
        ON,
        records=monthly("tax", (2025, 12), 12) + monthly("social_insurance", (2025, 12), 12) + (
            CreditRecord("court_enforcement", "court", "negative", date(2026, 9, 10),
                         Decimal("350000.00"), ref="C-1"),
            CreditRecord("penalty", "market_regulator", "negative", date(2026, 3, 2),
                         Decimal("20000.00"), status="objected"),
            CreditRecord("tax_arrears", "tax", "negative", date(2024, 4, 1), Decimal("8000.00"),
                         date(2024, 6, 30), status="repaired"),
        ),
        cashflow=CashFlowMetrics(date(2026, 10, 15), "mixed", 12, 11, False, 2),
        repayment=RepaymentHistory(loans=1, repaid_in_full=1, instalments_due=6,
                                   instalments_on_time=6)),
    "late_payer": GradeInputs(
        ON,
        records=monthly("social_insurance", (2025, 12), 12) + (
            negative("tax", "tax_arrears", date(2020, 3, 1), date(2020, 8, 31),
                     amount=Decimal("15000.00")),
            negative("utilities", "utility_arrears", date(2019, 1, 5), date(2022, 6, 30)),
        ),
        cashflow=CashFlowMetrics(date(2026, 2, 28), "mixed", 12, 9, True, None),
        repayment=RepaymentHistory(loans=3, repaid_in_full=1, instalments_due=20,
                                   instalments_on_time=17, max_days_past_due=45,
                                   current_days_past_due=12, restructured_loans=1,
                                   cured_late_instalments=2)),
    "no_data": GradeInputs(ON),
}


def doc_example(name):
    """(score line, reason rows) of the example marked `<!-- example: name -->` in the doc."""
    text = DOC.read_text(encoding="utf-8")
    block = re.search(rf"<!-- example: {name} -->(.*?)<!-- /example -->", text, re.S)
    assert block, f"example {name} missing from {DOC.name}"
    body = block.group(1)
    result = re.search(r"\*\*Result:\*\* (.+)", body).group(1).strip()
    rows = []
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if line.startswith("| `"):
            rows.append((cells[0].strip("`"), cells[1], cells[2], cells[3]))
    return result, rows


def result_line(g):
    if not g.graded:
        return "ungraded (score none, grade none, no colour)"
    factors = ", ".join(f"{f} {cm.pts(p)}" for f, p in g.factor_points)
    return f"score {g.score}, grade {g.grade}, {g.colour} ({factors})"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_doc_examples_are_reproduced_exactly(name):
    g = grade(EXAMPLES[name])
    result, rows = doc_example(name)
    assert result == result_line(g)
    assert rows == [(r.code, cm.pts(r.points), r.zh, r.en) for r in g.reasons]


def test_doc_example_outcomes():
    good, thin, enforcement, late = (grade(EXAMPLES[n]) for n in
                                     ("good", "thin", "enforcement", "late_payer"))
    assert (good.score, good.grade, good.colour) == (890, "A", "green")
    assert (thin.score, thin.grade, thin.colour) == (560, "C", "red")
    assert (enforcement.score, enforcement.grade, enforcement.colour) == (449, "D", "black")
    assert enforcement.knocked_out
    assert late.grade in cm.GRADES
    for g in (good, thin, enforcement, late):
        assert_consistent(g)


def test_doc_names_the_model_version_and_every_code():
    text = DOC.read_text(encoding="utf-8")
    assert f"`{cm.MODEL_VERSION}`" in text
    for code in cm.REASON_CODES:
        assert f"`{code}`" in text, code


# ---- factor 1: public credit records -----------------------------------------------------------


@pytest.mark.parametrize("source,full", sorted(cm.PAYMENT_POINTS.items()))
def test_paid_months_earn_their_share_of_the_source_cap(source, full):
    for n in (1, 6, 12):
        g = grade(GradeInputs(ON, records=monthly(source, (2025, 12), n)))
        assert points(g, f"{source}_paid") == [full * n // 12]
        assert_consistent(g)


def test_paid_months_are_distinct_months_in_the_window():
    records = (monthly("social_insurance", (2025, 12), 12)
               + monthly("social_insurance", (2026, 1), 3, day=20)  # same months twice
               + monthly("social_insurance", (2025, 10), 2)  # before the window
               + (CreditRecord("social_insurance_paid", "social_insurance", "positive",
                               date(2026, 12, 1)),))
    g = grade(GradeInputs(ON, records=records))
    assert points(g, "social_insurance_paid") == [40]
    reason = next(r for r in g.reasons if r.code == "social_insurance_paid")
    assert reason.zh == "近12个月按时缴纳社保 12 个月，+40"
    assert reason.en == "Social insurance paid on time for 12 months in the last 12, +40"


def test_window_includes_the_evaluation_month_when_it_ends_that_day():
    records = (CreditRecord("tax_paid", "tax", "positive", date(2026, 11, 30)),)
    assert points(grade(GradeInputs(date(2026, 11, 30), records=records)), "tax_paid") == [3]
    assert grade(GradeInputs(date(2026, 11, 29), records=records)).grade is None  # not yet


def test_commendations_count_ten_each_up_to_twenty():
    records = tuple(CreditRecord("contract_honouring", "market_regulator", "positive",
                                 date(2026, m, 1)) for m in (1, 2, 3))
    g = grade(GradeInputs(ON, records=records))
    assert points(g, "commendation") == [10, 10, 0]
    old = (CreditRecord("tax_credit_a", "tax", "positive", date(2023, 12, 1)),)
    assert grade(GradeInputs(ON, records=old)).grade is None  # 36 months ago: no longer counted


@pytest.mark.parametrize("source,full", sorted(cm.NEGATIVE_POINTS.items()))
def test_negative_record_points_by_source(source, full):
    g = grade(GradeInputs(ON, records=(negative(source, "penalty"),)))
    assert points(g, "negative_record") == [full]
    assert_consistent(g)


def test_negative_record_counts_half_two_years_after_it_ended():
    ended = date(2024, 12, 1)
    assert points(grade(GradeInputs(ON, records=(negative(occurred=date(2024, 1, 1), ended=date(2024, 12, 2)),))),
                  "negative_record") == [-60]
    g = grade(GradeInputs(ON, records=(negative(occurred=date(2024, 1, 1), ended=ended),)))
    assert points(g, "negative_record") == [-30]
    assert "减半" in g.reasons[0].zh and "half" in g.reasons[0].en


def test_retention_five_years_after_the_event_ended():
    params = Parameters()
    ended = date(2021, 12, 1)
    on_last_day = GradeInputs(date(2026, 11, 30), records=(negative("court", "court_judgment",
                                                                    date(2020, 1, 1), ended),))
    assert points(grade(on_last_day), "negative_record") == [-40]
    gone = replace(on_last_day, evaluation_date=date(2026, 12, 1))
    assert grade(gone).grade is None  # the only record left the score: no data
    assert cm.record_expired(on_last_day.records[0], date(2026, 12, 1), params)
    # an ongoing record never expires; the retention period is a parameter
    ongoing = negative("court", "court_judgment", date(2010, 1, 1))
    assert points(grade(GradeInputs(ON, records=(ongoing,))), "negative_record") == [-80]
    shorter = GradeInputs(ON, records=(negative(occurred=date(2022, 1, 1), ended=date(2023, 1, 1)),),
                          parameters=Parameters(retention_years=3))
    assert grade(shorter).grade is None


def test_objected_negative_record_is_excluded_while_the_objection_is_open():
    base = monthly("tax", (2025, 12), 12)
    record = negative("court", "court_judgment", amount=Decimal("1000.00"))
    counted = grade(GradeInputs(ON, records=base + (record,)))
    objected = grade(GradeInputs(ON, records=base + (replace(record, status="objected"),)))
    assert counted.score == objected.score - 80
    assert points(objected, "objection_pending") == [0]
    pending = next(r for r in objected.reasons if r.code == "objection_pending")
    assert "异议处理中" in pending.zh and "objection is open" in pending.en
    assert objected.score == BASE_SCORE + 40


def test_objected_enforcement_is_no_knockout():
    record = negative("court", "court_enforcement", status="objected")
    g = grade(GradeInputs(ON, records=monthly("tax", (2025, 12), 12) + (record,)))
    assert not g.knocked_out and g.grade == "C" and g.score == 540


def test_objection_on_a_positive_record_never_lowers_the_grade():
    records = tuple(replace(r, status="objected") for r in monthly("tax", (2025, 12), 12))
    assert points(grade(GradeInputs(ON, records=records)), "tax_paid") == [40]


@pytest.mark.parametrize("status", ["repaired", "removed"])
def test_repaired_and_removed_records_never_count_nor_show(status):
    base = monthly("tax", (2025, 12), 12)
    records = base + (negative("court", "court_enforcement", status=status),
                      replace(monthly("housing_fund", (2025, 12), 1)[0], status=status))
    g = grade(GradeInputs(ON, records=records))
    assert g.score == BASE_SCORE + 40 and not g.knocked_out
    assert codes(g) == ["tax_paid", "cashflow_absent", "repayment_absent"]


def test_neutral_and_future_records_earn_nothing():
    records = (CreditRecord("court_case_filed", "court", "neutral", date(2026, 1, 1)),
               negative(occurred=date(2026, 12, 2)))
    assert grade(GradeInputs(ON, records=records)).grade is None


def test_records_floor_caps_negative_records():
    records = tuple(negative("court", "court_judgment", date(2026, m, 1)) for m in (1, 2, 3))
    g = grade(GradeInputs(ON, records=records))
    assert points(g, "negative_record") == [-80, -80, -80]
    assert points(g, "cap_records") == [40]
    assert dict(g.factor_points)["records"] == -200
    assert_consistent(g)


# ---- factor 2: verified cash flow --------------------------------------------------------------


def cash_points(**changes):
    g = grade(GradeInputs(ON, cashflow=replace(CashFlowMetrics(
        date(2026, 11, 20), "mixed", 0, 0, False, 3), **changes)))
    assert_consistent(g)
    return {r.code: r.points for r in g.reasons if r.factor == "cashflow"}


def test_cashflow_class_points():
    assert cash_points(classification="excellent")["cashflow_class"] == 100
    assert cash_points(classification="mixed")["cashflow_class"] == 40
    assert cash_points(classification="poor")["cashflow_class"] == -60


@pytest.mark.parametrize("months,expected", [(5, 0), (6, 10), (11, 10), (12, 20)])
def test_cashflow_coverage_boundaries(months, expected):
    assert cash_points(covered_months=months)["cashflow_coverage"] == expected


@pytest.mark.parametrize("months,expected", [(5, 0), (6, 10), (9, 10), (10, 30)])
def test_cashflow_inflow_month_boundaries(months, expected):
    assert cash_points(inflow_months=months)["cashflow_inflow_months"] == expected


@pytest.mark.parametrize("days,expected", [(0, 20), (1, 0), (5, 0), (6, -30), (None, 0)])
def test_cashflow_negative_day_boundaries(days, expected):
    assert cash_points(negative_balance_days=days)["cashflow_negative_days"] == expected


def test_cashflow_stability():
    assert cash_points(inflow_stable=True)["cashflow_stability"] == 20
    assert cash_points(inflow_stable=False)["cashflow_stability"] == 0


def test_cashflow_cap_binds_on_an_excellent_year():
    g = grade(GradeInputs(ON, cashflow=excellent_report()))
    assert points(g, "cap_cashflow") == [-40]
    assert g.score == BASE_SCORE + 150 and g.grade == "B"


def test_absent_report_earns_nothing_and_says_so():
    g = grade(GradeInputs(ON, records=monthly("tax", (2025, 12), 12)))
    reason = next(r for r in g.reasons if r.code == "cashflow_absent")
    assert reason.points == 0 and "核验报告" in reason.zh and "report" in reason.en


def test_stale_report_earns_nothing():
    fresh = grade(GradeInputs(ON, cashflow=excellent_report(report_as_of=date(2025, 12, 2))))
    stale = grade(GradeInputs(ON, cashflow=excellent_report(report_as_of=date(2025, 12, 1))))
    assert fresh.score == BASE_SCORE + 150
    assert codes(stale) == ["cashflow_stale", "repayment_absent"] and stale.score == BASE_SCORE


def test_report_after_the_evaluation_date_is_refused():
    with pytest.raises(ValueError):
        grade(GradeInputs(ON, cashflow=excellent_report(report_as_of=date(2026, 12, 2))))


def test_cashflow_from_a_verification_report():
    from workflows.verification.model import Transaction
    from workflows.verification.policy import EnterpriseInput, ReceivableInput, verify

    debtor = "某某电力设备有限公司"
    balance = Decimal("0")
    transactions = []
    for i in range(12):  # 2025-11 .. 2026-10: the window of as-of 2026-11-20
        year, month = 2025 + (10 + i) // 12, (10 + i) % 12 + 1
        amount = Decimal("200000.00") if month != 3 else Decimal("-900000.00")
        balance += amount
        transactions.append(Transaction(i + 1, date(year, month, 15), amount, balance, debtor))
    receivable = ReceivableInput("INV-1", debtor, "", Decimal("100000.00"), date(2026, 11, 1),
                                 date(2027, 1, 31), "confirmed", confirmation_source="link")
    report = verify(enterprise=EnterpriseInput("某某制造有限公司", "91350100M000100Y43"),
                    receivables=[receivable], statements=[transactions],
                    requested_amount=Decimal("50000.00"), as_of=date(2026, 11, 20))
    metrics = cm.cashflow_from_report(report)
    assert metrics.report_as_of == date(2026, 11, 20)
    assert metrics.classification == report.classification
    assert (metrics.covered_months, metrics.inflow_months, metrics.lookback_months) == (12, 11, 12)
    assert metrics.negative_balance_days == len(report.metrics["negative_balance_days"]) > 0
    assert metrics.inflow_stable == (report.health_check("H2").level == "ok")
    assert metrics.policy_version == report.policy_version
    assert grade(GradeInputs(ON, cashflow=metrics)).graded


# ---- factor 3: repayment on the platform -------------------------------------------------------


def repay(**fields):
    g = grade(GradeInputs(ON, repayment=RepaymentHistory(**fields)))
    assert_consistent(g)
    return g


def test_loans_repaid_thirty_each_up_to_ninety():
    assert points(repay(loans=1), "loans_repaid") == [0]
    assert points(repay(loans=2, repaid_in_full=2), "loans_repaid") == [60]
    assert points(repay(loans=5, repaid_in_full=4), "loans_repaid") == [90]


@pytest.mark.parametrize("on_time,expected", [(100, 60), (99, 40), (95, 40), (94, 10), (80, 10),
                                              (79, -40), (0, -40)])
def test_on_time_share_boundaries(on_time, expected):
    g = repay(loans=1, instalments_due=100, instalments_on_time=on_time)
    assert points(g, "instalments_on_time") == [expected]


@pytest.mark.parametrize("days,bucket,expected", [(1, "1-30", -20), (30, "1-30", -20),
                                                  (31, "31-60", -60), (60, "31-60", -60),
                                                  (61, "61-90", -120), (90, "61-90", -120),
                                                  (91, "90+", -200)])
def test_worst_delay_by_bucket(days, bucket, expected):
    g = repay(loans=1, max_days_past_due=days, cured_late_instalments=1)
    reason = next(r for r in g.reasons if r.code == "worst_past_due")
    assert reason.points == expected
    assert f"{bucket}天档" in reason.zh and f"bucket {bucket}" in reason.en


@pytest.mark.parametrize("days,expected", [(1, -40), (30, -40), (31, -100), (61, -160)])
def test_current_delay_by_bucket(days, expected):
    g = repay(loans=1, max_days_past_due=days, current_days_past_due=days)
    assert points(g, "current_past_due") == [expected]
    assert not g.knocked_out


def test_restructured_loans_minus_thirty_each_down_to_sixty():
    assert points(repay(loans=3, restructured_loans=1), "restructured_loans") == [-30]
    assert points(repay(loans=3, restructured_loans=3), "restructured_loans") == [-60]


def test_repayment_floor():
    g = repay(loans=3, instalments_due=10, max_days_past_due=80, current_days_past_due=80,
              restructured_loans=2)
    assert [r.points for r in g.reasons if r.factor == "repayment"] == [0, -40, -120, -160, -60, 180]
    assert dict(g.factor_points)["repayment"] == -200


def test_no_loans_earns_nothing():
    g = grade(GradeInputs(ON, records=monthly("tax", (2025, 12), 12),
                          repayment=RepaymentHistory()))
    assert points(g, "repayment_absent") == [0]


def test_repayment_history_is_validated():
    with pytest.raises(ValueError):
        RepaymentHistory(loans=1, repaid_in_full=2)
    with pytest.raises(ValueError):
        RepaymentHistory(loans=1, instalments_due=1, instalments_on_time=2)
    with pytest.raises(ValueError):
        RepaymentHistory(loans=1, max_days_past_due=3, current_days_past_due=4)


# ---- knock-outs --------------------------------------------------------------------------------


def test_ninety_plus_days_past_due_now_is_grade_d():
    g = grade(replace(EXAMPLES["good"], repayment=RepaymentHistory(
        loans=2, repaid_in_full=1, instalments_due=12, instalments_on_time=11,
        max_days_past_due=91, current_days_past_due=91)))
    assert g.knocked_out and g.grade == "D" and g.colour == "black"
    assert g.score == cm.KNOCKOUT_CEILING
    assert codes(g)[-1] == "knockout_past_due_90"
    assert_consistent(g)


def test_ninety_days_is_not_yet_a_knockout():
    g = grade(replace(EXAMPLES["good"], repayment=RepaymentHistory(
        loans=1, max_days_past_due=90, current_days_past_due=90)))
    assert not g.knocked_out


def test_knockout_never_raises_a_low_score():
    records = tuple(negative("court", k, date(2026, m, 1)) for m, k in
                    ((1, "court_judgment"), (2, "court_enforcement"), (3, "dishonest_debtor")))
    g = grade(GradeInputs(ON, records=records, repayment=RepaymentHistory(
        loans=1, max_days_past_due=120, current_days_past_due=120)))
    assert codes(g)[-3:] == ["knockout_past_due_90", "knockout_enforcement", "knockout_enforcement"]
    assert points(g, "knockout_enforcement") == [0, 0] and points(g, "knockout_past_due_90") == [0]
    assert g.score < cm.KNOCKOUT_CEILING and g.grade == "D"
    assert_consistent(g)


def test_ended_enforcement_costs_points_but_is_no_knockout():
    record = negative("court", "dishonest_debtor", date(2025, 1, 1), date(2026, 6, 30))
    g = grade(replace(EXAMPLES["good"], records=EXAMPLES["good"].records + (record,)))
    assert not g.knocked_out and points(g, "negative_record") == [-80] and g.grade == "A"


@pytest.mark.parametrize("source,kind", [("tax", "tax_violation"),
                                         ("market_regulator", "serious_violation")])
def test_an_ongoing_dishonest_list_record_is_a_knockout(source, kind):
    g = grade(replace(EXAMPLES["good"], records=EXAMPLES["good"].records + (
        negative(source, kind, date(2026, 2, 1)),)))
    assert g.knocked_out and g.grade == "D" and g.score == cm.KNOCKOUT_CEILING
    assert codes(g)[-1] == "knockout_dishonest_list"
    assert_consistent(g)


def test_only_the_payment_kind_counts_as_a_paid_month():
    records = (CreditRecord("tax_credit_a", "tax", "positive", date(2026, 3, 1)),
               CreditRecord("tax_paid", "tax", "positive", date(2026, 3, 5)))
    g = grade(GradeInputs(ON, records=records))
    assert codes(g)[:2] == ["tax_paid", "commendation"]
    assert points(g, "tax_paid") == [3] and points(g, "commendation") == [10]


def test_enforcement_elsewhere_than_court_is_no_knockout():
    g = grade(GradeInputs(ON, records=(negative("market_regulator", "court_enforcement"),)))
    assert not g.knocked_out


# ---- thresholds, no data, determinism, texts ---------------------------------------------------


@pytest.mark.parametrize("score,letter", [(1000, "A"), (750, "A"), (749, "B"), (600, "B"),
                                          (599, "C"), (450, "C"), (449, "D"), (0, "D")])
def test_threshold_boundaries(score, letter):
    assert cm.grade_for(score) == letter


def test_thresholds_reached_through_the_model():
    # base 500 + cash flow: excellent 150 (capped) -> 650 B; + 100 of records -> 750 A
    report = excellent_report()
    assert grade(GradeInputs(ON, cashflow=report)).grade == "B"
    records = monthly("tax", (2025, 12), 12) + monthly("social_insurance", (2025, 12), 12) \
        + monthly("housing_fund", (2025, 12), 12)
    g = grade(GradeInputs(ON, records=records, cashflow=report))
    assert (g.score, g.grade, g.colour) == (750, "A", "green")
    g = grade(GradeInputs(ON, records=records[:-1], cashflow=report))  # 11 housing-fund months
    assert (g.score, g.grade, g.colour) == (748, "B", "yellow")  # 20 * 11 // 12 = 18
    g = grade(GradeInputs(ON, records=(negative("utilities", occurred=date(2026, 1, 1),
                                                ended=date(2026, 2, 1)),
                                       negative("utilities", occurred=date(2026, 3, 1),
                                                ended=date(2026, 4, 1)),
                                       negative("tax"))))
    assert (g.score, g.grade, g.colour) == (400, "D", "black")
    g = grade(GradeInputs(ON, repayment=RepaymentHistory(loans=1, max_days_past_due=10,
                                                         cured_late_instalments=1)))
    assert (g.score, g.grade, g.colour) == (480, "C", "red")


def test_no_data_at_all_stays_ungraded():
    g = grade(EXAMPLES["no_data"])
    assert (g.score, g.grade, g.colour, g.graded) == (None, None, None, False)
    assert codes(g) == ["insufficient_data"]
    assert "数据不足" in g.reasons[0].zh and "Insufficient data" in g.reasons[0].en
    only_objected = grade(GradeInputs(ON, records=(negative(status="objected"),)))
    assert codes(only_objected) == ["objection_pending", "insufficient_data"]


def test_a_report_alone_is_enough_to_grade():
    g = grade(GradeInputs(ON, cashflow=CashFlowMetrics(date(2026, 11, 1), "poor", 3, 2, False, 9)))
    assert g.graded and g.score == BASE_SCORE - 90 and g.grade == "D"


def test_grade_is_deterministic_whatever_the_record_order():
    inputs = EXAMPLES["enforcement"]
    shuffled = replace(inputs, records=tuple(reversed(inputs.records)))
    assert grade(inputs) == grade(inputs) == grade(shuffled)
    assert grade(inputs).as_dict() == grade(shuffled).as_dict()


def test_every_grade_carries_the_model_version():
    for inputs in EXAMPLES.values():
        assert grade(inputs).model_version == cm.MODEL_VERSION == "2026.12-1"


def every_reason():
    """Inputs that between them produce every reason code."""
    yield from EXAMPLES.values()
    yield GradeInputs(ON, records=(
        CreditRecord("tax_credit_a", "tax", "positive", date(2026, 1, 1)),
        *monthly("housing_fund", (2025, 12), 1), *monthly("utilities", (2025, 12), 1),
        *(negative("court", "court_judgment", date(2026, m, 1)) for m in (1, 2, 3))))
    yield GradeInputs(ON, cashflow=excellent_report(report_as_of=date(2025, 1, 1)),
                      repayment=RepaymentHistory(loans=3, instalments_due=10,
                                                 max_days_past_due=120, current_days_past_due=120,
                                                 restructured_loans=2))
    yield GradeInputs(ON, cashflow=excellent_report())
    yield GradeInputs(ON, records=(negative("market_regulator", "serious_violation"),))


def test_every_reason_code_has_chinese_and_english_text():
    seen = set()
    for inputs in every_reason():
        g = grade(inputs)
        for r in g.reasons:
            assert r.code in cm.REASON_CODES
            assert r.zh and r.en and r.zh != r.en
            assert re.search(r"[\u4e00-\u9fff]", r.zh) and not re.search(r"[\u4e00-\u9fff]", r.en)
            assert r.zh.endswith(f"，{cm.pts(r.points)}") and r.en.endswith(cm.pts(r.points)), r
            assert r.text("en") == r.en and r.text("zh") == r.zh
            seen.add(r.code)
        if g.graded:
            assert_consistent(g)
    assert seen == set(cm.REASON_CODES)


def test_record_validation():
    with pytest.raises(ValueError):
        CreditRecord("payment", "bank", "positive", ON)
    with pytest.raises(ValueError):
        CreditRecord("payment", "tax", "good", ON)
    with pytest.raises(ValueError):
        CreditRecord("payment", "tax", "positive", ON, status="pending")
    with pytest.raises(ValueError):
        CreditRecord("arrears", "tax", "negative", ON, ended_on=date(2026, 11, 1))
    with pytest.raises(ValueError):
        CreditRecord("arrears", "tax", "negative", ON, amount=12.5)


def test_workflows_stay_pure():
    source = Path(cm.__file__).read_text(encoding="utf-8")
    for banned in ("flask", "sqlalchemy", "marketplace"):
        assert not re.search(rf"^\s*(from|import) {banned}", source, re.M | re.I)


# ---- any inputs: the reasons always add up -----------------------------------------------------

_days = st.dates(min_value=date(2015, 1, 1), max_value=ON)
_kinds = st.sampled_from(sorted(cm.KIND_LABELS) + ["other_kind"])


@st.composite
def _record(draw):
    occurred = draw(_days)
    ended = draw(st.none() | st.dates(min_value=occurred, max_value=date(2028, 1, 1)))
    return CreditRecord(draw(_kinds), draw(st.sampled_from(cm.SOURCES)),
                        draw(st.sampled_from(cm.POLARITIES)), occurred,
                        draw(st.none() | st.decimals(0, 10**7, places=2)), ended,
                        draw(st.sampled_from(cm.STATUSES)))


@st.composite
def _repayment(draw):
    loans = draw(st.integers(0, 6))
    due = draw(st.integers(0, 40))
    worst = draw(st.integers(0, 200))
    return RepaymentHistory(loans, draw(st.integers(0, loans)), due, draw(st.integers(0, due)),
                            worst, draw(st.integers(0, worst)), draw(st.integers(0, loans)),
                            draw(st.integers(0, 5)))


_cashflow = st.builds(CashFlowMetrics, _days, st.sampled_from(sorted(cm.CLASS_POINTS)),
                      st.integers(0, 12), st.integers(0, 12), st.booleans(),
                      st.none() | st.integers(0, 40))


@settings(max_examples=300, deadline=None)
@given(st.lists(_record(), max_size=25), st.none() | _cashflow, st.none() | _repayment())
def test_any_inputs_reasons_sum_to_the_score(records, cashflow, repayment):
    inputs = GradeInputs(ON, tuple(records), cashflow, repayment)
    g = grade(inputs)
    assert g == grade(replace(inputs, records=tuple(reversed(records))))
    assert all(r.code in cm.REASON_CODES for r in g.reasons)
    if not g.graded:
        assert g.score is None and g.reasons[-1].code == "insufficient_data"
        return
    assert_consistent(g)
    for factor, total in g.factor_points:
        low, high = cm.FACTOR_CAPS[factor]
        assert low <= total <= high
    assert g.knocked_out == (g.grade == "D" and any(r.code.startswith("knockout_")
                                                    for r in g.reasons))
