"""The payments ledger and the payment use cases on SQLite and PostgreSQL: each event of a charge recorded once,
rows never rewritten or deleted (by the repository or anyone else), the hold's expiry in the outbox, a payment
delivered twice at once recorded once, a late payment refunded through the outbox, earnings summed in SQL as a
recount says, and two mentees racing for one paid slot."""

from __future__ import annotations

import asyncio
import inspect
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.errors import SlotTaken
from domain.model import BookingStatus, Currency, PaymentMode, PaymentStatus, TimeRange
from domain.notifications import NotificationKind
from domain.payments import LedgerEntry, LedgerKind, PaymentSettings, invoice_payload, sums_of, to_minor
from domain.usecases.availability import set_weekly_availability
from domain.usecases.booking import BookingRequest, book_slot
from domain.usecases.payments import (
    IncomingPayment,
    PaymentOutcome,
    expire_hold,
    record_payment,
    refund_made,
    refund_to_make,
)
from storage.payments import SqlPaymentRepository
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, T0, mentor_and_mentee, seed, user

S = BookingStatus
K = NotificationKind
NOW = T0 - timedelta(days=2)
STARS = PaymentSettings(modes=(PaymentMode.STARS, PaymentMode.PROVIDER), stars_per_rupee=Decimal("0.6"))
OTHER_MENTEE = 2002


@pytest.fixture
async def offering_id(uow: SqlUnitOfWork) -> int:
    added = await mentor_and_mentee(uow)
    await seed(uow, user(OTHER_MENTEE, timezone="Europe/Berlin"))
    async with uow:
        await set_weekly_availability(uow, MENTOR_ID, range(7), [TimeRange(0, 24 * 60)])
        await uow.commit()
    assert added.id is not None
    return added.id


async def _hold(uow: SqlUnitOfWork, clock: FixedClock, offering_id: int, mentee: int = MENTEE_ID):
    async with uow:
        view = await book_slot(uow, clock, BookingRequest(offering_id, mentee, T0), payments=STARS)
        await uow.commit()
    return view.booking


def _payment(booking, charge: str = "tg-1", payer: int = MENTEE_ID) -> IncomingPayment:
    return IncomingPayment(
        payer, invoice_payload(booking), booking.currency.value, to_minor(booking.amount, booking.currency), charge
    )


def _entry(booking_id: int, kind: LedgerKind, ref: str, amount: str = "300", **changes) -> LedgerEntry:
    values = dict(
        booking_id=booking_id, mentor_id=MENTOR_ID, payer_id=MENTEE_ID, kind=kind, amount=Decimal(amount),
        currency=Currency.XTR, mode=PaymentMode.STARS, charge_ref=ref, recorded_at=NOW, telegram_charge_id=ref,
    )  # fmt: skip
    return LedgerEntry(**{**values, **changes})


async def test_each_event_of_a_charge_is_recorded_once(uow: SqlUnitOfWork, offering_id: int) -> None:
    booking = await _hold(uow, FixedClock(NOW), offering_id)
    assert booking.id is not None
    async with uow:
        charge = await uow.payments.add(_entry(booking.id, LedgerKind.CHARGE, "tg-1"))
        assert charge is not None and charge.id is not None
        assert await uow.payments.add(_entry(booking.id, LedgerKind.CHARGE, "tg-1")) is None
        assert await uow.payments.add(_entry(booking.id, LedgerKind.REFUND_DUE, "tg-1")) is not None
        assert await uow.payments.add(_entry(booking.id, LedgerKind.REFUND_DUE, "tg-1")) is None
        assert await uow.payments.add(_entry(booking.id, LedgerKind.CHARGE, "tg-2")) is not None
        await uow.commit()
    async with uow:
        stored = await uow.payments.for_booking(booking.id)
        assert [(e.kind, e.charge_ref) for e in stored] == [
            (LedgerKind.CHARGE, "tg-1"), (LedgerKind.REFUND_DUE, "tg-1"), (LedgerKind.CHARGE, "tg-2"),
        ]  # fmt: skip
        assert await uow.payments.get(charge.id) == charge
        assert stored[0].amount == Decimal(300) and stored[0].recorded_at == NOW


async def test_no_one_rewrites_or_deletes_a_ledger_row(uow: SqlUnitOfWork, offering_id: int) -> None:
    booking = await _hold(uow, FixedClock(NOW), offering_id)
    assert booking.id is not None
    async with uow:
        await uow.payments.add(_entry(booking.id, LedgerKind.CHARGE, "tg-1"))
        await uow.commit()
    for statement in ("UPDATE payments SET amount = 1", "DELETE FROM payments"):
        async with uow:
            with pytest.raises(DBAPIError, match="append-only"):
                await uow.db.execute(text(statement))
    async with uow:
        [kept] = await uow.payments.for_booking(booking.id)
        assert kept.amount == Decimal(300)
    # and the repository offers nothing but appending and reading
    public = {name for name, _ in inspect.getmembers(SqlPaymentRepository, inspect.isfunction) if name[0] != "_"}
    assert public == {"add", "get", "for_booking", "for_mentor", "sums_for_mentor"}


async def test_a_held_slot_runs_out_through_the_outbox_unless_paid(uow: SqlUnitOfWork, offering_id: int) -> None:
    clock = FixedClock(NOW)
    first = await _hold(uow, clock, offering_id)
    assert first.status == S.AWAITING_PAYMENT and first.hold_until == NOW + timedelta(minutes=15)
    assert (first.amount, first.currency) == (Decimal(300), Currency.XTR)
    async with uow:
        [expiry] = [r for r in await uow.outbox.records(booking_id=first.id) if r.kind == K.HOLD_EXPIRE]
        assert (expiry.due_at, expiry.recipient_id, expiry.status) == (first.hold_until, MENTEE_ID, "pending")
        assert await expire_hold(uow, clock, first.id) is None  # not yet: the hold runs
    clock.current = NOW + timedelta(minutes=15)
    async with uow:
        expired = await expire_hold(uow, clock, first.id)
        await uow.commit()
    assert expired is not None and expired.booking.status == S.EXPIRED
    async with uow:
        told = [(r.kind, r.recipient_id) for r in await uow.outbox.records(booking_id=first.id)]
    assert told.count((K.HOLD_EXPIRED, MENTEE_ID)) == told.count((K.HOLD_EXPIRED, MENTOR_ID)) == 1

    second = await _hold(uow, clock, offering_id)  # the slot is free again
    async with uow:
        outcome, paid = await record_payment(uow, clock, _payment(second))
        await uow.commit()
    assert outcome == PaymentOutcome.ACCEPTED and paid is not None
    assert (paid.booking.status, paid.booking.payment_status) == (S.PENDING, PaymentStatus.PAID)
    async with uow:
        rows = await uow.outbox.records(booking_id=second.id)
    assert [r for r in rows if r.kind == K.HOLD_EXPIRE] == []  # withdrawn when it was paid
    assert {(r.kind, r.recipient_id) for r in rows} >= {(K.PAID, MENTEE_ID), (K.NEW_BOOKING, MENTOR_ID)}
    assert K.EXPIRE in {r.kind for r in rows}  # now the request waits for the mentor's answer


async def test_one_payment_delivered_twice_at_once_is_recorded_once(
    uow: SqlUnitOfWork, engine: AsyncEngine, offering_id: int
) -> None:
    clock = FixedClock(NOW)
    booking = await _hold(uow, clock, offering_id)

    async def deliver() -> PaymentOutcome:
        async with SqlUnitOfWork(engine) as own:
            outcome, _view = await record_payment(own, clock, _payment(booking))
            await own.commit()
        return outcome

    outcomes = await asyncio.gather(deliver(), deliver())
    assert sorted(outcomes) == [PaymentOutcome.ACCEPTED, PaymentOutcome.DUPLICATE]
    async with uow:
        assert [e.kind for e in await uow.payments.for_booking(booking.id)] == [LedgerKind.CHARGE]
        receipts = [r for r in await uow.outbox.records(booking_id=booking.id) if r.kind == K.PAID]
    assert len(receipts) == 1


async def test_a_late_payment_is_refunded_once_through_the_outbox(uow: SqlUnitOfWork, offering_id: int) -> None:
    clock = FixedClock(NOW)
    booking = await _hold(uow, clock, offering_id)
    clock.current = NOW + timedelta(minutes=16)
    async with uow:
        await expire_hold(uow, clock, booking.id)
        await uow.commit()
    async with uow:
        outcome, late = await record_payment(uow, clock, _payment(booking))
        await uow.commit()
    assert outcome == PaymentOutcome.REFUNDING and late is not None
    assert (late.booking.status, late.booking.payment_status) == (S.EXPIRED, PaymentStatus.REFUND_DUE)
    claimed = await _claim(uow, clock)
    refund = next(c.notification for c in claimed if c.notification.kind == K.REFUND)
    assert {c.notification.kind for c in claimed} >= {K.REFUND, K.LATE_PAYMENT}
    assert refund.recipient_id == MENTEE_ID and refund.payment_id is not None
    async with uow:
        charge = await refund_to_make(uow, clock, refund.payment_id)
        assert charge is not None and charge.telegram_charge_id == "tg-1"
        await refund_made(uow, clock, refund.payment_id)
        await refund_made(uow, clock, refund.payment_id)  # told twice (a retried send): recorded once
        await uow.commit()
    async with uow:
        kinds = [e.kind for e in await uow.payments.for_booking(booking.id)]
        stored = await uow.bookings.get(booking.id)
        assert await refund_to_make(uow, clock, refund.payment_id) is None  # nothing left to refund
    assert kinds == [LedgerKind.CHARGE, LedgerKind.REFUND_DUE, LedgerKind.REFUND]
    assert stored is not None and stored.payment_status == PaymentStatus.REFUNDED
    again = await _claim(uow, clock)
    assert [c.notification.kind for c in again] == [K.REFUNDED]


async def _claim(uow: SqlUnitOfWork, clock: FixedClock):
    async with uow:
        claimed = await uow.outbox.claim(clock.now(), 100, timedelta(minutes=5))
        await uow.commit()
    return claimed


async def test_earnings_sums_in_sql_agree_with_a_recount(uow: SqlUnitOfWork, offering_id: int) -> None:
    booking = await _hold(uow, FixedClock(NOW), offering_id)
    assert booking.id is not None
    entries = [
        _entry(booking.id, LedgerKind.CHARGE, "a", "300", recorded_at=NOW - timedelta(days=40)),
        _entry(booking.id, LedgerKind.REFUND_DUE, "a", "300", recorded_at=NOW - timedelta(days=40)),
        _entry(booking.id, LedgerKind.REFUND, "a", "300"),
        _entry(booking.id, LedgerKind.CHARGE, "b", "120"),
        _entry(booking.id, LedgerKind.CHARGE, "c", "499.50", currency=Currency.INR, mode=PaymentMode.PROVIDER),
        _entry(booking.id, LedgerKind.CHARGE, "d", "0.01", currency=Currency.INR, mode=PaymentMode.OFF),
    ]
    async with uow:
        for entry in entries:
            await uow.payments.add(entry)
        await uow.commit()
    async with uow:
        mine = await uow.payments.for_mentor(MENTOR_ID)
        assert len(mine) == len(entries) and await uow.payments.for_mentor(MENTEE_ID) == []
        for since in (None, NOW - timedelta(days=1), NOW + timedelta(days=1)):
            assert await uow.payments.sums_for_mentor(MENTOR_ID, since) == sums_of(mine, since), since


async def test_two_mentees_racing_for_one_paid_slot_get_one_hold(
    uow: SqlUnitOfWork, engine: AsyncEngine, offering_id: int
) -> None:
    clock = FixedClock(NOW)

    async def hold(mentee: int) -> object:
        try:
            async with SqlUnitOfWork(engine) as own:
                view = await book_slot(own, clock, BookingRequest(offering_id, mentee, T0), payments=STARS)
                await own.commit()
            return view.booking.status
        except SlotTaken as error:
            return error

    results = await asyncio.gather(hold(MENTEE_ID), hold(OTHER_MENTEE))
    assert sorted(map(str, results)) == sorted([str(S.AWAITING_PAYMENT), str(SlotTaken())])


async def test_a_wrong_payment_then_the_right_one_keeps_the_status_true_to_the_ledger(
    uow: SqlUnitOfWork, offering_id: int
) -> None:
    clock = FixedClock(NOW)
    booking = await _hold(uow, clock, offering_id)
    wrong = IncomingPayment(
        MENTEE_ID, invoice_payload(booking), "XTR", to_minor(booking.amount, booking.currency) + 1, "tg-wrong"
    )
    async with uow:
        outcome, first = await record_payment(uow, clock, wrong)
        await uow.commit()
    assert outcome == PaymentOutcome.REFUNDING and first is not None
    assert (first.booking.status, first.booking.payment_status) == (S.AWAITING_PAYMENT, PaymentStatus.REFUND_DUE)
    async with uow:
        outcome, second = await record_payment(uow, clock, _payment(booking, "tg-right"))
        await uow.commit()
    assert outcome == PaymentOutcome.ACCEPTED and second is not None
    # moved on, and still owing the wrong payment back
    assert (second.booking.status, second.booking.payment_status) == (S.PENDING, PaymentStatus.REFUND_DUE)
    async with uow:
        entries = await uow.payments.for_booking(booking.id)
        [wrong_charge] = [e for e in entries if e.charge_ref == "tg-wrong" and e.kind == LedgerKind.CHARGE]
        await refund_made(uow, clock, wrong_charge.id)  # type: ignore[arg-type]
        await uow.commit()
    async with uow:
        stored = await uow.bookings.get(booking.id)
    assert stored is not None and stored.payment_status == PaymentStatus.PAID
