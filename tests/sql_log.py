"""The SQL statements a piece of a test runs, for tests that hold a page or a service to a
statement count (one listener for them all)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import event

from marketplace.extensions import db


@contextmanager
def statements_run(app=None) -> Iterator[list[str]]:
    """The statements run inside the block, in order, as a list filled as they run; when the block
    ends, the SAVEPOINT bookkeeping of the test's outer transaction is left out. `app`: read the
    session's connection in its context (for a block that only drives the test client)."""
    seen: list[str] = []

    def listener(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    with app.app_context() if app is not None else nullcontext():
        bind = db.session.get_bind()
    event.listen(bind, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(bind, "before_cursor_execute", listener)
        seen[:] = [s for s in seen if "SAVEPOINT" not in s.upper()]
