"""Weekly series through the real repositories, on SQLite and PostgreSQL: booking the free weeks as one series
(London's clocks change in between), the mentor confirming it at once, cancelling all future weeks (the mentee's
cut-off respected), and the series counting once against the limit of open bookings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.clock import FixedClock
from domain.errors import TooManyBookings
from domain.model import BookingStatus, OfferingStatus, TimeRange, WeeklyRule
from domain.notifications import NotificationKind
from domain.usecases.booking import BookingRequest, book_slot
from domain.usecases.series import book_series, cancel_future, confirm_series, plan_series
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, offering, seed, user

S = BookingStatus
OTHER = 2002
NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # Tuesday; London changes its clocks on Sunday 29 March
FIRST = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # Monday 10:00 GMT
CLOCK = FixedClock(NOW)
FREE_HOUR: dict[str, Any] = {"status": OfferingStatus.ACTIVE, "duration_minutes": 60, "price": Decimal(0)}


async def _mentor(uow: SqlUnitOfWork, **changes: Any) -> int:
    [added] = await seed(
        uow,
        user(MENTOR_ID, is_mentor=True, timezone="Europe/London"),
        user(MENTEE_ID, timezone="Asia/Kolkata"),
        user(OTHER),
        offerings=(offering(**(FREE_HOUR | changes)),),
    )
    async with uow:
        hours = [WeeklyRule(day, TimeRange(9 * 60, 12 * 60)) for day in (0, 1)]  # Mondays and Tuesdays
        await uow.availability.replace_weekly(MENTOR_ID, hours)
        profile = await uow.availability.get(MENTOR_ID)
        assert profile is not None
        await uow.commit()
    assert added.id is not None
    return added.id


async def test_the_free_weeks_are_booked_as_one_series_at_the_mentors_ten_oclock(uow: SqlUnitOfWork) -> None:
    offering_id = await _mentor(uow)
    async with uow:  # another mentee has Monday 6 April, 10:00 BST
        await book_slot(uow, CLOCK, BookingRequest(offering_id, OTHER, datetime(2026, 4, 6, 9, 0, tzinfo=UTC)))
        await uow.commit()
    async with uow:
        plan = await plan_series(uow, CLOCK, offering_id, MENTEE_ID, FIRST, 4)
    assert [(w.start, w.free) for w in plan.weeks] == [
        (FIRST, True),
        (datetime(2026, 3, 23, 10, 0, tzinfo=UTC), True),
        (datetime(2026, 3, 30, 9, 0, tzinfo=UTC), True),  # 10:00 BST
        (datetime(2026, 4, 6, 9, 0, tzinfo=UTC), False),
    ]
    async with uow:
        views = await book_series(uow, CLOCK, BookingRequest(offering_id, MENTEE_ID, FIRST, "my goals"), 4)
        await uow.commit()
    booked = [v.booking for v in views]
    assert [b.scheduled_at for b in booked] == [w.start for w in plan.free]
    assert [(b.series_week, b.series_weeks, b.status) for b in booked] == [(n, 3, S.CONFIRMED) for n in (1, 2, 3)]
    assert {b.series_id for b in booked} == {booked[0].id} and {b.meeting_notes for b in booked} == {"my goals"}
    async with uow:
        stored = await uow.bookings.series_bookings(booked[0].id or 0)
        records = await uow.outbox.records()
        saved_offering = await uow.offerings.get(offering_id)
    assert stored == booked
    ours = {b.id for b in booked}
    kinds = [(r.kind, r.booking_id, r.recipient_id) for r in records if r.booking_id in ours]
    assert [b for kind, b, _to in kinds if kind == NotificationKind.NEW_BOOKING.value] == [booked[0].id]
    reminded = {b for kind, b, to in kinds if kind == NotificationKind.REMINDER.value and to == MENTEE_ID}
    assert reminded == ours  # every week has its own reminders
    assert saved_offering is not None and saved_offering.total_bookings == 4  # the other mentee's and three


async def test_the_mentor_confirms_a_paid_series_at_once(uow: SqlUnitOfWork) -> None:
    offering_id = await _mentor(uow, price=Decimal("500"))
    async with uow:
        views = await book_series(uow, CLOCK, BookingRequest(offering_id, MENTEE_ID, FIRST), 3)
        await uow.commit()
    assert {v.booking.status for v in views} == {S.PENDING}
    async with uow:
        confirmed = await confirm_series(uow, CLOCK, MENTOR_ID, views[1].booking.id or 0)
        await uow.commit()
    assert [v.booking.status for v in confirmed] == [S.CONFIRMED] * 3
    async with uow:
        records = await uow.outbox.records()
    assert sum(1 for r in records if r.kind == NotificationKind.CONFIRMED.value) == 0  # not one per week:
    told = [r.booking_id for r in records if r.kind == NotificationKind.SERIES_CONFIRMED.value]
    assert told == [views[0].booking.id]  # one message for the series


async def test_cancelling_all_future_weeks_keeps_those_past_the_mentees_cut_off(uow: SqlUnitOfWork) -> None:
    offering_id = await _mentor(uow, cancellation_cutoff_hours=24)
    async with uow:
        views = await book_series(uow, CLOCK, BookingRequest(offering_id, MENTEE_ID, FIRST), 4)
        await uow.commit()
    later = FixedClock(datetime(2026, 3, 22, 12, 0, tzinfo=UTC))  # week 1 is over; week 2 is within 24 hours
    async with uow:
        series, kept = await cancel_future(uow, later, MENTEE_ID, views[0].booking.id or 0, "moving abroad")
        await uow.commit()
    assert [v.booking.status for v in series] == [S.CONFIRMED, S.CONFIRMED, S.CANCELLED, S.CANCELLED]
    assert [v.booking.series_week for v in kept] == [2]
    assert {v.booking.cancellation_reason for v in series[2:]} == {"moving abroad"}
    async with uow:  # the mentor may still cancel the rest
        series, kept = await cancel_future(uow, later, MENTOR_ID, views[3].booking.id or 0, "sorry")
        await uow.commit()
    assert [v.booking.status for v in series] == [S.CONFIRMED, S.CANCELLED, S.CANCELLED, S.CANCELLED]
    assert not kept


async def test_a_series_counts_once_against_the_limit(uow: SqlUnitOfWork) -> None:
    offering_id = await _mentor(uow)
    async with uow:
        await book_series(uow, CLOCK, BookingRequest(offering_id, MENTEE_ID, FIRST), 4, max_active_per_mentor=1)
        await uow.commit()
    async with uow:
        request = BookingRequest(offering_id, MENTEE_ID, FIRST + timedelta(days=1))  # Tuesdays
        with pytest.raises(TooManyBookings):
            await book_series(uow, CLOCK, request, 2, max_active_per_mentor=1)
