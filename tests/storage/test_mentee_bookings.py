"""The mentee's queries agree with ``domain.mentee``, and ``book_slot`` keeps the limit per mentor - also when one
mentee's requests race - on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.errors import TooManyBookings
from domain.mentee import MyTab, counts_towards_limit, my_tab_of
from domain.model import Booking, BookingStatus, Offering, TimeRange, WeeklyRule
from domain.usecases.booking import BookingRequest, book_slot, change_status
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, T0, booking, offering, seed, user
from tests.storage.test_booking_race import race

S = BookingStatus
OTHER_MENTOR = 1002
OTHER_MENTEE = 2002
DAY = timedelta(days=1)


async def test_tabs_counts_pages_and_the_limit_count_match_the_definitions(uow: SqlUnitOfWork) -> None:
    mine, other_mentor = await seed(
        uow,
        user(MENTOR_ID, is_mentor=True),
        user(OTHER_MENTOR, is_mentor=True),
        user(MENTEE_ID),
        user(OTHER_MENTEE),
        offerings=(offering(), offering(OTHER_MENTOR)),
    )
    rng = random.Random(11)
    now = T0
    added = []
    async with uow:
        for _ in range(60):
            status = rng.choice(list(S))
            start = now + timedelta(minutes=30 * rng.randint(-300, 300))
            which = rng.choice((mine, other_mentor))
            added.append(await uow.bookings.add(booking(which, start=start, status=status)))
            # another mentee's bookings never show up
            await uow.bookings.add(booking(mine, mentee_id=OTHER_MENTEE, start=start, status=status))
        for minutes_ago in (30, 29):  # a confirmed session ending exactly now is past; a minute later, upcoming
            start = now - timedelta(minutes=minutes_ago)
            added.append(await uow.bookings.add(booking(mine, start=start, status=S.CONFIRMED)))
        await uow.commit()

    async with uow:
        counts = await uow.bookings.count_mentee_tabs(MENTEE_ID, now)
        assert counts == {tab: sum(my_tab_of(b, now) == tab for b in added) for tab in MyTab}
        assert sum(counts.values()) == len(added) and all(counts.values())
        for tab in MyTab:
            want = sorted((b for b in added if my_tab_of(b, now) == tab), key=lambda b: (b.scheduled_at, b.id))
            if tab != MyTab.UPCOMING:
                want.reverse()  # latest first
            got = []
            for offset in range(0, len(want) + 5, 5):
                page = await uow.bookings.list_mentee_tab(MENTEE_ID, tab, now, 5, offset)
                assert len(page) <= 5
                got += page
            assert got == want, tab

        for mentor_id in (MENTOR_ID, OTHER_MENTOR):
            expected = sum(b.mentor_id == mentor_id and counts_towards_limit(b, now) for b in added)
            assert await uow.bookings.count_open_with_mentor(MENTEE_ID, mentor_id, now) == expected
            assert expected
        assert await uow.bookings.count_mentee_tabs(OTHER_MENTOR, now) == dict.fromkeys(MyTab, 0)


async def _bookable(uow: SqlUnitOfWork, *offerings: Offering) -> list[Offering]:
    added = await seed(uow, user(MENTOR_ID, is_mentor=True, timezone="UTC"), user(MENTEE_ID), offerings=offerings)
    async with uow:
        # Monday 09:00-17:00 UTC; T0 is Monday 10:00 UTC, three days after the clock below
        await uow.availability.replace_weekly(MENTOR_ID, [WeeklyRule(0, TimeRange(9 * 60, 17 * 60))])
        await uow.commit()
    return added


CLOCK_AT = T0 - 3 * DAY


async def _book(uow: SqlUnitOfWork, offering_: Offering, hour: int, limit: int = 3) -> Booking:
    async with uow:
        request = BookingRequest(offering_.id or 0, MENTEE_ID, T0 + timedelta(hours=hour))
        view = await book_slot(uow, FixedClock(CLOCK_AT), request, max_active_per_mentor=limit)
        await uow.commit()
        return view.booking


async def test_book_slot_refuses_the_fourth_open_booking_with_one_mentor(uow: SqlUnitOfWork) -> None:
    first, second = await _bookable(uow, offering(), offering(title="Other offering"))
    # the limit is per mentor, across the mentor's offerings
    made = [await _book(uow, first, 0), await _book(uow, second, 1), await _book(uow, first, 2)]
    with pytest.raises(TooManyBookings) as refused:
        await _book(uow, second, 3)
    assert refused.value.limit == 3
    async with uow:
        assert await uow.bookings.count_open_with_mentor(MENTEE_ID, MENTOR_ID, CLOCK_AT) == 3
        stored = await uow.offerings.get(second.id or 0)
        assert stored is not None and stored.total_bookings == 1  # the refused one moved no counter

    # a cancelled one frees a place; a setting of 5 allows more
    async with uow:
        await change_status(uow, FixedClock(CLOCK_AT), MENTEE_ID, made[0].id or 0, S.CANCELLED, "clash")
        await uow.commit()
    await _book(uow, second, 3)
    with pytest.raises(TooManyBookings):
        await _book(uow, first, 4)
    await _book(uow, first, 4, limit=5)


async def test_racing_requests_by_one_mentee_never_pass_the_limit(db_url: str, uow: SqlUnitOfWork) -> None:
    """Six requests for six different times at once, each on its own engine: exactly three are booked."""
    [o] = await _bookable(uow, offering())

    def attempt(hour: int):
        async def run(factory: AsyncEngine) -> object:
            return await _book(SqlUnitOfWork(factory), o, hour)

        return run

    result = await race(db_url, [attempt(hour) for hour in range(6)])
    refused = [e for e in result.failed if isinstance(e, TooManyBookings)]
    others = [e for e in result.failed if not isinstance(e, TooManyBookings)]
    assert others == [], [repr(e) for e in others[:3]]
    assert (len(result.won), len(refused)) == (3, 3)
    async with uow:
        assert await uow.bookings.count_open_with_mentor(MENTEE_ID, MENTOR_ID, CLOCK_AT) == 3
