"""Dispatcher leadership (``bot.leader``): one holder at a time, handed over when the holder stops or dies, and the
outbox's NOTIFY reaching the leader only. SQLite files use a file lock, PostgreSQL an advisory lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.leader import AlwaysLeader, FileLeader, Leadership, PostgresLeader, leadership_for
from storage.engine import create_engine, normalize_url
from storage.outbox import OUTBOX_CHANNEL
from tests.dbutil import drop_database, fresh_database

RETRY = 0.05


async def eventually(condition, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.fixture
async def pg_url(tmp_path: Path) -> AsyncIterator[str]:
    url = await fresh_database("postgres", tmp_path)  # fails on CI, skips elsewhere when PostgreSQL is down
    try:
        yield url
    finally:
        await drop_database(url)


def file_pair(tmp_path: Path, changes: list[tuple[str, bool]]) -> tuple[FileLeader, FileLeader]:
    path = tmp_path / "db.sqlite3.dispatcher.lock"
    return (
        FileLeader(path, retry=RETRY, on_change=lambda leader: changes.append(("a", leader))),
        FileLeader(path, retry=RETRY, on_change=lambda leader: changes.append(("b", leader))),
    )


async def test_one_file_leader_at_a_time_and_a_hand_over_on_stop(tmp_path: Path) -> None:
    changes: list[tuple[str, bool]] = []
    a, b = file_pair(tmp_path, changes)
    await a.start()
    await b.start()
    try:
        assert (a.is_leader, b.is_leader) == (True, False)  # the first try happens in start()
        await asyncio.sleep(RETRY * 5)
        assert (a.is_leader, b.is_leader) == (True, False)  # b keeps trying, in vain
        await a.stop()
        await eventually(lambda: b.is_leader)
        assert changes == [("a", True), ("a", False), ("b", True)]
    finally:
        await a.stop()
        await b.stop()


async def test_leadership_fits_the_database(tmp_path: Path) -> None:
    assert isinstance(leadership_for(f"sqlite+aiosqlite:///{tmp_path}/x.db", retry=1), FileLeader)
    assert isinstance(leadership_for("sqlite+aiosqlite:///:memory:", retry=1), AlwaysLeader)
    assert isinstance(leadership_for("postgresql+asyncpg://u@h/db", retry=1), PostgresLeader)


@pytest.mark.postgres
async def test_one_postgres_leader_notified_alone_and_replaced_when_its_connection_dies(pg_url: str) -> None:
    notified: list[str] = []
    a = PostgresLeader(normalize_url(pg_url), retry=RETRY, on_notify=lambda: notified.append("a"))
    b = PostgresLeader(normalize_url(pg_url), retry=RETRY, on_notify=lambda: notified.append("b"))
    leaders: list[Leadership] = [a, b]
    engine = create_engine(pg_url)
    try:
        await a.start()
        await b.start()
        assert (a.is_leader, b.is_leader) == (True, False)

        async with engine.begin() as connection:  # what a commit that wrote notifications sends
            await connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})
        await eventually(lambda: notified == ["a"])

        # the leader's process dies: the server ends its session, and the lock with it
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
                )
            )
        await eventually(lambda: b.is_leader and not a.is_leader)
        async with engine.begin() as connection:
            await connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})
        await eventually(lambda: notified[-1:] == ["b"])
        await asyncio.sleep(RETRY * 5)
        assert (a.is_leader, b.is_leader) == (False, True)  # a reconnects, finds the lock taken
    finally:
        for leader in leaders:
            await leader.stop()
        await engine.dispose()
