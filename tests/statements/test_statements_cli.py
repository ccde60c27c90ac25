"""`flask --app wsgi statements parse FILE [--json]`: a stable interface checked from outside.

Run in-process with the app's CLI runner; no database rows are needed.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.statements.cli import report_json, statement_report
from workflows.verification.model import ParseError, ParseWarning, Statement, Transaction

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "statements"
TOP_KEYS = {
    "row_count", "inflow_total", "outflow_total", "first_date", "last_date", "account_no",
    "account_name", "bank", "sha256", "transactions", "errors", "warnings",
}
WARNING_KEYS = {"code", "line", "message_zh", "message_en"}
BANKS = FIXTURES / "banks"
ROW_KEYS = {"line", "date", "amount", "balance", "counterparty", "counterparty_account", "summary"}


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=["statements", "parse", *args])


def parse_json(app, path: Path) -> tuple[int, dict]:
    result = run(app, str(path), "--json")
    assert result.output.count("\n") == 1, "one JSON object on one line"
    return result.exit_code, json.loads(result.output)


def test_accepted_file_prints_the_stable_json_and_exits_0(app):
    code, report = parse_json(app, FIXTURES / "icbc_gbk.csv")
    assert code == 0
    assert set(report) == TOP_KEYS
    assert report["row_count"] == 5
    assert report["inflow_total"] == "224512.84"
    assert report["outflow_total"] == "53456.70"  # positive, 2 decimals
    assert (report["first_date"], report["last_date"]) == ("2024-01-05", "2024-03-15")
    assert (report["bank"], report["account_no"], report["account_name"]) == (
        "中国工商银行", "1102020109000123456", "苏州恒信精密机械有限公司")
    assert len(report["sha256"]) == 64
    assert report["errors"] == []
    assert all(set(row) == ROW_KEYS for row in report["transactions"])
    assert report["transactions"][1] == {
        "line": 6, "date": "2024-01-08", "amount": "-3456.70", "balance": "1624543.30",
        "counterparty": "国网江苏省电力有限公司苏州供电分公司",
        "counterparty_account": "32001000000000000001", "summary": "电费",
    }


def test_amounts_are_signed_strings_with_two_decimals(app):
    code, report = parse_json(app, FIXTURES / "signed_amount.csv")
    assert code == 0
    assert [row["amount"] for row in report["transactions"]] == [
        "3000.00", "-1200.00", "500.00", "-1000.00"]
    assert (report["inflow_total"], report["outflow_total"]) == ("3500.00", "2200.00")


def test_missing_balance_is_null(app, tmp_path):
    path = tmp_path / "no_balance.csv"
    path.write_text("交易日期,交易金额,对方户名\n2024-01-05,12.5,甲\n", encoding="utf-8")
    code, report = parse_json(app, path)
    assert code == 0
    assert report["transactions"] == [{
        "line": 2, "date": "2024-01-05", "amount": "12.50", "balance": None,
        "counterparty": "甲", "counterparty_account": "", "summary": ""}]


def test_rejected_file_prints_the_errors_and_exits_1(app):
    code, report = parse_json(app, FIXTURES / "bad_row.csv")
    assert code == 1
    assert set(report) == TOP_KEYS
    assert report["errors"] == [{"line": 5, "reason": "借方发生额：不是有效的金额“12,3a”"}]
    assert report["row_count"] == 0 and report["transactions"] == []
    assert (report["first_date"], report["last_date"]) == (None, None)
    assert (report["inflow_total"], report["outflow_total"]) == ("0.00", "0.00")


@pytest.mark.parametrize("name", ["empty.csv", "junk.bin", "header_only.csv"])
def test_files_that_are_no_statement_exit_1_with_an_error_on_line_0(app, name):
    code, report = parse_json(app, FIXTURES / name)
    assert code == 1
    assert len(report["errors"]) == 1 and report["errors"][0]["line"] == 0


def test_chinese_is_printed_as_utf8_not_escaped(app):
    result = run(app, str(FIXTURES / "icbc_gbk.csv"), "--json")
    assert "苏州恒信精密机械有限公司".encode() in result.stdout_bytes
    assert b"\\u" not in result.stdout_bytes


def test_human_summary_in_chinese(app):
    result = run(app, str(FIXTURES / "abc.xlsx"))
    assert result.exit_code == 0
    assert "可以导入，共3笔交易" in result.output
    assert "期间：2024-01-05 至 2024-02-01" in result.output
    assert "收入合计：31,234.57 元，支出合计：200.00 元" in result.output
    assert "银行：中国农业银行" in result.output

    result = run(app, str(FIXTURES / "bad_row.csv"))
    assert result.exit_code == 1
    assert "已拒绝" in result.output
    assert "第5行：借方发生额：不是有效的金额“12,3a”" in result.output


def test_a_missing_file_is_a_usage_error(app, tmp_path):
    result = run(app, str(tmp_path / "nope.csv"), "--json")
    assert result.exit_code == 2


def test_the_fast_json_writer_matches_json_dumps():
    statement = Statement(
        transactions=[
            Transaction(3, date(2024, 1, 5), Decimal("-0.10"), None, '引号"与\\反斜杠', "62\t22", "换\n行\u2028"),
            Transaction(4, date(2023, 12, 31), Decimal("123456789.00"), Decimal("-5.00"), "甲", "", ""),
        ],
        bank="中国银行", account_no="123", account_name="乙", sha256="0" * 64,
    )
    expected = statement_report(statement)
    assert json.loads(report_json(statement)) == expected
    assert expected["first_date"] == "2023-12-31" and expected["last_date"] == "2024-01-05"
    assert (expected["inflow_total"], expected["outflow_total"]) == ("123456789.00", "0.10")
    rejected = Statement(errors=[ParseError(0, "文件为空")], sha256="1" * 64)
    assert json.loads(report_json(rejected)) == statement_report(rejected)
    warned = Statement(transactions=statement.transactions, sha256="2" * 64,
                       warnings=[ParseWarning("balance_masked", "余额“隐藏”", 'balance "masked"', 0)])
    assert json.loads(report_json(warned)) == statement_report(warned)


def test_warnings_are_listed_with_code_line_and_both_languages(app):
    code, report = parse_json(app, BANKS / "psbc_farm_masked_balance.csv")
    assert code == 0
    assert set(report) == TOP_KEYS
    [warning] = report["warnings"]
    assert set(warning) == WARNING_KEYS
    assert warning["code"] == "balance_masked" and warning["line"] == 0
    assert "余额" in warning["message_zh"] and "balance" in warning["message_en"]
    assert all(row["balance"] is None for row in report["transactions"])


def test_a_clean_file_has_an_empty_warnings_list(app):
    code, report = parse_json(app, FIXTURES / "icbc_gbk.csv")
    assert code == 0 and report["warnings"] == []


def test_the_human_summary_lists_the_warnings(app):
    result = run(app, str(BANKS / "pingan_corporate_utf8.csv"))
    assert result.exit_code == 0
    assert "提示：共2条" in result.output
    assert "余额被隐藏" in result.output and "未写明户名" in result.output


def test_a_file_that_is_only_a_disclaimer_exits_1_with_a_clear_reason(app, tmp_path):
    path = tmp_path / "disclaimer.csv"
    path.write_bytes("以上数据仅供参考，具体以银行记账为准。\r\n".encode("gbk"))
    code, report = parse_json(app, path)
    assert code == 1
    [error] = report["errors"]
    assert error["line"] == 0 and "只有说明或免责声明" in error["reason"]
