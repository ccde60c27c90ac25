"""The asset-quality policy (design.md section 5): every check at its boundaries, the grades,
the overall class, the thresholds' validation. Pure: transactions are built directly."""

import json
from dataclasses import FrozenInstanceError, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import pytest

from workflows.receivables_file import ReceivableRow
from workflows.verification.checks_cashflow import window_before
from workflows.verification.model import Statement, Transaction
from workflows.verification.policy import (
    DEFAULT_POLICY,
    HEALTH_CHECKS,
    RECEIVABLE_CHECKS,
    EnterpriseInput,
    Policy,
    PolicyError,
    ReceivableInput,
    Thresholds,
    VerificationInputError,
    policy_in_effect,
    ratio_text,
    verify,
)

D = Decimal
AS_OF = date(2026, 1, 1)  # the window is 2025-01 .. 2025-12
ENTERPRISE = EnterpriseInput("苏州示例制造有限公司", "91320500MA1K00003D")
DEBTOR_A = "上海甲方（集团）有限公司"
DEBTOR_B = "无锡乙方贸易有限公司"
USCC_A = "91310000MA1K000019"
USCC_B = "91320200MA1K00002T"


def tx(day: date, amount, counterparty: str = "", balance=None, line: int = 0) -> Transaction:
    return Transaction(line=line, date=day, amount=D(str(amount)),
                       balance=None if balance is None else D(str(balance)),
                       counterparty=counterparty)


def months_of_2025(count: int = 12, start: int = 1):
    return [date(2025, m, 10) for m in range(start, start + count)]


def steady(months=None, per_debtor=100_000, balance=500_000) -> list[Transaction]:
    """Both debtors pay every month; the balance stays positive."""
    rows = []
    for day in months or months_of_2025():
        rows.append(tx(day, per_debtor, DEBTOR_A, balance))
        rows.append(tx(day + timedelta(days=1), per_debtor, DEBTOR_B, balance + per_debtor))
        rows.append(tx(day + timedelta(days=2), -per_debtor, "供应商", balance))
    return rows


def receivable(**overrides) -> ReceivableInput:
    values = dict(invoice_no="INV-A", debtor_name=DEBTOR_A, debtor_uscc=USCC_A,
                  amount=D("100000.00"), issue_date=AS_OF - timedelta(days=30),
                  due_date=AS_OF + timedelta(days=60), confirmation="confirmed")
    values.update(overrides)
    return ReceivableInput(**values)


def two_receivables(**a_overrides) -> list[ReceivableInput]:
    return [receivable(**a_overrides),
            receivable(invoice_no="INV-B", debtor_name=DEBTOR_B, debtor_uscc=USCC_B)]


def run(statements=None, receivables=None, amount="200000", as_of=AS_OF, **kwargs):
    return verify(
        enterprise=kwargs.pop("enterprise", ENTERPRISE),
        receivables=receivables if receivables is not None else two_receivables(),
        statements=[steady()] if statements is None else statements,
        requested_amount=D(amount),
        as_of=as_of,
        **kwargs,
    )


def check(report, code, index=0):
    if code.startswith("H"):
        return report.health_check(code)
    return next(c for c in report.receivables[index].checks if c.code == code)


def level(report, code, index=0) -> str:
    return check(report, code, index).level


# ---- the baseline --------------------------------------------------------------------------------


def test_baseline_is_excellent_with_every_check_ok():
    report = run()
    assert report.classification == "excellent"
    assert [c.code for c in report.health] == list(HEALTH_CHECKS)
    assert all(c.level == "ok" for c in report.health)
    for result in report.receivables:
        assert [c.code for c in result.checks] == list(RECEIVABLE_CHECKS)
        assert result.grade == "优"
    assert report.policy_version == "2026.1"
    assert report.thresholds == Thresholds().as_dict()


def test_every_check_has_level_value_and_sentences_with_numbers():
    report = run()
    for c in [*report.health, *report.receivables[0].checks]:
        assert c.level in ("ok", "weak", "fail")
        assert c.value and c.reason_zh and c.reason_en
    assert "12" in check(report, "R2").reason_zh and "12 distinct months" in check(report, "R2").reason_en
    assert check(report, "H4").value == "¥200,000.00 / ¥2,400,000.00 = 0.0834"


# ---- the window ----------------------------------------------------------------------------------


def test_window_is_the_whole_months_ending_on_or_before_as_of():
    assert window_before(date(2026, 11, 22), 12).labels[0] == "2025-11"
    assert window_before(date(2026, 11, 22), 12).labels[-1] == "2026-10"
    assert window_before(date(2026, 11, 30), 12).labels == tuple(
        f"{y}-{m:02d}" for y, m in [(2025, 12)] + [(2026, m) for m in range(1, 12)])
    assert window_before(date(2026, 1, 1), 12).start == date(2025, 1, 1)
    assert window_before(date(2026, 1, 1), 12).end == date(2025, 12, 31)


def test_transactions_of_the_running_month_and_older_than_the_window_are_ignored():
    rows = steady() + [tx(date(2024, 12, 31), 9_999_999, "某客户"), tx(date(2026, 1, 1), 9_999_999, "某客户")]
    report = run([rows])
    assert report.metrics["inflow_total"] == "2400000.00"
    assert report.metrics["transactions_outside_window"] == 2


# ---- R1 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state, expected", [("confirmed", "ok"), ("pending", "weak"), ("disputed", "fail")])
def test_r1_confirmation(state, expected):
    assert level(run(receivables=two_receivables(confirmation=state)), "R1") == expected


SHANGHAI_NOON = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=8)))


@pytest.mark.parametrize("state, source, level_, zh, en", [
    ("confirmed", "link", "ok", "债务人于2026-11-20通过签名链接确认该笔应收账款",
     "The debtor confirmed the receivable via the signed link on 2026-11-20"),
    ("confirmed", "account", "ok", "债务人于2026-11-20通过其平台企业账户确认该笔应收账款",
     "The debtor confirmed the receivable through its enterprise account on the platform on 2026-11-20"),
    ("disputed", "link", "fail", "债务人于2026-11-20通过签名链接对该笔应收账款提出异议",
     "The debtor disputed the receivable via the signed link on 2026-11-20"),
    ("disputed", "account", "fail", "债务人于2026-11-20通过其平台企业账户对该笔应收账款提出异议",
     "The debtor disputed the receivable through its enterprise account on the platform on 2026-11-20"),
])
def test_r1_names_the_debtors_act_and_its_date(state, source, level_, zh, en):
    report = run(receivables=two_receivables(confirmation=state, confirmation_source=source,
                                             confirmation_time=SHANGHAI_NOON))
    r1 = check(report, "R1")
    assert (r1.level, r1.reason_zh, r1.reason_en) == (level_, zh, en)
    data = report.to_dict()["receivables"][0]
    assert data["confirmation_source"] == source
    assert data["confirmation_time"] == "2026-11-20T12:00:00+08:00"


@pytest.mark.parametrize("declared, zh, en", [
    ("confirmed", "企业声明已确认，债务人尚未确认（企业于2026-11-20声明）",
     "Declared confirmed by the enterprise on 2026-11-20; the debtor has not confirmed it yet"),
    ("disputed", "企业声明有异议，债务人尚未答复（企业于2026-11-20声明）",
     "Declared disputed by the enterprise on 2026-11-20; the debtor has not answered yet"),
])
def test_r1_treats_the_enterprises_declaration_as_pending_and_says_so(declared, zh, en):
    report = run(receivables=two_receivables(confirmation="pending", confirmation_source="declared",
                                             declared=declared, confirmation_time=SHANGHAI_NOON))
    r1 = check(report, "R1")
    assert (r1.level, r1.reason_zh, r1.reason_en) == ("weak", zh, en)
    assert report.receivables[0].grade == "良" and report.classification != "excellent"
    data = report.to_dict()["receivables"][0]
    assert (data["confirmation"], data["confirmation_source"], data["declared_confirmation"]) == (
        "pending", "declared", declared)


def test_r1_without_a_source_or_time_keeps_the_plain_sentences():
    report = run(receivables=two_receivables(confirmation="confirmed"))
    assert check(report, "R1").reason_zh == "债务人已确认该笔应收账款"
    assert report.to_dict()["receivables"][0]["confirmation_source"] == "none"
    assert check(run(receivables=two_receivables(confirmation="pending")), "R1").reason_zh == "该笔应收账款尚待债务人确认"


def test_r1_from_a_vouched_file_names_the_file():
    report = run(receivables=two_receivables(confirmation="disputed", confirmation_source="file"))
    r1 = check(report, "R1")
    assert r1.level == "fail" and r1.reason_zh.startswith("债务人对该笔应收账款有异议")
    assert "依据核验文件所载" in r1.reason_zh and "verified file" in r1.reason_en


@pytest.mark.parametrize("overrides, message", [
    (dict(confirmation="confirmed", confirmation_source="declared", declared="confirmed"),
     "企业声明不能作为债务人的确认或异议"),
    (dict(confirmation="pending", confirmation_source="declared", declared="maybe"), "企业声明的确认状态“maybe”无法识别"),
    (dict(confirmation="confirmed", confirmation_source="import"), "确认来源“import”无法识别"),
])
def test_r1_refuses_a_declaration_passed_off_as_an_answer(overrides, message):
    with pytest.raises(VerificationInputError) as caught:
        run(receivables=two_receivables(**overrides))
    assert any(message in problem for problem in caught.value.problems)


# ---- R2 ------------------------------------------------------------------------------------------


def only_a_pays_in(months: list[int]) -> list[Transaction]:
    rows = steady()
    rows = [t for t in rows if t.counterparty != DEBTOR_A]
    rows += [tx(date(2025, m, 3), 50_000, DEBTOR_A, 900_000) for m in months]
    return sorted(rows, key=lambda t: t.date)


def test_r2_three_distinct_months_ok_two_weak():
    assert level(run([only_a_pays_in([1, 5, 9])]), "R2") == "ok"
    two = run([only_a_pays_in([1, 5])])
    assert level(two, "R2") == "weak"
    assert check(two, "R2").value == "2 of 12 months"
    assert "2个不同月份" in check(two, "R2").reason_zh


def test_r2_names_a_run_of_three_or_more_consecutive_months_by_its_ends():
    reason = check(run([only_a_pays_in([1, 2, 3, 4, 5, 7, 9, 10, 12])]), "R2")
    assert "（2025-01至2025-05、2025-07、2025-09、2025-10、2025-12）" in reason.reason_zh
    assert "(2025-01 to 2025-05, 2025-07, 2025-09, 2025-10, 2025-12)" in reason.reason_en
    every = check(run([only_a_pays_in(range(1, 13))]), "R2")
    assert "（2025-01至2025-12）" in every.reason_zh and "(2025-01 to 2025-12)" in every.reason_en


def test_r2_counts_months_not_payments():
    rows = only_a_pays_in([3, 3, 3, 7, 7])
    assert check(run([rows]), "R2").value == "2 of 12 months"


def test_r2_no_history_is_weak_not_fail():
    report = run([only_a_pays_in([])])
    assert level(report, "R2") == "weak"
    assert "无历史往来" in check(report, "R2").reason_zh
    assert "no history" in check(report, "R2").reason_en


def test_r2_ignores_payments_outside_the_window():
    rows = only_a_pays_in([1, 2]) + [tx(date(2024, 12, 15), 50_000, DEBTOR_A)]
    assert check(run([rows]), "R2").value == "2 of 12 months"


@pytest.mark.parametrize("written", [
    "上海甲方(集团)有限公司",  # half-width brackets
    "上海甲方 （集团） 有限公司",  # spaces
    "  上海甲方（集团）有限公司 ",
    "上海甲方\u3000(集团)有限公司",  # an ideographic space
])
def test_r2_matches_the_debtor_whatever_the_brackets_and_spaces(written):
    rows = [t if t.counterparty != DEBTOR_A else replace(t, counterparty=written) for t in steady()]
    assert check(run([rows]), "R2").value == "12 of 12 months"


def test_r2_folds_full_width_latin_and_case():
    name = "ABC科技有限公司"
    rows = [tx(day, 80_000, "ＡＢＣ科技有限公司", 100_000) for day in months_of_2025()]
    rows += [tx(day, 80_000, "abc科技有限公司", 100_000) for day in months_of_2025()]
    report = run([rows], receivables=[receivable(debtor_name=name, debtor_uscc=USCC_B)])
    assert check(report, "R2").value == "12 of 12 months"
    assert check(report, "R3").value.endswith("3 x ¥160,000.00 = ¥480,000.00")


def test_r2_a_different_name_does_not_match():
    rows = [t if t.counterparty != DEBTOR_A else replace(t, counterparty="上海甲方有限公司") for t in steady()]
    assert level(run([rows]), "R2") == "weak"


# ---- R3 ------------------------------------------------------------------------------------------


def test_r3_at_three_times_the_largest_monthly_inflow_is_ok_a_fen_above_fails():
    # A pays 100,000 every month: the largest monthly inflow is 100,000, the cap 300,000
    assert level(run(receivables=two_receivables(amount=D("300000.00"))), "R3") == "ok"
    over = run(receivables=two_receivables(amount=D("300000.01")))
    assert level(over, "R3") == "fail"
    assert "¥300,000.01" in check(over, "R3").reason_zh and "¥300,000.00" in check(over, "R3").reason_zh


def test_r3_largest_monthly_inflow_sums_the_month():
    rows = only_a_pays_in([4, 4, 4, 8])  # 150,000 in April (3 payments), 50,000 in August
    assert level(run([rows], receivables=two_receivables(amount=D("450000.00"))), "R3") == "ok"
    assert level(run([rows], receivables=two_receivables(amount=D("450000.01"))), "R3") == "fail"


def test_r3_no_history_is_weak():
    report = run([only_a_pays_in([])])
    assert level(report, "R3") == "weak"
    assert check(report, "R3").value == "¥100,000.00; no history"


# ---- R4 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("age, expected", [(0, "ok"), (90, "ok"), (91, "weak"), (180, "weak"), (181, "fail")])
def test_r4_age_boundaries(age, expected):
    report = run(receivables=two_receivables(issue_date=AS_OF - timedelta(days=age),
                                             due_date=AS_OF + timedelta(days=30)))
    assert level(report, "R4") == expected
    assert check(report, "R4").value.startswith(f"age {age} days")


def test_r4_due_on_the_as_of_date_is_not_past_due_a_day_earlier_is():
    assert level(run(receivables=two_receivables(due_date=AS_OF)), "R4") == "ok"
    past = run(receivables=two_receivables(due_date=AS_OF - timedelta(days=1)))
    assert level(past, "R4") == "fail"
    assert "逾期1天" in check(past, "R4").reason_zh


def test_r4_a_young_receivable_past_due_fails():
    report = run(receivables=two_receivables(issue_date=AS_OF - timedelta(days=10),
                                             due_date=AS_OF - timedelta(days=3)))
    assert level(report, "R4") == "fail"


# ---- R5 ------------------------------------------------------------------------------------------


def test_r5_same_debtor_and_invoice_twice_in_the_list_fails_both():
    items = [receivable(line=2), receivable(invoice_no="INV-B", debtor_name=DEBTOR_B,
                                            debtor_uscc=USCC_B, line=3),
             receivable(invoice_no=" inv-a ", line=4)]
    report = run(receivables=items)
    assert [level(report, "R5", i) for i in range(3)] == ["fail", "ok", "fail"]
    assert "第4行" in check(report, "R5", 0).reason_zh
    assert "line(s) 2" in check(report, "R5", 2).reason_en


def test_r5_same_invoice_of_another_debtor_is_fine():
    items = [receivable(), receivable(debtor_name=DEBTOR_B, debtor_uscc=USCC_B)]
    report = run(receivables=items)
    assert level(report, "R5", 0) == level(report, "R5", 1) == "ok"


def test_r5_pledged_in_another_active_request_by_code_or_by_name():
    by_code = run(other_active_pledges={(USCC_A, "INV-A")})
    assert level(by_code, "R5") == "fail" and level(by_code, "R5", 1) == "ok"
    assert "其他有效申请" in check(by_code, "R5").reason_zh
    by_name = run(other_active_pledges={("上海甲方(集团)有限公司", "ｉｎｖ－Ａ")})
    assert level(by_name, "R5") == "fail"
    assert level(run(other_active_pledges={(USCC_B, "INV-A")}), "R5") == "ok"


# ---- R6 ------------------------------------------------------------------------------------------


def test_r6_related_party_by_code_or_name():
    same_code = run(receivables=two_receivables(debtor_uscc=ENTERPRISE.uscc))
    assert level(same_code, "R6") == "fail"
    same_name = run(receivables=two_receivables(debtor_name="苏州示例制造 有限公司"))
    assert level(same_name, "R6") == "fail"
    assert level(run(), "R6") == "ok"


# ---- grades --------------------------------------------------------------------------------------


def test_grades():
    assert run().receivables[0].grade == "优"
    assert run(receivables=two_receivables(confirmation="pending")).receivables[0].grade == "良"
    assert run(receivables=two_receivables(confirmation="disputed")).receivables[0].grade == "差"


# ---- H0 ------------------------------------------------------------------------------------------


def test_h0_six_months_ok_five_fail():
    six = run([steady(months_of_2025(6, start=7))])
    assert level(six, "H0") == "ok"
    five = run([steady(months_of_2025(5, start=8))])
    assert level(five, "H0") == "fail"
    assert check(five, "H0").value == "5 of 12 months"
    assert five.classification == "poor"
    assert any("请补充至少6个月" in reason for reason in five.reasons_zh)


def test_h0_a_quiet_month_inside_a_statement_period_is_covered():
    rows = [t for t in steady() if t.date.month not in (3, 4, 5, 6, 7, 8)]
    report = run([rows])
    assert check(report, "H0").value == "12 of 12 months"
    assert check(report, "H1").value == "6 of 12 months"


def test_h0_counts_statements_together():
    first, second = steady(months_of_2025(3)), steady(months_of_2025(3, start=10))
    assert check(run([first, second]), "H0").value == "6 of 12 months"


# ---- H1 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("months, expected", [(12, "ok"), (10, "ok"), (9, "weak"), (6, "weak"), (5, "fail")])
def test_h1_months_with_inflow(months, expected):
    rows = steady(months_of_2025(months))
    rows.append(tx(date(2025, 12, 28), -1, "银行", 100))  # keep all 12 months covered
    report = run([rows])
    assert check(report, "H0").value == "12 of 12 months"
    assert level(report, "H1") == expected
    assert check(report, "H1").value == f"{months} of 12 months"


# ---- H2 ------------------------------------------------------------------------------------------


def monthly_inflows(values) -> list[Transaction]:
    return [tx(date(2025, m, 15), v, "客户丙", 1_000_000) for m, v in enumerate(values, start=1)]


def test_h2_cv_of_exactly_one_half_is_ok():
    report = run([monthly_inflows([150_000, 50_000] * 6)], amount="100000")
    assert level(report, "H2") == "ok"
    assert check(report, "H2").value.startswith("CV 0.50 ")


def test_h2_cv_of_0_51_is_weak():
    report = run([monthly_inflows([151_000, 49_000] * 6)], amount="100000")
    assert level(report, "H2") == "weak"
    assert check(report, "H2").value.startswith("CV 0.51 ")
    assert "超过0.5" in check(report, "H2").reason_zh


def test_h2_a_hair_above_one_half_is_weak_and_shown_above():
    report = run([monthly_inflows(["150000.01", "49999.99"] * 6)], amount="100000")
    assert level(report, "H2") == "weak"
    assert check(report, "H2").value.startswith("CV 0.5001 ")


def test_h2_uses_the_covered_months_only():
    report = run([steady(months_of_2025(6, start=7))])
    assert level(report, "H2") == "ok"
    assert "6 months" in check(report, "H2").value


def test_h2_no_inflow_is_weak():
    rows = [tx(day, -100, "供应商", 1000) for day in months_of_2025()]
    report = run([rows])
    assert level(report, "H2") == "weak"
    assert level(report, "H4") == "fail"  # and nothing to support the request


# ---- H3 ------------------------------------------------------------------------------------------


def with_negative_days(count: int) -> list[Transaction]:
    """Steady flows, and `count` days in November closing below zero (one a day, recovering)."""
    rows = [t for t in steady() if t.date.month != 11]
    start = date(2025, 11, 1)
    rows.append(tx(start, 100_000, DEBTOR_A, 10))
    for i in range(count):
        rows.append(tx(start + timedelta(days=1 + i), -1, "银行", -5))
    rows.append(tx(start + timedelta(days=1 + count), 100_000, DEBTOR_B, 99_995))
    return sorted(rows, key=lambda t: t.date)


@pytest.mark.parametrize("days, expected", [(0, "ok"), (1, "weak"), (5, "weak"), (6, "fail")])
def test_h3_negative_days(days, expected):
    report = run([with_negative_days(days)])
    assert level(report, "H3") == expected
    assert check(report, "H3").value.startswith(f"{days} days")


def test_h3_a_negative_close_carries_over_days_without_transactions():
    rows = [t for t in steady() if t.date.month != 6]
    rows += [tx(date(2025, 6, 1), -600_000, "供应商", -100_000),  # negative from June 1 ...
             tx(date(2025, 6, 4), 300_000, DEBTOR_A, 200_000)]  # ... until June 4
    report = run([sorted(rows, key=lambda t: t.date)])
    assert report.metrics["negative_balance_days"] == ["2025-06-01", "2025-06-02", "2025-06-03"]
    assert level(report, "H3") == "weak"


def test_h3_reads_the_last_transaction_of_the_day_in_the_file_order():
    day = date(2025, 6, 1)
    dipping = [tx(day, -50, "供应商", -20), tx(day, 100, DEBTOR_A, 80)]  # ends the day positive
    rows = sorted(steady(), key=lambda t: t.date)
    assert level(run([rows[:15] + dipping + rows[15:]]), "H3") == "ok"
    newest_first = list(reversed(rows[:15] + dipping + rows[15:]))  # the day's last row comes first
    assert level(run([newest_first]), "H3") == "ok"
    ending_negative = [tx(day, 100, DEBTOR_A, 30), tx(day, -50, "供应商", -20)]
    report = run([rows[:15] + ending_negative + rows[15:]])
    # negative from the close of June 1 until the next transaction, on June 10
    assert report.metrics["negative_balance_days"] == [f"2025-06-{d:02d}" for d in range(1, 10)]
    assert level(report, "H3") == "fail"


def test_h3_without_balances_is_weak_and_says_so():
    rows = [replace(t, balance=None) for t in steady()]
    report = run([rows])
    assert level(report, "H3") == "weak"
    assert check(report, "H3").value == "no balances"
    assert any("余额列" in reason for reason in report.reasons_zh)


def test_h3_any_account_negative_counts_the_day_once():
    account_1 = Statement(transactions=with_negative_days(2), account_no="A1")
    account_2 = Statement(transactions=with_negative_days(2), account_no="A2")
    report = run([account_1, account_2])
    assert check(report, "H3").value.startswith("2 days")


# ---- H4 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount, expected", [
    ("1200000.00", "ok"),  # 0.5 of the 2,400,000 inflow
    ("1200000.01", "weak"),
    ("2400000.00", "weak"),  # 1.0
    ("2400000.01", "fail"),
])
def test_h4_requested_over_inflow(amount, expected):
    report = run(amount=amount)
    assert level(report, "H4") == expected


def test_h4_weak_and_fail_advise_the_amount_that_would_do():
    report = run(amount="2000000")
    assert any("请将申请金额降至¥1,200,000.00以内" in r for r in report.reasons_zh)
    assert any("at most ¥1,200,000.00" in r for r in report.reasons_en)


def test_transfers_from_the_enterprise_itself_are_not_inflow():
    rows = steady() + [tx(date(2025, 5, 20), 5_000_000, "苏州示例制造 有限公司")]
    report = run([rows])
    assert report.metrics["inflow_total"] == "2400000.00"
    assert report.metrics["months"][4]["own_transfers_in"] == "5000000.00"


# ---- H5 ------------------------------------------------------------------------------------------


def test_h5_half_is_ok_above_is_weak():
    assert level(run(), "H5") == "ok"  # 100,000 each
    report = run(receivables=two_receivables(amount=D("100000.02")))
    assert level(report, "H5") == "weak"
    assert "上海甲方（集团）有限公司" in check(report, "H5").value


def test_h5_groups_a_debtor_by_its_code():
    items = [receivable(), receivable(invoice_no="INV-A2", debtor_name="上海甲方(集团)有限公司"),
             receivable(invoice_no="INV-B", debtor_name=DEBTOR_B, debtor_uscc=USCC_B)]
    report = run(receivables=items)
    assert level(report, "H5") == "weak"
    assert check(report, "H5").value.startswith("¥200,000.00 / ¥300,000.00 = 0.6667")


# ---- the class -----------------------------------------------------------------------------------


def test_excellent_allows_one_weak_health_check():
    report = run(receivables=two_receivables(amount=D("150000.00")))  # H5 weak only
    assert [c.code for c in report.health if c.level == "weak"] == ["H5"]
    assert report.classification == "excellent"


def test_two_weak_health_checks_make_mixed():
    report = run(receivables=two_receivables(amount=D("150000.00")), amount="1500000")  # H5, H4
    assert sorted(c.code for c in report.health if c.level == "weak") == ["H4", "H5"]
    assert report.classification == "mixed"
    assert "现金流需关注2项，超过1项" in report.reasons_zh[0]


def test_one_receivable_not_best_makes_mixed():
    report = run(receivables=two_receivables(confirmation="pending"))
    assert report.classification == "mixed"
    assert any("请联系债务人“上海甲方（集团）有限公司”确认发票INV-A" in r for r in report.reasons_zh)


def test_any_failed_health_check_makes_poor():
    report = run(amount="2400000.01")
    assert report.classification == "poor"
    assert "H4" in report.reasons_zh[0] and "H4" in report.reasons_en[0]


def test_poor_when_bad_receivables_exceed_half_the_pledged_amount():
    items = [receivable(confirmation="disputed", amount=D("100000.01")),
             receivable(invoice_no="INV-B", debtor_name=DEBTOR_B, debtor_uscc=USCC_B)]
    report = run(receivables=items)
    assert [r.grade for r in report.receivables] == ["差", "优"]
    assert report.classification == "poor"
    assert "评级为差的应收账款金额超过质押总额的50.0%" in report.reasons_zh[0]


def test_bad_receivables_of_exactly_half_are_not_poor():
    report = run(receivables=two_receivables(confirmation="disputed"))
    assert [r.grade for r in report.receivables] == ["差", "优"]
    assert report.classification == "mixed"


def test_reasons_list_failures_before_weaknesses():
    items = [receivable(confirmation="pending"),
             receivable(invoice_no="INV-B", debtor_name=DEBTOR_B, debtor_uscc=USCC_B,
                        due_date=AS_OF - timedelta(days=5))]
    report = run(receivables=items)
    assert report.reasons_zh[1].startswith("发票INV-B") and "逾期" in report.reasons_zh[1]
    assert report.reasons_zh[2].startswith("发票INV-A") and "待债务人确认" in report.reasons_zh[2]
    assert len(report.reasons_zh) == len(report.reasons_en)


# ---- statements given twice ----------------------------------------------------------------------


def test_the_same_statement_twice_counts_once():
    once, twice = run([steady()]), run([steady(), steady()])
    assert twice.to_dict()["health"] == once.to_dict()["health"]
    assert twice.metrics["statements"]["duplicates_ignored"] == 1


def test_overlapping_statements_of_one_account_are_merged():
    rows = sorted(steady(), key=lambda t: t.date)
    first = Statement(transactions=rows[:24], account_no="6222 0000")  # Jan-Aug
    second = Statement(transactions=rows[12:], account_no="62220000")  # May-Dec
    report = run([first, second])
    assert report.metrics["inflow_total"] == "2400000.00"
    assert report.metrics["duplicate_transactions_ignored"] == 12


def test_repeats_within_one_statement_are_kept():
    rows = steady() + [tx(date(2025, 3, 10), 100_000, DEBTOR_A, 500_000)]  # the same row twice
    assert run([rows]).metrics["inflow_total"] == "2500000.00"


def test_a_flat_list_of_transactions_is_one_statement():
    assert run(steady()).to_dict()["health"] == run([steady()]).to_dict()["health"]


# ---- inputs and outputs --------------------------------------------------------------------------


def test_receivable_rows_of_the_import_file_are_accepted():
    row = ReceivableRow(line=2, debtor_name=DEBTOR_A, debtor_uscc=USCC_A, invoice_no="INV-A",
                        contract_no="HT-1", amount=D("100000.00"), issue_date=AS_OF - timedelta(days=30),
                        due_date=AS_OF + timedelta(days=60), confirmation="confirmed")
    report = run(receivables=[row, two_receivables()[1]])
    assert report.receivables[0].receivable.line == 2
    assert report.to_dict()["receivables"][0]["contract_no"] == "HT-1"


def test_to_dict_is_json_ready_with_money_as_strings():
    report = run(statement_sha256s=["ab" * 32], receivables_sha256="cd" * 32)
    data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert data["classification"] == "excellent"
    assert data["requested_amount"] == "200000.00"
    assert data["receivables"][0]["amount"] == "100000.00"
    assert data["receivables"][0]["grade"] == "优"
    assert data["inputs"] == {"statement_sha256s": ["ab" * 32], "receivables_sha256": "cd" * 32}
    assert set(data["health"][0]) == {"code", "level", "value", "reason_zh", "reason_en"}
    month = data["metrics"]["months"][0]
    assert month == {"month": "2025-01", "covered": True, "inflow": "200000.00", "outflow": "100000.00",
                     "own_transfers_in": "0.00", "closing_balance": "500000.00", "transactions": 3}
    with pytest.raises(FrozenInstanceError):
        report.classification = "poor"


@pytest.mark.parametrize("change, message", [
    (dict(receivables=[]), "没有质押的应收账款"),
    (dict(amount="0"), "申请金额应为大于0的金额"),
    (dict(receivables=two_receivables(issue_date=AS_OF + timedelta(days=1))), "晚于核验日期"),
    (dict(receivables=two_receivables(confirmation="maybe")), "确认状态“maybe”无法识别"),
])
def test_bad_inputs_are_refused_with_a_sentence(change, message):
    with pytest.raises(VerificationInputError) as caught:
        run(**change)
    assert any(message in problem for problem in caught.value.problems)


def test_ratio_text_rounds_up_at_four_decimals():
    assert ratio_text(Fraction(1, 2)) == "0.50"
    assert ratio_text(Fraction(1, 3)) == "0.3334"
    assert ratio_text(Fraction(500001, 1000000)) == "0.5001"
    assert ratio_text(Fraction(2)) == "2.00"


# ---- the policy as configuration -----------------------------------------------------------------


def test_default_policy_is_the_design_table():
    t = DEFAULT_POLICY.thresholds
    assert DEFAULT_POLICY.version == "2026.1"
    assert (t.lookback_months, t.r2_ok_months, t.r3_multiple, t.r4_ok_days, t.r4_weak_days) == (
        12, 3, D("3"), 90, 180)
    assert (t.h0_min_months, t.h1_ok_months, t.h1_weak_months, t.h2_max_cv) == (6, 10, 6, D("0.5"))
    assert (t.h3_ok_days, t.h3_weak_days, t.h4_ok_ratio, t.h4_weak_ratio) == (0, 5, D("0.5"), D("1.0"))
    assert (t.h5_max_share, t.poor_share, t.excellent_max_weak_h) == (D("0.5"), D("0.5"), 1)
    assert t.validate() == [] and DEFAULT_POLICY.validate() == []
    assert json.loads(json.dumps(DEFAULT_POLICY.as_dict()))["thresholds"]["h2_max_cv"] == "0.5"


@pytest.mark.parametrize("change, fragment", [
    (dict(r4_ok_days=-1), "R4 正常账龄上限（天）应在0到3650之间"),
    (dict(r4_weak_days=60), "应不小于R4 正常账龄上限（天）（90）"),
    (dict(h1_weak_months=11), "不能大于H1 正常所需有收入月数"),
    (dict(h1_ok_months=13), "应在1到回看月数12之间"),
    (dict(h3_weak_days=-1), "H3 关注允许的负余额天数（-1）应不小于"),
    (dict(h4_ok_ratio=D("1.5")), "H4 关注的申请金额/年收入比例上限（1.0）应不小于"),
    (dict(h4_ok_ratio=D("0")), "应大于0"),
    (dict(h5_max_share=D("1.2")), "H5 最大债务人占比上限应大于0且不超过1"),
    (dict(poor_share=D("-0.1")), "应不小于0且小于1"),
    (dict(h2_max_cv=D("-0.5")), "H2 月收入变异系数上限应大于0"),
    (dict(r3_multiple=D("0")), "R3"),
    (dict(excellent_max_weak_h=7), "优质允许的H项关注数应在0到6之间"),
    (dict(lookback_months=0), "回看月数应在1到36之间"),
    (dict(h0_min_months=2.5), "应为整数"),
    (dict(h2_max_cv=0.5), "应为数字"),  # a float is refused: thresholds are exact
    (dict(h2_max_cv=D("NaN")), "应为数字"),
])
def test_thresholds_validate_refuses_out_of_range(change, fragment):
    problems = replace(Thresholds(), **change).validate()
    assert problems and any(fragment in p for p in problems), problems


def test_whole_numbers_are_fine_for_ratio_thresholds():
    assert replace(Thresholds(), r3_multiple=4, h4_weak_ratio=1).validate() == []


def test_verify_refuses_an_invalid_policy():
    policy = Policy("bad", date(2026, 1, 1), replace(Thresholds(), r4_weak_days=10))
    with pytest.raises(VerificationInputError):
        run(policy=policy)


def test_thresholds_from_dict():
    t = Thresholds.from_dict({"r2_ok_months": "2", "h2_max_cv": "0.6", "h4_weak_ratio": 1.2})
    assert (t.r2_ok_months, t.h2_max_cv, t.h4_weak_ratio) == (2, D("0.6"), D("1.2"))
    assert Thresholds.from_dict(Thresholds().as_dict()) == Thresholds()
    with pytest.raises(PolicyError) as caught:
        Thresholds.from_dict({"h9": 1, "r4_ok_days": "abc", "h5_max_share": "2"})
    assert "未知的阈值“h9”" in caught.value.problems
    with pytest.raises(PolicyError) as caught:
        Thresholds.from_dict({"h5_max_share": "2"})
    assert "H5 最大债务人占比上限应大于0且不超过1，实际为2" in caught.value.problems


def test_the_report_carries_the_policy_it_used():
    policy = Policy("2026.2", date(2026, 6, 1), replace(Thresholds(), r2_ok_months=2))
    report = run([only_a_pays_in([1, 5])], policy=policy)
    assert level(report, "R2") == "ok"
    assert report.policy_version == "2026.2"
    assert report.to_dict()["thresholds"]["r2_ok_months"] == 2


def test_policy_in_effect_picks_the_latest_effective_on_the_day():
    later = Policy("2026.2", date(2026, 6, 1))
    assert policy_in_effect([DEFAULT_POLICY, later], date(2026, 5, 31)) is DEFAULT_POLICY
    assert policy_in_effect([DEFAULT_POLICY, later], date(2026, 6, 1)) is later
    assert policy_in_effect([later], date(2026, 1, 1)) is DEFAULT_POLICY
