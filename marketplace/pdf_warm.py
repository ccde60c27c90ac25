"""Importing this module renders one tiny PDF (marketplace.pdf.warm_up). The isolation forkserver
imports it (marketplace.isolation.PRELOAD): each child it forks to render a PDF then starts with
WeasyPrint's font configuration, font map and CJK face loaded and their caches warm, instead of
making them for every PDF (about 30 ms of CPU a child). A module, because a forkserver's preload is
a list of modules to import.

Pango loads fontconfig in a thread of its own, and glibc gives a new thread a malloc arena that
reserves 64 MB and outlives the thread: made in the forkserver, that reservation would be inherited
by every child and counted against its address-space limit (RLIMIT_AS), the upload parsers'
included (170 MB more; a test child capped at 400 MB would start at its cap). One arena for the
forkserver and its children keeps them at 36 MB more, the fonts and their caches."""

from __future__ import annotations

import ctypes
import logging

from marketplace.pdf import warm_up

M_ARENA_MAX = -8  # glibc's mallopt() parameter


def one_malloc_arena() -> bool:
    """Ask glibc for a single malloc arena in this process (and the children it forks)."""
    try:
        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, 1))
    except (OSError, AttributeError):  # not glibc
        return False


one_malloc_arena()
try:
    warm_up()
except Exception:  # noqa: BLE001  (the forkserver must start all the same; each child then loads the fonts)
    logging.getLogger(__name__).exception("warming WeasyPrint in the forkserver failed")
