"""Rescheduling: moving a booking to another time of the same offering.

The rules only (the use cases are ``domain.usecases.reschedule``):

1. **Who and when.** The mentee moves a pending or confirmed booking until the offering's reschedule cut-off
   (``reschedule_cutoff_hours``; by default its cancellation cut-off), at most ``max_moves`` times
   (``MAX_RESCHEDULES``, default ``DEFAULT_MAX_RESCHEDULES``) - moves by either side count.
2. **Which times.** Every booking rule of the offering applies to the new time (``domain.slots``), except that
   the booking's own time is not a conflict: its own busy time and its place in the daily limit are left out.
3. **At once, or asked.** A pending request, or a booking of an offering that confirms on its own (free, or
   confirmed automatically once paid), moves at once. A confirmed booking of any other offering asks the mentor:
   until they answer, the booking keeps its time and the new time is *held* for it (it blocks other bookings like
   a booking does); approve moves it, decline keeps it, and an unanswered request expires (``request_expiry``)
   keeping the original time.
4. **The mentor proposes.** While a confirmed booking could be moved (not started, moves left, no request of the
   mentee's waiting; a pending request is answered instead), its mentor proposes one to three free times of the
   offering (the same slot rules) with an optional message; the mentee picks one - the booking moves at once, the
   time re-checked - or says none of them work. New proposals replace the old ones.
5. **History.** A move keeps the booking (its id, its payment: no second charge, no refund) and records the time
   it left, who moved it and how many moves it has had. Its reminders and other timed messages follow the new time
   (``domain.notifications.timed_for``), and the calendar event keeps its UID with a higher SEQUENCE (storage
   raises it on every change).
6. **One week of a weekly series** (``domain.series``) moves like any booking, by every rule above; the other
   weeks stay where they are, and the moved one keeps its place in the series ("week 3 of 6"), wherever it goes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from domain.errors import DomainError, InvalidInput, InvalidTransition
from domain.model import REASON_MAX, Actor, Booking, BookingStatus, Offering
from domain.validation import clean_text

S = BookingStatus

DEFAULT_MAX_RESCHEDULES = 2
MOVABLE = (S.PENDING, S.CONFIRMED)
MAX_PROPOSALS = 3


class RescheduleClosed(DomainError):
    """The offering's reschedule cut-off has passed: the mentee can no longer move the session."""

    def __init__(self, hours: int) -> None:
        super().__init__(f"rescheduling closes {hours} h before the start")
        self.hours = hours


class TooManyMoves(DomainError):
    """The booking was moved as often as a booking may be."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} moves")
        self.limit = limit


class MoveAwaitsAnswer(DomainError):
    """A new time was asked for and the mentor has not answered yet: one request at a time."""


class NoMoveRequest(DomainError):
    """The new time this button answers is no longer asked for (answered, withdrawn or expired)."""


class NoProposal(DomainError):
    """That proposed time is no longer on offer: one was chosen, none worked, or new times were proposed."""


class SameTime(DomainError):
    """The new time is the booking's current time."""


def reschedule_cutoff_hours(offering: Offering) -> int:
    """Hours before the start after which the mentee may no longer move a session (default: the cancellation
    cut-off)."""
    if offering.reschedule_cutoff_hours is None:
        return offering.cancellation_cutoff_hours
    return offering.reschedule_cutoff_hours


def reschedule_deadline(booking: Booking, offering: Offering) -> datetime:
    return booking.scheduled_at - timedelta(hours=reschedule_cutoff_hours(offering))


def moves_left(booking: Booking, max_moves: int) -> int:
    return max(0, max_moves - booking.reschedules)


def check_may_reschedule(booking: Booking, offering: Offering, now: datetime, max_moves: int) -> None:
    """Rule 1 for the mentee: ``InvalidTransition`` unless the booking is pending or confirmed,
    ``MoveAwaitsAnswer`` while a request waits, ``TooManyMoves`` once used up, ``RescheduleClosed`` after the
    cut-off."""
    if booking.status not in MOVABLE:
        raise InvalidTransition(booking.status, booking.status, Actor.MENTEE)
    if booking.requested_start is not None:
        raise MoveAwaitsAnswer()
    if moves_left(booking, max_moves) == 0:
        raise TooManyMoves(max_moves)
    if now > reschedule_deadline(booking, offering):
        raise RescheduleClosed(reschedule_cutoff_hours(offering))


def may_reschedule(booking: Booking, offering: Offering, now: datetime, max_moves: int) -> bool:
    try:
        check_may_reschedule(booking, offering, now, max_moves)
    except DomainError:
        return False
    return True


def moves_at_once(booking: Booking, offering: Offering) -> bool:
    """Rule 3: a pending request, or an offering that confirms on its own, moves without asking the mentor."""
    return booking.status == S.PENDING or offering.is_free or offering.auto_confirm_paid


def moved(booking: Booking, start: datetime, actor: Actor, now: datetime) -> Booking:
    """The booking at ``start``: its history records the time it leaves and who moved it; no request is left."""
    if start == booking.scheduled_at:
        raise SameTime()
    return booking.with_changes(
        scheduled_at=start,
        moved_from=booking.scheduled_at,
        moved_by=actor,
        reschedules=booking.reschedules + 1,
        requested_start=None,
        requested_at=None,
        proposals=(),
        proposal_message=None,
        updated_at=now,
    )


def check_may_propose(booking: Booking, now: datetime, max_moves: int) -> None:
    """Rule 4 for the mentor: ``InvalidTransition`` unless the booking is confirmed and not started,
    ``MoveAwaitsAnswer`` while the mentee's own request waits, ``TooManyMoves`` once used up."""
    if booking.status != S.CONFIRMED or booking.scheduled_at <= now:
        raise InvalidTransition(booking.status, booking.status, Actor.MENTOR)
    if booking.requested_start is not None:
        raise MoveAwaitsAnswer()
    if moves_left(booking, max_moves) == 0:
        raise TooManyMoves(max_moves)


def may_propose(booking: Booking, now: datetime, max_moves: int) -> bool:
    try:
        check_may_propose(booking, now, max_moves)
    except DomainError:
        return False
    return True


def proposed(booking: Booking, starts: Iterable[datetime], message: str | None, now: datetime) -> Booking:
    """The booking with one to three new times on offer (sorted, the current time never among them)."""
    times = tuple(sorted(set(starts)))
    if not 1 <= len(times) <= MAX_PROPOSALS:
        raise InvalidInput("proposals", "count")
    if booking.scheduled_at in times:
        raise SameTime()
    note = clean_text(message or "", REASON_MAX, field="reason") or None
    return booking.with_changes(proposals=times, proposal_message=note, updated_at=now)


def check_proposal(booking: Booking, start: datetime) -> None:
    """``NoProposal`` unless ``start`` is one of the times the mentor proposes now."""
    if booking.status not in MOVABLE or start not in booking.proposals:
        raise NoProposal()


def without_proposals(booking: Booking, now: datetime) -> Booking:
    """None of the proposed times works for the mentee: the booking stays where it is."""
    if not booking.proposals:
        raise NoProposal()
    return booking.with_changes(proposals=(), proposal_message=None, updated_at=now)


def requested(booking: Booking, start: datetime, now: datetime) -> Booking:
    """The booking with ``start`` asked for (and held) until the mentor answers."""
    if start == booking.scheduled_at:
        raise SameTime()
    return booking.with_changes(requested_start=start, requested_at=now, updated_at=now)


def without_request(booking: Booking, now: datetime) -> Booking:
    """The booking at its original time, the request answered (declined) or expired."""
    return booking.with_changes(requested_start=None, requested_at=None, updated_at=now)


def check_request(booking: Booking, start: datetime) -> None:
    """``NoMoveRequest`` unless ``start`` is the time the mentee asked for and the booking still waits on it."""
    if booking.status != S.CONFIRMED or booking.requested_start != start:
        raise NoMoveRequest()


def request_expiry(booking: Booking, expire_after: timedelta) -> datetime:
    """When an unanswered request expires: like a booking request (``expire_after`` after it was made), and at the
    latest when either time starts."""
    assert booking.requested_start is not None and booking.requested_at is not None
    return min(booking.requested_at + expire_after, booking.requested_start, booking.scheduled_at)


def held_times(bookings: Iterable[Booking]) -> list[Booking]:
    """The new times asked for by ``bookings``, each as a booking at that time: they block the mentor's calendar
    (``domain.slots``, rule 4) and count on their day (rule 5) until the mentor answers."""
    return [
        booking.with_changes(scheduled_at=booking.requested_start)
        for booking in bookings
        if booking.requested_start is not None and booking.status.is_active
    ]
