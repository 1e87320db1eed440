"""Ports: the narrow interfaces the use cases need. ``storage/`` implements them; tests may fake them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from domain.model import Availability, Booking, BookingStatus, Offering, StatsDelta, User, WeeklyRule


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class UserRepository(Protocol):
    async def get(self, user_id: int) -> User | None: ...

    async def add(self, user: User) -> User: ...

    async def update(self, user: User) -> User: ...


class AvailabilityRepository(Protocol):
    async def get(self, mentor_id: int) -> Availability | None:
        """The mentor's weekly rules and overrides, in the mentor's time zone; None if never set."""
        ...

    async def replace_weekly(self, mentor_id: int, rules: Sequence[WeeklyRule]) -> None: ...


class OfferingRepository(Protocol):
    async def get(self, offering_id: int) -> Offering | None: ...

    async def add(self, offering: Offering) -> Offering:
        """Insert and return the offering with its new id."""
        ...

    async def update(self, offering: Offering) -> Offering:
        """Save every editable field (not the counters: use ``apply_stats``)."""
        ...

    async def list_by_mentor(self, mentor_id: int) -> list[Offering]: ...

    async def list_active(self, limit: int, offset: int = 0) -> list[Offering]:
        """Active offerings for browsing, best rated and most booked first."""
        ...

    async def apply_stats(self, offering_id: int, delta: StatsDelta) -> None:
        """Atomically add ``delta`` to the offering's counters (an SQL ``UPDATE ... SET x = x + :d``)."""
        ...


class BookingRepository(Protocol):
    async def get(self, booking_id: int) -> Booking | None: ...

    async def add(self, booking: Booking) -> Booking:
        """Insert and return the booking with its new id."""
        ...

    async def update(self, booking: Booking) -> Booking: ...

    async def active_for_mentor(self, mentor_id: int, start: datetime, end: datetime) -> list[Booking]:
        """The mentor's pending and confirmed bookings (all offerings) whose buffered time touches [start, end)."""
        ...

    async def active_for_mentee(self, mentee_id: int, start: datetime, end: datetime) -> list[Booking]:
        """The mentee's pending and confirmed bookings whose session time touches [start, end)."""
        ...

    async def list_for_mentor(
        self, mentor_id: int, statuses: Sequence[BookingStatus], limit: int, offset: int = 0
    ) -> list[Booking]: ...

    async def list_for_mentee(
        self, mentee_id: int, statuses: Sequence[BookingStatus], limit: int, offset: int = 0
    ) -> list[Booking]: ...


class DialogRepository(Protocol):
    """Where a user's conversation progress lives, so it survives restarts and is shared by processes."""

    async def get(self, user_id: int) -> tuple[str, dict[str, Any]] | None: ...

    async def set(self, user_id: int, state: str, data: dict[str, Any]) -> None: ...

    async def clear(self, user_id: int) -> None: ...


class UnitOfWork(Protocol):
    """One database transaction. Rolls back on exit unless ``commit()`` was called; repositories never commit."""

    users: UserRepository
    availability: AvailabilityRepository
    offerings: OfferingRepository
    bookings: BookingRepository
    dialogs: DialogRepository

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def lock_users(self, *user_ids: int) -> None:
        """Serialize with every other transaction that locks any of these users, until this one ends.

        PostgreSQL: ``SELECT ... FOR UPDATE`` on the users' rows in id order. SQLite: the transaction is already
        an immediate write transaction, so this is a no-op there.
        """
        ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...
