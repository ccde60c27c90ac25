"""Storing the records data providers push, by the API or in an XLSX file: all or nothing.

A batch is checked whole (workflows.credit_records, plus what only the database knows: the
enterprise exists, the id is not taken with other content); any bad record refuses the batch
and nothing is stored. A record is idempotent by (provider, provider_record_id): the same
content again is answered with the stored row, other content under the same id is a conflict.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from marketplace import audit
from marketplace.accounts.models import Organisation
from marketplace.accounts.roles import OrgKind
from marketplace.credit import grading
from marketplace.credit.models import CreditRecord
from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.isolation import parse_upload
from workflows.credit_records import (
    MAX_BATCH,
    Problem,
    RecordInput,
    parse_records_file,
    record_from_json,
    record_problems,
    repeated_ids,
)


@dataclass(frozen=True)
class ItemProblem:
    """A problem of one record of a batch: its place (index in the JSON batch, or line of the
    file) and its provider_record_id when it has one."""

    position: int
    provider_record_id: str | None
    problem: Problem


class BatchRejected(ValueError):
    """Some records are invalid: nothing was stored. `problems` names each one."""

    def __init__(self, problems: list[ItemProblem], message: str = ""):
        super().__init__(message or f"{len(problems)} problems")
        self.problems = problems


class BatchConflict(ValueError):
    """Some records repeat an id already stored with other content: nothing was stored."""

    def __init__(self, conflicts: list[ItemProblem]):
        super().__init__(f"{len(conflicts)} conflicts")
        self.conflicts = conflicts


@dataclass(frozen=True)
class Outcome:
    record: CreditRecord
    created: bool
    enterprise_uscc: str  # as sent (a repeat has the stored one): spares loading each enterprise


def provider_source(org: Organisation) -> str:
    if org.kind != OrgKind.PROVIDER or not org.credit_source:
        raise ValueError(f"organisation {org.id} is not a data provider")
    return org.credit_source


# ---- the two fronts -----------------------------------------------------------------------------

def submit_json(provider: Organisation, items: list, user, *, today: date | None = None) -> list[Outcome]:
    """Store the API's records (already a list of 1..MAX_BATCH items) or raise BatchRejected /
    BatchConflict. Positions are the records' indexes in the batch."""
    source = provider_source(provider)
    today = today or today_shanghai()
    records: list[RecordInput | None] = []
    problems: list[ItemProblem] = []
    for index, raw in enumerate(items):
        record, found = record_from_json(raw)
        if record is not None:
            found = record_problems(record, source, today)
        records.append(record if not found else None)
        raw_id = raw.get("provider_record_id") if isinstance(raw, dict) else None
        problems += [ItemProblem(index, raw_id if isinstance(raw_id, str) else None, p) for p in found]
    good = {index: record for index, record in enumerate(records) if record is not None}
    problems += _database_problems(good)
    if problems:
        raise BatchRejected(sorted(problems, key=lambda p: p.position))
    return _store(provider, list(good.values()), list(good), user, channel="api")


def submit_file(provider: Organisation, data: bytes, filename: str, user, *, today: date | None = None) -> list[Outcome]:
    """Store every record of an uploaded table or none; positions are the file's line numbers.
    A conflict is reported as a line problem too. Raises workflows.tabular.TableError for a file
    that cannot be read (or isolation.ParseLimitExceeded)."""
    source = provider_source(provider)
    file_records, line_problems = parse_upload(parse_records_file, data, filename, source=source,
                                               today=today or today_shanghai())
    if line_problems:
        raise BatchRejected([ItemProblem(p.line, None, p.problem) for p in line_problems])
    by_line = {fr.line: fr.record for fr in file_records}
    problems = _database_problems(by_line)
    if problems:
        raise BatchRejected(problems)
    try:
        outcomes = _store(provider, list(by_line.values()), list(by_line), user, channel="xlsx",
                          filename=filename, sha256=hashlib.sha256(data).hexdigest())
    except BatchConflict as conflict:
        raise BatchRejected(conflict.conflicts) from None
    return outcomes


# ---- the checks only the database can make, and the store ---------------------------------------

UNKNOWN_ENTERPRISE = ("平台上没有该统一社会信用代码的企业", "no enterprise with this credit code on the platform")
CONFLICT = ("该记录编号已存在且内容不同；修改已报送的记录请使用新的记录编号或联系平台",
            "this provider_record_id is already stored with different content")


def _database_problems(records: dict[int, RecordInput]) -> list[ItemProblem]:
    """Unknown enterprises, and ids repeated within the batch."""
    known = _enterprise_ids({r.enterprise_uscc for r in records.values()})
    problems = [ItemProblem(position, record.provider_record_id, Problem("enterprise_uscc", *UNKNOWN_ENTERPRISE))
                for position, record in records.items() if record.enterprise_uscc not in known]
    positions = list(records)
    for index, problem in repeated_ids(records.values()).items():
        problems.append(ItemProblem(positions[index], records[positions[index]].provider_record_id, problem))
    return sorted(problems, key=lambda p: p.position)


def _enterprise_ids(usccs: set[str]) -> dict[str, int]:
    if not usccs:
        return {}
    return dict(db.session.execute(select(Enterprise.uscc, Enterprise.id).where(Enterprise.uscc.in_(usccs))).all())


def _store(provider: Organisation, records: list[RecordInput], positions: list[int], user, *, channel: str,
           **audit_details) -> list[Outcome]:
    """Insert the new records, answer the identical repeats, refuse the batch on any conflict.
    A concurrent batch that stored one of the ids first is met by looking again once."""
    for attempt in (1, 2):
        try:
            with db.session.begin_nested():
                outcomes = _insert_new(provider, records, positions)
            break
        except IntegrityError:
            if attempt == 2:
                raise
    created = sum(o.created for o in outcomes)
    for enterprise_id in sorted({o.record.enterprise_id for o in outcomes if o.created}):
        grading.schedule_recompute(enterprise_id, "credit_records")  # after the commit, once each
    audit.record("credit_records.submitted", provider, actor=user, channel=channel, source=provider.credit_source,
                 count=len(outcomes), created=created, unchanged=len(outcomes) - created,
                 record_ids=[o.record.id for o in outcomes][:MAX_BATCH], **audit_details)
    return outcomes


def _insert_new(provider: Organisation, records: list[RecordInput], positions: list[int]) -> list[Outcome]:
    ids = [r.provider_record_id for r in records]
    stored = {row.provider_record_id: row for row in db.session.scalars(
        select(CreditRecord).where(CreditRecord.provider_org_id == provider.id,
                                   CreditRecord.provider_record_id.in_(ids)))}
    enterprises = _enterprise_ids({r.enterprise_uscc for r in records})
    conflicts, outcomes, now = [], [], utcnow()
    for position, record in zip(positions, records, strict=True):
        digest = record.digest()
        existing = stored.get(record.provider_record_id)
        if existing is not None:
            if existing.payload_digest != digest:
                conflicts.append(ItemProblem(position, record.provider_record_id, Problem("provider_record_id", *CONFLICT)))
            outcomes.append(Outcome(existing, created=False, enterprise_uscc=record.enterprise_uscc))
            continue
        row = CreditRecord(enterprise_id=enterprises[record.enterprise_uscc], provider_org_id=provider.id,
                           source=record.source, provider_record_id=record.provider_record_id, kind=record.kind,
                           polarity=record.polarity, title=record.title, amount=record.amount,
                           occurred_on=record.occurred_on, ended_on=record.ended_on, details=record.details,
                           received_at=now, payload_digest=digest, status="active")
        db.session.add(row)
        outcomes.append(Outcome(row, created=True, enterprise_uscc=record.enterprise_uscc))
    if conflicts:
        raise BatchConflict(conflicts)
    db.session.flush()
    return outcomes


def refusal_audit(provider: Organisation, user, *, channel: str, status: int, problems: list[ItemProblem]) -> None:
    """Log a refused batch (after the caller rolled back), naming the first few problems."""
    audit.record("credit_records.refused", provider, actor=user, channel=channel, status=status,
                 problems=len(problems),
                 first=[{"position": p.position, "provider_record_id": p.provider_record_id, "field": p.problem.field}
                        for p in problems[:20]])


def provider_records_query(provider: Organisation):
    return (select(CreditRecord).where(CreditRecord.provider_org_id == provider.id)
            .options(joinedload(CreditRecord.enterprise))  # each row names its enterprise
            .order_by(CreditRecord.received_at.desc(), CreditRecord.id.desc()))
