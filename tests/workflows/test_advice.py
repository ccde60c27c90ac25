"""Advice on a verification report: one sentence per kind of problem, fails first, in zh or en.
Pure: reports come from the policy engine on plain transactions, or are written by hand."""

from datetime import date, timedelta
from decimal import Decimal

from workflows.verification.advice import ADVICE, advice_for
from workflows.verification.model import Transaction
from workflows.verification.policy import (
    HEALTH_CHECKS,
    RECEIVABLE_CHECKS,
    EnterpriseInput,
    ReceivableInput,
    verify,
)

AS_OF = date(2026, 1, 1)  # the window is 2025-01 .. 2025-12
ENTERPRISE = EnterpriseInput("苏州示例制造有限公司", "91320500MA1K00003D")
DEBTOR_A, USCC_A = "上海甲方（集团）有限公司", "91310000MA1K000019"
DEBTOR_B, USCC_B = "无锡乙方贸易有限公司", "91320200MA1K00002T"


def steady(months=12) -> list[Transaction]:
    """Both debtors pay 100,000 every month of 2025 (up to `months`); the balance stays positive."""
    rows = []
    for month in range(1, months + 1):
        day = date(2025, month, 10)
        rows.append(Transaction(0, day, Decimal(100_000), Decimal(600_000), DEBTOR_A))
        rows.append(Transaction(0, day + timedelta(days=1), Decimal(100_000), Decimal(700_000), DEBTOR_B))
    return rows


def receivable(**overrides) -> ReceivableInput:
    values = dict(invoice_no="INV-A", debtor_name=DEBTOR_A, debtor_uscc=USCC_A, amount=Decimal("100000.00"),
                  issue_date=AS_OF - timedelta(days=30), due_date=AS_OF + timedelta(days=60),
                  confirmation="confirmed")
    values.update(overrides)
    return ReceivableInput(**values)


def report(statements=None, receivables=None, amount="200000") -> dict:
    return verify(
        enterprise=ENTERPRISE,
        receivables=receivables or [receivable(), receivable(invoice_no="INV-B", debtor_name=DEBTOR_B,
                                                             debtor_uscc=USCC_B)],
        statements=[steady()] if statements is None else statements,
        requested_amount=Decimal(amount), as_of=AS_OF,
    ).to_dict()


def check(code: str, level: str, value: str = "") -> dict:
    return {"code": code, "level": level, "value": value, "reason_zh": "", "reason_en": ""}


def payload(health=(), receivables=(), **extra) -> dict:
    return {"health": list(health), "receivables": [{"checks": list(c)} for c in receivables],
            "thresholds": {"lookback_months": 12, "h0_min_months": 6, "h4_ok_ratio": "0.5"},
            "metrics": {"inflow_total": "2400000.00"}, **extra}


def test_a_clean_report_needs_no_advice():
    assert report()["classification"] == "excellent"
    assert advice_for(report(), "zh") == []


def test_no_statements_asks_for_six_months_first_then_the_weaker_points():
    advice = advice_for(report(statements=[]), "zh")
    assert advice[0] == "请上传至少覆盖6个月（最好12个月）的银行流水"
    # H1 and H4 fail too (no inflow at all), before any weak check such as R2 (no history)
    assert advice.index("请上传能反映经营收入的银行流水") < advice.index(
        "请上传能反映债务人向企业付款的银行流水（如其他收款账户的流水）")


def test_fails_come_before_weak_checks_whatever_their_order_in_the_report():
    p = payload(health=[check("H5", "weak")], receivables=[[check("R1", "weak"), check("R6", "fail")]])
    assert advice_for(p, "en") == [ADVICE[("R6", "fail", "")][1], ADVICE[("H5", "weak", "")][1],
                                   ADVICE[("R1", "weak", "")][1]]


def test_the_same_problem_on_many_receivables_is_advised_once():
    pending = [receivable(invoice_no=f"INV-{n}", confirmation="pending") for n in range(3)]
    advice = advice_for(report(receivables=pending, amount="100000"), "zh")
    assert advice.count(ADVICE[("R1", "weak", "")][0]) == 1


def test_no_history_under_r2_and_r3_gives_one_sentence():
    stranger = receivable(debtor_name="从未付款的公司", debtor_uscc="91110000MA1K00004X")
    p = report(receivables=[stranger], amount="100000")
    codes = {(c["code"], c["level"]) for c in p["receivables"][0]["checks"]}
    assert {("R2", "weak"), ("R3", "weak")} <= codes
    # one debtor holds the whole pledge (H5 weak): cash-flow advice first, then the receivable's
    assert advice_for(p, "en") == [ADVICE[("H5", "weak", "")][1], ADVICE[("R2", "weak", "")][1]]


def test_disputed_and_pending_confirmations_get_different_advice():
    p = payload(receivables=[[check("R1", "fail")], [check("R1", "weak")]])
    assert advice_for(p, "zh") == ["请先与债务人解决有异议的应收账款，或改用其他应收账款质押",
                                   "请通过平台生成的确认链接，请债务人确认待确认的应收账款"]


def test_advice_follows_the_locale():
    p = payload(health=[check("H0", "fail", "2 of 12 months")])
    assert advice_for(p, "en") == ["Upload bank statements covering at least 6 months (ideally 12)"]
    assert advice_for(p, "en_US") == advice_for(p, "en")
    assert advice_for(p, "zh_Hans_CN") == advice_for(p, "zh") == ["请上传至少覆盖6个月（最好12个月）的银行流水"]


def test_thresholds_of_the_report_fill_the_sentence():
    p = payload(health=[check("H0", "fail")])
    p["thresholds"].update(h0_min_months=9, lookback_months=18)
    assert advice_for(p, "zh") == ["请上传至少覆盖9个月（最好18个月）的银行流水"]


def test_too_large_a_request_is_told_the_amount_that_would_pass():
    p = report(amount="2000000")  # 2,000,000 of a 2,400,000 inflow: weak
    assert p["health"][4]["level"] == "weak"
    (advice,) = advice_for(p, "zh")
    assert advice == "请降低申请金额（不超过¥1,200,000.00），或补充其他收款账户的流水"


def test_the_amount_limit_is_rounded_down_to_the_fen():
    p = payload(health=[check("H4", "fail", "¥9.00 / ¥0.01")])
    p["metrics"]["inflow_total"] = "0.01"
    assert advice_for(p, "en") == ["Lower the requested amount (to at most ¥0.00), or upload other receiving "
                                   "accounts' statements"]


def test_causes_with_their_own_remedy():
    no_balances = payload(health=[check("H3", "weak", "no balances")])
    overdrawn = payload(health=[check("H3", "weak", "2 days (2025-03-01, 2025-03-02)")])
    no_inflow = payload(health=[check("H4", "fail", "¥200,000.00 / ¥0.00")])
    assert advice_for(no_balances, "zh") == ["请上传包含余额列的银行流水"]
    assert advice_for(overdrawn, "zh") == [ADVICE[("H3", "weak", "")][0]]
    assert advice_for(no_inflow, "zh") == ["请上传能反映经营收入的银行流水"]


def test_every_check_that_can_go_wrong_has_advice_in_both_languages():
    can_fail = {"R1", "R3", "R4", "R5", "R6", "H0", "H1", "H3", "H4"}
    can_be_weak = {"R1", "R2", "R3", "R4", "H1", "H2", "H3", "H4", "H5"}
    for code in RECEIVABLE_CHECKS + HEALTH_CHECKS:
        for level, codes in (("fail", can_fail), ("weak", can_be_weak)):
            if code in codes:
                zh, en = ADVICE[(code, level, "")]
                assert zh and en and zh != en


def test_ok_checks_and_unknown_codes_are_ignored():
    p = payload(health=[check("H0", "ok"), check("X9", "fail")], receivables=[[check("R1", "ok")]])
    assert advice_for(p, "zh") == []
    assert advice_for({}, "zh") == []
