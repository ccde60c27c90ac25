"""Receivables: record, change, delete, bulk import, and the debtor's confirmation.

Services flush and write the audit event; the view commits. A refusal raises ReceivableRefused
(or a subclass) with a Chinese sentence the view shows as it is.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.financing.models import RequestPledge
from marketplace.financing.services import is_pledged
from marketplace.formatting import today_shanghai
from marketplace.isolation import parse_upload
from marketplace.notifications.messages import later
from marketplace.notifications.services import notify
from marketplace.receivables import links
from marketplace.receivables.models import (
    ANSWER_SOURCES,
    DECLARATIONS,
    ConfirmationLink,
    Receivable,
)
from workflows.identifiers import normalise_name
from workflows.receivables_file import ReceivableRow, RowError, parse_receivables

# Changing one of these on a confirmed or disputed receivable makes the debtor's answer stale.
MATERIAL_FIELDS = ("debtor_name", "debtor_uscc", "invoice_no", "face_amount")
MAX_AMOUNT = Decimal("9999999999999999.99")  # what Numeric(18, 2) holds


class ReceivableRefused(ValueError):
    """The rules do not allow the action; the message says why, in Chinese."""


class ReceivableLocked(ReceivableRefused):
    """The receivable backs an active financing request (or did), so it must stay as it is."""


class DuplicateReceivable(ReceivableRefused):
    """The enterprise already recorded this debtor's invoice."""


class ImportRejected(ValueError):
    """The file has row errors; nothing was stored."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} row errors")
        self.errors = errors


@dataclass(frozen=True)
class ReceivableFields:
    """What the enterprise states about a receivable (from the form or an import row)."""

    debtor_name: str
    debtor_uscc: str
    invoice_no: str
    contract_no: str | None
    face_amount: Decimal
    issue_date: date
    due_date: date


# --- rules shared by the form, the services and the import -------------------------------------

def related_party_problem(enterprise: Enterprise, debtor_uscc: str, debtor_name: str = "") -> str | None:
    """The enterprise cannot be its own debtor (same credit code, or same name once normalised)."""
    if debtor_uscc == enterprise.uscc or (debtor_name and normalise_name(debtor_name) == normalise_name(enterprise.name)):
        return _("债务人不能是本企业")
    return None


def duplicate_of(enterprise_id: int, debtor_uscc: str, invoice_no: str, exclude_id: int | None = None) -> Receivable | None:
    """An existing receivable with the same debtor and invoice number (any case), registered by
    this enterprise or by any other: one invoice backs one receivable on the platform."""
    query = select(Receivable).where(
        Receivable.debtor_uscc == debtor_uscc, func.upper(Receivable.invoice_no) == invoice_no.upper(),
    ).order_by(Receivable.enterprise_id != enterprise_id)  # the enterprise's own first
    if exclude_id is not None:
        query = query.where(Receivable.id != exclude_id)
    return db.session.scalar(query.limit(1))


def amount_problem(amount: Decimal) -> str | None:
    if amount > MAX_AMOUNT:
        return _("金额超出系统可登记的上限，请核对")
    return None


def duplicate_message(existing: Receivable | None = None, enterprise_id: int | None = None) -> str:
    """Why a receivable is refused as a duplicate; another enterprise's is named as such, not by name."""
    if existing is not None and existing.enterprise_id != enterprise_id:
        return claimed_elsewhere_message()
    return _("已登记过该债务人的同一发票号码，请勿重复登记")


def claimed_elsewhere_message() -> str:
    return _("该债务人的这张发票（同一发票号码）已由其他企业登记为应收账款，同一张发票不能由两家企业登记。"
             "请核对发票号码；如确有争议，请联系平台运营方")


def ensure_unpledged(receivable: Receivable) -> None:
    if receivable.id is not None and is_pledged(receivable.id):
        raise ReceivableLocked(_("该应收账款已质押于有效的融资申请，不能修改或删除；如需变更请先撤回融资申请"))


def _ever_pledged(receivable: Receivable) -> bool:
    return db.session.scalar(
        select(RequestPledge.id).where(RequestPledge.receivable_id == receivable.id).limit(1)
    ) is not None


@contextmanager
def _refusing_duplicates():
    """Run the changes made in the block in a savepoint and flush them; the unique constraint is the
    last word on duplicates (two tabs, two clerks). The savepoint starts before the changes because
    begin_nested() flushes what is pending first, outside the savepoint."""
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except IntegrityError as error:
        raise DuplicateReceivable(duplicate_message()) from error


# --- listing --------------------------------------------------------------------------------------

def receivables_query(enterprise_id: int, confirmation: str | None = None) -> Select:
    query = select(Receivable).where(Receivable.enterprise_id == enterprise_id)
    if confirmation:
        query = query.where(Receivable.confirmation == confirmation)
    return query.order_by(Receivable.due_date, Receivable.id)


def link_history(receivable: Receivable) -> list[tuple[ConfirmationLink, str, str]]:
    """Each link issued, newest first, with the name of who issued it and its state."""
    ids = {link.created_by_id for link in receivable.links}
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}
    now = utcnow()
    return [(link, names.get(link.created_by_id, ""), links.state_of(link, now))
            for link in sorted(receivable.links, key=lambda link: link.id, reverse=True)]


# --- create, update, delete ------------------------------------------------------------------------

def create_receivable(enterprise: Enterprise, values: ReceivableFields) -> Receivable:
    receivable = Receivable(enterprise_id=enterprise.id, confirmation="pending", **_columns(values))
    with _refusing_duplicates():
        db.session.add(receivable)
    audit.record("receivable.created", receivable, enterprise_id=enterprise.id, invoice_no=receivable.invoice_no,
                 debtor_uscc=receivable.debtor_uscc, amount=receivable.face_amount)
    return receivable


def update_receivable(receivable: Receivable, values: ReceivableFields) -> bool:
    """Apply the changes; return True when the debtor's answer was reset to pending because of them."""
    ensure_unpledged(receivable)
    changed = {name: value for name, value in _columns(values).items() if getattr(receivable, name) != value}
    material = any(name in changed for name in MATERIAL_FIELDS)
    reset = material and receivable.confirmation != "pending"
    with _refusing_duplicates():
        for name, value in changed.items():
            setattr(receivable, name, value)
        if reset:
            _clear_answer(receivable)
        if material:
            _clear_declaration(receivable)  # it was made about other facts
            links.revoke_open_links(receivable)  # the debtor was asked about other facts
    audit.record("receivable.updated", receivable, enterprise_id=receivable.enterprise_id,
                 changed=sorted(changed), confirmation_reset=reset)
    return reset


def _columns(values: ReceivableFields) -> dict:
    columns = {f.name: getattr(values, f.name) for f in fields(values)}
    columns["contract_no"] = columns["contract_no"] or None
    return columns


def _clear_answer(receivable: Receivable) -> None:
    receivable.confirmation = "pending"
    for column in ("confirmed_via", "confirmed_at", "confirmed_ip", "confirmed_by_name",
                   "confirmed_by_user_id", "dispute_reason"):
        setattr(receivable, column, None)


def _clear_declaration(receivable: Receivable) -> None:
    for column in ("declared_confirmation", "declared_at", "declared_by_id", "declared_reason"):
        setattr(receivable, column, None)


def delete_receivable(receivable: Receivable) -> list[str]:
    """Delete the receivable with its documents and links; return the stored file names to remove
    once the transaction has committed."""
    ensure_unpledged(receivable)
    if _ever_pledged(receivable):
        raise ReceivableLocked(_("该应收账款曾用于融资申请，为保留记录不能删除"))
    stored = [document.stored_name for document in receivable.documents]
    audit.record("receivable.deleted", receivable, enterprise_id=receivable.enterprise_id,
                 invoice_no=receivable.invoice_no, debtor_uscc=receivable.debtor_uscc,
                 amount=receivable.face_amount, documents=len(stored))
    db.session.delete(receivable)
    db.session.flush()
    return stored


# --- bulk import -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportResult:
    """What an import stored: how many receivables, and how many rows declared an answer (kept as
    the enterprise's declaration, awaiting the debtor's own)."""

    count: int
    declared_confirmed: int = 0
    declared_disputed: int = 0

    @property
    def declared(self) -> int:
        return self.declared_confirmed + self.declared_disputed


def import_receivables(enterprise: Enterprise, data: bytes, filename: str, user: User | None = None) -> ImportResult:
    """Store every row of the file or none: any row error raises ImportRejected listing them all.

    A row's 确认状态 is the enterprise's declaration, never the debtor's answer: the receivable is
    stored pending, the declaration beside it. A file that cannot be read as a table, is over the
    upload limits or exhausts the parsing child's memory or time raises workflows.tabular.TableError.
    """
    rows, errors = parse_upload(parse_receivables, data, filename, today=today_shanghai())
    errors = sorted(errors + _import_rule_errors(enterprise, rows), key=lambda error: error.line)
    if errors:
        raise ImportRejected(errors)
    result = store_rows(enterprise, rows, user)
    audit.record("receivables.imported", enterprise, enterprise_id=enterprise.id, actor=user, count=result.count,
                 declared_confirmed=result.declared_confirmed, declared_disputed=result.declared_disputed,
                 filename=filename, sha256=hashlib.sha256(data).hexdigest())
    return result


def store_rows(enterprise: Enterprise, rows: list[ReceivableRow], user: User | None = None) -> ImportResult:
    """Store checked rows (import_row_problems found none) as pending receivables, all or none;
    ImportRejected when someone stored one of them meanwhile. The caller writes the audit event."""
    now = utcnow()
    try:
        with _refusing_duplicates():
            db.session.add_all(_receivable_from_row(enterprise, row, now, user) for row in rows)
    except DuplicateReceivable:  # someone stored one of these rows meanwhile
        raise ImportRejected([RowError(0, duplicate_message())]) from None
    return ImportResult(
        count=len(rows),
        declared_confirmed=sum(row.confirmation == "confirmed" for row in rows),
        declared_disputed=sum(row.confirmation == "disputed" for row in rows),
    )


def _import_rule_errors(enterprise: Enterprise, rows: list[ReceivableRow]) -> list[RowError]:
    """What the file parser cannot know: the enterprise itself, and the database."""
    taken = registered_invoice_owners({row.debtor_uscc for row in rows})
    return [RowError(row.line, problem) for row in rows for problem in import_row_problems(enterprise, row, taken)]


def import_row_problems(enterprise: Enterprise, row: ReceivableRow, taken: dict[tuple[str, str], int]):
    """An imported row's problems that need the enterprise or the database (`taken`: what
    registered_invoice_owners returned for the rows' debtors)."""
    if amount_problem(row.amount):
        yield _("金额：%(problem)s", problem=amount_problem(row.amount))
    if related_party_problem(enterprise, row.debtor_uscc, row.debtor_name):
        yield _("债务人统一社会信用代码：%(problem)s", problem=_("债务人不能是本企业"))
    owner = taken.get((row.debtor_uscc, row.invoice_no.upper()))
    if owner == enterprise.id:
        yield _("发票号码：该债务人的同一发票号码已登记过，请勿重复导入")
    elif owner is not None:
        yield _("发票号码：%(problem)s", problem=claimed_elsewhere_message())


def registered_invoice_owners(usccs: set[str]) -> dict[tuple[str, str], int]:
    """(debtor code, invoice number upper-cased) -> the enterprise that registered it, for any enterprise."""
    if not usccs:
        return {}
    rows = db.session.execute(
        select(Receivable.debtor_uscc, func.upper(Receivable.invoice_no), Receivable.enterprise_id)
        .where(Receivable.debtor_uscc.in_(usccs))
    ).all()
    return {(uscc, invoice): enterprise_id for uscc, invoice, enterprise_id in rows}


def _receivable_from_row(enterprise: Enterprise, row: ReceivableRow, now, user: User | None) -> Receivable:
    """A pending receivable as the file states it; a stated answer is kept as the declaration."""
    receivable = Receivable(
        enterprise_id=enterprise.id, debtor_name=row.debtor_name, debtor_uscc=row.debtor_uscc,
        invoice_no=row.invoice_no, contract_no=row.contract_no or None, face_amount=row.amount,
        issue_date=row.issue_date, due_date=row.due_date, confirmation="pending",
    )
    if row.confirmation in DECLARATIONS:
        receivable.declared_confirmation = row.confirmation
        receivable.declared_at = now
        receivable.declared_by_id = getattr(user, "id", None)
        if row.confirmation == "disputed":
            receivable.declared_reason = row.reason or None
    return receivable


# --- the debtor's answer ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """A debtor's answer: confirm, or dispute with a reason; who gave it, from where, by which path."""

    confirm: bool
    name: str
    via: str  # link | account
    ip: str | None
    reason: str | None = None
    user: User | None = None


def issue_confirmation_link(receivable: Receivable, user: User) -> str:
    """Revoke the receivable's open links and make a new one; return its token (shown once)."""
    if receivable.confirmation != "pending":
        raise ReceivableRefused(_("只有待确认的应收账款才能发送确认链接"))
    revoked = links.revoke_open_links(receivable)
    link = links.create_link(receivable, user)
    audit.record("receivable.link_issued", receivable, enterprise_id=receivable.enterprise_id, actor=user,
                 link_id=link.id, expires_at=link.expires_at, revoked_links=revoked)
    return links.token_for(link)


def answer(receivable: Receivable, reply: Answer, *, notify_creditor: bool = True) -> None:
    """Record the debtor's confirmation or dispute of a pending receivable: only the debtor's own
    act (the signed link, or its enterprise account) comes this way. A caller answering several
    receivables at once (a debtor request) passes notify_creditor=False and tells the creditor once."""
    if reply.via not in ANSWER_SOURCES:
        raise ValueError(f"not a debtor's act: {reply.via!r}")
    if receivable.confirmation != "pending":
        raise ReceivableRefused(_("该应收账款已确认或已提出异议"))
    if not reply.confirm and not (reply.reason or "").strip():
        raise ReceivableRefused(_("提出异议时请填写异议原因"))
    receivable.confirmation = "confirmed" if reply.confirm else "disputed"
    receivable.confirmed_via = reply.via
    receivable.confirmed_at = utcnow()
    receivable.confirmed_ip = reply.ip
    receivable.confirmed_by_name = reply.name.strip()
    receivable.confirmed_by_user_id = getattr(reply.user, "id", None)
    receivable.dispute_reason = None if reply.confirm else reply.reason.strip()
    links.revoke_open_links(receivable)
    db.session.flush()
    audit.record(f"receivable.{receivable.confirmation}", receivable, enterprise_id=receivable.enterprise_id,
                 actor=reply.user, via=reply.via, confirmed_by_name=receivable.confirmed_by_name,
                 dispute_reason=receivable.dispute_reason)
    if notify_creditor:
        _notify_creditor(receivable)


def _notify_creditor(receivable: Receivable) -> None:
    """Tell the creditor enterprise's users how the debtor answered."""
    if receivable.confirmation == "confirmed":
        title = later("债务人已确认应收账款（发票 %(no)s）", no=receivable.invoice_no)
        body = later("%(debtor)s 已确认发票 %(no)s 项下的应收账款，可用于融资申请。",
                 debtor=receivable.debtor_name, no=receivable.invoice_no)
    else:
        title = later("债务人对应收账款提出异议（发票 %(no)s）", no=receivable.invoice_no)
        body = later("%(debtor)s 对发票 %(no)s 提出异议：%(reason)s",
                 debtor=receivable.debtor_name, no=receivable.invoice_no, reason=receivable.dispute_reason)
    link = url_for("receivables.detail", receivable_id=receivable.id)
    notify(receivable.enterprise.organisation.users, "receivable.answered", title, body, link)


def answer_by_link(link: ConfirmationLink, reply: Answer) -> None:
    link.used_at = utcnow()
    answer(link.receivable, reply)


def confirmations_query(debtor: Enterprise) -> Select:
    """Pending receivables that other enterprises recorded against this enterprise as debtor."""
    return (
        select(Receivable)
        .options(joinedload(Receivable.enterprise))
        .where(Receivable.debtor_uscc == debtor.uscc, Receivable.confirmation == "pending",
               Receivable.enterprise_id != debtor.id)
        .order_by(Receivable.due_date, Receivable.id)
    )


def receivable_owed_by(debtor: Enterprise, receivable_id: int) -> Receivable | None:
    """The receivable, locked for the answer, if this enterprise is its debtor; else None."""
    receivable = db.session.get(Receivable, receivable_id, with_for_update=True)
    if receivable is None or receivable.debtor_uscc != debtor.uscc or receivable.enterprise_id == debtor.id:
        return None
    return receivable
