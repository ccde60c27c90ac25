"""Parsing what Chinese banks export into normalised transactions (design.md section 5).

    parse_statement(data, filename) -> Statement

Formats are told from the content: CSV (UTF-8 with or without BOM, GBK/GB18030), XLSX, legacy
XLS, and HTML tables saved as ".xls". Title and account rows above the header are read for the
account number, holder and bank; total, subtotal and note rows are skipped. Three layouts:

- split:  a debit (借方, 支出) and a credit (贷方, 收入) column; on the customer's statement 贷方
          is money in. A debit column that writes its amounts with a minus sign stays money out.
- flag:   one amount column and a direction column (借/贷, 收/付, 出/入, D/C).
- signed: one amount column whose sign is the direction.

Every bad row is reported with its line as the file shows it and a Chinese reason naming the
column; a file with any bad row is rejected whole (no transactions are returned). Problems with
the file as a whole (empty, junk, no header, no rows) are one ParseError on line 0.

Big CSV files take a fast path: no charset detection when UTF-8 or GB18030 decodes, one pass of
the csv module, and an inline loop for plain rows (dates cached, one compiled match and a
Decimal per amount, never float); any row that is not plain is read by the careful per-row
code. 100,000 rows take about 0.85 s (docs/performance.md). Spreadsheets and HTML go through
workflows.tabular.read_table.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from itertools import chain, count, islice

from workflows.identifiers import parse_date
from workflows.tabular import (
    OLE_SIGNATURE,
    ZIP_SIGNATURE,
    TableError,
    decode_text,
    normalise_header,
    read_table,
    sniff_delimiter,
)
from workflows.verification.model import ParseError, Statement, Transaction
from workflows.verification.statement_headers import (
    DIRECTIONS,
    IN,
    OUT,
    Header,
    direction,
    find_statement_header,
    is_total_or_note,
    mentions_total,
    statement_info,
)

__all__ = ["parse_statement", "ParseError", "Statement", "Transaction"]

HEADER_SEARCH_ROWS = 30  # non-blank rows searched for the header, as tabular.find_header does
_SNIFF_CHARS = 64 * 1024
_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")
_BLANK_AMOUNTS = frozenset({"-", "--", "—", "——", "/", "－", "无"})
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?")
_FAST_MONEY = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?").fullmatch
_MONEY = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+")
_CURRENCY = ("人民币", "RMB", "CNY", "¥", "￥", "元")
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x19\x1b-\x1f\x7f-\x9f]")  # as tabular's check
_TABLE_TAG = re.compile(r"<table[\s>]", re.IGNORECASE)
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_SERIALS = range(20000, 73051)  # 1954-10-03 .. 2099-12-31


def parse_statement(data: bytes, filename: str) -> Statement:
    """Read one statement file. Never raises for bad input: problems are in Statement.errors."""
    statement = Statement(sha256=hashlib.sha256(data).hexdigest())
    try:
        rows, spreadsheet = _read_rows(data, filename)
        _parse_rows(statement, rows, spreadsheet)
    except TableError as exc:
        statement.errors = [ParseError(0, str(exc))]
    except _FileProblem as exc:
        statement.errors = [ParseError(exc.line, exc.reason)]
    if statement.errors:
        statement.transactions = []  # rejected whole: nothing of it is to be stored
    return statement


class _Slow(Exception):
    """A row the fast loop leaves to _RowReader.read()."""


class _FileProblem(Exception):
    def __init__(self, reason: str, line: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.line = reason, line


# --- reading rows -------------------------------------------------------------------------------

RowData = tuple[int, Sequence[str]]


def _read_rows(data: bytes, filename: str) -> tuple[Iterator[RowData], bool]:
    """(rows, spreadsheet): every row with its line number as the file shows it."""
    if not data or not data.strip(b" \t\r\n\x00"):
        raise _FileProblem("文件为空")
    if data.startswith((ZIP_SIGNATURE, OLE_SIGNATURE)):
        return ((row.line, row.cells) for row in read_table(data, filename)), True
    if data.startswith(b"%PDF"):
        raise _FileProblem("不支持PDF格式的对账单，请从网上银行导出Excel或CSV格式的明细后上传")
    text = _decode(data)
    if _TABLE_TAG.search(text, 0, _SNIFF_CHARS) or (
        text.lstrip()[:1] == "<" and _TABLE_TAG.search(text)
    ):
        return ((row.line, row.cells) for row in read_table(data, filename)), True
    return _csv_rows(text), False


def _decode(data: bytes) -> str:
    """UTF-8 (BOM or not), then GB18030, else tabular's decoding (UTF-16, charset detection).

    A big GB18030 file is decoded directly, without charset-normalizer; the check for binary
    content looks at the first 64 KB.
    """
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and b"\x00" not in data:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            sample = text[:_SNIFF_CHARS]
            if len(_CONTROL_CHARS.findall(sample)) > len(sample) * 0.01:
                raise TableError("文件含有二进制内容，不是CSV、Excel或网页表格文件")
            return text
    return decode_text(data)


def _csv_rows(text: str) -> Iterator[RowData]:
    """Rows of a CSV text; a row spanning lines (quoted newline) keeps its first line's number."""
    head = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS:
        head = head.rsplit("\n", 1)[0]
    delimiter = sniff_delimiter(head)
    if '="' not in text:  # ="0012" (Excel's way to keep leading zeros) needs unwrapping
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error:
            rows = None
        # One row per line (no quoted line breaks, no lone CR): the line is the row's position.
        lines = text.count("\n") + (not text.endswith("\n"))
        if rows is not None and len(rows) == lines and text.count("\r") == text.count("\r\n"):
            return zip(count(1), rows)
    return _csv_rows_numbered(text, delimiter)


def _csv_rows_numbered(text: str, delimiter: str) -> Iterator[RowData]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    unwrap = '="' in text
    start = 1
    try:
        for cells in reader:
            if cells:
                if unwrap:
                    cells = [_unwrap_excel_text(cell) for cell in cells]
                yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _FileProblem(f"第{start}行：CSV格式错误（{exc}）", start) from exc


def _unwrap_excel_text(cell: str) -> str:
    stripped = cell.strip()
    if stripped.startswith('="') and stripped.endswith('"') and len(stripped) >= 3:
        return stripped[2:-1]
    return cell


def _non_blank(rows: Iterable[RowData]) -> Iterator[RowData]:
    for line, cells in rows:
        if any(cell.strip() for cell in cells):
            yield line, cells


# --- rows into transactions ---------------------------------------------------------------------


def _parse_rows(statement: Statement, rows: Iterator[RowData], spreadsheet: bool) -> None:
    head = list(islice(_non_blank(rows), HEADER_SEARCH_ROWS))
    if not head:
        raise _FileProblem("文件为空")
    try:
        header = find_statement_header(head)
    except ValueError as exc:
        raise _FileProblem(f"无法识别为银行对账单：{exc}") from exc
    info = statement_info([cells for _, cells in head[: header.index]])
    statement.bank = info.get("bank", "")
    statement.account_no = info.get("account_no", "")
    statement.account_name = info.get("account_name", "")

    reader = _RowReader(header, spreadsheet)
    for _, cells in head[header.index + 1 :]:
        reader.take_own_account(cells)
    reader.read_all(chain(head[header.index + 1 :], rows))
    if reader.errors:
        statement.errors = reader.errors
        return
    if not reader.rows:
        raise _FileProblem("文件中没有交易记录：表头下方没有数据行")
    statement.transactions = reader.finish()
    if not statement.account_no and reader.own_account:
        statement.account_no = reader.own_account
    if not statement.account_name and reader.own_name:
        statement.account_name = reader.own_name


class _RowReader:
    """Reads the data rows into transactions and errors; see parse_statement.

    Transactions are made as rows are read, taking a debit (or out-flagged) amount written
    without a sign as money out. When most such amounts turn out to carry a minus sign, the
    column writes money out that way, and finish() turns those rows round.
    """

    def __init__(self, header: Header, spreadsheet: bool) -> None:
        self.header = header
        self.layout = header.layout
        self.spreadsheet = spreadsheet
        self.errors: list[ParseError] = []
        self.rows: list[Transaction] = []
        self.debit_rows: list[int] = []  # positions in rows of non-zero debit amounts
        self.negative_debits = 0  # debit amounts written with a minus sign ...
        self.positive_debits = 0  # ... and without one: the majority tells the column's habit
        self.alt: dict[int, tuple[str, str, str, str]] = {}  # position -> payer/payee cells
        self.own_account = ""
        self.own_name = ""
        self._dates: dict[str, date] = {}
        self._clocks: set[str] = set()
        columns = header.columns
        self._date = columns["date"]
        self._debit = columns.get("debit", -1)
        self._credit = columns.get("credit", -1)
        self._amount = columns.get("amount", -1)
        self._direction = columns.get("direction", -1)
        self._balance = columns.get("balance", -1)
        self._counterparty = columns.get("counterparty", -1)
        self._account = columns.get("counterparty_account", -1)
        self._summaries = header.summary_columns
        names = ("payer", "payer_account", "payee", "payee_account")
        self._alt = tuple(columns.get(name, -1) for name in names)
        self._use_alt = self._counterparty < 0 and any(i >= 0 for i in self._alt)
        self._own = (columns.get("own_account", -1), columns.get("own_name", -1))

    def read_all(self, rows: Iterable[RowData]) -> None:
        """Every data row. This loop is the hot path of a 100,000-row file: a row of plain cells
        (a date seen before, amounts such as 1234.5 or -1,234.50, a known flag) is read inline;
        anything else (a problem, a total row, a short row, a new date) goes through read()."""
        rows = iter(rows)
        for line, cells in rows:  # the first row also gives the statement's own account
            self.read(line, cells)
            break
        dates, clocks = self._dates, self._clocks
        money, cent, flags = _FAST_MONEY, _CENT, DIRECTIONS
        split = self.layout == "split"
        flagged = self.layout == "flag"
        i_date = self._date
        i_debit, i_credit, i_amount = self._debit, self._credit, self._amount
        i_flag, i_balance = self._direction, self._balance
        i_party, i_account = self._counterparty, self._account
        summaries = self._summaries
        i_summary = summaries[0] if summaries else -1
        i_summary2 = summaries[1] if len(summaries) == 2 else -1
        inline = len(summaries) <= 2 and not self._use_alt
        needed = max(i_date, i_debit, i_credit, i_amount, i_flag, i_balance, i_party, i_account,
                     *summaries)
        transactions = self.rows
        append = transactions.append
        debit_rows = self.debit_rows
        negative = positive = 0
        for line, cells in rows:
            try:
                if len(cells) <= needed or not inline:
                    raise _Slow
                text = cells[i_date].strip()
                when = dates.get(text)
                if when is None:
                    day, _, clock = text.partition(" ")
                    when = dates[day]
                    if clock not in clocks:
                        if not _valid_time(clock):
                            raise _Slow
                        clocks.add(clock)
                if split:
                    debit = credit = None
                    if i_debit >= 0:
                        text = cells[i_debit].strip()
                        if text:
                            if not money(text):
                                raise _Slow
                            debit = Decimal(text.replace(",", "") if "," in text else text)
                            if text[-3:-2] != ".":
                                debit = debit.quantize(cent)
                    if i_credit >= 0:
                        text = cells[i_credit].strip()
                        if text:
                            if not money(text):
                                raise _Slow
                            credit = Decimal(text.replace(",", "") if "," in text else text)
                            if text[-3:-2] != ".":
                                credit = credit.quantize(cent)
                    if debit:
                        if credit:
                            raise _Slow
                        value, is_debit = debit, True
                    elif credit is not None:
                        value, is_debit = credit, False
                    elif debit is not None:
                        value, is_debit = _ZERO, False
                    else:
                        raise _Slow
                else:
                    text = cells[i_amount].strip()
                    if not money(text):
                        raise _Slow
                    value = Decimal(text.replace(",", "") if "," in text else text)
                    if text[-3:-2] != ".":
                        value = value.quantize(cent)
                    is_debit = flagged and flags[cells[i_flag].strip()] == OUT
                balance = None
                if i_balance >= 0:
                    text = cells[i_balance].strip()
                    if text:
                        if not money(text):
                            raise _Slow
                        balance = Decimal(text.replace(",", "") if "," in text else text)
                        if text[-3:-2] != ".":
                            balance = balance.quantize(cent)
                        if not balance:
                            balance = _ZERO
                party = cells[i_party].strip() if i_party >= 0 else ""
                account = cells[i_account].strip().lstrip("'") if i_account >= 0 else ""
                summary = cells[i_summary].strip() if i_summary >= 0 else ""
                if i_summary2 >= 0:
                    second = cells[i_summary2].strip()
                    if second and second != summary:
                        summary = f"{summary}；{second}" if summary else second
            except (_Slow, KeyError, InvalidOperation):
                self.read(line, cells)
                continue
            if not value:
                value = _ZERO
            elif is_debit:
                if value < 0:
                    negative += 1
                else:
                    positive += 1
                debit_rows.append(len(transactions))
                value = -value
            append(Transaction(line, when, value, balance, party, account, summary))
        self.negative_debits += negative
        self.positive_debits += positive

    def read(self, line: int, cells: Sequence[str]) -> None:
        """One row, every case: problems are collected, totals and notes skipped."""
        size = len(cells)
        index = self._date
        date_text = cells[index].strip() if index < size else ""
        problems: list[str] = []
        when = None
        if date_text:
            try:
                when = self._dates.get(date_text) or self._read_date(date_text)
            except ValueError as exc:
                problems.append(f"{self.header.name('date')}：{exc}")
        if when is None and self._skippable(cells, date_problem=True):
            return
        if not date_text:
            problems.append(f"{self.header.name('date')}：不能为空")

        value, is_debit = self._money(cells, size, problems)
        if value is None and not problems:
            if self._skippable(cells, date_problem=False):
                return
            problems.append(self._no_amount_reason())
        balance = None
        index = self._balance
        if 0 <= index < size:
            text = cells[index].strip()
            if text:
                balance = self._number(text, "balance", problems)
        if problems:
            self.errors.extend(ParseError(line, reason) for reason in problems)
            return
        party, account, summary = self._texts(cells, size)
        position = len(self.rows)
        if not value:
            value = _ZERO
        elif is_debit:
            self._count_debit(value)
            self.debit_rows.append(position)
            value = -value
        if self._use_alt:
            alt = tuple(_cell(cells, i).strip().lstrip("'") for i in self._alt)
            self.alt[position] = alt  # type: ignore[assignment]
            party, account = _alt_party(party, account, alt, value)  # type: ignore[arg-type]
        self.rows.append(Transaction(line, when, value, balance, party, account, summary))
        self.take_own_account(cells)

    def take_own_account(self, cells: Sequence[str]) -> None:
        """The statement's own account and holder from the first row with an 本方账号 cell."""
        if self.own_account or self.own_name or self._own == (-1, -1):
            return
        account = _cell(cells, self._own[0]).strip().lstrip("'")
        if account and sum(char.isdigit() for char in account) >= 6:
            self.own_account = account
            self.own_name = _cell(cells, self._own[1]).strip()
        elif not account and self._own[0] < 0:
            self.own_name = _cell(cells, self._own[1]).strip()

    def _money(
        self, cells: Sequence[str], size: int, problems: list[str]
    ) -> tuple[Decimal | None, bool]:
        """(value, is_debit): the row's amount as written, and whether it is the money-out kind."""
        if self.layout == "split":
            debit = credit = None
            index = self._debit
            if 0 <= index < size:
                text = cells[index].strip()
                if text:
                    debit = self._number(text, "debit", problems)
            index = self._credit
            if 0 <= index < size:
                text = cells[index].strip()
                if text:
                    credit = self._number(text, "credit", problems)
            if debit and credit:
                problems.append(
                    f"同一行借方与贷方都有金额（{self.header.name('debit')}{debit}，"
                    f"{self.header.name('credit')}{credit}）"
                )
                return None, False
            if debit:
                return debit, True
            if credit is not None:
                return credit, False
            return debit, False  # None, or an explicit zero
        index = self._amount
        text = cells[index].strip() if 0 <= index < size else ""
        value = self._number(text, "amount", problems) if text else None
        if value is None or self.layout == "signed":
            return value, False
        index = self._direction
        flag_text = cells[index].strip() if 0 <= index < size else ""
        flag = direction(flag_text) if flag_text else None
        if flag == OUT:
            return value, True
        if flag == IN or (not flag_text and value <= 0):
            return value, False
        name = self.header.name("direction")
        if flag_text:
            problems.append(f"{name}：无法识别“{_shown(flag_text)}”，应为借/贷、收/付、出/入或D/C")
        else:
            problems.append(f"{name}：不能为空")
        return None, False

    def _count_debit(self, value: Decimal) -> None:
        if value < 0:
            self.negative_debits += 1
        else:
            self.positive_debits += 1

    def _number(self, text: str, name: str, problems: list[str]) -> Decimal | None:
        """A money cell: None when blank or a placeholder ("-", "--"), else a 2-place Decimal."""
        if _FAST_MONEY(text):
            value = Decimal(text.replace(",", ""))
        else:
            if text in _BLANK_AMOUNTS:
                return None
            value = _slow_money(text)
            if value is None:
                problems.append(f"{self.header.name(name)}：不是有效的金额“{_shown(text)}”")
                return None
        rounded = value.quantize(_CENT)
        if rounded != value:
            problems.append(f"{self.header.name(name)}：金额“{_shown(text)}”最多两位小数")
            return None
        return rounded if rounded else _ZERO

    def _read_date(self, text: str) -> date:
        """A date cell, with or without a time; the date part is cached (files repeat dates)."""
        day, space, rest = text.partition(" ")
        if space:
            cached = self._dates.get(day)
            if cached is not None and _valid_time(rest.strip()):
                return cached
        try:
            value = parse_date(text)
        except ValueError as exc:
            value = self._other_date(text, str(exc))
        if not space:
            self._dates[text] = value
        elif day not in self._dates:
            try:
                self._dates[day] = parse_date(day)
            except ValueError:
                pass
        return value

    def _other_date(self, text: str, problem: str) -> date:
        """Forms parse_date does not take: 20240105102345, and Excel serials in spreadsheets."""
        if len(text) == 14 and text.isdigit() and _valid_time(f"{text[8:10]}:{text[10:12]}:{text[12:]}"):
            try:
                return parse_date(text[:8])
            except ValueError:
                pass
        if self.spreadsheet:
            whole = text.split(".", 1)[0]
            if whole.isdigit() and int(whole) in _EXCEL_SERIALS and text.replace(".", "", 1).isdigit():
                return _EXCEL_EPOCH + timedelta(days=int(whole))
        if "时间不存在" in problem:
            detail = "（时间不存在）"
        elif "不存在" in problem:
            detail = "（日期不存在）"
        elif "年份" in problem:
            detail = "（年份应在1900-2099之间）"
        else:
            detail = "，应为如2024-01-05的日期"
        raise ValueError(f"无法识别“{_shown(text)}”{detail}")

    def _texts(self, cells: Sequence[str], size: int) -> tuple[str, str, str]:
        index = self._counterparty
        counterparty = cells[index].strip() if 0 <= index < size else ""
        index = self._account
        account = cells[index].strip().lstrip("'") if 0 <= index < size else ""
        summaries = self._summaries
        if len(summaries) == 1:
            index = summaries[0]
            summary = cells[index].strip() if index < size else ""
        elif summaries:
            parts = [cells[i].strip() for i in summaries if i < size]
            summary = "；".join(dict.fromkeys(part for part in parts if part))
        else:
            summary = ""
        return counterparty, account, summary

    def _skippable(self, cells: Sequence[str], *, date_problem: bool) -> bool:
        """Blank rows, a repeated header, totals, subtotals and notes are not transactions.

        Without a usable date: see is_total_or_note. With a date but no amount: any cell but
        the counterparty's may say so (期初余额).
        """
        filled = [cell for cell in cells if cell.strip()]
        if not filled:
            return True
        if date_problem:
            if self._is_header_again(cells):
                return True
            return is_total_or_note(_cell(cells, self._date), filled[0])
        skip = {self._counterparty, self._account, *self._alt}
        return mentions_total([cell for i, cell in enumerate(cells) if i not in skip])

    def _is_header_again(self, cells: Sequence[str]) -> bool:
        folded = tuple(normalise_header(cell) for cell in cells)
        header = self.header.folded
        return folded[: len(header)] == header[: len(folded)] and any(folded)

    def _no_amount_reason(self) -> str:
        names = self.header.names
        if self.layout == "split":
            present = [names[n] for n in ("debit", "credit") if n in names]
            return f"{'与'.join(present)}都为空" if len(present) > 1 else f"{present[0]}：不能为空"
        return f"{self.header.name('amount')}：不能为空"

    def finish(self) -> list[Transaction]:
        """The transactions, turned round where the debit column writes money out as -1,234.50."""
        rows = self.rows
        if self.negative_debits > self.positive_debits:
            for position in self.debit_rows:
                row = rows[position]
                party, account = row.counterparty, row.counterparty_account
                if position in self.alt:
                    party, account = _alt_party("", "", self.alt[position], -row.amount)
                rows[position] = replace(
                    row, amount=-row.amount, counterparty=party, counterparty_account=account
                )
        return rows


def _alt_party(
    party: str, account: str, alt: tuple[str, str, str, str], amount: Decimal
) -> tuple[str, str]:
    """Without a counterparty column: the payer of money in, the payee of money out."""
    payer, payer_account, payee, payee_account = alt
    if amount >= 0:
        return party or payer, account or payer_account
    return party or payee, account or payee_account


def _cell(cells: Sequence[str], index: int) -> str:
    return cells[index] if 0 <= index < len(cells) else ""


def _shown(text: str, limit: int = 40) -> str:
    """A cell as quoted in a message: one line, at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _valid_time(text: str) -> bool:
    """10:23, 10:23:45 or 10:23:45.123, within the day."""
    if (
        len(text) == 8
        and text[2] == ":" == text[5]
        and text[:2] <= "23"
        and text[3] <= "5"
        and text[6] <= "5"
        and (text[:2] + text[3:5] + text[6:]).isdigit()
    ):
        return True
    match = _TIME.fullmatch(text)
    if match is None:
        return False
    hour, minute, second = match.groups()
    return int(hour) < 24 and int(minute) < 60 and int(second or 0) < 60


def _slow_money(text: str) -> Decimal | None:
    """Amounts with thousands separators, ¥/￥/元/RMB, full-width digits, (1,234.00), 1,234.00-."""
    value = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    negative = False
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1]
    for _ in range(2):
        for mark in _CURRENCY:
            value = value.removeprefix(mark).removesuffix(mark)
        if value[:1] in ("-", "+"):
            negative, value = negative ^ (value[0] == "-"), value[1:]
        elif value[-1:] == "-":
            negative, value = not negative, value[:-1]
    if not _MONEY.fullmatch(value):
        return None
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        return None
    return -amount if negative else amount
