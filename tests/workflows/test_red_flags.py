"""Cash-flow red flags (issue 11 item 7): each flag fires on a constructed case with the right
numbers and stays silent on clean statements; own and related money is not a debtor's payment;
the policy setting decides whether a flag lowers the class. Pure: transactions built directly."""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from marketplace import demo_statements
from workflows.verification.checks_cashflow import OwnAccounts, account_key
from workflows.verification.model import Statement, Transaction
from workflows.verification.policy import (
    DEFAULT_POLICY,
    EnterpriseInput,
    Policy,
    PolicyError,
    ReceivableInput,
    Thresholds,
    verify,
)
from workflows.verification.red_flags import related_reason

D = Decimal
AS_OF = date(2026, 1, 1)  # the window is 2025-01 .. 2025-12
ENTERPRISE = EnterpriseInput("苏州示例制造有限公司", "91320500MA1K00003D")
DEBTOR_A = "上海甲方（集团）有限公司"
DEBTOR_B = "无锡乙方贸易有限公司"
OWN_ACCOUNT = "6222 0000 1111 2222"
OTHER_OWN_ACCOUNT = "3205 0000 9999 8888"


def tx(day: date, amount, counterparty: str = "", account: str = "", balance=None) -> Transaction:
    return Transaction(line=0, date=day, amount=D(str(amount)), counterparty=counterparty,
                       counterparty_account=account, balance=None if balance is None else D(str(balance)))


def steady(per_debtor=100_000) -> list[Transaction]:
    """Both debtors pay every month of 2025, a supplier is paid two days later."""
    rows = []
    for month in range(1, 13):
        day = date(2025, month, 10)
        rows += [tx(day, per_debtor, DEBTOR_A, "31001", 500_000),
                 tx(day + timedelta(days=1), per_debtor, DEBTOR_B, "32002", 600_000),
                 tx(day + timedelta(days=2), -per_debtor, "苏州供应商有限公司", "32003", 500_000)]
    return rows


def receivables() -> list[ReceivableInput]:
    common = dict(amount=D("100000.00"), issue_date=AS_OF - timedelta(days=30),
                  due_date=AS_OF + timedelta(days=60), confirmation="confirmed")
    return [ReceivableInput(invoice_no="INV-A", debtor_name=DEBTOR_A, debtor_uscc="91310000MA1K000019", **common),
            ReceivableInput(invoice_no="INV-B", debtor_name=DEBTOR_B, debtor_uscc="91320200MA1K00002T", **common)]


def statement(rows, account_no=OWN_ACCOUNT) -> Statement:
    return Statement(transactions=list(rows), account_no=account_no)


def run(statements, policy=DEFAULT_POLICY, enterprise=ENTERPRISE, items=None, amount="200000"):
    return verify(enterprise=enterprise, receivables=items or receivables(), statements=statements,
                  requested_amount=D(amount), as_of=AS_OF, policy=policy)


def flags(report, code):
    return [f for f in report.red_flags if f.code == code]


def with_thresholds(**values) -> Policy:
    return Policy("test", date(2025, 1, 1), replace(Thresholds(), **values))


# ---- the clean cases -------------------------------------------------------------------------------


def test_clean_steady_statements_raise_no_flag_and_the_report_says_so():
    report = run([statement(steady())])
    assert report.classification == "excellent"
    assert report.red_flags == ()
    payload = report.to_dict()
    assert payload["red_flags"] == []
    assert payload["thresholds"]["red_flags_affect_class"] is False
    assert not any("红旗" in reason for reason in report.reasons_zh)


@pytest.mark.parametrize("seed", range(12))
def test_demo_like_statements_raise_no_flag(seed):
    """The demo generator's years (company and personal-card accounts, the overdraft loan) are clean."""
    rng = random.Random(seed)
    profiles = ("regular", "irregular", "few", "regular")
    payers = [(DEBTOR_A, profiles[seed % 4]), (DEBTOR_B, "regular")]
    rows = demo_statements.transactions(rng, demo_statements.month_starts(date(2025, 12, 1)), payers,
                                        scale=(300_000, 1_200_000, 6_000_000)[seed % 3], overdraft=seed % 5 == 0,
                                        profile=("company", "personal")[seed % 2])
    transactions = [Transaction(n, r.moment.date(), r.amount, r.balance, r.party, r.party_account, r.summary)
                    for n, r in enumerate(rows, 1)]
    report = run([statement(transactions)])
    assert report.red_flags == ()


# ---- F1 round-tripping ------------------------------------------------------------------------------


def test_money_paid_to_a_debtor_and_back_within_days_is_a_round_trip():
    rows = steady() + [tx(date(2025, 6, 3), -300_000, DEBTOR_A), tx(date(2025, 6, 8), "290000.00", DEBTOR_A)]
    report = run([statement(rows)])
    (flag,) = flags(report, "F1")
    assert flag.level == "high"
    numbers = flag.numbers
    assert (numbers["debtor"], numbers["pairs"], numbers["out_total"], numbers["in_total"]) == (
        DEBTOR_A, 1, "300000.00", "290000.00")
    assert numbers["examples"] == [{"first_date": "2025-06-03", "first_amount": "-300000.00",
                                    "second_date": "2025-06-08", "second_amount": "290000.00"}]
    assert "¥300,000.00" in flag.reason_zh and "¥290,000.00" in flag.reason_zh and "7天" in flag.reason_zh
    assert DEBTOR_A in flag.reason_en and "round trip" in flag.reason_en


def test_money_in_from_a_debtor_and_straight_back_out_is_a_round_trip_too():
    rows = steady() + [tx(date(2025, 9, 20), 500_000, DEBTOR_B), tx(date(2025, 9, 20), -500_000, DEBTOR_B),
                       tx(date(2025, 9, 22), 200_000, DEBTOR_B), tx(date(2025, 9, 26), -195_000, DEBTOR_B)]
    (flag,) = flags(run([statement(rows)]), "F1")
    assert flag.numbers["pairs"] == 2
    assert flag.numbers["in_total"] == "700000.00" and flag.numbers["out_total"] == "695000.00"


@pytest.mark.parametrize("second", [
    tx(date(2025, 6, 11), 300_000, DEBTOR_A),  # 8 days later: outside the 7-day window
    tx(date(2025, 6, 5), 280_000, DEBTOR_A),  # 6.7% apart: outside the 5% tolerance
    tx(date(2025, 6, 5), 300_000, "某无关公司"),  # not a debtor
])
def test_no_round_trip_outside_the_window_the_tolerance_or_the_debtors(second):
    rows = steady() + [tx(date(2025, 6, 3), -300_000, DEBTOR_A), second]
    assert flags(run([statement(rows)]), "F1") == []


def test_round_trip_limits_come_from_the_policy():
    rows = steady() + [tx(date(2025, 6, 3), -300_000, DEBTOR_A), tx(date(2025, 6, 13), 300_000, DEBTOR_A)]
    assert flags(run([statement(rows)]), "F1") == []
    (flag,) = flags(run([statement(rows)], with_thresholds(round_trip_days=10)), "F1")
    assert flag.numbers["days"] == 10
    small = steady() + [tx(date(2025, 6, 3), -9_000, DEBTOR_A), tx(date(2025, 6, 4), 9_000, DEBTOR_A)]
    assert flags(run([statement(small)]), "F1") == []  # below red_flag_min_amount (10,000)
    assert flags(run([statement(small)], with_thresholds(red_flag_min_amount=D("5000"))), "F1")


def test_each_transaction_belongs_to_one_round_trip_at_most():
    rows = steady() + [tx(date(2025, 6, 3), -300_000, DEBTOR_A), tx(date(2025, 6, 4), 300_000, DEBTOR_A),
                       tx(date(2025, 6, 5), 300_000, DEBTOR_A)]
    (flag,) = flags(run([statement(rows)]), "F1")
    assert flag.numbers["pairs"] == 1


# ---- F2 own and related money as a debtor's payment -------------------------------------------------


def test_a_debtor_named_credit_from_an_own_account_is_flagged_and_not_counted_for_r2_r3():
    """Money moved from the enterprise's other account, labelled with the debtor's name."""
    only_b = [r for r in steady() if r.counterparty != DEBTOR_A]
    dressed = [tx(date(2025, m, 15), 150_000, DEBTOR_A, "3205-0000-9999-8888") for m in (3, 6, 9, 11)]
    other_account = statement([tx(date(2025, m, 14), -150_000, "供应商", "1") for m in (3, 6, 9, 11)]
                              + [tx(date(2025, 1, 2), 1_000_000, "客户", "2")], OTHER_OWN_ACCOUNT)
    report = run([statement(only_b + dressed), other_account])
    (flag,) = flags(report, "F2")
    assert flag.level == "high"
    assert flag.numbers == {"debtor": DEBTOR_A, "cause": "own_account", "count": 4, "amount": "600000.00",
                            "months": ["2025-03", "2025-06", "2025-09", "2025-11"],
                            "accounts": ["3205-0000-9999-8888"]}
    assert "自身的流水账户" in flag.reason_zh and "R2、R3不计入" in flag.reason_zh
    r2 = next(c for c in report.receivables[0].checks if c.code == "R2")
    assert (r2.level, r2.value) == ("weak", "0 of 12 months")
    # an own transfer is not inflow either
    assert report.metrics["months"][2]["own_transfers_in"] == "150000.00"


def test_without_the_other_statement_the_same_credits_count_as_the_debtors():
    only_b = [r for r in steady() if r.counterparty != DEBTOR_A]
    dressed = [tx(date(2025, m, 15), 150_000, DEBTOR_A, "3205-0000-9999-8888") for m in (3, 6, 9, 11)]
    report = run([statement(only_b + dressed)])
    assert flags(report, "F2") == []
    assert next(c for c in report.receivables[0].checks if c.code == "R2").level == "ok"


def test_a_related_partys_payments_are_flagged_and_not_counted():
    boss = "王建国"
    enterprise = replace(ENTERPRISE, related_parties=(boss,))
    items = [replace(receivables()[0], debtor_name=boss, debtor_uscc=""), receivables()[1]]
    rows = steady() + [tx(date(2025, m, 12), 80_000, boss) for m in range(1, 13)]
    report = run([statement(rows)], enterprise=enterprise, items=items)
    (flag,) = flags(report, "F2")
    assert (flag.numbers["cause"], flag.numbers["count"], flag.numbers["amount"]) == ("related_party", 12, "960000.00")
    assert "关联方" in flag.reason_zh
    checks = {c.code: c for c in report.receivables[0].checks}
    assert checks["R2"].value == "0 of 12 months" and checks["R3"].level == "weak"
    # the other debtor's payments still count
    assert next(c for c in report.receivables[1].checks if c.code == "R2").level == "ok"


def test_a_debtor_with_the_enterprises_own_code_is_related():
    assert related_reason(DEBTOR_A, "91320500MA1K00003D", ENTERPRISE.name, ENTERPRISE.uscc) == "same_code"
    assert related_reason("苏州示例制造 有限公司", "", ENTERPRISE.name, ENTERPRISE.uscc) == "same_name"
    assert related_reason("王建国", "", ENTERPRISE.name, ENTERPRISE.uscc, ["王建国"]) == "related_party"
    assert related_reason(DEBTOR_A, "", ENTERPRISE.name, "", ["", " "]) == ""


def test_own_account_numbers_match_after_folding_and_never_when_masked():
    own = OwnAccounts(["6222 0000 1111 2222", "-", "12", "3205****8888"])
    assert "6222000011112222" in own and "６２２２－００００－１１１１－２２２２" in own
    assert "6222000011112223" not in own and "" not in own and "-" not in own and "12" not in own
    assert "6222****2222" not in own and "6222＊＊＊＊2222" not in own
    assert "3205000099998888" not in own  # masked: too little to be sure
    assert account_key(" 6222-0000 ") == "62220000"


# ---- F3 same-day equal in and out -------------------------------------------------------------------


def pass_through(days: int, amount=50_000) -> list[Transaction]:
    rows = []
    for n in range(days):
        day = date(2025, 4, 1) + timedelta(days=n)
        rows += [tx(day, amount, "甲客户", "111"), tx(day, -amount, "乙公司", "222")]
    return rows


def test_many_same_day_equal_ins_and_outs_are_flagged():
    report = run([statement(steady() + pass_through(5) + [tx(date(2025, 4, 1), 50_000, "丙", "3")])])
    (flag,) = flags(report, "F3")
    assert flag.level == "medium"
    assert {k: flag.numbers[k] for k in ("pairs", "days", "amount", "min_pairs")} == {
        "pairs": 5, "days": 5, "amount": "250000.00", "min_pairs": 5}
    assert len(flag.numbers["examples"]) == 3 and flag.numbers["examples"][0]["date"] == "2025-04-01"
    assert "5组同日等额" in flag.reason_zh and "¥250,000.00" in flag.reason_zh


def test_fewer_pairs_small_amounts_and_own_transfers_are_not_flagged():
    assert flags(run([statement(steady() + pass_through(4))]), "F3") == []
    assert flags(run([statement(steady() + pass_through(8, amount=9_999))]), "F3") == []
    sweeps = []
    for n in range(8):  # money swept in from the own other account and paid on, the same day
        day = date(2025, 5, 1) + timedelta(days=n)
        sweeps += [tx(day, 70_000, ENTERPRISE.name, "9"), tx(day, -70_000, "供应商", "8"),
                   tx(day, 40_000, "某人", OTHER_OWN_ACCOUNT), tx(day, -40_000, "供应商", "8")]
    other = statement([tx(date(2025, 5, 1), -1, "x", "1")], OTHER_OWN_ACCOUNT)
    assert flags(run([statement(steady() + sweeps), other]), "F3") == []


# ---- F4 burst before as-of --------------------------------------------------------------------------


def test_a_burst_of_inflows_in_the_last_thirty_days_is_flagged():
    rows = steady() + [tx(date(2025, 12, 28), 1_000_000, "新客户有限公司", "77")]
    report = run([statement(rows)])
    (flag,) = flags(report, "F4")
    assert flag.level == "medium"
    n = flag.numbers
    # the last 30 days of data end on the last transaction (2025-12-28): 200,000 + 1,000,000
    assert (n["period_start"], n["period_end"], n["inflow"], n["median"], n["ratio"], n["periods"]) == (
        "2025-11-29", "2025-12-28", "1200000.00", "200000.00", "6.00", 11)
    assert "¥1,200,000.00" in flag.reason_zh and "为其6.00倍，超过4倍" in flag.reason_zh
    assert "6.00 times that, above 4 times" in flag.reason_en


def test_no_burst_below_the_multiple_or_without_history():
    rows = steady() + [tx(date(2025, 12, 28), 500_000, "新客户有限公司", "77")]  # 700,000: 3.5 x
    assert flags(run([statement(rows)]), "F4") == []
    assert flags(run([statement(rows)], with_thresholds(burst_multiple=D("3"))), "F4")
    short = [r for r in steady() if r.date.month >= 11] + [tx(date(2025, 12, 28), 5_000_000, "新客户", "7")]
    assert flags(run([statement(short)]), "F4") == []  # two earlier periods only: not judged


def test_burst_from_nothing_is_flagged_with_an_undefined_ratio():
    quiet = [tx(date(2025, m, 5), -1_000, "电费", "5") for m in range(1, 13)]
    rows = quiet + [tx(date(2025, 12, 20), 800_000, DEBTOR_A)]
    (flag,) = flags(run([statement(rows)]), "F4")
    assert (flag.numbers["median"], flag.numbers["ratio"]) == ("0.00", "∞")
    assert "近期流入从无到有" in flag.reason_zh and "none" in flag.reason_en


# ---- the class and the reasons -------------------------------------------------------------------------


def flagged_rows():
    return steady() + [tx(date(2025, 6, 3), -300_000, DEBTOR_A), tx(date(2025, 6, 8), 300_000, DEBTOR_A)]


def test_by_default_a_flag_leaves_the_class_alone_but_the_reasons_name_it():
    report = run([statement(flagged_rows())])
    assert report.classification == "excellent" and [f.code for f in report.red_flags] == ["F1"]
    assert "资金流向红旗1项（F1）" in report.reasons_zh[0] and "red flags: 1 (F1)" in report.reasons_en[0]
    assert any(r.startswith("红旗F1（资金回流）") and "合同" in r for r in report.reasons_zh)
    assert any(r.startswith("Red flag F1 (Round-tripping)") for r in report.reasons_en)


def test_with_the_setting_on_a_flag_turns_excellent_into_mixed():
    policy = with_thresholds(red_flags_affect_class=True)
    report = run([statement(flagged_rows())], policy)
    assert report.classification == "mixed"
    assert "出现资金流向红旗1项，按核验策略不能评为优质" in report.reasons_zh[0]
    assert "1 red flag, which the policy does not allow" in report.reasons_en[0]
    assert run([statement(steady())], policy).classification == "excellent"


def test_with_the_setting_on_mixed_and_poor_stay_as_they_are():
    policy = with_thresholds(red_flags_affect_class=True)
    poor = run([statement(flagged_rows())], policy, amount="5000000")  # H4 fails
    assert poor.classification == "poor" and poor.red_flags
    items = [replace(receivables()[0], confirmation="pending"), receivables()[1]]
    assert run([statement(flagged_rows())], policy, items=items).classification == "mixed"


def test_the_report_payload_is_json_with_every_flag():
    rows = flagged_rows() + pass_through(6) + [tx(date(2025, 12, 28), 2_000_000, "新客户", "7")]
    payload = run([statement(rows)]).to_dict()
    assert [f["code"] for f in payload["red_flags"]] == ["F1", "F3", "F4"]
    for flag in payload["red_flags"]:
        assert set(flag) == {"code", "level", "numbers", "reason_zh", "reason_en"}
    json.dumps(payload, ensure_ascii=False)
    assert payload["thresholds"]["round_trip_days"] == 7 and payload["thresholds"]["burst_multiple"] == "4"


# ---- the thresholds -----------------------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [("true", True), ("False", False), ("1", True), ("是", True),
                                           ("否", False), (True, True), ("", False)])
def test_the_class_setting_reads_yes_and_no(raw, expected):
    assert Thresholds.from_dict({"red_flags_affect_class": raw}).red_flags_affect_class is expected


def test_bad_flag_thresholds_are_refused_with_every_problem():
    with pytest.raises(PolicyError) as raised:
        Thresholds.from_dict({"red_flags_affect_class": "maybe", "round_trip_days": "0",
                              "round_trip_tolerance": "0.9", "burst_days": "3", "burst_multiple": "0.5",
                              "same_day_min_pairs": "0", "red_flag_min_amount": "-1"})
    assert raised.value.problems == ["红旗影响评级（出现红旗时优质降为一般）应为“是”或“否”，实际为“maybe”"]
    with pytest.raises(PolicyError) as raised:
        Thresholds.from_dict({"round_trip_days": "0", "round_trip_tolerance": "0.9", "burst_days": "3",
                              "burst_multiple": "0.5", "same_day_min_pairs": "0", "red_flag_min_amount": "-1"})
    text = "；".join(raised.value.problems)
    for label in ("F1 资金回流的间隔天数上限", "F1 资金回流的金额相差比例上限", "F4 近期天数",
                  "F4 近期流入与此前中位数的倍数上限", "F3 同日等额进出的提示组数", "红旗检查的最低金额"):
        assert label in text
    assert Thresholds(red_flags_affect_class=1).validate() == [  # type: ignore[arg-type]
        "红旗影响评级（出现红旗时优质降为一般）应为“是”或“否”，实际为“1”"]


# ---- size ---------------------------------------------------------------------------------------


def test_a_hundred_thousand_rows_are_checked_quickly():
    """Sorting and bucketing, not pairwise scans: 100,000 rows with many debtor trips, equal
    amounts and one busy counterparty stay well within a second or two."""
    rng = random.Random(3)
    rows = []
    for n in range(100_000):
        day = date(2025, 1, 1) + timedelta(days=n % 365)
        who = DEBTOR_A if n % 3 == 0 else f"客户{n % 500}"
        amount = D(rng.choice((20_000, 30_000, 50_000))) * (1 if rng.random() < 0.5 else -1)
        rows.append(tx(day, amount, who, str(n % 700)))
    started = time.perf_counter()
    report = run([statement(rows)])
    elapsed = time.perf_counter() - started
    assert {"F1", "F3"} <= {f.code for f in report.red_flags}
    assert elapsed < 10, elapsed


# ---- advice on the request page --------------------------------------------------------------------


def test_advice_names_what_to_show_for_each_kind_of_flag_and_old_payloads_have_none():
    from workflows.verification.advice import advice_for
    from workflows.verification.policy import FLAG_ADVICE

    rows = flagged_rows() + [tx(date(2025, 7, 3), -200_000, DEBTOR_B), tx(date(2025, 7, 4), 200_000, DEBTOR_B)]
    payload = run([statement(rows)], amount="5000000").to_dict()
    assert [f["code"] for f in payload["red_flags"]] == ["F1", "F1"]
    assert "资金流向红旗2项（F1）" in payload["reasons_zh"][0]  # one per debtor, each code named once
    advice = advice_for(payload, "zh")
    assert advice.count(FLAG_ADVICE["F1"][0]) == 1 and advice[-1] == FLAG_ADVICE["F1"][0]
    assert advice_for(payload, "en")[-1] == FLAG_ADVICE["F1"][1]
    old = {k: v for k, v in payload.items() if k != "red_flags"}
    assert FLAG_ADVICE["F1"][0] not in advice_for(old, "zh")
