"""An institution's queue: the requests routed to it, filtered, sorted, and paged by keyset.
Only those it may still see: while it holds the enterprise's valid consent (verification.routed).

Keyset paging ("after this row") keeps a page as cheap at row 90,000 as at row 1: the cursor
carries the last row's sort value and id, and the index ix_request_targets_queue
(institution_id, routed_at, id) serves the default order, reading rows in order and stopping
after a page. A page costs a fixed number of queries whatever the number of rows: one for the
rows (claims, enterprises, classes and the yellow-list flag joined in), one for the counts per
state, which scans the queue and so is reused for QUEUE_COUNTS_SECONDS per institution and filters.
"""

from __future__ import annotations

import base64
import json
import threading
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from cachetools import TTLCache
from flask import current_app
from sqlalchemy import (
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import aliased

from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.desks.claims import WORKABLE_STATUSES
from marketplace.desks.models import Assignment
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import SHANGHAI, today_shanghai
from marketplace.lists.services import yellow_listed_column
from marketplace.reference.industries import division_of
from marketplace.reference.picker import Picked, pick_industry, pick_region
from marketplace.supermarket.models import RequestTarget
from marketplace.verification.routed import visible_to_institution

# Target statuses shown in the queue: worked now, plus what the institution already decided.
QUEUE_STATUSES = (*WORKABLE_STATUSES, "declined", "accepted", "closed")
SORTS = ("routed", "amount", "due")
SLA_STATES = ("on_time", "due_soon", "breached", "due_today")  # due_today: late before midnight in Shanghai
DUE_SOON = timedelta(days=1)
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
NAME_LONGEST = 160  # an industry or region typed by name, or a picker's "code name" label


_ALIASES: list = []
_aliases_lock = threading.Lock()


def _aliases():
    """(open claim, its holder): the queue joins the open claim on each target and its holder.
    Aliases are immutable, so one of each serves every query (building them anew costs more than
    the query's own round trip). Made on first call, not at import: an alias configures every
    mapper (~0.2 s), which a process that never shows a queue (a CLI command) need not pay.
    Made once under a lock: a statement must join and select the same alias."""
    if not _ALIASES:
        with _aliases_lock:
            if not _ALIASES:
                _ALIASES.append((aliased(Assignment, name="open_claim"), aliased(User, name="claimer")))
    return _ALIASES[0]


LARGEST_AMOUNT = Decimal("9999999999999999.99")  # what Numeric(18, 2) holds; a larger bound matches nothing


@dataclass(frozen=True)
class Filters:
    state: str | None = None  # the request's state
    status: str = "open"  # open (worked now) | all | one target status
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    industry: str | None = None  # GB/T 4754 division (2 digits) or longer prefix
    region: str | None = None  # division-code prefix
    classification: str | None = None
    sla: str | None = None  # on_time | due_soon | breached | due_today
    mine: bool = False
    sort: str = "routed"
    descending: bool = False
    after: str | None = None  # the cursor
    refused: tuple[str, ...] = field(default=(), compare=False)  # why a typed industry or region was ignored

    @classmethod
    def from_args(cls, args) -> Filters:
        """From query-string arguments, ignoring values that make no sense (never an error). The
        industry and region pickers take a code or a name; one not understood is ignored and said
        so in `refused`."""
        def money(name):
            try:
                value = Decimal(str(args.get(name, "")).replace(",", "").strip())
            except InvalidOperation:
                return None
            return value if value.is_finite() and 0 <= value <= LARGEST_AMOUNT else None

        def text(name, allowed=None, longest=32):
            value = (args.get(name) or "").strip()
            if not value or (allowed is not None and value not in allowed):
                return None
            return value[:longest]

        industry = _industry_prefix(text("industry", longest=NAME_LONGEST))
        region = pick_region(text("region", longest=NAME_LONGEST))
        return cls(
            state=text("state"), status=text("status", ("open", "all", *QUEUE_STATUSES)) or "open",
            amount_min=money("amount_min"), amount_max=money("amount_max"),
            industry=industry.code, region=region.code,
            refused=tuple(picked.error for picked in (industry, region) if picked.error),
            classification=text("classification", ("excellent", "mixed", "poor")),
            sla=text("sla", SLA_STATES), mine=args.get("mine") in ("1", "true", "on"),
            sort=text("sort", SORTS) or "routed", descending=args.get("order") == "desc", after=text_cursor(args),
        )

    def args(self, **changes) -> dict:
        """The filters as query-string arguments (for links), with `changes` applied."""
        f = replace(self, **changes)
        values = {"state": f.state, "status": None if f.status == "open" else f.status,
                  "amount_min": f.amount_min, "amount_max": f.amount_max, "industry": f.industry,
                  "region": f.region, "classification": f.classification, "sla": f.sla,
                  "mine": "1" if f.mine else None, "sort": None if f.sort == "routed" else f.sort,
                  "order": "desc" if f.descending else None, "after": f.after}
        return {k: str(v) for k, v in values.items() if v is not None}


def _industry_prefix(typed: str | None) -> Picked:
    """A division picked by code or name, or a longer GB/T 4754 code ("3911") as a prefix."""
    digits = unicodedata.normalize("NFKC", typed or "").strip()
    if digits.isdigit() and division_of(digits):
        return Picked(digits)
    return pick_industry(typed)


def text_cursor(args) -> str | None:
    value = (args.get("after") or "").strip()
    return value[:200] or None


@dataclass(frozen=True, slots=True)
class Row:
    """One queue line: just the columns the page and the API show (no ORM entities to build)."""
    request_id: int
    target_id: int
    target_status: str
    routed_at: datetime | None
    enterprise_id: int
    state: str
    amount: Decimal
    term_days: int
    classification: str | None
    stuck: bool
    sla_due_at: datetime | None
    enterprise_name: str
    industry_code: str | None
    region_code: str | None
    claimed_by_id: int | None
    claimed_by_name: str | None
    yellow_listed: bool  # the enterprise is on the current published yellow list
    sla_state: str | None


ROW_COLUMNS = (FinancingRequest.id, RequestTarget.id, RequestTarget.status, RequestTarget.routed_at,
               FinancingRequest.enterprise_id, FinancingRequest.state, FinancingRequest.amount,
               FinancingRequest.term_days, FinancingRequest.classification, FinancingRequest.stuck,
               FinancingRequest.sla_due_at, Enterprise.name, Enterprise.industry_code, Enterprise.region_code)


@dataclass
class QueuePage:
    rows: list[Row]
    next_cursor: str | None
    counts: dict[str, int] = field(default_factory=dict)  # request state -> rows

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _sort_column(sort: str):
    if sort == "amount":
        return FinancingRequest.amount
    if sort == "due":
        return func.coalesce(FinancingRequest.sla_due_at, literal(FAR_FUTURE))
    return RequestTarget.routed_at


def encode_cursor(value, row_id: int) -> str:
    if isinstance(value, datetime):
        raw = ["t", value.isoformat()]
    elif isinstance(value, Decimal):
        raw = ["d", str(value)]
    else:
        raw = ["n", None]
    return base64.urlsafe_b64encode(json.dumps([*raw, row_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str = "routed"):
    """(value, id), or None for a cursor that is not one of ours or not made for this sort."""
    try:
        kind, value, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if kind != ("d" if sort == "amount" else "t"):
            return None
        value = Decimal(value) if kind == "d" else datetime.fromisoformat(value)
        if (isinstance(value, Decimal) and not value.is_finite()) or (
                isinstance(value, datetime) and value.tzinfo is None):
            return None
        return value, int(row_id)
    except (ValueError, TypeError, ArithmeticError, json.JSONDecodeError):
        return None


def sla_state(stuck: bool, due_at: datetime | None, now: datetime) -> str | None:
    """breached, due_soon or on_time for a request that is stuck or not and due then (None: no clock)."""
    if stuck or (due_at is not None and due_at <= now):
        return "breached"
    if due_at is not None and due_at <= now + DUE_SOON:
        return "due_soon"
    return "on_time" if due_at is not None else None


@dataclass(frozen=True)
class Shape:
    """What of the filters changes the SQL. The values themselves are bound parameters, so each
    shape's statement is built once and reused: SQLAlchemy then finds its compiled form without
    building and hashing the query again, and psycopg runs it as a prepared statement."""
    state: bool
    status: str
    amount_min: bool
    amount_max: bool
    industry: bool
    region: bool
    classification: bool
    sla: str | None
    mine: bool

    @classmethod
    def of(cls, f: Filters) -> Shape:
        return cls(state=f.state is not None, status=f.status, amount_min=f.amount_min is not None,
                   amount_max=f.amount_max is not None, industry=bool(f.industry), region=bool(f.region),
                   classification=f.classification is not None, sla=f.sla, mine=f.mine)


def end_of_day_shanghai(now: datetime) -> datetime:
    """The coming midnight in Asia/Shanghai (as UTC): what is due before it is due today."""
    tomorrow = now.astimezone(SHANGHAI).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), SHANGHAI).astimezone(UTC)


def _like_prefix(value: str | None) -> str | None:
    if not value:
        return None
    return value.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _values(f: Filters, institution_id: int, user_id: int, now: datetime) -> dict:
    """The bound parameters of the filters' statements (a statement ignores those it lacks)."""
    return {"institution_id": institution_id, "user_id": user_id, "today": today_shanghai(), "state": f.state,
            "amount_min": f.amount_min,
            "amount_max": f.amount_max, "industry": _like_prefix(f.industry), "region": _like_prefix(f.region),
            "classification": f.classification, "now": now, "due_soon_until": now + DUE_SOON,
            "end_of_today": end_of_day_shanghai(now)}


def _filtered(shape: Shape, rows: bool = True) -> Select:
    """The queue's FROM and WHERE (no columns, no order), in bound parameters (see _values).
    For counts (rows=False) the enterprise and the claim are joined only when a filter needs them."""
    claim, _ = _aliases()
    now = bindparam("now")
    query = (select(RequestTarget)
             .join(FinancingRequest, FinancingRequest.id == RequestTarget.request_id)
             .where(RequestTarget.institution_id == bindparam("institution_id"),
                    visible_to_institution(bindparam("institution_id"), bindparam("today", type_=Date))))
    if rows or shape.industry or shape.region:
        query = query.join(Enterprise, Enterprise.id == FinancingRequest.enterprise_id)
    if rows or shape.mine:
        query = query.outerjoin(claim, and_(claim.target_id == RequestTarget.id, claim.ended_at.is_(None)))
    if shape.status == "open":
        query = query.where(RequestTarget.status.in_(WORKABLE_STATUSES))
    elif shape.status == "all":
        query = query.where(RequestTarget.status.in_(QUEUE_STATUSES))
    else:
        query = query.where(RequestTarget.status == shape.status)
    if shape.state:
        query = query.where(FinancingRequest.state == bindparam("state"))
    if shape.amount_min:
        query = query.where(FinancingRequest.amount >= bindparam("amount_min"))
    if shape.amount_max:
        query = query.where(FinancingRequest.amount <= bindparam("amount_max"))
    if shape.industry:
        query = query.where(Enterprise.industry_code.like(bindparam("industry"), escape="/"))
    if shape.region:
        query = query.where(Enterprise.region_code.like(bindparam("region"), escape="/"))
    if shape.classification:
        query = query.where(FinancingRequest.classification == bindparam("classification"))
    if shape.sla == "breached":
        query = query.where(or_(FinancingRequest.stuck, FinancingRequest.sla_due_at <= now))
    elif shape.sla == "due_soon":
        query = query.where(~FinancingRequest.stuck, FinancingRequest.sla_due_at > now,
                            FinancingRequest.sla_due_at <= bindparam("due_soon_until"))
    elif shape.sla == "due_today":
        query = query.where(~FinancingRequest.stuck, FinancingRequest.sla_due_at > now,
                            FinancingRequest.sla_due_at <= bindparam("end_of_today"))
    elif shape.sla == "on_time":
        query = query.where(~FinancingRequest.stuck, FinancingRequest.sla_due_at > bindparam("due_soon_until"))
    if shape.mine:
        query = query.where(claim.user_id == bindparam("user_id"))
    return query


@lru_cache(maxsize=1024)
def _rows_statement(shape: Shape, sort: str, descending: bool, keyset: bool, size: int) -> Select:
    """The rows of one page: `size` + 1 of them (the extra one says whether a next page exists),
    after the bound cursor (after_value, after_id) when `keyset`."""
    sort_column = _sort_column(sort)
    open_claim, claimer = _aliases()
    query = (_filtered(shape).with_only_columns(*ROW_COLUMNS, open_claim.user_id, claimer.name,
                                                yellow_listed_column(Enterprise.id).label("yellow_listed"),
                                                sort_column.label("sort_value"))
             .outerjoin(claimer, claimer.id == open_claim.user_id))
    if keyset:
        key = tuple_(sort_column, RequestTarget.id)
        after = tuple_(bindparam("after_value", type_=sort_column.type), bindparam("after_id", type_=Integer))
        query = query.where(key < after if descending else key > after)
    order = ((sort_column.desc(), RequestTarget.id.desc()) if descending
             else (sort_column.asc(), RequestTarget.id.asc()))
    # the limit is written into the SQL, not bound: PostgreSQL can then keep one generic plan for
    # the prepared statement (with LIMIT $n it plans every call afresh, 0.6 ms, lest its generic
    # plan read the whole queue)
    return query.order_by(*order).limit(literal_column(str(int(size) + 1)))


@lru_cache(maxsize=256)
def _counts_statement(shape: Shape) -> Select:
    return (_filtered(shape, rows=False).with_only_columns(FinancingRequest.state, func.count())
            .group_by(FinancingRequest.state))


def page(user, f: Filters, size: int = 20, now: datetime | None = None) -> QueuePage:
    """One page of the user's institution's queue, and the counts per request state."""
    now = now or utcnow()
    values = _values(f, user.organisation_id, user.id, now)
    cursor = decode_cursor(f.after, f.sort) if f.after else None
    if cursor is not None:
        values["after_value"], values["after_id"] = cursor
    statement = _rows_statement(Shape.of(f), f.sort, f.descending, cursor is not None, size)
    # plain columns: run on the session's connection (same transaction, same rows), skipping the
    # ORM's result machinery, a third of the call's cost; flushed first, as the ORM would
    if db.session.autoflush:
        db.session.flush()
    records = db.session.connection().execute(statement, values).all()
    rows = [Row(*record[:-1], sla_state(record.stuck, record.sla_due_at, now)) for record in records[:size]]
    next_cursor = None
    if len(records) > size:
        last = records[size - 1]
        next_cursor = encode_cursor(last[-1], last[1])
    return QueuePage(rows, next_cursor, state_counts(user, f, now))


_counts_cache: TTLCache = TTLCache(maxsize=4096, ttl=30)
_counts_lock = threading.Lock()


def state_counts(user, f: Filters, now: datetime) -> dict[str, int]:
    """Rows per request state under the filters (whatever the state filter says). Counting a
    large queue scans it, so a count is reused for QUEUE_COUNTS_SECONDS (0: always fresh)."""
    ttl = current_app.config.get("QUEUE_COUNTS_SECONDS", 30)
    unpaged = replace(f, state=None, after=None, sort="routed", descending=False)
    key = (user.organisation_id, user.id if f.mine else None, unpaged)
    if ttl:
        with _counts_lock:
            cached = _counts_cache.get(key)
        if cached is not None and cached[0] > now - timedelta(seconds=ttl):
            return cached[1]
    statement = _counts_statement(Shape.of(unpaged))
    counts = dict(db.session.execute(statement, _values(unpaged, user.organisation_id, user.id, now)).all())
    if ttl:
        with _counts_lock:
            _counts_cache[key] = (now, counts)
    return counts
