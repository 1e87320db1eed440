"""The schedule workspace's use cases against real storage (SQLite and PostgreSQL): editing days without wiping
the others, an offering's own hours (its owner only), date exceptions and the free-time preview."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain import schedule
from domain.clock import FixedClock
from domain.errors import InvalidInput, NotAllowed, NotFound
from domain.model import Availability, DateOverride, TimeRange, WeeklyRule
from domain.schedule import OverrideSpan
from domain.usecases.availability import clear_day, copy_day_to, load_week, set_days, set_weekly_availability
from domain.usecases.overrides import (
    preview_free_time,
    read_exception_date,
    remove_exceptions,
    set_date_hours,
    set_day_off,
    set_vacation,
)
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, booking, offering, seed, user

OTHER_MENTOR = 1002
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 11:30 on Tuesday 24 Nov in Kolkata
TODAY = date(2026, 11, 24)
MORNING = TimeRange(9 * 60, 12 * 60)
EVENING = TimeRange(18 * 60, 20 * 60)


CLOCK = FixedClock(NOW)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


async def seed_mentors(uow: SqlUnitOfWork) -> None:
    await seed(
        uow,
        user(MENTOR_ID, timezone="Asia/Kolkata", is_mentor=True),
        user(OTHER_MENTOR, timezone="Europe/London", is_mentor=True),
        user(MENTEE_ID, timezone="Asia/Kolkata"),
    )


async def test_the_list_overrides_port_reads_one_window_of_dates(uow: SqlUnitOfWork) -> None:
    await seed_mentors(uow)
    async with uow:
        for day in (date(2026, 11, 20), date(2026, 11, 24), date(2026, 12, 1)):
            await uow.availability.set_override(MENTOR_ID, DateOverride(day))
        await uow.availability.set_override(MENTOR_ID, DateOverride(date(2026, 11, 30), (EVENING, MORNING)))
        await uow.availability.set_override(OTHER_MENTOR, DateOverride(date(2026, 11, 25)))
        await uow.commit()
    async with uow:
        found = await uow.availability.list_overrides(MENTOR_ID, TODAY, date(2026, 11, 30))
    assert found == [DateOverride(TODAY), DateOverride(date(2026, 11, 30), (MORNING, EVENING))]


async def test_saving_some_days_keeps_the_other_days(uow: SqlUnitOfWork) -> None:
    await seed_mentors(uow)
    async with uow:
        await set_weekly_availability(uow, MENTOR_ID, [0, 1], [MORNING])
        week = await set_weekly_availability(uow, MENTOR_ID, [1, 2], [EVENING])
        await uow.commit()
    expected = [WeeklyRule(0, MORNING), WeeklyRule(1, EVENING), WeeklyRule(2, EVENING)]
    assert week == expected
    async with uow:
        saved = await uow.availability.get(MENTOR_ID)
    assert saved is not None and list(saved.weekly) == expected


async def test_one_day_at_a_time_set_copy_clear(uow: SqlUnitOfWork) -> None:
    await seed_mentors(uow)
    async with uow:
        await set_days(uow, CLOCK, MENTOR_ID, schedule.PROFILE, [0], [EVENING, MORNING])
        await set_days(uow, CLOCK, MENTOR_ID, schedule.PROFILE, [4], [EVENING])
        week = await copy_day_to(uow, CLOCK, MENTOR_ID, schedule.PROFILE, 0, [1, 2])
        assert [(r.weekday, r.range) for r in week.weekly] == [
            (0, MORNING), (0, EVENING), (1, MORNING), (1, EVENING), (2, MORNING), (2, EVENING), (4, EVENING),
        ]  # fmt: skip
        week = await clear_day(uow, CLOCK, MENTOR_ID, schedule.PROFILE, 1)
        await uow.commit()
    async with uow:
        saved = await uow.availability.get(MENTOR_ID)
    assert saved is not None and saved.weekly == week.weekly
    assert {r.weekday for r in saved.weekly} == {0, 2, 4}


async def test_an_offerings_own_hours_are_edited_by_its_owner_only(uow: SqlUnitOfWork) -> None:
    await seed_mentors(uow)
    [own] = await seed(uow, offerings=(offering(MENTOR_ID, use_profile_availability=False),))
    assert own.id is not None
    async with uow:
        await set_days(uow, CLOCK, MENTOR_ID, schedule.PROFILE, [0], [MORNING])
        week = await set_days(uow, CLOCK, MENTOR_ID, own.id, [2, 3], [EVENING])
        week = await copy_day_to(uow, CLOCK, MENTOR_ID, own.id, 2, [5])
        await uow.commit()
    assert week.offering is not None and week.timezone == "Asia/Kolkata"
    async with uow:
        stored = await uow.offerings.get(own.id)
        profile = await uow.availability.get(MENTOR_ID)
    assert stored is not None and stored.weekly_rules == (
        WeeklyRule(2, EVENING), WeeklyRule(3, EVENING), WeeklyRule(5, EVENING),
    )  # fmt: skip
    assert profile is not None and profile.weekly == (WeeklyRule(0, MORNING),)  # the profile's hours untouched

    for attempt in (
        load_week(uow, OTHER_MENTOR, own.id),
        set_days(uow, CLOCK, OTHER_MENTOR, own.id, [0], [MORNING]),
        clear_day(uow, CLOCK, OTHER_MENTOR, own.id, 2),
        copy_day_to(uow, CLOCK, OTHER_MENTOR, own.id, 2, [0, 1]),
    ):
        async with uow:
            with pytest.raises(NotAllowed):
                await attempt
    async with uow:
        with pytest.raises(NotFound):
            await load_week(uow, MENTOR_ID, own.id + 100)
        with pytest.raises(NotAllowed):  # a mentee is not a mentor
            await load_week(uow, MENTEE_ID, schedule.PROFILE)
    async with uow:
        stored = await uow.offerings.get(own.id)
    assert stored is not None and len(stored.weekly_rules) == 3


async def test_days_off_other_hours_and_a_vacation(uow: SqlUnitOfWork, clock: FixedClock) -> None:
    await seed_mentors(uow)
    async with uow:
        await set_day_off(uow, clock, MENTOR_ID, TODAY)  # today is allowed
        await set_date_hours(uow, clock, MENTOR_ID, date(2026, 11, 27), [EVENING, MORNING])
        found = await set_vacation(uow, clock, MENTOR_ID, date(2026, 12, 24), date(2027, 1, 2))
        await uow.commit()
    assert found.timezone == "Asia/Kolkata" and found.today == TODAY
    assert found.spans == [
        OverrideSpan(TODAY, TODAY, ()),
        OverrideSpan(date(2026, 11, 27), date(2026, 11, 27), (MORNING, EVENING)),
        OverrideSpan(date(2026, 12, 24), date(2027, 1, 2), ()),
    ]
    async with uow:
        saved = await uow.availability.get(MENTOR_ID)
    assert saved is not None and len(saved.overrides) == 12
    assert saved.ranges_on(date(2026, 12, 31)) == () and saved.ranges_on(date(2026, 11, 27)) == (MORNING, EVENING)

    # a vacation over a date with other hours replaces them; removing a span brings the weekly hours back
    async with uow:
        await set_vacation(uow, clock, MENTOR_ID, date(2026, 11, 27), date(2026, 11, 28))
        found = await remove_exceptions(uow, clock, MENTOR_ID, date(2026, 12, 24), date(2027, 1, 2))
        await uow.commit()
    assert found.spans == [
        OverrideSpan(TODAY, TODAY, ()),
        OverrideSpan(date(2026, 11, 27), date(2026, 11, 28), ()),
    ]


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [
        (lambda uow, c: set_day_off(uow, c, MENTOR_ID, date(2026, 11, 23)), ("date", "past")),
        (
            lambda uow, c: set_date_hours(uow, c, MENTOR_ID, date(2026, 11, 1), [MORNING]),
            ("date", "past"),
        ),
        (lambda uow, c: set_day_off(uow, c, MENTOR_ID, date(2027, 12, 1)), ("date", "too_far")),
        (lambda uow, c: set_date_hours(uow, c, MENTOR_ID, date(2026, 12, 1), []), ("ranges", "empty")),
        (
            lambda uow, c: set_date_hours(uow, c, MENTOR_ID, date(2026, 12, 1), [MORNING, MORNING]),
            ("ranges", "overlap"),
        ),
        (
            lambda uow, c: set_vacation(uow, c, MENTOR_ID, date(2026, 12, 9), date(2026, 12, 1)),
            ("vacation", "order"),
        ),
        (
            lambda uow, c: set_vacation(uow, c, MENTOR_ID, date(2026, 12, 1), date(2027, 2, 1)),
            ("vacation", "too_long"),
        ),
        (lambda uow, c: read_exception_date(uow, c, MENTOR_ID, "next friday"), ("date", "unreadable")),
        (lambda uow, c: read_exception_date(uow, c, MENTOR_ID, "2026-11-23"), ("date", "past")),
    ],
)
async def test_bad_exceptions_are_refused_and_change_nothing(
    uow: SqlUnitOfWork, clock: FixedClock, attempt, expected: tuple[str, str]
) -> None:
    await seed_mentors(uow)
    async with uow:
        with pytest.raises(InvalidInput) as error:
            await attempt(uow, clock)
    assert (error.value.field, error.value.detail) == expected
    async with uow:
        assert await uow.availability.list_overrides(MENTOR_ID, date(2026, 1, 1), date(2028, 1, 1)) == []


async def test_the_past_is_the_mentors_past(uow: SqlUnitOfWork) -> None:
    """At 20:00 UTC on the 24th it is already the 25th in Kolkata: the 24th is past there, not in London."""
    await seed_mentors(uow)
    evening = FixedClock(datetime(2026, 11, 24, 20, 0, tzinfo=UTC))
    async with uow:
        with pytest.raises(InvalidInput):
            await set_day_off(uow, evening, MENTOR_ID, TODAY)
        await set_day_off(uow, evening, OTHER_MENTOR, TODAY)
        assert await read_exception_date(uow, evening, MENTOR_ID, "today") == date(2026, 11, 25)


async def test_a_day_off_tells_how_many_bookings_it_keeps(uow: SqlUnitOfWork, clock: FixedClock) -> None:
    await seed_mentors(uow)
    [own] = await seed(uow, offerings=(offering(MENTOR_ID),))
    async with uow:
        # 09:30 IST on the 26th, and 01:30 IST on the 27th
        await uow.bookings.add(booking(own, start=datetime(2026, 11, 26, 4, 0, tzinfo=UTC)))
        await uow.bookings.add(booking(own, start=datetime(2026, 11, 26, 20, 0, tzinfo=UTC)))
        await uow.commit()
    async with uow:
        found = await set_day_off(uow, clock, MENTOR_ID, date(2026, 11, 26))
        assert found.bookings_kept == 1
        found = await set_vacation(uow, clock, MENTOR_ID, date(2026, 11, 26), date(2026, 11, 28))
        assert found.bookings_kept == 2
        await uow.commit()
    async with uow:  # the bookings are still there and active
        kept = await uow.bookings.active_for_mentor(MENTOR_ID, NOW, NOW + timedelta(days=7))
    assert len(kept) == 2


async def test_the_preview_reads_hours_exceptions_and_bookings(uow: SqlUnitOfWork, clock: FixedClock) -> None:
    await seed_mentors(uow)
    [own] = await seed(uow, offerings=(offering(MENTOR_ID),))  # buffers 5 min before and after
    async with uow:
        await set_weekly_availability(uow, MENTOR_ID, range(7), [MORNING])
        await set_day_off(uow, clock, MENTOR_ID, date(2026, 11, 26))
        await uow.bookings.add(booking(own, start=datetime(2026, 11, 25, 4, 30, tzinfo=UTC)))  # 10:00-10:30 IST
        await uow.commit()
    async with uow:
        preview = await preview_free_time(uow, clock, MENTOR_ID)
    assert preview.timezone == "Asia/Kolkata" and len(preview.days) == 7
    today, wednesday, thursday, friday = preview.days[:4]
    assert today.free == ((NOW, datetime(2026, 11, 24, 6, 30, tzinfo=UTC)),)  # from 11:30 IST, now, to 12:00
    assert today.open == ((datetime(2026, 11, 24, 3, 30, tzinfo=UTC), datetime(2026, 11, 24, 6, 30, tzinfo=UTC)),)
    assert wednesday.free == (
        (datetime(2026, 11, 25, 3, 30, tzinfo=UTC), datetime(2026, 11, 25, 4, 25, tzinfo=UTC)),
        (datetime(2026, 11, 25, 5, 5, tzinfo=UTC), datetime(2026, 11, 25, 6, 30, tzinfo=UTC)),
    )
    assert thursday.open == () and thursday.is_exception
    assert friday.free == friday.open and not friday.is_exception


async def test_availability_with_no_zone_reads_in_utc(uow: SqlUnitOfWork, clock: FixedClock) -> None:
    await seed(uow, user(MENTOR_ID, is_mentor=True))
    async with uow:
        week = await load_week(uow, MENTOR_ID, schedule.PROFILE)
        preview = await preview_free_time(uow, clock, MENTOR_ID)
    assert week.timezone == "UTC" and week.weekly == ()
    assert preview.timezone == "UTC" and all(not day.open for day in preview.days)
    assert Availability("UTC").is_empty
