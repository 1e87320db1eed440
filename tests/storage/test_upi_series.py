"""A weekly series paid with one UPI payment, through the real repositories on SQLite and PostgreSQL: every week
held and reported at once (the mentor asked once), the mentor's Mark paid recorded once for the whole series even
when two weeks' buttons are pressed at the same moment (one charge per week), and a report the mentor leaves
unanswered holding the weeks until the first one's start, after which the payment is owed back whole."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.model import Booking, BookingStatus, PaymentMode, PaymentStatus, TimeRange
from domain.notifications import NotificationKind
from domain.payments import LedgerKind, NothingToMark, PaymentSettings
from domain.profiles import ProfileField
from domain.usecases.availability import set_weekly_availability
from domain.usecases.booking import BookingRequest
from domain.usecases.payments import claim_upi, expire_hold, mark_paid, upi_not_received
from domain.usecases.profiles import update_profile
from domain.usecases.series import book_series
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, T0, mentor_and_mentee

S = BookingStatus
K = NotificationKind
NOW = T0 - timedelta(days=2)
HOLD = timedelta(minutes=15)
UPI = PaymentSettings(modes=(PaymentMode.STARS, PaymentMode.UPI), stars_per_rupee=Decimal("0.6"))


@pytest.fixture
async def weeks(uow: SqlUnitOfWork) -> list[Booking]:
    """Three weeks from ``T0`` held for one UPI payment (the mentor has a UPI ID)."""
    added = await mentor_and_mentee(uow)
    assert added.id is not None
    async with uow:
        await set_weekly_availability(uow, MENTOR_ID, range(7), [TimeRange(0, 24 * 60)])
        await update_profile(uow, MENTOR_ID, ProfileField.UPI_ID, "asha@okicici")
        await uow.commit()
    async with uow:
        request = BookingRequest(added.id, MENTEE_ID, T0, mode=PaymentMode.UPI)
        views = await book_series(uow, FixedClock(NOW), request, 3, payments=UPI)
        await uow.commit()
    return [v.booking for v in views]


async def _stored(uow: SqlUnitOfWork, weeks: list[Booking]) -> list[Booking]:
    async with uow:
        found = [await uow.bookings.get(b.id or 0) for b in weeks]
    assert all(b is not None for b in found)
    return [b for b in found if b is not None]


async def _told(uow: SqlUnitOfWork, booking: Booking) -> list[tuple[str, int]]:
    async with uow:
        return [(r.kind, r.recipient_id) for r in await uow.outbox.records(booking_id=booking.id)]


async def test_one_report_and_one_mark_paid_for_every_week(
    uow: SqlUnitOfWork, engine: AsyncEngine, weeks: list[Booking]
) -> None:
    assert [(b.status, b.payment_mode, b.amount, b.hold_until) for b in weeks] == [
        (S.AWAITING_PAYMENT, PaymentMode.UPI, Decimal(500), NOW + HOLD)
    ] * 3
    clock = FixedClock(NOW + timedelta(minutes=5))
    async with uow:  # reported from the second week's card: for every week, the mentor asked once
        await claim_upi(uow, clock, MENTEE_ID, weeks[1].id or 0)
        await uow.commit()
    stored = await _stored(uow, weeks)
    assert [b.payment_claimed_at for b in stored] == [clock.current] * 3
    assert [b.held_until for b in stored] == [b.scheduled_at for b in weeks]  # held until each start
    assert (K.UPI_CLAIM, MENTOR_ID) in await _told(uow, weeks[0])
    for later in weeks[1:]:
        assert [kind for kind, _who in await _told(uow, later) if kind == K.UPI_CLAIM] == []
    with pytest.raises(NothingToMark):  # reported once, whichever week
        async with uow:
            await claim_upi(uow, clock, MENTEE_ID, weeks[2].id or 0)

    async def answer(week: Booking) -> str:
        try:
            async with SqlUnitOfWork(engine) as own:
                await mark_paid(own, clock, MENTOR_ID, week.id or 0)
                await own.commit()
        except NothingToMark:
            return "nothing"
        return "paid"

    assert sorted(await asyncio.gather(answer(weeks[0]), answer(weeks[2]))) == ["nothing", "paid"]
    stored = await _stored(uow, weeks)
    assert [(b.status, b.payment_status, b.payment_claimed_at) for b in stored] == [
        (S.PENDING, PaymentStatus.PAID, None)
    ] * 3
    async with uow:
        entries = [e for b in weeks for e in await uow.payments.for_booking(b.id or 0)]
    assert [(e.booking_id, e.kind, e.mode, e.amount, e.charge_ref) for e in entries] == [
        (b.id, LedgerKind.CHARGE, PaymentMode.UPI, Decimal(500), f"upi:{b.id}") for b in weeks
    ]
    first = await _told(uow, weeks[0])
    assert first.count((K.NEW_BOOKING, MENTOR_ID)) == 1 and first.count((K.PAID, MENTEE_ID)) == 1
    for later in weeks[1:]:  # the series' one request and one receipt
        assert not {K.NEW_BOOKING, K.PAID} & {kind for kind, _who in await _told(uow, later)}
    with pytest.raises(NothingToMark):
        async with uow:
            await upi_not_received(uow, clock, MENTOR_ID, weeks[1].id or 0)


async def test_an_unanswered_report_holds_until_the_first_start_then_the_payment_is_owed_back_whole(
    uow: SqlUnitOfWork, weeks: list[Booking]
) -> None:
    clock = FixedClock(NOW)
    async with uow:
        await claim_upi(uow, clock, MENTEE_ID, weeks[0].id or 0)
        await uow.commit()
    clock.current = NOW + HOLD + timedelta(hours=1)  # the hold's own end is long past: still held
    async with uow:
        assert await expire_hold(uow, clock, weeks[0].id or 0) is None
    clock.current = weeks[0].scheduled_at  # the first week starts: every week is freed with it
    async with uow:
        expired = await expire_hold(uow, clock, weeks[0].id or 0)
        await uow.commit()
    assert expired is not None
    assert [b.status for b in await _stored(uow, weeks)] == [S.EXPIRED] * 3
    async with uow:
        await mark_paid(uow, clock, MENTOR_ID, weeks[2].id or 0)
        await uow.commit()
    stored = await _stored(uow, weeks)
    assert [(b.payment_status, b.payment_claimed_at) for b in stored] == [
        (PaymentStatus.REFUND_DUE, None), (PaymentStatus.PENDING, None), (PaymentStatus.PENDING, None),
    ]  # fmt: skip
    async with uow:
        entries = [e for b in weeks for e in await uow.payments.for_booking(b.id or 0)]
    assert [(e.booking_id, e.kind, e.amount) for e in entries] == [
        (weeks[0].id, LedgerKind.CHARGE, Decimal(1500)), (weeks[0].id, LedgerKind.REFUND_DUE, Decimal(1500)),
    ]  # fmt: skip
    told = await _told(uow, weeks[0])
    assert (K.LATE_PAYMENT, MENTEE_ID) in told and (K.REFUND_DUE, MENTOR_ID) in told
    assert (K.REFUND_DUE_OPERATOR, MENTOR_ID) not in told  # UPI went to the mentor's own account
