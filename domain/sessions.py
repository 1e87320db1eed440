"""After booking: the mentee's side of a session (cancelling under the offering's policy, rating, feedback) and
what the daily agenda holds.

The rules only; the use cases are ``domain.usecases.my_bookings`` (cancelling), ``domain.usecases.aftercare``
(rating and feedback) and ``domain.usecases.notifications`` (the system's side: expiry, the agenda). The mentor's
moves (confirm, decline, complete, no-show, cancel) are the state machine's (``domain.booking``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import DomainError, InvalidTransition, NotAllowed
from domain.model import NOTES_MAX, Actor, Booking, BookingStatus, BookingView, Offering, User
from domain.validation import clean_text


class CancellationClosed(DomainError):
    """The offering's cut-off has passed: the mentee can no longer cancel (the mentor still can)."""

    def __init__(self, hours: int) -> None:
        super().__init__(f"cancellation closes {hours} h before the start")
        self.hours = hours


class AlreadyRated(DomainError):
    """The mentee has rated this session already; a rating is given once."""


class NotRateable(DomainError):
    """Only a session the mentor marked completed can be rated."""


def check_rateable(booking: Booking) -> None:
    """The mentee rates a completed session once: ``AlreadyRated`` after that, ``NotRateable`` before it."""
    if booking.mentee_rating is not None:
        raise AlreadyRated()
    if booking.status != BookingStatus.COMPLETED:
        raise NotRateable()


def cutoff_before(start: datetime, offering: Offering) -> datetime:
    """The offering's cancellation cut-off for a session starting at ``start`` (also before it is booked)."""
    return start - timedelta(hours=offering.cancellation_cutoff_hours)


def cancellation_deadline(booking: Booking, offering: Offering) -> datetime:
    return cutoff_before(booking.scheduled_at, offering)


def cancellation_closed(booking: Booking, offering: Offering, now: datetime) -> bool:
    """A confirmed booking past the offering's cut-off: its mentee can no longer cancel it (the mentor still can;
    a pending request can always be withdrawn)."""
    return booking.status == BookingStatus.CONFIRMED and now > cancellation_deadline(booking, offering)


def check_mentee_may_cancel(booking: Booking, offering: Offering, now: datetime) -> None:
    """A mentee cancels an active booking only until the cut-off (a pending request can always be withdrawn)."""
    if not booking.status.is_active:
        raise InvalidTransition(booking.status, BookingStatus.CANCELLED, Actor.MENTEE)
    if cancellation_closed(booking, offering, now):
        raise CancellationClosed(offering.cancellation_cutoff_hours)


def add_feedback(booking: Booking, actor: Actor, text: str, now: datetime) -> Booking:
    """Optional words after the stars: only by the mentee, only once, only after rating."""
    if actor != Actor.MENTEE:
        raise NotAllowed()
    if booking.mentee_rating is None or booking.mentee_feedback is not None:
        raise InvalidTransition(booking.status, booking.status, actor)
    feedback = clean_text(text, NOTES_MAX, field="feedback") or None
    return booking.with_changes(mentee_feedback=feedback, updated_at=now)


@dataclass(frozen=True, slots=True)
class Agenda:
    mentor: User
    sessions: list[BookingView]
