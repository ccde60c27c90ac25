"""`flask --app wsgi verify offline ... --json`: a stable interface checked from outside.

Generated statement and receivables files land in each class; bad files exit 1 with JSON errors
naming the file and line; bad option values are click usage errors (exit 2)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from workflows.identifiers import uscc_check_char

AS_OF = date(2026, 1, 1)  # the window is 2025-01 .. 2025-12
AS_OF_TEXT = AS_OF.isoformat()
ENTERPRISE = "苏州示例制造有限公司"


def uscc(body: str) -> str:
    return body + uscc_check_char(body)


ENTERPRISE_USCC = uscc("91320500MA1K00003")
DEBTORS = {
    "上海甲方（集团）有限公司": uscc("91310000MA1K00001"),
    "无锡乙方贸易有限公司": uscc("91320200MA1K00002"),
}
HEADER = "交易日期,摘要,对方户名,对方账号,借方发生额,贷方发生额,余额"


def statement_csv(path: Path, months=range(1, 13), holder=ENTERPRISE, per_debtor=100_000,
                  payers=None, bad_line: bool = False) -> Path:
    """A GBK statement with title rows, split debit/credit columns and a total row."""
    lines = ["中国工商银行对公账户交易明细", "账号：6222000011112222", f"户名：{holder}", HEADER]
    balance = Decimal("500000.00")
    for month in months:
        for day, (name, amount) in enumerate(
            [(p, per_debtor) for p in (payers or DEBTORS)] + [("苏州供应商有限公司", -per_debtor)], start=5
        ):
            balance += amount
            debit, credit = (f"{-amount:.2f}", "") if amount < 0 else ("", f"{amount:.2f}")
            lines.append(f"2025-{month:02d}-{day:02d},货款,{name},62220001,{debit},{credit},{balance:.2f}")
    if bad_line:
        lines.insert(6, "2025-01-09,货款,某公司,62220001,,12x.00,1.00")
    lines.append("合计,,,,,,")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


def receivables_csv(path: Path, rows: list[dict]) -> Path:
    header = "债务人名称,债务人统一社会信用代码,发票号码,合同编号,金额,开票日期,到期日,确认状态"
    lines = [header]
    for row in rows:
        lines.append(",".join(str(row[k]) for k in (
            "debtor", "uscc", "invoice", "contract", "amount", "issue", "due", "state")))
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def receivable(debtor="上海甲方（集团）有限公司", invoice="10000001", amount="100000.00",
               age=30, due_in=60, state="已确认", **extra) -> dict:
    row = dict(debtor=debtor, uscc=DEBTORS.get(debtor, extra.pop("uscc", None)), invoice=invoice,
               contract="HT-1", amount=amount, issue=(AS_OF - timedelta(days=age)).isoformat(),
               due=(AS_OF + timedelta(days=due_in)).isoformat(), state=state)
    row.update(extra)
    return row


def good_receivables(**a_overrides) -> list[dict]:
    return [receivable(**a_overrides), receivable(debtor="无锡乙方贸易有限公司", invoice="20000002")]


def invoke(app, statements, receivables, *, amount="200000", as_of=AS_OF_TEXT,
           name=ENTERPRISE, code=ENTERPRISE_USCC, json_flag=True):
    args = ["verify", "offline"]
    for statement in statements:
        args += ["--statement", str(statement)]
    args += ["--receivables", str(receivables), "--enterprise-name", name,
             "--enterprise-uscc", code, "--amount", amount, "--as-of", as_of]
    if json_flag:
        args.append("--json")
    return app.test_cli_runner().invoke(args=args)


def report_of(result) -> dict:
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, "one JSON object on one line"
    return json.loads(lines[0])


@pytest.fixture
def files(tmp_path):
    return tmp_path


def test_excellent_request_prints_the_stable_shape(app, files):
    result = invoke(app, [statement_csv(files / "流水.csv")],
                    receivables_csv(files / "应收.csv", good_receivables()))
    assert result.exit_code == 0, result.output
    report = report_of(result)
    assert report["classification"] == "excellent"
    assert report["policy_version"] == "2026.1"
    assert [r["invoice_no"] for r in report["receivables"]] == ["10000001", "20000002"]
    first = report["receivables"][0]
    assert first["debtor_name"] == "上海甲方（集团）有限公司"
    assert first["grade"] == "优"
    assert [c["code"] for c in first["checks"]] == ["R1", "R2", "R3", "R4", "R5", "R6"]
    assert [c["code"] for c in report["health"]] == ["H0", "H1", "H2", "H3", "H4", "H5"]
    for c in first["checks"] + report["health"]:
        assert set(c) >= {"code", "level", "value", "reason_zh", "reason_en"}
        assert c["level"] == "ok"
    assert first["checks"][1]["reason_zh"].startswith("近12个月内债务人在12个不同月份向企业付款")
    assert len(report["inputs"]["statement_sha256s"][0]) == 64
    assert report["thresholds"]["r4_ok_days"] == 90


def test_mixed_request(app, files):
    result = invoke(app, [statement_csv(files / "s.csv")],
                    receivables_csv(files / "r.csv", good_receivables(state="待确认")))
    assert result.exit_code == 0, result.output
    report = report_of(result)
    assert report["classification"] == "mixed"
    assert report["receivables"][0]["grade"] == "良"
    assert report["receivables"][0]["checks"][0]["level"] == "weak"
    assert any("确认发票10000001" in reason for reason in report["reasons_zh"])


def test_poor_request_for_too_few_months(app, files):
    result = invoke(app, [statement_csv(files / "s.csv", months=range(8, 13))],
                    receivables_csv(files / "r.csv", good_receivables()))
    assert result.exit_code == 0, result.output
    report = report_of(result)
    assert report["classification"] == "poor"
    h0 = report["health"][0]
    assert (h0["code"], h0["level"], h0["value"]) == ("H0", "fail", "5 of 12 months")
    assert any("请补充至少6个月" in reason for reason in report["reasons_zh"])


def test_poor_request_for_bad_receivables_over_half(app, files):
    rows = [receivable(amount="150000.00", due_in=-1), receivable(debtor="无锡乙方贸易有限公司", invoice="2")]
    result = invoke(app, [statement_csv(files / "s.csv")], receivables_csv(files / "r.csv", rows))
    report = report_of(result)
    assert [r["grade"] for r in report["receivables"]] == ["差", "优"]
    assert report["classification"] == "poor"


def test_several_statements_and_the_same_file_twice(app, files):
    first = statement_csv(files / "a.csv", months=range(1, 7))
    second = statement_csv(files / "b.csv", months=range(7, 13))
    receivables = receivables_csv(files / "r.csv", good_receivables())
    both = report_of(invoke(app, [first, second], receivables))
    assert both["classification"] == "excellent"
    assert both["health"][0]["value"] == "12 of 12 months"
    again = report_of(invoke(app, [first, second, first], receivables))
    assert again["health"] == both["health"]
    assert again["metrics"]["statements"]["duplicates_ignored"] == 1


def test_duplicate_invoice_in_the_file_fails_r5_on_both_rows(app, files):
    rows = [*good_receivables(), receivable(invoice=" 10000001", amount="5000.00")]
    result = invoke(app, [statement_csv(files / "s.csv")], receivables_csv(files / "r.csv", rows))
    assert result.exit_code == 0, result.output
    report = report_of(result)
    r5 = [next(c for c in r["checks"] if c["code"] == "R5") for r in report["receivables"]]
    assert [c["level"] for c in r5] == ["fail", "ok", "fail"]
    assert "第4行" in r5[0]["reason_zh"] and "第2行" in r5[2]["reason_zh"]
    assert report["classification"] == "poor"  # 105,000 of 205,000 pledged is 差


def test_a_rejected_statement_exits_1_with_file_and_line(app, files):
    bad = statement_csv(files / "坏流水.csv", bad_line=True)
    result = invoke(app, [statement_csv(files / "s.csv"), bad],
                    receivables_csv(files / "r.csv", good_receivables()))
    assert result.exit_code == 1
    errors = report_of(result)["errors"]
    assert errors and all(e["file"] == "坏流水.csv" for e in errors)
    assert errors[0]["line"] == 7 and errors[0]["reason"]


def test_a_statement_of_another_account_holder_is_refused(app, files):
    other = statement_csv(files / "other.csv", holder="昆山别家有限公司")
    result = invoke(app, [other], receivables_csv(files / "r.csv", good_receivables()))
    assert result.exit_code == 1
    (error,) = report_of(result)["errors"]
    assert error["file"] == "other.csv" and error["line"] == 0
    assert "昆山别家有限公司" in error["reason"] and ENTERPRISE in error["reason"]


def test_the_holder_name_is_compared_normalised(app, files):
    statement = statement_csv(files / "s.csv", holder="苏州示例制造（集团）有限公司")
    result = invoke(app, [statement], receivables_csv(files / "r.csv", good_receivables()),
                    name=" 苏州示例制造 (集团)有限公司")
    assert result.exit_code == 0, result.output
    assert report_of(result)["enterprise"]["name"] == "苏州示例制造 (集团)有限公司"


def test_receivables_file_errors_exit_1(app, files):
    rows = [receivable(age=-3), receivable(debtor="无锡乙方贸易有限公司", invoice="2", amount="abc")]
    result = invoke(app, [statement_csv(files / "s.csv")], receivables_csv(files / "r.csv", rows))
    assert result.exit_code == 1
    errors = report_of(result)["errors"]
    assert {(e["file"], e["line"]) for e in errors} == {("r.csv", 2), ("r.csv", 3)}
    assert any("晚于今天（2026-01-01）" in e["reason"] for e in errors)


def test_an_empty_receivables_file_exits_1(app, files):
    empty = files / "r.csv"
    empty.write_bytes(b"")
    result = invoke(app, [statement_csv(files / "s.csv")], empty)
    assert result.exit_code == 1
    (error,) = report_of(result)["errors"]
    assert (error["file"], error["line"]) == ("r.csv", 0) and "为空" in error["reason"]


@pytest.mark.parametrize("option, value, fragment", [
    ("amount", "abc", "--amount"),
    ("amount", "0", "--amount"),
    ("amount", "1.234", "--amount"),
    ("as_of", "2026-13-01", "--as-of"),
    ("as_of", "tomorrow", "--as-of"),
    ("code", "91320500MA1K00003X", "--enterprise-uscc"),
])
def test_bad_option_values_are_usage_errors(app, files, option, value, fragment):
    result = invoke(app, [statement_csv(files / "s.csv")],
                    receivables_csv(files / "r.csv", good_receivables()), **{option: value})
    assert result.exit_code == 2
    assert fragment in result.output
    assert result.stdout == ""


def test_a_missing_file_is_a_usage_error(app, files):
    result = invoke(app, [files / "nope.csv"], receivables_csv(files / "r.csv", good_receivables()))
    assert result.exit_code == 2


def test_without_json_a_chinese_summary(app, files):
    result = invoke(app, [statement_csv(files / "s.csv")],
                    receivables_csv(files / "r.csv", good_receivables(state="有异议")), json_flag=False)
    assert result.exit_code == 0, result.output
    assert "核验结论：一般（mixed）" in result.output
    assert "R1 未通过：债务人对该笔应收账款有异议" in result.output


def test_the_files_confirmation_is_taken_as_given_and_named_as_the_files(app, files):
    """Offline, whoever runs the command vouches for the file: 已确认 is a debtor confirmation
    (source "file"), unlike the platform's import, where it is only the enterprise's declaration."""
    rows = [receivable(), receivable(debtor="无锡乙方贸易有限公司", invoice="20000002", state="待确认")]
    report = report_of(invoke(app, [statement_csv(files / "s.csv")], receivables_csv(files / "r.csv", rows)))

    confirmed, pending = report["receivables"]
    assert (confirmed["confirmation"], confirmed["confirmation_source"]) == ("confirmed", "file")
    assert confirmed["checks"][0]["level"] == "ok" and "依据核验文件所载" in confirmed["checks"][0]["reason_zh"]
    assert (pending["confirmation"], pending["confirmation_source"]) == ("pending", "none")
    assert pending["checks"][0]["level"] == "weak"
