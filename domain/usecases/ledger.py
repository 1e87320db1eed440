"""The ledger's side of every change: recording a payment, making a refund due, recording a refund done - each in
the caller's unit of work, with the booking's payment status and the messages it causes.

The booking use cases call ``settle_move`` on every status change (``usecases.booking.move``, the expiry of a
request), so the refund policy (``domain.payments.refund_on_move``) applies whoever moves a booking; the payment
use cases (``usecases.payments``) call the rest. A Stars refund becomes an outbox row (``REFUND``) that the
dispatcher performs; a refund Telegram cannot make (a provider's payment, money paid outside the bot, UPI) tells
the mentor, and a copy goes to the operator's chat (not for UPI: the money is in the mentor's own account).
"""

from __future__ import annotations

from datetime import datetime

from domain.model import Actor, Booking, BookingView, PaymentMode, PaymentStatus
from domain.notifications import Notification, NotificationKind
from domain.payments import (
    LedgerEntry,
    LedgerKind,
    Refund,
    kept_charges,
    outstanding_refunds,
    payment_status_of,
    refund_on_move,
)
from domain.ports import UnitOfWork

K = NotificationKind


async def settled(uow: UnitOfWork, booking: Booking) -> Booking:
    """``booking`` with the payment status its ledger says (read in this unit of work)."""
    assert booking.id is not None
    entries = await uow.payments.for_booking(booking.id)
    return booking.with_changes(payment_status=payment_status_of(entries, booking.payment_status))


async def make_refund_due(uow: UnitOfWork, charge: LedgerEntry, now: datetime) -> bool:
    """Record that ``charge`` is to be refunded, and start the refund: a Stars refund through the outbox, else
    the mentor (and the operator's chat) told to refund it by hand. False when it was already due."""
    assert charge.id is not None and charge.kind == LedgerKind.CHARGE
    if await uow.payments.add(charge.event(LedgerKind.REFUND_DUE, now)) is None:
        return False
    booking_id, payment = charge.booking_id, charge.id
    if charge.mode == PaymentMode.STARS:
        await uow.outbox.add([Notification(K.REFUND, charge.payer_id, now, booking_id, payment_id=payment)])
    else:
        told = [Notification(K.REFUND_DUE, charge.mentor_id, now, booking_id, payment_id=payment)]
        if charge.mode != PaymentMode.UPI:  # UPI went to the mentor's own account: only they can give it back
            told.append(Notification(K.REFUND_DUE_OPERATOR, charge.mentor_id, now, booking_id, payment_id=payment))
        await uow.outbox.add(told)
    return True


async def settle_move(
    uow: UnitOfWork, before: BookingView, after: Booking, actor: Actor, now: datetime
) -> Booking:
    """What a status move does to the money: when the refund policy says so, every payment kept for the booking
    becomes due for a refund. Returns ``after`` with its payment status settled (the caller saves it)."""
    booking = before.booking
    kept = (PaymentStatus.PAID, PaymentStatus.REFUND_DUE)  # something paid may still be held
    if after.status == booking.status or booking.payment_status not in kept:
        return after
    if refund_on_move(booking, after.status, actor, before.offering, now) != Refund.FULL:
        return after
    assert booking.id is not None
    for charge in kept_charges(await uow.payments.for_booking(booking.id)):
        await make_refund_due(uow, charge, now)
    return await settled(uow, after)


async def record_refund(uow: UnitOfWork, charge: LedgerEntry, now: datetime) -> bool:
    """``charge`` has been refunded (Telegram said so, or the mentor did it by hand): the ledger row and the
    payer told. False when it was recorded already, or no refund of it was due."""
    assert charge.id is not None
    entries = await uow.payments.for_booking(charge.booking_id)
    if charge.charge_ref not in {c.charge_ref for c in outstanding_refunds(entries)}:
        return False
    if await uow.payments.add(charge.event(LedgerKind.REFUND, now)) is None:
        return False
    await uow.outbox.add([Notification(K.REFUNDED, charge.payer_id, now, charge.booking_id, payment_id=charge.id)])
    return True
