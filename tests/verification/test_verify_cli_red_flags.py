"""`flask --app wsgi verify offline`: the report's `red_flags` key (issue 11 item 7), the
--related-party option, and the flags in the Chinese summary; the rest of the shape is kept."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.verification.test_verify_cli import (
    AS_OF_TEXT,
    ENTERPRISE,
    ENTERPRISE_USCC,
    HEADER,
    good_receivables,
    invoke,
    receivables_csv,
    report_of,
    statement_csv,
)

DEBTOR = "上海甲方（集团）有限公司"


def second_account(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """Another account of the enterprise: (date, counterparty, signed amount) rows."""
    lines = ["中国建设银行对公账户明细", "账号：3205 0000 9999 8888", f"户名：{ENTERPRISE}", HEADER]
    balance = Decimal("1000000.00")
    for day, name, amount in rows:
        balance += Decimal(amount)
        debit, credit = (amount.lstrip("-"), "") if amount.startswith("-") else ("", amount)
        lines.append(f"{day},往来款,{name},62220009,{debit},{credit},{balance:.2f}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


def test_a_clean_request_has_an_empty_red_flags_list_and_the_shape_is_kept(app, tmp_path):
    report = report_of(invoke(app, [statement_csv(tmp_path / "s.csv")],
                              receivables_csv(tmp_path / "r.csv", good_receivables())))
    assert report["red_flags"] == [] and report["classification"] == "excellent"
    assert {"classification", "policy_version", "receivables", "health", "thresholds", "reasons_zh",
            "reasons_en", "metrics", "inputs"} <= set(report)
    assert report["thresholds"]["red_flags_affect_class"] is False


def test_a_round_trip_and_same_day_pairs_are_listed_with_their_numbers(app, tmp_path):
    trips = [("2025-06-03", DEBTOR, "-300000.00"), ("2025-06-06", DEBTOR, "295000.00")]
    passes = [(f"2025-04-{d:02d}", name, amount) for d in range(1, 6)
              for name, amount in (("甲客户", "50000.00"), ("乙公司", "-50000.00"))]
    result = invoke(app, [statement_csv(tmp_path / "s.csv"), second_account(tmp_path / "b.csv", trips + passes)],
                    receivables_csv(tmp_path / "r.csv", good_receivables()))
    assert result.exit_code == 0, result.output
    report = report_of(result)
    f1, f3 = report["red_flags"]
    assert (f1["code"], f1["level"], f1["numbers"]["debtor"], f1["numbers"]["pairs"]) == ("F1", "high", DEBTOR, 1)
    assert (f1["numbers"]["out_total"], f1["numbers"]["in_total"]) == ("300000.00", "295000.00")
    assert (f3["code"], f3["level"], f3["numbers"]["pairs"], f3["numbers"]["amount"]) == ("F3", "medium", 5, "250000.00")
    assert all(f["reason_zh"] and f["reason_en"] for f in report["red_flags"])
    assert report["classification"] == "excellent"  # the default policy: a flag does not change the class
    assert any(reason.startswith("红旗F1") for reason in report["reasons_zh"])


def test_a_related_partys_money_is_not_the_debtors(app, tmp_path):
    result = app.test_cli_runner().invoke(args=[
        "verify", "offline", "--statement", str(statement_csv(tmp_path / "s.csv")),
        "--receivables", str(receivables_csv(tmp_path / "r.csv", good_receivables())),
        "--enterprise-name", ENTERPRISE, "--enterprise-uscc", ENTERPRISE_USCC, "--amount", "200000",
        "--as-of", AS_OF_TEXT, "--related-party", DEBTOR, "--json"])
    assert result.exit_code == 0, result.output
    report = report_of(result)
    (flag,) = report["red_flags"]
    assert (flag["code"], flag["numbers"]["cause"], flag["numbers"]["count"]) == ("F2", "related_party", 12)
    r2 = report["receivables"][0]["checks"][1]
    assert (r2["code"], r2["level"], r2["value"]) == ("R2", "weak", "0 of 12 months")


def test_the_chinese_summary_lists_the_flags(app, tmp_path):
    trips = [("2025-06-03", DEBTOR, "-300000.00"), ("2025-06-06", DEBTOR, "300000.00")]
    result = invoke(app, [statement_csv(tmp_path / "s.csv"), second_account(tmp_path / "b.csv", trips)],
                    receivables_csv(tmp_path / "r.csv", good_receivables()), json_flag=False)
    assert result.exit_code == 0, result.output
    assert "资金流向红旗：1项" in result.output and "F1 高：与债务人“上海甲方（集团）有限公司”之间有1组资金往返" in result.output
    clean = invoke(app, [statement_csv(tmp_path / "s.csv")], receivables_csv(tmp_path / "r.csv", good_receivables()),
                   json_flag=False)
    assert "资金流向红旗：无" in clean.output
