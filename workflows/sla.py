"""How long a financing request may stay in each state, in working days, and who is late when
it stays longer (design.md section 4: "every state has an SLA; a breach marks the request stuck").

The clock of a state starts when the request enters it and runs on working days only
(workflows.working_days). One clock pauses: while a bank waits for the enterprise's answer
(info_requested) the bank's review clock stops, and the enterprise's own clock runs; when the
answer brings the request back to bank_review, the bank's clock resumes with what was left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from workflows.financing import State
from workflows.working_days import WorkingCalendar

S = State

# Working days per state; None: no clock. The numbers are the defaults the configuration
# (SLA_WORKING_DAYS) overrides state by state.
DEFAULT_SLA_DAYS: Mapping[State, float | None] = MappingProxyType({
    S.DRAFT: None,                  # the enterprise's own pace, nothing submitted yet
    S.SUBMITTED: 1,                 # the platform starts the verification (automatic)
    S.VERIFYING: 1,                 # the verification runs (automatic; stuck = a worker is down)
    S.VERIFIED: 1,                  # the platform routes the verified request (automatic)
    S.ROUTED_TO_BANK: 2,            # a bank officer takes the request up
    S.ROUTED_TO_GUARANTOR: 2,       # a guarantor officer takes the request up
    S.RETURNED: None,               # the enterprise may fix and resubmit, or not: its choice
    S.GUARANTOR_REVIEW: 5,          # the guarantor decides
    S.GUARANTEE_OFFERED: 5,         # the enterprise accepts the guarantee offer (or withdraws)
    S.FEE_PENDING: 5,               # the enterprise pays the fee and the guarantor confirms it
    S.GUARANTEED: 1,                # the platform routes the guaranteed request to banks
    S.GUARANTOR_DECLINED: 1,        # the platform asks the next guarantor or returns
    S.BANK_REVIEW: 5,               # the bank decides (paused while info_requested)
    S.INFO_REQUESTED: 5,            # the enterprise answers the bank's questions
    S.OFFER_MADE: 5,                # the enterprise accepts an offer (or withdraws)
    S.OFFER_ACCEPTED: 3,            # the bank disburses
    S.DISBURSED: 3,                 # the bank records the repayment schedule
    S.REPAYING: None,               # lasts the loan's term; overdue repayments are another matter
    S.BANK_DECLINED: 1,             # the platform routes to the next bank or returns
    S.CLOSED: None,
    S.WITHDRAWN: None,
})

ENTERPRISE, BANK, GUARANTOR, PLATFORM = "enterprise", "bank", "guarantor", "platform"

# Who is expected to move the request on in each state: they are told when it is late.
# "platform": an automatic step (a stuck one means an operational problem).
PARTIES: Mapping[State, frozenset[str]] = MappingProxyType({
    S.DRAFT: frozenset({ENTERPRISE}),
    S.SUBMITTED: frozenset({PLATFORM}),
    S.VERIFYING: frozenset({PLATFORM}),
    S.VERIFIED: frozenset({PLATFORM}),
    S.ROUTED_TO_BANK: frozenset({BANK}),
    S.ROUTED_TO_GUARANTOR: frozenset({GUARANTOR}),
    S.RETURNED: frozenset({ENTERPRISE}),
    S.GUARANTOR_REVIEW: frozenset({GUARANTOR}),
    S.GUARANTEE_OFFERED: frozenset({ENTERPRISE}),
    S.FEE_PENDING: frozenset({ENTERPRISE, GUARANTOR}),
    S.GUARANTEED: frozenset({PLATFORM}),
    S.GUARANTOR_DECLINED: frozenset({PLATFORM}),
    S.BANK_REVIEW: frozenset({BANK}),
    S.INFO_REQUESTED: frozenset({ENTERPRISE}),
    S.OFFER_MADE: frozenset({ENTERPRISE}),
    S.OFFER_ACCEPTED: frozenset({BANK}),
    S.DISBURSED: frozenset({BANK}),
    S.REPAYING: frozenset({BANK}),
    S.BANK_DECLINED: frozenset({PLATFORM}),
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
})

# A state that pauses another state's clock -> the paused state.
PAUSES: Mapping[State, State] = MappingProxyType({S.INFO_REQUESTED: S.BANK_REVIEW})


def sla_table(overrides: Mapping[str, float | None] | None = None) -> dict[State, float | None]:
    """The defaults with `overrides` ({state name: working days or None}) applied.

    Raises ValueError for an unknown state or a negative or non-numeric number of days.
    """
    table = dict(DEFAULT_SLA_DAYS)
    for name, days in (overrides or {}).items():
        try:
            state = State(name)
        except ValueError:
            raise ValueError(f"SLA_WORKING_DAYS: unknown state {name!r}") from None
        if days is not None:
            if isinstance(days, bool) or not isinstance(days, int | float) or days < 0:
                raise ValueError(f"SLA_WORKING_DAYS[{name!r}]: {days!r} is not a number of working days >= 0")
        table[state] = days
    return table


def due_at(state: str, entered_at: datetime, calendar: WorkingCalendar,
           sla_days: Mapping[State, float | None] = DEFAULT_SLA_DAYS,
           already_used: timedelta = timedelta(0)) -> datetime | None:
    """When the request entering `state` at `entered_at` becomes late; None: no clock.

    `already_used` is the working time the state's clock ran before a pause (see clock_used):
    the clock resumes at `entered_at` with what is left, and is due at once when nothing is.
    """
    days = sla_days.get(State(state))
    if days is None:
        return None
    left = max(timedelta(days=days) - already_used, timedelta(0))
    return calendar.add_working_time(entered_at, left)


def is_breached(due: datetime | None, now: datetime) -> bool:
    """Late once the due moment has passed (a clock due at 10:00 is still on time at 10:00)."""
    return due is not None and now > due


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: the request entered `state` (from `from_state`) at `at`."""

    state: str
    from_state: str | None
    at: datetime


def clock_used(clock_state: str, timeline: Sequence[Entry], until: datetime,
               calendar: WorkingCalendar) -> timedelta:
    """The working time `clock_state`'s clock has run in its current episode, up to `until`.

    The timeline is in order; each entry lasts until the next one, the last until `until`.
    Walking back from the end, it adds the time of each stay in `clock_state` and skips the
    stays in a state that pauses it, until it reaches the stay in `clock_state` that began the
    episode (one entered from anything but a pausing state). A bank review entered, paused by
    two requests for information and resumed twice counts its three stretches of review.
    """
    if not timeline:
        return timedelta(0)
    clock = State(clock_state)
    pausing = {str(pause) for pause, paused in PAUSES.items() if paused == clock}
    ends = [entry.at for entry in timeline[1:]] + [until]
    used = timedelta(0)
    for entry, end in reversed(list(zip(timeline, ends, strict=True))):
        if entry.state == clock:
            used += max(calendar.working_time_between(entry.at, end), timedelta(0))
            if entry.from_state not in pausing:
                break
        elif entry.state not in pausing:
            break
    return used
