"""Rescheduling on SQLite and PostgreSQL: a move and forty-nine other mentees' bookings race for the same new time
and exactly one gets it; a time asked for is held (no one else books it) until the mentor answers; the new columns
round-trip, and the held times are read by the index range the booking steps use."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.errors import SlotTaken
from domain.model import Actor, BookingStatus, Offering
from domain.reschedule import NoProposal
from domain.usecases.booking import BookingRequest, book_slot, change_status
from domain.usecases.reschedule import answer_move, pick_proposal, propose_times, reschedule
from storage.db import listen_to_selects
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTOR_ID, T0, booking, offering, seed, user
from tests.storage.test_booking_race import (
    ATTEMPTS,
    MENTEES,
    Attempt,
    _seed_bookable,
    assert_one_winner,
    race,
    report,
)

CLOCK = FixedClock(T0 - timedelta(days=3))
NEW = T0 + timedelta(hours=2)  # Monday 12:00 UTC
MOVER = MENTEES[0]


async def _booked(uow: SqlUnitOfWork, o: Offering) -> int:
    async with uow:
        view = await book_slot(uow, CLOCK, BookingRequest(o.id or 0, MOVER, T0), max_active_per_mentor=100)
        await uow.commit()
    assert view.booking.id is not None
    return view.booking.id


def _move(booking_id: int) -> Attempt:
    async def attempt(engine: AsyncEngine) -> object:
        async with SqlUnitOfWork(engine) as uow:
            view = await reschedule(uow, CLOCK, MOVER, booking_id, NEW, 2)
            await uow.commit()
            return view.booking

    return attempt


def _book(o: Offering, mentee_id: int) -> Attempt:
    async def attempt(engine: AsyncEngine) -> object:
        async with SqlUnitOfWork(engine) as uow:
            view = await book_slot(uow, CLOCK, BookingRequest(o.id or 0, mentee_id, NEW))
            await uow.commit()
            return view.booking

    return attempt


async def _taking_new(uow: SqlUnitOfWork) -> list[tuple[int, datetime]]:
    """Who has NEW now: a booking there, or a booking holding it for a move."""
    async with uow:
        found = await uow.bookings.active_for_mentor(MENTOR_ID, NEW - timedelta(hours=3), NEW + timedelta(hours=3))
        held = await uow.bookings.requested_for_mentor(
            MENTOR_ID, NEW - timedelta(hours=3), NEW + timedelta(hours=3)
        )
    return [(b.mentee_id, b.scheduled_at) for b in found if b.scheduled_at == NEW] + [
        (b.mentee_id, b.requested_start) for b in held if b.requested_start == NEW
    ]


@pytest.mark.parametrize("price", [Decimal(0), Decimal(500)], ids=["moves-at-once", "asks-the-mentor"])
async def test_a_move_and_bookings_race_for_one_new_time(
    db_url: str, uow: SqlUnitOfWork, request: pytest.FixtureRequest, price: Decimal
) -> None:
    [o] = await _seed_bookable(uow, offering(price=price))
    booking_id = await _booked(uow, o)
    if price:  # a paid request is confirmed by the mentor first; the move then waits for their answer
        async with uow:
            await change_status(uow, CLOCK, MENTOR_ID, booking_id, BookingStatus.CONFIRMED)
            await uow.commit()
    attempts = [_move(booking_id), *(_book(o, mentee) for mentee in MENTEES[1:])]
    assert len(attempts) == ATTEMPTS
    result = await race(db_url, attempts)
    report(request, result)
    assert_one_winner(result)
    [(winner, _at)] = await _taking_new(uow)
    [won] = result.won
    assert winner == won.mentee_id  # type: ignore[attr-defined]
    async with uow:
        stored = await uow.bookings.get(booking_id)
    assert stored is not None
    if winner == MOVER:
        assert (stored.scheduled_at if not price else stored.requested_start) == NEW
    else:
        assert (stored.scheduled_at, stored.requested_start, stored.reschedules) == (T0, None, 0)


async def test_a_time_asked_for_is_held_until_the_mentor_answers(uow: SqlUnitOfWork) -> None:
    [o] = await _seed_bookable(uow, offering())
    booking_id = await _booked(uow, o)
    async with uow:
        await change_status(uow, CLOCK, MENTOR_ID, booking_id, BookingStatus.CONFIRMED)
        asked = await reschedule(uow, CLOCK, MOVER, booking_id, NEW, 2)
        await uow.commit()
    assert (asked.booking.scheduled_at, asked.booking.requested_start) == (T0, NEW)
    with pytest.raises(SlotTaken):
        async with uow:
            await book_slot(uow, CLOCK, BookingRequest(o.id or 0, MENTEES[1], NEW))
    async with uow:
        kept = await answer_move(uow, CLOCK, MENTOR_ID, booking_id, NEW, approve=False)
        await uow.commit()
    assert (kept.booking.scheduled_at, kept.booking.requested_start) == (T0, None)
    async with uow:  # free again
        other = await book_slot(uow, CLOCK, BookingRequest(o.id or 0, MENTEES[1], NEW))
        await uow.commit()
    assert other.booking.scheduled_at == NEW


async def test_the_move_columns_round_trip(uow: SqlUnitOfWork) -> None:
    [o] = await seed(
        uow, user(MENTOR_ID, is_mentor=True), user(MOVER), offerings=(offering(reschedule_cutoff_hours=6),)
    )
    async with uow:
        added = await uow.bookings.add(booking(o, MOVER, status=BookingStatus.CONFIRMED))
        changed = added.with_changes(
            scheduled_at=NEW, moved_from=T0, moved_by=Actor.MENTEE, reschedules=1,
            requested_start=NEW + timedelta(days=1), requested_at=T0 - timedelta(days=1),
        )  # fmt: skip
        saved = await uow.bookings.update(changed)
        await uow.commit()
    async with uow:
        loaded = await uow.bookings.get(added.id or 0)
        stored_offering = await uow.offerings.get(o.id or 0)
        held = await uow.bookings.requested_for_mentor(
            MENTOR_ID, NEW + timedelta(days=1), NEW + timedelta(days=1, hours=1)
        )
        elsewhere = await uow.bookings.requested_for_mentor(
            MENTOR_ID, NEW + timedelta(days=5), NEW + timedelta(days=6)
        )
    assert loaded == saved and loaded.sequence == added.sequence + 1
    assert stored_offering is not None and stored_offering.reschedule_cutoff_hours == 6
    assert [b.id for b in held] == [added.id] and elsewhere == []


async def test_a_steps_bookings_and_held_times_come_in_one_statement(
    uow: SqlUnitOfWork, engine: AsyncEngine
) -> None:
    """``blocking_for_mentor`` is ``active_for_mentor`` and ``requested_for_mentor`` together, in one statement."""
    [o] = await seed(uow, user(MENTOR_ID, is_mentor=True), user(MOVER), user(MENTEES[1]), offerings=(offering(),))
    async with uow:
        moving = await uow.bookings.add(booking(o, MOVER, status=BookingStatus.CONFIRMED))
        await uow.bookings.update(moving.with_changes(requested_start=NEW, requested_at=T0 - timedelta(days=1)))
        later = await uow.bookings.add(booking(o, MENTEES[1], start=NEW + timedelta(hours=3)))
        await uow.commit()
    statements: list[str] = []
    listen_to_selects(engine, lambda sql, arguments: statements.append(sql))  # SQLite's reads in one call
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    found = []
    for start, end in [
        (NEW - timedelta(hours=3), NEW + timedelta(hours=6)),  # both bookings, and the time held
        (T0 - timedelta(hours=1), T0 + timedelta(hours=1)),  # around the moving booking's own time
        (NEW + timedelta(days=3), NEW + timedelta(days=4)),  # nothing
    ]:
        async with uow:
            apart = (
                await uow.bookings.active_for_mentor(MENTOR_ID, start, end),
                await uow.bookings.requested_for_mentor(MENTOR_ID, start, end),
            )
            statements.clear()
            together = await uow.bookings.blocking_for_mentor(MENTOR_ID, start, end)
        assert together == apart and len(statements) == 1
        found.append([[b.id for b in part] for part in together])
    assert found[0] == [[moving.id, later.id], [moving.id]] and found[2] == [[], []]


def _pick(booking_id: int, start: datetime) -> Attempt:
    async def attempt(engine: AsyncEngine) -> object:
        async with SqlUnitOfWork(engine) as uow:
            view = await pick_proposal(uow, CLOCK, MOVER, booking_id, start, 2)
            await uow.commit()
            return view.booking

    return attempt


async def test_proposed_times_pressed_at_once_move_the_booking_once(
    db_url: str, uow: SqlUnitOfWork, request: pytest.FixtureRequest
) -> None:
    """The mentee's two proposed times, each pressed 25 times at once (double taps, two devices): one press moves
    the booking, every other one is refused as no longer on offer."""
    [o] = await _seed_bookable(uow, offering())
    booking_id = await _booked(uow, o)
    times = [NEW, NEW + timedelta(hours=1)]
    async with uow:
        await change_status(uow, CLOCK, MENTOR_ID, booking_id, BookingStatus.CONFIRMED)
        await propose_times(uow, CLOCK, MENTOR_ID, booking_id, times, "sorry", 2)
        await uow.commit()
    result = await race(db_url, [_pick(booking_id, times[i % 2]) for i in range(ATTEMPTS)])
    report(request, result)
    [won] = result.won
    assert len(result.failed) == ATTEMPTS - 1 and all(isinstance(e, NoProposal) for e in result.failed)
    async with uow:
        stored = await uow.bookings.get(booking_id)
    assert stored is not None and stored.scheduled_at == won.scheduled_at in times  # type: ignore[attr-defined]
    assert (stored.reschedules, stored.moved_by, stored.proposals) == (1, Actor.MENTOR, ())
