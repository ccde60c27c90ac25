"""The regional dashboard's figures, computed in SQL for a bureau and a date range.
(Interface fixed by the lead; the body is being written.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from marketplace.accounts.models import Organisation

FUNNEL_STAGES = ("posted", "verified", "routed", "offered", "financed")
CLASSES = ("excellent", "mixed", "poor")


@dataclass(frozen=True)
class Stage:
    stage: str  # one of FUNNEL_STAGES
    count: int
    amount: Decimal  # yuan (shown in 万元)


@dataclass(frozen=True)
class Turnaround:
    state: str
    institution_id: int | None  # None: the enterprise, the platform or the system moved it on
    institution_name: str
    count: int
    median_hours: float
    p90_hours: float


@dataclass(frozen=True)
class InstitutionPerformance:
    institution_id: int
    name: str
    kind: str  # bank | guarantor
    routed: int
    offered: int
    declined: int
    financed: int
    financed_amount: Decimal


@dataclass(frozen=True)
class DashboardFigures:
    start: date
    end: date  # inclusive
    funnel: list[Stage] = field(default_factory=list)
    classification_mix: dict[str, tuple[int, Decimal]] = field(default_factory=dict)  # class -> (count, amount)
    turnaround: list[Turnaround] = field(default_factory=list)
    decline_reasons: list[tuple[str, int]] = field(default_factory=list)  # (reason code, count), most first
    financed_by_month: list[tuple[str, int, Decimal]] = field(default_factory=list)  # ("2026-07", count, amount)
    institutions: list[InstitutionPerformance] = field(default_factory=list)


def figures(bureau: Organisation, start: date, end: date) -> DashboardFigures:
    """The figures of the bureau's region for requests posted (submitted) from start to end."""
    return DashboardFigures(start=start, end=end)
