"""Reading uploaded tables: encodings, formats told by content, true line numbers, headers."""

import ast
import base64
import io
import random
import sys
import zlib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from workflows.tabular import (
    Row,
    TableError,
    cell_text,
    decode_text,
    find_header,
    normalise_header,
    read_table,
)

ALIASES = {
    "name": {"债务人名称", "户名"},
    "amount": {"金额", "金额（元）", "金额(元)"},
    "note": {"备注"},
}
LABELS = {"name": "债务人名称", "amount": "金额", "note": "备注"}

# A legacy XLS (BIFF8) written by xlwt: row 1 a title, row 2 blank, row 3 the header, row 4 data
# with a number cell (1234.5) and date cells. zlib-compressed, base64-encoded.
XLS_FIXTURE = (
    "eNrtWF1IVEEUPnP3f91d11/SQCXIzBS8rooJumk/BuG6ukYRlT+5aqhrLEVuD2qZEYhQFFFRD4Y99GJFYP9QENKD"
    "YNZDEERu4pMvFYU+qNuZs/duagUulGDdb5lzz3fmzMyZvzuz99Vo1Hj/3UQ/LEERqGA+YADtAhvDZJCJFTA/EOCq"
    "/NRjCihYVTDocSK1GnhsHtHxOeTz7QcB7qifowT4iGk/HAFHm8edsoIooRhqGY+hECWDa2ixQAJFFU3yEMkYkrfJ"
    "8wnJLWTpI1mIvuNsH4zaHen50ireK6yjPAvweu9TmXdkESEOXvJV3HmOBX01UOw9XNuyyjKS1CYYAJzQUrfH7eU8"
    "Em6CEcCHyGxtzayvH4dYnOwB+BZIAfgq7+pnKYp9Ze0M0D6z2K77jV2Pk7jUfkFQA3RBoIY2SQ+Y4J6a5wjM0jDc"
    "MQsjuMyBkhbYxYN57tS+omaNZ7dLA6zA2V/5yGGu+uSLkMmHDnAU+RLL/eVpxyYcrF0NbMzV5Jt2kaqvMlXFd067"
    "sKmx89cvowWqm3yT7uRGFbCsyuTGSTfaPO0DvUNeVmMEZnQcby3w9Zbn98U0GBqdl1oqZlzRAJtFm5glirllxeIu"
    "W3HJ1qxtsQDZOTYxO0uGmG3Lyc3DruysyhSx9i8HeLVGfgTRK8u66JVlpq1sQlkPkaRH0Ya24pjN3vr8uqzOaa8m"
    "SxcdU8HDbD0fOwjASV4CC1soh4aPvNKpxCaSp6jWtaQnkozF3YbPVGecpOzoJp/TlJuKNdgIb+wbFuhpqPdMVTxI"
    "6pmwb0R9sNR/Inbwrb0f1uHhWo/l+a8bMlgGu3qF46FdfjLpxfeeZMJPL0G9YJX6FpBO7EiY49seERXsFXqQ5xIP"
    "gTz4mASZPH5BJiBThZgKmTrE1Mg0IaZBpg0xLTJdiOmQ6aUYVL+IQUUxGCR/FcVgDDEeQ0SI8RhMyJ7CGtR5DFNn"
    "dTg6N14IKM8M87aDnrxVM7/QCNEwxLuEx8MPGEGBAgUKFChQoOA/A7/y8VuRSrr4aqQLtU76rjOHaV75TPLPohLa"
    "8HcU/1RuBw8+veALa/3Eg4bJdbFllpG/F3Lswda90Ax1FEdz2OsX/xCxhf1ZdkHrn9tC4bY/H06cf7n971sIEv8="
)


def lines(table: list[Row]) -> list[int]:
    return [row.line for row in table]


def xlsx_bytes(*sheets: list[list[object]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for number, rows in enumerate(sheets, start=1):
        sheet = workbook.create_sheet(f"Sheet{number}")
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- decoding -----------------------------------------------------------------------------------


def test_decode_text_reads_utf8_with_bom_without_keeping_the_bom():
    assert decode_text("\ufeff名称,金额\n".encode()) == "名称,金额\n"


def test_decode_text_reads_gbk_and_gb18030():
    assert decode_text("债务人名称,金额\n".encode("gbk")) == "债务人名称,金额\n"
    assert decode_text("㐀字,1\n".encode("gb18030")) == "㐀字,1\n"


def test_decode_text_reads_utf16_with_a_bom():
    assert decode_text("名称\t金额\r\n".encode("utf-16")) == "名称\t金额\r\n"


@pytest.mark.parametrize("data", [b"", b" \r\n\t", "\ufeff".encode()])
def test_decode_text_rejects_empty_input(data):
    with pytest.raises(TableError, match="文件为空"):
        decode_text(data)


def test_decode_text_rejects_bytes_with_nul_as_binary():
    with pytest.raises(TableError, match="二进制"):
        decode_text(b"name,amount\n\x00\x01\x02\x03")


def test_table_error_is_a_value_error():
    assert issubclass(TableError, ValueError)


# --- CSV ----------------------------------------------------------------------------------------


def test_gbk_csv_with_title_and_blank_rows_keeps_true_line_numbers():
    text = "应收账款清单\r\n\r\n债务人名称,金额\r\n甲公司,100\r\n,\r\n乙公司,200\r\n"
    table = read_table(text.encode("gbk"), "清单.csv")
    assert lines(table) == [1, 3, 4, 6]
    assert table[1].cells == ("债务人名称", "金额")
    assert table[3].cells == ("乙公司", "200")


def test_utf8_bom_csv_header_has_no_bom():
    table = read_table("\ufeff债务人名称,金额\n甲,1\n".encode(), "a.csv")
    assert table[0].cells[0] == "债务人名称"


def test_csv_quoted_newline_keeps_the_first_line_of_the_row():
    text = '名称,备注,金额\n甲,"第一行\n第二行",1\n乙,短,2\n'
    table = read_table(text.encode(), "a.csv")
    assert lines(table) == [1, 2, 4]
    assert table[1].cells[1] == "第一行\n第二行"


@pytest.mark.parametrize(
    ("text", "cells"),
    [
        ("名称\t金额\n甲\t1,234.50\n乙\t2,000.00\n", ("甲", "1,234.50")),
        ("名称;金额\n甲;1234.50\n乙;2000\n", ("甲", "1234.50")),
        ('名称,金额\n甲,"1,234.50"\n乙,"2,000.00"\n', ("甲", "1,234.50")),
        ("账户明细\n账号：6222\n名称\t金额\n甲\t1,234.50\n乙\t5\n", ("甲", "1,234.50")),
    ],
)
def test_csv_delimiter_is_sniffed_among_comma_tab_and_semicolon(text, cells):
    table = read_table(text.encode(), "a.txt")
    assert table[-2].cells == cells


def test_csv_cells_are_stripped_and_trailing_empty_cells_dropped():
    table = read_table("  名称 ,\u3000金额\u3000,,\n甲 , 1 ,,\n".encode(), "a.csv")
    assert table[0].cells == ("名称", "金额")
    assert table[1].cells == ("甲", "1")
    assert table[1].get(5) == ""


def test_csv_excel_text_formula_keeps_leading_zeros():
    table = read_table('账号,金额\n="0062220212345",1\n'.encode(), "a.csv")
    assert table[1].cells[0] == "0062220212345"


def test_csv_with_only_blank_lines_is_empty():
    assert read_table(b"\r\n,,\r\n\r\n , \n", "a.csv") == []


# --- XLSX ---------------------------------------------------------------------------------------


def test_xlsx_is_detected_by_content_and_cells_become_text():
    data = xlsx_bytes(
        [
            ["2024年应收账款清单"],
            [],
            ["债务人名称", "账号", "金额", "开票日期", "入账时间", "份数", "比例", "备注"],
            [
                "甲公司",
                "6222021234567890123",
                1234.5,
                date(2024, 1, 5),
                datetime(2024, 1, 5, 13, 45, 10),
                3,
                0.1 + 0.2,
                None,
            ],
            [
                "乙公司",
                "0012",
                2000.0,
                datetime(2024, 2, 1),
                datetime(2024, 2, 1),
                Decimal("12.30"),
                1e20,
                True,
            ],
        ]
    )
    table = read_table(data, "伪装成.csv")
    assert lines(table) == [1, 3, 4, 5]
    assert table[0].cells == ("2024年应收账款清单",)
    assert table[2].cells == (
        "甲公司",
        "6222021234567890123",
        "1234.5",
        "2024-01-05",
        "2024-01-05 13:45:10",
        "3",
        "0.3",
    )
    assert table[3].cells == (
        "乙公司",
        "0012",
        "2000",
        "2024-02-01",
        "2024-02-01",
        "12.3",
        "100000000000000000000",
        "TRUE",
    )


def test_xlsx_reads_only_the_first_sheet():
    data = xlsx_bytes([["第一张"]], [["第二张"]])
    assert [row.cells for row in read_table(data, "a.xlsx")] == [("第一张",)]


def test_damaged_xlsx_is_a_table_error():
    data = xlsx_bytes([["a"]])[:200]
    with pytest.raises(TableError, match="不是有效的Excel"):
        read_table(data, "a.xlsx")


# --- XLS ----------------------------------------------------------------------------------------


def test_legacy_xls_is_read_with_dates_and_numbers_as_text():
    pytest.importorskip("xlrd")
    data = zlib.decompress(base64.b64decode("".join(XLS_FIXTURE)))
    table = read_table(data, "statement.xls")
    assert lines(table) == [1, 3, 4]
    assert table[1].cells[:2] == ("债务人名称", "债务人统一社会信用代码")
    assert table[2].cells[2:7] == (
        "24312000000000123456",
        "HT-1",
        "1234.5",
        "2024-03-01",
        "2024-06-30",
    )


def test_xls_without_xlrd_says_xls_is_unsupported(monkeypatch):
    monkeypatch.setitem(sys.modules, "xlrd", None)
    data = zlib.decompress(base64.b64decode("".join(XLS_FIXTURE)))
    with pytest.raises(TableError, match="不支持旧版Excel"):
        read_table(data, "statement.xls")


def test_ole_file_that_is_not_a_workbook_is_a_table_error():
    pytest.importorskip("xlrd")
    with pytest.raises(TableError, match="不是有效的Excel（.xls）文件"):
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x01" * 600, "a.xls")


def test_password_protected_office_file_asks_to_remove_the_password():
    data = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64 + "EncryptedPackage".encode("utf-16-le")
    )
    with pytest.raises(TableError, match="密码"):
        read_table(data, "a.xlsx")


# --- HTML disguised as .xls ---------------------------------------------------------------------

HTML_XLS = """<html><head><meta charset="gbk"><style>td {mso-number-format:"\\@";}</style></head>
<body><table border="1">
<tr><td colspan="3">账户交易明细</td></tr>
<tr><th>交易日期</th><th>对方户名</th><th>金额(元)</th></tr>
<tr><td>2024-01-05</td><td>上海&nbsp;某某<br>有限公司</td><td>1,234.50</td></tr>
<tr></tr>
<tr><td>2024-01-06<td>乙公司<td>-200.00
</table></body></html>"""


def test_html_table_saved_as_xls_is_read_with_excel_row_numbers():
    table = read_table(HTML_XLS.encode("gbk"), "明细.xls")
    assert lines(table) == [1, 2, 3, 5]
    assert table[0].cells == ("账户交易明细",)
    assert table[1].cells == ("交易日期", "对方户名", "金额(元)")
    assert table[2].cells == ("2024-01-05", "上海 某某 有限公司", "1,234.50")
    assert table[3].cells == ("2024-01-06", "乙公司", "-200.00")


def test_html_rowspan_and_colspan_keep_later_cells_in_their_columns():
    html = """<table>
    <tr><td rowspan="2">甲</td><td colspan="2">合并</td><td>x</td></tr>
    <tr><td>b</td><td>c</td><td>d</td></tr>
    </table>"""
    table = read_table(html.encode(), "a.xls")
    assert table[0].cells == ("甲", "合并", "", "x")
    assert table[1].cells == ("", "b", "c", "d")


# --- junk and empty files -----------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \r\n"])
def test_empty_file_is_a_table_error(data):
    with pytest.raises(TableError, match="为空"):
        read_table(data, "a.csv")


def test_binary_junk_is_a_table_error():
    with pytest.raises(TableError, match="二进制"):
        read_table(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "a.csv")


def test_random_bytes_are_never_read_as_a_table():
    rng = random.Random(18)
    for _ in range(50):
        junk = bytes(rng.randrange(1, 256) for _ in range(1500))
        with pytest.raises(TableError):
            read_table(junk, "a.csv")


# --- cell text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (1234.0, "1234"),
        (-0.0, "0"),
        (0.1 + 0.2, "0.3"),
        (1.5e-7, "0.00000015"),
        (6.22202123456789e18, "6222021234567890000"),
        (Decimal("1.50"), "1.50"),
        (7, "7"),
        (date(2024, 1, 5), "2024-01-05"),
        (datetime(2024, 1, 5), "2024-01-05"),
        (datetime(2024, 1, 5, 0, 0, 1), "2024-01-05 00:00:01"),
        ("  \ufeff文字 ", "文字"),
    ],
)
def test_cell_text_shows_values_as_a_person_reads_them(value, text):
    assert cell_text(value) == text


# --- headers ------------------------------------------------------------------------------------


def test_normalise_header_ignores_spaces_bom_case_width_and_required_marker():
    assert normalise_header("\ufeff 金 额\u3000（元）*") == normalise_header("金额(元)")
    assert normalise_header(" Amount ") == "amount"


def test_find_header_skips_title_rows_and_maps_aliases_to_columns():
    rows = [
        Row(1, ("某某银行账户明细",)),
        Row(2, ("账号：6222", "币种：人民币")),
        Row(4, ("序号", "户 名", "金额（元）", "AMOUNT", "备注")),
        Row(5, ("1", "甲", "100")),
    ]
    index, columns = find_header(rows, ALIASES, {"name", "amount"}, labels=LABELS)
    assert index == 2
    assert columns == {"name": 1, "amount": 2, "note": 4}


def test_find_header_accepts_the_canonical_field_names_as_headers():
    index, columns = find_header([Row(1, ("Name", "AMOUNT"))], ALIASES, {"name", "amount"})
    assert (index, columns) == (0, {"name": 0, "amount": 1})


def test_find_header_names_the_missing_required_columns():
    rows = [Row(1, ("标题",)), Row(2, ("债务人名称", "备注"))]
    with pytest.raises(TableError, match="表头缺少必需的列：金额"):
        find_header(rows, ALIASES, {"name", "amount"}, labels=LABELS)


def test_find_header_without_any_known_column_lists_the_required_ones():
    with pytest.raises(TableError, match="未找到表头行.*债务人名称、金额"):
        find_header([Row(1, ("a", "b"))], ALIASES, {"name", "amount"}, labels=LABELS)


def test_find_header_looks_only_at_the_first_30_rows():
    rows = [Row(n, (f"说明{n}",)) for n in range(1, 31)] + [Row(31, ("债务人名称", "金额"))]
    with pytest.raises(TableError):
        find_header(rows, ALIASES, {"name", "amount"}, labels=LABELS)
    index, _ = find_header(rows[1:], ALIASES, {"name", "amount"})
    assert index == 29


def test_find_header_refuses_an_alias_given_to_two_fields():
    with pytest.raises(ValueError):
        find_header([Row(1, ("x",))], {"a": {"金额"}, "b": {"金额"}}, {"a"})


# --- layering -----------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["identifiers.py", "tabular.py", "receivables_file.py"])
def test_workflow_modules_import_no_web_database_or_marketplace_code(module):
    path = Path(__file__).resolve().parents[2] / "workflows" / module
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"flask", "sqlalchemy", "flask_sqlalchemy", "marketplace"}


def test_a_damaged_legacy_xls_is_refused_without_writing_to_stdout(capfd):
    """xlrd reports a damaged file on stdout, where the statements CLI writes its JSON."""
    source = Path(__file__).resolve().parent.parent / "fixtures" / "statements" / "banks" / "ccb_personal.xls"
    with pytest.raises(TableError):
        read_table(source.read_bytes()[:3000], "damaged.xls")
    assert capfd.readouterr().out == ""
