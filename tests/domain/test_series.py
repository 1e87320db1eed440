"""Weekly series: occurrences keep the mentor's wall-clock time across DST changes (Europe/London,
America/New_York), stay within the booking window, and each is a slot by the usual rules (hypothesis)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.availability import local_to_utc
from domain.errors import InvalidInput
from domain.model import Availability, PaymentMode, TimeRange, WeeklyRule
from domain.offerings import OfferingField, duplicate, edit
from domain.payments import PaymentSettings
from domain.series import (
    MAX_WEEKS,
    MIN_WEEKS,
    PackageOnly,
    check_package,
    check_weeks,
    occurrences,
    parse_package,
    series_modes,
    weeks_possible,
)
from domain.slots import is_bookable
from tests.domain.factories import offering

ZONES = ["Europe/London", "America/New_York"]
# Mondays a few weeks before each zone's DST changes in 2026 (New York 03-08 and 11-01, London 03-29 and 10-25)
FIRST_DAYS = [date(2026, 2, 16), date(2026, 3, 2), date(2026, 10, 5), date(2026, 10, 19)]


def test_a_london_series_keeps_ten_oclock_across_the_spring_change() -> None:
    first = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # Monday 10:00 GMT
    starts = occurrences(first, 4, "Europe/London")
    assert starts == [
        datetime(2026, 3, 16, 10, 0, tzinfo=UTC),
        datetime(2026, 3, 23, 10, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 9, 0, tzinfo=UTC),  # 10:00 BST
        datetime(2026, 4, 6, 9, 0, tzinfo=UTC),
    ]


def test_a_new_york_series_keeps_nine_oclock_across_the_autumn_change() -> None:
    first = datetime(2026, 10, 26, 13, 0, tzinfo=UTC)  # Monday 09:00 EDT
    assert occurrences(first, 3, "America/New_York") == [
        datetime(2026, 10, 26, 13, 0, tzinfo=UTC),
        datetime(2026, 11, 2, 14, 0, tzinfo=UTC),  # 09:00 EST
        datetime(2026, 11, 9, 14, 0, tzinfo=UTC),
    ]


def test_a_week_whose_local_time_does_not_exist_has_no_occurrence() -> None:
    """Sunday 02:30 in New York: on 8 March 2026 the clock jumps from 02:00 to 03:00."""
    first = local_to_utc(date(2026, 3, 1), 150, ZoneInfo("America/New_York"))
    assert first is not None
    starts = occurrences(first, 3, "America/New_York")
    assert starts[1] is None and starts[0] is not None and starts[2] is not None


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    first_day=st.sampled_from(FIRST_DAYS),
    day_offset=st.integers(0, 6),
    quarter=st.integers(0, 24 * 4 - 1),
    weeks=st.integers(MIN_WEEKS, MAX_WEEKS),
)
def test_occurrences_keep_the_weekday_and_the_wall_clock(
    zone: str, first_day: date, day_offset: int, quarter: int, weeks: int
) -> None:
    tz = ZoneInfo(zone)
    day, minute = first_day + timedelta(days=day_offset), quarter * 15
    first = local_to_utc(day, minute, tz)
    if first is None:
        return  # no such local time: nobody can pick it as a first session
    starts = occurrences(first, weeks, zone)
    assert len(starts) == weeks and starts[0] == first
    for week, start in enumerate(starts):
        expected = local_to_utc(day + timedelta(weeks=week), minute, tz)
        assert start == expected  # None exactly when that week's local time does not exist
        if start is not None:
            local = start.astimezone(tz)
            assert (local.date(), local.hour * 60 + local.minute) == (day + timedelta(weeks=week), minute)
            assert start.tzinfo is not None
    real = [s for s in starts if s is not None]
    assert real == sorted(set(real))
    # whole weeks apart in UTC, give or take the hour of a DST change
    for earlier, later in pairwise(real):
        gap = later - earlier
        assert abs(gap - timedelta(weeks=round(gap / timedelta(weeks=1)))) <= timedelta(hours=1)


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    first_day=st.sampled_from(FIRST_DAYS),
    hour=st.integers(8, 18),
    weeks=st.integers(MIN_WEEKS, MAX_WEEKS),
    advance=st.integers(7, 120),
)
def test_every_week_in_the_window_is_a_slot_of_an_empty_calendar(
    zone: str, first_day: date, hour: int, weeks: int, advance: int
) -> None:
    """With the weekday's hours open and nothing booked, each occurrence inside the booking window is bookable by
    the usual rules (grid, hours in the mentor's zone, window), DST weeks included; weeks past the window are
    not offered at all."""
    tz = ZoneInfo(zone)
    now = datetime.combine(first_day - timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    first = local_to_utc(first_day, hour * 60, tz)
    assert first is not None
    hours = Availability(zone, weekly=(WeeklyRule(first_day.weekday(), TimeRange(8 * 60, 20 * 60)),))
    o = offering(advance_booking_days=advance, min_notice_hours=0, duration_minutes=60)
    possible = weeks_possible(o, first, now, zone)
    assert 1 <= possible <= MAX_WEEKS
    latest = now + timedelta(days=advance)
    for week, start in enumerate(occurrences(first, MAX_WEEKS, zone)):
        assert start is not None  # 08:00-18:00 exists every day in both zones
        assert (week < possible) == (start <= latest)
        if week < possible:
            assert is_bookable(o, hours, [], now, start)
    if MIN_WEEKS <= weeks <= possible:
        assert check_weeks(weeks, possible) == weeks
    else:
        with pytest.raises(InvalidInput):
            check_weeks(weeks, possible)


def test_a_series_is_paid_with_one_payment_where_payments_in_the_bot_are_on() -> None:
    stars = PaymentSettings(modes=(PaymentMode.STARS,))
    both = PaymentSettings(modes=(PaymentMode.PROVIDER, PaymentMode.UPI, PaymentMode.STARS))
    assert series_modes(offering(price=0), stars) == ()
    assert series_modes(offering(price=500), PaymentSettings()) == (PaymentMode.OFF,)
    assert series_modes(offering(price=500), stars) == (PaymentMode.STARS,)
    assert series_modes(offering(price=500), both) == (PaymentMode.PROVIDER, PaymentMode.STARS)
    upi = PaymentSettings(modes=(PaymentMode.UPI,))  # one UPI payment for a series, when the mentor has a UPI ID
    assert series_modes(offering(price=500), upi) == (PaymentMode.OFF,)
    assert series_modes(offering(price=500), upi, "asha@okicici") == (PaymentMode.UPI,)
    assert series_modes(offering(price=500), both, "asha@okicici") == (
        PaymentMode.PROVIDER, PaymentMode.UPI, PaymentMode.STARS,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "weeks"),
    [("2", 2), (" 4 ", 4), ("12", 12), ("0", None), ("-", None)],
)
def test_a_package_is_two_to_twelve_weekly_sessions(typed: str, weeks: int | None) -> None:
    assert parse_package(typed) == weeks


@pytest.mark.parametrize("typed", ["1", "13", "100", "four", "", "2.5", "-3", "1234"])
def test_a_package_outside_two_to_twelve_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput, match="package_weeks"):
        parse_package(typed)


def test_a_package_is_booked_only_as_its_weeks() -> None:
    package = offering(package_weeks=4)
    check_package(package, 4)
    for weeks in (None, 2, 3, 5):  # a single session, or another number of weeks
        with pytest.raises(PackageOnly):
            check_package(package, weeks)
    for weeks in (None, 2, 12):  # any other offering: a session, or any series
        check_package(offering(), weeks)


def test_the_editor_sets_and_clears_a_package_and_a_copy_keeps_it() -> None:
    saved = offering()
    package = edit(saved, OfferingField.PACKAGE, "6")
    assert package.package_weeks == 6
    assert duplicate(package, "(copy)").package_weeks == 6
    assert edit(package, OfferingField.PACKAGE, "0").package_weeks is None
    with pytest.raises(InvalidInput):
        edit(package, OfferingField.PACKAGE, "1")
