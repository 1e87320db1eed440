"""UPI on SQLite and PostgreSQL: the mentor's UPI ID on the profile, a booking held for a UPI payment, the
mentee's report keeping the slot until the mentor answers, the mentor's answer recorded once even when pressed
twice at once, and "not received" giving the hold back its own end."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.model import BookingStatus, Currency, MentorProfile, PaymentMode, PaymentStatus, TimeRange
from domain.notifications import NotificationKind
from domain.payments import LedgerKind, NothingToMark, PaymentModeUnavailable, PaymentSettings
from domain.profiles import ProfileField
from domain.usecases.availability import set_weekly_availability
from domain.usecases.booking import BookingRequest, book_slot
from domain.usecases.payments import claim_upi, expire_hold, mark_paid, upi_not_received
from domain.usecases.profiles import update_profile
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, T0, mentor_and_mentee

S = BookingStatus
K = NotificationKind
NOW = T0 - timedelta(days=2)
HOLD = timedelta(minutes=15)
UPI = PaymentSettings(modes=(PaymentMode.STARS, PaymentMode.UPI), stars_per_rupee=Decimal("0.6"))


@pytest.fixture
async def offering_id(uow: SqlUnitOfWork) -> int:
    added = await mentor_and_mentee(uow)
    async with uow:
        await set_weekly_availability(uow, MENTOR_ID, range(7), [TimeRange(0, 24 * 60)])
        await uow.commit()
    assert added.id is not None
    return added.id


async def _upi_id(uow: SqlUnitOfWork, typed: str = "Asha.Rao@okicici") -> None:
    async with uow:
        await update_profile(uow, MENTOR_ID, ProfileField.UPI_ID, typed)
        await uow.commit()


async def _hold(uow: SqlUnitOfWork, clock: FixedClock, offering_id: int):
    async with uow:
        request = BookingRequest(offering_id, MENTEE_ID, T0, mode=PaymentMode.UPI)
        view = await book_slot(uow, clock, request, payments=UPI)
        await uow.commit()
    return view.booking


async def _expiry(uow: SqlUnitOfWork, booking_id: int):
    async with uow:
        records = await uow.outbox.records(booking_id=booking_id)
    return [r.due_at for r in records if r.kind == K.HOLD_EXPIRE and r.status == "pending"]


async def test_the_upi_id_round_trips_and_clears(uow: SqlUnitOfWork, offering_id: int) -> None:
    await _upi_id(uow)
    async with uow:
        profile = await uow.profiles.get(MENTOR_ID)
    assert profile is not None and profile.upi_id == "asha.rao@okicici"
    async with uow:
        await uow.profiles.save(profile.with_changes(headline="Staff engineer"))
        await uow.commit()
    async with uow:
        assert await uow.profiles.get(MENTOR_ID) == profile.with_changes(headline="Staff engineer")
    await _upi_id(uow, "-")
    async with uow:
        assert await uow.profiles.get(MENTOR_ID) == MentorProfile(MENTOR_ID, headline="Staff engineer")


async def test_upi_needs_the_mentors_id(uow: SqlUnitOfWork, offering_id: int) -> None:
    with pytest.raises(PaymentModeUnavailable):
        await _hold(uow, FixedClock(NOW), offering_id)


async def test_a_report_holds_the_slot_until_the_mentor_answers_once(
    uow: SqlUnitOfWork, engine: AsyncEngine, offering_id: int
) -> None:
    clock = FixedClock(NOW)
    await _upi_id(uow)
    booking = await _hold(uow, clock, offering_id)
    assert booking.id is not None
    assert (booking.status, booking.payment_mode, booking.amount, booking.currency) == (
        S.AWAITING_PAYMENT,
        PaymentMode.UPI,
        Decimal(500),
        Currency.INR,
    )
    assert await _expiry(uow, booking.id) == [NOW + HOLD]
    clock.current = NOW + timedelta(minutes=10)
    async with uow:
        claimed = await claim_upi(uow, clock, MENTEE_ID, booking.id)
        await uow.commit()
    assert claimed.booking.payment_claimed_at == clock.current
    async with uow:
        stored = await uow.bookings.get(booking.id)
        told = [(r.kind, r.recipient_id) for r in await uow.outbox.records(booking_id=booking.id)]
    assert stored is not None and stored.payment_claimed_at == clock.current
    assert (K.UPI_CLAIM, MENTOR_ID) in told
    assert await _expiry(uow, booking.id) == [T0]  # held until the start while the mentor checks
    with pytest.raises(NothingToMark):  # reported once
        async with uow:
            await claim_upi(uow, clock, MENTEE_ID, booking.id)
    clock.current = NOW + HOLD + timedelta(minutes=1)
    async with uow:
        assert await expire_hold(uow, clock, booking.id) is None

    async def answer() -> str:
        try:
            async with SqlUnitOfWork(engine) as own:
                await mark_paid(own, clock, MENTOR_ID, booking.id)
                await own.commit()
        except NothingToMark:
            return "nothing"
        return "paid"

    assert sorted(await asyncio.gather(answer(), answer())) == ["nothing", "paid"]
    async with uow:
        entries = await uow.payments.for_booking(booking.id)
        paid = await uow.bookings.get(booking.id)
    assert [(e.kind, e.mode, e.amount, e.charge_ref) for e in entries] == [
        (LedgerKind.CHARGE, PaymentMode.UPI, Decimal(500), f"upi:{booking.id}")
    ]
    assert paid is not None and (paid.status, paid.payment_status, paid.payment_claimed_at) == (
        S.PENDING,
        PaymentStatus.PAID,
        None,
    )


async def test_not_received_after_the_hold_frees_the_slot(uow: SqlUnitOfWork, offering_id: int) -> None:
    clock = FixedClock(NOW)
    await _upi_id(uow)
    booking = await _hold(uow, clock, offering_id)
    assert booking.id is not None
    async with uow:
        await claim_upi(uow, clock, MENTEE_ID, booking.id)
        await uow.commit()
    clock.current = NOW + HOLD + timedelta(minutes=5)
    async with uow:
        answered = await upi_not_received(uow, clock, MENTOR_ID, booking.id)
        await uow.commit()
    assert answered.booking.payment_claimed_at is None
    async with uow:
        told = [(r.kind, r.recipient_id) for r in await uow.outbox.records(booking_id=booking.id)]
    assert (K.UPI_NOT_RECEIVED, MENTEE_ID) in told
    assert await _expiry(uow, booking.id) == [NOW + HOLD]  # due already: the dispatcher frees it now
    async with uow:
        expired = await expire_hold(uow, clock, booking.id)
        await uow.commit()
    assert expired is not None and expired.booking.status == S.EXPIRED
    with pytest.raises(NothingToMark):  # answered once
        async with uow:
            await upi_not_received(uow, clock, MENTOR_ID, booking.id)
