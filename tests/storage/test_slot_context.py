"""What a booking step reads (``domain.usecases``), on SQLite and PostgreSQL: the offering, its mentor and the
mentor's availability in one statement, and only the bookings around the dates the step looks at."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain import busy
from domain.busy import BusyCalendar
from domain.clock import FixedClock
from domain.mentee import monday_of
from domain.model import (
    Actor,
    Booking,
    BookingStatus,
    BookingView,
    BusyInterval,
    DateOverride,
    TimeRange,
    WeeklyRule,
)
from domain.usecases import booking as usecases
from domain.usecases.notifications import load_view
from storage.calendars import SqlBusyCalendarRepository
from storage.db import listen_to_selects
from storage.repositories import SqlBookingRepository
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, booking, mentor_and_mentee, user

NOW = datetime(2030, 3, 4, 3, 0, tzinfo=UTC)  # a Monday, 08:30 in Kolkata
CLOCK = FixedClock(NOW)
ZONE = "Asia/Kolkata"
EVERY_DAY = [WeeklyRule(day, TimeRange(10 * 60, 12 * 60)) for day in range(7)]  # 10:00-12:00 in Kolkata


def _selects(engine: AsyncEngine) -> list[tuple[str, Any]]:
    """(SQL, parameters) of every SELECT ``engine`` runs from now on."""
    seen: list[tuple[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH", "(")):
            seen.append((statement, parameters))

    listen_to_selects(engine, lambda statement, parameters: seen.append((statement, parameters)))  # SQLite
    return seen


async def _mentor_with_hours(uow: SqlUnitOfWork, **offering_changes: Any) -> int:
    changes = {"advance_booking_days": 28, "min_notice_hours": 1} | offering_changes
    offering = await mentor_and_mentee(uow, **changes)
    async with uow:
        await uow.availability.replace_weekly(MENTOR_ID, EVERY_DAY)
        await uow.availability.set_override(MENTOR_ID, DateOverride(date(2030, 3, 6), (TimeRange(600, 660),)))
        await uow.commit()
    assert offering.id is not None
    return offering.id


async def test_the_mentors_availability_comes_with_the_offering(engine: AsyncEngine, uow: SqlUnitOfWork) -> None:
    offering_id = await _mentor_with_hours(uow)
    async with uow:
        expected = await uow.availability.get(MENTOR_ID)
    selects = _selects(engine)
    async with uow:
        found = await uow.offerings.get_with_mentor(offering_id)
        assert found is not None and found[1].id == MENTOR_ID
        assert await uow.availability.get(MENTOR_ID) == expected  # no statement of its own
        assert len(selects) == 1
        assert await uow.availability.get(MENTOR_ID) == expected  # used once: read again
        assert len(selects) == 2
    assert expected is not None and expected.timezone == ZONE and len(expected.overrides) == 1


async def test_a_write_in_between_is_not_hidden_by_what_came_with_the_offering(uow: SqlUnitOfWork) -> None:
    offering_id = await _mentor_with_hours(uow)
    async with uow:
        await uow.offerings.get_with_mentor(offering_id)
        await uow.users.update(user(MENTOR_ID, is_mentor=True, timezone="Europe/Berlin"))
        moved = await uow.availability.get(MENTOR_ID)
        assert moved is not None and moved.timezone == "Europe/Berlin"
        await uow.offerings.get_with_mentor(offering_id)
        await uow.availability.clear_override(MENTOR_ID, date(2030, 3, 6))
        cleared = await uow.availability.get(MENTOR_ID)
        assert cleared is not None and cleared.overrides == ()


async def test_a_mentor_without_busy_calendars_costs_no_statement_for_them(
    engine: AsyncEngine, uow: SqlUnitOfWork
) -> None:
    offering_id = await _mentor_with_hours(uow)
    start, end, fresh = NOW, NOW + timedelta(days=7), NOW - timedelta(days=1)
    selects = _selects(engine)
    async with uow:
        await uow.offerings.get_with_mentor(offering_id)
        assert await uow.calendars.busy_for_mentor(MENTOR_ID, start, end, fresh) == []
        assert await uow.calendars.busy_for_mentor(MENTOR_ID, start, end, fresh) == []  # for the whole step
        assert len(selects) == 1  # the offering's statement said there is no calendar
        # a calendar added in the same unit of work is read
        calendar = await uow.calendars.add(BusyCalendar(MENTOR_ID, "https://example.com/a.ics", NOW))
        calendar = busy.read_ok(calendar, NOW, None, None, end)
        await uow.calendars.save(calendar)
        busy_hour = BusyInterval(NOW + timedelta(hours=5), NOW + timedelta(hours=6))
        await uow.calendars.replace_busy(calendar, [busy_hour])
        assert await uow.calendars.busy_for_mentor(MENTOR_ID, start, end, fresh) == [busy_hour]
        await uow.commit()
    del selects[:]
    async with uow:  # the mentor has a calendar now: the offering's statement says so, and it is read
        await uow.offerings.get_with_mentor(offering_id)
        assert len(await uow.calendars.busy_for_mentor(MENTOR_ID, start, end, fresh)) == 1
        assert len(selects) == 2


async def _book(uow: SqlUnitOfWork, offering_id: int, starts: list[datetime]) -> None:
    async with uow:
        offering = await uow.offerings.get(offering_id)
        assert offering is not None
        for n, start in enumerate(starts):
            mentee = 5000 + n
            await uow.users.add(user(mentee))
            await uow.bookings.add(booking(offering, mentee, start, status=BookingStatus.CONFIRMED))
        await uow.commit()


def _kolkata(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=5, minutes=30)


async def test_the_date_picker_shows_the_first_week_with_a_free_date(
    engine: AsyncEngine, uow: SqlUnitOfWork
) -> None:
    offering_id = await _mentor_with_hours(uow, max_bookings_per_day=1)
    this_week = monday_of(NOW.date())
    first_week = [this_week + timedelta(days=n) for n in range(7) if this_week + timedelta(days=n) >= NOW.date()]
    await _book(uow, offering_id, [_kolkata(day, 10) for day in first_week])  # the first week is full
    async with SqlUnitOfWork(engine, read_only=True) as view:
        _ctx, days = await usecases.date_page(view, CLOCK, offering_id, MENTEE_ID, ZONE)
        assert days and all(monday_of(day) == this_week + timedelta(weeks=1) for day in days)
        # the full week asked for: no date of it, but those of another week (the window is not full)
        _ctx, days = await usecases.date_page(view, CLOCK, offering_id, MENTEE_ID, ZONE, this_week)
        assert days and all(day > first_week[-1] for day in days)
        # a week's page and the whole window agree
        _ctx, every = await usecases.free_dates(view, CLOCK, offering_id, MENTEE_ID, ZONE)
        week = this_week + timedelta(weeks=2)
        _ctx, page = await usecases.date_page(view, CLOCK, offering_id, MENTEE_ID, ZONE, week)
        assert page == [day for day in every if monday_of(day) == week] != []


async def test_a_full_window_shows_no_dates(uow: SqlUnitOfWork) -> None:
    offering_id = await _mentor_with_hours(uow, max_bookings_per_day=1, advance_booking_days=3)
    await _book(uow, offering_id, [_kolkata(NOW.date() + timedelta(days=n), 10) for n in range(5)])
    async with uow:
        _ctx, days = await usecases.date_page(uow, CLOCK, offering_id, MENTEE_ID, ZONE)
        assert days == []
        _ctx, days = await usecases.date_page(uow, CLOCK, offering_id, MENTEE_ID, ZONE, NOW.date())
        assert days == []


def _ranges_read(monkeypatch: pytest.MonkeyPatch) -> list[tuple[datetime, datetime]]:
    """The ranges the use cases ask a mentor's bookings for, from now on."""
    asked: list[tuple[datetime, datetime]] = []
    original = SqlBookingRepository.blocking_for_mentor

    async def recording(
        self: SqlBookingRepository, mentor_id: int, start: datetime, end: datetime
    ) -> tuple[list[Booking], list[Booking]]:
        asked.append((start, end))
        return await original(self, mentor_id, start, end)

    monkeypatch.setattr(SqlBookingRepository, "blocking_for_mentor", recording)
    return asked


def _busy_ranges_read(monkeypatch: pytest.MonkeyPatch) -> list[tuple[datetime, datetime]]:
    """The ranges the use cases ask a mentor's external busy intervals for (calendar sync), from now on."""
    asked: list[tuple[datetime, datetime]] = []
    original = SqlBusyCalendarRepository.busy_for_mentor

    async def recording(
        self: SqlBusyCalendarRepository, mentor_id: int, start: datetime, end: datetime, fresh_since: datetime
    ) -> list[BusyInterval]:
        asked.append((start, end))
        return await original(self, mentor_id, start, end, fresh_since)

    monkeypatch.setattr(SqlBusyCalendarRepository, "busy_for_mentor", recording)
    return asked


async def test_each_step_reads_only_the_bookings_around_its_dates(
    engine: AsyncEngine, uow: SqlUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    offering_id = await _mentor_with_hours(uow)
    asked = _ranges_read(monkeypatch)
    busy_asked = _busy_ranges_read(monkeypatch)
    day = NOW.date() + timedelta(days=3)
    async with SqlUnitOfWork(engine, read_only=True) as view:
        _ctx, days = await usecases.date_page(view, CLOCK, offering_id, MENTEE_ID, ZONE)
        _ctx, times = await usecases.free_times(view, CLOCK, offering_id, MENTEE_ID, day, ZONE)
        await usecases.check_slot(view, CLOCK, offering_id, MENTEE_ID, times[0])
    assert days and times
    week, one_day, one_slot = (end - start for start, end in asked)  # with two days either side
    assert week <= timedelta(days=7 + 2 + 4)
    assert one_day <= timedelta(days=1 + 2 + 4)
    assert one_slot == timedelta(days=4)
    assert busy_asked == asked  # the mentor's external calendars: the same span as their bookings, each step


async def test_a_booking_outside_what_a_step_read_is_still_seen_by_its_own_step(uow: SqlUnitOfWork) -> None:
    offering_id = await _mentor_with_hours(uow, max_bookings_per_day=1)
    later = NOW.date() + timedelta(days=15)
    await _book(uow, offering_id, [_kolkata(later, 10)])
    async with uow:
        _ctx, days = await usecases.date_page(uow, CLOCK, offering_id, MENTEE_ID, ZONE, monday_of(later))
        assert later not in days and days
        _ctx, times = await usecases.free_times(uow, CLOCK, offering_id, MENTEE_ID, later, ZONE)
        assert times == []


async def test_the_longest_bookings_are_found_at_the_edges_of_a_range(uow: SqlUnitOfWork) -> None:
    """The read of a mentor's (or mentee's) bookings narrows by start time (``_active_overlapping``): a booking
    reaching as far as the schema allows (90 minutes, 120-minute buffers) is still found from either side."""
    offering = await mentor_and_mentee(
        uow, duration_minutes=90, buffer_before_minutes=120, buffer_after_minutes=120
    )
    start = datetime(2030, 3, 10, 6, 0, tzinfo=UTC)
    async with uow:
        booked = await uow.bookings.add(booking(offering, MENTEE_ID, start, status=BookingStatus.CONFIRMED))
        await uow.commit()
    blocked_until = start + timedelta(minutes=90 + 120)
    blocked_from = start - timedelta(minutes=120)
    minute = timedelta(minutes=1)
    async with uow:
        after = await uow.bookings.active_for_mentor(MENTOR_ID, blocked_until - minute, blocked_until + minute)
        before = await uow.bookings.active_for_mentor(MENTOR_ID, blocked_from - minute, blocked_from + minute)
        assert [b.id for b in after] == [b.id for b in before] == [booked.id]
        assert await uow.bookings.active_for_mentor(MENTOR_ID, blocked_until, blocked_until + minute) == []
        assert await uow.bookings.active_for_mentor(MENTOR_ID, blocked_from - minute, blocked_from) == []
        ends = start + timedelta(minutes=90)
        assert [b.id for b in await uow.bookings.active_for_mentee(MENTEE_ID, ends - minute, ends)] == [booked.id]


async def test_a_booking_beyond_the_bounds_is_refused(uow: SqlUnitOfWork) -> None:
    offering = await mentor_and_mentee(uow)
    beyond: list[dict[str, Any]] = [
        {"buffer_after_minutes": 121},
        {"buffer_before_minutes": -1},
        {"duration_minutes": 100},
    ]
    for changes in beyond:
        with pytest.raises(IntegrityError):
            async with uow:
                await uow.bookings.add(booking(offering, **changes))
    with pytest.raises(IntegrityError):
        async with uow:
            await uow.offerings.add(offering.with_changes(id=None, buffer_before_minutes=500))


async def test_a_booking_with_its_offering_and_both_people_takes_three_reads(
    engine: AsyncEngine, uow: SqlUnitOfWork
) -> None:
    """What the dispatcher reads for each notification, and every action on a booking: the booking, the offering
    with its mentor in one statement, the mentee."""
    offering_id = await _mentor_with_hours(uow)
    await _book(uow, offering_id, [_kolkata(NOW.date() + timedelta(days=2), 10)])
    async with uow:
        [booked] = await uow.bookings.active_for_mentor(MENTOR_ID, NOW, NOW + timedelta(days=7))
        assert booked.id is not None
        offering, mentor, mentee = (
            await uow.offerings.get(offering_id),
            await uow.users.get(MENTOR_ID),
            await uow.users.get(booked.mentee_id),
        )
        assert offering is not None and mentor is not None and mentee is not None
        selects = _selects(engine)
        view = await load_view(uow, booked.id)
        assert len(selects) == 3
        as_mentor = await usecases.booking_for(uow, booked.id, MENTOR_ID)
        assert len(selects) == 6
    expected = BookingView(booked, offering, mentor, mentee)
    assert view == expected and as_mentor == (expected, Actor.MENTOR)
