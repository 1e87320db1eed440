"""Wall clock to UTC: ordinary days, DST gaps and overlaps, effective availability and open intervals."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.availability import (
    UTC,
    DayClock,
    boundary_to_utc,
    effective_availability,
    local_to_utc,
    open_intervals,
    range_to_utc,
)
from domain.model import Availability, DateOverride, WeeklyRule
from tests.domain.factories import TUESDAY, WEDNESDAY, every_day, hm, offering, span, utc, weekly

KOLKATA = ZoneInfo("Asia/Kolkata")
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")

LONDON_SPRING = date(2026, 3, 29)  # 01:00 GMT -> 02:00 BST
LONDON_AUTUMN = date(2026, 10, 25)  # 02:00 BST -> 01:00 GMT
NEW_YORK_SPRING = date(2026, 3, 8)  # 02:00 EST -> 03:00 EDT
NEW_YORK_AUTUMN = date(2026, 11, 1)  # 02:00 EDT -> 01:00 EST
LORD_HOWE_AUTUMN = date(2026, 4, 5)  # 02:00 +11 -> 01:30 +10:30
LORD_HOWE_SPRING = date(2026, 10, 4)  # 02:00 +10:30 -> 02:30 +11

TRANSITION_DAYS = [
    (LONDON, LONDON_SPRING),
    (LONDON, LONDON_AUTUMN),
    (NEW_YORK, NEW_YORK_SPRING),
    (NEW_YORK, NEW_YORK_AUTUMN),
    (LORD_HOWE, LORD_HOWE_AUTUMN),
    (LORD_HOWE, LORD_HOWE_SPRING),
    (KOLKATA, date(2026, 3, 29)),
]


def at(year: int, month: int, day: int, clock: str) -> datetime:
    return utc(date(year, month, day), clock)


@pytest.mark.parametrize(
    ("tz", "day", "clock", "expected"),
    [
        # No DST: a plain +05:30 shift, including the next midnight as minute 1440.
        (KOLKATA, TUESDAY, "09:00", at(2026, 3, 3, "03:30")),
        (KOLKATA, TUESDAY, "00:00", at(2026, 3, 2, "18:30")),
        (KOLKATA, TUESDAY, "24:00", at(2026, 3, 3, "18:30")),
        # London spring forward: 01:00-01:59 does not exist.
        (LONDON, LONDON_SPRING, "00:30", at(2026, 3, 29, "00:30")),
        (LONDON, LONDON_SPRING, "01:00", None),
        (LONDON, LONDON_SPRING, "01:30", None),
        (LONDON, LONDON_SPRING, "02:00", at(2026, 3, 29, "01:00")),
        (LONDON, LONDON_SPRING, "24:00", at(2026, 3, 29, "23:00")),
        # London fall back: 01:00-01:59 happens twice; the first occurrence (BST) wins.
        (LONDON, LONDON_AUTUMN, "00:30", at(2026, 10, 24, "23:30")),
        (LONDON, LONDON_AUTUMN, "01:00", at(2026, 10, 25, "00:00")),
        (LONDON, LONDON_AUTUMN, "01:30", at(2026, 10, 25, "00:30")),
        (LONDON, LONDON_AUTUMN, "02:00", at(2026, 10, 25, "02:00")),
        # New York.
        (NEW_YORK, NEW_YORK_SPRING, "01:30", at(2026, 3, 8, "06:30")),
        (NEW_YORK, NEW_YORK_SPRING, "02:00", None),
        (NEW_YORK, NEW_YORK_SPRING, "02:30", None),
        (NEW_YORK, NEW_YORK_SPRING, "03:00", at(2026, 3, 8, "07:00")),
        (NEW_YORK, NEW_YORK_AUTUMN, "01:00", at(2026, 11, 1, "05:00")),
        (NEW_YORK, NEW_YORK_AUTUMN, "01:30", at(2026, 11, 1, "05:30")),
        (NEW_YORK, NEW_YORK_AUTUMN, "02:00", at(2026, 11, 1, "07:00")),
        # Lord Howe shifts by 30 minutes: overlap 01:30-02:00 in April, gap 02:00-02:30 in October.
        (LORD_HOWE, LORD_HOWE_AUTUMN, "01:00", at(2026, 4, 4, "14:00")),
        (LORD_HOWE, LORD_HOWE_AUTUMN, "01:30", at(2026, 4, 4, "14:30")),
        (LORD_HOWE, LORD_HOWE_AUTUMN, "01:45", at(2026, 4, 4, "14:45")),
        (LORD_HOWE, LORD_HOWE_AUTUMN, "02:00", at(2026, 4, 4, "15:30")),
        (LORD_HOWE, LORD_HOWE_SPRING, "01:30", at(2026, 10, 3, "15:00")),
        (LORD_HOWE, LORD_HOWE_SPRING, "02:00", None),
        (LORD_HOWE, LORD_HOWE_SPRING, "02:15", None),
        (LORD_HOWE, LORD_HOWE_SPRING, "02:30", at(2026, 10, 3, "15:30")),
    ],
)
def test_local_to_utc(tz: ZoneInfo, day: date, clock: str, expected: datetime | None) -> None:
    result = local_to_utc(day, hm(clock), tz)
    assert result == expected
    if result is not None:
        assert result.tzinfo is UTC


@pytest.mark.parametrize(("tz", "day"), TRANSITION_DAYS)
def test_existing_times_round_trip_and_nonexistent_ones_are_in_a_gap(tz: ZoneInfo, day: date) -> None:
    for minute in range(1440):
        instant = local_to_utc(day, minute, tz)
        wall = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)
        if instant is None:
            # Nonexistent: fold 0 and fold 1 read the wall time with different offsets, and neither reads back.
            folds = [wall.replace(tzinfo=tz, fold=fold) for fold in (0, 1)]
            assert folds[0].utcoffset() != folds[1].utcoffset()
            assert all(f.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall for f in folds)
        else:
            local = instant.astimezone(tz)
            assert local.replace(tzinfo=None) == wall
            assert local.fold == 0  # the first occurrence


@pytest.mark.parametrize(("tz", "day"), TRANSITION_DAYS)
def test_day_clock_agrees_with_local_to_utc(tz: ZoneInfo, day: date) -> None:
    clock = DayClock(day, tz)
    for minute in range(1441):
        assert clock.to_utc(minute) == local_to_utc(day, minute, tz), minute
    for step in (15, 30):
        expected = [local_to_utc(day, m, tz) for m in range(0, 1440, step)]
        assert list(clock.grid(span("00:00", "24:00"), step)) == [e for e in expected if e is not None]


@pytest.mark.parametrize(
    ("tz", "day", "clock", "expected"),
    [
        (LONDON, LONDON_SPRING, "01:00", at(2026, 3, 29, "01:00")),
        (LONDON, LONDON_SPRING, "01:30", at(2026, 3, 29, "01:00")),
        (LONDON, LONDON_SPRING, "01:59", at(2026, 3, 29, "01:00")),
        (NEW_YORK, NEW_YORK_SPRING, "02:30", at(2026, 3, 8, "07:00")),
        (LORD_HOWE, LORD_HOWE_SPRING, "02:15", at(2026, 10, 3, "15:30")),
        (LONDON, LONDON_AUTUMN, "01:30", at(2026, 10, 25, "00:30")),  # ambiguous: first occurrence
        (KOLKATA, TUESDAY, "10:00", at(2026, 3, 3, "04:30")),
    ],
)
def test_range_endpoint_in_a_gap_moves_to_the_end_of_the_gap(
    tz: ZoneInfo, day: date, clock: str, expected: datetime
) -> None:
    assert boundary_to_utc(day, hm(clock), tz) == expected


@pytest.mark.parametrize(
    ("tz", "day", "start", "end", "expected"),
    [
        (LONDON, LONDON_SPRING, "00:00", "04:00", (at(2026, 3, 29, "00:00"), at(2026, 3, 29, "03:00"))),
        (LONDON, LONDON_SPRING, "01:30", "03:00", (at(2026, 3, 29, "01:00"), at(2026, 3, 29, "02:00"))),
        (LONDON, LONDON_SPRING, "01:00", "02:00", None),  # entirely inside the gap
        (LONDON, LONDON_SPRING, "01:15", "01:45", None),
        (LONDON, LONDON_AUTUMN, "00:00", "04:00", (at(2026, 10, 24, "23:00"), at(2026, 10, 25, "04:00"))),
        (NEW_YORK, NEW_YORK_AUTUMN, "00:00", "03:00", (at(2026, 11, 1, "04:00"), at(2026, 11, 1, "08:00"))),
        (LORD_HOWE, LORD_HOWE_AUTUMN, "01:00", "03:00", (at(2026, 4, 4, "14:00"), at(2026, 4, 4, "16:30"))),
        (LORD_HOWE, LORD_HOWE_SPRING, "01:00", "04:00", (at(2026, 10, 3, "14:30"), at(2026, 10, 3, "17:00"))),
        (KOLKATA, TUESDAY, "00:00", "24:00", (at(2026, 3, 2, "18:30"), at(2026, 3, 3, "18:30"))),
    ],
)
def test_range_to_utc(
    tz: ZoneInfo, day: date, start: str, end: str, expected: tuple[datetime, datetime] | None
) -> None:
    assert range_to_utc(day, span(start, end), tz) == expected


class TestEffectiveAvailability:
    profile = Availability(
        timezone="Asia/Kolkata",
        weekly=(WeeklyRule(1, span("09:00", "12:00")),),
        overrides=(DateOverride(WEDNESDAY),),
    )
    own_rules = (WeeklyRule(2, span("18:00", "20:00")), WeeklyRule(3, span("18:00", "20:00")))

    def test_no_profile_means_no_availability(self) -> None:
        assert effective_availability(offering(), None) is None
        assert (
            effective_availability(offering(use_profile_availability=False, weekly_rules=self.own_rules), None)
            is None
        )

    def test_profile_availability_by_default(self) -> None:
        assert effective_availability(offering(), self.profile) is self.profile

    def test_own_rules_in_the_profile_zone_with_the_profile_overrides(self) -> None:
        own = offering(use_profile_availability=False, weekly_rules=self.own_rules)
        effective = effective_availability(own, self.profile)
        assert effective == Availability("Asia/Kolkata", self.own_rules, self.profile.overrides)
        assert effective.ranges_on(TUESDAY) == ()  # the profile's Tuesday does not leak in
        assert effective.ranges_on(WEDNESDAY) == ()  # the day off still applies
        assert effective.ranges_on(date(2026, 3, 5)) == (span("18:00", "20:00"),)
        assert effective_availability(own, effective) == effective  # idempotent


class TestOpenIntervals:
    def test_ranges_become_utc_intervals(self) -> None:
        availability = weekly("Asia/Kolkata", (1, "09:00", "12:00"), (1, "14:00", "15:00"))
        assert open_intervals(availability, at(2026, 3, 2, "00:00"), at(2026, 3, 5, "00:00")) == [
            (at(2026, 3, 3, "03:30"), at(2026, 3, 3, "06:30")),
            (at(2026, 3, 3, "08:30"), at(2026, 3, 3, "09:30")),
        ]

    def test_clipped_to_the_window_and_local_dates_across_utc_midnight_count(self) -> None:
        # Wednesday 00:00-02:00 in Kolkata is Tuesday 18:30-20:30 UTC.
        availability = weekly("Asia/Kolkata", (2, "00:00", "02:00"))
        assert open_intervals(availability, at(2026, 3, 3, "19:00"), at(2026, 3, 3, "20:00")) == [
            (at(2026, 3, 3, "19:00"), at(2026, 3, 3, "20:00"))
        ]
        assert open_intervals(availability, at(2026, 3, 3, "00:00"), at(2026, 3, 3, "18:30")) == []

    def test_overrides_replace_the_day(self) -> None:
        day_off = weekly("UTC", (1, "09:00", "12:00"), overrides=(DateOverride(TUESDAY),))
        other_hours = weekly(
            "UTC", (1, "09:00", "12:00"), overrides=(DateOverride(TUESDAY, (span("14:00", "15:00"),)),)
        )
        window = (at(2026, 3, 3, "00:00"), at(2026, 3, 4, "00:00"))
        assert open_intervals(day_off, *window) == []
        assert open_intervals(other_hours, *window) == [(at(2026, 3, 3, "14:00"), at(2026, 3, 3, "15:00"))]

    def test_overlapping_and_touching_ranges_merge(self) -> None:
        availability = weekly(
            "UTC", (1, "09:00", "12:00"), (1, "11:00", "13:00"), (1, "20:00", "24:00"), (2, "00:00", "01:00")
        )
        assert open_intervals(availability, at(2026, 3, 3, "00:00"), at(2026, 3, 5, "00:00")) == [
            (at(2026, 3, 3, "09:00"), at(2026, 3, 3, "13:00")),
            (at(2026, 3, 3, "20:00"), at(2026, 3, 4, "01:00")),
        ]

    def test_dst_days_in_absolute_time(self) -> None:
        spring = every_day("Europe/London", "00:00", "04:00")
        assert open_intervals(spring, at(2026, 3, 28, "12:00"), at(2026, 3, 29, "12:00")) == [
            (at(2026, 3, 29, "00:00"), at(2026, 3, 29, "03:00"))  # 3 hours: 01:00-02:00 never happens
        ]
        assert open_intervals(spring, at(2026, 10, 24, "12:00"), at(2026, 10, 25, "12:00")) == [
            (at(2026, 10, 24, "23:00"), at(2026, 10, 25, "04:00"))  # 5 hours: 01:00-02:00 happens twice
        ]

    def test_results_are_utc(self) -> None:
        availability = every_day("America/New_York", "09:00", "10:00")
        kolkata_start = at(2026, 3, 3, "00:00").astimezone(KOLKATA)
        intervals = open_intervals(availability, kolkata_start, kolkata_start + timedelta(days=1))
        assert intervals == [(at(2026, 3, 3, "14:00"), at(2026, 3, 3, "15:00"))]
        assert all(a.tzinfo is UTC and b.tzinfo is UTC for a, b in intervals)
