"""Date exceptions (a day off, other hours on one date, a vacation) and the free time of the coming days.

Exceptions belong to the mentor (they apply to every offering) and are dates on the mentor's wall clock. The rules
(reading a typed date, which dates may carry one, grouping them for the list, the free time) are
``domain.schedule``. Times a change opens (other hours on a date, a day off removed) go to the people waiting for
them (``domain.waitlist``, rule 4), in the change's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from domain.availability import DayClock
from domain.errors import InvalidInput
from domain.model import Availability, DateOverride, TimeRange
from domain.ports import Clock, UnitOfWork
from domain.schedule import (
    FALLBACK_ZONE,
    ORDER,
    OVERRIDE_HORIZON_DAYS,
    TOO_LONG,
    VACATION_MAX_DAYS,
    Exceptions,
    Preview,
    check_override_date,
    date_ranges,
    free_time,
    group_overrides,
    local_today,
    parse_date,
    preview_window,
    vacation_dates,
)
from domain.usecases.booking import busy_between
from domain.usecases.people import load_mentor
from domain.usecases.waitlist import free_starts, tell_opened

_ONE_DAY = timedelta(days=1)


async def _zone_and_today(uow: UnitOfWork, clock: Clock, mentor_id: int) -> tuple[str, date]:
    await load_mentor(uow, mentor_id)
    saved = await uow.availability.get(mentor_id)
    zone = saved.timezone if saved else FALLBACK_ZONE
    return zone, local_today(clock.now(), zone)


async def list_exceptions(uow: UnitOfWork, clock: Clock, mentor_id: int, bookings_kept: int = 0) -> Exceptions:
    zone, today = await _zone_and_today(uow, clock, mentor_id)
    horizon = today + timedelta(days=OVERRIDE_HORIZON_DAYS)
    overrides = await uow.availability.list_overrides(mentor_id, today, horizon)
    return Exceptions(zone, today, group_overrides(overrides), bookings_kept)


async def check_exception_date(uow: UnitOfWork, clock: Clock, mentor_id: int, day: date) -> date:
    """Before asking for more (the hours, the last day): ``day`` may carry an exception."""
    _zone, today = await _zone_and_today(uow, clock, mentor_id)
    return check_override_date(day, today)


async def read_exception_date(uow: UnitOfWork, clock: Clock, mentor_id: int, typed: str) -> date:
    """A date the mentor typed, read on their clock (``25 Dec`` is the next one), and allowed an exception."""
    _zone, today = await _zone_and_today(uow, clock, mentor_id)
    return check_override_date(parse_date(typed, today), today)


async def _bookings_on(uow: UnitOfWork, mentor_id: int, zone: str, days: Sequence[date]) -> int:
    tz = ZoneInfo(zone)
    first, last = min(days), max(days)
    start, end = DayClock(first, tz).boundary(0), DayClock(last + _ONE_DAY, tz).boundary(0)
    chosen = set(days)
    found = await uow.bookings.active_for_mentor(mentor_id, start, end)
    return sum(1 for booking in found if booking.scheduled_at.astimezone(tz).date() in chosen)


async def _set_overrides(
    uow: UnitOfWork, clock: Clock, mentor_id: int, days: Sequence[date], ranges: tuple[TimeRange, ...]
) -> Exceptions:
    zone, _today = await _zone_and_today(uow, clock, mentor_id)
    before = await free_starts(uow, clock, mentor_id)
    for day in days:
        await uow.availability.set_override(mentor_id, DateOverride(day, ranges))
    await tell_opened(uow, mentor_id, before)
    return await list_exceptions(uow, clock, mentor_id, await _bookings_on(uow, mentor_id, zone, days))


async def set_day_off(uow: UnitOfWork, clock: Clock, mentor_id: int, day: date) -> Exceptions:
    await check_exception_date(uow, clock, mentor_id, day)
    return await _set_overrides(uow, clock, mentor_id, [day], ())


async def set_date_hours(
    uow: UnitOfWork, clock: Clock, mentor_id: int, day: date, ranges: Sequence[TimeRange]
) -> Exceptions:
    """Other hours on ``day`` instead of that weekday's."""
    await check_exception_date(uow, clock, mentor_id, day)
    return await _set_overrides(uow, clock, mentor_id, [day], date_ranges(ranges))


async def set_vacation(uow: UnitOfWork, clock: Clock, mentor_id: int, first: date, last: date) -> Exceptions:
    """Every date from ``first`` to ``last`` a day off (replacing other exceptions on them)."""
    _zone, today = await _zone_and_today(uow, clock, mentor_id)
    return await _set_overrides(uow, clock, mentor_id, vacation_dates(first, last, today), ())


async def remove_exceptions(uow: UnitOfWork, clock: Clock, mentor_id: int, first: date, last: date) -> Exceptions:
    """Back to the weekly hours on ``first`` to ``last`` (one listed span; at most the longest vacation)."""
    await load_mentor(uow, mentor_id)
    if last < first or (last - first).days >= VACATION_MAX_DAYS:
        raise InvalidInput("vacation", ORDER if last < first else TOO_LONG)
    before = await free_starts(uow, clock, mentor_id)
    day = first
    while day <= last:
        await uow.availability.clear_override(mentor_id, day)
        day += _ONE_DAY
    await tell_opened(uow, mentor_id, before)
    return await list_exceptions(uow, clock, mentor_id)


# --- the preview ----------------------------------------------------------------------------------------------


async def preview_free_time(uow: UnitOfWork, clock: Clock, mentor_id: int) -> Preview:
    """The mentor's free time for the next 7 days (profile hours, after exceptions, minus bookings and what their
    external calendars say is busy)."""
    await load_mentor(uow, mentor_id)
    saved = await uow.availability.get(mentor_id) or Availability(FALLBACK_ZONE)
    now = clock.now()
    start, end = preview_window(saved, now)
    booked = await uow.bookings.active_for_mentor(mentor_id, start, end)
    external = await busy_between(uow, now, mentor_id, start, end)
    return Preview(saved.timezone, free_time(saved, booked, now, external=external))
