"""Credit records from data providers (一企一档 inputs): the sources, the kinds each source may
report, and the checks every record passes, whether it came by the API or in an XLSX file.

Pure: plain values in, plain values out. Each problem is one (Chinese, English) pair naming the
field, so the API answers in both languages and the upload page picks one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from workflows.identifiers import (
    InputError,
    normalise_uscc,
    parse_date,
    parse_money,
    uscc_check_char,
    uscc_problem,
)
from workflows.tabular import DEFAULT_LIMITS, Row, TableError, TableLimits, find_header, read_table

# ---- sources and kinds ----------------------------------------------------------------------------

SOURCES = ("tax", "utilities", "social_insurance", "housing_fund", "court", "market_regulator")
SOURCE_LABELS = {
    "tax": ("税务", "Tax"),
    "utilities": ("水电气", "Utilities"),
    "social_insurance": ("社保", "Social insurance"),
    "housing_fund": ("公积金", "Housing fund"),
    "court": ("法院", "Court"),
    "market_regulator": ("市场监管", "Market regulator"),
}
# The consent scope (enterprises.models.CONSENT_SCOPES) an institution needs to see a source.
SOURCE_SCOPES = {
    "tax": "tax",
    "utilities": "utilities",
    "social_insurance": "social_insurance",
    "housing_fund": "housing_fund",
    "court": "court",
    "market_regulator": "penalties",
}
POLARITIES = ("positive", "negative", "neutral")


@dataclass(frozen=True)
class RecordKind:
    source: str
    polarity: str
    zh: str
    en: str


# The one table of what each source may report; the polarity comes from here, never from input.
KINDS: dict[str, RecordKind] = {
    "tax_paid": RecordKind("tax", "positive", "按期足额纳税", "Taxes paid on time"),
    "tax_credit_a": RecordKind("tax", "positive", "纳税信用A级", "Tax credit grade A"),
    "tax_arrears": RecordKind("tax", "negative", "欠缴税款", "Tax arrears"),
    "tax_violation": RecordKind("tax", "negative", "重大税收违法失信", "Serious tax violation"),
    "utility_paid": RecordKind("utilities", "positive", "水电气按期缴费", "Utilities paid on time"),
    "utility_arrears": RecordKind("utilities", "negative", "水电气欠费", "Utility arrears"),
    "social_insurance_paid": RecordKind("social_insurance", "positive", "社保按期缴纳",
                                        "Social insurance paid on time"),
    "social_insurance_arrears": RecordKind("social_insurance", "negative", "社保欠缴", "Social insurance arrears"),
    "housing_fund_paid": RecordKind("housing_fund", "positive", "公积金按期缴存", "Housing fund paid on time"),
    "housing_fund_arrears": RecordKind("housing_fund", "negative", "公积金欠缴", "Housing fund arrears"),
    "court_case_filed": RecordKind("court", "neutral", "涉诉立案", "Court case filed"),
    "court_judgment": RecordKind("court", "negative", "败诉判决", "Court judgment against"),
    "court_enforcement": RecordKind("court", "negative", "被强制执行", "Court enforcement"),
    "dishonest_debtor": RecordKind("court", "negative", "失信被执行人", "Dishonest judgment debtor"),
    "penalty": RecordKind("market_regulator", "negative", "行政处罚", "Administrative penalty"),
    "abnormal_operation": RecordKind("market_regulator", "negative", "列入经营异常名录",
                                     "Listed for abnormal operation"),
    "serious_violation": RecordKind("market_regulator", "negative", "列入严重违法失信名单",
                                    "Listed for serious violation"),
    "license_revoked": RecordKind("market_regulator", "negative", "吊销营业执照", "Business licence revoked"),
    "contract_honouring": RecordKind("market_regulator", "positive", "守合同重信用企业",
                                     "Contract-honouring enterprise"),
}


def kinds_of(source: str) -> list[str]:
    return [code for code, kind in KINDS.items() if kind.source == source]


# ---- one record ------------------------------------------------------------------------------------

MAX_BATCH = 1000
PROVIDER_RECORD_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"
TITLE_MAX = 200
AMOUNT_PATTERN = r"^[0-9]{1,16}\.[0-9]{2}$"  # Numeric(18, 2), not negative
EARLIEST = date(1990, 1, 1)
_RECORD_ID = re.compile(PROVIDER_RECORD_ID_PATTERN)


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field of one record."""

    field: str
    zh: str
    en: str

    @property
    def text(self) -> str:
        return f"{self.zh} / {self.en}"


@dataclass(frozen=True)
class RecordInput:
    """One checked record: the USCC normalised, the amount with 2 places, the polarity from KINDS."""

    enterprise_uscc: str
    provider_record_id: str
    kind: str
    title: str
    occurred_on: date
    amount: Decimal | None = None
    ended_on: date | None = None
    details: dict = field(default_factory=dict)

    @property
    def source(self) -> str:
        return KINDS[self.kind].source

    @property
    def polarity(self) -> str:
        return KINDS[self.kind].polarity

    def digest(self) -> str:
        """SHA-256 of the content: a repeat with the same id and digest is the same record."""
        content = {"enterprise_uscc": self.enterprise_uscc, "kind": self.kind, "title": self.title,
                   "amount": None if self.amount is None else str(self.amount),
                   "occurred_on": self.occurred_on.isoformat(),
                   "ended_on": None if self.ended_on is None else self.ended_on.isoformat(),
                   "details": self.details}
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def record_problems(record: RecordInput, source: str, today: date) -> list[Problem]:
    """The rules every record must meet, for a provider of `source`, on `today`."""
    problems = []
    uscc = uscc_problem(record.enterprise_uscc)
    if uscc:
        problems.append(Problem("enterprise_uscc", uscc, "invalid unified social credit code"))
    if not _RECORD_ID.fullmatch(record.provider_record_id or ""):
        problems.append(Problem("provider_record_id", "记录编号须为1-64位字母、数字或._:/-，且以字母或数字开头",
                                "1 to 64 letters, digits or ._:/- starting with a letter or digit"))
    kind = KINDS.get(record.kind)
    if kind is None:
        problems.append(Problem("kind", f"记录类型“{record.kind}”不存在",
                                f"unknown kind {record.kind!r}; one of: {', '.join(kinds_of(source))}"))
    elif kind.source != source:
        problems.append(Problem("kind", f"记录类型“{record.kind}”不属于本单位的数据来源（{SOURCE_LABELS[source][0]}）",
                                f"kind {record.kind!r} is not of your source ({source}); "
                                f"one of: {', '.join(kinds_of(source))}"))
    title = record.title or ""
    if not title.strip() or len(title) > TITLE_MAX or "\x00" in title:
        problems.append(Problem("title", f"标题不能为空，最多{TITLE_MAX}个字", f"1 to {TITLE_MAX} characters"))
    if record.amount is not None and (record.amount < 0 or record.amount >= Decimal("1e16")):
        problems.append(Problem("amount", "金额须为不小于0的数字，最多16位整数", "0 or more, at most 16 whole digits"))
    if record.occurred_on > today:
        problems.append(Problem("occurred_on", "发生日期不能晚于今天", "must not be in the future"))
    if record.occurred_on < EARLIEST:
        problems.append(Problem("occurred_on", f"发生日期不能早于{EARLIEST.isoformat()}",
                                f"must not be before {EARLIEST.isoformat()}"))
    if record.ended_on is not None:
        if record.ended_on < record.occurred_on:
            problems.append(Problem("ended_on", "结束日期不能早于发生日期", "must not be before occurred_on"))
        if record.ended_on > today:
            problems.append(Problem("ended_on", "结束日期不能晚于今天", "must not be in the future"))
    return problems


def repeated_ids(records: Iterable[RecordInput]) -> dict[int, Problem]:
    """Index -> problem for each record whose provider_record_id already came earlier in the batch."""
    seen: dict[str, int] = {}
    repeats = {}
    for index, record in enumerate(records):
        first = seen.setdefault(record.provider_record_id, index)
        if first != index:
            repeats[index] = Problem("provider_record_id", f"记录编号与本批第{first + 1}条重复",
                                     f"repeats the id of record {first} of this batch")
    return repeats


JSON_FIELDS = ("enterprise_uscc", "provider_record_id", "kind", "title", "amount", "occurred_on", "ended_on",
               "details")
DETAILS_MAX_CHARS = 2000
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_AMOUNT = re.compile(AMOUNT_PATTERN)


def record_from_json(raw: object) -> tuple[RecordInput | None, list[Problem]]:
    """One record as the API receives it: strings for codes, texts, dates (YYYY-MM-DD) and the
    amount (exactly 2 decimals, optional); `details` a small object (optional). No other keys."""
    if not isinstance(raw, Mapping):
        return None, [Problem("record", "每条记录须为JSON对象", "each record must be a JSON object")]
    problems = [Problem(str(key)[:40], "不支持的字段", "unknown field") for key in raw if key not in JSON_FIELDS]
    values: dict[str, object] = {}
    for name in ("enterprise_uscc", "provider_record_id", "kind", "title"):
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(name, "必填，须为非空字符串", "required: a non-empty string"))
        elif not _clean_text(value):
            problems.append(Problem(name, "含有控制字符或无效字符", "contains control or invalid characters"))
        else:
            values[name] = value.strip()
    for name, required in (("occurred_on", True), ("ended_on", False)):
        value = raw.get(name)
        if value is None and not required:
            continue
        day = _iso_date(value)
        if day is None:
            problems.append(Problem(name, "须为YYYY-MM-DD格式的有效日期", "required: a valid date as YYYY-MM-DD"
                                    if required else "a valid date as YYYY-MM-DD, or null"))
        else:
            values[name] = day
    amount = raw.get("amount")
    if amount is not None:
        if isinstance(amount, str) and _AMOUNT.fullmatch(amount):
            values["amount"] = Decimal(amount)
        else:
            problems.append(Problem("amount", "须为保留两位小数的字符串，如\"1200.00\"",
                                    'a string with exactly 2 decimals, e.g. "1200.00", or null'))
    details = raw.get("details")
    if details is not None:
        text = json.dumps(details, ensure_ascii=False) if isinstance(details, Mapping) else ""
        if not text or len(text) > DETAILS_MAX_CHARS or not _clean_text(text) or "\\u0000" in text:
            problems.append(Problem("details", f"须为JSON对象，不超过{DETAILS_MAX_CHARS}个字符",
                                    f"a JSON object of at most {DETAILS_MAX_CHARS} characters"))
        else:
            values["details"] = dict(details)
    if problems:
        return None, problems
    values["enterprise_uscc"] = normalise_uscc(values["enterprise_uscc"])
    return RecordInput(**values), []


def _clean_text(text: str) -> bool:
    """No NUL or other control characters (PostgreSQL refuses NUL) and valid Unicode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text)


def _iso_date(value: object) -> date | None:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# ---- the XLSX upload -------------------------------------------------------------------------------

HEADERS = {
    "enterprise_uscc": "企业统一社会信用代码",
    "provider_record_id": "记录编号",
    "kind": "记录类型",
    "title": "标题",
    "amount": "金额（元）",
    "occurred_on": "发生日期",
    "ended_on": "结束日期",
}
ALIASES = {
    "enterprise_uscc": ("企业统一社会信用代码", "统一社会信用代码", "信用代码"),
    "provider_record_id": ("记录编号", "编号"),
    "kind": ("记录类型", "类型"),
    "title": ("标题", "事项"),
    "amount": ("金额（元）", "金额(元)", "金额"),
    "occurred_on": ("发生日期",),
    "ended_on": ("结束日期",),
}
EXAMPLE_USCC = "91320505000000001"  # 17 characters; the check character is computed
REQUIRED = {"enterprise_uscc", "provider_record_id", "kind", "title", "occurred_on"}


@dataclass(frozen=True)
class FileRecord:
    line: int
    record: RecordInput


@dataclass(frozen=True)
class LineProblem:
    line: int
    problem: Problem


def parse_records_file(data: bytes, filename: str, *, source: str, today: date,
                       limits: TableLimits = DEFAULT_LIMITS) -> tuple[list[FileRecord], list[LineProblem]]:
    """Read an uploaded table of records; return the good ones and every problem with its line.

    The kind may be given by its code or its Chinese name. Raises TableError when the file as a
    whole cannot be used, or has more than MAX_BATCH records.
    """
    rows = read_table(data, filename, limits)
    if not rows:
        raise TableError("文件为空", "the file is empty")
    header_index, columns = find_header(rows, ALIASES, REQUIRED, labels=HEADERS)
    data_rows = rows[header_index + 1:]
    if not data_rows:
        raise TableError("文件中没有数据行", "the file has no data rows")
    if len(data_rows) > MAX_BATCH:
        raise TableError(f"一次最多上传{MAX_BATCH}条记录，文件有{len(data_rows)}条",
                         f"at most {MAX_BATCH} records per file; this one has {len(data_rows)}")
    good, problems = [], []
    for row in data_rows:
        record, row_problems = _record_from_row(row, columns)
        if record is not None:
            row_problems += record_problems(record, source, today)
        problems += [LineProblem(row.line, p) for p in row_problems]
        if record is not None and not row_problems:
            good.append(FileRecord(row.line, record))
    lines = {index: fr.line for index, fr in enumerate(good)}
    for index, problem in repeated_ids(fr.record for fr in good).items():
        problems.append(LineProblem(lines[index], problem))
    if problems:
        good = []
    return good, sorted(problems, key=lambda p: p.line)


_KIND_BY_NAME = {kind.zh: code for code, kind in KINDS.items()}


def _record_from_row(row: Row, columns: Mapping[str, int]) -> tuple[RecordInput | None, list[Problem]]:
    def cell(name: str) -> str:
        return row.get(columns[name]).strip() if name in columns else ""

    problems = []
    values: dict[str, object] = {}
    for name in ("occurred_on", "ended_on"):
        text = cell(name)
        if not text:
            if name in REQUIRED:
                problems.append(Problem(name, f"{HEADERS[name]}为空", "empty"))
            continue
        try:
            values[name] = parse_date(text)
        except ValueError as error:
            problems.append(Problem(name, f"{HEADERS[name]}：{error}", f"not a date: {text!r} (use YYYY-MM-DD)"))
    amount = cell("amount")
    if amount:
        try:
            values["amount"] = parse_money(amount)
        except InputError as error:
            problems.append(Problem("amount", f"{HEADERS['amount']}：{error}",
                                    f"not an amount with at most 2 decimals: {amount!r}"))
    for name in ("enterprise_uscc", "provider_record_id", "kind", "title"):
        if not cell(name):
            problems.append(Problem(name, f"{HEADERS[name]}为空", "empty"))
    if problems:
        return None, problems
    kind = _KIND_BY_NAME.get(cell("kind"), cell("kind"))
    return RecordInput(enterprise_uscc=normalise_uscc(cell("enterprise_uscc")), provider_record_id=cell("provider_record_id"),
                       kind=kind, title=cell("title"), **values), []


def template_xlsx(source: str) -> bytes:
    """The upload template for a provider of `source`: the header, an example row, and the kinds."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "信用记录"
    sheet.append(list(HEADERS.values()))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    first_kind = kinds_of(source)[0]
    sheet.append([EXAMPLE_USCC + uscc_check_char(EXAMPLE_USCC), "R-0001", KINDS[first_kind].zh, KINDS[first_kind].zh, "1000.00",
                  "2026-01-05", ""])
    for index in range(1, len(HEADERS) + 1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].number_format = "@"
        sheet.column_dimensions[letter].width = 24
        sheet.cell(row=2, column=index).number_format = "@"
    kinds = workbook.create_sheet("记录类型")
    kinds.append(["记录类型", "代码", "性质"])
    for code in kinds_of(source):
        kinds.append([KINDS[code].zh, code, {"positive": "正面", "negative": "负面", "neutral": "中性"}[KINDS[code].polarity]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
