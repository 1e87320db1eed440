"""``storage.sqlite_driver``: statements on the event loop's thread (a writer waits for another process's lock on a
worker thread), and DB-API behaviour unchanged."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine, create_read_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    async with engine.begin() as connection:
        await connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)")
    yield engine
    await engine.dispose()


@pytest.fixture
def hand_offs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call aiosqlite runs on a connection's thread, by function name."""
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return calls


async def test_the_writer_runs_on_the_loops_thread(engine: AsyncEngine, hand_offs: list[str]) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))  # BEGIN IMMEDIATE, then the insert
        rows = (await connection.execute(text("SELECT id, name FROM t"))).all()
        await connection.commit()
        assert (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar_one() == 30_000
    assert rows == [(1, "a")]
    assert hand_offs == []  # SQLAlchemy's own adapter: four thread hand-offs per statement


class Ticker:
    """Counts turns of the event loop every 10 ms: a blocked loop stops counting."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            self.ticks += 1

    def stop(self) -> None:
        self._task.cancel()


def _with_patience(engine: AsyncEngine, milliseconds: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def patience(dbapi_connection: Any, connection_record: Any) -> None:  # runs after the engine's own
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={milliseconds}")
        cursor.close()


async def test_a_writer_waits_for_another_process_without_blocking_the_loop(
    tmp_path: Path, engine: AsyncEngine
) -> None:
    other = create_engine(f"sqlite:///{tmp_path / 'bot.db'}")  # as if in another process: its own connection
    _with_patience(other, 5_000)
    try:
        async with engine.connect() as holder:
            await holder.execute(text("INSERT INTO t (name) VALUES ('first')"))  # holds the write lock
            ticker = Ticker()
            waiting = asyncio.create_task(_insert(other, "second"))
            await asyncio.sleep(0.3)
            assert not waiting.done()  # BEGIN IMMEDIATE is waiting for the lock ...
            assert ticker.ticks >= 10  # ... on a worker thread: the loop kept turning
            await holder.commit()
            await asyncio.wait_for(waiting, 5)
            ticker.stop()
        async with engine.connect() as connection:
            names = (await connection.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
        assert names == ["first", "second"]
    finally:
        await other.dispose()


async def test_a_writer_gives_up_after_its_patience(tmp_path: Path, engine: AsyncEngine) -> None:
    impatient = create_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    _with_patience(impatient, 200)
    try:
        async with engine.connect() as holder:
            await holder.execute(text("INSERT INTO t (name) VALUES ('first')"))
            ticker = Ticker()
            began = time.monotonic()
            with pytest.raises(OperationalError, match="database is locked"):
                await _insert(impatient, "second")
            waited = time.monotonic() - began
            ticker.stop()
            assert 0.15 <= waited < 3
            assert ticker.ticks >= 5
            await holder.commit()
        await _insert(impatient, "second")  # the connection is still usable once the lock is free
    finally:
        await impatient.dispose()


async def _insert(engine: AsyncEngine, name: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES (:name)"), {"name": name})


async def test_results_rowcount_and_lastrowid(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert inserted.lastrowid == 1
        await connection.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])  # executemany
        updated = await connection.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert updated.rowcount == 2
        result = await connection.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert list(result.keys()) == ["id", "name"]
        assert result.all() == [(1, "a"), (2, "b!"), (3, "c!")]
        assert (await connection.execute(text("SELECT name FROM t WHERE id = 9"))).first() is None
        streamed = await connection.stream(text("SELECT name FROM t ORDER BY id"))  # a server-side cursor
        assert [row.name async for row in streamed] == ["a", "b!", "c!"]


async def test_errors_are_translated_and_the_connection_stays_usable(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
        with pytest.raises(IntegrityError, match="UNIQUE"):
            await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
        await connection.rollback()
        with pytest.raises(OperationalError, match="no such table"):
            await connection.execute(text("SELECT * FROM missing"))
        await connection.rollback()
        assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0


async def test_the_read_engine_runs_on_the_loops_thread(
    tmp_path: Path, engine: AsyncEngine, hand_offs: list[str]
) -> None:
    """Readers never wait for a lock (WAL), so their statements run at once: no thread, no hand-off."""
    reader = create_read_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    assert reader is not None
    try:
        async with reader.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
            with pytest.raises(OperationalError, match="readonly"):
                await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
    finally:
        await reader.dispose()
    assert hand_offs == []


async def test_a_read_transaction_keeps_its_snapshot(tmp_path: Path, engine: AsyncEngine) -> None:
    reader = create_read_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    assert reader is not None
    count = text("SELECT count(*) FROM t")
    try:
        async with reader.connect() as view:
            assert (await view.execute(count)).scalar_one() == 0  # BEGIN (deferred) and the snapshot's first read
            async with engine.begin() as writer:  # the writer is not blocked by the open read transaction
                await writer.execute(text("INSERT INTO t (name) VALUES ('a')"))
            assert (await view.execute(count)).scalar_one() == 0  # same transaction: same snapshot
            await view.rollback()
            assert (await view.execute(count)).scalar_one() == 1  # a new transaction sees the commit
    finally:
        await reader.dispose()
