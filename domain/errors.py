"""Domain errors: each one is a rule a request broke; handlers turn them into localized messages."""

from __future__ import annotations


class DomainError(Exception):
    """Base for every rule violation the user can be told about."""


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the asker)."""


class NotAllowed(DomainError):
    """The actor may not do this (wrong user or wrong role)."""


class InvalidTransition(DomainError):
    """A booking cannot move from its current status to the requested one (by this actor, now)."""

    def __init__(self, current: str, target: str, actor: str) -> None:
        super().__init__(f"cannot move booking from {current} to {target} as {actor}")
        self.current = current
        self.target = target
        self.actor = actor


class ReasonRequired(DomainError):
    """Declining or cancelling needs a reason."""


class OfferingUnavailable(DomainError):
    """The offering is not active (draft, paused or archived)."""


class SlotTaken(DomainError):
    """The chosen start time is no longer bookable (taken, too soon, outside the window or availability)."""


class SelfBooking(DomainError):
    """A mentor cannot book their own offering."""


class MenteeOverlap(DomainError):
    """The mentee already holds an active booking that overlaps the requested time."""


class InvalidInput(DomainError):
    """A value typed by the user is not acceptable; ``field`` names what was wrong."""

    def __init__(self, field: str, detail: str = "") -> None:
        super().__init__(f"{field}: {detail}" if detail else field)
        self.field = field
        self.detail = detail


class TooManyBookings(DomainError):
    """The mentee already holds ``limit`` pending or upcoming bookings with this mentor
    (``usecases.booking.book_slot``)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} open bookings with one mentor")
        self.limit = limit
