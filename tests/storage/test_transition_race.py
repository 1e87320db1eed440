"""A mentor and a mentee change the same booking at the same moment: the changes happen one after the other.

A pending booking may be declined by its mentor or cancelled by its mentee, not both: once one of them has
happened, the other move is no longer allowed (``domain.booking``). When the two requests run at once - two
people pressing buttons, two bot processes - each must see the other's committed change, so exactly one wins.
Without a lock on the booking row both read "pending" on PostgreSQL (READ COMMITTED), both moves pass the rules,
both are written, and both people are told their move happened; SQLite's immediate transactions already run one
after the other.

Each attempt runs on its own engine (``race``), through the real use cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.errors import InvalidTransition
from domain.model import Booking, BookingStatus
from domain.usecases.booking import change_status
from domain.usecases.my_bookings import cancel_as_mentee
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTOR_ID, T0, booking, offering, seed, user
from tests.storage.test_booking_race import Attempt, race

PAIRS = 12  # bookings, each raced by its mentor and its mentee
MENTEES = [5000 + i for i in range(PAIRS)]
CLOCK = FixedClock(T0 - timedelta(days=2))


async def _pending_bookings(uow: SqlUnitOfWork) -> list[Booking]:
    [offering_] = await seed(uow, user(MENTOR_ID, is_mentor=True), *map(user, MENTEES), offerings=(offering(),))
    async with uow:
        added = [
            await uow.bookings.add(booking(offering_, mentee_id=m, start=T0 + timedelta(hours=i)))
            for i, m in enumerate(MENTEES)
        ]
        await uow.commit()
    return added


def _mentor_declines(booking_id: int) -> Attempt:
    async def attempt(engine: AsyncEngine) -> object:
        async with SqlUnitOfWork(engine) as uow:
            view = await change_status(uow, CLOCK, MENTOR_ID, booking_id, BookingStatus.DECLINED, "busy that day")
            await uow.commit()
            return view.booking

    return attempt


def _mentee_cancels(booking_id: int, mentee_id: int) -> Attempt:
    async def attempt(engine: AsyncEngine) -> object:
        async with SqlUnitOfWork(engine) as uow:
            view = await cancel_as_mentee(uow, CLOCK, mentee_id, booking_id, "plans changed")
            await uow.commit()
            return view.booking

    return attempt


def _winners(outcomes: Sequence[object]) -> list[Booking]:
    return [o for o in outcomes if isinstance(o, Booking)]


async def test_decline_and_cancel_at_once_one_wins(db_url: str, uow: SqlUnitOfWork) -> None:
    pending = await _pending_bookings(uow)
    attempts: list[Attempt] = []
    for b in pending:
        assert b.id is not None
        attempts += [_mentor_declines(b.id), _mentee_cancels(b.id, b.mentee_id)]

    result = await race(db_url, attempts)

    losers = [e for e in result.failed if not isinstance(e, InvalidTransition)]
    assert losers == [], [repr(e) for e in losers[:3]]  # the other move is refused, nothing else goes wrong
    won = _winners(result.won)
    assert len(result.failed) == PAIRS
    assert sorted(w.id or 0 for w in won) == sorted(b.id or 0 for b in pending)  # one winner per booking
    async with uow:
        for w in won:
            stored = await uow.bookings.get(w.id or 0)
            assert stored is not None and stored.status == w.status  # what the winner was told is what is stored
    assert {w.status for w in won} <= {BookingStatus.DECLINED, BookingStatus.CANCELLED}
