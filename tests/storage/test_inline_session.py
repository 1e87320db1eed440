"""``storage.inline_session``: SQLite units of work run their statements in place, one greenlet per transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import storage.inline_session
from storage.engine import create_engine, create_read_engine, create_session_factory
from storage.inline_session import InlineSession, InlineSessionFactory
from storage.models import UserRow
from storage.uow import SqlUnitOfWork
from tests.dbutil import fresh_database
from tests.storage.test_sqlite_driver import Ticker
from tests.storage.builders import user


async def test_sqlite_gets_inline_sessions_and_postgresql_async_ones(db_kind: str, engine: AsyncEngine) -> None:
    factory = create_session_factory(engine)
    if db_kind == "sqlite":
        assert isinstance(factory, InlineSessionFactory)
        assert isinstance(factory(), InlineSession)
    else:
        assert isinstance(factory, async_sessionmaker)
        assert isinstance(factory(), AsyncSession)


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    return await fresh_database("sqlite", tmp_path)


@pytest.fixture
async def writer(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def spawns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function an ``InlineSession`` runs in a greenlet."""
    calls: list[str] = []
    original = storage.inline_session.greenlet_spawn

    async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(fn.__name__)
        return await original(fn, *args, **kwargs)

    monkeypatch.setattr(storage.inline_session, "greenlet_spawn", counting)
    return calls


async def test_one_greenlet_per_transaction_not_per_call(writer: AsyncEngine, spawns: list[str]) -> None:
    uow = SqlUnitOfWork(create_session_factory(writer))
    async with uow:
        await uow.users.add(user(1))
        await uow.users.add(user(2))
        assert await uow.users.get(1) == user(1)
        assert await uow.session.scalar(select(func.count()).select_from(UserRow)) == 2
        await uow.commit()
        assert spawns == ["connection"]  # the transaction's start; the reads and writes ran in place
        assert await uow.users.get(2) == user(2)  # a new transaction after the commit: its own start
        assert spawns == ["connection", "connection"]
    async with uow:
        await uow.commit()  # nothing began, nothing to write: no connection taken
    assert spawns == ["connection", "connection"]
    assert writer.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_pending_objects_alone_make_commit_begin(writer: AsyncEngine) -> None:
    async with SqlUnitOfWork(create_session_factory(writer)) as uow:
        uow.session.add(UserRow(id=5, first_name="Ada", locale="en"))
        await uow.commit()
    async with SqlUnitOfWork(create_session_factory(writer)) as uow:
        assert (await uow.users.get(5)) is not None


async def test_a_failed_write_rolls_back_and_the_session_goes_on(writer: AsyncEngine) -> None:
    async with SqlUnitOfWork(create_session_factory(writer)) as uow:
        await uow.users.add(user(1))
        await uow.commit()
        with pytest.raises(IntegrityError):
            await uow.session.execute(text("INSERT INTO users (id, first_name, locale) VALUES (1, 'x', 'en')"))
        await uow.rollback()
        await uow.users.add(user(3))
        await uow.commit()
    async with SqlUnitOfWork(create_session_factory(writer)) as uow:
        assert [await uow.users.get(i) for i in (1, 3)] == [user(1), user(3)]


async def test_units_of_work_queue_for_the_writer_without_blocking_the_loop(writer: AsyncEngine) -> None:
    factory = create_session_factory(writer)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with SqlUnitOfWork(factory) as uow:
            await uow.users.add(user(1))
            holding.set()
            await release.wait()  # holds the one writer connection (and the write lock)
            await uow.commit()

    async def second() -> None:
        async with SqlUnitOfWork(factory) as uow:
            await uow.users.add(user(2))
            await uow.commit()

    one = asyncio.create_task(first())
    await holding.wait()
    ticker = Ticker()
    two = asyncio.create_task(second())
    await asyncio.sleep(0.3)
    assert not two.done()  # waiting for the pool's one connection ...
    assert ticker.ticks >= 10  # ... asynchronously
    release.set()
    await asyncio.wait_for(asyncio.gather(one, two), 5)
    ticker.stop()
    async with SqlUnitOfWork(factory) as uow:
        assert await uow.users.get(2) == user(2)


async def test_a_unit_of_work_waits_for_another_process_without_blocking_the_loop(
    sqlite_url: str, writer: AsyncEngine
) -> None:
    other = create_engine(sqlite_url)  # as if in another process: its own connection and pool
    try:
        async with other.connect() as holder:
            await holder.execute(text("INSERT INTO users (id, first_name, locale) VALUES (9, 'o', 'en')"))
            ticker = Ticker()

            async def write() -> None:
                async with SqlUnitOfWork(create_session_factory(writer)) as uow:
                    await uow.users.add(user(1))
                    await uow.commit()

            waiting = asyncio.create_task(write())
            await asyncio.sleep(0.3)
            assert not waiting.done()  # BEGIN IMMEDIATE waits for the other's lock ...
            assert ticker.ticks >= 10  # ... on a worker thread: the loop kept turning
            await holder.commit()
            await asyncio.wait_for(waiting, 5)
            ticker.stop()
        async with SqlUnitOfWork(create_session_factory(writer)) as uow:
            assert await uow.users.get(1) == user(1)
            assert await uow.users.get(9) is not None
    finally:
        await other.dispose()


async def test_a_read_only_unit_of_work_reads_beside_a_writer(sqlite_url: str, writer: AsyncEngine) -> None:
    reader = create_read_engine(sqlite_url)
    assert reader is not None
    try:
        async with SqlUnitOfWork(create_session_factory(writer)) as uow:
            await uow.users.add(user(1))
            async with SqlUnitOfWork(create_session_factory(reader), read_only=True) as view:
                assert await view.users.get(1) is None  # the writer has not committed
            await uow.commit()
        async with SqlUnitOfWork(create_session_factory(reader), read_only=True) as view:
            assert await view.users.get(1) == user(1)
    finally:
        await reader.dispose()
