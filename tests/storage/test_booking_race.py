"""Fifty people press "Book" for the same time at once: exactly one gets it, on SQLite and on PostgreSQL.

Every attempt runs on its own engine (its own connection, as if from its own process). All engines connect
first, then a barrier releases every attempt together.

``attempt_booking`` below is the storage contract the domain's ``book_slot`` relies on, spelled out: lock both
people, read the mentor's active bookings around the slot, refuse on overlap, insert, commit. The last two tests
drive the real ``domain.usecases.booking.book_slot`` the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.errors import SlotTaken
from domain.model import Booking, Offering, TimeRange, WeeklyRule
from domain.usecases.booking import BookingRequest, book_slot
from storage.engine import create_engine
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTOR_ID, T0, booking, offering, seed, user

ATTEMPTS = 50
MENTEES = [3000 + i for i in range(ATTEMPTS)]
DAY = timedelta(days=1)


def _blocks_overlap(a: Booking, b: Booking) -> bool:
    return a.blocked_from < b.blocked_until and b.blocked_from < a.blocked_until


async def attempt_booking(engine: AsyncEngine, offering_: Offering, mentee_id: int, start: datetime) -> Booking:
    """What ``book_slot`` does with storage, minus the domain rules that do not matter for the race."""
    candidate = booking(offering_, mentee_id=mentee_id, start=start)
    async with SqlUnitOfWork(engine) as uow:
        await uow.lock_users(*sorted({offering_.mentor_id, mentee_id}))
        busy = await uow.bookings.active_for_mentor(offering_.mentor_id, start - DAY, candidate.ends_at + DAY)
        if any(_blocks_overlap(candidate, b) for b in busy):
            raise SlotTaken()
        added = await uow.bookings.add(candidate)
        await uow.commit()
        return added


@dataclass
class RaceResult:
    won: list[object]
    lost: list[SlotTaken]
    failed: list[BaseException]
    seconds: float

    @classmethod
    def of(cls, outcomes: Sequence[object], seconds: float) -> RaceResult:
        return cls(
            won=[o for o in outcomes if not isinstance(o, BaseException)],
            lost=[o for o in outcomes if isinstance(o, SlotTaken)],
            failed=[o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, SlotTaken)],
            seconds=seconds,
        )


Attempt = Callable[[AsyncEngine], Awaitable[object]]


async def race(db_url: str, attempts: Sequence[Attempt]) -> RaceResult:
    """Run every attempt at once, each on a separate, already connected engine."""
    engines = [create_engine(db_url) for _ in attempts]
    try:

        async def connect(engine: AsyncEngine) -> None:
            async with engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")

        await asyncio.gather(*(connect(e) for e in engines))
        go = asyncio.Event()

        async def run(engine_index: int, attempt: Attempt) -> object:
            await go.wait()
            return await attempt(engines[engine_index])

        tasks = [asyncio.create_task(run(i, a)) for i, a in enumerate(attempts)]
        await asyncio.sleep(0.05)  # every task is parked on the barrier
        started = time.perf_counter()
        go.set()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        seconds = time.perf_counter() - started
    finally:
        await asyncio.gather(*(e.dispose() for e in engines))
    return RaceResult.of(outcomes, seconds)


def report(request: pytest.FixtureRequest, result: RaceResult) -> None:
    request.node.user_properties.append(("race_seconds", round(result.seconds, 3)))
    print(f"\nRACE {request.node.name}: {ATTEMPTS} attempts in {result.seconds:.3f}s")


async def stored_bookings(uow: SqlUnitOfWork) -> list[Booking]:
    async with uow:
        return await uow.bookings.active_for_mentor(MENTOR_ID, T0 - 7 * DAY, T0 + 7 * DAY)


def assert_one_winner(result: RaceResult) -> None:
    assert result.failed == [], [repr(e) for e in result.failed[:3]]  # no "database is locked", no deadlocks
    assert (len(result.won), len(result.lost)) == (1, ATTEMPTS - 1)


async def test_fifty_mentees_one_slot(db_url: str, uow: SqlUnitOfWork, request: pytest.FixtureRequest) -> None:
    [o] = await seed(uow, user(MENTOR_ID, is_mentor=True), *map(user, MENTEES), offerings=(offering(),))
    result = await race(db_url, [_attempt(o, m, T0) for m in MENTEES])
    report(request, result)
    assert_one_winner(result)
    assert await stored_bookings(uow) == result.won


async def test_fifty_mentees_one_slot_one_engine(
    engine: AsyncEngine, uow: SqlUnitOfWork, request: pytest.FixtureRequest
) -> None:
    """The single-process bot: fifty tasks sharing one engine (on SQLite they queue on its one connection)."""
    [o] = await seed(uow, user(MENTOR_ID, is_mentor=True), *map(user, MENTEES), offerings=(offering(),))
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(attempt_booking(engine, o, m, T0) for m in MENTEES), return_exceptions=True)
    result = RaceResult.of(outcomes, time.perf_counter() - started)
    report(request, result)
    assert_one_winner(result)
    assert await stored_bookings(uow) == result.won


async def test_fifty_mentees_overlapping_slots_of_two_offerings(
    db_url: str, uow: SqlUnitOfWork, request: pytest.FixtureRequest
) -> None:
    """Half ask for a 60-minute offering at 10:00, half for the same mentor's 30-minute one at 10:30."""
    long, short = await seed(
        uow,
        user(MENTOR_ID, is_mentor=True),
        *map(user, MENTEES),
        offerings=(offering(duration_minutes=60), offering(title="short", duration_minutes=30)),
    )
    attempts: list[Attempt] = [
        _attempt(long, m, T0) if i % 2 else _attempt(short, m, T0 + timedelta(minutes=30))
        for i, m in enumerate(MENTEES)
    ]
    result = await race(db_url, attempts)
    report(request, result)
    assert_one_winner(result)
    assert await stored_bookings(uow) == result.won


def _attempt(offering_: Offering, mentee_id: int, start: datetime) -> Attempt:
    """``attempt_booking`` of ``mentee_id`` at ``start``, for ``race`` to run on its engine."""
    return lambda engine: attempt_booking(engine, offering_, mentee_id, start)


# --- the real use case --------------------------------------------------------------------------------------


def _book_with_use_case(offering_: Offering, mentee_id: int, start: datetime) -> Attempt:
    assert offering_.id is not None
    offering_id = offering_.id

    async def attempt(engine: AsyncEngine) -> object:
        clock = FixedClock(T0 - 3 * DAY)
        async with SqlUnitOfWork(engine) as uow:
            view = await book_slot(uow, clock, BookingRequest(offering_id, mentee_id, start))
            await uow.commit()
            return view.booking

    return attempt


async def _seed_bookable(uow: SqlUnitOfWork, *offerings: Offering) -> list[Offering]:
    added = await seed(
        uow, user(MENTOR_ID, is_mentor=True, timezone="UTC"), *map(user, MENTEES), offerings=offerings
    )
    async with uow:
        # Monday 09:00-17:00 UTC; T0 is Monday 10:00 UTC, three days after the fixed clock.
        await uow.availability.replace_weekly(MENTOR_ID, [WeeklyRule(0, TimeRange(9 * 60, 17 * 60))])
        await uow.commit()
    return added


async def test_book_slot_use_case_one_slot(
    db_url: str, uow: SqlUnitOfWork, request: pytest.FixtureRequest
) -> None:
    [o] = await _seed_bookable(uow, offering())
    result = await race(db_url, [_book_with_use_case(o, m, T0) for m in MENTEES])
    report(request, result)
    assert_one_winner(result)
    assert await stored_bookings(uow) == result.won
    async with uow:
        stored = await uow.offerings.get(o.id or 0)
        assert stored is not None and stored.total_bookings == 1


async def test_book_slot_use_case_overlapping_offerings(
    db_url: str, uow: SqlUnitOfWork, request: pytest.FixtureRequest
) -> None:
    long, short = await _seed_bookable(
        uow, offering(duration_minutes=60), offering(title="short", duration_minutes=30)
    )
    attempts: list[Attempt] = [
        _book_with_use_case(long, m, T0) if i % 2 else _book_with_use_case(short, m, T0 + timedelta(minutes=30))
        for i, m in enumerate(MENTEES)
    ]
    result = await race(db_url, attempts)
    report(request, result)
    assert_one_winner(result)
    assert await stored_bookings(uow) == result.won
