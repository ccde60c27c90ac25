"""Statement import: every row or none, a file recognised by its hash, the holder must be the enterprise.

Services flush and write the audit event; the view commits. A refusal raises StatementRefused
with a sentence in the request's language the view shows as it is; a file with bad rows raises
StatementRejected. What the parser noticed without refusing the file (a masked balance column,
amounts read from a second column pair, no holder named ...) is kept on the stored file as
StatementFile.parse_warnings ([{"code", "line", "zh", "en"}, ...]); import_statement_warnings()
gives them back as ParseWarning objects.

The account holder is the enterprise; for an individual business (个体工商户, credit code 92...)
whose statement is the operator's personal card, it may also be the operator (the enterprise's
legal representative). A holder the bank masked (张*明) matches on its visible characters.
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
from marketplace.isolation import parse_upload
from marketplace.statements.models import StatementFile, StatementTransaction
from workflows.tabular import TableError
from workflows.verification.model import ParseError, ParseWarning, Statement
from workflows.verification.statement_headers import holder_matches
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
    """The file has errors; nothing was stored. `errors` carry their reason in Chinese and
    English (ParseError.text(locale)); `warnings` what else the parser noticed."""

    def __init__(self, errors: list[ParseError], warnings: list[ParseWarning] | None = None):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors
        self.warnings = list(warnings or [])


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


def is_individual_business(enterprise: Enterprise) -> bool:
    """个体工商户: the credit code's registration authority 9 (market regulation), category 2."""
    return (enterprise.uscc or "").strip().upper().startswith("92")


def holder_is_operator(enterprise: Enterprise, account_name: str) -> bool:
    """The statement is the personal account of an individual business's operator."""
    return (is_individual_business(enterprise) and bool(enterprise.legal_rep_name)
            and holder_matches(account_name, enterprise.legal_rep_name))


def holder_problem(enterprise: Enterprise, account_name: str) -> str | None:
    """Why the statement's holder is not the enterprise, or None (also when the file names none)."""
    if not account_name or holder_matches(account_name, enterprise.name):
        return None
    if holder_is_operator(enterprise, account_name):
        return None
    if is_individual_business(enterprise):
        return _("流水户名“%(name)s”既不是本企业名称，也不是经营者%(operator)s本人，不能作为本企业的流水导入",
                 name=account_name, operator=enterprise.legal_rep_name or "")
    return _("流水账户户名“%(name)s”与本企业名称不一致", name=account_name)


def import_statement(enterprise: Enterprise, user, data: bytes, filename: str) -> StatementFile:
    """Parse and store the file whole, or raise: StatementRejected (row errors) or StatementRefused.

    The stored file keeps the parser's warnings in parse_warnings (see the module's docstring).
    The file is parsed in a child process limited in memory and time (marketplace.isolation),
    after the upload limits were checked; a file over them is rejected as a whole.
    """
    try:
        statement = parse_upload(parse_statement, data, filename)
    except TableError as refused:  # the child ran out of memory or time
        raise StatementRejected([ParseError(0, str(refused), refused.en)]) from None
    errors = list(statement.errors)
    if not errors and not statement.transactions:
        errors = [ParseError(0, _("文件中没有交易记录"), "The file contains no transactions")]
    if errors:
        raise StatementRejected(sorted(errors, key=lambda error: error.line), statement.warnings)
    existing = find_duplicate(enterprise.id, statement.sha256)
    if existing is not None:
        raise DuplicateStatement(duplicate_message(existing), existing)
    problem = holder_problem(enterprise, statement.account_name)
    if problem:
        raise StatementRefused(problem)
    warnings = list(statement.warnings)
    if statement.account_name and holder_is_operator(enterprise, statement.account_name) \
            and not holder_matches(statement.account_name, enterprise.name):
        warnings.append(ParseWarning(
            "holder_operator",
            f"流水户名为经营者本人（{statement.account_name}），按个体工商户经营者的个人账户导入",
            f"the statement's holder is the operator ({statement.account_name}): imported as the "
            "individual business operator's personal account"))
    record = _statement_file(enterprise, user, statement, data, filename)
    record.parse_warnings = [warning_record(warning) for warning in warnings] or None
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
                 sha256=statement.sha256, row_count=record.row_count,
                 warnings=[warning.code for warning in warnings])
    return record


def warning_record(warning: ParseWarning) -> dict:
    """A warning as StatementFile.parse_warnings keeps it (JSON)."""
    return {"code": warning.code, "line": warning.line, "zh": warning.message_zh, "en": warning.message_en}


def import_statement_warnings(record: StatementFile) -> list[ParseWarning]:
    """The warnings kept with a stored statement file, as ParseWarning objects."""
    return [ParseWarning(item.get("code", ""), item.get("zh", ""), item.get("en", ""), item.get("line", 0))
            for item in record.parse_warnings or []]


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
