"""Small builders for the domain tests: offerings, bookings and availability with readable defaults."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal

from domain.model import (
    Availability,
    Booking,
    BookingStatus,
    DateOverride,
    Offering,
    OfferingStatus,
    PaymentStatus,
    TimeRange,
    WeeklyRule,
)

OFFERING_ID = 7
OTHER_OFFERING_ID = 99
MENTOR_ID = 1

# A Monday morning. Tuesday 2026-03-03 is the first day fully past the default 24-hour notice.
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MONDAY = date(2026, 3, 2)
TUESDAY = date(2026, 3, 3)
WEDNESDAY = date(2026, 3, 4)


def hm(text: str) -> int:
    """Minutes after midnight for ``"HH:MM"``."""
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


def span(start: str, end: str) -> TimeRange:
    return TimeRange(hm(start), 1440 if end == "24:00" else hm(end))


def utc(day: date, clock: str) -> datetime:
    """The UTC instant ``day`` at ``"HH:MM"`` UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=hm(clock))


def offering(**changes: object) -> Offering:
    base = Offering(
        mentor_id=MENTOR_ID,
        title="Mock interview",
        price=Decimal(0),
        duration_minutes=60,
        id=OFFERING_ID,
        status=OfferingStatus.ACTIVE,
        buffer_before_minutes=0,
        buffer_after_minutes=0,
    )
    return base.with_changes(**changes)


def weekly(
    timezone_name: str, *rules: tuple[int, str, str], overrides: tuple[DateOverride, ...] = ()
) -> Availability:
    """``weekly("UTC", (1, "09:00", "12:00"))`` is open on Tuesdays 09:00-12:00 UTC."""
    return Availability(
        timezone=timezone_name,
        weekly=tuple(WeeklyRule(weekday, span(start, end)) for weekday, start, end in rules),
        overrides=overrides,
    )


def every_day(timezone_name: str, start: str, end: str) -> Availability:
    return weekly(timezone_name, *((weekday, start, end) for weekday in range(7)))


def booking(
    start: datetime,
    duration: int = 60,
    *,
    before: int = 0,
    after: int = 0,
    offering_id: int = OFFERING_ID,
    status: BookingStatus = BookingStatus.CONFIRMED,
    mentee_id: int = 500,
) -> Booking:
    return Booking(
        offering_id=offering_id,
        mentor_id=MENTOR_ID,
        mentee_id=mentee_id,
        scheduled_at=start,
        duration_minutes=duration,
        buffer_before_minutes=before,
        buffer_after_minutes=after,
        timezone="UTC",
        amount=Decimal(0),
        payment_status=PaymentStatus.NOT_REQUIRED,
        status=status,
        created_at=NOW,
    )


def clock_times(slots: list[datetime], tz: tzinfo | None = None) -> list[str]:
    """``"HH:MM"`` of each slot, in UTC unless ``tz`` is given."""
    return [slot.astimezone(tz or UTC).strftime("%H:%M") for slot in slots]
