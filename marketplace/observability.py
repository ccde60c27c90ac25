"""Structured logs and request ids.

Every web request gets an id: the caller's `X-Request-Id` when it is short and made of safe
characters (a load balancer or proxy that already numbers requests), a fresh one otherwise. It is
echoed in the answer's `X-Request-Id`, set on every log line of the request and carried into each
Celery task the request enqueues (a message header set at publish, restored before the task runs),
and from a task into the tasks it enqueues in turn. Tasks enqueued through the outbox after the
commit are published inside the request, so they carry it too; a message the outbox sweeper sends
later carries the sweeper's.

With LOG_FORMAT = "json" (the production default) every log line is one JSON object:
time (ISO 8601 with the zone), level, logger, message, request_id, and task_id / task_name inside
a Celery task; an exception adds `exc`. Plain text stays the default in development and tests.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import Flask, g, request
from flask.logging import default_handler

REQUEST_ID_HEADER = "X-Request-Id"
# What a caller's id may be: at most 64 characters, letters, digits and . _ : - only (no spaces,
# quotes or control characters that would break a log line or a header).
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
# The Celery message header that carries the id from the publisher to the worker.
TASK_HEADER = "request_id"

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
task_var: ContextVar[tuple[str, str] | None] = ContextVar("celery_task", default=None)

_HANDLER_MARK = "_marketplace_json_handler"
# Chatty at INFO (WeasyPrint logs each step of every PDF): WARNING and above only.
QUIET_LOGGERS = ("weasyprint.progress", "fontTools")


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(value: str | None) -> str | None:
    """The caller's id if it is safe to log and echo, else None."""
    if value and SAFE_REQUEST_ID.match(value):
        return value
    return None


def current_request_id() -> str | None:
    return request_id_var.get()


# ---- log lines ------------------------------------------------------------------------------

class JsonFormatter(logging.Formatter):
    """One JSON object per line; a record's `fields` (a dict passed as extra) is merged in."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        task = task_var.get()
        if task is not None:
            entry["task_id"], entry["task_name"] = task
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_format(config) -> str:
    """"json" or "text": LOG_FORMAT when set, else json in production and text elsewhere."""
    chosen = (config.get("LOG_FORMAT") or "").strip().lower()
    if chosen in ("json", "text"):
        return chosen
    return "json" if config.get("DEPLOYMENT") == "production" else "text"


def install_json_logging(level: str | int = "INFO", stream=None) -> logging.Handler:
    """Make the root logger write JSON lines to `stream` (stderr); once per process."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, _HANDLER_MARK, False)), None)
    if handler is None:
        handler = logging.StreamHandler(stream or sys.stderr)
        setattr(handler, _HANDLER_MARK, True)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def remove_json_logging() -> None:
    """Undo install_json_logging (tests)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)


# ---- the web request ------------------------------------------------------------------------

def _begin_request() -> None:
    request_id = accepted_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
    g.request_id = request_id
    g._request_id_token = request_id_var.set(request_id)


def _echo_request_id(response):
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def _end_request(_exc) -> None:
    token = g.pop("_request_id_token", None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (a streamed answer): just clear it
            request_id_var.set(None)


# ---- Celery ---------------------------------------------------------------------------------

def _add_request_id_header(headers=None, **_kwargs) -> None:
    """before_task_publish: the publishing request's (or task's) id goes with the message."""
    request_id = request_id_var.get()
    if request_id and headers is not None and not headers.get(TASK_HEADER):
        headers[TASK_HEADER] = request_id


def _task_request_id(task) -> str | None:
    context = getattr(task, "request", None)
    if context is None:
        return None
    value = getattr(context, TASK_HEADER, None)
    if not value:
        headers = getattr(context, "headers", None) or {}
        value = headers.get(TASK_HEADER) if isinstance(headers, dict) else None
    return accepted_request_id(value)


_task_tokens: dict[str, tuple] = {}


def _task_started(task_id=None, task=None, **_kwargs) -> None:
    """task_prerun: restore the request id the message carries (an eager task inherits the
    caller's, which is still set) and name the task on its log lines."""
    request_id = _task_request_id(task) or request_id_var.get()
    _task_tokens[task_id] = (request_id_var.set(request_id),
                             task_var.set((task_id, getattr(task, "name", None))))


def _task_finished(task_id=None, **_kwargs) -> None:
    tokens = _task_tokens.pop(task_id, None)
    if tokens is None:
        return
    request_token, task_token = tokens
    for var, token in ((request_id_var, request_token), (task_var, task_token)):
        try:
            var.reset(token)
        except ValueError:
            var.set(None)


def _celery_json_logging(loglevel=None, **_kwargs) -> None:
    """setup_logging: a worker or beat started with LOG_FORMAT json logs JSON lines, not
    Celery's own format (connecting this signal stops Celery configuring logging itself)."""
    install_json_logging(loglevel or "INFO")


_celery_connected = False


def connect_celery(json_logs: bool) -> None:
    from celery import signals

    global _celery_connected
    if not _celery_connected:
        signals.before_task_publish.connect(_add_request_id_header, weak=False)
        signals.task_prerun.connect(_task_started, weak=False)
        signals.task_postrun.connect(_task_finished, weak=False)
        _celery_connected = True
    if json_logs:
        signals.setup_logging.connect(_celery_json_logging, weak=False)


def init_app(app: Flask) -> None:
    """Request ids on every request (first of the before_request hooks, so a request refused by
    a later hook has one too), JSON logs when LOG_FORMAT says so, the Celery signals."""
    json_logs = log_format(app.config) == "json"
    if json_logs:
        install_json_logging(app.config.get("LOG_LEVEL") or "INFO")
        app.logger.removeHandler(default_handler)  # it would print a second, plain line
    app.before_request_funcs.setdefault(None, []).insert(0, _begin_request)
    app.after_request(_echo_request_id)
    # teardown functions run in reverse order: first in the list, so the id is cleared last
    app.teardown_request_funcs.setdefault(None, []).insert(0, _end_request)
    connect_celery(json_logs)
