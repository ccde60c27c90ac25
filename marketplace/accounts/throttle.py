"""Counting failures (not requests) in the rate limiter's storage, for back-off.

A login is slowed per (account, client address) pair: after a few wrong passwords from one
address, that address waits before it may try the account again, while the owner signing in
from another address is not refused (a per-account limit that also refuses the right password
lets anyone lock staff out). The second factor is limited per account: whoever reaches it already
knows the password. A success clears the counters of its key.
"""

from __future__ import annotations

import time

from flask import current_app
from limits import parse_many

from marketplace.extensions import limiter


def _limits(config_key: str):
    return parse_many(current_app.config[config_key])


def _active() -> bool:
    return bool(limiter.enabled and limiter.initialized)


def retry_after(config_key: str, *key: str) -> int | None:
    """Seconds to wait if the failures counted under `key` reached a limit, else None."""
    if not _active():
        return None
    for item in _limits(config_key):
        if not limiter.limiter.test(item, config_key, *key):
            reset_at = limiter.limiter.get_window_stats(item, config_key, *key).reset_time
            return max(1, int(reset_at - time.time()) + 1)
    return None


def count_failure(config_key: str, *key: str) -> None:
    if _active():
        for item in _limits(config_key):
            limiter.limiter.hit(item, config_key, *key)


def forget(config_key: str, *key: str) -> None:
    if _active():
        for item in _limits(config_key):
            limiter.limiter.clear(item, config_key, *key)
