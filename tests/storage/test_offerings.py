from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.errors import NotFound
from domain.model import Category, Offering, OfferingStatus, StatsDelta, TimeRange, WeeklyRule
from storage.models import OfferingRow
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTOR_ID, offering, seed, user

OTHER_MENTOR = 1002


def full_offering() -> Offering:
    return offering(
        title="Mock interview — system design",
        description="Bring a problem.\nWe'll whiteboard it. ✏️",
        category=Category.SYSTEM_DESIGN,
        price=Decimal("1234.56"),
        duration_minutes=90,
        use_profile_availability=False,
        weekly_rules=(
            WeeklyRule(0, TimeRange(540, 720)),
            WeeklyRule(0, TimeRange(780, 900)),
            WeeklyRule(6, TimeRange(0, 1440)),
        ),
        buffer_before_minutes=0,
        buffer_after_minutes=15,
        max_bookings_per_day=2,
        advance_booking_days=60,
        min_notice_hours=48,
        cancellation_policy="24h notice",
        preparation_notes="Read the brief",
        capacity=12,
        status=OfferingStatus.PAUSED,
        total_bookings=7,
        total_completed=3,
        rating_sum=14,
        rating_count=3,
    )


async def average_rating_column(uow: SqlUnitOfWork, offering_id: int) -> Decimal | None:
    return await uow.db.scalar(select(OfferingRow.average_rating).where(OfferingRow.id == offering_id))


async def test_offering_round_trip(uow: SqlUnitOfWork) -> None:
    await seed(uow, user(MENTOR_ID, is_mentor=True))
    original = full_offering()
    async with uow:
        added = await uow.offerings.add(original)
        free = await uow.offerings.add(offering(price=Decimal("0"), title="Free chat"))
        await uow.commit()
    assert added.id is not None and free.id is not None and added.id != free.id
    assert added == original.with_changes(id=added.id)
    async with uow:
        assert await uow.offerings.get(added.id) == added
        stored_free = await uow.offerings.get(free.id)
        assert stored_free == free and stored_free.is_free
        assert await uow.offerings.get(404) is None
        assert await average_rating_column(uow, added.id) == Decimal("4.67")  # 14 / 3, set on insert
        assert await average_rating_column(uow, free.id) is None


async def test_get_with_mentor_is_get_and_the_mentor_in_one_read(uow: SqlUnitOfWork) -> None:
    mentor = user(
        MENTOR_ID,
        last_name="Rao",
        username="asha",
        locale="hi",
        timezone="Asia/Kolkata",
        is_mentor=True,
        daily_agenda=False,
    )
    await seed(uow, mentor, user(OTHER_MENTOR, is_mentor=True))
    async with uow:
        ruled = await uow.offerings.add(full_offering())
        plain = await uow.offerings.add(offering(title="No rules of its own"))
        await uow.commit()
    async with uow:
        for added in (ruled, plain):
            assert added.id is not None
            assert await uow.offerings.get_with_mentor(added.id) == (added, mentor)  # rules or none: one mentor
        assert await uow.offerings.get_with_mentor(404) is None


async def test_update_saves_editable_fields_and_rules_but_not_counters(uow: SqlUnitOfWork) -> None:
    [added] = await seed(uow, user(MENTOR_ID), offerings=(full_offering(),))
    edited = offering(
        id=added.id,
        title="Renamed",
        category=Category.CODE_REVIEW,
        price=Decimal("99.90"),
        duration_minutes=45,
        use_profile_availability=True,
        weekly_rules=(WeeklyRule(3, TimeRange(60, 120)),),
        capacity=100,
        status=OfferingStatus.ACTIVE,
        total_bookings=999,  # ignored: counters move through apply_stats only
    )
    async with uow:
        saved = await uow.offerings.update(edited)
        await uow.commit()
    expected = edited.with_changes(total_bookings=7, total_completed=3, rating_sum=14, rating_count=3)
    assert saved == expected
    async with uow:
        assert await uow.offerings.get(added.id or 0) == expected
        with pytest.raises(NotFound):
            await uow.offerings.update(edited.with_changes(id=404))


async def test_list_by_mentor_returns_every_status_oldest_first(uow: SqlUnitOfWork) -> None:
    mine = [offering(title=f"o{i}", status=s) for i, s in enumerate(OfferingStatus)]
    added = await seed(
        uow, user(MENTOR_ID), user(OTHER_MENTOR), offerings=(*mine, offering(OTHER_MENTOR, title="theirs"))
    )
    async with uow:
        assert await uow.offerings.list_by_mentor(MENTOR_ID) == added[:4]
        assert await uow.offerings.list_by_mentor(OTHER_MENTOR) == added[4:]
        assert await uow.offerings.list_by_mentor(404) == []


async def test_apply_stats_adds_and_recomputes_average(uow: SqlUnitOfWork) -> None:
    [added] = await seed(uow, user(MENTOR_ID), offerings=(offering(),))
    oid = added.id or 0
    steps = [
        (StatsDelta(bookings=1), None),
        (StatsDelta(bookings=1), None),
        (StatsDelta(completed=1, rating_sum=5, rating_count=1), Decimal("5.00")),
        (StatsDelta(rating_sum=4, rating_count=1), Decimal("4.50")),
        (StatsDelta(rating_sum=1, rating_count=1), Decimal("3.33")),  # 10/3
        (StatsDelta(rating_sum=-1, rating_count=-1), Decimal("4.50")),
        (StatsDelta(rating_sum=-9, rating_count=-2), None),  # no ratings left
        (StatsDelta(), None),  # nothing to do
    ]
    expected = added
    for delta, average in steps:
        async with uow:
            await uow.offerings.apply_stats(oid, delta)
            got = await uow.offerings.get(oid)  # seen inside the same transaction, not stale
            await uow.commit()
        expected = expected.with_changes(
            total_bookings=expected.total_bookings + delta.bookings,
            total_completed=expected.total_completed + delta.completed,
            rating_sum=expected.rating_sum + delta.rating_sum,
            rating_count=expected.rating_count + delta.rating_count,
        )
        assert got == expected
        async with uow:
            assert await average_rating_column(uow, oid) == average == expected.average_rating
    async with uow:
        with pytest.raises(NotFound):
            await uow.offerings.apply_stats(404, StatsDelta(bookings=1))


@pytest.mark.parametrize(
    ("rating_sum", "rating_count"),
    [(9, 8), (11, 8), (13, 8), (1, 8), (2, 3), (1, 3), (5, 1), (7, 2), (29, 6), (433, 100), (3999, 1000)],
)
async def test_stored_average_matches_the_domain_rounding(
    uow: SqlUnitOfWork, rating_sum: int, rating_count: int
) -> None:
    """Half-even like ``Decimal.quantize``: 9/8 = 1.125 -> 1.12, 11/8 = 1.375 -> 1.38."""
    [added] = await seed(uow, user(MENTOR_ID), offerings=(offering(),))
    async with uow:
        delta = StatsDelta(rating_sum=rating_sum, rating_count=rating_count)
        await uow.offerings.apply_stats(added.id or 0, delta)
        stored = await uow.offerings.get(added.id or 0)
        assert stored is not None
        assert await average_rating_column(uow, added.id or 0) == stored.average_rating


async def test_concurrent_apply_stats_lose_no_update(uow: SqlUnitOfWork, engine: AsyncEngine) -> None:
    [added] = await seed(uow, user(MENTOR_ID), offerings=(offering(),))

    async def one(i: int) -> None:
        async with SqlUnitOfWork(engine) as mine:
            delta = StatsDelta(bookings=1, rating_sum=i % 5 + 1, rating_count=1)
            await mine.offerings.apply_stats(added.id or 0, delta)
            await mine.commit()

    await asyncio.gather(*(one(i) for i in range(20)))
    async with uow:
        got = await uow.offerings.get(added.id or 0)
        assert got is not None
        assert (got.total_bookings, got.rating_sum, got.rating_count) == (20, 60, 20)
        assert await average_rating_column(uow, added.id or 0) == Decimal("3.00")


@pytest.mark.parametrize("duration", [0, 20, 120])
async def test_duration_check(uow: SqlUnitOfWork, duration: int) -> None:
    await seed(uow, user(MENTOR_ID))
    async with uow:
        with pytest.raises(IntegrityError):
            await uow.offerings.add(offering(duration_minutes=duration))


@pytest.mark.parametrize("capacity", [0, 101])
async def test_capacity_check(uow: SqlUnitOfWork, capacity: int) -> None:
    await seed(uow, user(MENTOR_ID))
    async with uow:
        with pytest.raises(IntegrityError):
            await uow.offerings.add(offering(capacity=capacity))


async def test_status_check(uow: SqlUnitOfWork) -> None:
    [added] = await seed(uow, user(MENTOR_ID), offerings=(offering(),))
    async with uow:
        with pytest.raises(IntegrityError):
            await uow.db.execute(text("UPDATE offerings SET status = 'deleted' WHERE id = :id"), {"id": added.id})


async def test_offering_needs_an_existing_mentor(uow: SqlUnitOfWork) -> None:
    async with uow:
        with pytest.raises(IntegrityError):
            await uow.offerings.add(offering(mentor_id=404))
