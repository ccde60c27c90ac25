"""Tables as XLSX (amounts as numbers in a yuan format, codes as text) or as CSV with a BOM for
older Excel. A table is a list of Columns and rows of plain values; one writer serves every
export of the bureau's pages.

Text that a spreadsheet would run as a formula (=, +, -, @ first) is written with a leading
apostrophe, so an enterprise's name cannot become a formula in a coordinator's Excel.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from marketplace.formatting import SHANGHAI

TEXT, MONEY, INTEGER, DECIMAL, DATE, DATETIME = "text", "money", "integer", "decimal", "date", "datetime"

FORMATS = {
    TEXT: "@",
    MONEY: '"¥"#,##0.00',
    INTEGER: "#,##0",
    DECIMAL: "#,##0.00",
    DATE: "yyyy-mm-dd",
    DATETIME: "yyyy-mm-dd hh:mm",
}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    width: int = 14


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence]


def _safe_text(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _cell_value(value, kind: str):
    if value is None:
        return None
    if kind == TEXT:
        return _safe_text(value)
    if kind in (MONEY, DECIMAL):
        return Decimal(value)
    if kind == DATETIME and isinstance(value, datetime):
        return value.astimezone(SHANGHAI).replace(tzinfo=None)  # Excel has no time zones: Beijing time
    return value


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """A workbook with one worksheet per Sheet, a bold header row and the column formats."""
    from openpyxl import Workbook  # ~0.15 s with numpy: imported by an export, not by every start
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        worksheet = workbook.create_sheet(title=sheet.title[:31])
        worksheet.append([column.header for column in sheet.columns])
        for cell in worksheet[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            worksheet.append([_cell_value(value, column.kind) for value, column in zip(row, sheet.columns, strict=True)])
        for index, column in enumerate(sheet.columns, start=1):
            letter = get_column_letter(index)
            worksheet.column_dimensions[letter].width = column.width
            for (cell,) in worksheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = FORMATS[column.kind]
        worksheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv_value(value, kind: str) -> str:
    if value is None:
        return ""
    if kind in (MONEY, DECIMAL):
        return f"{Decimal(value):.2f}"
    if kind == DATE and isinstance(value, date):
        return value.isoformat()
    if kind == DATETIME and isinstance(value, datetime):
        return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return _safe_text(value)


def to_csv(sheet: Sheet) -> bytes:
    """UTF-8 with a BOM (older Excel then reads the Chinese right), CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.header for column in sheet.columns])
    for row in sheet.rows:
        writer.writerow([_csv_value(value, column.kind) for value, column in zip(row, sheet.columns, strict=True)])
    return buffer.getvalue().encode("utf-8-sig")
