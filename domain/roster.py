"""A group session's roster: the attendees of one session of a group offering, seen together by its mentor.

A session is every booking of one offering at one start instant (``domain.slots``, rule 6); each attendee keeps a
booking of their own, and the roster's moves are each attendee's usual moves (``domain.booking``) made together:
one meeting link for everyone, cancelling the whole session. The use cases are ``domain.usecases.roster``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.booking import link_editable
from domain.errors import DomainError
from domain.model import Actor, Booking, BookingStatus, BookingView, Offering, User

S = BookingStatus

# Whom the mentor cancels when cancelling the whole session: what ``TRANSITIONS`` lets a mentor cancel.
CANCELLABLE = (S.PENDING, S.CONFIRMED)
HELD = (S.COMPLETED, S.NO_SHOW)  # attendees of a session that took place kept their seat


class SeatBeingPaid(DomainError):
    """A seat of the session is held while its mentee pays: the whole session is cancelled once the hold ends
    (paid, and then cancellable, or expired)."""


def session_link(offering: Offering, busy: Sequence[Booking], start: datetime) -> str | None:
    """The meeting link the attendees of ``offering``'s session at ``start`` were given (the latest set), for one
    who joins it now; None without one."""
    linked = [
        b
        for b in busy
        if b.status.is_active and b.offering_id == offering.id and b.scheduled_at == start and b.meeting_link
    ]
    return max(linked, key=lambda b: b.updated_at or b.created_at).meeting_link if linked else None


@dataclass(frozen=True, slots=True)
class Roster:
    offering: Offering
    mentor: User
    start: datetime
    attendees: tuple[BookingView, ...]  # every booking of the session, any status, oldest first

    @property
    def active(self) -> tuple[BookingView, ...]:
        """The attendees holding a seat (held awaiting payment, pending or confirmed)."""
        return tuple(view for view in self.attendees if view.booking.status.is_active)

    @property
    def seats_taken(self) -> int:
        """Seats held now or used: everyone but the cancelled, declined and expired."""
        return sum(1 for view in self.attendees if view.booking.status.is_active or view.booking.status in HELD)

    @property
    def link(self) -> str | None:
        """The session's meeting link: the one its attendees were given (the latest set, if they differ)."""
        return session_link(self.offering, [view.booking for view in self.attendees], self.start)

    @property
    def link_receivers(self) -> tuple[BookingView, ...]:
        """Who a link for the whole session goes to: every attendee whose link the mentor may set now."""
        return tuple(view for view in self.attendees if link_editable(view.booking, Actor.MENTOR))

    @property
    def cancellable(self) -> tuple[BookingView, ...]:
        return tuple(view for view in self.attendees if view.booking.status in CANCELLABLE)

    @property
    def held_for_payment(self) -> bool:
        return any(view.booking.status == S.AWAITING_PAYMENT for view in self.attendees)

    def check_cancellable(self) -> None:
        """``SeatBeingPaid`` while a seat is held for a payment (that mentee could pay into a cancelled
        session)."""
        if self.held_for_payment:
            raise SeatBeingPaid()
