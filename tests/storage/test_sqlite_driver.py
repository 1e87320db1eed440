"""``storage.sqlite_driver``: one hand-off to aiosqlite's thread per statement, and DB-API behaviour unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
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


async def test_one_hand_off_per_statement(engine: AsyncEngine, hand_offs: list[str]) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # begins the transaction first
        hand_offs.clear()
        await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
        rows = (await connection.execute(text("SELECT id, name FROM t"))).all()
        await connection.commit()
        done = list(hand_offs)
    assert rows == [(1, "a")]
    assert done == ["_run", "_run", "commit"]  # SQLAlchemy's own adapter: cursor, execute, fetchall, close


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
