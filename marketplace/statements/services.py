"""Statement import: every row or none, a file recognised by its hash, the holder must be the enterprise.

Services flush and write the audit event; the view commits. A refusal raises StatementRefused
with a Chinese sentence the view shows as it is; a file with bad rows raises StatementRejected.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import Select, func, insert, select
from sqlalchemy.exc import IntegrityError

from marketplace import audit
from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.formatting import ymd
from marketplace.statements.models import StatementFile, StatementTransaction
from workflows.identifiers import normalise_name
from workflows.verification.model import ParseError, Statement
from workflows.verification.statements import parse_statement

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
PREVIEW_ROWS = 50


class StatementRefused(ValueError):
    """The file parses but cannot be stored (already uploaded, another account holder)."""


class DuplicateStatement(StatementRefused):
    """The enterprise uploaded this very file before."""

    def __init__(self, message: str, existing: StatementFile):
        super().__init__(message)
        self.existing = existing


class StatementRejected(ValueError):
    """The file has errors; nothing was stored."""

    def __init__(self, errors: list[ParseError]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


@dataclass(frozen=True)
class MonthTotals:
    month: str  # YYYY-MM
    inflow: Decimal
    outflow: Decimal  # positive


def statements_query(enterprise_id: int) -> Select:
    return (select(StatementFile).where(StatementFile.enterprise_id == enterprise_id)
            .order_by(StatementFile.uploaded_at.desc(), StatementFile.id.desc()))


def find_duplicate(enterprise_id: int, sha256: str) -> StatementFile | None:
    return db.session.scalar(select(StatementFile).where(
        StatementFile.enterprise_id == enterprise_id, StatementFile.sha256 == sha256).limit(1))


def duplicate_message(existing: StatementFile) -> str:
    return _("该文件已于 %(day)s 上传，无需重复上传", day=ymd(existing.uploaded_at))


def holder_problem(enterprise: Enterprise, account_name: str) -> str | None:
    if account_name and normalise_name(account_name) != normalise_name(enterprise.name):
        return _("流水账户户名“%(name)s”与本企业名称不一致", name=account_name)
    return None


def import_statement(enterprise: Enterprise, user, data: bytes, filename: str) -> StatementFile:
    """Parse and store the file whole, or raise: StatementRejected (row errors) or StatementRefused."""
    statement = parse_statement(data, filename)
    errors = list(statement.errors)
    if not errors and not statement.transactions:
        errors = [ParseError(0, _("文件中没有交易记录"))]
    if errors:
        raise StatementRejected(sorted(errors, key=lambda error: error.line))
    existing = find_duplicate(enterprise.id, statement.sha256)
    if existing is not None:
        raise DuplicateStatement(duplicate_message(existing), existing)
    problem = holder_problem(enterprise, statement.account_name)
    if problem:
        raise StatementRefused(problem)
    record = _statement_file(enterprise, user, statement, data, filename)
    try:
        with db.session.begin_nested():
            db.session.add(record)
            db.session.flush()
    except IntegrityError:  # the same file stored by another request meanwhile
        existing = find_duplicate(enterprise.id, statement.sha256)
        if existing is None:
            raise
        raise DuplicateStatement(duplicate_message(existing), existing) from None
    db.session.execute(insert(StatementTransaction), [
        {"statement_id": record.id, "line": t.line, "date": t.date, "amount": t.amount, "balance": t.balance,
         "counterparty": t.counterparty[:200], "counterparty_account": t.counterparty_account[:64],
         "summary": t.summary[:200]}
        for t in statement.transactions
    ])
    audit.record("statement.imported", record, enterprise_id=enterprise.id, filename=filename,
                 sha256=statement.sha256, row_count=record.row_count)
    return record


def _statement_file(enterprise: Enterprise, user, statement: Statement, data: bytes, filename: str) -> StatementFile:
    rows = statement.transactions
    inflow = sum((t.amount for t in rows if t.amount > 0), ZERO)
    outflow = -sum((t.amount for t in rows if t.amount < 0), ZERO)
    return StatementFile(
        enterprise_id=enterprise.id, original_name=(filename or "")[:255], sha256=statement.sha256,
        size=len(data), bank=statement.bank[:100], account_no=statement.account_no[:64],
        account_name=statement.account_name[:200], first_date=min(t.date for t in rows),
        last_date=max(t.date for t in rows), row_count=len(rows), inflow_total=inflow,
        outflow_total=outflow, uploaded_by_id=getattr(user, "id", None), uploaded_at=utcnow(),
    )


def monthly_totals(statement: StatementFile) -> list[MonthTotals]:
    """Inflow and outflow per calendar month, every month of the period (empty months as zero)."""
    year = func.extract("year", StatementTransaction.date)
    month = func.extract("month", StatementTransaction.date)
    inflow = StatementTransaction.amount > 0
    rows = db.session.execute(
        select(year, month, inflow, func.sum(StatementTransaction.amount))
        .where(StatementTransaction.statement_id == statement.id).group_by(year, month, inflow)
    ).all()
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for y, m, is_inflow, amount in rows:
        totals[f"{int(y):04d}-{int(m):02d}"][0 if is_inflow else 1] += Decimal(str(amount))
    result = []
    y, m = statement.first_date.year, statement.first_date.month
    while (y, m) <= (statement.last_date.year, statement.last_date.month):
        key = f"{y:04d}-{m:02d}"
        month_in, month_out = totals.get(key, (ZERO, ZERO))
        result.append(MonthTotals(key, month_in.quantize(CENT), (-month_out).quantize(CENT)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return result


def first_transactions(statement: StatementFile, limit: int = PREVIEW_ROWS) -> list[StatementTransaction]:
    return list(db.session.scalars(
        select(StatementTransaction).where(StatementTransaction.statement_id == statement.id)
        .order_by(StatementTransaction.line, StatementTransaction.id).limit(limit)
    ))


def masked_account(account_no: str) -> str:
    """All but the last 4 characters hidden."""
    if not account_no:
        return ""
    if len(account_no) <= 4:
        return account_no
    return "*" * (len(account_no) - 4) + account_no[-4:]
