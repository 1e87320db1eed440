"""The booking state machine: which moves exist, who may make them, and what each does to the stats.

One table, ``TRANSITIONS``, is the whole truth about status changes::

    awaiting_payment -> pending (system: paid, the offering waits for the mentor's answer)
                      | confirmed (system: paid, the offering confirms paid bookings automatically)
                      | expired (system: the hold ran out) | cancelled (mentee: withdrawn before paying)
    pending   -> confirmed (mentor) | declined (mentor, reason) | cancelled (anyone, reason) | expired (system)
    confirmed -> completed (mentor, after start) | no_show (mentor, after start) | cancelled (anyone, reason)

Every other move raises ``InvalidTransition``. Functions here return new frozen objects plus the ``StatsDelta``
the change implies; the caller saves both in one transaction. What a move does to the money (a refund) is the
payments rules' (``domain.payments.refund_on_move``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain.errors import InvalidInput, InvalidTransition, NotAllowed, ReasonRequired
from domain.model import (
    NOTES_MAX,
    REASON_MAX,
    Actor,
    Booking,
    BookingStatus,
    Currency,
    Offering,
    PaymentMode,
    PaymentStatus,
    StatsDelta,
)
from domain.payments import PaymentTerms
from domain.validation import clean_text, validate_link

S = BookingStatus


@dataclass(frozen=True, slots=True)
class Move:
    actors: frozenset[Actor]
    needs_reason: bool = False
    only_after_start: bool = False


_ANYONE = frozenset(Actor)

TRANSITIONS: dict[tuple[BookingStatus, BookingStatus], Move] = {
    (S.AWAITING_PAYMENT, S.PENDING): Move(frozenset({Actor.SYSTEM})),
    (S.AWAITING_PAYMENT, S.CONFIRMED): Move(frozenset({Actor.SYSTEM})),
    (S.AWAITING_PAYMENT, S.EXPIRED): Move(frozenset({Actor.SYSTEM})),
    (S.AWAITING_PAYMENT, S.CANCELLED): Move(frozenset({Actor.MENTEE})),
    (S.PENDING, S.CONFIRMED): Move(frozenset({Actor.MENTOR})),
    (S.PENDING, S.DECLINED): Move(frozenset({Actor.MENTOR}), needs_reason=True),
    (S.PENDING, S.CANCELLED): Move(_ANYONE, needs_reason=True),
    (S.PENDING, S.EXPIRED): Move(frozenset({Actor.SYSTEM})),
    (S.CONFIRMED, S.COMPLETED): Move(frozenset({Actor.MENTOR}), only_after_start=True),
    (S.CONFIRMED, S.NO_SHOW): Move(frozenset({Actor.MENTOR}), only_after_start=True),
    (S.CONFIRMED, S.CANCELLED): Move(_ANYONE, needs_reason=True),
}


def allowed_moves(booking: Booking, actor: Actor, now: datetime) -> list[BookingStatus]:
    """The statuses ``actor`` may move ``booking`` to right now (for drawing buttons)."""
    return [
        target
        for (source, target), move in TRANSITIONS.items()
        if source == booking.status
        and actor in move.actors
        and (not move.only_after_start or now >= booking.scheduled_at)
    ]


def transition(
    booking: Booking, target: BookingStatus, actor: Actor, now: datetime, reason: str | None = None
) -> tuple[Booking, StatsDelta]:
    """Move ``booking`` to ``target`` as ``actor``; raise ``InvalidTransition`` or ``ReasonRequired`` if not
    allowed."""
    if not any(actor in move.actors for (_source, to), move in TRANSITIONS.items() if to == target):
        raise NotAllowed(f"{actor} never moves a booking to {target}")
    move = TRANSITIONS.get((booking.status, target))
    if move is None or actor not in move.actors or (move.only_after_start and now < booking.scheduled_at):
        raise InvalidTransition(booking.status, target, actor)
    changes: dict[str, object] = {"status": target, "updated_at": now}
    if move.needs_reason:
        cleaned = clean_text(reason or "", REASON_MAX, field="reason")
        if not cleaned:
            raise ReasonRequired()
        changes["cancellation_reason"] = cleaned
    if move.needs_reason or target == S.CANCELLED:
        changes["cancelled_by"] = actor
    if not target.is_active:  # a new time asked for (``domain.reschedule``) is no longer held
        changes.update(requested_start=None, requested_at=None, proposals=(), proposal_message=None)
    delta = StatsDelta(completed=1) if target == S.COMPLETED else StatsDelta()
    return booking.with_changes(**changes), delta


def new_booking(
    offering: Offering,
    mentee_id: int,
    start: datetime,
    mentee_timezone: str,
    now: datetime,
    notes: str | None = None,
    terms: PaymentTerms | None = None,
) -> tuple[Booking, StatsDelta]:
    """A fresh booking: confirmed at once when the offering is free; when paid (``terms``, from
    ``domain.payments.payment_terms``), held awaiting payment for an online mode, or pending the mentor's answer
    when paid outside the bot (also without ``terms``)."""
    if offering.id is None:
        raise ValueError("offering must be saved first")
    free = offering.is_free
    if free and terms is not None:
        raise ValueError("a free offering has no payment terms")
    if not free and terms is None:
        terms = PaymentTerms(PaymentMode.OFF, Decimal(offering.price), Currency.INR, None, None)
    if terms is None:
        status = S.CONFIRMED
    elif terms.hold_until is not None:
        status = S.AWAITING_PAYMENT
    else:
        status = S.PENDING
    booking = Booking(
        offering_id=offering.id,
        mentor_id=offering.mentor_id,
        mentee_id=mentee_id,
        scheduled_at=start,
        duration_minutes=offering.duration_minutes,
        buffer_before_minutes=offering.buffer_before_minutes,
        buffer_after_minutes=offering.buffer_after_minutes,
        timezone=mentee_timezone,
        amount=Decimal(offering.price) if terms is None else terms.amount,
        currency=Currency.INR if terms is None else terms.currency,
        payment_mode=None if terms is None else terms.mode,
        hold_until=None if terms is None else terms.hold_until,
        payment_nonce=None if terms is None else terms.nonce,
        payment_status=PaymentStatus.NOT_REQUIRED if free else PaymentStatus.PENDING,
        status=status,
        created_at=now,
        updated_at=now,
        meeting_notes=clean_text(notes or "", NOTES_MAX, field="notes") or None,
    )
    return booking, StatsDelta(bookings=1)


def link_editable(booking: Booking, actor: Actor) -> bool:
    """Only the mentor adds or changes the meeting link, and only while the booking is pending or confirmed."""
    return actor == Actor.MENTOR and booking.status in (S.PENDING, S.CONFIRMED)


def check_link_editable(booking: Booking, actor: Actor) -> None:
    """``NotAllowed`` for anyone but the mentor; ``InvalidTransition`` once the booking is over."""
    if actor != Actor.MENTOR:
        raise NotAllowed()
    if not link_editable(booking, actor):
        raise InvalidTransition(booking.status, booking.status, actor)


def set_meeting_link(booking: Booking, actor: Actor, link: str, now: datetime) -> Booking:
    """The booking with the new link (``link_editable`` says who may, and when)."""
    check_link_editable(booking, actor)
    return booking.with_changes(meeting_link=validate_link(link), updated_at=now)


def rate(
    booking: Booking, actor: Actor, stars: int, feedback: str | None, now: datetime
) -> tuple[Booking, StatsDelta]:
    """The mentee rates a completed session once, 1 to 5 stars."""
    if actor != Actor.MENTEE:
        raise NotAllowed()
    if booking.status != S.COMPLETED or booking.mentee_rating is not None:
        raise InvalidTransition(booking.status, booking.status, actor)
    if not 1 <= stars <= 5:
        raise InvalidInput("rating")
    rated = booking.with_changes(
        mentee_rating=stars,
        mentee_feedback=clean_text(feedback or "", NOTES_MAX, field="feedback") or None,
        updated_at=now,
    )
    return rated, StatsDelta(rating_sum=stars, rating_count=1)
