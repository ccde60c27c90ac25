"""Declarative base with a naming convention, and the column types money and time need."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from select import POLLIN, POLLPRI, poll

from sqlalchemy import DateTime, MetaData, Numeric, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Money(TypeDecorator):
    """Yuan with 2 decimals, always Decimal in Python (never float)."""

    impl = Numeric(18, 2)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return Decimal(value).quantize(Decimal("0.01"))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(value).quantize(Decimal("0.01"))


class UTCDateTime(TypeDecorator):
    """Stores UTC; returns aware datetimes on every backend (SQLite returns naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def sql_values(values) -> str:
    """'a', 'b', 'c': the literal list a CHECK constraint's IN (...) takes (values are our own codes)."""
    return ", ".join(f"'{value}'" for value in values)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | str) -> datetime:
    """An aware UTC moment from what a raw query returns: SQLite hands aggregates and selected
    columns outside a mapped type back naive (or as ISO text), meaning UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _server_spoke(dbapi_connection) -> bool:
    """Whether the server sent something on an idle connection: between transactions it sends
    nothing unless it is ending the session (a terminated backend, a restart or failover, an
    idle-session timeout: an error message and the socket closed), so a readable socket means a
    connection to replace. A zero-timeout poll(), a few microseconds. A driver without a socket
    (SQLite) never has anything to say."""
    try:
        descriptor = dbapi_connection.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    poller = poll()
    poller.register(descriptor, POLLIN | POLLPRI)
    return bool(poller.poll(0))


def ping_after_idle(engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it sat idle in the pool for more than
    `idle_seconds`, or when the server sent something on it meanwhile, instead of on every
    checkout as `pool_pre_ping` does (a round trip, about 0.1 ms of each side's CPU, on every
    request). A connection used a moment ago on which the server said nothing is as alive as a
    ping would prove it; one the server closed (a terminated backend, a restart or failover)
    has the server's goodbye waiting on its socket, which a zero-timeout poll sees. A dead one
    fails the ping: the pool then discards it and every connection older than it, and hands out
    a new one, as pre-ping does. A brand-new connection is not pinged. `idle_seconds` 0 pings
    on every checkout. Left uncaught: a connection that died in the last `idle_seconds` without
    a word from the server (a network path cut silently); its statement fails once."""
    import time

    from sqlalchemy import event, exc

    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        if dbapi_connection is not None:
            record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        checked_in_at = record.info.get("checked_in_at")  # none yet: connected just now
        if checked_in_at is None:
            return
        if time.monotonic() - checked_in_at <= idle_seconds and not _server_spoke(dbapi_connection):
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError(f"ping before use failed: {error}") from error
            raise
