"""What the desks' decisions and the guarantors' share, one floor below both: the refusal a
decision raises and the configured decline reasons (desks/decisions.py and
guarantees/services.py import them from here, not from each other)."""

from __future__ import annotations

from flask import current_app


class DecisionRefused(ValueError):
    """The decision cannot be made; the message says why (in the user's language)."""


class DecisionConflict(DecisionRefused):
    """The decision was made from a page that is out of date: someone else acted first (409)."""


def decline_reasons() -> dict[str, tuple[str, str]]:
    return {code: tuple(labels) for code, labels in current_app.config["DECLINE_REASONS"].items()}
