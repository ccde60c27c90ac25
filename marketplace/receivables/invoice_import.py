"""Receivables from the invoices an enterprise issued: read the upload, preview, then store.

Nothing is stored before the enterprise confirms. The preview does not keep the upload on the
server (the web tier keeps no state): what was read travels in the preview form as a signed,
expiring token bound to the enterprise, and confirming re-reads it, re-checks it against the
database (someone may have registered an invoice meanwhile) and stores the invoices that pass
through the receivables service, which writes nothing but pending receivables.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.enterprises.models import Enterprise
from marketplace.formatting import today_shanghai
from marketplace.isolation import parse_upload
from marketplace.receivables import services
from workflows.invoices import (
    FIELDS,
    MAX_INVOICES,
    Assessed,
    Invoice,
    InvoiceTable,
    assess,
    invoices_from_table,
    missing_fields,
    read_invoice_file,
    refuse,
)
from workflows.tabular import Row
from workflows.text import Sentence

TOKEN_SALT = "receivables.invoice-import"
TOKEN_MAX_AGE = 2 * 60 * 60  # seconds a preview can be confirmed
TERM_RANGE = (1, 365)


class InvoiceImportRefused(ValueError):
    """The upload or the preview cannot go further; the message says why, in the page's language."""


@dataclass(frozen=True)
class Draft:
    """What was read from the upload: one invoice list, or e-invoices from XML files and zips."""

    files: tuple[tuple[str, str], ...]  # (file name, sha256)
    table: InvoiceTable | None = None
    invoices: tuple[Invoice, ...] = ()


@dataclass
class Preview:
    """Each invoice with what confirming would do to it, and the mapping and term that decided it."""

    draft: Draft
    mapping: dict[str, int | None]
    term_days: int | None
    results: list[Assessed] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # fields to map before anything can be previewed
    notes: list[str] = field(default_factory=list)  # about the upload as a whole

    def _with(self, action: str) -> list[Assessed]:
        return [result for result in self.results if result.action == action]

    @property
    def to_import(self) -> list[Assessed]:
        return self._with("import")

    @property
    def skipped(self) -> list[Assessed]:
        return self._with("skip")

    @property
    def errors(self) -> list[Assessed]:
        return self._with("error")

    @property
    def total(self) -> Decimal:
        return sum((result.row.amount for result in self.to_import), Decimal("0.00"))


# --- reading the upload -------------------------------------------------------------------------

def read_uploads(uploads: list[tuple[str, bytes]]) -> Draft:
    """Read each uploaded file in the limited parser (a zip or a spreadsheet may expand without
    bound). One invoice list alone, or any number of XML files and zips of them.

    Raises workflows.tabular.TableError for a file that cannot be used at all (over the limits,
    unreadable), InvoiceImportRefused for an upload that mixes the two kinds or holds too many."""
    results = [parse_upload(read_invoice_file, data, name) for name, data in uploads]
    files = tuple((name, hashlib.sha256(data).hexdigest()) for name, data in uploads)
    tables = [result for result in results if isinstance(result, InvoiceTable)]
    if tables:
        if len(results) > 1:
            raise InvoiceImportRefused(_("发票清单（Excel或CSV）请单独上传，一次一个文件；XML电子发票可以多个一起上传或打包为zip"))
        return Draft(files=files, table=tables[0])
    invoices = [invoice for result in results for invoice in result]
    if len(invoices) > MAX_INVOICES:
        raise InvoiceImportRefused(_("一次最多导入%(n)s张发票，请分批上传", n=MAX_INVOICES))
    numbered = (Invoice(**{**asdict(invoice), "line": number}) for number, invoice in enumerate(invoices, start=1))
    return Draft(files=files, invoices=tuple(numbered))


# --- the preview ----------------------------------------------------------------------------------

def detected_mapping(draft: Draft) -> dict[str, int | None]:
    if draft.table is None:
        return {}
    return {name: draft.table.mapping.get(name) for name in FIELDS}


def preview(enterprise: Enterprise, draft: Draft, mapping: dict[str, int | None] | None,
            term_days: int | None) -> Preview:
    """What confirming would store, skip and refuse, checked against the database as it is now
    (without a payment term, an invoice without a due date of its own is refused)."""
    mapping = detected_mapping(draft) if mapping is None else mapping
    result = Preview(draft=draft, mapping=mapping, term_days=term_days)
    if draft.table is not None:
        result.missing = missing_fields(mapping)
        if result.missing:
            return result
        invoices = invoices_from_table(draft.table, mapping)
    else:
        invoices = list(draft.invoices)
    if invoices and not any(invoice.seller_uscc for invoice in invoices):
        result.notes.append(_("文件中没有销售方纳税人识别号，无法核对这些发票是否由本企业开具，请自行核对"))
    assessed = assess(invoices, seller_uscc=enterprise.uscc, term_days=term_days, today=today_shanghai())
    result.results = _against_registry(enterprise, assessed)
    return result


def _against_registry(enterprise: Enterprise, assessed: list[Assessed]) -> list[Assessed]:
    """Skip invoices the enterprise registered before; refuse one another enterprise registered,
    one naming the enterprise itself as buyer, or one over what the system can hold."""
    taken = services.registered_invoice_owners({r.row.debtor_uscc for r in assessed if r.row is not None})
    checked = []
    for result in assessed:
        if result.action == "import":
            key = (result.row.debtor_uscc, result.row.invoice_no.upper())
            if taken.get(key) == enterprise.id:
                result = Assessed(result.invoice, "skip", (_("该发票已登记为应收账款，不重复导入"),), result.row)
            else:
                for problem in services.import_row_problems(enterprise, result.row, taken):
                    result = refuse(result, problem)
        checked.append(result)
    return checked


# --- confirming -------------------------------------------------------------------------------------

def confirm(enterprise: Enterprise, draft: Draft, mapping: dict[str, int | None] | None, term_days: int,
            user: User) -> tuple[services.ImportResult, Preview]:
    """Store the invoices the preview would import, as pending receivables, and keep the payment
    term on the enterprise. Raises InvoiceImportRefused when there is nothing to store, and
    services.ImportRejected when one of them was registered meanwhile (nothing is stored)."""
    checked = preview(enterprise, draft, mapping, term_days)
    if checked.missing:
        raise InvoiceImportRefused(_("请先为以下内容选择对应的列：%(fields)s", fields="、".join(checked.missing)))
    rows = [result.row for result in checked.to_import]
    if not rows:
        raise InvoiceImportRefused(_("没有可以导入的发票"))
    result = services.store_rows(enterprise, rows, user)
    enterprise.default_payment_term_days = term_days
    audit.record("receivables.invoices_imported", enterprise, enterprise_id=enterprise.id, actor=user,
                 count=result.count, skipped=len(checked.skipped), refused=len(checked.errors),
                 term_days=term_days, files=[name for name, _sha in draft.files],
                 sha256=[sha for _name, sha in draft.files])
    return result, checked


# --- the signed token that carries the draft from the preview to the confirmation ----------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=TOKEN_SALT)


def draft_token(draft: Draft, enterprise: Enterprise) -> str:
    table = None
    if draft.table is not None:
        table = {**asdict(draft.table), "rows": [[row.line, list(row.cells)] for row in draft.table.rows]}
    payload = {"enterprise": enterprise.id, "files": [list(item) for item in draft.files], "table": table,
               "invoices": [_packed(invoice) for invoice in draft.invoices]}
    return _serializer().dumps(payload)


# An e-invoice's signature note and problems are Sentences: the token keeps both languages.
def _packed(invoice: Invoice) -> dict:
    def pack(text: str) -> str | list[str]:
        return [str(text), text.en] if isinstance(text, Sentence) else text

    return {**asdict(invoice), "signature": pack(invoice.signature),
            "problems": [pack(problem) for problem in invoice.problems]}


def _unpacked(fields: dict) -> Invoice:
    def unpack(text: str | list[str]) -> str:
        return Sentence(*text) if isinstance(text, list) else text

    return Invoice(**{**fields, "signature": unpack(fields["signature"]),
                      "problems": tuple(unpack(problem) for problem in fields["problems"])})


def draft_from_token(token: str, enterprise: Enterprise) -> Draft:
    """The draft a preview carried; refused when altered, expired or another enterprise's."""
    try:
        payload = _serializer().loads(token or "", max_age=TOKEN_MAX_AGE)
    except SignatureExpired:
        raise InvoiceImportRefused(_("预览已过期，请重新上传文件")) from None
    except BadSignature:
        raise InvoiceImportRefused(_("预览数据无效，请重新上传文件")) from None
    if payload.get("enterprise") != enterprise.id:
        raise InvoiceImportRefused(_("预览数据无效，请重新上传文件"))
    table = payload["table"]
    if table is not None:
        table = InvoiceTable(**{**table, "headers": tuple(table["headers"]),
                                "rows": tuple(Row(line, tuple(cells)) for line, cells in table["rows"])})
    invoices = tuple(_unpacked(invoice) for invoice in payload["invoices"])
    return Draft(files=tuple(tuple(item) for item in payload["files"]), table=table, invoices=invoices)
