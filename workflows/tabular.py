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
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from html.parser import HTMLParser

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

    def __reduce__(self):  # keeps `en` when sent from a parsing child process
        return type(self), (str(self), self.en)


class TableTooLarge(TableError):
    """The file is over an upload limit (rows, columns, cells, unpacked size): refused before it
    is parsed, so that a small file that unpacks to gigabytes costs nothing."""


@dataclass(frozen=True)
class TableLimits:
    """How big an uploaded table may be, checked before and while it is parsed.

    Rows, columns and cells bound what a reader materialises; the XLSX limits bound what the zip
    unpacks to (each entry, all entries, the shared strings) and how much an entry may shrink
    when packed (a bomb packs 1,000:1, real sheets about 10:1).
    """

    max_rows: int = 200_000
    max_columns: int = 200
    max_cells: int = 4_000_000
    max_line_chars: int = 100_000  # one CSV line, one cell's text
    max_zip_entries: int = 1_000
    max_entry_bytes: int = 256 * 1024 * 1024
    max_unpacked_bytes: int = 256 * 1024 * 1024
    max_shared_strings_bytes: int = 64 * 1024 * 1024
    max_compression_ratio: int = 200
    ratio_floor_bytes: int = 1024 * 1024  # entries smaller than this unpack to little whatever the ratio


DEFAULT_LIMITS = TableLimits()


def _too_large(filename: str, zh: str, en: str) -> TableTooLarge:
    return TableTooLarge(f"文件“{filename}”过大或结构异常，无法解析：{zh}",
                         f"the file “{filename}” is too large or malformed to be read: {en}")


def check_shape(filename: str, rows: int, columns: int, limits: TableLimits) -> None:
    """Refuse a table whose rows, columns or cells exceed the limits."""
    if rows > limits.max_rows:
        raise _too_large(filename, f"超过{limits.max_rows:,}行", f"more than {limits.max_rows:,} rows")
    if columns > limits.max_columns:
        raise _too_large(filename, f"超过{limits.max_columns}列", f"more than {limits.max_columns} columns")
    if rows * columns > limits.max_cells:
        raise _too_large(filename, f"单元格超过{limits.max_cells:,}个", f"more than {limits.max_cells:,} cells")


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
    # the rare file neither UTF-8 nor GB18030: charset_normalizer is imported for it alone (start-up, issue 15)
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise TableError("文件编码无法识别，请另存为UTF-8或GBK编码的CSV文件", _ENCODING_EN)
    return str(best)


def _looks_binary(text: str) -> bool:
    """True when control characters (other than tab, newlines, form feed, EOF) exceed 1%."""
    return len(_CONTROL_CHARS.findall(text)) > len(text) * _MAX_CONTROL_RATIO


# --- reading ------------------------------------------------------------------------------------


def read_table(data: bytes, filename: str, limits: TableLimits = DEFAULT_LIMITS) -> list[Row]:
    """Read the first sheet or table of an uploaded file into non-blank rows.

    The filename only appears in messages. Raises TableError for empty or unreadable files,
    TableTooLarge for files over `limits` (XLSX checked from its zip directory before opening).
    """
    if not data or not data.strip(b" \t\r\n\x00"):
        raise TableError(f"文件“{filename}”为空", f"the file “{filename}” is empty")
    if data.startswith(ZIP_SIGNATURE):
        check_xlsx(data, filename, limits)
        raw_rows = _xlsx_rows(data, filename)
    elif data.startswith(OLE_SIGNATURE):
        raw_rows = _xls_rows(data, filename, limits)
    else:
        text = decode_text(data)
        if _looks_like_html(text):
            raw_rows = _html_rows(text, filename, limits)
        else:
            check_csv_text(text, filename, limits)
            raw_rows = _csv_rows(text)
    rows = (_make_row(line, values) for line, values in raw_rows)
    return [row for row in rows if row.cells]


# --- limits checked before parsing ----------------------------------------------------------------

_XLSX_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*")
_XLSX_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*")
_REF_ROW = re.compile(rb'\sr="(\d{1,9})"')
_REF_CELL = re.compile(rb'\sr="([A-Za-z]{1,3})\d')
_SCAN_CHUNK = 1024 * 1024
_SCAN_OVERLAP = 4096  # a <row ...> or <c ...> start tag is shorter than this


def check_xlsx(data: bytes, filename: str, limits: TableLimits) -> None:
    """Refuse a zip bomb from the zip directory, then scan each worksheet's XML as a stream for
    its real extent (row numbers and cell references; the <dimension> element is not trusted,
    exporters write it wrong both ways) -- all before openpyxl reads anything."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise TableError(f"文件“{filename}”不是有效的Excel（.xlsx）文件",
                         f"the file “{filename}” is not a valid Excel (.xlsx) file") from exc
    check_zip_directory(entries, filename, limits)
    for entry in entries:
        if entry.filename.startswith("xl/worksheets/") and entry.filename.endswith(".xml"):
            _check_sheet_extent(archive, entry, filename, limits)


def check_zip_directory(entries: list[zipfile.ZipInfo], filename: str, limits: TableLimits) -> None:
    """Refuse an archive from its directory alone: too many entries, an entry or all of them
    unpacking past the limits, or an entry packed like a bomb (XLSX files and zips of invoices)."""
    if len(entries) > limits.max_zip_entries:
        raise _too_large(filename, f"压缩包内文件超过{limits.max_zip_entries}个",
                         f"more than {limits.max_zip_entries} parts in the archive")
    total = 0
    for entry in entries:
        total += entry.file_size
        _check_zip_entry(entry, filename, limits)
    if total > limits.max_unpacked_bytes:
        raise _too_large(filename, f"解压后超过{limits.max_unpacked_bytes // 2**20} MB",
                         f"unpacks to more than {limits.max_unpacked_bytes // 2**20} MB")


def _check_zip_entry(entry: zipfile.ZipInfo, filename: str, limits: TableLimits) -> None:
    size = entry.file_size
    cap = limits.max_shared_strings_bytes if entry.filename.lower().endswith("sharedstrings.xml") \
        else limits.max_entry_bytes
    if size > cap:
        raise _too_large(filename, f"其中“{entry.filename}”解压后超过{cap // 2**20} MB",
                         f"its part “{entry.filename}” unpacks to more than {cap // 2**20} MB")
    if size > limits.ratio_floor_bytes and size > max(entry.compress_size, 1) * limits.max_compression_ratio:
        raise _too_large(filename, f"其中“{entry.filename}”的压缩比异常（超过{limits.max_compression_ratio}:1）",
                         f"its part “{entry.filename}” is packed more than {limits.max_compression_ratio}:1")


def _check_sheet_extent(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, filename: str,
                        limits: TableLimits) -> None:
    """Rows (the highest row number, or the count when rows are unnumbered), columns (the highest
    cell reference) and cells of one worksheet, read in 1 MB pieces."""
    rows = max_row = max_column = cells = 0
    tail = b""
    try:
        with archive.open(entry) as stream:
            while True:
                chunk = stream.read(_SCAN_CHUNK)
                buffer = tail + chunk
                end = len(buffer) if not chunk else max(0, len(buffer) - _SCAN_OVERLAP)
                for match in _XLSX_ROW.finditer(buffer, 0, end):
                    rows += 1
                    number = _REF_ROW.search(match.group())
                    if number:
                        max_row = max(max_row, int(number.group(1)))
                for match in _XLSX_CELL.finditer(buffer, 0, end):
                    cells += 1
                    ref = _REF_CELL.search(match.group())
                    if ref:
                        max_column = max(max_column, _column_number(ref.group(1)))
                if not chunk:
                    break
                tail = buffer[end:]
                if max(rows, max_row) > limits.max_rows or cells > limits.max_cells:
                    break
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise TableError(f"文件“{filename}”不是有效的Excel（.xlsx）文件",
                         f"the file “{filename}” is not a valid Excel (.xlsx) file") from exc
    if cells > limits.max_cells:
        raise _too_large(filename, f"单元格超过{limits.max_cells:,}个", f"more than {limits.max_cells:,} cells")
    check_shape(filename, max(rows, max_row), max_column, limits)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def longest_line(text: str) -> int:
    """The length of the longest line, without copying the text."""
    longest = start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            return max(longest, len(text) - start)
        longest = max(longest, end - start)
        start = end + 1


def check_csv_text(text: str, filename: str, limits: TableLimits) -> None:
    """Lines, line length and delimiters (an upper bound of the cells) of a CSV text."""
    lines = text.count("\n") + 1
    if lines > limits.max_rows:
        raise _too_large(filename, f"超过{limits.max_rows:,}行", f"more than {limits.max_rows:,} rows")
    if longest_line(text) > limits.max_line_chars:
        raise _too_large(filename, f"有一行超过{limits.max_line_chars:,}个字符",
                         f"a line is longer than {limits.max_line_chars:,} characters")
    if max(text.count(","), text.count("\t"), text.count(";")) + lines > limits.max_cells:
        raise _too_large(filename, f"单元格超过{limits.max_cells:,}个", f"more than {limits.max_cells:,} cells")


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
    except MemoryError:  # not a damaged file: the parsing process's limit (marketplace.isolation)
        raise
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
    except MemoryError:
        raise
    except Exception as exc:
        raise TableError(f"文件“{filename}”不是有效的Excel（.xlsx）文件",
                         f"the file “{filename}” is not a valid Excel (.xlsx) file") from exc
    finally:
        workbook.close()


def _xls_rows(data: bytes, filename: str, limits: TableLimits) -> list[tuple[int, tuple[object, ...]]]:
    """Rows of the first sheet of a legacy XLS (BIFF) file, read with xlrd.

    Rows are kept ragged (xlrd would pad every row to the widest), and the sheet's rows, columns
    and cells are checked before any value is converted."""
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
        book = xlrd.open_workbook(file_contents=data, on_demand=True, ragged_rows=True, logfile=io.StringIO())
        sheet = book.sheet_by_index(0)
    except MemoryError:
        raise
    except Exception as exc:
        raise TableError(f"文件“{filename}”不是有效的Excel（.xls）文件",
                         f"the file “{filename}” is not a valid Excel (.xls) file") from exc
    widths = [sheet.row_len(number) for number in range(sheet.nrows)]
    check_shape(filename, sheet.nrows, max(widths, default=0), limits)
    if sum(widths) > limits.max_cells:
        raise _too_large(filename, f"单元格超过{limits.max_cells:,}个", f"more than {limits.max_cells:,} cells")
    try:
        return [
            (number + 1, tuple(_xls_value(book, cell) for cell in sheet.row(number)))
            for number in range(sheet.nrows)
        ]
    except MemoryError:
        raise
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


def _html_rows(text: str, filename: str = "", limits: TableLimits = DEFAULT_LIMITS,
               ) -> list[tuple[int, tuple[object, ...]]]:
    """Rows from every <tr>, numbered in order as Excel shows them when it opens the file.

    Rows are counted before parsing; while parsing, colspan and rowspan are bounded by the
    column and row limits and the cells they expand to are counted."""
    if len(_TR_TAG.findall(text)) > limits.max_rows:
        raise _too_large(filename, f"超过{limits.max_rows:,}行", f"more than {limits.max_rows:,} rows")
    cells = len(_CELL_TAG.findall(text))
    spanned = sum(min(int(value[:12]), limits.max_columns) - 1 for value in _COLSPAN.findall(text))
    if cells + spanned > limits.max_cells:
        raise _too_large(filename, f"单元格（含合并单元格展开）超过{limits.max_cells:,}个",
                         f"more than {limits.max_cells:,} cells once merged cells are expanded")
    parser = _TableParser(limits)
    try:
        parser.feed(text)
        parser.close()
    except _TooManyCells:
        raise _too_large(filename, f"单元格（含合并单元格展开）超过{limits.max_cells:,}个",
                         f"more than {limits.max_cells:,} cells once merged cells are expanded") from None
    return [(number, tuple(cells)) for number, cells in enumerate(parser.rows, start=1)]


_TR_TAG = re.compile(r"<tr[\s>]", re.IGNORECASE)
_CELL_TAG = re.compile(r"<t[dh][\s>]", re.IGNORECASE)
_COLSPAN = re.compile(r"""\scolspan\s*=\s*["']?\s*([1-9]\d*)""", re.IGNORECASE)


class _TooManyCells(Exception):
    pass


class _TableParser(HTMLParser):
    """Collects the text of <td>/<th> cells per <tr>, expanding colspan and rowspan as Excel does,
    within the limits: a row no wider than max_columns, a rowspan no longer than max_rows, and no
    more than max_cells cells in all."""

    def __init__(self, limits: TableLimits = DEFAULT_LIMITS) -> None:
        super().__init__(convert_charrefs=True)
        self.limits = limits
        self.cells = 0
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
            self._spans = (_span(attrs, "colspan", self.limits.max_columns),
                           _span(attrs, "rowspan", self.limits.max_rows))
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
        self.cells += len(self._covered)
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
        colspan = max(1, min(colspan, self.limits.max_columns - start))
        self.cells += colspan
        if self.cells > self.limits.max_cells:
            raise _TooManyCells
        self._row.append(" ".join("".join(self._cell).split()))
        self._row.extend([""] * (colspan - 1))
        if rowspan > 1:
            for col in range(start, start + colspan):
                self._pending[col] = rowspan - 1
        self._cell = None


def _span(attrs: list[tuple[str, str | None]], name: str, most: int) -> int:
    for key, value in attrs:
        if key == name and value and value.strip().isdigit():
            return max(1, min(int(value.strip()[:12]), most))
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
