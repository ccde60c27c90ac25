"""SLA rules (workflows.sla): the default table, due moments in working days, the paused clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from workflows.financing import TERMINAL_STATES, State
from workflows.sla import (
    DEFAULT_SLA_DAYS,
    PARTIES,
    Entry,
    clock_used,
    due_at,
    is_breached,
    sla_table,
)
from workflows.working_days import WorkingCalendar

CAL = WorkingCalendar()


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_every_state_has_an_sla_entry_and_its_parties():
    assert set(DEFAULT_SLA_DAYS) == set(State) == set(PARTIES)
    for state in TERMINAL_STATES:
        assert DEFAULT_SLA_DAYS[state] is None
    assert DEFAULT_SLA_DAYS[State.BANK_REVIEW] == 5
    assert DEFAULT_SLA_DAYS[State.RETURNED] is None


def test_overrides_replace_the_defaults_state_by_state():
    table = sla_table({"bank_review": 3, "returned": 10, "offer_made": None})
    assert table[State.BANK_REVIEW] == 3 and table[State.RETURNED] == 10
    assert table[State.OFFER_MADE] is None and table[State.GUARANTOR_REVIEW] == 5


@pytest.mark.parametrize("overrides", [{"bank_reveiw": 3}, {"bank_review": -1}, {"bank_review": "5"},
                                       {"bank_review": True}])
def test_bad_overrides_are_refused(overrides):
    with pytest.raises(ValueError, match="SLA_WORKING_DAYS"):
        sla_table(overrides)


def test_due_at_counts_working_days_across_national_day():
    # bank review entered Wednesday 30 September 2026, 10:00: 5 working days are 8, 9, 10 (a
    # make-up Saturday), 12 and 13 October
    assert due_at("bank_review", dt("2026-09-30 10:00"), CAL) == dt("2026-10-13 10:00")
    assert due_at("returned", dt("2026-09-30 10:00"), CAL) is None
    assert due_at("closed", dt("2026-09-30 10:00"), CAL) is None


def test_due_at_resumes_with_what_is_left_and_is_due_at_once_when_nothing_is():
    assert due_at("bank_review", dt("2026-11-23 10:00"), CAL, already_used=timedelta(days=2)) == \
        dt("2026-11-26 10:00")
    assert due_at("bank_review", dt("2026-11-23 10:00"), CAL, already_used=timedelta(days=7)) == \
        dt("2026-11-23 10:00")


def test_breach_is_strictly_after_the_due_moment():
    due = dt("2026-11-23 10:00")
    assert not is_breached(due, due)
    assert is_breached(due, due + timedelta(seconds=1))
    assert not is_breached(None, due)


def test_clock_used_adds_every_stretch_of_review_in_the_episode():
    timeline = [
        Entry("routed_to_bank", "verified", dt("2026-11-02 09:00")),
        Entry("bank_review", "routed_to_bank", dt("2026-11-02 10:00")),     # Monday
        Entry("info_requested", "bank_review", dt("2026-11-03 10:00")),     # 1 day of review
        Entry("bank_review", "info_requested", dt("2026-11-09 10:00")),
        Entry("info_requested", "bank_review", dt("2026-11-09 22:00")),     # half a day more
    ]
    assert clock_used("bank_review", timeline, dt("2026-11-20 10:00"), CAL) == timedelta(days=1.5)
    # the same timeline read when the current stay (the last entry) has just begun
    resumed = [*timeline, Entry("bank_review", "info_requested", dt("2026-11-20 10:00"))]
    assert clock_used("bank_review", resumed, dt("2026-11-20 10:00"), CAL) == timedelta(days=1.5)


def test_an_earlier_episode_of_review_does_not_count():
    timeline = [
        Entry("bank_review", "routed_to_bank", dt("2026-11-02 10:00")),
        Entry("bank_declined", "bank_review", dt("2026-11-04 10:00")),
        Entry("routed_to_bank", "bank_declined", dt("2026-11-04 11:00")),
        Entry("bank_review", "routed_to_bank", dt("2026-11-05 10:00")),
        Entry("info_requested", "bank_review", dt("2026-11-06 10:00")),
    ]
    assert clock_used("bank_review", timeline, dt("2026-11-10 10:00"), CAL) == timedelta(days=1)
