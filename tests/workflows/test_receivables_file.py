"""The receivables bulk-import file: every row checked, errors on the lines the user sees."""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from workflows.identifiers import uscc_check_char
from workflows.receivables_file import (
    HEADERS,
    ReceivableRow,
    RowError,
    parse_receivables,
    template_csv,
    template_xlsx,
)
from workflows.tabular import TableError

USCC_A = "91310115MA1K3ABC0" + uscc_check_char("91310115MA1K3ABC0")
USCC_B = "91440300MA5E6F7G8" + uscc_check_char("91440300MA5E6F7G8")
# The first template's header: its 确认状态 is still read (now as the file's declaration).
HEADER = "债务人名称,债务人统一社会信用代码,发票号码,合同编号,金额,开票日期,到期日,确认状态"
LINE_FIELDS = [field for field in HEADERS if field != "reason"]  # the columns of HEADER


def good_line(invoice="12345678", **changes) -> str:
    values = {
        "debtor_name": "上海甲贸易有限公司",
        "debtor_uscc": USCC_A,
        "invoice_no": invoice,
        "contract_no": "HT-1",
        "amount": "1000.00",
        "issue_date": "2024-03-01",
        "due_date": "2024-06-01",
        "confirmation": "已确认",
    }
    values.update(changes)
    return ",".join(values[field] for field in LINE_FIELDS)


def csv_file(*lines: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return "\r\n".join([header, *lines, ""]).encode(encoding)


def parse_one_row_errors(**changes) -> list[str]:
    rows, errors = parse_receivables(csv_file(good_line(**changes)), "a.csv")
    assert rows == [] or not errors
    return [error.reason for error in errors]


# --- good files ---------------------------------------------------------------------------------


def test_a_good_csv_row_becomes_a_receivable_with_decimal_amount_and_dates():
    rows, errors = parse_receivables(csv_file(good_line(amount='"¥1,234.5"')), "a.csv")
    assert errors == []
    assert rows == [
        ReceivableRow(
            line=2,
            debtor_name="上海甲贸易有限公司",
            debtor_uscc=USCC_A,
            invoice_no="12345678",
            contract_no="HT-1",
            amount=Decimal("1234.50"),
            issue_date=date(2024, 3, 1),
            due_date=date(2024, 6, 1),
            confirmation="confirmed",
        )
    ]


def test_gbk_csv_is_read():
    rows, errors = parse_receivables(csv_file(good_line(), encoding="gbk"), "a.csv")
    assert errors == [] and rows[0].debtor_name == "上海甲贸易有限公司"


def test_lowercase_uscc_with_spaces_is_stored_normalised():
    spaced = " ".join([USCC_A[:8].lower(), USCC_A[8:].lower()])
    rows, errors = parse_receivables(csv_file(good_line(debtor_uscc=spaced)), "a.csv")
    assert errors == [] and rows[0].debtor_uscc == USCC_A


def test_english_headers_and_amount_with_unit_are_accepted():
    header = (
        "debtor_name,DEBTOR_USCC,invoice_no,contract_no,金额（元）,issue_date,due_date,confirmation"
    )
    rows, errors = parse_receivables(csv_file(good_line(), header=header), "a.csv")
    assert errors == [] and len(rows) == 1
    header = HEADER.replace("金额", "金额(元)")
    rows, errors = parse_receivables(csv_file(good_line(), header=header), "a.csv")
    assert errors == [] and len(rows) == 1


def test_contract_number_column_may_be_left_out():
    header = HEADER.replace("合同编号,", "")
    line = good_line().replace(",HT-1", "")
    rows, errors = parse_receivables(csv_file(line, header=header), "a.csv")
    assert errors == [] and rows[0].contract_no == ""


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("已确认", "confirmed"),
        ("confirmed", "confirmed"),
        ("Confirmed", "confirmed"),
        ("待确认", "pending"),
        ("pending", "pending"),
        ("有异议", "disputed"),
        ("disputed", "disputed"),
        ("", "pending"),
    ],
)
def test_confirmation_values_map_to_states_and_blank_means_pending(text, state):
    rows, errors = parse_receivables(csv_file(good_line(confirmation=text)), "a.csv")
    assert errors == [] and rows[0].confirmation == state


def test_xlsx_with_title_rows_date_cells_and_long_digit_text_is_read_on_excel_rows():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["2024年第一季度应收账款清单"])
    sheet.append(["填报单位：上海乙科技有限公司"])
    sheet.append(list(HEADERS.values()))
    sheet.append(
        [
            "上海甲贸易有限公司",
            USCC_A,
            "24312000000000123456",
            None,
            1234.5,
            date(2024, 3, 1),
            date(2024, 6, 1),
            "待确认",
        ]
    )
    sheet.append([])
    sheet.append(
        [
            "深圳丙电子有限公司",
            USCC_B,
            "00012345",
            "HT-9",
            88000,
            date(2024, 3, 5),
            date(2024, 9, 5),
            None,
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows, errors = parse_receivables(buffer.getvalue(), "清单.xlsx")
    assert errors == []
    assert [row.line for row in rows] == [4, 6]
    assert rows[0].invoice_no == "24312000000000123456"
    assert rows[0].amount == Decimal("1234.50") and rows[0].issue_date == date(2024, 3, 1)
    assert rows[1].invoice_no == "00012345" and rows[1].amount == Decimal("88000.00")
    assert rows[1].confirmation == "pending"


# --- bad rows -----------------------------------------------------------------------------------


def test_two_bad_rows_are_reported_on_the_lines_the_file_shows():
    text = "\r\n".join(
        [
            "应收账款清单",
            "",
            HEADER,
            good_line("1"),
            good_line("2", amount="abc"),
            good_line("3"),
            good_line("4", due_date="2024-02-30"),
            "",
        ]
    )
    rows, errors = parse_receivables(text.encode("gbk"), "清单.csv")
    assert [row.line for row in rows] == [4, 6]
    assert [(error.line, error.reason) for error in errors] == [
        (5, "金额：“abc”不是有效的数字"),
        (7, "到期日：日期“2024-02-30”不存在"),
    ]


@pytest.mark.parametrize(
    "field", ["debtor_name", "debtor_uscc", "invoice_no", "amount", "issue_date", "due_date"]
)
def test_each_missing_required_cell_is_reported_with_its_column(field):
    assert parse_one_row_errors(**{field: ""}) == [f"{HEADERS[field]}：不能为空"]


def test_all_problems_of_one_row_are_reported():
    reasons = parse_one_row_errors(debtor_name="", amount="0", confirmation="也许")
    assert reasons == [
        "债务人名称：不能为空",
        "金额：必须大于0",
        "企业声明确认状态：无法识别“也许”，应为已确认、待确认或有异议",
    ]


@pytest.mark.parametrize(
    ("uscc", "reason"),
    [
        ("9131011", "债务人统一社会信用代码：应为18位，实际为7位"),
        (
            USCC_A[:-1] + ("0" if USCC_A[-1] != "0" else "1"),
            "债务人统一社会信用代码：校验位错误，请核对是否有输错的字符",
        ),
        ("0" + USCC_A[1:], "债务人统一社会信用代码：第1位（登记管理部门代码）"),
    ],
)
def test_invalid_uscc_reports_uscc_problem_sentence(uscc, reason):
    reasons = parse_one_row_errors(debtor_uscc=uscc)
    assert len(reasons) == 1 and reasons[0].startswith(reason)


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("abc", "金额：“abc”不是有效的数字"),
        ("0", "金额：必须大于0"),
        ("-5", "金额：必须大于0"),
        ("1.005", "金额：最多两位小数"),
        ("NaN", "金额：“NaN”不是有效的数字"),
    ],
)
def test_bad_amounts_are_rejected(amount, reason):
    assert parse_one_row_errors(amount=amount) == [reason]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"issue_date": "2024/13/01"}, "开票日期：“2024/13/01”不存在"),
        ({"issue_date": "下周一"}, "开票日期：无法识别的日期“下周一”"),
        ({"due_date": "2024-02-01"}, "到期日：2024-02-01早于开票日期2024-03-01"),
    ],
)
def test_bad_dates_and_due_before_issue_are_rejected(changes, reason):
    reasons = parse_one_row_errors(**changes)
    assert len(reasons) == 1 and reasons[0].startswith(reason)


def test_issue_date_after_today_is_rejected_only_when_today_is_given():
    data = csv_file(good_line(issue_date="2024-03-02", due_date="2024-06-01"))
    assert parse_receivables(data, "a.csv")[1] == []
    rows, errors = parse_receivables(data, "a.csv", today=date(2024, 3, 1))
    assert rows == []
    assert errors == [RowError(2, "开票日期：2024-03-02晚于今天（2024-03-01）")]
    assert parse_receivables(data, "a.csv", today=date(2024, 3, 2))[1] == []


def test_same_debtor_and_invoice_twice_reports_the_second_line_and_names_the_first():
    data = csv_file(
        good_line("100"),
        good_line("200"),
        good_line("100", amount="5"),
        good_line("100", debtor_uscc=USCC_B),
    )
    rows, errors = parse_receivables(data, "a.csv")
    assert [row.line for row in rows] == [2, 3, 5]
    assert len(errors) == 1 and errors[0].line == 4
    assert "第2行" in errors[0].reason and errors[0].reason.startswith("发票号码：")


def test_invoice_number_mangled_into_scientific_notation_is_flagged():
    reasons = parse_one_row_errors(invoice="2.43E+19")
    assert reasons == ["发票号码：疑似被Excel转换为科学计数法，请把该列设为文本格式后重新填写"]


def test_overlong_texts_are_rejected():
    reasons = parse_one_row_errors(debtor_name="某" * 201, contract_no="H" * 65)
    assert reasons == [
        "债务人名称：不能超过200个字符，实际为201个",
        "合同编号：不能超过64个字符，实际为65个",
    ]


# --- whole-file problems ------------------------------------------------------------------------


def test_header_without_data_rows_is_a_table_error():
    with pytest.raises(TableError, match="文件中没有数据行"):
        parse_receivables(csv_file(), "a.csv")


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b",,,\r\n"])
def test_empty_file_is_a_table_error(data):
    with pytest.raises(TableError, match="为空"):
        parse_receivables(data, "a.csv")


def test_junk_file_is_a_table_error():
    with pytest.raises(TableError):
        parse_receivables(b"\x00\x01\x02junk\xff\xfe", "a.xlsx")


def test_missing_required_column_is_a_table_error_naming_it():
    header = HEADER.replace(",到期日", "")
    line = good_line().replace(",2024-06-01", "")
    with pytest.raises(TableError, match="表头缺少必需的列：到期日"):
        parse_receivables(csv_file(line, header=header), "a.csv")


def test_the_confirmation_column_may_be_left_out_and_then_every_row_states_pending():
    header = HEADER.replace(",确认状态", "")
    line = good_line().rsplit(",", 1)[0]
    rows, errors = parse_receivables(csv_file(line, header=header), "a.csv")
    assert errors == [] and rows[0].confirmation == "pending"


@pytest.mark.parametrize("header", ["企业声明确认状态", "确认状态", "declared_confirmation", "confirmation"])
def test_the_confirmation_column_is_read_under_its_new_and_old_names(header):
    rows, errors = parse_receivables(csv_file(good_line(), header=HEADER.replace("确认状态", header)), "a.csv")
    assert errors == [] and rows[0].confirmation == "confirmed"


def test_a_stated_dispute_keeps_its_reason_from_the_optional_reason_column():
    header = HEADER + ",异议原因"
    rows, errors = parse_receivables(csv_file(good_line(confirmation="有异议") + ",质量问题，已退货", header=header),
                                     "a.csv")
    assert errors == [] and (rows[0].confirmation, rows[0].reason) == ("disputed", "质量问题，已退货")
    rows, errors = parse_receivables(csv_file(good_line(confirmation="有异议") + "," + "因" * 501, header=header),
                                     "a.csv")
    assert [e.reason for e in errors] == ["异议原因：不能超过500个字符，实际为501个"]


def test_file_without_a_header_is_a_table_error_listing_the_columns():
    with pytest.raises(TableError, match="债务人名称、债务人统一社会信用代码、发票号码、金额"):
        parse_receivables("甲,1\n乙,2\n".encode(), "a.csv")


# --- templates ----------------------------------------------------------------------------------


def test_csv_template_is_utf8_with_bom_and_chinese_headers():
    data = template_csv()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines()[0] == ",".join(HEADERS.values())
    assert "企业声明确认状态" in HEADERS.values()


def test_the_templates_example_states_pending_and_explains_the_declaration():
    workbook = load_workbook(io.BytesIO(template_xlsx()))
    sheet = workbook.worksheets[0]
    column = list(HEADERS).index("confirmation") + 1
    assert sheet.cell(row=2, column=column).value == "待确认"  # no invitation to claim an answer
    notes = {row[0].value: row[1].value for row in workbook["填写说明"].iter_rows(min_row=2)}
    assert "不视为债务人确认" in notes["企业声明确认状态"]
    assert "异议原因" in notes


@pytest.mark.parametrize(
    ("template", "name"), [(template_csv, "模板.csv"), (template_xlsx, "模板.xlsx")]
)
def test_templates_round_trip_through_the_parser_without_errors(template, name):
    rows, errors = parse_receivables(template(), name, today=date.today())
    assert errors == []
    assert len(rows) == 1 and rows[0].line == 2 and rows[0].amount == Decimal("128000.00")


def test_xlsx_template_has_bold_header_text_code_columns_and_widths():
    workbook = load_workbook(io.BytesIO(template_xlsx()))
    sheet = workbook.worksheets[0]
    assert [cell.value for cell in sheet[1]] == list(HEADERS.values())
    assert all(cell.font.bold for cell in sheet[1])
    for letter in ("B", "C"):  # debtor USCC, invoice number
        assert sheet.column_dimensions[letter].number_format == "@"
        assert sheet[f"{letter}2"].number_format == "@"
        assert isinstance(sheet[f"{letter}2"].value, str)
    assert sheet["E2"].number_format == "#,##0.00"
    assert all(sheet.column_dimensions[letter].width >= 10 for letter in "ABCDEFGHI")


def test_repeats_are_kept_when_the_caller_judges_them_itself():
    from workflows.receivables_file import parse_receivables, template_csv

    text = template_csv().decode("utf-8-sig")
    header, example = text.splitlines()[:2]
    data = "\n".join([header, example, example]).encode()
    rows, errors = parse_receivables(data, "r.csv")
    assert len(rows) == 1 and len(errors) == 1
    rows, errors = parse_receivables(data, "r.csv", allow_repeats=True)
    assert len(rows) == 2 and errors == []
