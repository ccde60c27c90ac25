"""Statement import (issue 4, item 1): what Chinese banks export, into signed transactions.

The fixture files under tests/fixtures/statements/ are written by make_fixtures.py there;
smaller cases are built here. On the customer's statement 贷方 (credit) is money in (positive)
and 借方 (debit) money out (negative).
"""

from __future__ import annotations

import hashlib
import io
import random
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from workflows.verification.model import ParseError, Statement, Transaction
from workflows.verification.statement_headers import bank_name, header_field, statement_info
from workflows.verification.statements import parse_statement

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "statements"
HOLDER = "苏州恒信精密机械有限公司"
SPLIT_HEADER = "交易日期,借方发生额,贷方发生额,余额,对方户名,对方账号,摘要"
FLAG_HEADER = "交易日期,交易金额,借贷标志,余额,对方户名,摘要"


def fixture(name: str) -> Statement:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"{name} is missing: run tests/fixtures/statements/make_fixtures.py")
    return parse_statement(path.read_bytes(), name)


def csv_bytes(*lines: str, header: str = SPLIT_HEADER, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode(encoding)


def parse_csv(*lines: str, header: str = SPLIT_HEADER, encoding: str = "utf-8") -> Statement:
    return parse_statement(csv_bytes(*lines, header=header, encoding=encoding), "statement.csv")


def amounts(statement: Statement) -> list[Decimal]:
    assert not statement.errors, statement.errors
    return [t.amount for t in statement.transactions]


def reasons(statement: Statement) -> list[tuple[int, str]]:
    return [(e.line, e.reason) for e in statement.errors]


def totals(statement: Statement) -> tuple[Decimal, Decimal]:
    values = amounts(statement)
    return sum(v for v in values if v > 0), -sum(v for v in values if v < 0)


def xlsx_bytes(rows: list[list[object]], formats: dict[int, str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    for values in rows:
        sheet.append(values)
        for column, number_format in (formats or {}).items():
            sheet.cell(sheet.max_row, column).number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- the fixture files: one per layout ----------------------------------------------------------


def test_icbc_gbk_csv_with_title_rows_split_columns_and_totals():
    statement = fixture("icbc_gbk.csv")
    assert statement.accepted
    assert (statement.bank, statement.account_no, statement.account_name) == (
        "中国工商银行", "1102020109000123456", HOLDER)
    assert [t.line for t in statement.transactions] == [5, 6, 7, 8, 9]  # totals on 10-12 skipped
    assert amounts(statement) == [Decimal(v) for v in
                                  ("128000.00", "-3456.70", "12.34", "-50000.00", "96500.50")]
    assert totals(statement) == (Decimal("224512.84"), Decimal("53456.70"))
    second = statement.transactions[1]
    assert second == Transaction(6, date(2024, 1, 8), Decimal("-3456.70"), Decimal("1624543.30"),
                                 "国网江苏省电力有限公司苏州供电分公司", "32001000000000000001", "电费")


def test_ccb_utf8_bom_csv_with_amount_and_direction_flag_and_own_account_columns():
    statement = fixture("ccb_utf8_bom.csv")
    assert amounts(statement) == [Decimal("5000.00"), Decimal("-1200.00"), Decimal("-800.50"),
                                  Decimal("20000.00")]
    assert [t.date for t in statement.transactions] == [date(2024, 1, d) for d in (3, 4, 5, 6)]
    assert [t.line for t in statement.transactions] == [2, 3, 4, 5]
    assert statement.account_no == "32050162853600000123"  # from the 账号 column, as text
    assert statement.account_name == HOLDER
    assert statement.transactions[0].counterparty_account == "6217001540012345678"


def test_abc_xlsx_with_account_rows_excel_dates_and_numeric_cells():
    statement = fixture("abc.xlsx")
    assert statement.accepted
    assert (statement.bank, statement.account_no, statement.account_name) == (
        "中国农业银行", "6228480402564890018", HOLDER)
    assert [(t.line, t.date, t.amount, t.balance) for t in statement.transactions] == [
        (6, date(2024, 1, 5), Decimal("1234.50"), Decimal("11234.50")),
        (7, date(2024, 1, 9), Decimal("-200.00"), Decimal("11034.50")),
        (8, date(2024, 2, 1), Decimal("30000.07"), Decimal("41034.57")),
    ]
    assert statement.transactions[1].counterparty_account == "32001881236052512345"
    assert statement.transactions[2].summary == "预付款"
    assert all(t.amount.as_tuple().exponent == -2 for t in statement.transactions)


def test_boc_html_saved_as_xls_with_english_headers_and_payer_payee_columns():
    statement = fixture("boc_html.xls")
    assert (statement.bank, statement.account_no, statement.account_name) == (
        "中国银行", "456789012345", HOLDER)
    assert [(t.line, t.date, t.amount) for t in statement.transactions] == [
        (4, date(2024, 1, 5), Decimal("15000.00")),
        (5, date(2024, 1, 6), Decimal("-2300.00")),
        (6, date(2024, 1, 7), Decimal("8000.00")),
    ]
    # money in: the payer is the counterparty; money out: the payee
    assert [t.counterparty for t in statement.transactions] == [
        "无锡华新电子科技有限公司", "苏州顺丰速运有限公司", "杭州信达新材料有限公司"]
    assert statement.transactions[1].counterparty_account == "32001881236052512345"


def test_legacy_binary_xls():
    statement = fixture("legacy.xls")
    assert (statement.bank, statement.account_no, statement.account_name) == (
        "江苏银行", "31230188000012345678", HOLDER)
    assert [(t.line, t.date, t.amount, t.summary) for t in statement.transactions] == [
        (4, date(2024, 1, 2), Decimal("8800.00"), "货款"),
        (5, date(2024, 1, 3), Decimal("-15.50"), "手续费"),
        (6, date(2024, 1, 20), Decimal("-6000.00"), "支付货款"),
    ]  # 总计 on row 7 skipped
    assert statement.transactions[2].counterparty_account == "6217001540012345678"


def test_signed_amount_csv_with_four_date_forms_and_yuan_signs():
    statement = fixture("signed_amount.csv")
    assert amounts(statement) == [Decimal("3000.00"), Decimal("-1200.00"), Decimal("500.00"),
                                  Decimal("-1000.00")]
    assert [t.date for t in statement.transactions] == [date(2024, 1, d) for d in (5, 6, 7, 8)]
    assert statement.transactions[3].balance == Decimal("11300.00")


def test_debit_column_written_with_minus_signs_is_still_money_out():
    statement = fixture("debit_with_minus.csv")
    assert amounts(statement) == [Decimal("-1200.00"), Decimal("3000.00"), Decimal("-1000.50")]


def test_bad_row_rejects_the_whole_file_with_the_line_the_file_shows():
    statement = fixture("bad_row.csv")
    assert reasons(statement) == [(5, "借方发生额：不是有效的金额“12,3a”")]
    assert statement.transactions == []
    assert not statement.accepted


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "文件为空"),
        ("junk.bin", "二进制"),
        ("header_only.csv", "没有交易记录"),
    ],
)
def test_files_that_are_no_statement_get_one_error_on_line_0(name, message):
    statement = fixture(name)
    assert len(statement.errors) == 1
    assert statement.errors[0].line == 0
    assert message in statement.errors[0].reason
    assert statement.transactions == []


@pytest.mark.parametrize("name", ["icbc_gbk.csv", "abc.xlsx", "junk.bin", "empty.csv"])
def test_sha256_of_the_bytes_is_kept(name):
    data = (FIXTURES / name).read_bytes()
    assert parse_statement(data, name).sha256 == hashlib.sha256(data).hexdigest()


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-05", "2024/1/5", "2024/01/05", "20240105", "2024.01.05", "2024.1.5",
        "2024年1月5日", "2024年01月05日 10:23", "2024-01-05 10:23:45", "2024/1/5 9:05",
        "2024-01-05T10:23:45", "20240105 10:23:45", "20240105102345", "2024-01-05 10:23:45.123",
        " 2024-01-05 ", "\t2024-01-05",
    ],
)
def test_date_forms(text):
    statement = parse_csv(f'"{text}",,100.00,,甲,,货款')
    assert [t.date for t in statement.transactions] == [date(2024, 1, 5)]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2024-13-45", "交易日期：无法识别“2024-13-45”（日期不存在）"),
        ("2024-02-30", "交易日期：无法识别“2024-02-30”（日期不存在）"),
        ("2024-01-05 25:00:00", "交易日期：无法识别“2024-01-05 25:00:00”（时间不存在）"),
        ("下周一", "交易日期：无法识别“下周一”，应为如2024-01-05的日期"),
        ("1850-01-01", "交易日期：无法识别“1850-01-01”（年份应在1900-2099之间）"),
        ("", "交易日期：不能为空"),
    ],
)
def test_bad_dates_name_the_column_and_the_text(text, reason):
    statement = parse_csv("2024-01-04,,1.00,,甲,,货款", f"{text},,100.00,,乙,,货款")
    assert reasons(statement) == [(3, reason)]
    assert statement.transactions == []


def test_the_date_column_is_named_as_the_file_names_it():
    statement = parse_csv("2024-13-01,5.00,,,甲,,付款", header="记账日期,支出,收入,余额,对方名称,对方账号,用途")
    assert reasons(statement) == [(2, "记账日期：无法识别“2024-13-01”（日期不存在）")]


def test_a_date_seen_before_with_a_bad_time_is_still_an_error():
    statement = parse_csv("2024-01-05 10:00:00,,1.00,,甲,,", "2024-01-05 10:61:00,,2.00,,乙,,")
    assert reasons(statement) == [(3, "交易日期：无法识别“2024-01-05 10:61:00”（时间不存在）")]


def test_excel_date_cells_with_times_and_serial_numbers():
    data = xlsx_bytes([
        ["交易日期", "借方金额", "贷方金额"],
        [datetime(2024, 1, 5, 14, 30), None, 100],
        [45296, 50, None],  # an Excel serial without a date format: 2024-01-05
        ["2024-01-06", None, 0.1],
    ])
    statement = parse_statement(data, "s.xlsx")
    assert [(t.date, t.amount) for t in statement.transactions] == [
        (date(2024, 1, 5), Decimal("100.00")),
        (date(2024, 1, 5), Decimal("-50.00")),
        (date(2024, 1, 6), Decimal("0.10")),
    ]


def test_serial_numbers_are_not_dates_in_csv():
    statement = parse_csv("45296,,100.00,,甲,,")
    assert reasons(statement) == [(2, "交易日期：无法识别“45296”，应为如2024-01-05的日期")]


# --- amounts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1234.5", "1234.50"), ("1,234.50", "1234.50"), ("1,234,567.89", "1234567.89"),
        ("¥1,234.50", "1234.50"), ("￥1234.5", "1234.50"), ("1,234.50元", "1234.50"),
        ("RMB 1,234.50", "1234.50"), ("１２３４．５０", "1234.50"), ("1200", "1200.00"),
        ("1200.", "1200.00"), ("+1200", "1200.00"), ("0.5", "0.50"), ("1200.000", "1200.00"),
    ],
)
def test_amount_forms(text, value):
    statement = parse_csv(f'2024-01-05,,"{text}",,甲,,')
    assert amounts(statement) == [Decimal(value)]
    assert amounts(statement)[0].as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12,3a", "贷方发生额：不是有效的金额“12,3a”"),
        ("1,2,3", "贷方发生额：不是有效的金额“1,2,3”"),
        ("1e5", "贷方发生额：不是有效的金额“1e5”"),
        ("NaN", "贷方发生额：不是有效的金额“NaN”"),
        ("1_000", "贷方发生额：不是有效的金额“1_000”"),
        ("12.345", "贷方发生额：金额“12.345”最多两位小数"),
    ],
)
def test_bad_amounts_name_the_column_and_the_text(text, reason):
    statement = parse_csv(f'2024-01-05,,"{text}",,甲,,')
    assert reasons(statement) == [(2, reason)]


def test_blank_and_dash_cells_mean_zero():
    statement = parse_csv("2024-01-05,-,100.00,,甲,,", "2024-01-06,--,,,乙,,", "2024-01-07,30.00,—,,丙,,")
    assert reasons(statement) == [(3, "借方发生额与贷方发生额都为空")]
    statement = parse_csv("2024-01-05,-,100.00,,甲,,", "2024-01-07,30.00,—,,丙,,")
    assert amounts(statement) == [Decimal("100.00"), Decimal("-30.00")]


def test_both_sides_on_one_row_is_an_error():
    statement = parse_csv("2024-01-05,100.00,50.00,,甲,,")
    assert len(statement.errors) == 1
    assert statement.errors[0].line == 2
    assert statement.errors[0].reason.startswith("同一行借方与贷方都有金额")


def test_explicit_zero_on_both_sides_is_a_zero_transaction():
    statement = parse_csv("2024-01-05,0.00,0.00,100.00,,,结息", "2024-01-06,0.00,5.00,105.00,,,利息")
    assert amounts(statement) == [Decimal("0.00"), Decimal("5.00")]
    assert str(statement.transactions[0].amount) == "0.00"


def test_negative_credit_is_a_reversal_and_a_minority_of_negative_debits_too():
    statement = parse_csv(
        "2024-01-05,,-100.00,,甲,,冲正",  # a credit written negative: money back out
        "2024-01-06,200.00,,,乙,,付款",
        "2024-01-07,300.00,,,丙,,付款",
        "2024-01-08,-50.00,,,丁,,退回",  # one negative among positive debits: money back in
    )
    assert amounts(statement) == [Decimal("-100.00"), Decimal("-200.00"), Decimal("-300.00"),
                                  Decimal("50.00")]


def test_balance_is_optional_and_checked():
    statement = parse_csv("2024-01-05,,100.00,,甲,,", "2024-01-06,,100.00,1x,乙,,")
    assert reasons(statement) == [(3, "余额：不是有效的金额“1x”")]
    statement = parse_csv("2024-01-05,,100.00,-0.00,甲,,")
    assert statement.transactions[0].balance == Decimal("0.00")
    assert str(statement.transactions[0].balance) == "0.00"


# --- layouts and headers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("debit", "credit"),
    [
        ("借方发生额", "贷方发生额"), ("借方发生额（支取）", "贷方发生额（收入）"),
        ("借方发生额(支取)", "贷方发生额(收入)"), ("借方金额", "贷方金额"), ("支出金额", "收入金额"),
        ("支出", "收入"), ("付款金额", "收款金额"), ("转出金额", "转入金额"), ("借方", "贷方"),
        ("借方金额(元)", "贷方金额（元）"), ("Debit", "Credit"), ("支取金额", "存入金额"),
    ],
)
def test_debit_and_credit_header_aliases(debit, credit):
    statement = parse_csv("2024-01-05,10.00,,,甲,,", "2024-01-06,,20.00,,乙,,",
                          header=f"交易日期,{debit},{credit},余额,对方户名,对方账号,摘要")
    assert amounts(statement) == [Decimal("-10.00"), Decimal("20.00")]


@pytest.mark.parametrize(
    "name", ["交易日期", "记账日期", "交易时间", "日期", "入账日期", "发生日期", "交易日期[ Transaction Date ]"]
)
def test_date_header_aliases(name):
    statement = parse_csv("2024-01-05,,20.00", header=f"{name},借方发生额,贷方发生额")
    assert [t.date for t in statement.transactions] == [date(2024, 1, 5)]


def test_date_column_preference_when_a_file_has_two():
    # ABC: 交易日期 holds the date, 交易时间 only the time
    statement = parse_csv("102345,20240105,20.00,贷", header="交易时间,交易日期,交易金额,借贷标志")
    assert [t.date for t in statement.transactions] == [date(2024, 1, 5)]


@pytest.mark.parametrize(
    ("out_flag", "in_flag"),
    [("借", "贷"), ("付", "收"), ("出", "入"), ("D", "C"), ("d", "c"), ("DR", "CR"), ("借方", "贷方"),
     ("支出", "收入"), ("Ｄ", "Ｃ")],
)
def test_direction_flags(out_flag, in_flag):
    statement = parse_csv(f"2024-01-05,100.00,{out_flag},,甲,", f"2024-01-06,30.00,{in_flag},,乙,",
                          header=FLAG_HEADER)
    assert amounts(statement) == [Decimal("-100.00"), Decimal("30.00")]


@pytest.mark.parametrize("name", ["借贷标志", "借贷方向", "收支标志", "方向", "收/付", "借/贷"])
def test_direction_header_aliases(name):
    statement = parse_csv("2024-01-05,100.00,借", "2024-01-06,5.00,贷", header=f"交易日期,金额,{name}")
    assert amounts(statement) == [Decimal("-100.00"), Decimal("5.00")]


def test_flagged_amounts_written_with_a_minus_are_not_negated_twice():
    statement = parse_csv("2024-01-05,-100.00,借,,甲,", "2024-01-06,-30.50,借,,乙,",
                          "2024-01-07,80.00,贷,,丙,", header=FLAG_HEADER)
    assert amounts(statement) == [Decimal("-100.00"), Decimal("-30.50"), Decimal("80.00")]


def test_unknown_or_missing_direction_flag():
    statement = parse_csv("2024-01-05,100.00,X,,甲,", "2024-01-06,100.00,,,乙,",
                          "2024-01-07,-20.00,,,丙,", header=FLAG_HEADER)
    assert reasons(statement) == [
        (2, "借贷标志：无法识别“X”，应为借/贷、收/付、出/入或D/C"),
        (3, "借贷标志：不能为空"),
    ]  # line 4: an explicit minus needs no flag


def test_signed_amount_without_flag_and_accounting_brackets():
    statement = parse_csv("2024-01-05,-1200", '2024-01-06,"(1,000.00)"', "2024-01-07,88",
                          header="交易日期,交易金额")
    assert amounts(statement) == [Decimal("-1200.00"), Decimal("-1000.00"), Decimal("88.00")]


def test_missing_amount_in_the_single_column():
    statement = parse_csv("2024-01-05,,贷,,甲,", header=FLAG_HEADER)
    assert reasons(statement) == [(2, "交易金额：不能为空")]


def test_counterparty_and_summary_aliases_and_several_summary_columns():
    statement = parse_csv(
        "2024-01-05,,100.00,苏州甲有限公司,6222000011112222333,货款,合同HT-1",
        "2024-01-06,,100.00,苏州乙有限公司,,货款,货款",
        header="交易日期,借方发生额,贷方发生额,对方单位名称,对方账户,摘要,用途",
    )
    first, second = statement.transactions
    assert (first.counterparty, first.counterparty_account, first.summary) == (
        "苏州甲有限公司", "6222000011112222333", "货款；合同HT-1")
    assert second.summary == "货款"


@pytest.mark.parametrize(
    ("cell", "field"),
    [
        ("对方户名", "counterparty"), ("对方账户名称", "counterparty"), ("收/付方名称", "counterparty"),
        ("对方账号", "counterparty_account"), ("收/付方账号", "counterparty_account"),
        ("账户余额", "balance"), ("交易后余额", "balance"), ("当前余额", "balance"),
        ("附言", "summary"), ("交易摘要", "summary"), ("备注", "summary"), ("发生额", "amount"),
        ("收支标志", "direction"), (" 交 易 日 期 ", "date"), ("余额(元)", "balance"),
        ("Balance 余额", "balance"), ("凭证号", None), ("对方开户行", None),
    ],
)
def test_header_field(cell, field):
    found = header_field(cell)
    assert (found[0] if found else None) == field


def test_no_header_and_missing_columns_are_file_errors():
    statement = parse_statement("名称,数量\n甲,1\n".encode(), "a.csv")
    assert reasons(statement) == [(0, "无法识别为银行对账单：未找到对账单的表头行，表头应包含"
                                      "交易日期列，以及借方/贷方发生额（收入/支出）列或交易金额列")]
    statement = parse_statement("交易日期,对方户名,摘要\n2024-01-05,甲,货款\n".encode(), "a.csv")
    assert reasons(statement) == [(0, "无法识别为银行对账单：第1行的表头缺少必需的列：借方/贷方发生额或交易金额")]


def test_text_that_is_not_a_table():
    rng = random.Random(7)
    garbage = "".join(rng.choice("abcdefghij klmnop,;.!?\n") for _ in range(3000)).encode()
    statement = parse_statement(garbage, "x.csv")
    assert len(statement.errors) == 1 and statement.errors[0].line == 0
    assert "未找到对账单的表头行" in statement.errors[0].reason


def test_pdf_is_refused_with_advice():
    statement = parse_statement(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "statement.pdf")
    assert reasons(statement) == [(0, "不支持PDF格式的对账单，请从网上银行导出Excel或CSV格式的明细后上传")]


def test_only_total_rows_under_the_header_means_no_transactions():
    statement = parse_csv("合计,0.00,0.00,,,,")
    assert reasons(statement) == [(0, "文件中没有交易记录：表头下方没有数据行")]


# --- rows that are not transactions -------------------------------------------------------------


def test_total_subtotal_page_and_note_rows_are_skipped():
    statement = parse_csv(
        "2024-01-01,,,10000.00,,,期初余额",
        "2024-01-05,,100.00,10100.00,甲,,货款",
        '本页小计,0.00,100.00,,,,',
        ",,,,,,",
        "",
        SPLIT_HEADER,  # a page header repeated
        "2024-01-06,40.00,,10060.00,乙,,付款",
        "本页合计,40.00,0.00,,,,",
        "合计,40.00,100.00,,,,",
        "总计,40.00,100.00,,,,",
        "借方发生额合计：40.00,贷方发生额合计：100.00,,,,,",
        "借方笔数：1,贷方笔数：1,,,,,",
        ",,,,,,本日合计",
        "第1页/共1页,,,,,,",
        "打印日期：2024-02-01 09:00:00,,,,,,",
        "注：本对账单仅供参考,,,,,,",
    )
    assert [(t.line, t.amount) for t in statement.transactions] == [
        (3, Decimal("100.00")), (8, Decimal("-40.00"))]


def test_a_counterparty_with_a_note_word_does_not_hide_a_bad_row():
    statement = parse_csv(",,100.00,,苏州打印科技有限公司,,货款", header="交易日期,借方发生额,贷方发生额,余额,对方户名,对方账号,摘要")
    assert reasons(statement) == [(2, "交易日期：不能为空")]
    statement = parse_csv("2024-13-01,,100.00,,汇总物流有限公司,,合计货款")
    assert reasons(statement) == [(2, "交易日期：无法识别“2024-13-01”（日期不存在）")]


def test_a_transaction_whose_summary_says_total_is_still_a_transaction():
    statement = parse_csv("2024-01-05,,100.00,,甲,,货款合计")
    assert amounts(statement) == [Decimal("100.00")]


def test_every_bad_row_is_reported_and_nothing_is_kept():
    statement = parse_csv(
        "2024-01-05,,100.00,,甲,,",
        "2024-01-06,,,,乙,,",
        "2024-01-07,x,,,丙,,",
        "2024-01-08,,200.00,,丁,,",
        "20240230,,1.00,,戊,,",
    )
    assert [line for line, _ in reasons(statement)] == [3, 4, 6]
    assert statement.transactions == []


def test_quoted_line_breaks_keep_the_line_numbers_the_file_shows():
    statement = parse_csv(
        '2024-01-05,,100.00,,甲,,"货款\r\n第一期"',
        "2024-01-06,,1x,,乙,,",
    )
    assert reasons(statement) == [(4, "贷方发生额：不是有效的金额“1x”")]
    statement = parse_csv('2024-01-05,,100.00,,甲,,"货款\n第一期"', "2024-01-06,,1.00,,乙,,")
    assert [t.line for t in statement.transactions] == [2, 4]
    assert statement.transactions[0].summary == "货款\n第一期"


# --- formats and text ---------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_encodings(encoding):
    statement = parse_csv("2024-01-05,,100.00,,㐀苏州甲有限公司,,货款", encoding=encoding) if encoding != "gbk" \
        else parse_csv("2024-01-05,,100.00,,苏州甲有限公司,,货款", encoding=encoding)
    assert statement.transactions[0].counterparty.endswith("苏州甲有限公司")


def test_utf16_tab_separated_text_as_excel_saves_it():
    text = "交易日期\t借方金额\t贷方金额\t对方户名\r\n2024-01-05\t\t100.00\t甲\r\n"
    statement = parse_statement(text.encode("utf-16"), "s.txt")
    assert amounts(statement) == [Decimal("100.00")]


def test_account_numbers_stay_text():
    statement = parse_csv(
        '2024-01-05,,100.00,,甲,="6222020200012345678",',
        "2024-01-06,,100.00,,乙,'0012345678901234567890,",
        header=SPLIT_HEADER,
    )
    assert [t.counterparty_account for t in statement.transactions] == [
        "6222020200012345678", "0012345678901234567890"]


def test_xlsx_numeric_cells_are_exact_decimals():
    values = [1234.5, 0.1, 99999999.99, 0.07, 1e-2, 123456789012.34]
    data = xlsx_bytes([["交易日期", "交易金额"], *([f"2024-01-0{i + 1}", v] for i, v in enumerate(values))])
    statement = parse_statement(data, "s.xlsx")
    assert amounts(statement) == [Decimal("1234.50"), Decimal("0.10"), Decimal("99999999.99"),
                                  Decimal("0.07"), Decimal("0.01"), Decimal("123456789012.34")]


def test_account_info_rows_in_their_common_shapes():
    info = statement_info([
        ["中国建设银行单位客户账户明细"],
        ["账户：基本存款账户", "账号：3205 0162 8536 0000 0123"],
        ["户名", "苏州甲有限公司", "开户行：中国建设银行苏州工业园区支行"],
        ["对方账号：999999999999"],
    ])
    assert info == {"account_no": "32050162853600000123", "account_name": "苏州甲有限公司",
                    "bank": "中国建设银行"}


@pytest.mark.parametrize(
    ("text", "bank"),
    [
        ("中国工商银行 对账单", "中国工商银行"), ("中国银行交易流水明细清单", "中国银行"),
        ("招商银行账户交易明细", "招商银行"), ("江苏苏州农村商业银行股份有限公司 账户明细", "江苏苏州农村商业银行"),
        ("苏州银行对账单", "苏州银行"), ("ICBC 账户明细", "中国工商银行"), ("账户明细", ""),
    ],
)
def test_bank_names(text, bank):
    assert bank_name(text) == bank


def test_title_rows_without_a_bank():
    statement = parse_csv("2024-01-05,,100.00,,甲,,", header="账户明细查询\r\n" + SPLIT_HEADER)
    assert statement.bank == "" and statement.accepted


# --- a generated statement: the fast path and the careful path agree ----------------------------


def test_generated_statement_with_mixed_cell_forms_adds_up():
    rng = random.Random(20261122)
    lines = ["中国工商银行 账户历史明细", f"账号：1102020109000123456,户名：{HOLDER}", SPLIT_HEADER]
    inflow = outflow = Decimal("0")
    balance = Decimal("100000.00")
    for number in range(3000):
        day = date(2024, 1 + number % 12, 1 + number % 28)
        when = rng.choice([day.isoformat(), f"{day.isoformat()} {rng.randrange(24):02d}:{rng.randrange(60):02d}:"
                           f"{rng.randrange(60):02d}", day.strftime("%Y%m%d"), f"{day.year}/{day.month}/{day.day}"])
        amount = Decimal(rng.randrange(1, 10_000_000)) / 100
        text = rng.choice([f"{amount:.2f}", f"{amount:,.2f}", f"¥{amount:,.2f}", f"{amount.normalize():f}"])
        if rng.random() < 0.5:
            inflow += amount
            balance += amount
            debit, credit = "", text
        else:
            outflow += amount
            balance -= amount
            debit, credit = text, rng.choice(["", "-", "0.00"])
        lines.append(f'{when},"{debit}","{credit}","{balance:,.2f}",对方{number % 97},62220{number:014d},货款')
        if number % 500 == 499:
            lines.append("本页小计,,,,,,")
    lines.append(f'合计,"{outflow:,.2f}","{inflow:,.2f}",,,,')
    statement = parse_statement(("\r\n".join(lines) + "\r\n").encode("gb18030"), "big.csv")
    assert len(statement.transactions) == 3000
    assert totals(statement) == (inflow, outflow)
    assert statement.transactions[-1].balance == balance
    assert statement.transactions[0].counterparty_account == "6222000000000000000"
    assert all(t.amount.as_tuple().exponent == -2 for t in statement.transactions)


def test_parse_error_and_statement_are_the_shared_model():
    statement = parse_csv("2024-01-05,,x,,甲,,")
    assert isinstance(statement, Statement)
    assert statement.errors == [ParseError(2, "贷方发生额：不是有效的金额“x”")]


def test_long_or_multi_line_cells_are_shortened_in_messages():
    statement = parse_csv('2024-01-05,,"12\n34' + "5" * 60 + '",,甲,,')
    assert statement.errors[0].reason == "贷方发生额：不是有效的金额“12 34" + "5" * 34 + "…”"


def test_own_account_column_is_read_even_when_the_first_row_is_a_carried_balance():
    statement = parse_csv(
        ",,2024-01-01,,,1000.00,期初余额",
        f"'32050162853600000123,{HOLDER},2024-01-02,,5.00,1005.00,利息",
        header="账号,账户名称,交易日期,借方发生额,贷方发生额,余额,摘要",
    )
    assert (statement.account_no, statement.account_name) == ("32050162853600000123", HOLDER)
    assert amounts(statement) == [Decimal("5.00")]


def test_account_info_as_a_row_of_labels_over_a_row_of_values_gives_no_holder():
    # The holder is read only beside its label on the same line (issue 11): under a row of
    # labels the row below may be anything (起止日期, 至 ...), so it gives the number, not the name.
    info = statement_info([
        ["户名", "账号", "币种", "开户行"],
        [HOLDER, "6222020200012345678", "人民币", "中国工商银行苏州分行"],
    ])
    assert info == {"account_no": "6222020200012345678", "bank": "中国工商银行", "currency": "人民币"}
    statement = parse_csv(
        "2024-01-05,,100.00,,甲,,",
        header=f"户名,账号\r\n{HOLDER},6222020200012345678\r\n{SPLIT_HEADER}",
    )
    assert (statement.account_name, statement.account_no) == ("", "6222020200012345678")


@pytest.mark.parametrize("text", [
    "a,b\n\nc,d\n",  # a blank line is a row of its own
    "a,b\r\nc,d\r\n\r\n",
    'a,"unclosed\n',  # an unclosed quote on the last line keeps its line break
    'a,"two\nlines",b\nc,d',
    "a,b\rc,d\n",  # a lone CR ends a line too
    "a,\x0cb\nc,\u2028d\n",  # form feed, U+2028: line breaks to str.splitlines(), not to the CSV reader
    "中文,1\n中文,2",
    "",
])
def test_the_fast_csv_reading_gives_the_rows_stringio_gives(text):
    import csv

    from workflows.verification.statements import _csv_lines

    assert list(csv.reader(_csv_lines(text))) == list(csv.reader(io.StringIO(text, newline="")))
