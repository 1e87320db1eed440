"""Benchmark the slot engine: a 30-day window with 200 existing bookings, then the same with 500 busy events of
the mentor's external calendars besides them.

Run with ``python -m benchmarks.bench_slots``. Prints the median and 95th percentile of ``generate_slots`` (and of
``is_bookable`` for one slot) over repeated runs with fixed, deterministic inputs.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.model import (
    Availability,
    Booking,
    BookingStatus,
    BusyInterval,
    DateOverride,
    Offering,
    PaymentStatus,
    TimeRange,
    WeeklyRule,
)
from domain.slots import generate_slots, is_bookable

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
RUNS = 300
BUSY_COUNT = 200
EXTERNAL_COUNT = 500  # busy events of external calendars (target: median at most 2 ms)


def _availability() -> Availability:
    weekly = tuple(WeeklyRule(weekday, TimeRange(9 * 60, 13 * 60)) for weekday in range(7)) + tuple(
        WeeklyRule(weekday, TimeRange(14 * 60, 21 * 60)) for weekday in range(5)
    )
    overrides = (
        DateOverride(NOW.date() + timedelta(days=10)),
        DateOverride(NOW.date() + timedelta(days=11), (TimeRange(600, 720),)),
    )
    return Availability(timezone="Europe/London", weekly=weekly, overrides=overrides)


def _busy(offering: Offering) -> list[Booking]:
    rng = random.Random(20260302)
    bookings = []
    for index in range(BUSY_COUNT):
        start = NOW + timedelta(days=rng.randrange(0, 31), minutes=rng.randrange(8 * 60, 21 * 60, 15))
        bookings.append(
            Booking(
                offering_id=offering.id if index % 4 == 0 else 99,
                mentor_id=offering.mentor_id,
                mentee_id=1000 + index,
                scheduled_at=start,
                duration_minutes=rng.choice((15, 30, 45, 60, 90)),
                buffer_before_minutes=rng.choice((0, 5, 10)),
                buffer_after_minutes=rng.choice((0, 5, 10)),
                timezone="UTC",
                amount=Decimal(0),
                payment_status=PaymentStatus.NOT_REQUIRED,
                status=BookingStatus.CONFIRMED if index % 3 else BookingStatus.PENDING,
                created_at=NOW,
            )
        )
    return bookings


def _external() -> list[BusyInterval]:
    """Events of 15 minutes to 2 hours over the 30 days (about 17 a day), and a few all-day ones."""
    rng = random.Random(20260303)
    events = []
    for index in range(EXTERNAL_COUNT):
        if index % 100 == 0:
            day = NOW.replace(hour=0) + timedelta(days=rng.randrange(1, 31))
            events.append(BusyInterval(day, day + timedelta(days=1)))
            continue
        start = NOW + timedelta(days=rng.randrange(0, 31), minutes=rng.randrange(6 * 60, 22 * 60, 5))
        events.append(BusyInterval(start, start + timedelta(minutes=rng.randrange(15, 121, 5))))
    return events


def _measure(function, runs: int) -> tuple[float, float]:
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main() -> None:
    offering = Offering(mentor_id=1, title="Mock interview", price=Decimal(500), duration_minutes=60, id=7)
    availability = _availability()
    busy = _busy(offering)
    slots = generate_slots(offering, availability, busy, NOW)
    print(f"30-day window, {len(busy)} busy bookings, {len(slots)} slots")
    median, p95 = _measure(lambda: generate_slots(offering, availability, busy, NOW), RUNS)
    print(f"generate_slots: median {median:.3f} ms, p95 {p95:.3f} ms")
    probe = slots[len(slots) // 2]
    median, p95 = _measure(lambda: is_bookable(offering, availability, busy, NOW, probe), RUNS)
    print(f"is_bookable:    median {median:.3f} ms, p95 {p95:.3f} ms")

    external = _external()
    slots = generate_slots(offering, availability, busy, NOW, external=external)
    print(f"30-day window, {len(busy)} busy bookings and {len(external)} external busy events, {len(slots)} slots")
    median, p95 = _measure(lambda: generate_slots(offering, availability, busy, NOW, external=external), RUNS)
    print(f"generate_slots: median {median:.3f} ms, p95 {p95:.3f} ms")
    probe = slots[len(slots) // 2]
    median, p95 = _measure(lambda: is_bookable(offering, availability, busy, NOW, probe, external), RUNS)
    print(f"is_bookable:    median {median:.3f} ms, p95 {p95:.3f} ms")


if __name__ == "__main__":
    main()
