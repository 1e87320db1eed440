from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.uow import SqlUnitOfWork
from tests.storage.builders import user


async def test_nothing_is_saved_without_commit(uow: SqlUnitOfWork) -> None:
    async with uow:
        await uow.users.add(user(1))
        await uow.dialogs.set(1, "s", {})
        assert await uow.users.get(1) == user(1)  # visible inside the transaction
    async with uow:
        assert await uow.users.get(1) is None
        assert await uow.dialogs.get(1) is None


async def test_explicit_rollback_and_commit(uow: SqlUnitOfWork) -> None:
    async with uow:
        await uow.users.add(user(1))
        await uow.rollback()
        await uow.users.add(user(2))
        await uow.commit()
        await uow.users.add(user(3))  # after the commit: a new transaction, rolled back on exit
    async with uow:
        assert [await uow.users.get(i) for i in (1, 2, 3)] == [None, user(2), None]


async def test_an_exception_rolls_back_and_propagates(uow: SqlUnitOfWork) -> None:
    with pytest.raises(LookupError):  # noqa: PT012 - the exception leaves the unit of work's block
        async with uow:
            await uow.users.add(user(1))
            raise LookupError
    async with uow:
        assert await uow.users.get(1) is None


async def test_sequential_reuse_but_no_nesting(uow: SqlUnitOfWork) -> None:
    for i in range(3):
        async with uow:
            await uow.users.add(user(i))
            await uow.commit()
    async with uow:
        with pytest.raises(RuntimeError, match="already active"):
            async with uow:
                pass
        assert await uow.users.get(2) == user(2)
    with pytest.raises(RuntimeError, match="not active"):
        uow.db  # noqa: B018


async def test_lock_users_serializes_transactions(engine: AsyncEngine) -> None:
    async with SqlUnitOfWork(engine) as setup:
        await setup.users.add(user(1))
        await setup.users.add(user(2))
        await setup.commit()

    events: list[str] = []
    first_has_lock = asyncio.Event()
    second_asks = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with SqlUnitOfWork(engine) as uow:
            await uow.lock_users(2, 1)
            events.append("first locked")
            first_has_lock.set()
            await release_first.wait()
            await uow.users.update(user(1, first_name="first"))
            events.append("first commits")
            await uow.commit()

    async def second() -> None:
        await first_has_lock.wait()
        async with SqlUnitOfWork(engine) as uow:
            second_asks.set()
            await uow.lock_users(1)
            events.append("second locked")
            got = await uow.users.get(1)
            assert got is not None and got.first_name == "first"  # sees the first one's committed write

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await first_has_lock.wait()
    await second_asks.wait()  # resumes once the second has gone into lock_users and is suspended there
    if engine.dialect.name == "postgresql":
        await _until_a_backend_waits_for_a_lock(engine)
    assert events == ["first locked"]  # the second is waiting for the lock
    release_first.set()
    await asyncio.gather(*tasks)
    assert events == ["first locked", "first commits", "second locked"]


async def _until_a_backend_waits_for_a_lock(engine: AsyncEngine) -> None:
    """Poll PostgreSQL's own view of this database's sessions until one is blocked on a row lock (10 s at most)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(10):
        while True:
            async with engine.connect() as connection:
                if await connection.scalar(waiting):
                    return
            await asyncio.sleep(0.01)


async def test_lock_users_with_unknown_or_no_ids_changes_nothing(uow: SqlUnitOfWork) -> None:
    async with uow:
        await uow.users.add(user(1))
        await uow.commit()
    async with uow:
        await uow.lock_users()
        await uow.lock_users(404, 405)
        await uow.lock_users(1, 404)  # a known and an unknown id together
        assert [await uow.users.get(i) for i in (1, 404, 405)] == [user(1), None, None]  # no row made or changed
        await uow.users.add(user(2))  # the transaction goes on as usual
        await uow.commit()
    async with uow:
        assert [await uow.users.get(i) for i in (1, 2, 404, 405)] == [user(1), user(2), None, None]
