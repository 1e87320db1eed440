"""Dispatcher leadership (``bot.leader``): one holder at a time, handed over when the holder stops or dies, and the
outbox's NOTIFY reaching the leader only. SQLite files use a file lock, PostgreSQL an advisory lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import NullPool, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.leader import DISPATCHER_LOCK_KEY, AlwaysLeader, FileLeader, Leadership, PostgresLeader, leadership_for
from storage.engine import create_engine, normalize_url
from storage.outbox import OUTBOX_CHANNEL
from tests.dbutil import create_empty_database, drop_database, fresh_database

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


def record_tries(leader: FileLeader | PostgresLeader, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What each of ``leader``'s tries for the lock came to, in order: True (it holds the lock), False (another
    process does), or the name of the error it raised. A try is one call of ``_hold``, the step each subclass of
    the election loop implements."""
    tries: list[object] = []
    hold = leader._hold

    async def recorded() -> bool:
        try:
            held = await hold()
        except Exception as error:
            tries.append(type(error).__name__)
            raise
        tries.append(held)
        return held

    monkeypatch.setattr(leader, "_hold", recorded)
    return tries


def file_pair(tmp_path: Path, changes: list[tuple[str, bool]]) -> tuple[FileLeader, FileLeader]:
    path = tmp_path / "db.sqlite3.dispatcher.lock"
    return (
        FileLeader(path, retry=RETRY, on_change=lambda leader: changes.append(("a", leader))),
        FileLeader(path, retry=RETRY, on_change=lambda leader: changes.append(("b", leader))),
    )


async def test_one_file_leader_at_a_time_and_a_hand_over_on_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    changes: list[tuple[str, bool]] = []
    a, b = file_pair(tmp_path, changes)
    b_tries = record_tries(b, monkeypatch)
    await a.start()
    await b.start()
    try:
        assert (a.is_leader, b.is_leader) == (True, False)  # the first try happens in start()
        await eventually(lambda: len(b_tries) >= 3)
        assert b_tries[:3] == [False, False, False]  # b keeps trying, in vain
        assert (a.is_leader, b.is_leader) == (True, False)
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


@pytest.fixture
async def bystander(pg_url: str, tmp_path: Path) -> AsyncIterator[AsyncConnection]:
    """A connection to another database on the same server holding the dispatcher's lock there: another bot (or
    test run) that the tests on ``pg_url`` must never disturb."""
    url = await create_empty_database("postgres", tmp_path)
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": DISPATCHER_LOCK_KEY})
            yield connection
    finally:
        await engine.dispose()
        await drop_database(url)


async def holds_advisory_lock(connection: AsyncConnection) -> bool:
    """Whether ``connection``'s session is alive and still holds an advisory lock (raises if it was ended)."""
    held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()"
    return (await connection.execute(text(held))).scalar_one() == 1


@pytest.mark.postgres
async def test_one_postgres_leader_notified_alone_and_replaced_when_its_connection_dies(
    pg_url: str, bystander: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    notified: list[str] = []
    a = PostgresLeader(normalize_url(pg_url), retry=RETRY, on_notify=lambda: notified.append("a"))
    b = PostgresLeader(normalize_url(pg_url), retry=RETRY, on_notify=lambda: notified.append("b"))
    leaders: list[Leadership] = [a, b]
    a_tries = record_tries(a, monkeypatch)
    engine = create_engine(pg_url)
    try:
        await a.start()
        await b.start()
        assert (a.is_leader, b.is_leader) == (True, False)

        async with engine.begin() as connection:  # what a commit that wrote notifications sends
            await connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})
        await eventually(lambda: notified == ["a"])

        # the leader's process dies: the server ends its session, and the lock with it (in this database only:
        # pg_locks lists every database's locks)
        tries_before = len(a_tries)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
        await eventually(lambda: b.is_leader and not a.is_leader)
        assert await holds_advisory_lock(bystander)  # the other database's lock holder was left alone
        async with engine.begin() as connection:
            await connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})
        await eventually(lambda: notified[-1:] == ["b"])
        await eventually(lambda: False in a_tries[tries_before:])  # a reconnects, finds the lock taken
        assert (a.is_leader, b.is_leader) == (False, True)
    finally:
        for leader in leaders:
            await leader.stop()
        await engine.dispose()
