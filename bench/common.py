"""What the benchmarks share: a fresh PostgreSQL database of their own, the machine's
description printed with the figures, and timing an action over runs."""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import time
from pathlib import Path


def create_database(server: str, name: str) -> str:
    """Drop and create database `name` on `server` (a SQLAlchemy URL without a database);
    returns its URL."""
    from sqlalchemy import create_engine, text

    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    admin.dispose()
    return f"{server}/{name}"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def timed(action, runs: int, warmup: int = 0) -> list[float]:
    """Seconds each of `runs` calls of `action` took, after `warmup` calls not counted."""
    for _ in range(warmup):
        action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def stop_server(server: subprocess.Popen, grace: float = 45) -> None:
    """Stop a server started in its own session (gunicorn and its workers): SIGTERM to the group,
    then SIGKILL if it is still there after `grace` seconds (gunicorn's graceful timeout is 30 s;
    a master still booting its workers may not answer in time)."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
