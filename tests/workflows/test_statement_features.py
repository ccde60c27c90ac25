"""Statements as banks export them (issue 11, item 2 and its "Bad input"), feature by feature.

Each test builds the smallest file showing one thing real exports do; the corpus under
tests/fixtures/statements/banks/ (test_bank_exports.py) shows them together, bank by bank.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from workflows.verification.model import ParseWarning
from workflows.verification.statement_headers import (
    IN,
    OUT,
    direction,
    holder_matches,
    plausible_holder,
    recognised_headers,
    recognised_labels,
    statement_info,
)
from workflows.verification.statements import parse_statement

HOLDER = "苏州恒信精密机械有限公司"


def csv_file(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def parse(*lines: str, encoding: str = "utf-8"):
    return parse_statement(csv_file(*lines, encoding=encoding), "statement.csv")


def amounts(statement) -> list[Decimal]:
    assert statement.errors == [], [(e.line, e.reason) for e in statement.errors]
    return [t.amount for t in statement.transactions]


def codes(statement) -> list[str]:
    return sorted(w.code for w in statement.warnings)


def xlsx(rows: list[list[object]], text_columns: tuple[int, ...] = ()) -> bytes:
    book = Workbook()
    sheet = book.active
    for values in rows:
        sheet.append(values)
        for column in text_columns:
            sheet.cell(sheet.max_row, column).number_format = "@"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- the account holder: only beside its label, on the same line ---------------------------------


def test_the_holder_beside_a_title_line_is_not_taken_from_the_period_line_below():
    """Issue 11: 至 was taken for the holder, and the statement refused as another company's."""
    statement = parse(
        "账号:,512904123410901,户名:," + HOLDER,
        "起止日期:,2024-01-06,至,2025-01-28",
        "交易日,借方金额,贷方金额,余额,收/付方名称",
        "20240110,,100.00,100.00,甲",
    )
    assert (statement.account_name, statement.account_no) == (HOLDER, "512904123410901")
    assert statement.warnings == []


def test_a_period_line_alone_names_no_holder():
    statement = parse("户名:", "起止日期:,2024-01-06,至,2025-01-28", "交易日期,交易金额", "2024-01-10,5")
    assert statement.account_name == ""
    assert codes(statement) == ["holder_missing"]


@pytest.mark.parametrize(
    "row",
    [
        [f"户名：{HOLDER}"],
        ["户名", HOLDER],
        ["户名：", HOLDER],
        ["户　名：", HOLDER],  # a full-width space inside the label
        [f"户　名：{HOLDER}  账号：6222 0202 0001 2345 678"],
        ["账户名称:", "", HOLDER],  # merged cells leave an empty cell between
        [f"账号：6222020200012345678,账户类型：个人结算账户,户名：{HOLDER}"],
        ["单位名称：", HOLDER, "开户行：", "中国银行苏州分行"],
        [f"# 户    名: [{HOLDER}]"],
    ],
)
def test_the_holder_is_the_value_beside_its_label(row):
    assert statement_info([row])["account_name"] == HOLDER


@pytest.mark.parametrize(
    "row",
    [
        ["户名：", "起止日期：", "2024-01-01"],  # the next cell is another label
        ["户名：", "至"],
        ["户名：", "2024-01-01"],
        ["户名：", "6222020200012345678"],
        ["户名：", "人民币"],
        [HOLDER, "账户明细"],  # a name without a label is not the holder
        [f"{HOLDER}对账单"],
    ],
)
def test_a_value_that_cannot_be_a_name_or_has_no_label_is_not_the_holder(row):
    assert "account_name" not in statement_info([row])


def test_labels_over_values_give_the_account_number_but_not_the_holder():
    info = statement_info([["账号", "户名", "起止日期"], ["6222020200012345678", "至", "2024-01-01"]])
    assert info.get("account_no") == "6222020200012345678" and "account_name" not in info


@pytest.mark.parametrize("text", ["王建国", "张*明", "苏州恒信有限公司", "ABC Trading Co."])
def test_plausible_holders(text):
    assert plausible_holder(text)


@pytest.mark.parametrize("text", ["至", "至今", "2024-01-06", "20240106", "6222020200012345678", "人民币", "*", ""])
def test_implausible_holders(text):
    assert not plausible_holder(text)


@pytest.mark.parametrize(
    ("holder", "name", "matches"),
    [
        (HOLDER, HOLDER, True),
        ("苏州恒信精密机械有限公司 ", "苏州 恒信精密机械有限公司", True),
        ("上海某某（集团）有限公司", "上海某某(集团)有限公司", True),
        ("张*明", "张晓明", True),
        ("*晓明", "张晓明", True),
        ("苏州****有限公司", HOLDER, True),
        (f"{HOLDER}（基本户）", HOLDER, True),
        (f"{HOLDER}(一般存款账户)", HOLDER, True),
        ("苏州某某（集团）有限公司", "苏州某某有限公司", False),
        ("张*明", "张晓东", False),
        ("李四", "张三", False),
        ("***", "张三", False),
        ("", "张三", False),
    ],
)
def test_holder_matching_with_masks(holder, name, matches):
    assert holder_matches(holder, name) is matches


def test_an_own_account_column_whose_values_change_is_not_the_statement_holder():
    """账号 | 户名 columns that hold the counterparties are not the statement's own."""
    statement = parse(
        "日期,账号,户名,收入,支出",
        "2024-01-05,6222020200011112222,张三,100.00,",
        "2024-01-06,6222020200033334444,李四,,50.00",
    )
    assert (statement.account_no, statement.account_name) == ("", "")
    statement = parse(
        "日期,账号,户名,收入,支出,对方户名",
        f"2024-01-05,6222020200011112222,{HOLDER},100.00,,张三",
        f"2024-01-06,6222020200011112222,{HOLDER},,50.00,李四",
    )
    assert (statement.account_no, statement.account_name) == ("6222020200011112222", HOLDER)


# --- direction flags ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "sign"),
    [("贷 Cr", IN), ("借 Dr", OUT), ("贷(Cr)", IN), ("借（DR）", OUT), ("Cr 贷方", IN), ("CR", IN), ("DR", OUT),
     ("C", IN), ("D", OUT), ("Credit", IN), ("Debit", OUT), ("收入", IN), ("支出", OUT), ("来账", IN),
     ("往账", OUT), ("贷\t", IN), ("Cr.", IN)],
)
def test_direction_flags_with_english_suffixes(flag, sign):
    assert direction(flag.strip()) == sign


@pytest.mark.parametrize("flag", ["借/贷", "贷 Dr", "X", "转账", "1", "0", "CD"])
def test_unknown_or_contradicting_flags(flag):
    assert direction(flag) is None


def test_an_unknown_direction_flag_is_a_bad_row_with_its_line_in_both_languages():
    statement = parse("交易日期,交易金额,借贷标志", "2024-01-05,100.00,贷 Cr", "2024-01-06,20.00,转账",
                      "2024-01-07,30.00,借 Dr")
    [error] = statement.errors
    assert error.line == 3
    assert error.reason == "借贷标志：无法识别“转账”，应为借/贷、收/付、出/入或D/C"
    assert "转账" in error.reason_en and "not a known direction" in error.reason_en
    assert error.text("en") == error.reason_en and error.text("zh_Hans_CN") == error.reason
    assert statement.transactions == []


def test_flags_with_suffixes_read_in_a_long_file():
    rows = [f"2024-01-{1 + n % 28:02d},{n + 1}.00,{'贷 Cr' if n % 2 else '借 Dr'}" for n in range(300)]
    statement = parse("交易日期,交易金额,借贷标志", *rows)
    values = amounts(statement)
    assert values[0] == Decimal("-1.00") and values[1] == Decimal("2.00") and len(values) == 300


def test_a_signed_amount_with_a_direction_suffix():
    assert amounts(parse("交易日期,交易金额", "2024-01-05,\"1,200.00 Dr\"", "2024-01-06,300.00CR",
                         "2024-01-07,50.00借")) == [Decimal("-1200.00"), Decimal("300.00"), Decimal("-50.00")]


# --- amounts: "-" and "--", two columns, column pairs, padding ------------------------------------


@pytest.mark.parametrize("blank", ["", "-", "--", "—", "－"])
def test_the_unused_side_may_be_empty_or_a_dash(blank):
    statement = parse("交易日期,存入,取出,余额", f"2024-01-05,100.00,{blank},100.00", f"2024-01-06,{blank},40.00,60.00")
    assert amounts(statement) == [Decimal("100.00"), Decimal("-40.00")]


def test_income_and_expense_columns():
    statement = parse("交易日期,收入,支出,余额", "2024-01-05,100.00,,100.00", "2024-01-06,,40.00,60.00")
    assert amounts(statement) == [Decimal("100.00"), Decimal("-40.00")]


def test_cells_padded_with_trailing_spaces_and_tabs():
    statement = parse(
        "户名：\t," + HOLDER + "\t",
        "交易日期\t,借方发生额\t,贷方发生额\t,余额\t,对方户名\t",
        "2024-01-05 \t,\t,\"1,000.00\t\",\"1,000.00\t\",甲公司\t",
        "2024-01-06\t\t,200.00  ,  -  ,800.00\t,乙公司  ",
    )
    assert amounts(statement) == [Decimal("1000.00"), Decimal("-200.00")]
    assert statement.transactions[0].counterparty == "甲公司"
    assert statement.account_name == HOLDER


def test_a_tab_padded_export_is_still_read_as_comma_separated():
    rows = [f"2024-01-{day:02d}\t,\t,{day}.00\t,对方{day}\t" for day in range(1, 29)]
    statement = parse("交易日期,借方发生额,贷方发生额,对方户名", *rows)
    assert len(amounts(statement)) == 28 and statement.transactions[3].counterparty == "对方4"


def test_card_exports_with_two_amount_pairs_read_the_account_pair():
    header = "交易日期,交易金额(收入),交易金额(支出),交易币种,记账金额(收入),记账金额(支出),记账币种,余额"
    statement = parse(header, "2024-01-05,-,-,人民币,100.00,-,人民币,100.00",
                      "2024-01-06,-,-,人民币,-,30.00,人民币,70.00")
    assert amounts(statement) == [Decimal("100.00"), Decimal("-30.00")]
    assert statement.warnings == [ParseWarning("holder_missing", statement.warnings[0].message_zh,
                                               statement.warnings[0].message_en)]


def test_card_exports_whose_account_pair_holds_only_dashes_read_the_other_pair_with_a_warning():
    header = "交易日期,交易金额(收入),交易金额(支出),记账金额(收入),记账金额(支出),余额,户名：张三"
    statement = parse("户名：,张三", header.rsplit(",", 1)[0],
                      "2024-01-05,100.00,-,-,-,100.00", "2024-01-06,-,30.00,-,-,70.00")
    assert amounts(statement) == [Decimal("100.00"), Decimal("-30.00")]
    [warning] = statement.warnings
    assert warning.code == "amount_fallback" and "记账金额" in warning.message_zh and "交易金额" in warning.message_zh


def test_foreign_transactions_booked_in_yuan_take_the_booked_amount():
    header = "交易日期,交易金额,交易币种,记账金额,记账币种"
    statement = parse(header, "2024-01-05,-20.00,USD,-143.60,人民币", "2024-01-06,500.00,人民币,500.00,人民币")
    assert amounts(statement) == [Decimal("-143.60"), Decimal("500.00")]


def test_a_foreign_currency_row_is_a_bad_row_and_a_foreign_account_is_refused():
    statement = parse("交易日期,币种,交易金额", "2024-01-05,人民币,100.00", "2024-01-06,美元,20.00")
    assert [(e.line, e.reason) for e in statement.errors] == [(3, "币种：美元，只能导入人民币交易")]
    statement = parse("币种：,USD", "交易日期,交易金额", "2024-01-05,100.00")
    assert statement.errors[0].line == 0 and "美元" in statement.errors[0].reason


def test_a_two_row_header_with_merged_amount_cells():
    data = xlsx([
        ["交易日期", "摘要", "交易金额", None, "余额"],
        [None, None, "收入", "支出", None],
        ["2024-01-05", "货款", 100, None, 100],
        ["2024-01-06", "付款", None, 40, 60],
        [None, None, "收入", "支出", None],  # the second header row, repeated on a new page
        ["2024-01-07", "货款", 5, None, 65],
    ])
    statement = parse_statement(data, "s.xlsx")
    assert amounts(statement) == [Decimal("100.00"), Decimal("-40.00"), Decimal("5.00")]
    assert [t.line for t in statement.transactions] == [3, 4, 6]


def test_an_english_header_row_under_the_chinese_one():
    statement = parse("交易日期,借方发生额,贷方发生额,余额", "Transaction Date,Debit,Credit,Balance",
                      "2024-01-05,,100.00,100.00")
    assert amounts(statement) == [Decimal("100.00")]


# --- dates --------------------------------------------------------------------------------------


def test_date_and_time_separated_by_two_spaces():
    rows = [f"2025/12/{day:02d}  14:06:{day:02d},,{day}.00" for day in range(1, 20)]
    statement = parse("交易时间,借方金额,贷方金额", *rows)
    assert [t.date for t in statement.transactions] == [date(2025, 12, day) for day in range(1, 20)]


def test_dates_like_20250101_in_text_cells_of_a_spreadsheet():
    data = xlsx([["交易日期", "交易金额"], ["20250101", 10], ["20250102", -5], [20250103, 1]], text_columns=(1,))
    statement = parse_statement(data, "s.xlsx")
    assert [t.date for t in statement.transactions] == [date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3)]


def test_a_date_kept_as_text_with_a_leading_quote():
    assert [t.date for t in parse("交易日期,交易金额", "'20250101,10", "'20250102,5").transactions] == [
        date(2025, 1, 1), date(2025, 1, 2)]


# --- balances -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mask", ["****", "***,***.**", "******.**", "xxxx"])
def test_a_balance_masked_on_every_row_is_absent_with_a_warning(mask):
    statement = parse("交易日期,交易金额,余额", f"2024-01-05,100.00,{mask}", f"2024-01-06,-30.00,{mask}")
    assert amounts(statement) == [Decimal("100.00"), Decimal("-30.00")]
    assert all(t.balance is None for t in statement.transactions)
    assert "balance_masked" in codes(statement)
    warning = next(w for w in statement.warnings if w.code == "balance_masked")
    assert "余额" in warning.text("zh") and "balance" in warning.text("en")


def test_a_balance_empty_on_every_row_is_absent_with_a_warning():
    statement = parse("交易日期,交易金额,余额", "2024-01-05,100.00,", "2024-01-06,-30.00,-")
    assert "balance_empty" in codes(statement)


def test_a_balance_masked_on_some_rows_names_them():
    statement = parse("交易日期,交易金额,余额", "2024-01-05,100.00,100.00", "2024-01-06,-30.00,****")
    warning = next(w for w in statement.warnings if w.code == "balance_partly_masked")
    assert warning.line == 3 and "第3行" in warning.message_zh
    assert statement.transactions[1].balance is None


# --- rows below the table -----------------------------------------------------------------------


def test_footer_lines_after_the_last_transaction_never_become_transactions():
    statement = parse(
        f"户名：{HOLDER}",
        "序号,交易日期,摘要,借方发生额,贷方发生额,余额",
        "1,2024-01-05,货款,,100.00,100.00",
        "2,2024-01-06,付款,40.00,,60.00",
        ",,,40.00,100.00,",  # a total without its word
        "本页合计,,,40.00,100.00,",
        "借方笔数,借方金额,贷方笔数,贷方金额",
        "1,40.00,1,100.00",  # the figures under those labels
        "以上数据仅供参考，具体以银行记账为准。",
        "经办人：张三,,复核：李四,,,",
        "客户签字：",
        "打印时间：2024-02-01 10:00:00",
        "2024-02-01 10:00:00",  # a lone print time
        "第1页/共1页",
    )
    assert amounts(statement) == [Decimal("100.00"), Decimal("-40.00")]


def test_a_bad_dated_row_below_a_footer_is_still_reported():
    statement = parse("交易日期,借方发生额,贷方发生额", "2024-01-05,,100.00", "本页合计,,100.00",
                      "2024-13-01,,50.00", "2024-01-07,,x")
    assert [e.line for e in statement.errors] == [4, 5]


def test_an_undated_row_with_an_amount_between_transactions_is_still_a_bad_row():
    statement = parse("交易日期,借方发生额,贷方发生额", "2024-01-05,,100.00", ",,77.00", "2024-01-07,,5.00")
    assert [(e.line, e.reason) for e in statement.errors] == [(3, "交易日期：不能为空")]


def test_a_row_with_neither_date_nor_amount_is_text_not_a_transaction():
    statement = parse("交易日期,摘要,借方发生额,贷方发生额", "2024-01-05,货款,,100.00", ",（接上行）合同HT-1,,",
                      "2024-01-06,付款,10.00,")
    assert amounts(statement) == [Decimal("100.00"), Decimal("-10.00")]


@pytest.mark.parametrize(
    "text",
    ["以上数据仅供参考，具体以银行记账为准。", "温馨提示：本明细仅供参考\r\n如有疑问请致电客服",
     "中国工商银行\r\n免责声明：以上信息仅供参考，不作为记账依据。"],
)
def test_a_file_that_is_only_a_disclaimer_is_rejected_with_a_clear_message(text):
    statement = parse_statement(text.encode("gbk"), "disclaimer.csv")
    [error] = statement.errors
    assert error.line == 0
    assert error.reason.startswith("文件中只有说明或免责声明文字")
    assert "disclaimer" in error.reason_en
    assert statement.transactions == []


def test_a_header_followed_only_by_footer_lines_has_no_transactions():
    statement = parse("交易日期,借方发生额,贷方发生额", "合计,0.00,0.00", "以上数据仅供参考")
    assert [(e.line, e.reason) for e in statement.errors] == [(0, "文件中没有交易记录：表头下方没有数据行")]


# --- warnings -------------------------------------------------------------------------------------


def test_transactions_outside_the_stated_period_are_named():
    statement = parse(f"户名：{HOLDER},起止日期：2024-01-01至2024-01-31", "交易日期,交易金额",
                      "2024-01-05,10", "2024-02-03,5")
    warning = next(w for w in statement.warnings if w.code == "outside_period")
    assert warning.line == 4 and "2024-01-01" in warning.message_zh


def test_an_accepted_clean_file_has_no_warnings():
    statement = parse(f"户名：{HOLDER}", "交易日期,交易金额,余额", "2024-01-05,10,10")
    assert statement.accepted and statement.warnings == []


def test_errors_and_warnings_read_in_either_language():
    statement = parse("交易日期,借方发生额,贷方发生额", "2024-01-05,,1x")
    [error] = statement.errors
    assert error.text("zh") == "贷方发生额：不是有效的金额“1x”"
    assert error.text("en") == "贷方发生额: “1x” is not a valid amount"


# --- the headers the importer reads ----------------------------------------------------------------


def test_recognised_headers_name_every_role_in_both_languages():
    roles = {role.role: role for role in recognised_headers()}
    for needed in ("date", "time", "credit", "debit", "amount", "direction", "balance", "counterparty",
                   "counterparty_account", "summary", "currency"):
        assert needed in roles
    for role in roles.values():
        assert role.zh and role.en and role.names
    assert "交易日期" in roles["date"].names and "借贷标志" in roles["direction"].names
    assert "记账金额(收入)" in roles["credit"].names and "取出" in roles["debit"].names
    assert {label.role for label in recognised_labels()} >= {"account_name", "account_no"}


def test_every_recognised_header_name_is_read_as_its_role():
    from workflows.verification.statement_headers import header_field

    for role in recognised_headers():
        for name in role.names:
            assert header_field(name)[0] == role.role, name


def test_header_variants_not_listed_are_still_read():
    statement = parse("记账日期(Date),金额-收入,金额-支出,结余(元),对方帐号,交易对方", "2024-01-05,100.00,,100.00,62220001,甲")
    assert amounts(statement) == [Decimal("100.00")]
    assert statement.transactions[0].counterparty_account == "62220001"
    assert statement.transactions[0].counterparty == "甲"


def test_a_combined_counterparty_column_is_split():
    statement = parse("交易日期,交易金额,对方账号与户名", "2024-01-05,10,6222020200012345678/张三",
                      "2024-01-06,10,李四 6222020200099998888", "2024-01-07,10,财付通")
    assert [(t.counterparty, t.counterparty_account) for t in statement.transactions] == [
        ("张三", "6222020200012345678"), ("李四", "6222020200099998888"), ("财付通", "")]


def test_spreadsheet_times_and_datetimes_in_the_date_column():
    data = xlsx([["交易时间", "交易金额"], [datetime(2024, 1, 5, 14, 30), 10], [datetime(2024, 1, 6), -5]])
    assert [t.date for t in parse_statement(data, "s.xlsx").transactions] == [date(2024, 1, 5), date(2024, 1, 6)]
