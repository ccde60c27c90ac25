"""The cyclic garbage collector paused around a bounded burst of allocations (issue 15).

A call that allocates thousands of objects sets off a collection every 700 of them. Objects the
call still holds at those moments are moved to older generations, and the objects piled up there
(counted until a full collection) set off a full collection of the whole heap: in a process
holding 100,000 objects or more that is tens of milliseconds, landing in whichever call happens
to allocate next. Paused, the call leaves its objects young; those its caller drops soon after
are freed by their reference counts before they are ever moved. Only for code that makes no
reference cycles worth collecting at once (what it leaves is collected at the next pass).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector off for the block, then as it was (a caller that had paused it finds it
    paused). gc.disable() is process-wide: another thread's block may end the pause early, which
    costs only the collections the pause was saving."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
