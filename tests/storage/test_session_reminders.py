"""The mentor's reminders of a session, through the real repositories on SQLite and PostgreSQL: one per session and
lead however many attend (each attendee still has their own), created by the first attendee, removed by the last
one leaving, moved with a moved session, and right when an attendee joins while the last other one leaves."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.model import BookingStatus, TimeRange, WeeklyRule
from domain.notifications import NotificationKind
from domain.usecases.booking import BookingRequest, book_slot, change_status
from domain.usecases.notifications import session_views
from domain.usecases.reschedule import reschedule
from storage.outbox import OutboxRecord
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTOR_ID, T0, offering, seed, user

S = BookingStatus
K = NotificationKind
CLOCK = FixedClock(T0 - timedelta(days=3))
MENTEES = [7100 + i for i in range(12)]
HOUR = timedelta(hours=1)


async def _mentor(uow: SqlUnitOfWork, capacity: int) -> int:
    [added] = await seed(
        uow,
        user(MENTOR_ID, is_mentor=True, timezone="UTC"),
        *map(user, MENTEES),
        offerings=(offering(capacity=capacity, price=Decimal(0), max_bookings_per_day=8, buffer_after_minutes=0),),
    )
    async with uow:  # Mondays 09:00-17:00 UTC; T0 is Monday 10:00
        await uow.availability.replace_weekly(MENTOR_ID, [WeeklyRule(0, TimeRange(9 * 60, 17 * 60))])
        await uow.commit()
    assert added.id is not None
    return added.id


async def _book(engine: AsyncEngine, offering_id: int, mentee_id: int, start: datetime = T0) -> int:
    async with SqlUnitOfWork(engine) as uow:
        view = await book_slot(uow, CLOCK, BookingRequest(offering_id, mentee_id, start))
        await uow.commit()
    assert view.booking.id is not None
    return view.booking.id


async def _cancel(engine: AsyncEngine, person_id: int, booking_id: int) -> None:
    async with SqlUnitOfWork(engine) as uow:
        await change_status(uow, CLOCK, person_id, booking_id, S.CANCELLED, "cannot come")
        await uow.commit()


async def _pending(uow: SqlUnitOfWork, kind: NotificationKind) -> list[OutboxRecord]:
    async with uow:
        records = await uow.outbox.records()
    return [r for r in records if r.kind == kind.value and r.status == "pending"]


async def test_five_attendees_give_the_mentor_one_reminder_per_lead_until_the_last_leaves(
    engine: AsyncEngine, uow: SqlUnitOfWork
) -> None:
    group = await _mentor(uow, capacity=5)
    booked = [await _book(engine, group, mentee) for mentee in MENTEES[:5]]
    mentors = await _pending(uow, K.SESSION_REMINDER)
    assert sorted((r.recipient_id, T0 - r.due_at) for r in mentors) == [(MENTOR_ID, HOUR), (MENTOR_ID, 24 * HOUR)]
    assert len({r.key for r in mentors}) == 2
    attendees = await _pending(uow, K.REMINDER)
    assert sorted(r.recipient_id for r in attendees) == sorted(MENTEES[:5] * 2)  # each attendee their own
    assert MENTOR_ID not in {r.recipient_id for r in attendees}

    for mentee, booking_id in list(zip(MENTEES, booked, strict=False))[:4]:
        await _cancel(engine, mentee, booking_id)
    assert {r.key for r in await _pending(uow, K.SESSION_REMINDER)} == {r.key for r in mentors}  # one still comes
    async with uow:
        [still] = await session_views(uow, MENTOR_ID, T0)
    assert still.mentee.id == MENTEES[4]

    await _cancel(engine, MENTEES[4], booked[4])  # the last one leaves: the mentor's reminders go
    assert await _pending(uow, K.SESSION_REMINDER) == []
    await _book(engine, group, MENTEES[5])  # the first one back brings them again
    assert {r.key for r in await _pending(uow, K.SESSION_REMINDER)} == {r.key for r in mentors}


async def test_a_bookings_own_plan_never_withdraws_its_sessions_reminders(
    engine: AsyncEngine, uow: SqlUnitOfWork
) -> None:
    group = await _mentor(uow, capacity=2)
    first = await _book(engine, group, MENTEES[0])
    await _book(engine, group, MENTEES[1])
    async with uow:  # the first attendee's own timed rows re-planned to nothing (as on a change)
        await uow.outbox.replace_timed(first, [])
        await uow.commit()
    assert len(await _pending(uow, K.SESSION_REMINDER)) == 2  # they are the session's, the other still comes


async def test_a_moved_session_takes_the_mentors_reminders_along(engine: AsyncEngine, uow: SqlUnitOfWork) -> None:
    one = await _mentor(uow, capacity=1)
    booking_id = await _book(engine, one, MENTEES[0])
    async with SqlUnitOfWork(engine) as moving:
        await reschedule(moving, CLOCK, MENTEES[0], booking_id, T0 + 2 * HOUR, max_moves=2)
        await moving.commit()
    mentors = await _pending(uow, K.SESSION_REMINDER)
    assert sorted(T0 + 2 * HOUR - r.due_at for r in mentors) == [HOUR, 24 * HOUR]


async def _wait_for_a_lock_wait(engine: AsyncEngine) -> None:
    """PostgreSQL: until some other connection waits for a row lock (the leaving transaction, blocked on the
    joining one's reminder rows). SQLite: the second transaction waits for the database's write lock instead,
    which nothing outside it can see; the order is the same."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as connection:
        for _attempt in range(500):
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            )
            if waiting:
                return
            await connection.rollback()
            await asyncio.sleep(0.02)  # polling the server's own view of the wait, not standing in for it
    raise AssertionError("the leaving transaction never waited for the joining one")


async def test_an_attendee_joining_while_the_last_other_one_leaves_keeps_the_reminders(
    engine: AsyncEngine, uow: SqlUnitOfWork
) -> None:
    group = await _mentor(uow, capacity=3)
    first = await _book(engine, group, MENTEES[0])
    # The mentor cancels the first attendee (the message goes to that mentee, so nothing the joining booking locks
    # is on its way) while a new attendee's booking is written, not committed yet: the leaving transaction sees
    # nobody else, and must wait for the joining one before withdrawing the session's reminders.
    async with SqlUnitOfWork(engine) as joining:
        await book_slot(joining, CLOCK, BookingRequest(group, MENTEES[1], T0))
        leaving = asyncio.create_task(_cancel(engine, MENTOR_ID, first))
        await _wait_for_a_lock_wait(engine)
        await joining.commit()
    await leaving
    assert len(await _pending(uow, K.SESSION_REMINDER)) == 2  # the new attendee's session keeps its reminders
    async with uow:
        [attending] = await session_views(uow, MENTOR_ID, T0)
    assert attending.mentee.id == MENTEES[1]


async def test_many_attendees_joining_and_leaving_at_once_leave_reminders_exactly_where_someone_comes(
    engine: AsyncEngine, uow: SqlUnitOfWork
) -> None:
    group = await _mentor(uow, capacity=3)
    starts = [T0 + n * HOUR for n in range(6)]  # six sessions, each with one attendee who leaves as another joins
    firsts = [await _book(engine, group, MENTEES[n], start) for n, start in enumerate(starts)]
    await asyncio.gather(
        *(_cancel(engine, MENTOR_ID, booking_id) for booking_id in firsts),
        *(_book(engine, group, MENTEES[6 + n], start) for n, start in enumerate(starts)),
    )
    rows = await _pending(uow, K.SESSION_REMINDER)
    async with uow:
        attended = [start for start in starts if await session_views(uow, MENTOR_ID, start)]
    assert attended == starts
    assert sorted(len([r for r in rows if r.due_at + HOUR == s or r.due_at + 24 * HOUR == s]) for s in starts) == [
        2
    ] * len(starts)  # every session someone attends has its two reminders, each once
