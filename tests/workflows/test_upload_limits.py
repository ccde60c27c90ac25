"""Upload limits checked before parsing, and parsing in a child limited in memory and time.

Each hostile file (tests/bombs.py) is refused by the pre-check -- run in a child process capped
at a small address space, so a refusal that came from parsing would be a MemoryError there, not
the pre-check's message. Without the pre-check the same child runs out of memory: the cap is
what keeps the web process safe from files the checks do not foresee.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from marketplace.isolation import LimitExceeded, run_limited
from tests import bombs
from workflows.receivables_file import parse_receivables
from workflows.tabular import TableLimits, TableTooLarge, read_table
from workflows.verification.statements import parse_statement

pytestmark = pytest.mark.no_db

SMALL_CHILD_MB = 400  # below what parsing any of the bombs takes; above a normal parse
BOMBS = {
    "shared-string.xlsx": bombs.shared_string_bomb,
    "empty-rows.xlsx": bombs.empty_rows_bomb,
    "empty-rows-gap.xlsx": lambda: bombs.empty_rows_bomb(numbered=True),
    "colspan.xls": bombs.colspan_bomb,
}


@pytest.fixture(scope="module")
def bomb_files():
    return {name: make() for name, make in BOMBS.items()}


@pytest.mark.parametrize("name", list(BOMBS))
def test_each_bomb_is_refused_by_the_pre_check_in_a_small_child(bomb_files, name):
    with pytest.raises(TableTooLarge) as refused:
        run_limited(read_table, bomb_files[name], name, memory_mb=SMALL_CHILD_MB, seconds=60)
    assert "过大或结构异常" in str(refused.value) and "too large" in refused.value.en


@pytest.mark.parametrize("name", list(BOMBS))
def test_the_statement_and_receivables_parsers_refuse_each_bomb(bomb_files, name):
    statement = run_limited(parse_statement, bomb_files[name], name, memory_mb=SMALL_CHILD_MB, seconds=60)
    assert [error.line for error in statement.errors] == [0] and not statement.transactions
    assert "过大或结构异常" in statement.errors[0].reason and "too large" in statement.errors[0].reason_en
    with pytest.raises(TableTooLarge):
        parse_receivables(bomb_files[name], name)


def test_without_the_pre_check_the_child_runs_out_of_memory_and_is_refused(bomb_files):
    unchecked = TableLimits(max_rows=10**9, max_columns=10**9, max_cells=10**12, max_entry_bytes=2**40,
                            max_unpacked_bytes=2**40, max_shared_strings_bytes=2**40, max_compression_ratio=10**9)
    with pytest.raises(LimitExceeded) as refused:
        run_limited(read_table, bomb_files["shared-string.xlsx"], "x.xlsx", unchecked,
                    memory_mb=SMALL_CHILD_MB, seconds=60)
    assert refused.value.cause in ("memory", "crashed")


def test_a_child_over_its_time_is_refused():
    with pytest.raises(LimitExceeded) as refused:
        run_limited(_spin, memory_mb=SMALL_CHILD_MB, seconds=0.5)
    assert refused.value.cause == "time"


def _spin():
    while True:
        pass


def test_a_child_passes_the_functions_own_errors_back_with_both_languages():
    with pytest.raises(TableTooLarge) as refused:
        run_limited(read_table, b"a,b\n" * 30, "x.csv", TableLimits(max_rows=10), memory_mb=SMALL_CHILD_MB,
                    seconds=60)
    assert "超过10行" in str(refused.value) and "more than 10 rows" in refused.value.en


def _xlsx(rows: int, columns: int) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for number in range(rows):
        sheet.append([f"r{number}c{column}" for column in range(columns)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_rows_columns_and_cells_are_limited():
    data = _xlsx(30, 12)
    assert len(read_table(data, "ok.xlsx", TableLimits(max_rows=30, max_columns=12, max_cells=360))) == 30
    for limits, words in ((TableLimits(max_rows=29), "超过29行"), (TableLimits(max_columns=11), "超过11列"),
                          (TableLimits(max_cells=359), "单元格超过359个")):
        with pytest.raises(TableTooLarge, match=words):
            read_table(data, "big.xlsx", limits)


def test_xlsx_parts_that_unpack_too_big_or_pack_too_tight_are_refused():
    data = bombs.shared_string_bomb(megabytes=3)
    with pytest.raises(TableTooLarge, match="压缩比异常"):
        read_table(data, "x.xlsx", TableLimits(max_shared_strings_bytes=2**30))
    with pytest.raises(TableTooLarge, match="解压后超过1 MB"):
        read_table(data, "x.xlsx", TableLimits(max_shared_strings_bytes=2**20))


def test_csv_rows_line_length_and_cells_are_limited():
    with pytest.raises(TableTooLarge, match="超过5行"):
        read_table(b"a,b\n" * 6, "x.csv", TableLimits(max_rows=5))
    with pytest.raises(TableTooLarge, match="超过10个字符"):
        read_table(b"a,b\n" + b"x" * 11 + b"\n", "x.csv", TableLimits(max_line_chars=10))
    with pytest.raises(TableTooLarge, match="单元格超过10个"):
        read_table(b"a,b,c,d,e,f,g,h,i,j,k\n", "x.csv", TableLimits(max_cells=10))
    statement = parse_statement(b"a,b\n" * 6, "x.csv", TableLimits(max_rows=5))
    assert "超过5行" in statement.errors[0].reason


def test_html_spans_are_bounded_and_expanded_cells_counted():
    html = b"<table><tr><td colspan='999999999999999999'>t</td></tr><tr><td>a</td><td>b</td></tr></table>"
    rows = read_table(html, "x.xls", TableLimits(max_columns=5))
    assert [row.cells for row in rows] == [("t",), ("a", "b")]
    spanned = b"<table>" + b"<tr><td colspan='4'>t</td></tr>" * 5 + b"</table>"
    with pytest.raises(TableTooLarge, match="合并单元格"):
        read_table(spanned, "x.xls", TableLimits(max_cells=19))
    tall = b"<table><tr><td rowspan='1000000'>t</td><td>x</td></tr>" + b"<tr><td>y</td></tr>" * 5 + b"</table>"
    with pytest.raises(TableTooLarge, match="合并单元格"):
        read_table(tall, "x.xls", TableLimits(max_cells=10))
    with pytest.raises(TableTooLarge, match="超过3行"):
        read_table(spanned, "x.xls", TableLimits(max_rows=3))
