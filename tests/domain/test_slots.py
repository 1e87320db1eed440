"""The slot engine, case by case: grid, notice, window, buffers, daily limits, overrides, zones and DST days."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.availability import UTC, local_to_utc
from domain.model import Availability, BookingStatus, DateOverride, OfferingStatus, WeeklyRule
from domain.slots import booking_window, free_dates, generate_slots, is_bookable, slot_step_minutes, slots_on
from tests.domain.factories import (
    MONDAY,
    NOW,
    OTHER_OFFERING_ID,
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

TUESDAY_RULE = (1, "09:00", "12:00")


def tuesday_slots(availability: Availability | None = None, busy=(), **changes: object) -> list[str]:
    """UTC clock times of Tuesday's slots for an offering built with ``changes``."""
    slots = generate_slots(
        offering(**changes),
        availability or weekly("UTC", TUESDAY_RULE),
        list(busy),
        NOW,
        start=utc(TUESDAY, "00:00"),
        end=utc(WEDNESDAY, "00:00"),
    )
    return clock_times(slots)


# --- the grid -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("duration", "step"), [(15, 15), (30, 30), (45, 30), (60, 30), (90, 30)])
def test_slot_step(duration: int, step: int) -> None:
    assert slot_step_minutes(duration) == step


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (
            15,
            [
                "09:00",
                "09:15",
                "09:30",
                "09:45",
                "10:00",
                "10:15",
                "10:30",
                "10:45",
                "11:00",
                "11:15",
                "11:30",
                "11:45",
            ],
        ),
        (30, ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]),
        (45, ["09:00", "09:30", "10:00", "10:30", "11:00"]),
        (60, ["09:00", "09:30", "10:00", "10:30", "11:00"]),
        (90, ["09:00", "09:30", "10:00", "10:30"]),
    ],
)
def test_grid_inside_a_range(duration: int, expected: list[str]) -> None:
    assert tuesday_slots(duration_minutes=duration) == expected


@pytest.mark.parametrize(
    ("start", "end", "duration", "expected"),
    [
        ("09:10", "11:00", 60, ["09:30", "10:00"]),  # the grid is anchored at midnight, not at the range start
        ("09:10", "11:00", 15, ["09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45"]),
        ("09:00", "10:00", 60, ["09:00"]),  # exactly one session long
        ("09:00", "09:59", 60, []),  # too short
        ("09:00", "09:45", 60, []),
        ("09:00", "09:14", 15, []),
        ("23:00", "24:00", 60, ["23:00"]),  # a range may end at midnight
        ("23:30", "24:00", 60, []),  # sessions never run into the next day's ranges
    ],
)
def test_ranges_that_do_not_match_the_grid(start: str, end: str, duration: int, expected: list[str]) -> None:
    assert (
        tuesday_slots(weekly("UTC", (1, start, end), (2, "00:00", "03:00")), duration_minutes=duration) == expected
    )


def test_a_session_never_straddles_two_ranges() -> None:
    availability = weekly("UTC", (1, "09:00", "10:00"), (1, "10:00", "11:00"))
    assert tuesday_slots(availability) == ["09:00", "10:00"]


def test_overlapping_ranges_give_each_start_once() -> None:
    availability = weekly("UTC", (1, "09:00", "11:00"), (1, "09:30", "11:30"))
    assert tuesday_slots(availability) == ["09:00", "09:30", "10:00", "10:30"]


def test_slots_are_sorted_unique_utc() -> None:
    slots = generate_slots(offering(), every_day("Asia/Kolkata", "09:00", "17:00"), [], NOW)
    assert slots == sorted(set(slots))
    assert all(slot.tzinfo is UTC for slot in slots)


def test_no_profile_availability_means_no_slots() -> None:
    assert generate_slots(offering(), None, [], NOW) == []
    assert not is_bookable(offering(), None, [], NOW, utc(TUESDAY, "09:00"))
    assert free_dates(offering(), None, [], NOW, ZoneInfo("UTC")) == []


def test_offering_status_is_ignored() -> None:
    for status in OfferingStatus:
        assert tuesday_slots(status=status) == ["09:00", "09:30", "10:00", "10:30", "11:00"]


# --- notice and the booking window ------------------------------------------------------------------------------


def test_booking_window() -> None:
    assert booking_window(offering(min_notice_hours=24, advance_booking_days=30), NOW) == (
        NOW + timedelta(hours=24),
        NOW + timedelta(days=30),
    )


@pytest.mark.parametrize(
    ("now", "notice", "expected"),
    [
        (NOW, 24, ["08:00", "08:30", "09:00"]),  # earliest = Tuesday 08:00, inclusive
        (NOW + timedelta(minutes=10), 24, ["08:30", "09:00"]),
        (NOW + timedelta(minutes=30), 24, ["08:30", "09:00"]),
        (NOW + timedelta(hours=2), 24, []),
        (NOW, 0, ["07:00", "07:30", "08:00", "08:30", "09:00"]),
        (NOW, 48, []),
    ],
)
def test_minimum_notice(now: datetime, notice: int, expected: list[str]) -> None:
    slots = generate_slots(
        offering(min_notice_hours=notice),
        weekly("UTC", (1, "07:00", "10:00")),
        [],
        now,
        end=utc(WEDNESDAY, "00:00"),
    )
    assert clock_times(slots) == expected


def test_notice_zero_still_excludes_the_past() -> None:
    slots = generate_slots(
        offering(min_notice_hours=0), weekly("UTC", (0, "06:00", "10:00")), [], NOW, end=utc(TUESDAY, "00:00")
    )
    assert clock_times(slots) == ["08:00", "08:30", "09:00"]


def test_advance_booking_limit_is_inclusive() -> None:
    availability = every_day("UTC", "07:00", "10:00")
    slots = generate_slots(offering(advance_booking_days=2), availability, [], NOW)
    assert slots[-1] == NOW + timedelta(days=2)  # Wednesday 08:00 exactly
    assert [s.date() for s in slots] == [TUESDAY] * 3 + [WEDNESDAY] * 3


def test_start_and_end_narrow_but_never_widen_the_window() -> None:
    availability = every_day("UTC", "07:00", "10:00")
    full = generate_slots(offering(advance_booking_days=3), availability, [], NOW)
    narrowed = generate_slots(
        offering(advance_booking_days=3),
        availability,
        [],
        NOW,
        start=utc(TUESDAY, "08:00"),
        end=utc(TUESDAY, "09:00"),
    )
    assert clock_times(narrowed) == ["08:00", "08:30"]  # start inclusive, end exclusive
    wide = generate_slots(
        offering(advance_booking_days=3),
        availability,
        [],
        NOW,
        start=NOW - timedelta(days=5),
        end=NOW + timedelta(days=50),
    )
    assert wide == full
    assert (
        generate_slots(offering(), availability, [], NOW, start=utc(TUESDAY, "10:00"), end=utc(TUESDAY, "09:00"))
        == []
    )


# --- conflicts and buffers --------------------------------------------------------------------------------------


def test_sessions_may_touch_when_there_are_no_buffers() -> None:
    busy = [booking(utc(TUESDAY, "10:00"))]
    assert tuesday_slots(weekly("UTC", (1, "08:00", "13:00")), busy) == [
        "08:00",
        "08:30",
        "09:00",
        "11:00",
        "11:30",
        "12:00",
    ]


@pytest.mark.parametrize(
    ("busy_before", "busy_after", "before", "after", "last_before", "first_after"),
    [
        # A 15-minute offering around a 10:00-11:00 booking; the gap is the larger of the two facing buffers.
        (0, 0, 0, 0, "09:45", "11:00"),
        (0, 0, 15, 15, "09:30", "11:15"),  # our buffers
        (15, 15, 0, 0, "09:30", "11:15"),  # the booking's buffers
        (15, 15, 15, 15, "09:30", "11:15"),  # shared, not added
        (10, 0, 0, 20, "09:15", "11:00"),  # before the booking: max(10, our after 20) = 20
        (20, 0, 0, 10, "09:15", "11:00"),  # max(20, 10) = 20
        (0, 5, 10, 0, "09:45", "11:15"),  # after the booking: max(5, our before 10) = 10
        (0, 30, 5, 0, "09:45", "11:30"),  # max(30, 5) = 30
        (0, 0, 1, 1, "09:30", "11:15"),
    ],
)
def test_buffers_on_both_sides(
    busy_before: int, busy_after: int, before: int, after: int, last_before: str, first_after: str
) -> None:
    busy = [booking(utc(TUESDAY, "10:00"), before=busy_before, after=busy_after, offering_id=OTHER_OFFERING_ID)]
    times = tuesday_slots(
        weekly("UTC", (1, "08:00", "13:00")),
        busy,
        duration_minutes=15,
        buffer_before_minutes=before,
        buffer_after_minutes=after,
    )
    earlier = [t for t in times if t < "10:00"]
    later = [t for t in times if t > "10:00"]
    assert earlier[-1] == last_before
    assert later[0] == first_after
    assert all(hm(t) % 15 == 0 for t in times)
    assert (
        earlier == [t for t in earlier if hm(t) <= hm(last_before)]
        and len(earlier) == (hm(last_before) - hm("08:00")) // 15 + 1
    )
    assert later == [f"{m // 60:02d}:{m % 60:02d}" for m in range(hm(first_after), hm("12:46"), 15)]


def test_a_long_session_is_blocked_by_a_booking_in_its_middle() -> None:
    busy = [booking(utc(TUESDAY, "10:15"), duration=15)]
    assert tuesday_slots(weekly("UTC", (1, "08:00", "13:00")), busy, duration_minutes=90) == [
        "08:00",
        "08:30",
        "10:30",
        "11:00",
        "11:30",
    ]


def test_conflicts_come_from_every_offering_of_the_mentor() -> None:
    mine = [booking(utc(TUESDAY, "10:00"))]
    theirs = [booking(utc(TUESDAY, "10:00"), offering_id=OTHER_OFFERING_ID)]
    assert tuesday_slots(busy=mine) == tuesday_slots(busy=theirs) == ["09:00", "11:00"]


@pytest.mark.parametrize("status", list(BookingStatus))
def test_only_active_bookings_block(status: BookingStatus) -> None:
    busy = [
        booking(utc(TUESDAY, "10:00"), status=status),
        booking(utc(TUESDAY, "13:00"), status=status, mentee_id=2),  # outside the hours, still a session
    ]
    expected = ["09:00", "11:00"] if status.is_active else ["09:00", "09:30", "10:00", "10:30", "11:00"]
    assert tuesday_slots(busy=busy, max_bookings_per_day=3) == expected
    # And only active ones count towards the daily limit.
    assert tuesday_slots(busy=busy, max_bookings_per_day=2) == ([] if status.is_active else expected)


def test_busy_bookings_in_other_zones_compare_as_instants() -> None:
    busy = [booking(utc(TUESDAY, "10:00").astimezone(ZoneInfo("America/New_York")))]
    assert tuesday_slots(busy=busy) == ["09:00", "11:00"]


# --- maximum bookings per day -----------------------------------------------------------------------------------


def test_a_full_day_offers_nothing_and_other_days_are_unaffected() -> None:
    availability = every_day("UTC", "09:00", "12:00")
    busy = [booking(utc(TUESDAY, "09:00"), duration=30), booking(utc(TUESDAY, "11:30"), duration=30)]
    slots = generate_slots(offering(duration_minutes=30, max_bookings_per_day=2), availability, busy, NOW)
    assert TUESDAY not in {s.date() for s in slots}
    assert WEDNESDAY in {s.date() for s in slots}
    one_left = generate_slots(offering(duration_minutes=30, max_bookings_per_day=3), availability, busy, NOW)
    assert clock_times([s for s in one_left if s.date() == TUESDAY]) == ["09:30", "10:00", "10:30", "11:00"]


def test_other_offerings_and_inactive_bookings_do_not_count_towards_the_limit() -> None:
    busy = [
        booking(utc(TUESDAY, "09:00"), offering_id=OTHER_OFFERING_ID),
        booking(utc(TUESDAY, "11:00"), status=BookingStatus.CANCELLED),
        booking(utc(TUESDAY, "11:00"), status=BookingStatus.COMPLETED),
    ]
    assert tuesday_slots(busy=busy, max_bookings_per_day=1) == ["10:00", "10:30", "11:00"]


def test_slots_of_the_same_day_are_not_counted_against_each_other() -> None:
    assert tuesday_slots(max_bookings_per_day=1) == ["09:00", "09:30", "10:00", "10:30", "11:00"]


def test_zero_per_day_offers_nothing() -> None:
    assert tuesday_slots(max_bookings_per_day=0) == []


class TestDailyLimitInTheMentorsZone:
    """A mentor in Kolkata (UTC+05:30): the limit counts bookings per Kolkata date, not per UTC date."""

    kolkata = ZoneInfo("Asia/Kolkata")
    availability = every_day("Asia/Kolkata", "09:00", "17:00")
    limited = offering(max_bookings_per_day=1)

    def kolkata_dates(self, busy) -> set[date]:
        slots = generate_slots(self.limited, self.availability, busy, NOW)
        return {slot.astimezone(self.kolkata).date() for slot in slots}

    def test_a_booking_just_after_local_midnight_fills_the_next_local_day(self) -> None:
        # Tuesday 18:30 UTC is Wednesday 00:00 in Kolkata.
        dates = self.kolkata_dates([booking(utc(TUESDAY, "18:30"), duration=30)])
        assert TUESDAY in dates
        assert WEDNESDAY not in dates

    def test_a_booking_just_before_local_midnight_fills_that_day(self) -> None:
        # Tuesday 18:00 UTC is Tuesday 23:30 in Kolkata.
        dates = self.kolkata_dates([booking(utc(TUESDAY, "18:00"), duration=30)])
        assert TUESDAY not in dates
        assert WEDNESDAY in dates

    def test_is_bookable_counts_the_same_way(self) -> None:
        # Wednesday 18:30 UTC is Thursday 00:00 in Kolkata.
        busy = [booking(utc(WEDNESDAY, "18:30"), duration=30)]
        wednesday_morning = datetime(2026, 3, 4, 9, 0, tzinfo=self.kolkata)
        thursday_morning = datetime(2026, 3, 5, 9, 0, tzinfo=self.kolkata)
        assert is_bookable(self.limited, self.availability, busy, NOW, wednesday_morning)
        assert not is_bookable(self.limited, self.availability, busy, NOW, thursday_morning)


# --- overrides and the offering's own rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ((), ["09:00", "09:30", "10:00", "10:30", "11:00"]),
        ((DateOverride(TUESDAY),), []),  # day off
        ((DateOverride(TUESDAY, (span("14:00", "15:30"),)),), ["14:00", "14:30"]),  # other hours
        ((DateOverride(WEDNESDAY),), ["09:00", "09:30", "10:00", "10:30", "11:00"]),  # another day
        ((DateOverride(TUESDAY, (span("08:00", "09:00"), span("16:00", "17:00"))),), ["08:00", "16:00"]),
    ],
)
def test_date_overrides(overrides: tuple[DateOverride, ...], expected: list[str]) -> None:
    assert tuesday_slots(weekly("UTC", TUESDAY_RULE, overrides=overrides)) == expected


def test_an_override_can_open_a_day_without_weekly_rules() -> None:
    availability = weekly("UTC", overrides=(DateOverride(TUESDAY, (span("13:00", "14:00"),)),))
    assert tuesday_slots(availability) == ["13:00"]


class TestOwnWeeklyRules:
    own_rules = (WeeklyRule(1, span("18:00", "20:00")),)

    def test_own_rules_replace_the_profile_rules(self) -> None:
        times = tuesday_slots(
            weekly("UTC", TUESDAY_RULE), use_profile_availability=False, weekly_rules=self.own_rules
        )
        assert times == ["18:00", "18:30", "19:00"]

    def test_profile_rules_apply_when_asked(self) -> None:
        times = tuesday_slots(
            weekly("UTC", TUESDAY_RULE), use_profile_availability=True, weekly_rules=self.own_rules
        )
        assert times == ["09:00", "09:30", "10:00", "10:30", "11:00"]

    def test_profile_day_off_still_applies(self) -> None:
        profile = weekly("UTC", TUESDAY_RULE, overrides=(DateOverride(TUESDAY),))
        assert tuesday_slots(profile, use_profile_availability=False, weekly_rules=self.own_rules) == []

    def test_own_rules_are_read_in_the_profile_zone(self) -> None:
        profile = weekly("Asia/Kolkata", TUESDAY_RULE)
        times = tuesday_slots(profile, use_profile_availability=False, weekly_rules=self.own_rules)
        assert times == ["12:30", "13:00", "13:30"]  # 18:00-20:00 IST

    def test_no_own_rules_means_no_slots(self) -> None:
        assert tuesday_slots(weekly("UTC", TUESDAY_RULE), use_profile_availability=False, weekly_rules=()) == []


# --- viewing in another zone ------------------------------------------------------------------------------------


def test_free_dates_and_slots_on_use_the_viewers_zone() -> None:
    # Wednesday 00:00-02:00 in Kolkata is Tuesday 18:30-20:30 UTC.
    availability = weekly("Asia/Kolkata", (2, "00:00", "02:00"))
    kolkata, london = ZoneInfo("Asia/Kolkata"), ZoneInfo("Europe/London")
    assert free_dates(offering(), availability, [], NOW, kolkata)[:2] == [WEDNESDAY, date(2026, 3, 11)]
    assert free_dates(offering(), availability, [], NOW, london)[:2] == [TUESDAY, date(2026, 3, 10)]
    on_tuesday = slots_on(offering(), availability, [], NOW, TUESDAY, london)
    assert clock_times(on_tuesday) == ["18:30", "19:00", "19:30"]
    assert slots_on(offering(), availability, [], NOW, TUESDAY, kolkata) == []
    assert slots_on(offering(), availability, [], NOW, WEDNESDAY, kolkata) == on_tuesday


def test_slots_on_and_free_dates_cover_exactly_the_slots() -> None:
    availability = every_day("America/New_York", "07:00", "10:00")
    viewer = ZoneInfo("Asia/Tokyo")
    slots = generate_slots(offering(), availability, [], NOW)
    days = free_dates(offering(), availability, [], NOW, viewer)
    assert [s for day in days for s in slots_on(offering(), availability, [], NOW, day, viewer)] == slots
    assert slots_on(offering(), availability, [], NOW, MONDAY, viewer) == []


# --- is_bookable ------------------------------------------------------------------------------------------------


class TestIsBookable:
    availability = weekly("UTC", TUESDAY_RULE)
    busy = (booking(utc(TUESDAY, "10:00")),)

    def check(self, start: datetime, **changes: object) -> bool:
        return is_bookable(offering(**changes), self.availability, self.busy, NOW, start)

    def test_every_generated_slot_is_bookable(self) -> None:
        for slot in generate_slots(offering(), self.availability, self.busy, NOW):
            assert self.check(slot)

    @pytest.mark.parametrize(
        "start",
        [
            utc(TUESDAY, "09:15"),  # off the 30-minute grid
            utc(TUESDAY, "09:00") + timedelta(seconds=1),
            utc(TUESDAY, "09:30"),  # would overlap the booking
            utc(TUESDAY, "11:30"),  # would run past the range
            utc(TUESDAY, "08:30"),  # before the range
            utc(TUESDAY, "09:00") + timedelta(days=7 * 5),  # past the booking window
            utc(TUESDAY, "09:00").replace(tzinfo=None),  # naive
        ],
    )
    def test_rejections(self, start: datetime) -> None:
        assert not self.check(start)

    def test_accepts_the_same_instant_in_any_zone(self) -> None:
        assert self.check(utc(TUESDAY, "09:00").astimezone(ZoneInfo("Pacific/Auckland")))

    def test_ambiguous_local_times_in_any_zone(self) -> None:
        # London 01:30 on 2026-10-25 happens twice; only the first occurrence (00:30 UTC) is a slot.
        london = ZoneInfo("Europe/London")
        availability = weekly("UTC", overrides=(DateOverride(date(2026, 10, 25), (span("00:00", "03:00"),)),))
        now = datetime(2026, 10, 20, tzinfo=UTC)
        first = datetime(2026, 10, 25, 1, 30, tzinfo=london)
        second = first.replace(fold=1)
        assert is_bookable(offering(), availability, [], now, first)
        assert is_bookable(offering(), availability, [], now, second)  # 01:30 UTC is on the mentor's UTC grid
        mentor_in_london = weekly("Europe/London", overrides=availability.overrides)
        assert is_bookable(offering(), mentor_in_london, [], now, first)
        assert not is_bookable(offering(), mentor_in_london, [], now, second)

    def test_too_soon(self) -> None:
        assert not self.check(utc(TUESDAY, "09:00"), min_notice_hours=26)

    def test_full_day(self) -> None:
        assert not self.check(utc(TUESDAY, "09:00"), max_bookings_per_day=1)
        assert self.check(utc(TUESDAY, "09:00"), max_bookings_per_day=2)

    def test_fifteen_minute_grid(self) -> None:
        assert self.check(utc(TUESDAY, "09:15"), duration_minutes=15)
        assert not self.check(utc(TUESDAY, "09:10"), duration_minutes=15)


# --- zones and DST ----------------------------------------------------------------------------------------------


def dst_slots(zone: str, day: date, start: str, end: str, duration: int = 60) -> list[datetime]:
    """The slots of one local day whose only range is ``start``-``end``, seen from a few days before."""
    availability = weekly(zone, overrides=(DateOverride(day, (span(start, end),)),))
    now = utc(day, "00:00") - timedelta(days=5)
    return generate_slots(offering(duration_minutes=duration), availability, [], now)


def at(year: int, month: int, day: int, clock: str) -> datetime:
    return utc(date(year, month, day), clock)


@pytest.mark.parametrize(
    ("zone", "day", "start", "end", "duration", "expected"),
    [
        pytest.param(
            "Europe/London", date(2026, 3, 29), "00:00", "04:00", 60,
            [at(2026, 3, 29, t) for t in ("00:00", "00:30", "01:00", "01:30", "02:00")],
            id="london-gap",
        ),
        pytest.param(
            "Europe/London", date(2026, 10, 25), "00:00", "04:00", 60,
            [at(2026, 10, 24, "23:00"), at(2026, 10, 24, "23:30")]
            + [at(2026, 10, 25, t) for t in ("00:00", "00:30", "02:00", "02:30", "03:00")],
            id="london-overlap",
        ),
        pytest.param(
            "America/New_York", date(2026, 3, 8), "00:00", "05:00", 60,
            [at(2026, 3, 8, t) for t in ("05:00", "05:30", "06:00", "06:30", "07:00", "07:30", "08:00")],
            id="new-york-gap",
        ),
        pytest.param(
            "America/New_York", date(2026, 11, 1), "00:00", "03:00", 60,
            [at(2026, 11, 1, t) for t in ("04:00", "04:30", "05:00", "05:30", "07:00")],
            id="new-york-overlap",
        ),
        pytest.param(
            "Australia/Lord_Howe", date(2026, 4, 5), "01:00", "03:00", 30,
            [at(2026, 4, 4, t) for t in ("14:00", "14:30", "15:30", "16:00")],
            id="lord-howe-overlap",
        ),
        pytest.param(
            "Australia/Lord_Howe", date(2026, 4, 5), "01:00", "03:00", 15,
            [at(2026, 4, 4, t) for t in ("14:00", "14:15", "14:30", "14:45", "15:30", "15:45", "16:00", "16:15")],
            id="lord-howe-overlap-15",
        ),
        pytest.param(
            "Australia/Lord_Howe", date(2026, 10, 4), "01:00", "04:00", 60,
            [at(2026, 10, 3, t) for t in ("14:30", "15:00", "15:30", "16:00")],
            id="lord-howe-gap",
        ),
        pytest.param(
            "Australia/Lord_Howe", date(2026, 10, 4), "02:00", "03:00", 15,
            [at(2026, 10, 3, t) for t in ("15:30", "15:45")],
            id="lord-howe-range-starts-in-gap",
        ),
        pytest.param(
            "Europe/London", date(2026, 3, 29), "01:00", "02:00", 15, [], id="london-range-inside-gap",
        ),
    ],
)  # fmt: skip
def test_dst_days(zone: str, day: date, start: str, end: str, duration: int, expected: list[datetime]) -> None:
    slots = dst_slots(zone, day, start, end, duration)
    assert slots == expected
    tz = ZoneInfo(zone)
    walls = [slot.astimezone(tz).replace(tzinfo=None) for slot in slots]
    assert len(set(walls)) == len(walls)  # ambiguous wall times appear once
    for slot in slots:
        local = slot.astimezone(tz)
        assert local.fold == 0  # the first occurrence
        assert local_to_utc(local.date(), local.hour * 60 + local.minute, tz) == slot  # an existing time
        assert (local.hour * 60 + local.minute) % slot_step_minutes(duration) == 0


def test_dst_session_lengths_are_absolute() -> None:
    # London 00:30 on the spring-forward day: the session ends at 02:30 BST, one real hour later.
    london = ZoneInfo("Europe/London")
    slot = at(2026, 3, 29, "00:30")
    assert slot in dst_slots("Europe/London", date(2026, 3, 29), "00:00", "04:00")
    assert (slot + timedelta(minutes=60)).astimezone(london).strftime("%H:%M") == "02:30"
    # Lord Howe 01:30 on the spring-forward day (+10:30 -> +11 at 02:00): 60 minutes end at 03:00 local.
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    slot = at(2026, 10, 3, "15:00")
    assert slot in dst_slots("Australia/Lord_Howe", date(2026, 10, 4), "01:00", "04:00")
    assert (slot + timedelta(minutes=60)).astimezone(lord_howe).strftime("%H:%M") == "03:00"


@pytest.mark.parametrize("duration", [15, 30, 45, 60, 90])
def test_kolkata_has_the_same_grid_every_day(duration: int) -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    slots = generate_slots(
        offering(duration_minutes=duration, min_notice_hours=0),
        every_day("Asia/Kolkata", "00:00", "24:00"),
        [],
        NOW,
    )
    per_day: dict[date, list[str]] = {}
    for slot in slots:
        per_day.setdefault(slot.astimezone(kolkata).date(), []).append(slot.astimezone(kolkata).strftime("%H:%M"))
    full_days = [times for day, times in per_day.items() if NOW.date() < day < (NOW + timedelta(days=29)).date()]
    step = slot_step_minutes(duration)
    expected = [f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 1440 - duration + 1, step)]
    assert len(full_days) >= 27
    assert all(times == expected for times in full_days)
    assert all(slot.minute in (0, 30) or step == 15 for slot in slots)  # IST is :30 off UTC


def test_all_slots_in_transition_zones_exist_over_a_year() -> None:
    """A whole year of open days in each DST zone: every slot is an existing, first-occurrence wall time."""
    for zone in ("Europe/London", "America/New_York", "Australia/Lord_Howe"):
        tz = ZoneInfo(zone)
        availability = every_day(zone, "00:00", "24:00")
        for month in range(1, 13, 1):
            now = datetime(2026, month, 1, tzinfo=UTC)
            slots = generate_slots(offering(min_notice_hours=0, duration_minutes=30), availability, [], now)
            walls = [s.astimezone(tz) for s in slots]
            assert all(w.fold == 0 and w.minute in (0, 30) for w in walls)
            assert len({w.replace(tzinfo=None) for w in walls}) == len(walls)
            for first, second in itertools.pairwise(slots):
                assert second - first >= timedelta(minutes=30)  # no slot repeats an instant or crowds the grid


def test_free_dates_between_start_and_end() -> None:
    """Narrowed like ``generate_slots``: ``start`` included, ``end`` excluded (``domain.usecases.date_page``)."""
    one_slot = weekly("UTC", (1, "09:00", "10:00"))  # Tuesdays, one slot of the 60-minute offering at 09:00
    args: tuple[Any, ...] = (offering(), one_slot, [], NOW, ZoneInfo("UTC"))
    assert free_dates(*args, start=utc(TUESDAY, "00:00"), end=utc(TUESDAY, "09:00")) == []
    assert free_dates(*args, start=utc(TUESDAY, "09:00"), end=utc(TUESDAY, "09:01")) == [TUESDAY]
    assert free_dates(*args, start=utc(TUESDAY, "09:01"), end=utc(WEDNESDAY, "00:00")) == []
    assert free_dates(*args, start=utc(TUESDAY, "00:00")) == free_dates(*args)[:] != []


def test_free_dates_skip_a_start_that_does_not_count() -> None:
    """A booking being moved: a day whose only free time is its own is no free date, in any viewer's zone."""
    availability = weekly("UTC", (1, "09:00", "10:00"), (2, "09:00", "11:00"))  # Tue: one hour slot; Wed: two
    tuesday_nine = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    for tz in (ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata")):
        every = free_dates(offering(), availability, [], NOW, tz)
        assert every[:2] == [TUESDAY, WEDNESDAY]
        skipped = free_dates(offering(), availability, [], NOW, tz, skip=tuesday_nine)
        assert skipped[:2] == [WEDNESDAY, date(2026, 3, 10)]  # only this Tuesday's one time left out
        wednesday_nine = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
        assert free_dates(offering(), availability, [], NOW, tz, skip=wednesday_nine) == every  # 10:00 is left
