"""Domain objects with sensible defaults for storage tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.model import Booking, BookingStatus, Offering, OfferingStatus, PaymentStatus, User
from storage.uow import SqlUnitOfWork

MENTOR_ID = 1001
MENTEE_ID = 2001
T0 = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)  # a Monday


def user(user_id: int, **changes: Any) -> User:
    fields: dict[str, Any] = {"first_name": f"User {user_id}"} | changes
    return User(id=user_id, **fields)


def offering(mentor_id: int = MENTOR_ID, **changes: Any) -> Offering:
    fields: dict[str, Any] = {
        "title": "Resume review 1:1",
        "price": Decimal("500.00"),
        "duration_minutes": 30,
        "status": OfferingStatus.ACTIVE,
    } | changes
    return Offering(mentor_id=mentor_id, **fields)


def booking(offering_: Offering, mentee_id: int = MENTEE_ID, start: datetime = T0, **changes: Any) -> Booking:
    assert offering_.id is not None
    fields: dict[str, Any] = {
        "offering_id": offering_.id,
        "mentor_id": offering_.mentor_id,
        "mentee_id": mentee_id,
        "scheduled_at": start,
        "duration_minutes": offering_.duration_minutes,
        "buffer_before_minutes": offering_.buffer_before_minutes,
        "buffer_after_minutes": offering_.buffer_after_minutes,
        "timezone": "Asia/Kolkata",
        "amount": offering_.price,
        "payment_status": PaymentStatus.NOT_REQUIRED if offering_.is_free else PaymentStatus.PENDING,
        "status": BookingStatus.PENDING,
        "created_at": start - timedelta(days=2),
    } | changes
    return Booking(**fields)


async def seed(uow: SqlUnitOfWork, *users: User, offerings: tuple[Offering, ...] = ()) -> list[Offering]:
    """Insert users and offerings in one committed transaction; return the offerings with their ids."""
    async with uow:
        for u in users:
            await uow.users.add(u)
        added = [await uow.offerings.add(o) for o in offerings]
        await uow.commit()
    return added


async def mentor_and_mentee(uow: SqlUnitOfWork, **offering_changes: Any) -> Offering:
    """The usual cast: a mentor (Asia/Kolkata) with one active offering, and a mentee."""
    [added] = await seed(
        uow,
        user(MENTOR_ID, is_mentor=True, timezone="Asia/Kolkata"),
        user(MENTEE_ID, timezone="Europe/Berlin"),
        offerings=(offering(**offering_changes),),
    )
    return added
