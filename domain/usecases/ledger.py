"""The ledger's side of every change: recording a payment, making a refund due, recording a refund done - each in
the caller's unit of work, with the booking's payment status and the messages it causes.

The booking use cases call ``settle_move`` on every status change (``usecases.booking.move``, the expiry of a
request), so the refund policy (``domain.payments.refund_on_move``) applies whoever moves a booking; the payment
use cases (``usecases.payments``) call the rest. A Stars refund becomes an outbox row (``REFUND``) that the
dispatcher performs; a refund Telegram cannot make (a provider's payment, money paid outside the bot, UPI) tells
the mentor, and a copy goes to the operator's chat (not for UPI: the money is in the mentor's own account).

One action on several weeks of a series (all future weeks cancelled, the series declined or run out) makes each
week's refund due on its own row, by the usual policy, but tells people once: ``settle_move`` collects the rows
(``dues``) and ``start_refunds`` writes one message for the mentor (and one copy for the operator) with the weeks
and the total; refunds of several weeks recorded together tell the payer once (``tell_refunded``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.model import Actor, Booking, BookingView, PaymentMode, PaymentStatus
from domain.notifications import Notification, NotificationKind
from domain.payments import (
    LedgerEntry,
    LedgerKind,
    Refund,
    StarsRefundWay,
    kept_charges,
    outstanding_refunds,
    payment_status_of,
    refund_on_move,
    stars_refund_way,
)
from domain.ports import UnitOfWork

K = NotificationKind


async def settled(uow: UnitOfWork, booking: Booking) -> Booking:
    """``booking`` with the payment status its ledger says (read in this unit of work)."""
    assert booking.id is not None
    entries = await uow.payments.for_booking(booking.id)
    return booking.with_changes(payment_status=payment_status_of(entries, booking.payment_status))


async def make_refund_due(
    uow: UnitOfWork, charge: LedgerEntry, now: datetime, *, tell: bool = True
) -> LedgerEntry | None:
    """Record that ``charge`` is to be refunded, and start the refund: a Stars refund through the outbox, else
    the mentor (and the operator's chat) told to refund it by hand. Returns the new row; None when it was already
    due. ``tell=False``: the caller starts it, with other weeks' refunds of the same action (``start_refunds``)."""
    assert charge.id is not None and charge.kind == LedgerKind.CHARGE
    due = await uow.payments.add(charge.event(LedgerKind.REFUND_DUE, now))
    if due is not None and tell:
        await _start_refund(uow, charge, now)
    return due


async def _start_refund(uow: UnitOfWork, charge: LedgerEntry, now: datetime) -> None:
    booking_id, payment = charge.booking_id, charge.id
    if charge.mode == PaymentMode.STARS:
        await uow.outbox.add([Notification(K.REFUND, charge.payer_id, now, booking_id, payment_id=payment)])
    else:
        told = [Notification(K.REFUND_DUE, charge.mentor_id, now, booking_id, payment_id=payment)]
        if charge.mode != PaymentMode.UPI:  # UPI went to the mentor's own account: only they can give it back
            told.append(Notification(K.REFUND_DUE_OPERATOR, charge.mentor_id, now, booking_id, payment_id=payment))
        await uow.outbox.add(told)


Due = tuple[LedgerEntry, LedgerEntry]  # a charge and the row that made its refund due


async def payment_ledger(uow: UnitOfWork, charge: LedgerEntry) -> list[LedgerEntry]:
    """The ledger of every booking ``charge``'s payment paid: its booking's, and for a series the other
    occurrences' (``domain.payments.shares_of`` picks the shares)."""
    booking = await uow.bookings.get(charge.booking_id)
    if booking is None:
        return await uow.payments.for_booking(charge.booking_id)
    return await series_ledger(uow, booking)


async def series_ledger(
    uow: UnitOfWork, booking: Booking, weeks: Sequence[Booking] | None = None
) -> list[LedgerEntry]:
    """The ledger of ``booking``'s series, every week's events (``booking``'s alone when it is no series).
    ``weeks``: the series' bookings, when the caller has read them already."""
    if booking.series_id is None:
        assert booking.id is not None
        return await uow.payments.for_booking(booking.id)
    if weeks is None:
        weeks = await uow.bookings.series_bookings(booking.series_id)
    entries = []
    for occurrence in weeks:
        assert occurrence.id is not None
        entries += await uow.payments.for_booking(occurrence.id)
    return entries


async def start_refunds(uow: UnitOfWork, dues: list[Due], now: datetime) -> None:
    """Start the refunds one action on a weekly series made due together (``settle_move``'s ``dues``, in the
    order written). A Stars payment owed whole is refunded by the bot as ever (its ``REFUND`` rows); the refunds
    the mentor makes by hand (a provider's payment, UPI, money paid outside the bot, a Stars share that cannot be
    refunded alone, ``stars_refund_way``) are one message for the mentor listing the weeks and the total, with
    one Mark all refunded, and one copy for the operator's chat (not for UPI). One refund alone is told as ever."""
    if len(dues) == 1:
        await _start_refund(uow, dues[0][0], now)
        return
    by_hand: list[Due] = []
    ledger: list[LedgerEntry] | None = None  # the series' ledger, read once: every week's charge shares it
    for charge, due in dues:
        if charge.mode == PaymentMode.STARS:
            if ledger is None:
                ledger = await payment_ledger(uow, charge)
            if stars_refund_way(charge, ledger) != StarsRefundWay.BY_HAND:
                await _start_refund(uow, charge, now)  # the dispatcher refunds the whole payment, once
                continue
        by_hand.append((charge, due))
    if len(by_hand) == 1:
        await _start_refund(uow, by_hand[0][0], now)
    elif by_hand:
        (first, _first_due), (_last, last_due) = by_hand[0], by_hand[-1]
        told = [Notification(K.SERIES_REFUND_DUE, first.mentor_id, now, first.booking_id, payment_id=last_due.id)]
        if any(charge.mode != PaymentMode.UPI for charge, _due in by_hand):
            kind = K.SERIES_REFUND_DUE_OPERATOR
            told.append(Notification(kind, first.mentor_id, now, first.booking_id, payment_id=last_due.id))
        await uow.outbox.add(told)


async def settle_move(
    uow: UnitOfWork,
    before: BookingView,
    after: Booking,
    actor: Actor,
    now: datetime,
    dues: list[Due] | None = None,
) -> Booking:
    """What a status move does to the money: when the refund policy says so, every payment kept for the booking
    becomes due for a refund. Returns ``after`` with its payment status settled (the caller saves it). ``dues``:
    the refunds are collected there, for ``start_refunds`` once the action's every week has moved."""
    booking = before.booking
    kept = (PaymentStatus.PAID, PaymentStatus.REFUND_DUE)  # something paid may still be held
    if after.status == booking.status or booking.payment_status not in kept:
        return after
    if refund_on_move(booking, after.status, actor, before.offering, now) != Refund.FULL:
        return after
    assert booking.id is not None
    for charge in kept_charges(await uow.payments.for_booking(booking.id)):
        due = await make_refund_due(uow, charge, now, tell=dues is None)
        if due is not None and dues is not None:
            dues.append((charge, due))
    return await settled(uow, after)


async def record_refund(
    uow: UnitOfWork, charge: LedgerEntry, now: datetime, *, tell: bool = True
) -> LedgerEntry | None:
    """``charge`` has been refunded (Telegram said so, or the mentor did it by hand): the ledger row and the
    payer told. Returns the row; None when it was recorded already, or no refund of it was due. ``tell=False``:
    the caller tells the payer once for several weeks (``tell_refunded``)."""
    assert charge.id is not None
    entries = await uow.payments.for_booking(charge.booking_id)
    if charge.charge_ref not in {c.charge_ref for c in outstanding_refunds(entries)}:
        return None
    refund = await uow.payments.add(charge.event(LedgerKind.REFUND, now))
    if refund is not None and tell:
        await tell_refunded(uow, [(charge, refund)], now)
    return refund


async def tell_refunded(uow: UnitOfWork, refunds: list[Due], now: datetime) -> None:
    """Tell the payer of refunds recorded together (each a charge and its ``REFUND`` row, in the order written):
    one refund as ever, several weeks of a series at once in one message (``SERIES_REFUNDED``)."""
    if len(refunds) == 1:
        charge = refunds[0][0]
        await uow.outbox.add(
            [Notification(K.REFUNDED, charge.payer_id, now, charge.booking_id, payment_id=charge.id)]
        )
    elif refunds:
        first, last = refunds[0][0], refunds[-1][1]
        await uow.outbox.add(
            [Notification(K.SERIES_REFUNDED, first.payer_id, now, first.booking_id, payment_id=last.id)]
        )
