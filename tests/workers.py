"""Real Celery worker processes in tests: started in their own process group, stopped whole."""

from __future__ import annotations

import os
import signal
import subprocess


def stop_worker(worker: subprocess.Popen) -> None:
    """SIGTERM to the worker's process group (a warm shutdown), SIGKILL after 15 s."""
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
