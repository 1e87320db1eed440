"""The waitlist rules (``domain.waitlist``): which changes free which times, who matches a freed time (any date, or
that date in their own zone), the bounded wave in joining order, one notice per entry and time, and dates that
passed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.booking import transition
from domain.errors import InvalidInput
from domain.model import Actor, BookingStatus
from domain.reschedule import moved, requested, without_request
from domain.waitlist import (
    WAVE,
    WaitlistEntry,
    candidate_days,
    freed_starts,
    new_entry,
    notice_key,
    opened_starts,
    wave,
)
from tests.domain.factories import NOW, booking

S = BookingStatus
H = timedelta(hours=1)
START = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)  # Wed 23:30 UTC = Thu 05:00 in Kolkata, Wed 15:30 in Los Angeles
LATER = START + 24 * H


def entry(n: int, day: date | None, zone: str = "UTC") -> WaitlistEntry:
    return WaitlistEntry(7, 1000 + n, day, zone, NOW, id=n)


def test_which_changes_free_which_times() -> None:
    item = booking(START).with_changes(id=1)
    cancelled, _ = transition(item, S.CANCELLED, Actor.MENTEE, NOW, "ill")
    assert freed_starts(item, cancelled, NOW) == [START]
    assert freed_starts(item, moved(item, LATER, Actor.MENTEE, NOW), NOW) == [START]  # moved away
    asked = requested(item, LATER, NOW)
    assert freed_starts(item, asked, NOW) == []  # asking frees nothing: both times are held
    assert freed_starts(asked, without_request(asked, NOW), NOW) == [LATER]  # the held time, declined
    assert freed_starts(asked, moved(asked, LATER, Actor.MENTEE, NOW), NOW) == [START]  # approved: the old one
    completed = item.with_changes(status=S.COMPLETED)
    assert freed_starts(item, completed, START + H) == []  # over: nothing in the future to hand on
    assert freed_starts(None, item, NOW) == []
    assert freed_starts(cancelled, cancelled, NOW) == []


def test_who_matches_a_freed_time_in_their_own_zone() -> None:
    assert entry(1, None).matches(START)
    assert entry(2, date(2026, 3, 5), "Asia/Kolkata").matches(START)
    assert not entry(3, date(2026, 3, 4), "Asia/Kolkata").matches(START)
    assert entry(4, date(2026, 3, 4), "America/Los_Angeles").matches(START)
    first, last = candidate_days(START)
    assert first <= date(2026, 3, 4) and date(2026, 3, 5) <= last


def test_the_wave_is_the_first_five_in_joining_order() -> None:
    waiting = [entry(n, None if n % 2 else date(2026, 3, 4)) for n in range(1, 20)]
    told = wave(waiting, START, NOW)
    assert [e.id for e in told] == [1, 2, 3, 4, 5] and len(told) == WAVE
    other_day = wave(waiting, LATER, NOW)
    assert [e.id for e in other_day] == [1, 3, 5, 7, 9]  # only the any-date ones match Thursday


def test_a_passed_date_ends_an_entry_and_cannot_be_joined() -> None:
    old = entry(1, date(2026, 3, 1))
    assert old.ended(NOW) and wave([old], START, NOW) == []
    assert not entry(2, None).ended(NOW + 1000 * H)
    with pytest.raises(InvalidInput):
        new_entry(7, 1000, date(2026, 3, 1), "UTC", NOW)
    assert new_entry(7, 1000, NOW.date(), "UTC", NOW).day == NOW.date()


def test_one_notice_per_entry_and_time() -> None:
    assert notice_key(3, START) == notice_key(3, START)
    assert len({notice_key(3, START), notice_key(4, START), notice_key(3, LATER)}) == 3


def test_a_wave_may_be_smaller_to_top_up_one_already_begun() -> None:
    waiting = [entry(n, None) for n in range(1, 9)]
    assert [e.id for e in wave(waiting, START, NOW, 2)] == [1, 2]
    assert [e.id for e in wave(waiting[5:], START, NOW)] == [6, 7, 8]  # fewer left than a wave
    assert wave(waiting, START, NOW, 0) == []


def test_an_edit_of_the_hours_opens_the_times_free_after_it_and_not_before() -> None:
    before = [START, START + H, LATER]
    after = [START + H, LATER + H, START + H / 2, LATER]
    assert opened_starts(before, after) == [START + H / 2, LATER + H]  # in order
    assert opened_starts(after, before) == [START]  # closing some, opening one back
    assert opened_starts(before, before) == [] and opened_starts([], []) == []
