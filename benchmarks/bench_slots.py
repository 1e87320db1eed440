"""Benchmark the slot engine: a 30-day window with 200 existing bookings, then the same with 500 busy events of
the mentor's external calendars besides them; and the booking steps against a mentor's number of future bookings.

``python -m benchmarks.bench_slots`` prints the median and 95th percentile of ``generate_slots`` (and of
``is_bookable`` for one slot) over repeated runs with fixed, deterministic inputs. A third case is a mentor with
group offerings and weekly series: a 10-seat cohort with 60 sessions in the 30 days, each partly filled (1 to 9
of its seats taken, 300 attendees' bookings in all), 20 weekly series of 4-6 weeks on the mentor's 1:1 offering
(100 occurrences), and the 200 other bookings; the window is computed for the cohort (the seats of each session
counted) and for the 1:1 offering (every seat taken blocks it).

``python -m benchmarks.bench_slots --steps`` (``--db postgres`` for PostgreSQL at ``TEST_POSTGRES_URL``;
``--bookings 10,1000``, ``--runs 300``) times the booking steps' use cases, each in its own unit of work as a
Telegram update would run it, for a mentor with few and with many future bookings: the date picker
(``date_page``, this week), a day's times (``free_times``, a day of this week), holding a time (``check_slot``) and
booking it (``book_slot``, rolled back so that the count stays). The mentor (06:00-22:00 every day, Asia/Kolkata, a
30-minute offering bookable 60 days ahead) has the same 10 confirmed bookings this week in every run, and the rest
of the given number spread evenly from the next week to a year ahead: dates the steps do not look at (the code
before 2026-11-26 loaded the whole 60-day window on every step). Printed per step: median and 95th percentile wall
time and CPU time (this process: the bot's side, SQLite included), and the ratio of the many to the few at the
median - a step's cost should not grow with bookings on dates it does not show.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Awaitable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

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

# --steps
STEP_NOW = datetime(2030, 3, 4, 3, 0, tzinfo=UTC)
ZONE = "Asia/Kolkata"
MENTOR = 8_000_000_000
FIRST_MENTEE = 8_100_000_000
STEP_MENTEES = 2_000
RUNS_WARMUP = 30
NEAR = 10  # bookings this week, in every run
STEPS = ("dates", "times", "hold", "book")


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
    assert offering.id is not None, "a saved offering"
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


GROUP_ID = 8
GROUP_SESSIONS = 60  # partly filled sessions of the 10-seat cohort in the window
SERIES = 20  # weekly series on the 1:1 offering, 4-6 weeks each


def _attendee(
    offering_id: int, mentor_id: int, mentee_id: int, start: datetime, minutes: int, **extra: Any
) -> Booking:
    return Booking(
        offering_id=offering_id, mentor_id=mentor_id, mentee_id=mentee_id, scheduled_at=start,
        duration_minutes=minutes, buffer_before_minutes=5, buffer_after_minutes=5, timezone="UTC",
        amount=Decimal(0), payment_status=PaymentStatus.NOT_REQUIRED, status=BookingStatus.CONFIRMED,
        created_at=NOW, **extra,
    )  # fmt: skip


def _groups_and_series(one_to_one: Offering) -> list[Booking]:
    """The cohort's partly filled sessions (each attendee a booking at the session's start) and weekly series of
    the 1:1 offering (an occurrence a week at the same time, ``series_id`` the first one's id), on whole hours
    that do not overlap one another."""
    assert one_to_one.id is not None
    rng = random.Random(20261204)
    hours = [
        NOW.replace(minute=0) + timedelta(days=day, hours=hour) for day in range(1, 31) for hour in range(1, 13)
    ]
    rng.shuffle(hours)
    taken: set[datetime] = set()
    bookings: list[Booking] = []
    mentee = 50_000
    for start in hours:
        if len(taken) >= GROUP_SESSIONS:
            break
        if start in taken:
            continue
        taken.add(start)
        for _seat in range(rng.randrange(1, 10)):  # 1-9 of 10 seats taken
            mentee += 1
            bookings.append(_attendee(GROUP_ID, one_to_one.mentor_id, mentee, start, 60))
    series_id = 900_000
    for first in hours[GROUP_SESSIONS:]:
        weeks = rng.randrange(4, 7)
        starts = [first + timedelta(weeks=week) for week in range(weeks)]
        if series_id >= 900_000 + SERIES * 10 or any(start in taken for start in starts):
            continue
        taken.update(starts)
        mentee += 1
        for week, start in enumerate(starts, start=1):
            extra = {
                "id": series_id + week - 1,
                "series_id": series_id,
                "series_week": week,
                "series_weeks": weeks,
            }
            bookings.append(_attendee(one_to_one.id, one_to_one.mentor_id, mentee, start, 60, **extra))
        series_id += 10
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


def _measure_both(function, runs: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """(median, p95) of wall and of CPU (this process) milliseconds: on a shared, loaded machine the CPU time is
    the steadier figure."""
    wall, cpu = [], []
    for _ in range(runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    return _median_p95(wall), _median_p95(cpu)


async def _steps_database(db: str, tmp: str, bookings: int) -> tuple[str, int]:
    """A fresh database with the cast: the mentor, their offering, ``bookings`` future bookings (one mentee each),
    and 2,000 mentees for the steps. Returns the URL and the offering's id."""
    from domain.model import OfferingStatus, User
    from storage.engine import create_engine
    from storage.uow import SqlUnitOfWork
    from tests.dbutil import fresh_database

    url = await fresh_database(db, Path(tmp))
    engine = create_engine(url)
    try:
        async with SqlUnitOfWork(engine) as uow:
            await uow.users.add(User(MENTOR, "Mentor", is_mentor=True, timezone=ZONE))
            await uow.availability.replace_weekly(
                MENTOR, [WeeklyRule(day, TimeRange(6 * 60, 22 * 60)) for day in range(7)]
            )
            offering = await uow.offerings.add(
                Offering(
                    MENTOR, "Mock interview", Decimal(500), 30, status=OfferingStatus.ACTIVE,
                    advance_booking_days=60, min_notice_hours=1, max_bookings_per_day=48,
                )
            )  # fmt: skip
            assert offering.id is not None
            for n in range(STEP_MENTEES + bookings):
                await uow.users.add(User(FIRST_MENTEE + n, f"Mentee {n}", timezone=ZONE))
            near = min(bookings, NEAR)
            for n in range(bookings):
                if n < near:  # this week: 10 a day apart, from tomorrow
                    start = STEP_NOW + timedelta(days=1 + n % 6, hours=4 + n)
                else:  # from the next week to a year ahead
                    start = STEP_NOW + timedelta(days=8) + (n - near) * timedelta(days=357) / (bookings - near)
                start = start.replace(second=0, microsecond=0) - timedelta(minutes=start.minute % 30)
                await uow.bookings.add(
                    Booking(
                        offering_id=offering.id, mentor_id=MENTOR, mentee_id=FIRST_MENTEE + STEP_MENTEES + n,
                        scheduled_at=start, duration_minutes=30, buffer_before_minutes=0, buffer_after_minutes=0,
                        timezone=ZONE, amount=Decimal(500), payment_status=PaymentStatus.PENDING,
                        status=BookingStatus.CONFIRMED, created_at=STEP_NOW,
                    )
                )  # fmt: skip
            await uow.commit()
    finally:
        await engine.dispose()
    return url, offering.id


async def _timed(timings: dict[str, tuple[float, float]], step: str, work: Awaitable[Any]) -> Any:
    """Await ``work``, keeping its wall and CPU milliseconds as ``timings[step]``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = await work
    timings[step] = ((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000)
    return result


async def _steps(db: str, bookings: int, runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """(wall ms, CPU ms) per run of each step."""
    import tempfile

    from domain.clock import FixedClock
    from domain.usecases import booking as usecases
    from storage.engine import create_engine, create_read_engine, reading_engine
    from storage.uow import SqlUnitOfWork
    from tests.dbutil import drop_database

    clock = FixedClock(STEP_NOW)
    with tempfile.TemporaryDirectory(prefix="bench-slots-") as tmp:
        url, offering_id = await _steps_database(db, tmp, bookings)
        engine = create_engine(url)
        read_engine = create_read_engine(url)
        reads = reading_engine(engine, read_engine)
        rng = random.Random(bookings)
        out: dict[str, tuple[list[float], list[float]]] = {step: ([], []) for step in STEPS}

        async def dates(mentee: int) -> Any:
            async with SqlUnitOfWork(reads, read_only=True) as uow:
                return await usecases.date_page(uow, clock, offering_id, mentee, ZONE)

        async def times(mentee: int, day: date) -> Any:
            async with SqlUnitOfWork(reads, read_only=True) as uow:
                return await usecases.free_times(uow, clock, offering_id, mentee, day, ZONE)

        async def hold(mentee: int, start: datetime) -> None:
            async with SqlUnitOfWork(reads, read_only=True) as uow:
                await usecases.check_slot(uow, clock, offering_id, mentee, start)

        async def book(mentee: int, start: datetime) -> None:
            async with SqlUnitOfWork(engine) as uow:  # not committed: the count stays
                await usecases.book_slot(uow, clock, usecases.BookingRequest(offering_id, mentee, start))

        try:
            for run in range(runs + RUNS_WARMUP):
                mentee = FIRST_MENTEE + run % STEP_MENTEES
                day = STEP_NOW.date() + timedelta(days=rng.randrange(1, 6))  # this week
                timings: dict[str, tuple[float, float]] = {}
                await _timed(timings, "dates", dates(mentee))
                _ctx, free = await _timed(timings, "times", times(mentee, day))
                if not free:
                    continue
                start = rng.choice(free)
                await _timed(timings, "hold", hold(mentee, start))
                await _timed(timings, "book", book(mentee, start))
                if run >= RUNS_WARMUP:
                    for step, (wall, cpu) in timings.items():
                        out[step][0].append(wall)
                        out[step][1].append(cpu)
        finally:
            await engine.dispose()
            if read_engine is not None:
                await read_engine.dispose()
            await drop_database(url)
    return out


def _median_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def steps_main(db: str, counts: list[int], runs: int) -> None:
    import asyncio
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)  # as the bot runs (bot/__main__.py)
    results = {count: asyncio.run(_steps(db, count, runs)) for count in counts}
    print(f"{db}: booking steps for a mentor with {' vs '.join(map(str, counts))} future bookings ({NEAR} of them "
          f"this week, the rest up to a year ahead), {runs} runs; ms, median / p95")  # fmt: skip
    header = " | ".join(f"{count}: wall | {count}: CPU" for count in counts)
    print(f"| step | {header} | CPU {counts[-1]} / {counts[0]} |")
    print("|---|" + "---|---|" * len(counts) + "---|")
    for step in STEPS:
        cells = []
        for count in counts:
            wall, cpu = results[count][step]
            cells += ["{:.2f} / {:.2f}".format(*_median_p95(wall)), "{:.2f} / {:.2f}".format(*_median_p95(cpu))]
        ratio = _median_p95(results[counts[-1]][step][1])[0] / _median_p95(results[counts[0]][step][1])[0]
        print(f"| {step} | " + " | ".join(cells) + f" | {ratio:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--steps", action="store_true", help="the booking steps against many future bookings")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--bookings", default="10,1000", help="comma-separated numbers of future bookings")
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    if args.steps:
        steps_main(args.db, [int(n) for n in args.bookings.split(",")], args.runs)
    else:
        engine_main()


def engine_main() -> None:
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

    cohort = Offering(
        mentor_id=1, title="Mock interview cohort", price=Decimal(0), duration_minutes=60, id=GROUP_ID, capacity=10
    )
    many = busy + _groups_and_series(offering)
    sessions = len({b.scheduled_at for b in many if b.offering_id == GROUP_ID})
    attendees = sum(1 for b in many if b.offering_id == GROUP_ID)
    series = len({b.series_id for b in many if b.series_id is not None})
    occurrences = sum(1 for b in many if b.series_id is not None)
    print(
        f"30-day window, group offerings and series: {sessions} cohort sessions partly filled ({attendees} "
        f"attendees of 10 seats each), {series} weekly series ({occurrences} occurrences), {len(many)} bookings"
    )
    for label, which in (("the cohort (seats)", cohort), ("the 1:1 offering", offering)):
        slots = generate_slots(which, availability, many, NOW)
        probe = slots[len(slots) // 2]
        print(f"{label}: {len(slots)} slots; ms, median / p95")
        for name, run in (
            ("generate_slots", lambda which=which: generate_slots(which, availability, many, NOW)),
            ("is_bookable", lambda which=which, probe=probe: is_bookable(which, availability, many, NOW, probe)),
        ):
            (wall, wall_p95), (cpu, cpu_p95) = _measure_both(run, RUNS)
            print(f"  {name}: wall {wall:.3f} / {wall_p95:.3f}, CPU {cpu:.3f} / {cpu_p95:.3f}")


if __name__ == "__main__":
    main()
