"""Heavy parsing out of the web process: a pure function run in a child process with a memory
limit (RLIMIT_AS) and a time limit, its result (or its exception) sent back through a pipe.

The main module is imported in each child (multiprocessing's rule): entry points must keep
their work under `if __name__ == "__main__":` (gunicorn's, flask's and pytest's do).

Children are forked from a forkserver that has already imported the parsers (spawned once per
process, without the web process's threads, connections or memory), so a child costs a fork
and the pickling of its result. A child that runs out of memory or time is refused with
ParseLimitExceeded; the web process never holds more than the parsed result.

    parse_upload(parse_statement, data, filename)  # the configured limits, isolated or not
"""

from __future__ import annotations

import multiprocessing
import re
import resource
from collections.abc import Callable
from typing import TypeVar

from flask import current_app

from workflows.tabular import OLE_SIGNATURE, ZIP_SIGNATURE, TableError, TableLimits

T = TypeVar("T")

# Imported by the forkserver once, so that a child starts with the parsers loaded (and, through
# marketplace.pdf_warm, WeasyPrint's fonts: it renders one tiny PDF).
PRELOAD = ["workflows.tabular", "workflows.verification.statements", "workflows.receivables_file",
           "openpyxl", "xlrd", "marketplace.pdf", "weasyprint", "marketplace.pdf_warm"]
_TABLE_TAG = re.compile(rb"<table[\s>]", re.IGNORECASE)  # an HTML table saved as .xls
REFUSAL_ZH = "文件过大或结构异常，无法解析"
REFUSAL_EN = "the file is too large or malformed to be read"


class LimitExceeded(Exception):
    """A child ran out of memory or time, or died; `cause` says which (memory | time | crashed)."""

    def __init__(self, cause: str = "memory") -> None:
        super().__init__(cause)
        self.cause = cause


class ParseLimitExceeded(TableError):
    """The child ran out of memory or time (or died): the file is refused as a whole."""

    def __init__(self, cause: str = "memory") -> None:
        super().__init__(REFUSAL_ZH, REFUSAL_EN)
        self.cause = cause  # memory | time | crashed

    def __reduce__(self):
        return type(self), (self.cause,)


def table_limits(config) -> TableLimits:
    """The upload limits of the configuration (UPLOAD_MAX_*), as the pure parsers take them."""
    defaults = TableLimits()
    return TableLimits(
        max_rows=int(config.get("UPLOAD_MAX_ROWS", defaults.max_rows)),
        max_columns=int(config.get("UPLOAD_MAX_COLUMNS", defaults.max_columns)),
        max_cells=int(config.get("UPLOAD_MAX_CELLS", defaults.max_cells)),
        max_unpacked_bytes=int(config.get("UPLOAD_MAX_UNPACKED_MB", defaults.max_unpacked_bytes // 2**20)) * 2**20,
        max_entry_bytes=int(config.get("UPLOAD_MAX_UNPACKED_MB", defaults.max_entry_bytes // 2**20)) * 2**20,
    )


def parse_upload(function: Callable[..., T], data: bytes, filename: str, **kwargs) -> T:
    """function(data, filename, limits=<configured>, **kwargs), in a limited child process where
    a small file can expand without bound.

    Spreadsheets (XLSX, XLS) and HTML tables over UPLOAD_INLINE_BYTES go to the child. CSV is
    parsed here: it cannot expand (its memory follows its size, and the pre-checks bound its
    lines, line length and cells), and sending 100,000 parsed rows back from a child would
    double the time of a big statement. Everything is parsed here when UPLOAD_PARSE_ISOLATED is
    off. Raises ParseLimitExceeded, or what the function raised."""
    config = current_app.config
    kwargs["limits"] = table_limits(config)
    spreadsheet = data.startswith((ZIP_SIGNATURE, OLE_SIGNATURE))
    html = not spreadsheet and _TABLE_TAG.search(data) is not None
    inline = not spreadsheet and (not html or len(data) <= int(config.get("UPLOAD_INLINE_BYTES", 0)))
    if inline or not config.get("UPLOAD_PARSE_ISOLATED", True):
        return function(data, filename, **kwargs)
    try:
        return run_limited(function, data, filename, memory_mb=int(config["UPLOAD_PARSE_MEMORY_MB"]),
                           seconds=float(config["UPLOAD_PARSE_SECONDS"]), **kwargs)
    except LimitExceeded as exceeded:
        raise ParseLimitExceeded(exceeded.cause) from None


def run_limited(function: Callable[..., T], *args, memory_mb: int, seconds: float, **kwargs) -> T:
    """Run function(*args, **kwargs) (importable by name, arguments picklable) in a child limited
    to `memory_mb` of address space and `seconds`; return its result or re-raise its exception.
    Raises LimitExceeded when the child runs out of memory or time, or dies."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(sender, function, args, kwargs, memory_mb * 2**20, seconds),
                            daemon=True, name="upload-parser")
    child.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise LimitExceeded("time")
        try:
            status, value = receiver.recv()
        except (EOFError, OSError):
            raise LimitExceeded("crashed") from None
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
    if status == "ok":
        return value
    if status == "memory":
        raise LimitExceeded("memory")
    raise value


def _child(sender, function, args, kwargs, memory_bytes: int, seconds: float) -> None:
    """In the child: set the limits, run, send ("ok", result), ("memory", None) or ("error", exc)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    cpu = int(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    try:
        try:
            message = ("ok", function(*args, **kwargs))
        except MemoryError:
            message = ("memory", None)
        except Exception as exc:  # noqa: BLE001  (handed to the parent, which re-raises it)
            message = ("error", exc)
        sender.send(message)
    except MemoryError:
        sender.send(("memory", None))
    finally:
        sender.close()
