"""The mentee's side after booking, through the real repositories: cancelling under the cut-off, rating once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import sessions
from domain.clock import FixedClock
from domain.errors import InvalidInput, InvalidTransition, NotAllowed
from domain.model import BookingStatus
from domain.usecases.aftercare import leave_feedback, rate_session
from domain.usecases.my_bookings import cancel_as_mentee, start_mentee_cancellation
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, T0, booking, mentor_and_mentee, seed, user

OUTSIDER = 3001


async def _booked(uow: SqlUnitOfWork, status: BookingStatus, **offering_changes: object) -> int:
    offering = await mentor_and_mentee(uow, **offering_changes)
    await seed(uow, user(OUTSIDER))
    async with uow:
        saved = await uow.bookings.add(booking(offering, status=status))
        await uow.commit()
    assert saved.id is not None
    return saved.id


async def test_mentee_cancels_until_the_cut_off_and_not_after(uow: SqlUnitOfWork) -> None:
    booking_id = await _booked(uow, BookingStatus.CONFIRMED, cancellation_cutoff_hours=12)
    late = FixedClock(T0 - timedelta(hours=11))
    async with uow:
        with pytest.raises(sessions.CancellationClosed) as closed:
            await cancel_as_mentee(uow, late, MENTEE_ID, booking_id, "ill")
        assert closed.value.hours == 12
    in_time = FixedClock(T0 - timedelta(hours=12))
    async with uow:
        with pytest.raises(NotAllowed):
            await cancel_as_mentee(uow, in_time, MENTOR_ID, booking_id, "not the mentee's button")
        with pytest.raises(NotAllowed):
            await cancel_as_mentee(uow, in_time, OUTSIDER, booking_id, "forged")
        view = await cancel_as_mentee(uow, in_time, MENTEE_ID, booking_id, "  ill  ")
        await uow.commit()
    assert (view.booking.status, view.booking.cancellation_reason) == (BookingStatus.CANCELLED, "ill")
    async with uow:
        with pytest.raises(InvalidTransition):
            await start_mentee_cancellation(uow, in_time, MENTEE_ID, booking_id)


async def test_a_pending_request_can_be_withdrawn_even_after_the_cut_off(uow: SqlUnitOfWork) -> None:
    booking_id = await _booked(uow, BookingStatus.PENDING, cancellation_cutoff_hours=48)
    async with uow:
        view = await cancel_as_mentee(uow, FixedClock(T0 - timedelta(hours=1)), MENTEE_ID, booking_id, "x")
        await uow.commit()
    assert view.booking.status == BookingStatus.CANCELLED


async def test_rating_once_moves_the_average_and_feedback_follows(uow: SqlUnitOfWork) -> None:
    booking_id = await _booked(uow, BookingStatus.CONFIRMED)
    clock = FixedClock(T0 + timedelta(hours=1))
    async with uow:
        with pytest.raises(sessions.NotRateable):
            await rate_session(uow, clock, MENTEE_ID, booking_id, 5)
        saved = await uow.bookings.get(booking_id)
        assert saved is not None
        await uow.bookings.update(saved.with_changes(status=BookingStatus.COMPLETED))
        await uow.commit()
    async with uow:
        with pytest.raises(NotAllowed):
            await rate_session(uow, clock, OUTSIDER, booking_id, 5)
        with pytest.raises(InvalidInput):
            await rate_session(uow, clock, MENTEE_ID, booking_id, 6)
        view = await rate_session(uow, clock, MENTEE_ID, booking_id, 4)
        await uow.commit()
    assert view.booking.mentee_rating == 4
    async with uow:
        with pytest.raises(sessions.AlreadyRated):
            await rate_session(uow, clock, MENTEE_ID, booking_id, 1)
        assert view.offering.id is not None
        offering = await uow.offerings.get(view.offering.id)
        assert offering is not None and (offering.rating_sum, offering.rating_count) == (4, 1)
        await leave_feedback(uow, clock, MENTEE_ID, booking_id, "Very <b>useful</b>")
        await uow.commit()
    async with uow:
        with pytest.raises(InvalidTransition):
            await leave_feedback(uow, clock, MENTEE_ID, booking_id, "again")
        stored = await uow.bookings.get(booking_id)
        assert stored is not None and stored.mentee_feedback == "Very <b>useful</b>"
