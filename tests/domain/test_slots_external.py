"""External busy intervals (a mentor's other calendars) block slots like bookings without buffers of their own:
the offering's buffers still keep a session apart from them; on DST days and in every helper of the engine."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.discovery import next_free_slot
from domain.model import BusyInterval, DateOverride
from domain.schedule import free_time
from domain.slots import free_dates, generate_slots, is_bookable, slots_on
from tests.domain.factories import (
    NOW,
    TUESDAY,
    WEDNESDAY,
    booking,
    clock_times,
    every_day,
    hm,
    offering,
    span,
    utc,
    weekly,
)

OPEN_8_TO_13 = weekly("UTC", (1, "08:00", "13:00"))


def busy(day: date, start: str, end: str) -> BusyInterval:
    return BusyInterval(utc(day, start), utc(day, end))


def tuesday(external: list[BusyInterval], **changes: object) -> list[str]:
    slots = generate_slots(
        offering(**changes), OPEN_8_TO_13, [], NOW, utc(TUESDAY, "00:00"), utc(WEDNESDAY, "00:00"), external
    )
    return clock_times(slots)


def quarter_hours(first: str, last: str) -> list[str]:
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(hm(first), hm(last) + 1, 15)]


def test_an_external_event_blocks_the_sessions_that_overlap_it() -> None:
    assert tuesday([busy(TUESDAY, "10:00", "11:00")]) == ["08:00", "08:30", "09:00", "11:00", "11:30", "12:00"]
    assert tuesday([]) == [t for t in quarter_hours("08:00", "12:00") if t.endswith(("00", "30"))]


@pytest.mark.parametrize(
    ("before", "after", "last_before", "first_after"),
    [
        (0, 0, "09:45", "11:00"),  # sessions may touch the event
        (15, 0, "09:45", "11:15"),  # our buffer before a session keeps it off the event's end
        (0, 20, "09:15", "11:00"),  # our buffer after a session keeps it off the event's start
        (10, 10, "09:30", "11:15"),
    ],
)
def test_the_offerings_buffers_apply_to_external_events(
    before: int, after: int, last_before: str, first_after: str
) -> None:
    times = tuesday(
        [busy(TUESDAY, "10:00", "11:00")],
        duration_minutes=15,
        buffer_before_minutes=before,
        buffer_after_minutes=after,
    )
    assert times == quarter_hours("08:00", last_before) + quarter_hours(first_after, "12:45")


def test_an_external_event_and_a_booking_block_alike() -> None:
    """A booking without buffers and an external event over the same hour forbid the same starts."""
    buffered = offering(buffer_before_minutes=10, buffer_after_minutes=5)
    as_booking = generate_slots(buffered, OPEN_8_TO_13, [booking(utc(TUESDAY, "10:00"))], NOW)
    as_event = generate_slots(buffered, OPEN_8_TO_13, [], NOW, external=[busy(TUESDAY, "10:00", "11:00")])
    assert as_booking == as_event != generate_slots(offering(), OPEN_8_TO_13, [], NOW)


def test_an_all_day_event_closes_the_day_and_leaves_the_next() -> None:
    availability = every_day("UTC", "09:00", "12:00")
    whole_tuesday = [BusyInterval(utc(TUESDAY, "00:00"), utc(WEDNESDAY, "00:00"))]
    slots = generate_slots(offering(), availability, [], NOW, external=whole_tuesday)
    days = {slot.date() for slot in slots}
    assert TUESDAY not in days and WEDNESDAY in days
    assert free_dates(offering(), availability, [], NOW, ZoneInfo("UTC"), whole_tuesday)[0] == WEDNESDAY


def test_is_bookable_sees_external_events() -> None:
    event = [busy(TUESDAY, "10:00", "11:00")]
    assert is_bookable(offering(), OPEN_8_TO_13, [], NOW, utc(TUESDAY, "09:00"), event)
    assert not is_bookable(offering(), OPEN_8_TO_13, [], NOW, utc(TUESDAY, "09:30"), event)
    assert not is_bookable(offering(buffer_before_minutes=5), OPEN_8_TO_13, [], NOW, utc(TUESDAY, "11:00"), event)
    assert is_bookable(offering(), OPEN_8_TO_13, [], NOW, utc(TUESDAY, "11:00"), event)


def test_slots_on_and_the_next_free_slot_see_external_events() -> None:
    event = [busy(TUESDAY, "08:00", "12:00")]
    assert clock_times(slots_on(offering(), OPEN_8_TO_13, [], NOW, TUESDAY, ZoneInfo("UTC"), event)) == ["12:00"]
    assert next_free_slot(offering(), OPEN_8_TO_13, [], NOW, external=event) == utc(TUESDAY, "12:00")
    assert next_free_slot(offering(), OPEN_8_TO_13, [], NOW) == utc(TUESDAY, "08:00")


def test_the_mentors_next_seven_days_leave_out_external_events() -> None:
    availability = every_day("UTC", "09:00", "12:00")
    days = free_time(availability, [], NOW, external=[busy(TUESDAY, "10:00", "10:30")])
    tuesday_free = next(day for day in days if day.day == TUESDAY)
    morning = (utc(TUESDAY, "09:00"), utc(TUESDAY, "10:00"))
    assert tuesday_free.free == (morning, (utc(TUESDAY, "10:30"), utc(TUESDAY, "12:00")))


def london(day: date, clock: str) -> datetime:
    hours, mins = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, mins, tzinfo=ZoneInfo("Europe/London"))


def test_an_external_event_on_a_dst_day_blocks_by_real_time() -> None:
    """London springs forward on 29 March 2026 at 01:00 UTC: an event from 00:30 to 03:00 local time lasts 1.5
    real hours, and with a 30-minute buffer after each session nothing before 00:00 local may start later than
    the slot whose session plus buffer ends at the event's start."""
    day = date(2026, 3, 29)
    availability = weekly("Europe/London", overrides=(DateOverride(day, (span("00:00", "06:00"),)),))
    event = [BusyInterval(london(day, "00:30"), london(day, "03:00"))]
    now = datetime(2026, 3, 24, tzinfo=ZoneInfo("UTC"))
    without = generate_slots(offering(duration_minutes=30), availability, [], now)
    buffered = offering(duration_minutes=30, buffer_after_minutes=30)
    slots = generate_slots(buffered, availability, [], now, external=event)
    local = [slot.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M") for slot in slots]
    assert "00:00" not in local  # 00:00-00:30 plus 30 minutes after reaches into the event
    assert local[0] == "03:00"  # 01:00-02:00 does not exist; 02:00-03:00 is inside the event
    assert len(without) > len(slots)
    assert all(slot >= event[0].end for slot in slots)
    assert slots[0] - event[0].start == timedelta(hours=1, minutes=30)
