"""Parsing what Chinese banks export into normalised transactions (design.md section 5).

    parse_statement(data, filename) -> Statement

Formats are told from the content: CSV (UTF-8 with or without BOM, GBK/GB18030), XLSX, legacy
XLS, and HTML tables saved as ".xls". Title and account rows above the header are read for the
account number, holder, bank, period and currency; total, subtotal, note, signature and
disclaimer rows are skipped. Three layouts:

- split:  a debit (借方, 支出, 取出) and a credit (贷方, 收入, 存入) column; on the customer's
          statement 贷方 is money in. A debit column that writes its amounts with a minus sign
          stays money out. The unused side may be blank, "-" or "--".
- flag:   one amount column and a direction column (借/贷, 收/付, 出/入, D/C, "贷 Cr", "借 Dr").
- signed: one amount column whose sign is the direction.

A personal card's export may hold two amount column sets (交易金额 in the card's currency and
记账金额 in the account's): the account's set is read, and the other where it is blank or "-".

Every bad row is reported with its line as the file shows it and a reason in Chinese and
English naming the column; a file with any bad row is rejected whole (no transactions are
returned). Problems with the file as a whole (empty, junk, only a disclaimer, no header, no rows)
are one ParseError on line 0. Rows after the last transaction that are not transactions (totals,
page totals, signatures, disclaimers) are skipped, as are rows with neither a date nor an amount.
What the user should know about an accepted file (a masked balance column, amounts taken from
the second column set, no holder named) is in Statement.warnings.

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
    DEFAULT_LIMITS,
    OLE_SIGNATURE,
    ZIP_SIGNATURE,
    TableError,
    TableLimits,
    check_csv_text,
    decode_text,
    read_table,
    sniff_delimiter,
)
from workflows.text import counted
from workflows.verification.model import ParseError, ParseWarning, Statement, Transaction
from workflows.verification.statement_headers import (
    AMOUNT_FIELDS,
    DIRECTIONS,
    IN,
    OUT,
    Header,
    HeaderNotFound,
    direction,
    find_statement_header,
    fold,
    foreign_currency,
    is_total_or_note,
    layout_of,
    looks_like_date,
    mentions_total,
    statement_info,
)

__all__ = ["parse_statement", "ParseError", "ParseWarning", "Statement", "Transaction"]

HEADER_SEARCH_ROWS = 30  # non-blank rows searched for the header, as tabular.find_header does
_SNIFF_CHARS = 64 * 1024
_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")
# where str.splitlines() breaks lines and StringIO(newline="") does not (both: \n, \r, \r\n)
_OTHER_LINE_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_BLANK_AMOUNTS = frozenset({"-", "--", "---", "—", "——", "/", "－", "－－", "无", "（空）", "(空)"})
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?")
_FAST_MONEY = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?").fullmatch
_MONEY = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+")
_CURRENCY = ("人民币", "RMB", "CNY", "¥", "￥", "元")
_SIGN_SUFFIX = re.compile(r"\s*(借|贷|DR|CR|D|C)\.?$", re.IGNORECASE)
_MASKED = re.compile(r"[*＊#xX]+(?:[.,][*＊#xX]+)*")
_PARTY_ACCOUNT = re.compile(r"^\s*([0-9*]{6,}(?:[ -][0-9*]+)*)\s*[/／,，:：]?\s*|\s*[/／,，:：]?\s*([0-9*]{6,})\s*$")
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x19\x1b-\x1f\x7f-\x9f]")  # as tabular's check
_TABLE_TAG = re.compile(r"<table[\s>]", re.IGNORECASE)
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_SERIALS = range(20000, 73051)  # 1954-10-03 .. 2099-12-31
_LINES_SHOWN = 10
_AMOUNT_LIKE = re.compile(r"[-+]?[¥￥]?\d[\d,]*\.\d{1,2}")
DISCLAIMER_WORDS = ("仅供参考", "免责", "声明", "以上数据", "以上信息", "以上内容", "不作为", "为准", "温馨提示",
                    "注：", "注:", "说明：", "提示：")

Problem = tuple[str, str]  # (Chinese, English)


def parse_statement(data: bytes, filename: str, limits: TableLimits = DEFAULT_LIMITS) -> Statement:
    """Read one statement file. Never raises for bad input: problems are in Statement.errors.

    A file over `limits` (rows, columns, cells, an XLSX that unpacks too big) is refused before
    it is parsed, with one ParseError on line 0."""
    statement = Statement(sha256=hashlib.sha256(data).hexdigest())
    try:
        rows, spreadsheet = _read_rows(data, filename, limits)
        _parse_rows(statement, rows, spreadsheet)
    except TableError as exc:
        statement.errors = [ParseError(0, str(exc), exc.en or str(exc))]
    except _FileProblem as exc:
        statement.errors = [ParseError(exc.line, exc.reason, exc.reason_en)]
    if statement.errors:
        statement.transactions = []  # rejected whole: nothing of it is to be stored
    return statement


class _Slow(Exception):
    """A row the fast loop leaves to _RowReader.read()."""


class _FileProblem(Exception):
    def __init__(self, reason: str, reason_en: str, line: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.reason_en, self.line = reason, reason_en, line


class _CellProblem(ValueError):
    """A cell that cannot be read: the reason in Chinese and English, without the column name."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(zh)
        self.zh, self.en = zh, en


# --- reading rows -------------------------------------------------------------------------------

RowData = tuple[int, Sequence[str]]


def _read_rows(data: bytes, filename: str, limits: TableLimits) -> tuple[Iterator[RowData], bool]:
    """(rows, spreadsheet): every row with its line number as the file shows it."""
    if not data or not data.strip(b" \t\r\n\x00"):
        raise _FileProblem("文件为空", "the file is empty")
    if data.startswith((ZIP_SIGNATURE, OLE_SIGNATURE)):
        return ((row.line, row.cells) for row in read_table(data, filename, limits)), True
    if data.startswith(b"%PDF"):
        raise _FileProblem(
            "不支持PDF格式的对账单，请从网上银行导出Excel或CSV格式的明细后上传",
            "PDF statements are not accepted: export the transaction details from online banking "
            "as Excel or CSV and upload that file",
        )
    text = _decode(data)
    if _TABLE_TAG.search(text, 0, _SNIFF_CHARS) or (
        text.lstrip()[:1] == "<" and _TABLE_TAG.search(text)
    ):
        return ((row.line, row.cells) for row in read_table(data, filename, limits)), True
    check_csv_text(text, filename, limits)
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
                raise TableError(
                    "文件含有二进制内容，不是CSV、Excel或网页表格文件",
                    "the file holds binary content: it is not a CSV, Excel or web-page table file",
                )
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
            rows = list(csv.reader(_csv_lines(text), delimiter=delimiter))
        except csv.Error:
            rows = None
        # One row per line (no quoted line breaks, no lone CR): the line is the row's position.
        lines = text.count("\n") + (not text.endswith("\n"))
        if rows is not None and len(rows) == lines and (
            "\r" not in text or text.count("\r") == text.count("\r\n")
        ):
            return zip(count(1), rows)
    return _csv_rows_numbered(text, delimiter)


def _csv_lines(text: str) -> Iterable[str]:
    """The lines StringIO(text, newline="") hands a csv reader, ends kept: str.splitlines() makes
    the same a third faster unless the text holds a break only it splits at (form feed, U+2028...)."""
    if any(char in text for char in _OTHER_LINE_BREAKS):
        return io.StringIO(text, newline="")
    return text.splitlines(keepends=True)


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
        raise _FileProblem(f"第{start}行：CSV格式错误（{exc}）", f"line {start}: CSV format error ({exc})",
                           start) from exc


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
        raise _FileProblem("文件为空", "the file is empty")
    try:
        header = find_statement_header(head)
    except HeaderNotFound as exc:
        if _only_notes(head):
            raise _FileProblem(
                "文件中只有说明或免责声明文字（如“以上数据仅供参考”），没有交易明细表；"
                "请从网上银行导出账户交易明细（Excel或CSV）后上传",
                "the file holds only notes or a disclaimer (such as 以上数据仅供参考) and no table "
                "of transactions: export the account's transaction details (Excel or CSV) from "
                "online banking and upload that file",
            ) from exc
        raise _FileProblem(f"无法识别为银行对账单：{exc}", f"not recognised as a bank statement: {exc.en}") from exc
    info = statement_info([cells for _, cells in head[: header.top]])
    statement.bank = info.get("bank", "")
    statement.account_no = info.get("account_no", "")
    statement.account_name = info.get("account_name", "")
    currency = foreign_currency(info.get("currency", ""))
    if currency:
        raise _FileProblem(f"对账单币种为{currency}，只能导入人民币账户的流水",
                           f"the statement's currency is {currency}: only yuan (CNY) accounts can be imported")

    reader = _RowReader(header, spreadsheet)
    for _, cells in head[header.index + 1 :]:
        reader.take_own_account(cells)
    reader.read_all(chain(head[header.index + 1 :], rows))
    errors = reader.final_errors()
    if errors:
        statement.errors = errors
        return
    if not reader.rows:
        raise _FileProblem("文件中没有交易记录：表头下方没有数据行",
                           "the file holds no transactions: there are no data rows below the header")
    statement.transactions = reader.finish()
    if not statement.account_no and reader.own_account:
        statement.account_no = reader.own_account
    if not statement.account_name and reader.own_name:
        statement.account_name = reader.own_name
    statement.warnings = reader.warnings(statement, info)


def _only_notes(rows: Sequence[RowData]) -> bool:
    """No header, and the text is a disclaimer or notes (仅供参考, 声明 ...), not a table of
    figures (no row with two amounts such as 1,234.00)."""
    text = "".join(cell for _, cells in rows for cell in cells)
    if not any(word in text for word in DISCLAIMER_WORDS):
        return False
    return not any(sum(1 for cell in cells if _AMOUNT_LIKE.fullmatch(cell.strip())) >= 2 for _, cells in rows)


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
        self.masked_balances: list[int] = []  # lines whose balance is **** or the like
        self.fallback_lines: list[int] = []  # lines whose amount came from a fallback column set
        self.skipped_lines: list[int] = []  # totals, notes, blank and header rows below the header
        self._error_rows: dict[int, tuple[bool, tuple[Decimal, ...]]] = {}  # line -> (dated, amounts)
        self._dates: dict[str, date] = {}
        self._clocks: set[str] = set()
        self._flags = dict(DIRECTIONS)  # flag texts seen and understood ("贷 Cr") join the fast path
        self._yuan: set[str] = {"", "人民币", "人民币元", "RMB", "CNY", "-"}  # currency texts seen as yuan
        columns = header.columns
        self._date = columns["date"]
        self._debit = columns.get("debit", -1)
        self._credit = columns.get("credit", -1)
        self._amount = columns.get("amount", -1)
        self._direction = columns.get("direction", -1)
        self._balance = columns.get("balance", -1)
        self._currency = columns.get("currency", -1)
        self._counterparty = columns.get("counterparty", -1)
        self._account = columns.get("counterparty_account", -1)
        self._party_info = self._counterparty < 0 and "counterparty_info" in columns
        if self._party_info:
            self._counterparty = columns["counterparty_info"]
        self._summaries = header.summary_columns
        names = ("payer", "payer_account", "payee", "payee_account")
        self._alt = tuple(columns.get(name, -1) for name in names)
        self._use_alt = self._counterparty < 0 and any(i >= 0 for i in self._alt)
        self._own = (columns.get("own_account", -1), self._own_name_column(header))
        self._own_raw: tuple[str, str] = ("", "")  # the own cells as first written, for the fast path
        self._own_varies = False
        self._fallbacks = header.fallbacks
        self._flag_column = {"direction": self._direction} if self._direction >= 0 else {}
        self._amount_columns = tuple(
            index for fields in (columns, *header.fallbacks) for name, index in fields.items()
            if name in AMOUNT_FIELDS
        )

    @staticmethod
    def _own_name_column(header: Header) -> int:
        """The own-name column (账户名称 on every row), when it cannot be the counterparty's:
        a counterparty or own-account column beside it, or a header that says 本方/我方."""
        columns = header.columns
        index = columns.get("own_name", -1)
        if index < 0:
            return -1
        named_own = header.names.get("own_name", "").startswith(("本方", "我方"))
        beside = any(name in columns for name in ("counterparty", "counterparty_info", "payer", "payee",
                                                  "own_account"))
        return index if named_own or beside else -1

    def read_all(self, rows: Iterable[RowData]) -> None:
        """Every data row. This loop is the hot path of a 100,000-row file: a row of plain cells
        (a date seen before, amounts such as 1234.5 or -1,234.50, a known flag) is read inline;
        anything else (a problem, a total row, a short row, a new date) goes through read()."""
        rows = iter(rows)
        for line, cells in rows:  # the first row also gives the statement's own account
            self.read(line, cells)
            break
        dates, clocks = self._dates, self._clocks
        money, cent, flags, yuan = _FAST_MONEY, _CENT, self._flags, self._yuan
        split = self.layout == "split"
        flagged = self.layout == "flag"
        i_date = self._date
        i_debit, i_credit, i_amount = self._debit, self._credit, self._amount
        i_flag, i_balance, i_currency = self._direction, self._balance, self._currency
        i_party, i_account = self._counterparty, self._account
        summaries = self._summaries
        i_summary = summaries[0] if summaries else -1
        i_summary2 = summaries[1] if len(summaries) == 2 else -1
        inline = len(summaries) <= 2 and not self._use_alt and not self._party_info
        i_own, i_own_name = self._own
        own_cells = (_cell_or_none(self._own_raw, 0), _cell_or_none(self._own_raw, 1))
        needed = max(i_date, i_debit, i_credit, i_amount, i_flag, i_balance, i_currency, i_party,
                     i_account, i_own, i_own_name, *summaries)
        transactions = self.rows
        append = transactions.append
        new = object.__new__  # Transaction(...) without the frozen dataclass's seven object.__setattr__
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
                        if not _valid_time(clock.lstrip()):  # 2025/12/03  14:06:51: two spaces
                            raise _Slow
                        clocks.add(clock)
                if i_currency >= 0 and cells[i_currency].strip() not in yuan:
                    raise _Slow
                if (i_own >= 0 and cells[i_own] != own_cells[0]) or (
                    i_own_name >= 0 and cells[i_own_name] != own_cells[1]
                ):
                    raise _Slow
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
            row = new(Transaction)  # the same object Transaction(...) makes, in half the time
            row.__dict__.update(line=line, date=when, amount=value, balance=balance, counterparty=party,
                                counterparty_account=account, summary=summary)
            append(row)
        self.negative_debits += negative
        self.positive_debits += positive

    def read(self, line: int, cells: Sequence[str]) -> None:
        """One row, every case: problems are collected, totals, notes and text rows skipped."""
        size = len(cells)
        index = self._date
        date_text = _date_text(cells[index]) if index < size else ""
        problems: list[Problem] = []
        when = None
        if date_text:
            try:
                when = self._dates.get(date_text) or self._read_date(date_text)
            except _CellProblem as exc:
                problems.append(self._about("date", exc))
        if when is None and (self._skippable(cells, date_problem=True) or not self._has_amount(cells)):
            self.skipped_lines.append(line)  # a total, a note, or text with neither date nor amount
            return
        if not date_text:
            problems.append(self._empty("date"))

        value, is_debit, used_fallback = self._money(cells, size, problems)
        if value is None and not problems:
            if self._skippable(cells, date_problem=False):
                self.skipped_lines.append(line)
                return
            problems.append(self._no_amount_reason())
        balance = None
        index = self._balance
        if 0 <= index < size:
            text = cells[index].strip()
            if text:
                if _is_masked(text):
                    self.masked_balances.append(line)
                else:
                    balance = self._number(text, "balance", problems)
        index = self._currency
        if 0 <= index < size:
            self._check_currency(cells[index].strip(), problems)
        if problems:
            self.errors.extend(ParseError(line, zh, en) for zh, en in problems)
            filled = sum(1 for cell in cells if cell.strip())
            self._error_rows[line] = (looks_like_date(date_text) and filled > 1, self._amounts_in(cells))
            return
        if used_fallback:
            self.fallback_lines.append(line)
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
        self.take_own_account(cells, transaction=True)

    def take_own_account(self, cells: Sequence[str], *, transaction: bool = False) -> None:
        """The statement's own account and holder from the first row with an 本方账号 cell; on
        every transaction row after it they must be the same, or they are not the statement's
        own (a column of the counterparties' accounts headed 账号 | 户名)."""
        if self._own == (-1, -1) or self._own_varies:
            return
        if self.own_account or self.own_name:
            if transaction and (_cell(cells, self._own[0]), _cell(cells, self._own[1])) != self._own_raw:
                account = _cell(cells, self._own[0]).strip().lstrip("'")
                name = _cell(cells, self._own[1]).strip()
                if (account and account != self.own_account) or (name and name != self.own_name):
                    self._own_varies = True
                    self.own_account = self.own_name = ""
            return
        account = _cell(cells, self._own[0]).strip().lstrip("'")
        if account and sum(char.isdigit() for char in account) >= 6:
            self.own_account = account
            self.own_name = _cell(cells, self._own[1]).strip()
        elif not account and self._own[0] < 0:
            self.own_name = _cell(cells, self._own[1]).strip()
        if self.own_account or self.own_name:
            self._own_raw = (_cell(cells, self._own[0]), _cell(cells, self._own[1]))

    # -- cells --

    def _money(
        self, cells: Sequence[str], size: int, problems: list[Problem]
    ) -> tuple[Decimal | None, bool, bool]:
        """(value, is_debit, from a fallback): the row's amount as written, and whether it is
        the money-out kind. A row whose own amount cells are blank or "-" is read from the
        next column set (a card's 交易金额 beside its 记账金额)."""
        value, is_debit = self._money_in(self.header.columns, cells, size, problems)
        if value is not None or problems:
            return value, is_debit, False
        for fallback in self._fallbacks:
            value, is_debit = self._money_in(fallback, cells, size, problems, fallback=True)
            if value is not None or problems:
                return value, is_debit, True
        return None, False, False

    def _money_in(
        self, columns: dict[str, int], cells: Sequence[str], size: int, problems: list[Problem],
        *, fallback: bool = False,
    ) -> tuple[Decimal | None, bool]:
        layout = self.layout if not fallback else layout_of({**columns, **self._flag_column})
        if layout == "split":
            debit = credit = None
            index = columns.get("debit", -1)
            if 0 <= index < size:
                text = cells[index].strip()
                if text:
                    debit = self._number(text, "debit", problems, index)
            index = columns.get("credit", -1)
            if 0 <= index < size:
                text = cells[index].strip()
                if text:
                    credit = self._number(text, "credit", problems, index)
            if debit and credit:
                d_name = self.header.column_name(columns["debit"], "debit")
                c_name = self.header.column_name(columns["credit"], "credit")
                problems.append((f"同一行借方与贷方都有金额（{d_name}{debit}，{c_name}{credit}）",
                                 f"both debit and credit hold an amount on one row ({d_name} {debit}, "
                                 f"{c_name} {credit})"))
                return None, False
            if debit:
                return debit, True
            if credit is not None:
                return credit, False
            return debit, False  # None, or an explicit zero
        index = columns.get("amount", -1)
        text = cells[index].strip() if 0 <= index < size else ""
        value = self._number(text, "amount", problems, index) if text else None
        if value is None:
            return None, False
        if layout == "signed":
            return self._suffixed(text, value), False
        index = self._direction
        flag_text = cells[index].strip() if 0 <= index < size else ""
        flag = direction(flag_text) if flag_text else None
        if flag is not None:
            self._flags[flag_text] = flag
        if flag == OUT:
            return value, True
        if flag == IN or (not flag_text and value <= 0):
            return value, False
        name = self.header.name("direction")
        if flag_text:
            shown = _shown(flag_text)
            problems.append((f"{name}：无法识别“{shown}”，应为借/贷、收/付、出/入或D/C",
                             f"{name}: “{shown}” is not a known direction; expected 借/贷, 收/付, 出/入 "
                             "or D/C (Dr/Cr)"))
        else:
            problems.append(self._empty("direction"))
        return None, False

    @staticmethod
    def _suffixed(text: str, value: Decimal) -> Decimal:
        """A signed amount written as "1,200.00 Dr" or "1,200.00借": the suffix is its sign."""
        match = _SIGN_SUFFIX.search(text)
        if match is None:
            return value
        sign = direction(match.group(1))
        return -abs(value) if sign == OUT else abs(value)

    def _count_debit(self, value: Decimal) -> None:
        if value < 0:
            self.negative_debits += 1
        else:
            self.positive_debits += 1

    def _number(self, text: str, name: str, problems: list[Problem], index: int = -1) -> Decimal | None:
        """A money cell: None when blank or a placeholder ("-", "--"), else a 2-place Decimal."""
        if _FAST_MONEY(text):
            value = Decimal(text.replace(",", ""))
        else:
            if text in _BLANK_AMOUNTS:
                return None
            value = _slow_money(text)
            if value is None:
                column = self.header.column_name(index, name) if index >= 0 else self.header.name(name)
                shown = _shown(text)
                problems.append((f"{column}：不是有效的金额“{shown}”", f"{column}: “{shown}” is not a valid amount"))
                return None
        rounded = value.quantize(_CENT)
        if rounded != value:
            column = self.header.column_name(index, name) if index >= 0 else self.header.name(name)
            shown = _shown(text)
            problems.append((f"{column}：金额“{shown}”最多两位小数",
                             f"{column}: the amount “{shown}” has more than two decimals"))
            return None
        return rounded if rounded else _ZERO

    def _check_currency(self, text: str, problems: list[Problem]) -> None:
        if text in self._yuan:
            return
        foreign = foreign_currency(text)
        if not foreign:
            self._yuan.add(text)
            return
        name = self.header.name("currency")
        problems.append((f"{name}：{foreign}，只能导入人民币交易",
                         f"{name}: {text} ({foreign}); only yuan (CNY) transactions can be imported"))

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
        shown = _shown(text)
        if "时间不存在" in problem:
            raise _CellProblem(f"无法识别“{shown}”（时间不存在）", f"“{shown}” is not a date (no such time)")
        if "不存在" in problem:
            raise _CellProblem(f"无法识别“{shown}”（日期不存在）", f"“{shown}” is not a date (no such day)")
        if "年份" in problem:
            raise _CellProblem(f"无法识别“{shown}”（年份应在1900-2099之间）",
                               f"“{shown}” is not a date (the year must be 1900-2099)")
        raise _CellProblem(f"无法识别“{shown}”，应为如2024-01-05的日期",
                           f"“{shown}” is not a date; expected a date such as 2024-01-05")

    def _texts(self, cells: Sequence[str], size: int) -> tuple[str, str, str]:
        index = self._counterparty
        counterparty = cells[index].strip() if 0 <= index < size else ""
        index = self._account
        account = cells[index].strip().lstrip("'") if 0 <= index < size else ""
        if self._party_info and counterparty and not account:
            counterparty, account = _split_party(counterparty)
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

    # -- rows that are not transactions --

    def _has_amount(self, cells: Sequence[str]) -> bool:
        """Whether any amount cell (of any column set) holds something other than a placeholder."""
        for index in self._amount_columns:
            if index < len(cells):
                text = cells[index].strip()
                if text and text not in _BLANK_AMOUNTS:
                    return True
        return False

    def _amounts_in(self, cells: Sequence[str]) -> tuple[Decimal, ...]:
        """The readable amounts of a bad row, as positive numbers (to spot an unlabelled total)."""
        found = []
        for index in self._amount_columns:
            text = _cell(cells, index).strip()
            value = _slow_money(text) if text and text not in _BLANK_AMOUNTS else None
            if value:
                found.append(abs(value))
        return tuple(found)

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
        folded = tuple(fold(cell) for cell in cells)
        if not any(folded):
            return False
        return any(folded[: len(row)] == row[: len(folded)] for row in self.header.folded_rows)

    def final_errors(self) -> list[ParseError]:
        """The errors, less those of rows below the table: after the last transaction, a row
        that is not dated (a page total's figures under 借方笔数 | 借方金额, a total without its
        word, a lone print date) once a footer has begun, or whose figures are the statement's
        own totals."""
        if not self.errors or not self.rows:
            return self.errors
        last = self.rows[-1].line
        footer = min((line for line in self.skipped_lines if line > last), default=None)
        kept = []
        for error in self.errors:
            dated, amounts = self._error_rows.get(error.line, (True, ()))
            if error.line > last and not dated:
                if footer is not None and error.line > footer:
                    continue
                if amounts and all(amount in self._totals(error.line) for amount in amounts):
                    continue
            kept.append(error)
        return kept

    def _totals(self, line: int) -> set[Decimal]:
        """Inflow, outflow and both, of the whole file and of the page above `line` (the rows
        after the last skipped line before it): what an unlabelled total row may show."""
        page_start = max((skipped for skipped in self.skipped_lines if skipped < line), default=0)
        found: set[Decimal] = set()
        for rows in (self.rows, [t for t in self.rows if page_start < t.line < line]):
            inflow = sum((t.amount for t in rows if t.amount > 0), _ZERO)
            outflow = -sum((t.amount for t in rows if t.amount < 0), _ZERO)
            found |= {inflow, outflow, inflow + outflow}
        return found

    def _about(self, name: str, problem: _CellProblem) -> Problem:
        column = self.header.name(name)
        return f"{column}：{problem.zh}", f"{column}: {problem.en}"

    def _empty(self, name: str) -> Problem:
        column = self.header.name(name)
        return f"{column}：不能为空", f"{column}: must not be empty"

    def _no_amount_reason(self) -> Problem:
        names = self.header.names
        if self.layout == "split":
            present = [names[n] for n in ("debit", "credit") if n in names]
            if len(present) > 1:
                return f"{'与'.join(present)}都为空", f"{' and '.join(present)} are both empty"
            return self._empty("debit" if "debit" in names else "credit")
        return self._empty("amount")

    # -- the result --

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

    def warnings(self, statement: Statement, info: dict[str, str]) -> list[ParseWarning]:
        """What the user should know about an accepted file."""
        found: list[ParseWarning] = []
        rows = statement.transactions
        if self._balance >= 0:
            name = self.header.name("balance")
            with_balance = sum(1 for t in rows if t.balance is not None)
            masked = self.masked_balances
            if not with_balance and masked:
                found.append(ParseWarning(
                    "balance_masked", f"余额列（{name}）每一行都被隐藏（如****），已按没有余额处理",
                    f"the balance column ({name}) is masked (such as ****) on every row and is "
                    "treated as absent"))
            elif not with_balance:
                found.append(ParseWarning(
                    "balance_empty", f"余额列（{name}）每一行都为空，已按没有余额处理",
                    f"the balance column ({name}) is empty on every row and is treated as absent"))
            elif masked:
                found.append(ParseWarning(
                    "balance_partly_masked",
                    f"{len(masked)}行的余额被隐藏（如****），这些行按没有余额处理（第{_lines(masked)}行）",
                    f"{counted(len(masked), 'row')} {'has' if len(masked) == 1 else 'have'} a masked balance "
                    f"(such as ****) and {'is' if len(masked) == 1 else 'are'} read without one "
                    f"({_line_word(masked)} {_lines(masked, ', ')})", masked[0]))
        if self.fallback_lines:
            primary = "、".join(self.header.names[n] for n in AMOUNT_FIELDS if n in self.header.names)
            second = "、".join(dict.fromkeys(
                self.header.column_name(i, n) for fallback in self._fallbacks for n, i in fallback.items()))
            lines = self.fallback_lines
            if len(lines) == len(rows):
                found.append(ParseWarning(
                    "amount_fallback", f"{primary}列全部为空或“-”，金额取自{second}列",
                    f"the column(s) {primary} are empty or “-” on every row: amounts are taken from "
                    f"{second}"))
            else:
                found.append(ParseWarning(
                    "amount_fallback",
                    f"{len(lines)}行的{primary}为空或“-”，金额取自{second}（第{_lines(lines)}行）",
                    f"on {counted(len(lines), 'row')} {primary} is empty or “-”: the amount is taken from {second} "
                    f"({_line_word(lines)} {_lines(lines, ', ')})", lines[0]))
        if not statement.account_name:
            found.append(ParseWarning(
                "holder_missing", "文件中未写明户名（账户名称），无法核对该账户是否属于本企业",
                "the file names no account holder (户名), so it cannot be checked that the account is "
                "the enterprise's own"))
        start, end = info.get("period_start", ""), info.get("period_end", "")
        if start and end and start <= end:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
            outside = [t.line for t in rows if not first <= t.date <= last]
            if outside:
                found.append(ParseWarning(
                    "outside_period",
                    f"{len(outside)}笔交易不在文件所写的起止日期（{start}至{end}）内（第{_lines(outside)}行）",
                    f"{counted(len(outside), 'transaction')} {'falls' if len(outside) == 1 else 'fall'} "
                    f"outside the period the file states ({start} to "
                    f"{end}) ({_line_word(outside)} {_lines(outside, ', ')})", outside[0]))
        return found


def _date_text(cell: str) -> str:
    """A date cell stripped of padding and of the quote Excel users type to keep text ('20250101)."""
    text = cell.strip()
    if text[:1] in ("'", "‘", "`"):
        text = text[1:].strip()
    return text


def _is_masked(text: str) -> bool:
    return _MASKED.fullmatch(text) is not None


def _split_party(text: str) -> tuple[str, str]:
    """A counterparty cell holding both (6222…1234 张三, 张三/6222…): (name, account)."""
    match = _PARTY_ACCOUNT.search(text)
    if match is None:
        return text, ""
    account = (match.group(1) or match.group(2) or "").replace(" ", "").replace("-", "")
    name = (text[: match.start()] + text[match.end():]).strip(" /／,，:：")
    return name, account


def _line_word(lines) -> str:
    """ "line" or "lines", as many as `lines` names."""
    return "line" if len(lines) == 1 else "lines"


def _lines(lines: Sequence[int], separator: str = "、") -> str:
    shown = separator.join(str(line) for line in lines[:_LINES_SHOWN])
    return shown + ("…" if len(lines) > _LINES_SHOWN else "")


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


def _cell_or_none(cells: Sequence[str], index: int) -> str | None:
    """A cell for comparison in the fast path; None (never equal to a cell) when empty."""
    return cells[index] or None


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
    """Amounts with thousands separators, ¥/￥/元/RMB, full-width digits, (1,234.00), 1,234.00-,
    and a direction suffix (1,234.00 Dr, 1,234.00贷) whose sign the caller applies."""
    value = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    value = _SIGN_SUFFIX.sub("", value) if value[-1:].isalpha() or value[-1:] in "借贷." else value
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
