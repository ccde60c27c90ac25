"""The receivables bulk-import file: its template, and reading it into checked rows.

Every row is checked and every problem is reported with the line number the user sees in the
file, naming the column ("金额：最多两位小数"). Whether a file with bad rows is stored at all is
the caller's decision; the usual one is to reject it whole.

The 确认状态 column is what the file's author states about the debtor's answer. What that is worth
is the caller's decision too: the platform's import keeps it as the enterprise's declaration (only
the debtor's own act confirms), the offline verification takes it as given by whoever runs it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from workflows.identifiers import (
    normalise_uscc,
    parse_date,
    parse_money,
    uscc_check_char,
    uscc_problem,
)
from workflows.tabular import DEFAULT_LIMITS, Row, TableError, TableLimits, find_header, read_table
from workflows.text import Sentence, both

# field -> the Chinese header used in the template, in template column order
HEADERS: dict[str, str] = {
    "debtor_name": "债务人名称",
    "debtor_uscc": "债务人统一社会信用代码",
    "invoice_no": "发票号码",
    "contract_no": "合同编号",
    "amount": "金额",
    "issue_date": "开票日期",
    "due_date": "到期日",
    "confirmation": "企业声明确认状态",
    "reason": "异议原因",
}
# the same columns named in English, for problems shown to an English reader
HEADERS_EN: dict[str, str] = {
    "debtor_name": "Debtor name",
    "debtor_uscc": "Debtor's unified social credit code",
    "invoice_no": "Invoice number",
    "contract_no": "Contract number",
    "amount": "Amount",
    "issue_date": "Issue date",
    "due_date": "Due date",
    "confirmation": "Confirmation declared by the enterprise",
    "reason": "Dispute reason",
}
_LABELS_EN = {HEADERS[field]: english for field, english in HEADERS_EN.items()}
# Each field is also recognised by its English name (find_header adds it).
ALIASES: dict[str, set[str]] = {field: {header} for field, header in HEADERS.items()}
ALIASES["amount"] |= {"金额（元）", "金额(元)"}
ALIASES["confirmation"] |= {"确认状态", "declared_confirmation"}
ALIASES["reason"] |= {"异议说明", "dispute_reason"}
OPTIONAL: set[str] = {"contract_no", "confirmation", "reason"}
REQUIRED: set[str] = set(HEADERS) - OPTIONAL

CONFIRMATIONS: dict[str, str] = {
    "已确认": "confirmed",
    "confirmed": "confirmed",
    "待确认": "pending",
    "pending": "pending",
    "有异议": "disputed",
    "disputed": "disputed",
}
CONFIRMATION_LABELS = {"confirmed": "已确认", "pending": "待确认", "disputed": "有异议"}

MAX_LENGTHS = {"debtor_name": 200, "invoice_no": 64, "contract_no": 64, "reason": 500}
CODE_FIELDS = {"invoice_no", "contract_no"}  # numbers Excel may have turned into 1.23E+19
_SCIENTIFIC = re.compile(r"[-+]?\d+(?:\.\d+)?[eE][-+]?\d+")


@dataclass(frozen=True)
class ReceivableRow:
    """One checked receivable from the file; the USCC is normalised, the amount has 2 places."""

    line: int
    debtor_name: str
    debtor_uscc: str
    invoice_no: str
    contract_no: str
    amount: Decimal
    issue_date: date
    due_date: date
    confirmation: str  # what the file states: confirmed | pending | disputed
    reason: str = ""  # the stated dispute's reason, if the file gives one


@dataclass
class RowError:
    """A problem on one line of the file, naming the column: a Sentence (Chinese, carrying its
    English) or, from the application's own checks, a sentence in the page's language."""

    line: int
    reason: str


def parse_receivables(
    data: bytes, filename: str, *, today: date | None = None, allow_repeats: bool = False,
    limits: TableLimits = DEFAULT_LIMITS,
) -> tuple[list[ReceivableRow], list[RowError]]:
    """Read and check a receivables file; return the good rows and every row problem.

    Raises TableError when the file as a whole cannot be used (empty, junk, no header, no data).
    With `today`, an issue date after it is an error. A debtor + invoice number repeated in the
    file is an error, unless `allow_repeats` (offline verification keeps them: its rule R5
    judges repeats). A file over `limits` raises TableTooLarge (a TableError) before it is parsed.
    """
    rows = read_table(data, filename, limits)
    if not rows:
        raise TableError("文件为空", "the file is empty")
    header_index, columns = find_header(rows, ALIASES, REQUIRED, labels=HEADERS)
    data_rows = rows[header_index + 1 :]
    if not data_rows:
        raise TableError("文件中没有数据行", "the file has no data rows")
    good: list[ReceivableRow] = []
    errors: list[RowError] = []
    first_seen: dict[tuple[str, str], int] = {}
    for row in data_rows:
        parsed, problems = _parse_row(row, columns, today)
        if parsed is not None and not allow_repeats:
            duplicate = _duplicate_problem(parsed, first_seen)
            if duplicate:
                problems.append(duplicate)
        errors.extend(RowError(row.line, reason) for reason in problems)
        if parsed is not None and not problems:
            good.append(parsed)
    return good, errors


def _parse_row(
    row: Row, columns: dict[str, int], today: date | None
) -> tuple[ReceivableRow | None, list[str]]:
    """Check one row; the row is returned only when every cell could be read."""
    return check_cells(row.line, {field: row.get(index) for field, index in columns.items()}, today)


def check_cells(
    line: int, cells: Mapping[str, str], today: date | None, labels: Mapping[str, str] = HEADERS,
) -> tuple[ReceivableRow | None, list[str]]:
    """Check one receivable's cells (field -> text, as HEADERS names the fields); the row is
    returned only when every cell could be read. `labels` names the columns in the problems, for
    files whose columns are called otherwise (an invoice list's 购买方名称 is the debtor's name)."""
    problems: list[str] = []
    values: dict[str, object] = {}
    for field, reader in _FIELD_READERS.items():
        text = cells.get(field, "")
        if not text and field in REQUIRED:
            label = labels[field]
            problems.append(Sentence(f"{label}：不能为空", f"{_label_en(label)}: empty"))
            continue
        try:
            values[field] = reader(text)
        except ValueError as exc:
            problems.append(_reason(labels[field], exc.args[0] if exc.args else str(exc)))
    if len(values) < len(_FIELD_READERS):
        return None, problems
    problems.extend(_date_problems(values["issue_date"], values["due_date"], today))  # type: ignore[arg-type]
    return ReceivableRow(line=line, **values), problems  # type: ignore[arg-type]


def _label_en(label: str) -> str:
    """A column's English name: a known header's, or the label's own when it is a Sentence."""
    return _LABELS_EN.get(label, getattr(label, "en", label))


def _reason(label: str, message: str) -> Sentence:
    """Prefix a message (a Sentence, or Chinese alone) with its column, without repeating the
    column's noun in Chinese; the English reads "Amount: the amount is empty"."""
    english = getattr(message, "en", str(message))
    text = str(message)
    for noun in (label, "统一社会信用代码", "金额", "日期"):
        if label.endswith(noun) and text.startswith(noun):
            text = text[len(noun) :]
            break
    if english[:1].isupper() and english[1:2].islower():
        english = english[0].lower() + english[1:]
    return Sentence(f"{label}：{text}", f"{_label_en(label)}: {english}")


def _read_text(field: str) -> Callable[[str], str]:
    """A reader for a free-text column: kept as written, within a length limit."""

    def read(text: str) -> str:
        if _SCIENTIFIC.fullmatch(text) and field in CODE_FIELDS:
            raise ValueError(Sentence("疑似被Excel转换为科学计数法，请把该列设为文本格式后重新填写",
                                      "Excel seems to have turned it into scientific notation: format the column "
                                      "as text and enter it again"))
        limit = MAX_LENGTHS[field]
        if len(text) > limit:
            raise ValueError(both("不能超过%(limit)s个字符，实际为%(n)s个",
                                  "at most %(limit)s characters, not %(n)s", limit=limit, n=len(text)))
        return text

    return read


def _read_uscc(text: str) -> str:
    problem = uscc_problem(text)
    if problem:
        raise ValueError(problem)
    return normalise_uscc(text)


def _read_amount(text: str) -> Decimal:
    amount = parse_money(text)
    if amount <= 0:
        raise ValueError(Sentence("必须大于0", "must be more than 0"))
    return amount


def _read_confirmation(text: str) -> str:
    if not text:
        return "pending"
    value = CONFIRMATIONS.get(text.strip().lower())
    if value is None:
        raise ValueError(both("无法识别“%(text)s”，应为已确认、待确认或有异议",
                              "“%(text)s” is not understood; use 已确认 (confirmed), 待确认 (pending) or 有异议 (disputed)",
                              text=text))
    return value


_FIELD_READERS = {
    "debtor_name": _read_text("debtor_name"),
    "debtor_uscc": _read_uscc,
    "invoice_no": _read_text("invoice_no"),
    "contract_no": _read_text("contract_no"),
    "amount": _read_amount,
    "issue_date": parse_date,
    "due_date": parse_date,
    "confirmation": _read_confirmation,
    "reason": _read_text("reason"),
}


def _date_problems(issue: date, due: date, today: date | None) -> list[Sentence]:
    problems = []
    if due < issue:
        problems.append(both("到期日：%(due)s早于开票日期%(issue)s", "Due date: %(due)s is before the issue date %(issue)s",
                             due=due.isoformat(), issue=issue.isoformat()))
    if today is not None and issue > today:
        problems.append(both("开票日期：%(issue)s晚于今天（%(today)s）", "Issue date: %(issue)s is after today (%(today)s)",
                             issue=issue.isoformat(), today=today.isoformat()))
    return problems


def _duplicate_problem(row: ReceivableRow, first_seen: dict[tuple[str, str], int]) -> str | None:
    """The same debtor and invoice number already appeared on an earlier line."""
    key = (row.debtor_uscc, row.invoice_no.upper())
    first = first_seen.setdefault(key, row.line)
    if first == row.line:
        return None
    return both("发票号码：与第%(first)s行重复（同一债务人统一社会信用代码和发票号码）",
                "Invoice number: repeats line %(first)s (same debtor credit code and invoice number)", first=first)


# --- templates ----------------------------------------------------------------------------------

EXAMPLE_ROW: dict[str, object] = {
    "debtor_name": "上海示例贸易有限公司",
    "debtor_uscc": "91310115MA1K3ABC0",  # completed with its check character below
    "invoice_no": "24312000000000123456",
    "contract_no": "HT-2024-001",
    "amount": Decimal("128000.00"),
    "issue_date": date(2024, 3, 1),
    "due_date": date(2024, 6, 30),
    "confirmation": "pending",
    "reason": "",
}
CSV_EXAMPLE_INVOICE = "12345678"  # digits that Excel keeps intact when it opens a CSV


def _example_values() -> dict[str, object]:
    values = dict(EXAMPLE_ROW)
    body = str(values["debtor_uscc"])
    values["debtor_uscc"] = body + uscc_check_char(body)
    values["confirmation"] = CONFIRMATION_LABELS[str(values["confirmation"])]
    return values


def template_csv() -> bytes:
    """The import template as UTF-8 CSV with a BOM (so Excel reads the Chinese), one example row."""
    values = _example_values()
    values["invoice_no"] = CSV_EXAMPLE_INVOICE
    values["amount"] = f"{values['amount']:.2f}"
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS.values())
    writer.writerow(str(values[field]) for field in HEADERS)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


_TEXT_COLUMNS = ("debtor_name", "debtor_uscc", "invoice_no", "contract_no", "confirmation", "reason")
_COLUMN_WIDTHS = {
    "debtor_name": 32,
    "debtor_uscc": 26,
    "invoice_no": 24,
    "contract_no": 18,
    "amount": 16,
    "issue_date": 13,
    "due_date": 13,
    "confirmation": 18,
    "reason": 30,
}
_TEMPLATE_ROWS = 1000  # rows offered the confirmation drop-down


def template_xlsx() -> bytes:
    """The import template as XLSX: bold header, text columns for codes, one example row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "应收账款"
    sheet.append(list(HEADERS.values()))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append([_example_values()[field] for field in HEADERS])
    formats = {field: "@" for field in _TEXT_COLUMNS}
    formats |= {"amount": "#,##0.00", "issue_date": "yyyy-mm-dd", "due_date": "yyyy-mm-dd"}
    for index, field in enumerate(HEADERS, start=1):
        letter = get_column_letter(index)
        # The column style applies to rows the user adds; the example cell needs its own.
        sheet.column_dimensions[letter].number_format = formats[field]
        sheet.column_dimensions[letter].width = _COLUMN_WIDTHS[field]
        sheet.cell(row=2, column=index).number_format = formats[field]
    column = get_column_letter(list(HEADERS).index("confirmation") + 1)
    choices = DataValidation(type="list", formula1='"已确认,待确认,有异议"', allow_blank=True)
    choices.add(f"{column}2:{column}{_TEMPLATE_ROWS + 1}")
    sheet.add_data_validation(choices)
    sheet.freeze_panes = "A2"
    _add_instructions(workbook.create_sheet("填写说明"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _add_instructions(sheet) -> None:
    """A second sheet explaining each column; the importer reads only the first sheet."""
    notes = {
        "debtor_name": "必填，债务人（购货方）全称",
        "debtor_uscc": "必填，18位统一社会信用代码",
        "invoice_no": "必填，发票号码（数电票为20位）",
        "contract_no": "选填",
        "amount": "必填，单位：元，大于0，最多两位小数",
        "issue_date": "必填，格式YYYY-MM-DD，不能晚于今天",
        "due_date": "必填，格式YYYY-MM-DD，不能早于开票日期",
        "confirmation": "选填，本企业对债务人确认情况的声明：已确认、待确认或有异议，留空视为待确认。"
                        "该声明仅作记录，不视为债务人确认：只有债务人通过确认链接或其平台企业账户确认，"
                        "应收账款才计为已确认",
        "reason": "选填，声明有异议时填写异议原因，最多500字",
    }
    sheet.append(["列名", "说明"])
    for field, note in notes.items():
        sheet.append([HEADERS[field], note])
    sheet.column_dimensions["A"].width = 26
    sheet.column_dimensions["B"].width = 60
