"""Seats: a group offering's time stays bookable until its seats are taken (``domain.slots``, rules 5 and 6)."""

from __future__ import annotations

from typing import Any

from domain.model import BookingStatus
from domain.slots import generate_slots, is_bookable, seats_left
from tests.domain.factories import (
    NOW,
    OTHER_OFFERING_ID,
    TUESDAY,
    WEDNESDAY,
    booking,
    clock_times,
    offering,
    utc,
    weekly,
)

HOURS = weekly("UTC", (1, "09:00", "12:00"))  # Tuesday 09:00-12:00 UTC; 60-minute sessions


def attendees(count: int, at: str = "10:00", **changes: Any) -> list:
    return [booking(utc(TUESDAY, at), mentee_id=600 + n, **changes) for n in range(count)]


def tuesday(busy: list, **changes: Any) -> list[str]:
    start, end = utc(TUESDAY, "00:00"), utc(WEDNESDAY, "00:00")
    slots = generate_slots(offering(**changes), HOURS, busy, NOW, start=start, end=end)
    return clock_times(slots)


def test_a_group_time_stays_bookable_until_its_seats_are_taken() -> None:
    group = offering(capacity=3)
    at_ten = utc(TUESDAY, "10:00")
    for taken in range(3):
        busy = attendees(taken)
        assert "10:00" in tuesday(busy, capacity=3)
        assert is_bookable(group, HOURS, busy, NOW, at_ten)
        assert seats_left(group, busy, at_ten) == 3 - taken
    full = attendees(3)
    assert tuesday(full, capacity=3) == ["09:00", "11:00"]  # and its neighbours overlap the session
    assert not is_bookable(group, HOURS, full, NOW, at_ten)
    assert seats_left(group, full, at_ten) == 0


def test_the_neighbouring_starts_of_a_session_stay_blocked() -> None:
    """Only the session's own start is joinable: 09:30 and 10:30 overlap it as before."""
    assert tuesday(attendees(1), capacity=5) == ["09:00", "10:00", "11:00"]


def test_a_one_to_one_offering_has_one_seat() -> None:
    assert tuesday(attendees(1)) == ["09:00", "11:00"]
    assert seats_left(offering(), attendees(1), utc(TUESDAY, "10:00")) == 0


def test_for_the_mentors_other_offerings_one_seat_taken_blocks_the_time() -> None:
    seat = attendees(1, offering_id=OTHER_OFFERING_ID)
    assert tuesday(seat, capacity=5) == ["09:00", "11:00"]
    assert not is_bookable(offering(capacity=5), HOURS, seat, NOW, utc(TUESDAY, "10:00"))


def test_a_session_something_else_overlaps_cannot_be_joined() -> None:
    """A 1:1 booking of another offering over the session (taken before, say) keeps it closed to more people."""
    busy = [*attendees(1), booking(utc(TUESDAY, "10:30"), 30, offering_id=OTHER_OFFERING_ID, mentee_id=700)]
    assert "10:00" not in tuesday(busy, capacity=5)
    assert not is_bookable(offering(capacity=5), HOURS, busy, NOW, utc(TUESDAY, "10:00"))


def test_inactive_bookings_take_no_seat() -> None:
    gone = attendees(3, status=BookingStatus.CANCELLED)
    assert tuesday(gone, capacity=3) == ["09:00", "09:30", "10:00", "10:30", "11:00"]
    assert seats_left(offering(capacity=3), gone, utc(TUESDAY, "10:00")) == 3


def test_the_daily_limit_counts_sessions_not_seats() -> None:
    """Limit 2: a session with two attendees is one session; a second session fills the day, but both sessions
    may still be joined."""
    busy = attendees(2)
    assert tuesday(busy, capacity=5, max_bookings_per_day=2) == ["09:00", "10:00", "11:00"]
    busy += attendees(1, at="11:00")
    assert tuesday(busy, capacity=5, max_bookings_per_day=2) == ["10:00", "11:00"]
    group = offering(capacity=5, max_bookings_per_day=2)
    assert is_bookable(group, HOURS, busy, NOW, utc(TUESDAY, "10:00"))
    assert not is_bookable(group, HOURS, busy, NOW, utc(TUESDAY, "09:00"))


def test_lowering_the_capacity_closes_a_session_and_keeps_its_people() -> None:
    busy = attendees(4)
    assert "10:00" not in tuesday(busy, capacity=3)
    assert seats_left(offering(capacity=3), busy, utc(TUESDAY, "10:00")) == 0
    assert len([b for b in busy if b.status.is_active]) == 4
