"""The schedule workspace's pure rules: typed dates, which dates may carry an exception, vacations, editing one
day of the week, grouping exceptions for a list, and the free time of the coming days (DST included)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from domain.availability import UTC, replace_days
from domain.errors import InvalidInput
from domain.model import BookingStatus, DateOverride, TimeRange, WeeklyRule
from domain.schedule import (
    FreeDay,
    OverrideSpan,
    check_override_date,
    copy_day,
    date_ranges,
    free_time,
    group_overrides,
    local_today,
    parse_date,
    vacation_dates,
)
from tests.domain.factories import booking, every_day, hm, span, utc, weekly

TODAY = date(2026, 11, 24)  # a Tuesday


def refused(error: pytest.ExceptionInfo[InvalidInput]) -> tuple[str, str]:
    return error.value.field, error.value.detail


# --- typed dates --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-12-25", date(2026, 12, 25)),
        (" 2027-1-5 ", date(2027, 1, 5)),
        ("25.12.2026", date(2026, 12, 25)),
        ("25/12/2026", date(2026, 12, 25)),
        ("25 Dec", date(2026, 12, 25)),
        ("25 december", date(2026, 12, 25)),
        ("Dec 25", date(2026, 12, 25)),
        ("25th Dec 2027", date(2027, 12, 25)),
        ("December 25, 2027", date(2027, 12, 25)),
        ("24 Nov", date(2026, 11, 24)),  # today is still this year's
        ("23 Nov", date(2027, 11, 23)),  # yesterday's day and month: next year's
        ("3 jan", date(2027, 1, 3)),
        ("29 Feb", date(2028, 2, 29)),  # the next year that has it
        ("today", TODAY),
        ("Tomorrow", date(2026, 11, 25)),
        ("25 декабря", date(2026, 12, 25)),
        ("25 дек", date(2026, 12, 25)),
        ("3 янв. 2027", date(2027, 1, 3)),
        ("1 Мая", date(2027, 5, 1)),
        ("30 нояб.", date(2026, 11, 30)),
        ("Сегодня", TODAY),
        ("завтра", date(2026, 11, 25)),
    ],
)
def test_typed_dates_are_read(typed: str, expected: date) -> None:
    assert parse_date(typed, TODAY) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "soon",
        "2026-02-30",
        "31.04.2027",
        "32 Dec",
        "25 Foo",
        "Dec",
        "12/25",
        "2026/12/25",
        "1-2-3",
        "25 ма",
        "25 мартобря",
        "послезавтра",
    ],
)
def test_garbage_or_impossible_dates_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_date(typed, TODAY)
    assert refused(error) == ("date", "unreadable")


def test_today_is_the_mentors_date() -> None:
    late_evening_utc = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    assert local_today(late_evening_utc, "Asia/Kolkata") == date(2026, 11, 25)  # 01:30 next day there
    assert local_today(late_evening_utc, "America/New_York") == date(2026, 11, 24)


def test_an_exception_date_is_today_to_a_year_ahead() -> None:
    assert check_override_date(TODAY, TODAY) == TODAY
    assert check_override_date(TODAY + timedelta(days=365), TODAY) == TODAY + timedelta(days=365)
    with pytest.raises(InvalidInput) as error:
        check_override_date(TODAY - timedelta(days=1), TODAY)
    assert refused(error) == ("date", "past")
    with pytest.raises(InvalidInput) as error:
        check_override_date(TODAY + timedelta(days=366), TODAY)
    assert refused(error) == ("date", "too_far")


# --- vacations and other hours ------------------------------------------------------------------------------


def test_a_vacation_is_every_date_from_first_to_last() -> None:
    assert vacation_dates(date(2026, 12, 30), date(2027, 1, 2), TODAY) == [
        date(2026, 12, 30),
        date(2026, 12, 31),
        date(2027, 1, 1),
        date(2027, 1, 2),
    ]
    assert vacation_dates(TODAY, TODAY, TODAY) == [TODAY]
    assert len(vacation_dates(TODAY, TODAY + timedelta(days=59), TODAY)) == 60


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (date(2026, 12, 20), date(2026, 12, 19), ("vacation", "order")),
        (TODAY, TODAY + timedelta(days=60), ("vacation", "too_long")),
        (date(2026, 11, 23), date(2026, 11, 30), ("date", "past")),
    ],
)
def test_bad_vacations_are_refused(first: date, last: date, expected: tuple[str, str]) -> None:
    with pytest.raises(InvalidInput) as error:
        vacation_dates(first, last, TODAY)
    assert refused(error) == expected


def test_other_hours_on_a_date_need_ranges_that_do_not_overlap() -> None:
    assert date_ranges([span("14:00", "16:00"), span("09:00", "10:00"), span("10:00", "11:00")]) == (
        span("09:00", "11:00"),
        span("14:00", "16:00"),
    )
    with pytest.raises(InvalidInput) as error:
        date_ranges([span("09:00", "12:00"), span("11:00", "13:00")])
    assert refused(error) == ("ranges", "overlap")
    with pytest.raises(InvalidInput) as error:
        date_ranges([])
    assert refused(error) == ("ranges", "empty")


# --- the week, day by day -----------------------------------------------------------------------------------

MON_AM = WeeklyRule(0, span("09:00", "12:00"))
MON_PM = WeeklyRule(0, span("14:00", "18:00"))
WED = WeeklyRule(2, span("10:00", "11:00"))
FRI = WeeklyRule(4, span("18:00", "20:00"))
WEEK = (MON_AM, MON_PM, WED, FRI)


def test_replacing_days_keeps_every_other_day() -> None:
    new = [WeeklyRule(2, span("07:00", "08:00")), WeeklyRule(3, span("07:00", "08:00"))]
    assert replace_days(WEEK, [2, 3], new) == (MON_AM, MON_PM, *new, FRI)
    assert replace_days(WEEK, [0], ()) == (WED, FRI)  # no rules clears the day
    with pytest.raises(ValueError, match="names a day that is not being replaced"):
        replace_days(WEEK, [2], [WeeklyRule(5, span("07:00", "08:00"))])


def test_copying_a_day_gives_its_ranges_to_the_targets_only() -> None:
    copied = copy_day(WEEK, 0, [2, 5, 0])
    assert copied == (
        MON_AM,
        MON_PM,
        WeeklyRule(2, MON_AM.range),
        WeeklyRule(2, MON_PM.range),
        FRI,
        WeeklyRule(5, MON_AM.range),
        WeeklyRule(5, MON_PM.range),
    )


@pytest.mark.parametrize(
    ("source", "targets", "expected"),
    [
        (1, [2], ("copy", "empty")),  # Tuesday has no hours
        (0, [], ("copy", "no_targets")),
        (0, [0], ("copy", "no_targets")),
        (7, [1], ("days", "")),
    ],
)
def test_copying_nothing_or_to_nowhere_is_refused(
    source: int, targets: list[int], expected: tuple[str, str]
) -> None:
    with pytest.raises(InvalidInput) as error:
        copy_day(WEEK, source, targets)
    assert refused(error) == expected


# --- listing exceptions -------------------------------------------------------------------------------------


def test_consecutive_days_off_read_as_one_span() -> None:
    hours = (TimeRange(hm("10:00"), hm("12:00")),)
    overrides = [
        DateOverride(date(2026, 12, 26)),
        DateOverride(date(2026, 12, 24)),
        DateOverride(date(2026, 12, 25)),
        DateOverride(date(2026, 12, 27), hours),
        DateOverride(date(2026, 12, 28)),
        DateOverride(date(2026, 12, 30)),
    ]
    spans = group_overrides(overrides)
    assert spans == [
        OverrideSpan(date(2026, 12, 24), date(2026, 12, 26), ()),
        OverrideSpan(date(2026, 12, 27), date(2026, 12, 27), hours),
        OverrideSpan(date(2026, 12, 28), date(2026, 12, 28), ()),
        OverrideSpan(date(2026, 12, 30), date(2026, 12, 30), ()),
    ]
    assert spans[0].days == 3 and spans[0].is_day_off and not spans[1].is_day_off


# --- free time ahead ----------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 11:30 in Kolkata, a Tuesday


def clock_spans(day: FreeDay, zone: str, which: str = "free") -> list[str]:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    return [f"{a.astimezone(tz):%H:%M}-{b.astimezone(tz):%H:%M}" for a, b in getattr(day, which)]


def test_free_time_is_open_hours_minus_bookings_with_buffers_and_the_past() -> None:
    availability = every_day("Asia/Kolkata", "09:00", "18:00")
    session = booking(datetime(2026, 11, 25, 5, 30, tzinfo=UTC), 60, before=10, after=15)  # 11:00-12:00 IST
    cancelled = booking(datetime(2026, 11, 26, 5, 30, tzinfo=UTC), 60, status=BookingStatus.CANCELLED)
    days = free_time(availability, [session, cancelled], NOW)
    assert [d.day for d in days] == [TODAY + timedelta(days=n) for n in range(7)]
    assert clock_spans(days[0], "Asia/Kolkata", "open") == ["09:00-18:00"]
    assert clock_spans(days[0], "Asia/Kolkata") == ["11:30-18:00"]  # today: only from now on
    assert clock_spans(days[1], "Asia/Kolkata") == ["09:00-10:50", "12:15-18:00"]
    assert clock_spans(days[2], "Asia/Kolkata") == ["09:00-18:00"]  # a cancelled booking holds nothing


def test_exceptions_apply_before_bookings_are_taken_out() -> None:
    off, other = date(2026, 11, 25), date(2026, 11, 26)
    availability = weekly(
        "Asia/Kolkata",
        *((d, "09:00", "12:00") for d in range(7)),
        overrides=(DateOverride(off), DateOverride(other, (span("15:00", "17:00"), span("19:00", "20:00")))),
    )
    session = booking(datetime(2026, 11, 26, 10, 0, tzinfo=UTC), 30)  # 15:30-16:00 IST
    days = free_time(availability, [session], NOW)
    assert days[1] == FreeDay(off, (), (), True)
    assert clock_spans(days[2], "Asia/Kolkata") == ["15:00-15:30", "16:00-17:00", "19:00-20:00"]
    assert days[2].is_exception and not days[3].is_exception
    assert clock_spans(days[3], "Asia/Kolkata") == ["09:00-12:00"]


def test_a_fully_booked_day_has_open_hours_but_no_free_time() -> None:
    availability = every_day("UTC", "09:00", "10:00")
    session = booking(utc(date(2026, 11, 25), "09:00"), 60)
    days = free_time(availability, [session], NOW)
    assert days[1].open and not days[1].free


def test_free_time_on_dst_days_counts_real_hours() -> None:
    # Europe/London: spring forward 2026-03-29 (01:00 -> 02:00), fall back 2026-10-25 (02:00 -> 01:00)
    availability = every_day("Europe/London", "00:00", "04:00")
    spring = free_time(availability, [], datetime(2026, 3, 28, 12, 0, tzinfo=UTC), days=2)[1]
    assert spring.day == date(2026, 3, 29)
    assert spring.free == ((utc(date(2026, 3, 29), "00:00"), utc(date(2026, 3, 29), "03:00")),)  # 3 real hours

    autumn = free_time(availability, [], datetime(2026, 10, 24, 12, 0, tzinfo=UTC), days=2)[1]
    assert autumn.day == date(2026, 10, 25)
    assert autumn.free == ((utc(date(2026, 10, 24), "23:00"), utc(date(2026, 10, 25), "04:00")),)  # 5 real hours

    # a booking across the repeated hour takes exactly its real time out
    session = booking(utc(date(2026, 10, 25), "00:30"), 60)  # 01:30 BST - 01:30 GMT
    autumn = free_time(availability, [session], datetime(2026, 10, 24, 12, 0, tzinfo=UTC), days=2)[1]
    assert autumn.free == (
        (utc(date(2026, 10, 24), "23:00"), utc(date(2026, 10, 25), "00:30")),
        (utc(date(2026, 10, 25), "01:30"), utc(date(2026, 10, 25), "04:00")),
    )


def test_free_time_in_new_york_across_its_fall_back() -> None:
    availability = every_day("America/New_York", "09:00", "17:00")
    days = free_time(availability, [], datetime(2026, 10, 31, 12, 0, tzinfo=UTC), days=3)
    # Sat 31 Oct (EDT, from 08:00 local now), Sun 1 Nov (EST from 02:00), Mon 2 Nov (EST)
    assert [d.day for d in days] == [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)]
    assert days[0].free == ((utc(date(2026, 10, 31), "13:00"), utc(date(2026, 10, 31), "21:00")),)
    assert days[1].free == ((utc(date(2026, 11, 1), "14:00"), utc(date(2026, 11, 1), "22:00")),)
