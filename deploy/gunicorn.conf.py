"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Every number comes from the environment with a default that suits a small machine:

    GUNICORN_BIND        0.0.0.0:8000
    GUNICORN_WORKERS     2 x the CPU cores (sync workers measured best here: docs/performance.md)
    GUNICORN_THREADS     1 (more than 1 switches to the gthread worker)
    GUNICORN_TIMEOUT     60 s (a PDF may take PDF_RENDER_SECONDS = 30 s; uploads are parsed in a child)
    GUNICORN_MAX_REQUESTS 2000 requests per worker before it is replaced (0: never), with jitter
    GUNICORN_WARM_PDF    1: each worker warms WeasyPrint after the fork (0: on the first PDF)

The app is loaded once in the master (preload_app), so a missing production setting stops
gunicorn before any worker starts: it prints "Error: Refusing to start in production without
FLASK_..." and exits with status 1. Each worker then warms WeasyPrint and calls gc.freeze(), so
the objects loaded at start-up (the app, its modules, the fonts) are left out of every later
garbage collection pass (the long pauses docs/performance.md measured) and are not written to,
which keeps them shared with the master.

Log lines: with LOG_FORMAT json (FLASK_LOG_FORMAT; the default when FLASK_DEPLOYMENT=production)
the access log and gunicorn's own log are JSON objects, one a line, like the app's
(marketplace/observability.py), each access line with the request id the app answered with.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import signal
from datetime import UTC, datetime

from gunicorn.glogging import Logger


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = max(1, _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1)))
threads = max(1, _int("GUNICORN_THREADS", 1))
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)  # behind a load balancer that reuses connections
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
preload_app = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeats off slow disks
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = os.environ.get("GUNICORN_ERRORLOG", "-")
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
proc_name = "marketplace-web"
WARM_PDF = os.environ.get("GUNICORN_WARM_PDF", "1") not in ("0", "false", "no")


def _json_logs() -> bool:
    from marketplace.observability import log_format

    return log_format({"LOG_FORMAT": os.environ.get("FLASK_LOG_FORMAT"),
                       "DEPLOYMENT": os.environ.get("FLASK_DEPLOYMENT")}) == "json"


class JsonLogger(Logger):
    """gunicorn's logger with JSON lines: its own messages, and one access line a request with
    method, path, status, bytes, duration, client address and the answer's X-Request-Id."""

    def setup(self, cfg):
        super().setup(cfg)
        from marketplace.observability import JsonFormatter

        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.cfg.accesslog:
            return
        headers = dict((name.lower(), value) for name, value in (resp.headers or []))
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        fields = {
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING") or None,
            "status": int(status) if str(status).isdigit() else status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
            "pid": os.getpid(),
        }
        try:
            self.access_log.info("%s %s %s", fields["method"], fields["path"], fields["status"],
                                 extra={"fields": fields, "request_id": headers.get("x-request-id")})
        except Exception:  # noqa: BLE001  (gunicorn's own access() swallows these too)
            self.error_log.exception("access log line failed")

    def now(self):
        return datetime.now(UTC).isoformat(timespec="milliseconds")


if _json_logs():
    logger_class = JsonLogger


def _flask_app(server):
    """The app the master preloaded (wsgi:app), or None."""
    try:
        return server.app.wsgi()
    except Exception:  # noqa: BLE001
        return None


def warm_pdf(app=None) -> bool:
    """Import WeasyPrint and set up its fonts now rather than in the first PDF request:
    marketplace.pdf.warm_up() when it exists. Returns whether something was warmed."""
    pdf = importlib.import_module("marketplace.pdf")
    warm_up = getattr(pdf, "warm_up", None)
    if not callable(warm_up):
        return False
    if app is not None and hasattr(app, "app_context"):
        with app.app_context():
            warm_up()
    else:
        warm_up()
    return True


def when_ready(server):
    """In the master, once the app is preloaded and before any worker is forked: register its views,
    which the app otherwise imports on its first request (marketplace.routing.DeferredViews), so the
    workers share them rather than each importing them while a user waits."""
    app = _flask_app(server)
    if app is not None:
        from marketplace.routing import load_views

        load_views(app)


def post_fork(server, worker):
    """In each worker, after the fork from the preloaded master: warm WeasyPrint, then freeze
    what is alive (the app and the warmed fonts) out of the garbage collector's passes.

    The worker still has the master's SIGCHLD handler here (it resets its signals later): the
    programs WeasyPrint's library look-up runs would be reaped by it and logged as workers that
    "exited with code 1", and their status lost to the code that waits for them."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    if WARM_PDF:
        try:
            warmed = warm_pdf(_flask_app(server))
        except Exception:  # noqa: BLE001  (a worker without warm PDFs still serves; the first PDF pays)
            logging.getLogger("gunicorn.error").exception("post_fork: warming WeasyPrint failed")
            warmed = False
        else:
            if not warmed:
                server.log.debug("post_fork: marketplace.pdf has no warm_up(); PDFs warm on first use")
    from sqlalchemy.orm import configure_mappers

    configure_mappers()  # the mappers are configured on first use otherwise (0.2-0.3 s of the first request)
    gc.freeze()
    server.log.info("worker %s ready: %d objects frozen out of the garbage collector",
                    getattr(worker, "pid", "?"), gc.get_freeze_count())
