"""Start-up and exit costs kept off every process (issue 15): the cyclic garbage collector paused
while the app is built, and kept off the heap at exit.

Building the app allocates ~270,000 objects (modules, classes, mapped tables, rules) that live as
long as the process. With the collector on, its passes over them while they are being made cost
about a fifth of create_app() and free almost nothing; at exit the interpreter's last collections
walk and free them all, another third of a short command's CPU, for memory the system takes back
anyway (docs/performance.md, "Start-up").
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off; it is back as it was afterwards, and what the
    block made has joined the oldest generation: the next collection would otherwise walk all of
    it as young objects (a tenth of create_app()) only to promote them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():  # nothing frozen by someone else that unfreeze() would thaw
            gc.freeze()
            gc.unfreeze()  # every tracked object to the oldest generation, without a pass over them
        if was_enabled:
            gc.enable()


@cache  # registered once per process, however many apps it builds (the tests build dozens)
def no_collection_at_exit() -> None:
    """At exit, freeze what is alive rather than let the final collections free it object by object
    (the gc.freeze() trick of forking servers, applied once, at the end). Module globals are still
    cleared, so what they alone hold is still freed and flushed; only reference cycles are left to
    the system, which takes the memory back anyway."""
    atexit.register(gc.freeze)
