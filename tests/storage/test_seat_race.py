"""Two hundred mentees in two processes press "Book" for the same time of a ten-seat group offering at once:
exactly ten get a seat, on SQLite and on PostgreSQL (``tests.storage.seat_race_worker``, the real ``book_slot``).

Booking locks the mentor's row first (``UnitOfWork.lock_users``), so the seats are counted one booking after the
other whichever process books (``domain.slots``, rule 6).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from domain.model import TimeRange, WeeklyRule
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTOR_ID, T0, offering, seed, user

ROOT = Path(__file__).resolve().parents[2]
SEATS = 10
MENTEES = [7000 + i for i in range(200)]


async def start_worker(db_url: str, offering_id: int, mentees: list[int]) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.storage.seat_race_worker", "--database-url", db_url,
        "--offering", str(offering_id), "--start", T0.isoformat(), "--mentees", ",".join(map(str, mentees)),
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    ready = await asyncio.wait_for(process.stdout.readline(), timeout=120)
    assert ready.strip() == b"ready", ready
    return process


async def test_two_hundred_mentees_in_two_processes_get_exactly_the_ten_seats(
    db_url: str, uow: SqlUnitOfWork, request: pytest.FixtureRequest
) -> None:
    [group] = await seed(
        uow,
        user(MENTOR_ID, is_mentor=True, timezone="UTC"),
        *map(user, MENTEES),
        offerings=(offering(capacity=SEATS, max_bookings_per_day=1),),
    )
    assert group.id is not None
    async with uow:
        # Monday 09:00-17:00 UTC; T0 is Monday 10:00 UTC, three days after the workers' clock.
        await uow.availability.replace_weekly(MENTOR_ID, [WeeklyRule(0, TimeRange(9 * 60, 17 * 60))])
        await uow.commit()
    half = len(MENTEES) // 2
    workers = [
        await start_worker(db_url, group.id, MENTEES[:half]),
        await start_worker(db_url, group.id, MENTEES[half:]),
    ]
    for worker in workers:  # both are connected and waiting: release them together
        assert worker.stdin is not None
        worker.stdin.write(b"go\n")
        await worker.stdin.drain()
    results = []
    for worker in workers:
        out, err = await asyncio.wait_for(worker.communicate(), timeout=300)
        assert worker.returncode == 0, err.decode()[-3000:]
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    won = [booking_id for result in results for booking_id in result["won"]]
    failed = [failure for result in results for failure in result["failed"]]
    assert failed == []  # no "database is locked", no deadlock: every loser was told the time is taken
    assert len(won) == SEATS
    assert sum(result["lost"] for result in results) == len(MENTEES) - SEATS
    request.node.user_properties.append(("won_per_process", [len(r["won"]) for r in results]))
    async with uow:
        stored = await uow.bookings.active_for_mentor(MENTOR_ID, T0 - timedelta(days=1), T0 + timedelta(days=1))
        offering_now = await uow.offerings.get(group.id)
    assert sorted(b.id or 0 for b in stored) == sorted(won)  # stored bookings: every id is set
    assert {b.scheduled_at for b in stored} == {T0}
    assert len({b.mentee_id for b in stored}) == SEATS  # each attendee has a booking of their own
    assert offering_now is not None and offering_now.total_bookings == SEATS
