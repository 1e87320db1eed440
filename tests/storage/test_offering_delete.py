"""Deleting an offering never booked, refusing one that was, duplicating and editing (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from domain import offerings as workspace
from domain.clock import FixedClock
from domain.errors import NotAllowed, NotFound
from domain.model import BookingStatus, Offering, OfferingStatus, StatsDelta, TimeRange, WeeklyRule
from domain.usecases.offerings import delete_offering, duplicate_offering, edit_offering
from storage.models import AvailabilityRuleRow
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, T0, booking, offering, seed, user

OWN = (WeeklyRule(0, TimeRange(540, 720)), WeeklyRule(5, TimeRange(600, 660)))
PROFILE = (WeeklyRule(2, TimeRange(480, 600)),)
OTHER_MENTOR = 1002
CLOCK = FixedClock(T0)


async def _cast(uow: SqlUnitOfWork) -> list[Offering]:
    added = await seed(
        uow,
        user(MENTOR_ID, is_mentor=True, timezone="Asia/Kolkata"),
        user(MENTEE_ID, timezone="Europe/Berlin"),
        user(OTHER_MENTOR, is_mentor=True),
        offerings=(
            offering(use_profile_availability=False, weekly_rules=OWN, title="Own hours"),
            offering(title="Booked"),
        ),
    )
    async with uow:
        await uow.availability.replace_weekly(MENTOR_ID, PROFILE)
        await uow.commit()
    return added


async def _rule_rows(uow: SqlUnitOfWork) -> int:
    return await uow.db.scalar(select(func.count()).select_from(AvailabilityRuleRow.__table__)) or 0


@pytest.mark.parametrize("status", list(BookingStatus))
async def test_any_booking_row_counts_as_booked(uow: SqlUnitOfWork, status: BookingStatus) -> None:
    never, booked = await _cast(uow)
    async with uow:
        await uow.bookings.add(booking(booked, status=status))
        await uow.commit()
    async with uow:
        assert await uow.offerings.has_bookings(booked.id or 0)
        assert not await uow.offerings.has_bookings(never.id or 0)
        assert not await uow.offerings.has_bookings(404)
        with pytest.raises(workspace.HasBookings):
            await delete_offering(uow, MENTOR_ID, booked.id or 0)
    async with uow:
        assert await uow.offerings.get(booked.id or 0) == booked


async def test_delete_removes_the_offering_and_its_own_rules_only(uow: SqlUnitOfWork) -> None:
    never, booked = await _cast(uow)
    async with uow:
        assert await _rule_rows(uow) == len(OWN) + len(PROFILE)
        deleted = await delete_offering(uow, MENTOR_ID, never.id or 0)
        await uow.commit()
    assert deleted == never
    async with uow:
        assert await uow.offerings.get(never.id or 0) is None
        assert await uow.offerings.get(booked.id or 0) == booked
        assert await _rule_rows(uow) == len(PROFILE)
        availability = await uow.availability.get(MENTOR_ID)
        assert availability is not None and availability.weekly == PROFILE
        with pytest.raises(NotFound):
            await uow.offerings.delete(never.id or 0)
        with pytest.raises(NotFound):
            await delete_offering(uow, MENTOR_ID, never.id or 0)


async def test_only_the_owner_may_delete(uow: SqlUnitOfWork) -> None:
    never, _booked = await _cast(uow)
    for someone in (OTHER_MENTOR, MENTEE_ID):
        async with uow:
            with pytest.raises(NotAllowed):
                await delete_offering(uow, someone, never.id or 0)
            with pytest.raises(NotAllowed):
                await duplicate_offering(uow, someone, never.id or 0, "(copy)")
    async with uow:
        assert await uow.offerings.get(never.id or 0) == never
        assert len(await uow.offerings.list_by_mentor(OTHER_MENTOR)) == 0


async def test_the_database_refuses_deleting_a_booked_offering_too(uow: SqlUnitOfWork) -> None:
    _never, booked = await _cast(uow)
    async with uow:
        await uow.bookings.add(booking(booked, status=BookingStatus.CANCELLED))
        await uow.commit()
    async with uow:
        with pytest.raises(IntegrityError):
            await uow.offerings.delete(booked.id or 0)


async def test_duplicate_copies_settings_and_own_rules_as_a_draft(uow: SqlUnitOfWork) -> None:
    never, _booked = await _cast(uow)
    async with uow:
        await uow.offerings.update(never.with_changes(status=OfferingStatus.ACTIVE, min_notice_hours=48))
        stats = StatsDelta(bookings=3, completed=1, rating_sum=5, rating_count=1)
        await uow.offerings.apply_stats(never.id or 0, stats)
        await uow.commit()
    async with uow:
        screen = await duplicate_offering(uow, MENTOR_ID, never.id or 0, "(copy)")
        await uow.commit()
    copy = screen.offering
    assert copy.id is not None and copy.id != never.id
    async with uow:
        stored = await uow.offerings.get(copy.id)
        original = await uow.offerings.get(never.id or 0)
    assert stored == copy
    assert original is not None and original.total_bookings == 3
    assert copy.title == "Own hours (copy)" and copy.status == OfferingStatus.DRAFT
    assert copy.weekly_rules == OWN and not copy.use_profile_availability and copy.min_notice_hours == 48
    assert (copy.total_bookings, copy.total_completed, copy.rating_count) == (0, 0, 0)
    assert screen.profile is not None and screen.profile.weekly == PROFILE


async def test_edit_offering_saves_one_field_and_checks_the_owner(uow: SqlUnitOfWork) -> None:
    never, _booked = await _cast(uow)
    field = workspace.OfferingField
    async with uow:
        await edit_offering(uow, CLOCK, MENTOR_ID, never.id or 0, field.CANCELLATION_CUTOFF, "6")
        screen = await edit_offering(uow, CLOCK, MENTOR_ID, never.id or 0, field.PROFILE_HOURS, "1")
        await uow.commit()
    assert screen.offering.cancellation_cutoff_hours == 6 and screen.offering.use_profile_availability
    assert screen.offering.weekly_rules == OWN  # kept for when it switches back
    async with uow:
        with pytest.raises(NotAllowed):
            await edit_offering(uow, CLOCK, OTHER_MENTOR, never.id or 0, field.TITLE, "Mine now")
        stored = await uow.offerings.get(never.id or 0)
    assert stored == screen.offering
