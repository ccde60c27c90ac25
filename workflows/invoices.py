"""Issued invoices as the electronic tax bureau gives them, read into receivables to review.

Two sources: the invoice list an enterprise exports (数电票 / 增值税发票 lists as XLSX or CSV: a
title above the header, columns named the bureau's way, numbers as text with commas, dates as
Excel serials or 2026年1月5日), and the national full-digital e-invoice XML files themselves (root
<EInvoice>), one by one or in a zip. Reading never decides what is stored: `assess` says, per
invoice, whether it would become a receivable, is skipped (voided, red-letter) or is wrong, each
with a note in both languages (workflows.text.Sentence) naming the row or the file. The caller adds what needs the database
(invoices already registered) and stores nothing before the enterprise confirms.

XML is parsed with defusedxml (no DTD, no entities, no network). A tax bureau's signature cannot
be verified offline (its certificate chain is not here): when an XML-DSig signature covers the
whole document, its digest is recomputed (a document altered after signing fails); the signature
value itself is reported as not verified ("签名未验证"); a malformed signature block is an error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml
from lxml import etree

from workflows.identifiers import normalise_uscc, parse_date, parse_money
from workflows.receivables_file import HEADERS, ReceivableRow, check_cells
from workflows.tabular import (
    DEFAULT_LIMITS,
    HEADER_SEARCH_ROWS,
    ZIP_SIGNATURE,
    Row,
    TableError,
    TableLimits,
    TableTooLarge,
    check_zip_directory,
    normalise_header,
    read_table,
)
from workflows.text import Sentence, both

MAX_INVOICES = 1000  # per import: a preview a person can read; a year's list is split by month
MAX_XML_BYTES = 2 * 1024 * 1024  # one e-invoice is tens of kilobytes

# field -> what the mapping calls it; the order is the mapping form's
FIELDS: dict[str, str] = {
    "digital_no": "数电票号码",
    "invoice_code": "发票代码",
    "invoice_no": "发票号码",
    "buyer_name": "购买方名称",
    "buyer_uscc": "购买方纳税人识别号",
    "seller_uscc": "销售方纳税人识别号",
    "issue_date": "开票日期",
    "amount": "金额",
    "tax": "税额",
    "total": "价税合计",
    "status": "发票状态",
    "red_flag": "是否红字",
    "positive_flag": "是否正数发票",
    "due_date": "到期日",
}
ALIASES: dict[str, tuple[str, ...]] = {
    "digital_no": ("数电票号码", "数电发票号码", "全电发票号码", "数电票号", "全电票号码"),
    "invoice_code": ("发票代码",),
    "invoice_no": ("发票号码", "发票号"),
    "buyer_name": ("购买方名称", "购方名称", "购货方名称", "购买方", "受票方名称", "购买方单位名称", "购买方纳税人名称",
                   "购方纳税人名称"),
    "buyer_uscc": ("购买方纳税人识别号", "购方识别号", "购方纳税人识别号", "购买方识别号", "购买方税号", "购方税号",
                   "购买方统一社会信用代码/纳税人识别号", "购买方统一社会信用代码", "受票方纳税人识别号"),
    "seller_uscc": ("销售方纳税人识别号", "销方识别号", "销方纳税人识别号", "销售方识别号", "销售方税号", "销方税号",
                    "销售方统一社会信用代码/纳税人识别号", "销售方统一社会信用代码"),
    "issue_date": ("开票日期", "开票时间", "开具日期"),
    "amount": ("金额", "合计金额", "不含税金额", "金额(元)", "合计金额(元)", "不含税金额(元)"),
    "tax": ("税额", "合计税额", "税额(元)", "合计税额(元)"),
    "total": ("价税合计", "价税合计金额", "价税合计(元)", "价税合计金额(元)", "含税金额"),
    "status": ("发票状态", "状态"),
    "red_flag": ("是否红字", "红字标志", "红冲标志", "是否红冲", "红字发票标志"),
    "positive_flag": ("是否正数发票", "正数发票"),
    "due_date": ("到期日", "付款到期日", "应收到期日"),
}
NUMBER_FIELDS = ("digital_no", "invoice_no")  # at least one of them must be mapped
REQUIRED_FIELDS = ("buyer_name", "buyer_uscc", "issue_date", "total")
_MIN_HEADER_MATCHES = 3

# How the checked receivable's columns are named on an invoice (for check_cells' messages).
RECEIVABLE_LABELS = {**HEADERS, "debtor_name": Sentence("购买方名称", "Buyer name"),
                     "debtor_uscc": Sentence("购买方纳税人识别号", "Buyer's taxpayer ID"),
                     "invoice_no": Sentence("发票号码", "Invoice number"), "amount": Sentence("价税合计", "Total")}
NORMAL_STATUSES = frozenset({"正常", "正常发票", "已开具", "开具", "有效", "蓝字", "已使用"})
_YES = frozenset({"是", "y", "yes", "true", "1", "红字", "红票"})
_NO = frozenset({"否", "n", "no", "false", "0", "红字", "红票"})  # 是否正数发票: 否 means red-letter
_USCC_IN_TEXT = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Z])")
_EXCEL_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
_DIGIT_TIMESTAMP = re.compile(r"(\d{8})\d{6}(?:\d{3})?")  # 20260105101112(000), as e-invoice XML writes times
_EXCEL_EPOCH = date(1899, 12, 30)
_TOTAL_ROW = re.compile(r"^(合计|总计|小计)")


class MappingIncomplete(TableError):
    """The columns the import needs are not all mapped; `missing` names them in Chinese."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"请为以下内容选择对应的列：{'、'.join(missing)}",
                         f"choose the columns for: {', '.join(missing)}")
        self.missing = missing

    def __reduce__(self):
        return type(self), (self.missing,)


@dataclass(frozen=True)
class Invoice:
    """One invoice as its source gives it (texts, unchecked); `where` names the row or the file."""

    where: str
    line: int  # the list's row number, or the file's position in the upload
    invoice_no: str
    buyer_name: str
    buyer_uscc: str
    seller_uscc: str
    issue_date: str
    amount: str
    tax: str
    total: str
    status: str = ""
    red: bool = False
    due_date: str = ""
    signature: str = ""  # XML: what could be said of its signature
    problems: tuple[str, ...] = ()  # found while reading: not an e-invoice, a bad signature


@dataclass(frozen=True)
class InvoiceTable:
    """An invoice list: its header, the detected column of each field, and the rows below."""

    filename: str
    header_line: int
    headers: tuple[str, ...]
    mapping: dict[str, int]
    rows: tuple[Row, ...]
    seller_hint: str = ""  # a credit code in the title rows (纳税人识别号：…), used when no column has one


@dataclass(frozen=True)
class Assessed:
    """What an invoice would become: `action` import (with `row`), skip or error, with notes."""

    invoice: Invoice
    action: str  # import | skip | error
    notes: tuple[str, ...] = ()
    row: ReceivableRow | None = None


# --- reading an upload ---------------------------------------------------------------------------


def read_invoice_file(data: bytes, filename: str, limits: TableLimits = DEFAULT_LIMITS,
                      ) -> InvoiceTable | list[Invoice]:
    """An invoice list (XLSX, CSV, XLS), one e-invoice XML, or a zip of them, told by content.

    Raises TableError when the file as a whole cannot be used (TableTooLarge over the limits)."""
    if data.startswith(b"%PDF") or (data.startswith(ZIP_SIGNATURE) and _zip_holds(data, "OFD.xml")):
        raise TableError(f"文件“{filename}”是PDF或OFD版式发票，无法读取其中的数据：请上传发票清单（Excel或CSV）或XML格式的电子发票",
                         f"“{filename}” is a PDF or OFD invoice, whose data cannot be read: upload the invoice "
                         "list (Excel or CSV) or the XML e-invoices")
    if data.startswith(ZIP_SIGNATURE) and not _zip_holds(data, "[Content_Types].xml"):  # not a spreadsheet
        return read_invoice_zip(data, filename, limits)
    if _looks_like_xml(data, filename):
        return [read_invoice_xml(data, filename)]
    return read_invoice_table(data, filename, limits)


def _zip_holds(data: bytes, name: str) -> bool:
    """Whether the zip has an entry of that name at its top (an XLSX's [Content_Types].xml, an OFD's OFD.xml)."""
    try:
        return name in zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def _looks_like_xml(data: bytes, filename: str) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if filename.lower().endswith(".xml"):
        return True
    return head.startswith((b"<?xml", b"<einvoice")) and b"<html" not in head and b"<table" not in head


# --- the invoice list ----------------------------------------------------------------------------


def read_invoice_table(data: bytes, filename: str, limits: TableLimits = DEFAULT_LIMITS) -> InvoiceTable:
    """Read the list's first sheet, find its header among the first rows and map the columns."""
    rows = read_table(data, filename, limits)
    if not rows:
        raise TableError(f"文件“{filename}”为空", f"the file “{filename}” is empty")
    lookup = {normalise_header(name): name_field for name_field, names in ALIASES.items()
              for name in (*names, name_field)}
    best_index, best = -1, {}
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for column, cell in enumerate(row.cells):
            found = lookup.get(normalise_header(cell))
            if found is not None:
                columns.setdefault(found, column)
        if len(columns) > len(best):
            best_index, best = index, columns
    if len(best) < _MIN_HEADER_MATCHES:
        raise TableError(
            f"文件“{filename}”中未找到发票清单的表头（应含发票号码、购买方名称、购买方纳税人识别号、开票日期、价税合计等列）",
            f"no invoice-list header found in “{filename}” (columns such as 发票号码, 购买方名称, 开票日期, 价税合计)")
    data_rows = tuple(row for row in rows[best_index + 1:] if not _TOTAL_ROW.match(row.get(0)))
    if not data_rows:
        raise TableError(f"文件“{filename}”中没有发票数据行", f"the file “{filename}” has no invoice rows")
    if len(data_rows) > MAX_INVOICES:
        raise _too_many(filename)
    header = rows[best_index]
    return InvoiceTable(filename=filename, header_line=header.line, headers=header.cells, mapping=best,
                        rows=data_rows, seller_hint=_seller_hint(rows[:best_index]))


def _too_many(filename: str) -> TableTooLarge:
    return TableTooLarge(f"文件“{filename}”超过{MAX_INVOICES}张发票，请按月份分批导出后导入",
                         f"“{filename}” holds more than {MAX_INVOICES} invoices: export and import it month by month")


def _seller_hint(title_rows: Iterable[Row]) -> str:
    """The one credit code the title rows name (the exporting taxpayer's), else ""."""
    codes = {match for row in title_rows for cell in row.cells
             for match in _USCC_IN_TEXT.findall(normalise_uscc(cell))}
    return codes.pop() if len(codes) == 1 else ""


def missing_fields(mapping: Mapping[str, int | None]) -> list[str]:
    """The labels of the fields the import needs that `mapping` leaves unmapped."""
    mapped = {name for name, column in mapping.items() if column is not None}
    missing = [] if mapped & set(NUMBER_FIELDS) else [f"{FIELDS['digital_no']}或{FIELDS['invoice_no']}"]
    return missing + [FIELDS[name] for name in REQUIRED_FIELDS if name not in mapped]


def invoices_from_table(table: InvoiceTable, mapping: Mapping[str, int | None] | None = None) -> list[Invoice]:
    """The table's rows as invoices, read through `mapping` (field -> column; default: detected).

    Raises MappingIncomplete when a needed field has no column."""
    mapping = {name: column for name, column in (table.mapping if mapping is None else mapping).items()
               if column is not None and name in FIELDS}
    missing = missing_fields(mapping)
    if missing:
        raise MappingIncomplete(missing)

    def cell(row: Row, name: str) -> str:
        return row.get(mapping[name]) if name in mapping else ""

    return [
        Invoice(
            where=row_name(row.line), line=row.line, invoice_no=_invoice_number(
                cell(row, "digital_no"), cell(row, "invoice_code"), cell(row, "invoice_no")),
            buyer_name=cell(row, "buyer_name"), buyer_uscc=cell(row, "buyer_uscc"),
            seller_uscc=cell(row, "seller_uscc") or table.seller_hint, issue_date=cell(row, "issue_date"),
            amount=cell(row, "amount"), tax=cell(row, "tax"), total=cell(row, "total"),
            status=cell(row, "status"), due_date=cell(row, "due_date"),
            red=_flag(cell(row, "red_flag"), _YES) or _flag(cell(row, "positive_flag"), _NO),
        )
        for row in table.rows
    ]


def row_name(line: int) -> Sentence:
    """Where a list's invoice is: its row."""
    return both("第%(line)s行", "row %(line)s", line=line)


def in_english(text: str) -> str:
    """A Sentence's English; data (a file name) as it is."""
    return getattr(text, "en", text)


def _invoice_number(digital: str, code: str, number: str) -> str:
    """A 数电票's 20-digit number; an older invoice's code and number (its number repeats across
    codes), joined by a hyphen."""
    digital, code, number = (_compact(text) for text in (digital, code, number))
    if digital:
        return digital
    return f"{code}-{number}" if code and number else number


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def _flag(text: str, meaning_red: frozenset[str]) -> bool:
    return bool(text) and _compact(text).casefold() in meaning_red


# --- e-invoice XML -----------------------------------------------------------------------------

DSIG = "http://www.w3.org/2000/09/xmldsig#"
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
# canonicalisation -> (exclusive, with comments); C14N 1.1 equals 1.0 on a whole document
_C14N = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": (False, False),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": (False, True),
    "http://www.w3.org/2006/12/xml-c14n11": (False, False),
    "http://www.w3.org/2006/12/xml-c14n11#WithComments": (False, True),
    "http://www.w3.org/2001/10/xml-exc-c14n#": (True, False),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": (True, True),
}
_DIGESTS = ("sha1", "sha224", "sha256", "sha384", "sha512", "sm3")
# element (local names, the first searched anywhere) -> what it holds, for the messages
_XML_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "invoice_no": (("TaxSupervisionInfo/InvoiceNumber", "InvoiceNumber", "Header/EIid", "EIid"), "发票号码"),
    "issue_date": (("IssuDate", "TaxSupervisionInfo/IssueTime", "IssueTime", "RequestTime"), "开票日期"),
    "seller_uscc": (("SellerInformation/SellerIdNum", "SellerIdNum"), "销售方纳税人识别号"),
    "buyer_uscc": (("BuyerInformation/BuyerIdNum", "BuyerIdNum"), "购买方纳税人识别号"),
    "buyer_name": (("BuyerInformation/BuyerName", "BuyerName"), "购买方名称"),
    "amount": (("BasicInformation/TotalAmWithoutTax", "TotalAmWithoutTax"), "金额"),
    "tax": (("BasicInformation/TotalTaxAm", "TotalTaxAm"), "税额"),
    "total": (("BasicInformation/TotalTax-includedAmount", "TotalTax-includedAmount"), "价税合计"),
}
_XML_ELEMENT_NAMES = {"invoice_no": "InvoiceNumber", "issue_date": "IssueTime", "seller_uscc": "SellerIdNum",
                      "buyer_uscc": "BuyerIdNum", "buyer_name": "BuyerName", "amount": "TotalAmWithoutTax",
                      "tax": "TotalTaxAm", "total": "TotalTax-includedAmount"}
UNSIGNED_NOTE = Sentence("文件不含电子签名，签名未验证", "no electronic signature: not verified")
UNVERIFIED_NOTE = Sentence("签名未验证（无法离线核验税务机关的签名证书）",
                           "signature not verified (the tax bureau's certificate cannot be checked offline)")
DIGEST_OK_NOTE = Sentence(
    "签名未验证（无法离线核验税务机关的签名证书）；文件内容与签名摘要一致，签名后未被改动",
    "signature not verified (the tax bureau's certificate cannot be checked offline); the content matches "
    "the signed digest, so it was not altered after signing")
_TOO_BIG = both("文件超过%(mb)s MB，不是单张电子发票", "over %(mb)s MB: not a single e-invoice",
                mb=MAX_XML_BYTES // 2**20)


def read_invoice_xml(data: bytes, where: str, line: int = 1) -> Invoice:
    """One e-invoice XML; a file that is not one comes back with its problems (it is named in the
    preview, the other files of the upload still count)."""
    if len(data) > MAX_XML_BYTES:
        return _broken(where, line, _TOO_BIG)
    try:
        root = parse_xml(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        return _broken(where, line, Sentence("文件含有DTD或实体声明，出于安全原因不予解析",
                                                     "it declares a DTD or entities: not parsed, for safety"))
    except ParseError as error:
        return _broken(where, line, both("不是有效的XML文件（第%(n)s行格式错误）", "not valid XML (malformed at line %(n)s)",
                                                   n=error.position[0]))
    if _local(root.tag) != "EInvoice":
        return _broken(where, line, both("不是数电票XML文件：根元素应为EInvoice，实际为%(tag)s",
                                                   "not an e-invoice XML: its root is %(tag)s, not EInvoice",
                                                   tag=_local(root.tag)))
    values = {name: _find_text(root, paths) for name, (paths, _label) in _XML_FIELDS.items()}
    problems = [both("缺少元素<%(element)s>（%(label)s）", "element <%(element)s> missing",
                     element=_XML_ELEMENT_NAMES[name], label=label)
                for name, (_paths, label) in _XML_FIELDS.items() if not values[name] and name not in ("amount", "tax")]
    note, signature_problem = check_signature(data, root)
    if signature_problem:
        problems.append(signature_problem)
    return Invoice(where=where, line=line, signature=note, problems=tuple(problems), **values)


def _broken(where: str, line: int, problem: Sentence) -> Invoice:
    return Invoice(where=where, line=line, invoice_no="", buyer_name="", buyer_uscc="", seller_uscc="",
                   issue_date="", amount="", tax="", total="", problems=(problem,))


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _find_text(root: Element, paths: tuple[str, ...]) -> str:
    """The text of the first element found by local-name path; the first step is searched anywhere."""
    for path in paths:
        first, *rest = path.split("/")
        for start in (el for el in root.iter() if _local(el.tag) == first):
            element: Element | None = start
            for step in rest:
                element = next((child for child in element if _local(child.tag) == step), None)
                if element is None:
                    break
            if element is not None and (element.text or "").strip():
                return element.text.strip()
    return ""


def check_signature(data: bytes, root: Element) -> tuple[str, str | None]:
    """(note, problem) about the document's signature. No signature or one that cannot be checked
    offline: a note. An XML-DSig signature over the whole document has its digest recomputed; a
    mismatch (altered after signing) or a malformed signature block is the problem."""
    signatures = [el for el in root.iter() if el.tag == f"{{{DSIG}}}Signature"]
    values = [el for el in root.iter() if _local(el.tag) == "SignatureValue"]
    if not signatures:
        if not values:
            return UNSIGNED_NOTE, None
        if not all(_base64(el.text) for el in values):
            return "", _malformed(_NO_SIGNATURE_VALUE)
        return UNVERIFIED_NOTE, None
    if len(signatures) > 1:
        return UNVERIFIED_NOTE, None
    problem, reference = _signature_structure(signatures[0])
    if problem:
        return "", _malformed(problem)
    digest = _reference_digest(reference)
    if digest is None:
        return UNVERIFIED_NOTE, None
    algorithm, (exclusive, with_comments), expected = digest
    if hashlib.new(algorithm, canonical_unsigned(data, exclusive, with_comments)).digest() != expected:
        return "", Sentence("签名校验失败：文件内容与签名摘要不一致，发票文件在签名后被修改过",
                            "signature check failed: the content does not match the signed digest, so the file "
                            "was altered after signing")
    return DIGEST_OK_NOTE, None


def _malformed(problem: Sentence) -> Sentence:
    return problem.prefixed("签名格式错误：", "malformed signature: ")


_NO_SIGNATURE_VALUE = Sentence("签名值（SignatureValue）缺失、为空或不是Base64编码",
                               "the SignatureValue is missing, empty or not Base64")


def canonical_unsigned(data: bytes, exclusive: bool = False, with_comments: bool = False) -> bytes:
    """The document without its signature (the enveloped-signature transform), canonicalised
    (C14N 1.0, or exclusive), as the signer hashed it. Call it on a document defusedxml accepted:
    it has no DTD; lxml is told to resolve no entity and fetch nothing all the same."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    root = etree.fromstring(data, parser)
    for signature in list(root.iter(f"{{{DSIG}}}Signature")):
        parent = signature.getparent()
        if parent is None:
            continue
        if signature.tail:  # the text after the signature stays in the document
            previous = signature.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + signature.tail
            else:
                parent.text = (parent.text or "") + signature.tail
        parent.remove(signature)
    return etree.tostring(root.getroottree(), method="c14n", exclusive=exclusive, with_comments=with_comments)


def _ds(element: Element, name: str) -> Element | None:
    return element.find(f"{{{DSIG}}}{name}")


def _ds_text(element: Element, name: str) -> str | None:
    child = _ds(element, name)
    return None if child is None else child.text


def _base64(text: str | None) -> bytes | None:
    try:
        value = base64.b64decode(re.sub(r"\s+", "", text or ""), validate=True)
    except (binascii.Error, ValueError):
        return None
    return value or None


def _signature_structure(signature: Element) -> tuple[Sentence | None, Element | None]:
    """What is missing from an XML-DSig block (SignedInfo, SignatureValue, a Reference with its
    DigestMethod and DigestValue), and the first Reference."""
    signed_info = _ds(signature, "SignedInfo")
    if signed_info is None:
        return Sentence("缺少SignedInfo", "SignedInfo missing"), None
    if _base64(_ds_text(signature, "SignatureValue")) is None:
        return _NO_SIGNATURE_VALUE, None
    references = signed_info.findall(f"{{{DSIG}}}Reference")
    if not references:
        return Sentence("缺少Reference", "Reference missing"), None
    for reference in references:
        method = _ds(reference, "DigestMethod")
        if method is None or not method.get("Algorithm"):
            return Sentence("缺少摘要算法（DigestMethod）", "DigestMethod missing"), None
        if _base64(_ds_text(reference, "DigestValue")) is None:
            return Sentence("摘要值（DigestValue）缺失、为空或不是Base64编码",
                            "the DigestValue is missing, empty or not Base64"), None
    return None, references[0] if len(references) == 1 else None


def _reference_digest(reference: Element | None) -> tuple[str, tuple[bool, bool], bytes] | None:
    """(hash name, (exclusive, with comments), expected digest) when the reference covers the
    whole document (URI "", enveloped, then canonicalised) with a digest known here; else None."""
    if reference is None or reference.get("URI") != "":
        return None
    transforms = [t.get("Algorithm", "") for t in reference.iter(f"{{{DSIG}}}Transform")]
    canonical = [t for t in transforms if t != _ENVELOPED]
    if _ENVELOPED not in transforms or len(canonical) > 1 or any(t not in _C14N for t in canonical):
        return None
    algorithm = (_ds(reference, "DigestMethod").get("Algorithm") or "").rsplit("#", 1)[-1].lower()
    if algorithm not in _DIGESTS or algorithm not in hashlib.algorithms_available:
        return None
    method = _C14N[canonical[0]] if canonical else (False, False)  # XML-DSig's default: C14N 1.0
    return algorithm, method, _base64(_ds_text(reference, "DigestValue"))


def sign_digest(document: str, algorithm: str = "sha256") -> str:
    """The base64 digest an enveloped XML-DSig signature of `document` carries (C14N 1.0, its
    Signature element excluded): what check_signature recomputes. Used to make sample files."""
    digest = hashlib.new(algorithm, canonical_unsigned(document.encode("utf-8"))).digest()
    return base64.b64encode(digest).decode("ascii")


# --- a zip of e-invoice XML files ----------------------------------------------------------------


def read_invoice_zip(data: bytes, filename: str, limits: TableLimits = DEFAULT_LIMITS) -> list[Invoice]:
    """The XML invoices in a zip (the PDF and OFD copies beside them are passed over), refused
    whole from its directory when it is over the upload limits (a zip bomb)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise TableError(f"文件“{filename}”不是有效的压缩包（.zip）", f"“{filename}” is not a valid zip file") from exc
    check_zip_directory(entries, filename, limits)
    xml_entries = [entry for entry in entries if not entry.is_dir() and entry.filename.lower().endswith(".xml")
                   and not entry.filename.startswith("__MACOSX/")]
    if not xml_entries:
        raise TableError(f"压缩包“{filename}”中没有XML格式的电子发票", f"the zip “{filename}” holds no XML e-invoices")
    if len(xml_entries) > MAX_INVOICES:
        raise _too_many(filename)
    if any(entry.flag_bits & 0x1 for entry in xml_entries):
        raise TableError(f"压缩包“{filename}”设置了密码，请解除密码后重新上传",
                         f"the zip “{filename}” is password-protected")
    invoices = []
    for position, entry in enumerate(xml_entries, start=1):
        where = f"{filename} › {_entry_name(entry)}"
        if entry.file_size > MAX_XML_BYTES:
            invoices.append(_broken(where, position, _TOO_BIG))
            continue
        try:
            with archive.open(entry) as stream:
                content = stream.read(MAX_XML_BYTES + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
            invoices.append(_broken(where, position, Sentence("压缩包中的该文件已损坏，无法解压",
                                                              "this file in the zip is damaged and cannot be unpacked")))
            continue
        invoices.append(read_invoice_xml(content, where, position))
    return invoices


def _entry_name(entry: zipfile.ZipInfo) -> str:
    """The entry's name; a Windows zip without the UTF-8 flag stores it in GBK."""
    if entry.flag_bits & 0x800:
        return entry.filename
    try:
        return entry.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return entry.filename


# --- assessing -----------------------------------------------------------------------------------


def assess(invoices: Iterable[Invoice], *, seller_uscc: str, term_days: int | None,
           today: date | None = None) -> list[Assessed]:
    """Decide each invoice: skip a voided or red-letter one (with why), refuse one the enterprise
    did not issue, whose amounts disagree, or that repeats an earlier one, and check the rest as
    any receivable (check_cells). The due date is the list's, else the issue date + `term_days`."""
    seller = normalise_uscc(seller_uscc)
    first_seen: dict[tuple[str, str], str] = {}
    results = []
    for invoice in invoices:
        result = _assess_one(invoice, seller, term_days, today)
        if result.row is not None:
            key = (result.row.debtor_uscc, result.row.invoice_no.upper())
            first = first_seen.setdefault(key, invoice.where)
            if first != invoice.where:
                result = refuse(result, Sentence(f"与{first}重复（同一购买方和发票号码）",
                                                 f"same buyer and invoice number as {in_english(first)}"))
        results.append(result)
    return results


def refuse(result: Assessed, problem: str) -> Assessed:
    """The assessment with one more problem: an error, whatever it was."""
    notes = result.notes if result.action == "error" else ()
    return replace(result, action="error", notes=(*notes, problem))


def _assess_one(invoice: Invoice, seller: str, term_days: int | None, today: date | None) -> Assessed:
    if invoice.problems:
        return Assessed(invoice, "error", invoice.problems)
    skip = _skip_reason(invoice)
    if skip:
        return Assessed(invoice, "skip", (skip,))
    problems = []
    if invoice.seller_uscc and normalise_uscc(invoice.seller_uscc) != seller:
        problems.append(both("销售方纳税人识别号%(uscc)s不是本企业的统一社会信用代码：这不是本企业开具的发票",
                             "seller code %(uscc)s is not your enterprise's: this invoice was not issued by you",
                             uscc=normalise_uscc(invoice.seller_uscc)))
    problems.extend(_amount_problems(invoice))
    issue = _date_text(invoice.issue_date)
    row, row_problems = check_cells(invoice.line, {
        "debtor_name": invoice.buyer_name, "debtor_uscc": invoice.buyer_uscc, "invoice_no": invoice.invoice_no,
        "amount": invoice.total, "issue_date": issue, "due_date": _due_date(invoice, issue, term_days),
    }, today, RECEIVABLE_LABELS)
    problems.extend(row_problems)
    if problems:
        return Assessed(invoice, "error", tuple(dict.fromkeys(problems)), row)
    notes = (invoice.signature,) if invoice.signature else ()
    return Assessed(invoice, "import", notes, row)


def _skip_reason(invoice: Invoice) -> Sentence | None:
    status = _compact(invoice.status)
    if "作废" in status:
        return both("发票状态为“%(status)s”，已作废的发票不导入", "voided: not imported", status=status)
    if "红冲" in status:
        return both("发票状态为“%(status)s”，已红冲的发票不导入；部分红冲的，请按冲减后的金额手工登记",
                    "reversed by a red-letter invoice: not imported; if only partly reversed, register the "
                    "reduced amount by hand", status=status)
    if invoice.red or "红字" in status:
        return Sentence("红字发票（冲减原发票），不导入", "red-letter invoice (reverses an earlier one): not imported")
    if _negative(invoice.total):
        return Sentence("价税合计为负数（红字发票），不导入", "negative total (a red-letter invoice): not imported")
    if status and status not in NORMAL_STATUSES:
        return both("发票状态为“%(status)s”，不是正常状态的发票，不导入", "status “%(status)s” is not normal: not imported",
                    status=status)
    return None


def _negative(text: str) -> bool:
    try:
        return parse_money(text) < 0
    except ValueError:
        return False


def _amount_problems(invoice: Invoice) -> list[Sentence]:
    """金额 + 税额 must equal 价税合计 when the source gives all three."""
    if not (invoice.amount and invoice.tax and invoice.total):
        return []
    amounts: dict[str, Decimal] = {}
    problems = []
    for label, label_en, text in (("金额", "Amount", invoice.amount), ("税额", "Tax", invoice.tax)):
        try:
            amounts[label] = parse_money(text)
        except ValueError as error:
            problems.append(Sentence(f"{label}：{error}", f"{label_en}: {in_english(error.args[0])}"))
    try:
        total = parse_money(invoice.total)
    except ValueError:
        return problems  # check_cells names it
    if not problems and amounts["金额"] + amounts["税额"] != total:
        problems.append(both("金额%(amount)s + 税额%(tax)s ≠ 价税合计%(total)s，金额有误",
                             "amount %(amount)s + tax %(tax)s ≠ total %(total)s: the amounts are wrong",
                             amount=f"{amounts['金额']:,.2f}", tax=f"{amounts['税额']:,.2f}", total=f"{total:,.2f}"))
    return problems


def _date_text(text: str) -> str:
    """A date as ISO text when it reads as one (an Excel serial such as 46027 too), else as given."""
    value = (text or "").strip()
    if _EXCEL_SERIAL.fullmatch(value) and 20000 <= float(value) < 80000:
        return (_EXCEL_EPOCH + timedelta(days=int(float(value)))).isoformat()
    timestamp = _DIGIT_TIMESTAMP.fullmatch(value)
    if timestamp:
        value = timestamp.group(1)
    try:
        return parse_date(value).isoformat()
    except ValueError:
        return value


def _due_date(invoice: Invoice, issue: str, term_days: int | None) -> str:
    if invoice.due_date:
        return _date_text(invoice.due_date)
    try:
        issued = date.fromisoformat(issue)
    except ValueError:
        return ""  # the issue date's own problem is reported
    if term_days is None:
        return ""
    return (issued + timedelta(days=term_days)).isoformat()


# --- samples --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleInvoice:
    digital_no: str
    buyer_name: str
    buyer_uscc: str
    issue_date: date
    amount: Decimal
    tax: Decimal
    status: str = "正常"
    positive: bool = True

    @property
    def total(self) -> Decimal:
        return self.amount + self.tax


@dataclass(frozen=True)
class Sample:
    seller_uscc: str
    seller_name: str
    invoices: tuple[SampleInvoice, ...] = field(default_factory=tuple)


LIST_HEADERS = ("序号", "发票代码", "发票号码", "数电票号码", "销方识别号", "销方名称", "购方识别号", "购买方名称",
                "开票日期", "金额", "税额", "价税合计", "发票来源", "发票票种", "发票状态", "是否正数发票")


def sample_list_rows(sample: Sample) -> list[list[object]]:
    """An invoice list laid out as the electronic tax bureau's 全量发票查询 export: a merged title,
    the taxpayer and the period, then the header and one row per invoice."""
    dates = [invoice.issue_date for invoice in sample.invoices]
    rows: list[list[object]] = [
        ["全量发票查询导出结果"],
        [f"纳税人识别号：{sample.seller_uscc}", "", "", f"纳税人名称：{sample.seller_name}"],
        [f"查询期间：{min(dates).isoformat()} 至 {max(dates).isoformat()}"] if dates else [],
        list(LIST_HEADERS),
    ]
    for number, invoice in enumerate(sample.invoices, start=1):
        rows.append([number, "", "", invoice.digital_no, sample.seller_uscc, sample.seller_name, invoice.buyer_uscc,
                     invoice.buyer_name, invoice.issue_date.isoformat(), f"{invoice.amount:,.2f}",
                     f"{invoice.tax:,.2f}", f"{invoice.total:,.2f}", "电子发票服务平台", "数电票（增值税专用发票）",
                     invoice.status, "是" if invoice.positive else "否"])
    return rows


def sample_list_xlsx(sample: Sample) -> bytes:
    """The sample list as XLSX, its title merged across the columns and codes kept as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "发票基础信息"
    for row in sample_list_rows(sample):
        sheet.append(row)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(LIST_HEADERS))
    sheet["A1"].font = Font(bold=True, size=14)
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFGHIJKLMNOP", (6, 14, 12, 24, 22, 30, 22, 30, 12, 14, 12, 14, 18, 26, 10, 12),
                             strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sample_invoice_xml(sample: Sample, invoice: SampleInvoice, *, signed: bool = True) -> str:
    """One e-invoice XML of the sample, with an enveloped XML-DSig block whose digest is right
    (its signature value is a placeholder: nothing here can sign as the tax bureau)."""
    body = (
        f"<EInvoice xmlns:ds=\"{DSIG}\">"
        f"<Header><EIid>{invoice.digital_no}</EIid><EInvoiceTag>SWEI3200</EInvoiceTag><Version>0.1</Version></Header>"
        "<EInvoiceData>"
        f"<SellerInformation><SellerIdNum>{sample.seller_uscc}</SellerIdNum>"
        f"<SellerName>{sample.seller_name}</SellerName></SellerInformation>"
        f"<BuyerInformation><BuyerIdNum>{invoice.buyer_uscc}</BuyerIdNum>"
        f"<BuyerName>{invoice.buyer_name}</BuyerName></BuyerInformation>"
        f"<BasicInformation><TotalAmWithoutTax>{invoice.amount:.2f}</TotalAmWithoutTax>"
        f"<TotalTaxAm>{invoice.tax:.2f}</TotalTaxAm>"
        f"<TotalTax-includedAmount>{invoice.total:.2f}</TotalTax-includedAmount></BasicInformation>"
        "</EInvoiceData>"
        f"<TaxSupervisionInfo><InvoiceNumber>{invoice.digital_no}</InvoiceNumber>"
        f"<IssuDate>{invoice.issue_date.isoformat()}</IssuDate></TaxSupervisionInfo>"
        "SIGNATURE</EInvoice>"
    )
    if not signed:
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + body.replace("SIGNATURE", "")
    digest = sign_digest(body.replace("SIGNATURE", ""))
    signature = (
        "<ds:Signature><ds:SignedInfo>"
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
        '<ds:Reference URI=""><ds:Transforms>'
        f'<ds:Transform Algorithm="{_ENVELOPED}"/></ds:Transforms>'
        '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        f"<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>"
        f"<ds:SignatureValue>{base64.b64encode(b'sample signature, not the tax bureau').decode()}</ds:SignatureValue>"
        "</ds:Signature>"
    )
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body.replace("SIGNATURE", signature)
