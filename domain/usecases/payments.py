"""Payments: paying a booking held for the mentee (the invoice, the checkout, the payment), letting the hold go,
the mentor's Mark paid / Mark refunded, the dispatcher's side (a hold that ran out, a Stars refund), and
earnings.

The rules are ``domain.payments``; the ledger's writes are ``usecases.ledger``. Amounts always come from the
stored booking: a payment is compared with it, never believed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain import booking as rules
from domain.errors import InvalidTransition, NotAllowed
from domain.model import Actor, Booking, BookingStatus, BookingView, Currency, PaymentMode, PaymentStatus
from domain.notifications import Notification, NotificationKind
from domain.payments import (
    CheckoutRefusal,
    Earnings,
    HoldOver,
    LedgerEntry,
    LedgerKind,
    NothingToMark,
    PaymentModeUnavailable,
    StarsRefundWay,
    accepts_payment,
    after_payment,
    checkout_refusal,
    from_minor,
    manual_charge_ref,
    may_check_upi,
    may_claim_upi,
    may_mark_paid,
    month_start,
    outstanding_refunds,
    paid_together,
    read_payload,
    read_series_payload,
    recorded_together,
    series_accepts_payment,
    series_checkout_refusal,
    share_charge_ref,
    shares_of,
    stars_refund_way,
    total_of,
    totals_from,
    upi_charges,
    upi_moves_on,
)
from domain.ports import Clock, UnitOfWork
from domain.usecases.booking import booking_views
from domain.usecases.inbox import mentor_booking
from domain.usecases.ledger import (
    Due,
    make_refund_due,
    payment_ledger,
    record_refund,
    series_ledger,
    settled,
    tell_refunded,
)
from domain.usecases.my_bookings import mentee_booking
from domain.usecases.notifications import load_view, record_change

log = logging.getLogger(__name__)
S = BookingStatus


# --- the mentee: paying, or letting the hold go ---------------------------------------------------------------


async def booking_to_pay(uow: UnitOfWork, clock: Clock, mentee_id: int, booking_id: int) -> BookingView:
    """The booking whose invoice the mentee asks for (again): theirs, still awaiting payment, the hold not over
    (``HoldOver`` otherwise)."""
    view = await mentee_booking(uow, mentee_id, booking_id)
    booking = view.booking
    held_until = booking.held_until
    if booking.status != S.AWAITING_PAYMENT or held_until is None or clock.now() >= held_until:
        raise HoldOver()
    return view


async def paid_with(uow: UnitOfWork, booking: Booking, *, for_update: bool = False) -> list[Booking]:
    """The bookings one invoice pays: the occurrences of ``booking``'s series booked with its nonce (a series
    paid as one, ``domain.payments``), or ``booking`` alone. ``for_update``: each row locked, earliest first."""
    if booking.series_id is None or booking.payment_nonce is None:
        if not for_update or booking.id is None:
            return [booking]
        locked_alone = await uow.bookings.get(booking.id, for_update=True)
        return [locked_alone or booking]
    together = paid_together(await uow.bookings.series_bookings(booking.series_id), booking.payment_nonce)
    if not for_update:
        return together or [booking]
    locked = [await uow.bookings.get(b.id, for_update=True) for b in together if b.id is not None]
    return [b for b in locked if b is not None] or [booking]


async def series_to_pay(uow: UnitOfWork, clock: Clock, mentee_id: int, booking_id: int) -> list[BookingView]:
    """Every booking the invoice of ``booking_id`` pays (a series paid as one: each occurrence), the mentee's,
    all still held (``HoldOver`` otherwise)."""
    view = await booking_to_pay(uow, clock, mentee_id, booking_id)
    together = await paid_with(uow, view.booking)
    now = clock.now()
    if any(b.status != S.AWAITING_PAYMENT or b.held_until is None or now >= b.held_until for b in together):
        raise HoldOver()
    return [BookingView(b, view.offering, view.mentor, view.mentee) for b in together]


async def release_hold(uow: UnitOfWork, clock: Clock, mentee_id: int, booking_id: int) -> BookingView:
    """The mentee gives the held time back without paying (nobody else is told: the mentor never had it); for a
    series paid as one, every week it holds."""
    view = await mentee_booking(uow, mentee_id, booking_id, for_update=True)
    now = clock.now()
    released, _delta = rules.transition(view.booking, S.CANCELLED, Actor.MENTEE, now)
    released = await uow.bookings.update(released)
    await record_change(uow, view.booking, released, Actor.MENTEE, view.mentor_zone, now)
    for other in await paid_with(uow, view.booking, for_update=True):
        if other.id != booking_id and other.status == S.AWAITING_PAYMENT:
            let_go, _delta = rules.transition(other, S.CANCELLED, Actor.MENTEE, now)
            await _quietly(uow, other, await uow.bookings.update(let_go), view.mentor_zone, now)
    return BookingView(released, view.offering, view.mentor, view.mentee)


async def _quietly(uow: UnitOfWork, before: Booking, after: Booking, zone: str, now: datetime) -> None:
    """A further occurrence of a series moved with its first one (whose move tells the people): its timed
    messages re-planned and the waitlist told of a freed time, nobody told of the move again."""
    await record_change(uow, before, after, Actor.SYSTEM, zone, now, tell=False)


async def checkout(
    uow: UnitOfWork, clock: Clock, payer_id: int, payload: str, currency: str, total: int
) -> CheckoutRefusal | None:
    """Telegram's pre-checkout question: may ``payer_id`` pay ``total`` (smallest units) of ``currency`` for the
    invoice ``payload`` now? None for yes, else why not (``domain.payments.checkout_refusal``). Reads only."""
    series = read_series_payload(payload)
    if series is not None:
        together = paid_together(await uow.bookings.series_bookings(series[0]), series[1])
        return series_checkout_refusal(together, payer_id, currency, total, clock.now())
    found = read_payload(payload)
    if found is None:
        return CheckoutRefusal.UNKNOWN
    booking_id, nonce = found
    booking = await uow.bookings.get(booking_id)
    return checkout_refusal(booking, nonce, payer_id, currency, total, clock.now())


@dataclass(frozen=True, slots=True)
class IncomingPayment:
    """A ``successful_payment`` as Telegram reported it (nothing in it is trusted but the charge ids)."""

    payer_id: int
    payload: str
    currency: str
    total: int  # smallest units
    telegram_charge_id: str
    provider_charge_id: str | None = None


class PaymentOutcome(StrEnum):
    ACCEPTED = "accepted"  # the booking moved on: to the mentor's answer, or confirmed
    REFUNDING = "refunding"  # the booking did not wait for this payment: it is refunded
    DUPLICATE = "duplicate"  # recorded before: nothing changed
    UNKNOWN = "unknown"  # no booking of ours: nothing recorded (logged)


async def record_payment(
    uow: UnitOfWork, clock: Clock, payment: IncomingPayment
) -> tuple[PaymentOutcome, BookingView | None]:
    """Record a payment exactly once and move its booking on; a payment the booking no longer waits for (the hold
    ran out, the slot was let go, it was paid already) is recorded and refunded at once."""
    series = read_series_payload(payment.payload)
    if series is not None:
        return await _record_series_payment(uow, clock, payment, *series)
    found = read_payload(payment.payload)
    view = await load_view(uow, found[0], for_update=True) if found is not None else None
    if found is None or view is None:
        log.error("a payment for an unknown invoice payload (charge %s)", payment.telegram_charge_id)
        return PaymentOutcome.UNKNOWN, None
    booking, now = view.booking, clock.now()
    mode = PaymentMode.STARS if payment.currency == Currency.XTR.value else PaymentMode.PROVIDER
    try:
        currency = Currency(payment.currency)
    except ValueError:
        log.error("a payment in %s for booking %s: not a currency of ours", payment.currency, booking.id)
        return PaymentOutcome.UNKNOWN, view
    assert booking.id is not None
    charge = await uow.payments.add(
        LedgerEntry(
            booking_id=booking.id,
            mentor_id=booking.mentor_id,
            payer_id=payment.payer_id,
            kind=LedgerKind.CHARGE,
            amount=from_minor(payment.total, currency),
            currency=currency,
            mode=mode,
            charge_ref=payment.telegram_charge_id,
            recorded_at=now,
            telegram_charge_id=payment.telegram_charge_id,
            provider_charge_id=payment.provider_charge_id or None,
        )
    )
    if charge is None:
        return PaymentOutcome.DUPLICATE, view
    if accepts_payment(booking, found[1], payment.payer_id, payment.currency, payment.total):
        paid, _delta = rules.transition(booking, after_payment(view.offering), Actor.SYSTEM, now)
        # paid - or refund due, when an earlier payment for it (a wrong amount, say) is still being refunded
        paid = await uow.bookings.update(await settled(uow, paid))
        await record_change(uow, booking, paid, Actor.SYSTEM, view.mentor_zone, now)
        return PaymentOutcome.ACCEPTED, BookingView(paid, view.offering, view.mentor, view.mentee)
    await make_refund_due(uow, charge, now)
    await uow.outbox.add(
        [Notification(NotificationKind.LATE_PAYMENT, payment.payer_id, now, booking.id, payment_id=charge.id)]
    )
    updated = await uow.bookings.update(await settled(uow, booking))
    return PaymentOutcome.REFUNDING, BookingView(updated, view.offering, view.mentor, view.mentee)


async def _record_series_payment(
    uow: UnitOfWork, clock: Clock, payment: IncomingPayment, series_id: int, nonce: str
) -> tuple[PaymentOutcome, BookingView | None]:
    """``record_payment`` for a series paid as one: one charge row per occurrence (its stored price, its share of
    the payment) and every occurrence moved on; the people hear of it once (the first occurrence's receipt and
    request), each occurrence gets its own reminders. A payment the series no longer waits for is recorded as one
    charge on the first occurrence and refunded whole."""
    head = await load_view(uow, series_id, for_update=True)
    if head is None or head.booking.series_id != series_id:
        log.error("a payment for an unknown series (charge %s)", payment.telegram_charge_id)
        return PaymentOutcome.UNKNOWN, None
    together = paid_together(await uow.bookings.series_bookings(series_id), nonce)
    locked = [await uow.bookings.get(b.id, for_update=True) for b in together if b.id is not None]
    bookings = [b for b in locked if b is not None]
    try:
        currency = Currency(payment.currency)
    except ValueError:
        log.error("a payment in %s for series %s: not a currency of ours", payment.currency, series_id)
        return PaymentOutcome.UNKNOWN, head
    now = clock.now()
    mode = PaymentMode.STARS if currency == Currency.XTR else PaymentMode.PROVIDER
    accepted = series_accepts_payment(bookings, payment.payer_id, payment.currency, payment.total)
    first = bookings[0] if bookings else head.booking

    def entry(booking: Booking, amount: Decimal, ref: str) -> LedgerEntry:
        assert booking.id is not None
        return LedgerEntry(
            booking.id, booking.mentor_id, payment.payer_id, LedgerKind.CHARGE, amount, currency, mode, ref, now,
            payment.telegram_charge_id, payment.provider_charge_id or None,
        )  # fmt: skip

    if not accepted:
        charge = await uow.payments.add(
            entry(first, from_minor(payment.total, currency), payment.telegram_charge_id)
        )
        if charge is None:
            return PaymentOutcome.DUPLICATE, head
        await make_refund_due(uow, charge, now)
        await uow.outbox.add(
            [Notification(NotificationKind.LATE_PAYMENT, payment.payer_id, now, first.id, payment_id=charge.id)]
        )
        updated = await uow.bookings.update(await settled(uow, first))
        return PaymentOutcome.REFUNDING, BookingView(updated, head.offering, head.mentor, head.mentee)
    paid_views: list[BookingView] = []
    for place, booking in enumerate(bookings):
        ref = share_charge_ref(payment.telegram_charge_id, booking, first=place == 0)
        if await uow.payments.add(entry(booking, booking.amount, ref)) is None:
            return PaymentOutcome.DUPLICATE, head  # only the first can be: its row is written first
        paid, _delta = rules.transition(booking, after_payment(head.offering), Actor.SYSTEM, now)
        paid = await uow.bookings.update(await settled(uow, paid))
        if place == 0:
            await record_change(uow, booking, paid, Actor.SYSTEM, head.mentor_zone, now)
        else:
            await _quietly(uow, booking, paid, head.mentor_zone, now)
        paid_views.append(BookingView(paid, head.offering, head.mentor, head.mentee))
    return PaymentOutcome.ACCEPTED, paid_views[0]


# --- the mentor: money that moved outside the bot -------------------------------------------------------------


async def mark_paid(uow: UnitOfWork, clock: Clock, mentor_id: int, booking_id: int) -> BookingView:
    """The mentor received the money outside the bot (``off``): a charge in the ledger, the booking paid, the
    mentee sent a receipt. ``NothingToMark`` unless the booking is paid outside the bot and not paid yet. For a
    UPI booking: the payment the mentee reported arrived (``upi_received``)."""
    view = await mentor_booking(uow, mentor_id, booking_id)
    if view.booking.payment_mode == PaymentMode.UPI:
        return await upi_received(uow, view, clock.now())
    view = await mentor_booking(uow, mentor_id, booking_id, for_update=True)
    booking, now = view.booking, clock.now()
    if booking.payment_mode != PaymentMode.OFF or booking.payment_status != PaymentStatus.PENDING:
        raise NothingToMark()
    if not may_mark_paid(booking):
        raise InvalidTransition(booking.status, booking.status, Actor.MENTOR)
    assert booking.id is not None
    await uow.payments.add(
        LedgerEntry(
            booking.id, booking.mentor_id, booking.mentee_id, LedgerKind.CHARGE, booking.amount, booking.currency,
            PaymentMode.OFF, manual_charge_ref(booking.id), now,
        )
    )  # fmt: skip
    paid = await uow.bookings.update(await settled(uow, booking.with_changes(updated_at=now)))
    await record_change(uow, booking, paid, Actor.MENTOR, view.mentor_zone, now)
    return BookingView(paid, view.offering, view.mentor, view.mentee)


async def mark_refunded(uow: UnitOfWork, clock: Clock, mentor_id: int, booking_id: int) -> BookingView:
    """The mentor refunded by hand what is owed for the booking (a provider's payment, or one made outside the
    bot; Stars are refunded by the bot itself): the ledger rows, the payer told. ``NothingToMark`` otherwise."""
    view = await mentor_booking(uow, mentor_id, booking_id, for_update=True)
    booking, now = view.booking, clock.now()
    assert booking.id is not None
    entries = await uow.payments.for_booking(booking.id)
    owed = [c for c in outstanding_refunds(entries) if c.mode != PaymentMode.STARS]  # Stars: the bot refunds,
    if booking.series_id is not None:  # except one week's share of a series' payment (``stars_refund_way``)
        ledger = await series_ledger(uow, booking)  # every week's share of the series' payments
        owed += [
            c
            for c in outstanding_refunds(entries)
            if c.mode == PaymentMode.STARS and stars_refund_way(c, ledger) == StarsRefundWay.BY_HAND
        ]
    if not owed:
        raise NothingToMark()
    for charge in owed:
        await record_refund(uow, charge, now)
    updated = await uow.bookings.update(await settled(uow, booking))
    return BookingView(updated, view.offering, view.mentor, view.mentee)


# --- UPI: the mentee says they paid, the mentor checks -----------------------------------------------------------


async def upi_to_pay(
    uow: UnitOfWork, clock: Clock, mentee_id: int, booking_id: int
) -> tuple[list[BookingView], str]:
    """The held UPI booking the mentee wants to pay (again) - for a series paid as one, every week it holds,
    earliest first (one UPI payment for their stored prices added up) - with the mentor's UPI ID; ``HoldOver``
    when the hold is over, ``PaymentModeUnavailable`` when the mentor has no UPI ID any more."""
    views = await series_to_pay(uow, clock, mentee_id, booking_id)
    profile = await uow.profiles.get(views[0].booking.mentor_id)
    if any(v.booking.payment_mode != PaymentMode.UPI for v in views) or profile is None or not profile.upi_id:
        raise PaymentModeUnavailable(PaymentMode.UPI)
    return views, profile.upi_id


async def _answer_together(
    uow: UnitOfWork, view: BookingView, changed: list[tuple[Booking, Booking]], actor: Actor, now: datetime
) -> BookingView:
    """Save each ``(before, after)`` of one UPI payment's bookings: the first (earliest) tells the people, the
    other weeks of a series move with it quietly. Returns the pressed booking (``view``) as it is now."""
    pressed = view
    for place, (before, after) in enumerate(changed):
        saved = await uow.bookings.update(after)
        if place == 0:
            await record_change(uow, before, saved, actor, view.mentor_zone, now)
        else:
            await _quietly(uow, before, saved, view.mentor_zone, now)
        if saved.id == view.booking.id:
            pressed = BookingView(saved, view.offering, view.mentor, view.mentee)
    return pressed


async def claim_upi(uow: UnitOfWork, clock: Clock, mentee_id: int, booking_id: int) -> BookingView:
    """The mentee says they paid by UPI: the mentor is asked to check (received / not received), and while they
    check the slot stays held (until the start at most, ``Booking.held_until``). For a series paid as one, the
    report is for every week (the mentor is asked once). ``NothingToMark`` when there is nothing to report (paid
    already, reported already, not a UPI booking)."""
    view = await mentee_booking(uow, mentee_id, booking_id)
    now = clock.now()
    together = [b for b in await paid_with(uow, view.booking, for_update=True) if may_claim_upi(b)]
    if not together:
        raise NothingToMark()
    changed = [(b, b.with_changes(payment_claimed_at=now, updated_at=now)) for b in together]
    return await _answer_together(uow, view, changed, Actor.MENTEE, now)


async def upi_received(uow: UnitOfWork, view: BookingView, now: datetime) -> BookingView:
    """The mentor found the UPI payment: charges in the ledger (mode ``upi``, the stored amounts,
    ``domain.payments.upi_charges``) and the booking - every week of a series paid as one - moves on exactly like
    a payment in Telegram (to the mentor's answer, or confirmed). If it no longer waited for it (the hold ran out,
    the mentee let it go), the money is owed back: refund due, the mentee told, the mentor marks it refunded."""
    together = [b for b in await paid_with(uow, view.booking, for_update=True) if may_check_upi(b)]
    if not together:
        raise NothingToMark()
    entries = upi_charges(together, now)
    charges: list[LedgerEntry] = []
    for entry in entries:
        charge = await uow.payments.add(entry)
        if charge is None:  # recorded already (the ledger keeps one UPI payment per booking)
            raise NothingToMark()
        charges.append(charge)
    if upi_moves_on(together):
        changed = []
        for booking in together:
            answered = booking.with_changes(payment_claimed_at=None, updated_at=now)
            paid, _delta = rules.transition(answered, after_payment(view.offering), Actor.SYSTEM, now)
            changed.append((booking, await settled(uow, paid)))
        return await _answer_together(uow, view, changed, Actor.MENTOR, now)
    first = together[0]
    await make_refund_due(uow, charges[0], now)
    await uow.outbox.add(
        [Notification(NotificationKind.LATE_PAYMENT, first.mentee_id, now, first.id, payment_id=charges[0].id)]
    )
    late = []
    for booking in together:
        late.append((booking, await settled(uow, booking.with_changes(payment_claimed_at=None, updated_at=now))))
    pressed = view
    for before, after in late:  # nobody is told of these changes but by the late payment's message
        saved = await uow.bookings.update(after)
        await _quietly(uow, before, saved, view.mentor_zone, now)
        if saved.id == view.booking.id:
            pressed = BookingView(saved, view.offering, view.mentor, view.mentee)
    return pressed


async def upi_not_received(uow: UnitOfWork, clock: Clock, mentor_id: int, booking_id: int) -> BookingView:
    """The mentor did not find the UPI payment the mentee reported: the mentee is told (once, for a series), and
    the hold goes back to its own end (``hold_until``): if that has passed, the slot is freed at once (the
    dispatcher's expiry); otherwise the mentee may still pay and report it again. ``NothingToMark`` when no report
    waits."""
    view = await mentor_booking(uow, mentor_id, booking_id)
    now = clock.now()
    together = [b for b in await paid_with(uow, view.booking, for_update=True) if may_check_upi(b)]
    if not together:
        raise NothingToMark()
    changed = [(b, b.with_changes(payment_claimed_at=None, updated_at=now)) for b in together]
    return await _answer_together(uow, view, changed, Actor.MENTOR, now)


# --- the dispatcher's side ------------------------------------------------------------------------------------


async def expire_hold(uow: UnitOfWork, clock: Clock, booking_id: int) -> BookingView | None:
    """Free the slot of a booking whose hold ran out unpaid; both people are told. None if it was paid or let go
    meanwhile (or the hold has not run out)."""
    view = await load_view(uow, booking_id, for_update=True)
    now = clock.now()
    if view is None or view.booking.status != S.AWAITING_PAYMENT:
        return None
    held_until = view.booking.held_until  # a UPI payment the mentor is checking keeps it until the start
    if held_until is None or now < held_until:
        return None
    expired, _delta = rules.transition(view.booking, S.EXPIRED, Actor.SYSTEM, now)
    expired = await uow.bookings.update(expired)
    await record_change(uow, view.booking, expired, Actor.SYSTEM, view.mentor_zone, now)
    for other in await paid_with(uow, view.booking, for_update=True):  # a series paid as one expires whole
        if other.id != booking_id and other.status == S.AWAITING_PAYMENT:
            gone, _delta = rules.transition(other, S.EXPIRED, Actor.SYSTEM, now)
            await _quietly(uow, other, await uow.bookings.update(gone), view.mentor_zone, now)
    return BookingView(expired, view.offering, view.mentor, view.mentee)


async def refund_to_make(uow: UnitOfWork, clock: Clock, payment_id: int) -> LedgerEntry | None:
    """The Stars charge the outbox's ``REFUND`` row is about, if its refund is due and not yet done and Telegram
    can make it (``domain.payments.stars_refund_way``). One week's share of a series' payment cannot be refunded
    alone: the mentor (and the operator's chat) are told to settle it by hand instead, and None is returned."""
    charge = await uow.payments.get(payment_id)
    if charge is None or charge.kind != LedgerKind.CHARGE or charge.mode != PaymentMode.STARS:
        return None
    way = stars_refund_way(charge, await payment_ledger(uow, charge))
    if way == StarsRefundWay.BY_HAND:
        now, booking_id = clock.now(), charge.booking_id
        await uow.outbox.add(
            [
                Notification(
                    NotificationKind.REFUND_DUE, charge.mentor_id, now, booking_id, payment_id=payment_id
                ),
                Notification(
                    NotificationKind.REFUND_DUE_OPERATOR, charge.mentor_id, now, booking_id, payment_id=payment_id
                ),
            ]
        )
    return charge if way == StarsRefundWay.WHOLE else None


async def refund_made(uow: UnitOfWork, clock: Clock, payment_id: int) -> None:
    """Telegram refunded the Stars charge ``payment_id``: record it (once) and settle the booking; for a series
    paid as one, every share of the payment (Telegram refunds it whole)."""
    charge = await uow.payments.get(payment_id)
    if charge is None:
        return
    refunds: list[Due] = []
    for share in shares_of(charge, await payment_ledger(uow, charge)):
        view = await load_view(uow, share.booking_id, for_update=True)
        refund = await record_refund(uow, share, clock.now(), tell=False) if view is not None else None
        if view is not None and refund is not None:
            refunds.append((share, refund))
            await uow.bookings.update(await settled(uow, view.booking))
    await tell_refunded(uow, refunds, clock.now())  # the payer is told once, however many weeks it paid


async def mark_series_refunded(
    uow: UnitOfWork, clock: Clock, mentor_id: int, booking_id: int, last_id: int
) -> list[LedgerEntry]:
    """Mark all refunded, on the message of refunds one action on a series made due (``booking_id``: its first
    week, ``last_id``: its last ``REFUND_DUE`` row, ``domain.payments.recorded_together``): every week of that
    action still owed by hand is recorded refunded, from the ledger's own rows, and the payer told once. The
    weeks are locked in id order, so two presses (or two processes) take turns and the second records nothing:
    ``NothingToMark`` when nothing of the action is owed any more. Returns the refunds recorded."""
    view = await mentor_booking(uow, mentor_id, booking_id)
    if view.booking.series_id is None:
        raise NothingToMark()
    weeks = await uow.bookings.series_bookings(view.booking.series_id)
    locked: dict[int, Booking] = {}
    for week_id in sorted(w.id for w in weeks if w.id is not None):
        found = await uow.bookings.get(week_id, for_update=True)
        if found is not None:
            locked[week_id] = found
    entries = await series_ledger(uow, view.booking, weeks)
    action = {e.charge_ref for e in recorded_together(entries, LedgerKind.REFUND_DUE, booking_id, last_id)}
    owed = [
        c
        for c in outstanding_refunds(entries)
        if c.charge_ref in action
        and (c.mode != PaymentMode.STARS or stars_refund_way(c, entries) == StarsRefundWay.BY_HAND)
    ]
    now = clock.now()
    refunds: list[Due] = []
    for charge in owed:
        refund = await record_refund(uow, charge, now, tell=False)
        if refund is not None:
            refunds.append((charge, refund))
    if not refunds:
        raise NothingToMark()
    for week_id in sorted({charge.booking_id for charge, _refund in refunds}):
        week = locked.get(week_id)  # as read under the lock: refunds change the ledger, not the booking's row
        if week is not None:
            await uow.bookings.update(await settled(uow, week))
    await tell_refunded(uow, refunds, now)
    return [refund for _charge, refund in refunds]


@dataclass(frozen=True, slots=True)
class RefundsTogether:
    """What a message about several weeks' refunds says (the dispatcher's side): the ledger's rows of the action
    (``domain.payments.recorded_together``), the weeks they are about, and how many of them are still owed."""

    rows: list[LedgerEntry]
    weeks: list[BookingView]
    owed: int

    @property
    def total(self) -> tuple[Decimal, Currency]:
        """The rows added up, and their currency."""
        return total_of(self.rows)

    @property
    def count(self) -> int:
        """How many weeks the rows are about (one row per week)."""
        return len(self.rows)


async def refunds_together(
    uow: UnitOfWork, booking_id: int, kind: LedgerKind, last_id: int
) -> RefundsTogether | None:
    """The rows of ``kind`` one series action recorded (its first week ``booking_id``, its last row ``last_id``)
    with their weeks; None when there are none (or the series is gone)."""
    booking = await uow.bookings.get(booking_id)
    if booking is None:
        return None
    series = await uow.bookings.series_bookings(booking.series_id) if booking.series_id is not None else [booking]
    entries = await series_ledger(uow, booking, series)
    rows = recorded_together(entries, kind, booking_id, last_id)
    if not rows:
        return None
    about = {row.booking_id for row in rows}
    bookings = [w for w in series if w.id in about]
    weeks = await booking_views(uow, bookings or [booking])  # the series' offering and people read once
    if not weeks:
        return None
    refs = {row.charge_ref for row in rows}
    owed = [c for c in outstanding_refunds(entries) if c.charge_ref in refs]
    return RefundsTogether(rows, weeks, len(owed))


async def charge_of(uow: UnitOfWork, payment_id: int | None) -> LedgerEntry | None:
    """A charge of the ledger, for a message about it."""
    if payment_id is None:
        return None
    entry = await uow.payments.get(payment_id)
    return entry if entry is not None and entry.kind == LedgerKind.CHARGE else None


# --- earnings -------------------------------------------------------------------------------------------------


async def _as_mentor(uow: UnitOfWork, user_id: int) -> None:
    user = await uow.users.get(user_id)
    if user is None or not user.is_mentor:
        raise NotAllowed("earnings are a mentor's")


async def earnings(uow: UnitOfWork, clock: Clock, mentor_id: int, zone: str) -> Earnings:
    """This month (the mentor's month, in their zone) and all time: paid, refunded and net per currency."""
    await _as_mentor(uow, mentor_id)
    since = month_start(clock.now(), zone)
    month = totals_from(await uow.payments.sums_for_mentor(mentor_id, since))
    all_time = totals_from(await uow.payments.sums_for_mentor(mentor_id))
    return Earnings(since, month, all_time)


async def ledger_of(uow: UnitOfWork, mentor_id: int) -> list[LedgerEntry]:
    """Every event of the mentor's ledger, oldest first (the download)."""
    await _as_mentor(uow, mentor_id)
    return await uow.payments.for_mentor(mentor_id)
