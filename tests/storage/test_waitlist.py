"""The waitlist's table on SQLite and PostgreSQL: entries in joining order, the candidates of a freed time (any
date, or the dates around it), counts, leaving only one's own entry, and booking ending one's entries."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain import schedule
from domain.availability import weekly_rules
from domain.busy import BusyCalendar, Failure, Problem
from domain.clock import FixedClock
from domain.model import BookingStatus, BusyInterval, DateOverride, Offering, OfferingStatus, TimeRange
from domain.offerings import OfferingField as F
from domain.usecases import calendars
from domain.usecases.availability import clear_day, set_days
from domain.usecases.calendars import ReadOk
from domain.usecases.notifications import tell_freed
from domain.usecases.offerings import edit_offering, set_offering_status
from domain.usecases.overrides import remove_exceptions, set_date_hours, set_day_off
from domain.usecases.waitlist import free_starts
from domain.waitlist import WAVE, WaitlistEntry
from storage.engine import create_engine
from storage.outbox import SqlOutboxRepository
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, T0, booking, offering, seed, user


async def test_entries_candidates_and_leaving(uow: SqlUnitOfWork) -> None:
    [o, other] = await seed(
        uow, user(MENTOR_ID, is_mentor=True), *(user(MENTEE_ID + n) for n in range(6)),
        offerings=(offering(), offering(title="Other")),
    )  # fmt: skip
    day = T0.date()
    async with uow:
        added = [
            await uow.waitlist.add(WaitlistEntry(o.id or 0, MENTEE_ID + n, when, "Asia/Kolkata", T0))
            for n, when in enumerate([None, day, day + timedelta(days=3), day - timedelta(days=5), None])
        ]
        await uow.waitlist.add(WaitlistEntry(other.id or 0, MENTEE_ID + 5, None, "UTC", T0))
        await uow.commit()
    assert [e.id for e in added] == sorted(e.id or 0 for e in added)
    async with uow:
        near = await uow.waitlist.candidates(o.id or 0, day - timedelta(days=1), day + timedelta(days=1), 10)
        capped = await uow.waitlist.candidates(o.id or 0, day - timedelta(days=1), day + timedelta(days=1), 2)
        count = await uow.waitlist.count_waiting(o.id or 0, day)
        mine = await uow.waitlist.for_mentee(MENTEE_ID + 1)
        assert await uow.waitlist.get(added[2].id or 0) == added[2]
    assert [e.id for e in near] == [added[0].id, added[1].id, added[4].id]  # any date, or that day; oldest first
    assert [e.id for e in capped] == [added[0].id, added[1].id]
    assert count == 4  # the entry of a passed date no longer counts
    assert mine == [added[1]]
    async with uow:
        assert not await uow.waitlist.remove(added[1].id or 0, MENTEE_ID)  # not theirs
        assert await uow.waitlist.remove(added[1].id or 0, MENTEE_ID + 1)
        await uow.waitlist.remove_for(o.id or 0, MENTEE_ID)  # booked the offering
        await uow.commit()
    async with uow:
        left = await uow.waitlist.candidates(o.id or 0, date.min, date.max, 10)
        others = await uow.waitlist.for_mentee(MENTEE_ID + 5)
    assert [e.id for e in left] == [added[2].id, added[3].id, added[4].id]
    assert len(others) == 1


# --- a time freed again reaches further; the mentor's hours open times (``domain.waitlist``, rules 3 and 4) ------

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # Tuesday 11:30 in Kolkata
MORNING, EVENING = TimeRange(9 * 60, 12 * 60), TimeRange(17 * 60, 19 * 60)


async def waiting(uow: SqlUnitOfWork, people: int) -> Offering:
    """A mentor (Kolkata, 9:00-12:00 on weekdays) with a free offering, and ``people`` mentees waiting for any date
    of it, in order (entry ids 1, 2, ...)."""
    [o] = await seed(
        uow,
        user(MENTOR_ID, is_mentor=True, timezone="Asia/Kolkata"),
        *(user(MENTEE_ID + n, timezone="Europe/London") for n in range(people)),
        offerings=(offering(price=Decimal(0)),),
    )
    async with uow:
        await uow.availability.replace_weekly(MENTOR_ID, weekly_rules(range(5), [MORNING]))
        for n in range(people):
            await uow.waitlist.add(WaitlistEntry(o.id or 0, MENTEE_ID + n, None, "Europe/London", NOW))
        await uow.commit()
    return o


async def notices(uow: SqlUnitOfWork) -> list[tuple[int, datetime]]:
    """The waitlist notices written: (mentee, start), in order."""
    async with uow:
        assert isinstance(uow.outbox, SqlOutboxRepository)
        records = await uow.outbox.records()
    return [(r.recipient_id, slot_of(r.key)) for r in records if r.kind == "waitlist"]


def slot_of(key: str) -> datetime:
    return datetime.strptime(key.rsplit(":", 1)[1], "%Y%m%d%H%M").replace(tzinfo=UTC)


async def test_a_time_freed_again_goes_to_the_next_wave_across_processes(uow: SqlUnitOfWork, db_url: str) -> None:
    o = await waiting(uow, 12)
    start = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    waves = []
    for _freed in range(4):
        engine = create_engine(db_url)  # each freeing in a process of its own: nothing is kept in memory
        try:
            async with SqlUnitOfWork(engine) as other:
                passed_over = frozenset({MENTEE_ID + 6})  # the mentee whose booking frees it is not told
                waves.append(await tell_freed(other, o.id or 0, start, NOW, passed_over=passed_over))
                await other.commit()
        finally:
            await engine.dispose()
    assert waves == [[1, 2, 3, 4, 5], [6, 8, 9, 10, 11], [12], []]  # entry 7 is mentee + 6
    assert [mentee for mentee, _start in await notices(uow)] == [MENTEE_ID + n for n in (*range(6), *range(7, 12))]
    async with uow:  # another time: everyone again, from the first
        assert await tell_freed(uow, o.id or 0, start + timedelta(hours=1), NOW) == [1, 2, 3, 4, 5]
        await uow.commit()


CONCURRENT = 6


async def test_processes_freeing_one_time_at_once_tell_distinct_people(uow: SqlUnitOfWork, db_url: str) -> None:
    """PostgreSQL: the transactions race for the same first five; each one that loses waits for the winner's
    commit and tells the next ones instead. SQLite: they take turns. Either way: 30 distinct people, once each."""
    o = await waiting(uow, 40)
    start = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    engines = [create_engine(db_url) for _ in range(CONCURRENT)]

    async def free(engine: AsyncEngine) -> list[int]:
        async with SqlUnitOfWork(engine) as other:
            told = await tell_freed(other, o.id or 0, start, NOW)
            await other.commit()
        return told

    try:
        waves = await asyncio.gather(*(free(engine) for engine in engines))
    finally:
        for engine in engines:
            await engine.dispose()
    told = sorted(entry for wave_ in waves for entry in wave_)
    assert told == list(range(1, 5 * CONCURRENT + 1))  # the first thirty, no one twice
    assert all(len(wave_) == WAVE for wave_ in waves)
    written = await notices(uow)
    assert len(written) == len(set(written)) == 5 * CONCURRENT


async def test_the_mentors_hours_opening_times_tell_the_people_waiting(uow: SqlUnitOfWork) -> None:
    o = await waiting(uow, 1)  # entry 1: Meera, any date
    clock = FixedClock(NOW)
    monday, tuesday = date(2026, 11, 30), date(2026, 12, 1)
    async with uow:
        for n, day in ((1, monday), (2, tuesday)):  # entry 2 waits for Monday, entry 3 for Tuesday (Kolkata)
            await uow.users.add(user(MENTEE_ID + 10 + n, timezone="Asia/Kolkata"))
            await uow.waitlist.add(WaitlistEntry(o.id or 0, MENTEE_ID + 10 + n, day, "Asia/Kolkata", NOW))
        await set_day_off(uow, clock, MENTOR_ID, monday)  # closes times: nobody is told
        await uow.commit()
    assert await notices(uow) == []

    async with uow:  # the day off removed: Monday's times open again
        await remove_exceptions(uow, clock, MENTOR_ID, monday, monday)
        await uow.commit()
    monday_nine = datetime(2026, 11, 30, 3, 30, tzinfo=UTC)  # 9:00 in Kolkata
    assert await notices(uow) == [(MENTEE_ID, monday_nine), (MENTEE_ID + 11, monday_nine)]  # once each, not Tue's

    async with uow:  # evening hours on Tuesday instead of the morning: the evening opens
        await set_date_hours(uow, clock, MENTOR_ID, tuesday, [EVENING])
        await uow.commit()
    tuesday_five = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)  # 17:00 in Kolkata
    assert (await notices(uow))[2:] == [(MENTEE_ID, tuesday_five), (MENTEE_ID + 12, tuesday_five)]

    async with uow:  # Saturday's weekly hours added: the any-date entry hears of the first Saturday time
        await set_days(uow, clock, MENTOR_ID, schedule.PROFILE, [5], [MORNING])
        await uow.commit()
    saturday_nine = datetime(2026, 11, 28, 3, 30, tzinfo=UTC)
    assert (await notices(uow))[4:] == [(MENTEE_ID, saturday_nine)]

    async with uow:  # the same edit again opens nothing; removing hours opens nothing
        await set_days(uow, clock, MENTOR_ID, schedule.PROFILE, [5], [MORNING])
        await clear_day(uow, clock, MENTOR_ID, schedule.PROFILE, 5)
        await uow.commit()
    assert len(await notices(uow)) == 5


async def test_an_edit_nobody_waits_on_reads_no_slots(uow: SqlUnitOfWork) -> None:
    o = await waiting(uow, 0)
    async with uow:
        assert (await free_starts(uow, FixedClock(NOW), MENTOR_ID)).by_offering == {}
    async with uow:
        await uow.users.add(user(MENTEE_ID + 50))
        await uow.waitlist.add(WaitlistEntry(o.id or 0, MENTEE_ID + 50, None, "UTC", NOW))
        found = (await free_starts(uow, FixedClock(NOW), MENTOR_ID)).by_offering
        await uow.offerings.update(o.with_changes(status=OfferingStatus.PAUSED))
        paused = (await free_starts(uow, FixedClock(NOW), MENTOR_ID)).by_offering
    assert list(found) == [o.id] and min(found[o.id or 0]) == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # notice
    assert paused == {o.id: frozenset()}  # waited for, but nothing bookable while paused


# --- an offering's edits, its going live again and busy calendars open times too (rule 4) ------------------------

THURSDAY = date(2026, 11, 26)
EARLY = TimeRange(9 * 60, 10 * 60)  # Thursday's hours in these cases: 9:00-10:00 in Kolkata


def thursday(clock_: str) -> datetime:
    hours, minutes = map(int, clock_.split(":"))
    return datetime(2026, 11, 26, hours, minutes, tzinfo=ZoneInfo("Asia/Kolkata")).astimezone(UTC)


async def waiting_for_thursday(uow: SqlUnitOfWork, *attendees: str, **settings: Any) -> Offering:
    """``waiting(uow, 0)`` with the offering's ``settings``, Thursday's hours 9:00-10:00, confirmed bookings at the
    ``attendees`` times (one mentee each), and one mentee waiting for Thursday (``MENTEE_ID + 90``, Kolkata)."""
    o = await waiting(uow, 0)
    async with uow:
        o = await uow.offerings.update(o.with_changes(**settings))
        await uow.availability.set_override(MENTOR_ID, DateOverride(THURSDAY, (EARLY,)))
        for n, at in enumerate(attendees):
            await uow.users.add(user(MENTEE_ID + 60 + n))
            await uow.bookings.add(booking(o, MENTEE_ID + 60 + n, thursday(at), status=BookingStatus.CONFIRMED))
        await uow.users.add(user(MENTEE_ID + 90, timezone="Asia/Kolkata"))
        await uow.waitlist.add(WaitlistEntry(o.id or 0, MENTEE_ID + 90, THURSDAY, "Asia/Kolkata", NOW))
        await uow.commit()
    return o


NO_BUFFERS: dict[str, Any] = {"buffer_before_minutes": 0, "buffer_after_minutes": 0}


@dataclass(frozen=True)
class Edit:
    """The offering's ``settings`` and Thursday's bookings (``attendees``), one edit (``field`` set to ``value``;
    setting it back closes what it opens), and the first time the edit opens on Thursday."""

    settings: dict[str, Any]
    attendees: tuple[str, ...]
    field: F
    attribute: str
    value: str
    opened: str


EDITS = {
    "shorter session": Edit(
        {"duration_minutes": 90, **NO_BUFFERS}, (), F.DURATION, "duration_minutes", "60", "9:00"
    ),
    "shorter buffer": Edit(
        {"buffer_before_minutes": 60, "buffer_after_minutes": 0}, ("9:00",), F.BUFFER_BEFORE,
        "buffer_before_minutes", "0", "9:30",
    ),
    "more seats": Edit(
        {"capacity": 2, "duration_minutes": 60, **NO_BUFFERS}, ("9:00", "9:00"), F.CAPACITY,
        "capacity", "3", "9:00",
    ),
    "higher daily limit": Edit(
        {"max_bookings_per_day": 1, **NO_BUFFERS}, ("9:00",), F.DAILY_LIMIT, "max_bookings_per_day", "2", "9:30"
    ),
    "longer booking window": Edit(
        {"advance_booking_days": 1}, (), F.ADVANCE_DAYS, "advance_booking_days", "3", "9:00"
    ),
    "shorter notice": Edit({"min_notice_hours": 72}, (), F.MIN_NOTICE, "min_notice_hours", "24", "9:00"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(EDITS))
async def test_an_offering_edit_that_opens_times_tells_the_people_waiting(uow: SqlUnitOfWork, case: str) -> None:
    edit = EDITS[case]
    o = await waiting_for_thursday(uow, *edit.attendees, **edit.settings)
    was = str(getattr(o, edit.attribute))
    clock = FixedClock(NOW)
    async with uow:  # an edit that opens nothing (nor the same value again) tells no one
        await edit_offering(uow, clock, MENTOR_ID, o.id or 0, F.TITLE, "Career chat")
        await edit_offering(uow, clock, MENTOR_ID, o.id or 0, edit.field, was)
        await uow.commit()
    assert await notices(uow) == []
    async with uow:
        await edit_offering(uow, clock, MENTOR_ID, o.id or 0, edit.field, edit.value)
        await uow.commit()
    assert await notices(uow) == [(MENTEE_ID + 90, thursday(edit.opened))]  # once, the earliest time it opened
    async with uow:  # back and forth again: never the same time twice (another time it opens, if any: rule 3)
        await edit_offering(uow, clock, MENTOR_ID, o.id or 0, edit.field, was)
        await edit_offering(uow, clock, MENTOR_ID, o.id or 0, edit.field, edit.value)
        await uow.commit()
    again = await notices(uow)
    assert again[0] == (MENTEE_ID + 90, thursday(edit.opened)) and len(set(again)) == len(again) <= 2


async def test_an_offering_live_again_tells_the_people_still_waiting(uow: SqlUnitOfWork) -> None:
    o = await waiting(uow, 2)
    clock = FixedClock(NOW)
    async with uow:
        await set_offering_status(uow, clock, MENTOR_ID, o.id or 0, OfferingStatus.PAUSED)
        await uow.commit()
    assert await notices(uow) == []
    async with uow:  # resumed: each of them hears of its first free time (Wednesday 11:30 in Kolkata), once
        await set_offering_status(uow, clock, MENTOR_ID, o.id or 0, OfferingStatus.ACTIVE)
        await set_offering_status(uow, clock, MENTOR_ID, o.id or 0, OfferingStatus.ACTIVE)  # already live
        await uow.commit()
    wednesday = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    assert await notices(uow) == [(MENTEE_ID, wednesday), (MENTEE_ID + 1, wednesday)]


async def test_a_busy_calendar_read_with_less_or_removed_tells_the_people_waiting(uow: SqlUnitOfWork) -> None:
    await waiting_for_thursday(uow, **NO_BUFFERS)
    clock = FixedClock(NOW)
    async with uow:
        first = await uow.calendars.add(BusyCalendar(MENTOR_ID, "https://example.com/a.ics", NOW))
        second = await uow.calendars.add(BusyCalendar(MENTOR_ID, "https://example.com/b.ics", NOW))
        for calendar in (first, second):
            plan = await calendars.plan_read(uow, clock, calendar.id or 0)
            assert plan is not None
            await calendars.record_read(uow, clock, plan, ReadOk(None, None, [busy_until("10:00")]))
        await uow.commit()
    assert await notices(uow) == []  # both block all of Thursday's hours

    async with uow:  # the first is read again with 9:00-9:30 only: still blocked by the second
        plan = await calendars.plan_read(uow, clock, first.id or 0)
        assert plan is not None
        await calendars.record_read(uow, clock, plan, ReadOk(None, None, [busy_until("9:30")]))
        await uow.commit()
    assert await notices(uow) == []
    async with uow:  # the second is removed: 9:30 opens (9:00 is still busy in the first)
        await calendars.remove_calendar(uow, clock, MENTOR_ID, second.id or 0)
        await uow.commit()
    assert await notices(uow) == [(MENTEE_ID + 90, thursday("9:30"))]
    async with uow:  # the first read again with nothing in it, unchanged (304), and failing: 9:00 opens, once
        plan = await calendars.plan_read(uow, clock, first.id or 0)
        assert plan is not None
        await calendars.record_read(uow, clock, plan, ReadOk(None, None, []))
        await calendars.record_read(uow, clock, plan, ReadOk(None, None, None))
        await calendars.record_read(uow, clock, plan, Failure(Problem.HTTP, 404))
        await uow.commit()
    assert await notices(uow) == [(MENTEE_ID + 90, thursday("9:30")), (MENTEE_ID + 90, thursday("9:00"))]


def busy_until(end: str) -> BusyInterval:
    """Busy on Thursday from 8:00 (Kolkata) to ``end``."""
    return BusyInterval(thursday("8:00"), thursday(end))
