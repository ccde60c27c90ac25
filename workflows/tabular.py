"""Reading uploaded tables: CSV (UTF-8 or GBK), XLSX, legacy XLS and HTML tables saved as .xls.

The format is told from the content, never from the file name, because Chinese banks and
spreadsheet users save HTML as ".xls" and CSV as ".xls" alike. Every row keeps the line
number a text editor or Excel shows for it, so that an error report points at the right line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from html.parser import HTMLParser

from charset_normalizer import from_bytes

ZIP_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEADER_SEARCH_ROWS = 30
_SNIFF_LINES = 50
_CSV_DELIMITERS = ",\t;"
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x19\x1b-\x1f\x7f-\x9f]")  # Cc less \t\n\v\f\r, EOF
_MAX_CONTROL_RATIO = 0.01
_EXCEL_TEXT_FORMULA = re.compile(r'="(.*)"', re.DOTALL)  # ="0012" keeps leading zeros in Excel
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
_BINARY_EN = "the file holds binary content: it is not a CSV, Excel or web-page table file"
_ENCODING_EN = "the file's text encoding is not recognised: save it as a UTF-8 or GBK CSV file"


class TableError(ValueError):
    """The file as a whole cannot be read as a table; the message is Chinese and shown as is,
    `en` says the same in English where the raiser gives it."""

    def __init__(self, message: str, en: str = "") -> None:
        super().__init__(message)
        self.en = en


@dataclass(frozen=True)
class Row:
    """One non-blank row: its 1-based line (or Excel row) number and its stripped cells."""

    line: int
    cells: tuple[str, ...]

    def get(self, index: int) -> str:
        """The cell at index, or "" when the row is shorter."""
        return self.cells[index] if 0 <= index < len(self.cells) else ""


# --- decoding -----------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """Decode a text file: UTF-16 with a BOM, UTF-8 (BOM or not), GB18030, else the best guess."""
    if not data or not data.strip(b" \t\r\n\x00"):
        raise TableError("文件为空", "the file is empty")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode_utf16(data)
    elif b"\x00" in data:
        raise TableError("文件含有二进制内容，不是CSV、Excel或网页表格文件", _BINARY_EN)
    else:
        text = _decode_8bit(data)
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise TableError("文件为空", "the file is empty")
    if _looks_binary(text):
        raise TableError("文件含有二进制内容，不是CSV、Excel或网页表格文件", _BINARY_EN)
    return text


def _decode_utf16(data: bytes) -> str:
    try:
        return data.decode("utf-16")
    except UnicodeDecodeError as exc:
        raise TableError("文件编码无法识别，请另存为UTF-8或GBK编码的CSV文件", _ENCODING_EN) from exc


def _decode_8bit(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    if best is None:
        raise TableError("文件编码无法识别，请另存为UTF-8或GBK编码的CSV文件", _ENCODING_EN)
    return str(best)


def _looks_binary(text: str) -> bool:
    """True when control characters (other than tab, newlines, form feed, EOF) exceed 1%."""
    return len(_CONTROL_CHARS.findall(text)) > len(text) * _MAX_CONTROL_RATIO


# --- reading ------------------------------------------------------------------------------------


def read_table(data: bytes, filename: str) -> list[Row]:
    """Read the first sheet or table of an uploaded file into non-blank rows.

    The filename only appears in messages. Raises TableError for empty or unreadable files.
    """
    if not data or not data.strip(b" \t\r\n\x00"):
        raise TableError(f"文件“{filename}”为空", f"the file “{filename}” is empty")
    if data.startswith(ZIP_SIGNATURE):
        raw_rows = _xlsx_rows(data, filename)
    elif data.startswith(OLE_SIGNATURE):
        raw_rows = _xls_rows(data, filename)
    else:
        text = decode_text(data)
        raw_rows = _html_rows(text) if _looks_like_html(text) else _csv_rows(text)
    rows = (_make_row(line, values) for line, values in raw_rows)
    return [row for row in rows if row.cells]


def _make_row(line: int, values: Iterable[object]) -> Row:
    """Convert cells to stripped text and drop trailing empty cells."""
    cells = [cell_text(value) for value in values]
    while cells and not cells[-1]:
        cells.pop()
    return Row(line, tuple(cells))


def cell_text(value: object) -> str:
    """The text of a spreadsheet cell as a person reads it: dates ISO, 1234.0 as "1234"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip().strip("\ufeff\u200b").strip()


def _float_text(value: float) -> str:
    """Excel keeps 15 significant digits; show exactly those, without exponent or float noise."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = format(Decimal(format(value, ".15g")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _xlsx_rows(data: bytes, filename: str) -> list[tuple[int, tuple[object, ...]]]:
    """Rows of the first worksheet of an XLSX file, numbered as Excel numbers them."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged or foreign zip fails in many ways
        raise TableError(f"文件“{filename}”不是有效的Excel（.xlsx）文件",
                         f"the file “{filename}” is not a valid Excel (.xlsx) file") from exc
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some exporters write a wrong sheet size
        return [
            (number, tuple(values))
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    except Exception as exc:
        raise TableError(f"文件“{filename}”不是有效的Excel（.xlsx）文件",
                         f"the file “{filename}” is not a valid Excel (.xlsx) file") from exc
    finally:
        workbook.close()


def _xls_rows(data: bytes, filename: str) -> list[tuple[int, tuple[object, ...]]]:
    """Rows of the first sheet of a legacy XLS (BIFF) file, read with xlrd."""
    if _ENCRYPTED_MARK in data:
        raise TableError(f"文件“{filename}”设置了打开密码，请取消密码后重新上传",
                         f"the file “{filename}” is password-protected: remove the password and upload it again")
    try:
        import xlrd
    except ImportError as exc:
        raise TableError(
            "暂不支持旧版Excel（.xls）文件，请在Excel中另存为.xlsx或CSV后上传",
            "legacy Excel (.xls) files cannot be read here: save the file as .xlsx or CSV in Excel",
        ) from exc
    try:
        # xlrd writes its complaints about a damaged file to stdout: keep them off (the CLI's
        # JSON goes there).
        book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO())
        sheet = book.sheet_by_index(0)
        return [
            (number + 1, tuple(_xls_value(book, cell) for cell in sheet.row(number)))
            for number in range(sheet.nrows)
        ]
    except Exception as exc:
        raise TableError(f"文件“{filename}”不是有效的Excel（.xls）文件",
                         f"the file “{filename}” is not a valid Excel (.xls) file") from exc


def _xls_value(book: object, cell: object) -> object:
    """The Python value of an xlrd cell, dates as datetime."""
    import xlrd

    kind, value = cell.ctype, cell.value  # type: ignore[attr-defined]
    if kind == xlrd.XL_CELL_DATE:
        return xlrd.xldate.xldate_as_datetime(value, book.datemode)  # type: ignore[attr-defined]
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#ERR")
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    return value


# --- HTML tables saved as .xls ------------------------------------------------------------------


def _looks_like_html(text: str) -> bool:
    return re.search(r"<table[\s>]", text, re.IGNORECASE) is not None


def _html_rows(text: str) -> list[tuple[int, tuple[object, ...]]]:
    """Rows from every <tr>, numbered in order as Excel shows them when it opens the file."""
    parser = _TableParser()
    parser.feed(text)
    parser.close()
    return [(number, tuple(cells)) for number, cells in enumerate(parser.rows, start=1)]


class _TableParser(HTMLParser):
    """Collects the text of <td>/<th> cells per <tr>, expanding colspan and rowspan as Excel does."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._spans = (1, 1)
        self._covered: set[int] = set()  # columns taken by a rowspan from a row above
        self._pending: dict[int, int] = {}  # column -> further rows a rowspan covers
        self._ignored = 0  # depth inside <script> or <style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._ignored += 1
        elif tag == "tr":
            self._end_row()
            self._start_row()
        elif tag in ("td", "th"):
            self._end_cell()
            if self._row is None:
                self._start_row()
            self._spans = (_span(attrs, "colspan"), _span(attrs, "rowspan"))
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._ignored = max(0, self._ignored - 1)
        elif tag in ("td", "th"):
            self._end_cell()
        elif tag in ("tr", "table"):
            self._end_row()

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._ignored:
            self._cell.append(data)

    def close(self) -> None:
        super().close()
        self._end_row()

    def _start_row(self) -> None:
        self._row = []
        self._covered = set(self._pending)
        self._pending = {col: n - 1 for col, n in self._pending.items() if n > 1}

    def _end_row(self) -> None:
        self._end_cell()
        if self._row is not None:
            self.rows.append(self._row)
        self._row = None

    def _end_cell(self) -> None:
        if self._cell is None or self._row is None:
            self._cell = None
            return
        while len(self._row) in self._covered:
            self._row.append("")
        colspan, rowspan = self._spans
        start = len(self._row)
        self._row.append(" ".join("".join(self._cell).split()))
        self._row.extend([""] * (colspan - 1))
        if rowspan > 1:
            for col in range(start, start + colspan):
                self._pending[col] = rowspan - 1
        self._cell = None


def _span(attrs: list[tuple[str, str | None]], name: str) -> int:
    for key, value in attrs:
        if key == name and value and value.strip().isdigit():
            return max(1, min(int(value.strip()), 1000))
    return 1


# --- CSV ----------------------------------------------------------------------------------------


def _csv_rows(text: str) -> Iterator[tuple[int, tuple[object, ...]]]:
    """Rows of a CSV text; a row spanning lines (quoted newline) keeps its first line's number."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    start = 1
    try:
        for cells in reader:
            yield start, tuple(_unwrap_excel_text(cell) for cell in cells)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise TableError(f"第{start}行：CSV格式错误（{exc}）", f"line {start}: CSV format error ({exc})") from exc


def _unwrap_excel_text(cell: str) -> str:
    match = _EXCEL_TEXT_FORMULA.fullmatch(cell.strip())
    return match.group(1) if match else cell


def sniff_delimiter(text: str) -> str:
    """Guess the delimiter among comma, tab and semicolon; csv.Sniffer first, then counting."""
    lines = [line for line in text.splitlines() if line.strip()][:_SNIFF_LINES]
    sample = "\n".join(lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=_CSV_DELIMITERS).delimiter
    except csv.Error:
        pass
    counts = {d: sum(1 for line in lines if d in line) for d in "\t,;"}
    best = max(counts, key=lambda d: counts[d])  # ties keep the earlier: tab, then comma
    return best if counts[best] else ","


# --- headers ------------------------------------------------------------------------------------


def normalise_header(text: str) -> str:
    """Fold a header cell: half-width, no spaces or BOM, no required-marker '*', case-insensitive."""
    folded = unicodedata.normalize("NFKC", text or "")
    folded = re.sub(r"[\s\ufeff\u200b]+", "", folded)
    return folded.strip("*").casefold()


def find_header(
    rows: list[Row],
    aliases: Mapping[str, Iterable[str]],
    required: set[str],
    *,
    labels: Mapping[str, str] | None = None,
) -> tuple[int, dict[str, int]]:
    """Find the header row among the first 30 rows and map each field to its column index.

    `aliases` maps a canonical field name to the header texts that mean it; `labels` names the
    fields in messages (default: the field names). Raises TableError naming missing columns.
    """
    lookup = _alias_lookup(aliases)
    if not required <= set(aliases):
        raise ValueError(f"required fields without aliases: {sorted(required - set(aliases))}")
    best: dict[str, int] = {}
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns = _header_columns(row, lookup)
        if required <= columns.keys():
            return index, columns
        if len(columns) > len(best):
            best = columns
    missing = [labels.get(f, f) if labels else f for f in aliases if f in required - best.keys()]
    if not best:
        raise TableError(f"未找到表头行，请确认文件包含以下列：{'、'.join(missing)}")
    raise TableError(f"表头缺少必需的列：{'、'.join(missing)}")


def _alias_lookup(aliases: Mapping[str, Iterable[str]]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for field, names in aliases.items():
        for name in (field, *names):
            key = normalise_header(name)
            if lookup.setdefault(key, field) != field:
                raise ValueError(f"header alias {name!r} names both {lookup[key]} and {field}")
    return lookup


def _header_columns(row: Row, lookup: Mapping[str, str]) -> dict[str, int]:
    """Fields found in a row; the first column wins when a header repeats."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(row.cells):
        field = lookup.get(normalise_header(cell))
        if field is not None:
            columns.setdefault(field, index)
    return columns
