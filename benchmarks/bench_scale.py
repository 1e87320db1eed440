"""Benchmark the booking path at the use-case level on an empty database and on one with 1,000,000 bookings.

Run with ``.venv/bin/python -m benchmarks.bench_scale --db sqlite`` (or ``--db postgres``, on the server at
``TEST_POSTGRES_URL``); options: ``--flows 300`` (measured bookings per database), ``--warmup 30``, ``--users``
and ``--bookings`` (the large database's size), ``--reseed``.

The large database is made once by ``benchmarks.seed`` and kept: ``data/bench/seed_<size>.sqlite3`` or the
PostgreSQL database ``bench_<size>``; each run works on a copy of it (a file copy; ``CREATE DATABASE ...
TEMPLATE``), so runs do not change it and do not reseed. Both databases get the same benchmark cast (ids from
``benchmarks.seed.FREE_IDS_FROM``): 20 mentors with one paid 30-minute offering each (06:00-22:00 every day,
Asia/Kolkata) and one new mentee per flow. The clock stands still at the seeded day's 09:00 UTC
(``FixedClock``), so the seeded data is as current on every run as on the day it was made.

One flow is what the booking handlers do, each step in its own ``SqlUnitOfWork`` as a Telegram update would:

* ``user``    - ``register_user`` + ``mark_reachable`` + commit (every update starts with this);
* ``dates``   - ``free_dates``: the offering, its mentor, availability, busy bookings, the free dates;
* ``times``   - ``free_times`` for a random free date;
* ``hold``    - ``check_slot`` for a random free time + the dialog saved + commit (the time button);
* ``book``    - dialog read + ``book_slot`` (locks, re-checks, limit, insert, stats, outbox) + dialog cleared
  + commit;
* ``confirm`` - the mentor: ``mentor_booking`` + ``change_status(CONFIRMED)`` + commit.

Printed: p50 and p99 per step and for the whole flow on each database, and the ratio large / empty. A third run
on the large database books *seeded* live offerings as seeded mentees (mentors and mentees with history).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from benchmarks.seed import FREE_IDS_FROM, checkpoint, seed, seeded_info
from domain.clock import FixedClock
from domain.errors import DomainError
from domain.model import BookingStatus, BookingView, Offering, OfferingStatus, TimeRange, User, WeeklyRule
from domain.people import Profile
from domain.usecases.booking import BookingRequest, book_slot, change_status, check_slot, free_dates, free_times
from domain.usecases.inbox import mentor_booking
from domain.usecases.people import register_user
from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.uow import SqlUnitOfWork
from tests.dbutil import drop_database, fresh_database, postgres_server_url

BENCH_DIR = Path("data/bench")
ZONE = "Asia/Kolkata"
CAST_MENTOR = FREE_IDS_FROM + 1_000  # the benchmark's mentors ...
CAST_MENTEE = FREE_IDS_FROM + 1_000_000  # ... and mentees: never in a seeded database
CAST_MENTORS = 20
STEPS = ("user", "dates", "times", "hold", "book", "confirm")


@dataclass
class Timings:
    """Milliseconds per step, one entry per completed flow."""

    name: str
    steps: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    refused: int = 0  # flows that could not book (no free time, mentee limit, ...)

    @property
    def flows(self) -> list[float]:
        return [sum(parts) for parts in zip(*(self.steps[s] for s in STEPS), strict=True)]

    def series(self, step: str) -> list[float]:
        return self.flows if step == "flow" else self.steps[step]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return statistics.median(ordered) if q == 0.5 else ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Flow:
    """One mentee booking one offering and its mentor confirming, step by step, each step timed."""

    def __init__(self, engine: AsyncEngine, clock: FixedClock, rng: random.Random) -> None:
        self.engine = engine
        self.clock = clock
        self.rng = rng

    async def _step(
        self, out: dict[str, float], name: str, work: Callable[[SqlUnitOfWork], Awaitable[Any]]
    ) -> Any:
        began = time.perf_counter()
        async with SqlUnitOfWork(self.engine) as uow:
            result = await work(uow)
        out[name] = (time.perf_counter() - began) * 1000
        return result

    async def run(self, offering_id: int, mentee: User) -> dict[str, float] | None:
        """The step times in ms, or None when this mentee cannot book this offering (no free time, limit)."""
        out: dict[str, float] = {}
        zone = mentee.timezone or ZONE
        clock = self.clock

        async def user(uow: SqlUnitOfWork) -> None:
            profile = Profile(mentee.id, mentee.first_name, mentee.last_name, mentee.username)
            await register_user(uow, profile, mentee.locale)
            await uow.users.mark_reachable(mentee.id)
            await uow.commit()

        async def dates(uow: SqlUnitOfWork) -> list[date]:
            return (await free_dates(uow, clock, offering_id, mentee.id, zone))[1]

        await self._step(out, "user", user)
        days = await self._step(out, "dates", dates)
        if not days:
            return None
        day = self.rng.choice(days)

        async def times(uow: SqlUnitOfWork) -> list[datetime]:
            return (await free_times(uow, clock, offering_id, mentee.id, day, zone))[1]

        starts = await self._step(out, "times", times)
        if not starts:
            return None
        start = self.rng.choice(starts)

        async def hold(uow: SqlUnitOfWork) -> None:
            await check_slot(uow, clock, offering_id, mentee.id, start)
            held = {"offering_id": offering_id, "start": start.isoformat()}
            await uow.dialogs.set(mentee.id, "booking_notes", held)
            await uow.commit()

        async def book(uow: SqlUnitOfWork) -> BookingView:
            await uow.dialogs.get(mentee.id)
            view = await book_slot(uow, clock, BookingRequest(offering_id, mentee.id, start))
            await uow.dialogs.clear(mentee.id)
            await uow.commit()
            return view

        try:
            await self._step(out, "hold", hold)
            view = await self._step(out, "book", book)
        except DomainError:  # e.g. the mentee already has the most open bookings allowed with this mentor
            return None
        booking_id, mentor_id = view.booking.id, view.mentor.id
        assert booking_id is not None

        async def confirm(uow: SqlUnitOfWork) -> None:
            await mentor_booking(uow, mentor_id, booking_id)
            if view.booking.status == BookingStatus.PENDING:
                await change_status(uow, clock, mentor_id, booking_id, BookingStatus.CONFIRMED)
            await uow.commit()

        await self._step(out, "confirm", confirm)
        return out


async def add_cast(engine: AsyncEngine, mentees: int) -> tuple[list[int], list[User]]:
    """The benchmark's own mentors (one live paid offering each) and ``mentees`` new mentees."""
    weekly = tuple(WeeklyRule(day, TimeRange(6 * 60, 22 * 60)) for day in range(7))
    offerings: list[int] = []
    people: list[User] = []
    async with SqlUnitOfWork(engine) as uow:
        for n in range(CAST_MENTORS):
            mentor_id = CAST_MENTOR + n
            await uow.users.add(User(mentor_id, f"Bench mentor {n}", is_mentor=True, timezone=ZONE))
            await uow.availability.replace_weekly(mentor_id, weekly)
            offering = Offering(
                mentor_id, f"Mock interview {n}", Decimal(500), 30, status=OfferingStatus.ACTIVE,
                max_bookings_per_day=20,
            )  # fmt: skip
            added = await uow.offerings.add(offering)
            assert added.id is not None
            offerings.append(added.id)
        for n in range(mentees):
            people.append(await uow.users.add(User(CAST_MENTEE + n, f"Bench mentee {n}", timezone=ZONE)))
        await uow.commit()
    return offerings, people


async def seeded_cast(
    engine: AsyncEngine, info: dict[str, Any], count: int, rng: random.Random
) -> list[tuple[int, User]]:
    """``count`` (live seeded offering, seeded mentee with a time zone) pairs, the mentee never its mentor."""
    first, users = int(info["first_user_id"]), int(info["users"])
    async with engine.connect() as connection:
        found = await connection.execute(text("SELECT id, mentor_id FROM offerings WHERE status = 'active'"))
        live = [(int(i), int(m)) for i, m in found if m < FREE_IDS_FROM]
    pairs: list[tuple[int, User]] = []
    async with SqlUnitOfWork(engine) as uow:
        while len(pairs) < count:
            offering_id, mentor_id = rng.choice(live)
            mentee = await uow.users.get(first + rng.randrange(users))
            if mentee is not None and mentee.timezone and mentee.id != mentor_id:
                pairs.append((offering_id, mentee))
    return pairs


@dataclass
class Lane:
    """One series of flows: its database's flow runner and the (offering, mentee) pairs it books."""

    timings: Timings
    flow: Flow
    pairs: list[tuple[int, User]]


async def cast_lane(name: str, engine: AsyncEngine, clock: FixedClock, count: int) -> Lane:
    offerings, mentees = await add_cast(engine, count)
    rng = random.Random(11)
    pairs = [(rng.choice(offerings), mentee) for mentee in mentees]
    return Lane(Timings(name), Flow(engine, clock, random.Random(12)), pairs)


async def seeded_lane(engine: AsyncEngine, info: dict[str, Any], clock: FixedClock, count: int) -> Lane:
    rng = random.Random(13)
    pairs = await seeded_cast(engine, info, count, rng)
    return Lane(Timings("large, seeded offerings and mentees"), Flow(engine, clock, rng), pairs)


async def run_interleaved(lanes: list[Lane], warmup: int) -> None:
    """Flow n of every lane, then flow n + 1 of every lane, ...: on a shared machine a slow spell (another
    process, the disk writing back) hits every database alike instead of whichever ran at that moment."""
    for n in range(len(lanes[0].pairs)):
        for lane in lanes:
            offering_id, mentee = lane.pairs[n]
            steps = await lane.flow.run(offering_id, mentee)
            if steps is None:
                lane.timings.refused += 1
            elif n >= warmup:
                for step, ms in steps.items():
                    lane.timings.steps[step].append(ms)


# --- the cached large database ------------------------------------------------------------------------------


def size_tag(users: int, bookings: int) -> str:
    def short(n: int) -> str:
        return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)

    if (users, bookings) == (100_000, 1_000_000):
        return short(bookings)
    return f"{short(users)}u_{short(bookings)}"


async def _admin(sql: str) -> None:
    engine = create_async_engine(postgres_server_url(), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(sql)
    finally:
        await engine.dispose()


def _cached_url(db: str, tag: str) -> str:
    if db == "sqlite":
        return f"sqlite+aiosqlite:///{BENCH_DIR / f'seed_{tag}.sqlite3'}"
    return postgres_server_url().set(database=f"bench_{tag}").render_as_string(hide_password=False)


async def large_database(db: str, args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The cached seeded database (seeded now if missing, of another size, or ``--reseed``), at the head
    revision; returns its URL and what ``seed`` recorded."""
    url = _cached_url(db, size_tag(args.users, args.bookings))
    info = None if args.reseed else await seeded_info(url)
    if info is None or (info["users"], info["bookings"]) != (args.users, args.bookings):
        if db == "sqlite":
            path = Path(make_url(url).database or "")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            name = make_url(url).database
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await _admin(f'CREATE DATABASE "{name}"')
        await seed(url, users=args.users, bookings=args.bookings)
        info = await seeded_info(url)
        assert info is not None
    else:
        print(f"using the seeded database {make_url(url).database} (seeded for {info['now'][:10]})")
    began = time.perf_counter()
    await upgrade_to_head(url)  # a migration added since seeding runs on the cached copy once
    print(f"  migrations checked/applied in {time.perf_counter() - began:.1f} s")
    if db == "sqlite":
        await checkpoint(url)
    return url, info


async def working_copy(db: str, url: str) -> str:
    """A copy of the seeded database for one run (so the cached one never changes)."""
    if db == "sqlite":
        source = Path(make_url(url).database or "")
        target = source.with_name(source.stem.replace("seed_", "work_") + source.suffix)
        shutil.copyfile(source, target)
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        return f"sqlite+aiosqlite:///{target}"
    source_name = make_url(url).database
    target_name = f"{source_name}_work"
    await _admin(f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{target_name}" TEMPLATE "{source_name}"')
    return make_url(url).set(database=target_name).render_as_string(hide_password=False)


async def drop_copy(db: str, url: str) -> None:
    if db == "sqlite":
        path = make_url(url).database or ""
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        await _admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


async def database_size(db: str, url: str) -> str:
    if db == "sqlite":
        return f"{Path(make_url(url).database or '').stat().st_size / 2**20:.0f} MiB file"
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            size = await connection.scalar(text("SELECT pg_database_size(current_database())"))
        return f"{int(size or 0) / 2**20:.0f} MiB on disk"
    finally:
        await engine.dispose()


# --- report -------------------------------------------------------------------------------------------------


def report(empty: Timings, large: Timings, seeded: Timings | None) -> None:
    head = "| step | empty p50 | empty p99 | large p50 | large p99 | ratio p50 | ratio p99 |"
    if seeded is not None:
        head += " seeded p50 | seeded p99 |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for step in (*STEPS, "flow"):
        e50, e99 = percentile(empty.series(step), 0.5), percentile(empty.series(step), 0.99)
        l50, l99 = percentile(large.series(step), 0.5), percentile(large.series(step), 0.99)
        line = f"| {step} | {e50:.1f} | {e99:.1f} | {l50:.1f} | {l99:.1f} | {l50 / e50:.2f} | {l99 / e99:.2f} |"
        if seeded is not None:
            line += f" {percentile(seeded.series(step), 0.5):.1f} | {percentile(seeded.series(step), 0.99):.1f} |"
        print(line)
    for t in (empty, large, seeded):
        if t is not None:
            print(f"  {t.name}: {len(t.flows)} flows measured, {t.refused} refused (incl. warm-up)")


async def main_async(args: argparse.Namespace) -> None:
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, {args.db}; times in ms")
    url, info = await large_database(args.db, args)
    clock = FixedClock(datetime.fromisoformat(info["now"]) + timedelta(hours=9))
    count = args.warmup + args.flows
    empty_url = await fresh_database(args.db, BENCH_DIR)
    work = await working_copy(args.db, url)
    os.sync()  # the copy's pages reach the disk now, not while measuring
    empty_engine, large_engine = create_engine(empty_url), create_engine(work)
    try:
        size = await database_size(args.db, work)
        print(f"large database: {info['users']} users, {info['bookings']} bookings; {size}")
        lanes = [
            await cast_lane("empty", empty_engine, clock, count),
            await cast_lane("large", large_engine, clock, count),
        ]
        if not args.no_seeded:
            lanes.append(await seeded_lane(large_engine, info, clock, count))
        await run_interleaved(lanes, args.warmup)
    finally:
        await empty_engine.dispose()
        await large_engine.dispose()
        await drop_database(empty_url)
        await drop_copy(args.db, work)
    report(lanes[0].timings, lanes[1].timings, lanes[2].timings if len(lanes) > 2 else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--flows", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--reseed", action="store_true", help="seed the large database again")
    parser.add_argument("--no-seeded", action="store_true", help="skip the run on seeded offerings")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
