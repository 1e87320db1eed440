"""PostgreSQL's units of work (``storage.db.PgDb``): a statement a unit of work runs again and again runs in one
call on the connection's asyncpg connection, its rows exactly as SQLAlchemy returns them, on the reading engine and
inside a writer's transaction once it has begun; its errors are SQLAlchemy's, also when PostgreSQL refused it
inside a transaction (which it then aborts, so that it cannot run again through SQLAlchemy). Readers keep their
connections for the next reader, within limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Integer, Select, bindparam, event, func, literal_column, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

import storage.db
from storage import repositories
from storage.db import PgDb, unit_of_work_db
from storage.engine import PG_POOL_SIZE, create_engine, reading_engine
from storage.uow import SqlUnitOfWork
from tests.dbutil import drop_database, fresh_database
from tests.storage.builders import MENTEE_ID, MENTOR_ID, T0, booking
from tests.storage.test_sqlite_reads import (
    _in_one_call,
    _seeded,
    _start,
    _through_sqlalchemy,
    hot_reads_match_sqlalchemys,
)

pytestmark = pytest.mark.postgres

H = timedelta(hours=1)
# built once, like the repositories' statements: PostgreSQL refuses it when ``d`` is 0 (division by zero)
_DIVIDED = select((literal_column("1") / bindparam("d", type_=Integer)).label("q"))


@pytest.fixture
async def engines(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    url = await fresh_database("postgres", tmp_path)
    writer = create_engine(url)
    try:
        yield writer, reading_engine(writer)
    finally:
        await writer.dispose()
        await drop_database(url)


@pytest.mark.parametrize("read_only", [True, False], ids=["reader", "in a write transaction"])
async def test_hot_reads_come_back_as_sqlalchemy_returns_them(
    engines: tuple[AsyncEngine, AsyncEngine], read_only: bool
) -> None:
    """The reads of every update (an offering's ``NUMERIC`` price, times, JSON lists, counts): seen, then named by
    SQLAlchemy's result, then in one call - on the reader in autocommit, and in a writer's transaction (whose first
    statement, here each unit of work's first run of the statement, begins it through SQLAlchemy)."""
    writer, reader = engines
    dbs = await hot_reads_match_sqlalchemys(writer, reader if read_only else writer, read_only=read_only)
    assert dbs and all(isinstance(db, PgDb) for db in dbs)


async def test_a_writers_first_statement_begins_its_transaction_through_sqlalchemy(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """Before a writer's transaction has begun, a prepared statement goes through SQLAlchemy (whose adapter begins
    the transaction with it); after, in one call, inside that transaction: it sees the transaction's own writes,
    and what is not committed is undone."""
    writer, reader = engines
    await _seeded(writer)
    for _ in range(2):  # seen, then named by SQLAlchemy's result
        async with SqlUnitOfWork(writer) as uow:
            await uow.dialogs.get(MENTEE_ID)
    slow, fast = _through_sqlalchemy(writer, _start), _in_one_call(writer, _start)
    for n in range(2):
        async with SqlUnitOfWork(writer) as uow:
            assert (await uow.dialogs.get(MENTEE_ID) or ("",))[0] == "booking_notes"
            await uow.dialogs.set(MENTEE_ID, "other", {"n": n})
            assert await uow.dialogs.get(MENTEE_ID) == ("other", {"n": n})
    assert slow.count("SELECT dialogs.state, dialogs.data") == 2  # each unit of work's first statement
    assert fast.count("SELECT dialogs.state, dialogs.data") == 2  # after the write, in the same transaction
    async with SqlUnitOfWork(reader, read_only=True) as view:  # rolled back every time
        assert (await view.dialogs.get(MENTEE_ID) or ("",))[0] == "booking_notes"


async def test_writes_in_one_call_return_count_and_commit_as_through_sqlalchemy(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """Writes after the transaction began: an upsert with a JSON value, an ``INSERT ... RETURNING`` (a booking's
    id), an ``UPDATE ... RETURNING`` (its sequence), a ``DELETE``'s row count from the command's status; kept by
    the commit, undone without one."""
    writer, reader = engines
    offering_id = await _seeded(writer)
    async with SqlUnitOfWork(reader, read_only=True) as view:
        offering = await view.offerings.get(offering_id)
    assert offering is not None
    fast = _in_one_call(writer, _start)
    ids, counts = [], []
    for n in range(4):
        async with SqlUnitOfWork(writer) as uow:
            await uow.lock_users(MENTOR_ID, MENTEE_ID)  # begins the transaction (through SQLAlchemy)
            await uow.dialogs.set(MENTOR_ID, "notes", {"step": n, "name": "Zoë <b>"})
            added = await uow.bookings.add(booking(offering, start=T0 + (20 + n) * H))
            assert added.id is not None
            moved = await uow.bookings.update(added.with_changes(meeting_notes=f"moved {n}"))
            assert moved.sequence == added.sequence + 1
            counts.append(await uow.db.rowcount(repositories._DIALOG_DELETE, {"user_id": MENTEE_ID}))
            await uow.commit()
        ids.append(added.id)
    assert counts == [1, 0, 0, 0]  # the mentee's conversation, deleted by the first unit of work
    assert ids == sorted(set(ids))
    assert fast.count("INSERT INTO dialogs") >= 2 and fast.count("INSERT INTO bookings") >= 2
    assert fast.count("UPDATE bookings SET") >= 2 and fast.count("DELETE FROM dialogs") >= 2
    async with SqlUnitOfWork(writer) as uow:
        await uow.lock_users(MENTOR_ID)
        await uow.dialogs.set(MENTOR_ID, "notes", {"step": 9})  # not committed: undone
    async with SqlUnitOfWork(reader, read_only=True) as view:
        assert await view.dialogs.get(MENTOR_ID) == ("notes", {"step": 3, "name": "Zoë <b>"})
        for n, booking_id in enumerate(ids):
            found = await view.bookings.get(booking_id)
            assert found is not None and found.meeting_notes == f"moved {n}"


async def test_a_server_error_inside_a_transaction_is_sqlalchemys(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """PostgreSQL refusing a statement in one call inside a transaction (a division by zero, a duplicate key):
    SQLAlchemy's exception of the class SQLAlchemy raises for it, around the DBAPI error of the class its adapter
    raises; the transaction is then rolled back, nothing of it kept, and the connections serve the next unit of
    work."""
    writer, reader = engines
    await _seeded(writer)
    raised: list[tuple[type[BaseException], type[object]]] = []

    async def divide(statement: Any) -> None:
        async with SqlUnitOfWork(writer) as uow:
            await uow.lock_users(MENTEE_ID)  # the transaction begins
            with pytest.raises(DBAPIError, match="division by zero") as refused:
                await uow.db.first(statement, {"d": 0})
            raised.append((type(refused.value), type(refused.value.orig)))

    await divide(select(literal_column("1") / bindparam("d", type_=Integer)))  # built per call: SQLAlchemy's
    async with SqlUnitOfWork(writer) as uow:
        for _ in range(2):  # seen, then named by SQLAlchemy's result
            assert await uow.db.first(_DIVIDED, {"d": 1}) == (1,)
    fast = _in_one_call(writer, _divisions)
    for _ in range(2):
        await divide(_DIVIDED)
    assert fast == ["division"] * 2
    assert raised[1] == raised[2] == raised[0]

    insert = repositories._insert_values(repositories._DIALOGS, ("user_id", "state", "data"))
    inserts, raised = _in_one_call(writer, _plain_inserts), []
    for attempt in range(3):  # the mentee's conversation is stored: seen first, then in one call
        async with SqlUnitOfWork(writer) as uow:
            await uow.lock_users(MENTEE_ID)
            await uow.dialogs.set(MENTOR_ID, "lost", {"attempt": attempt})
            with pytest.raises(IntegrityError, match="duplicate key") as duplicate:
                await uow.db.write(insert, {"user_id": MENTEE_ID, "state": "x", "data": {}})
            raised.append((type(duplicate.value), type(duplicate.value.orig)))
            await uow.rollback()
    assert inserts == ["INSERT INTO dialogs"] * 2
    assert raised[1] == raised[2] == raised[0]
    async with SqlUnitOfWork(writer) as uow:  # nothing kept; the pool's connections work
        assert await uow.dialogs.get(MENTOR_ID) is None
        await uow.dialogs.set(MENTOR_ID, "kept", {})
        await uow.commit()
    async with SqlUnitOfWork(reader, read_only=True) as view:
        assert await view.dialogs.get(MENTOR_ID) == ("kept", {})


async def test_errors_that_abort_nothing_run_again_through_sqlalchemy(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """A statement refused on the reader (autocommit: nothing to abort), and an argument asyncpg cannot send (an
    id beyond a 32-bit column, refused before anything is sent): run again through SQLAlchemy, which raises its
    own error - and a writer's transaction goes on after the second."""
    writer, reader = engines
    await _seeded(writer)
    fast, slow = _in_one_call(reader, _divisions), _through_sqlalchemy(reader, _divisions)
    for _ in range(3):
        db = unit_of_work_db(reader, read_only=True)
        try:
            with pytest.raises(DBAPIError, match="division by zero"):
                await db.first(_DIVIDED, {"d": 0})
            assert (await db.first(_DIVIDED, {"d": 1})) == (1,)
        finally:
            await db.close()
    assert len(fast) == 2 + 2  # from the third run on (the first seen, the second named by SQLAlchemy's result)
    assert len(slow) == 2 + 2  # seen, named, then again after each failed one call

    async with SqlUnitOfWork(writer) as uow:
        for _ in range(2):  # seen, then named by SQLAlchemy's result
            assert await uow.db.first(repositories._BOOKING_BY_ID, {"id": 1}) is not None
    writer_fast = _in_one_call(writer, _start)
    for attempt in range(3):
        async with SqlUnitOfWork(writer) as uow:
            await uow.lock_users(MENTEE_ID)
            with pytest.raises(DBAPIError, match="out of int32 range"):
                await uow.db.first(repositories._BOOKING_BY_ID, {"id": 2**31})
            await uow.dialogs.set(MENTEE_ID, "after", {"attempt": attempt})  # the transaction goes on
            await uow.commit()
    assert writer_fast.count("SELECT bookings.id, bookings.offering_id,") == 3
    async with SqlUnitOfWork(reader, read_only=True) as view:
        assert await view.dialogs.get(MENTEE_ID) == ("after", {"attempt": 2})


def _plain_inserts(sql: str) -> list[str]:
    """An ``INSERT`` without ``ON CONFLICT``, as its first three words."""
    return _start(sql) if sql.startswith("INSERT") and "ON CONFLICT" not in sql else []


def _divisions(sql: str) -> list[str]:
    return ["division"] if " / " in sql else []


async def test_a_pg_engine_gets_the_one_call_db(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    writer, reader = engines
    assert isinstance(unit_of_work_db(writer, read_only=False), PgDb)
    assert isinstance(unit_of_work_db(reader, read_only=True), PgDb)


_BACKEND: Select[tuple[int]] = select(literal_column("pg_backend_pid()", Integer).label("pid"))


def _pool(engine: AsyncEngine) -> QueuePool:
    pool = engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    return pool


async def _reader_pid(reader: AsyncEngine) -> int:
    db = unit_of_work_db(reader, read_only=True)
    try:
        return int(await db.scalar(_BACKEND))
    finally:
        await db.close()


async def test_a_readers_connection_is_kept_for_the_next_reader(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    """A reader (autocommit: nothing to reset) keeps its connection for the next one instead of giving it back to
    the pool: the next reader runs on the same server process without a checkout; a writer never keeps one."""
    writer, reader = engines
    checkouts: list[object] = []
    event.listen(writer.sync_engine.pool, "checkout", lambda *args: checkouts.append(args))
    pids = [await _reader_pid(reader) for _ in range(5)]
    assert len(set(pids)) == 1 and len(checkouts) == 1
    assert _pool(writer).checkedout() == 1  # kept
    async with SqlUnitOfWork(writer) as uow:
        await uow.lock_users(MENTEE_ID)
        assert await uow.db.scalar(_BACKEND) != pids[0]  # the kept one is the readers'
    assert len(checkouts) == 2 and _pool(writer).checkedout() == 1


async def test_at_most_half_the_pool_is_kept(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    """Readers keep at most half the pool's connections, so that writers always find some there."""
    writer, reader = engines
    dbs = [unit_of_work_db(reader, read_only=True) for _ in range(8)]
    pids = {int(await db.scalar(_BACKEND)) for db in dbs}  # eight readers at once: eight connections
    for db in dbs:
        await db.close()
    pool = _pool(writer)
    assert len(pids) == 8 and pool.checkedout() == pool.size() // 2 == PG_POOL_SIZE // 2


async def test_a_kept_connection_idle_too_long_goes_back_to_the_pool(
    engines: tuple[AsyncEngine, AsyncEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept longer than the pool's idle-ping age, a connection goes back to the pool, whose checkout pings it."""
    writer, reader = engines
    await _reader_pid(reader)
    checkouts: list[object] = []
    event.listen(writer.sync_engine.pool, "checkout", lambda *args: checkouts.append(args))
    monkeypatch.setattr(storage.db, "IDLE_PING_AFTER", 0.0)  # every kept connection is too old now
    await _reader_pid(reader)
    await _reader_pid(reader)
    assert len(checkouts) == 2 and _pool(writer).checkedout() == 1


async def test_the_connection_kept_first_goes_back_once_idle_too_long(
    engines: tuple[AsyncEngine, AsyncEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two kept: once the one kept first has been idle for the ping age, the next reader gives it back to the
    pool and takes the other."""
    writer, reader = engines
    clock = [1000.0]
    monkeypatch.setattr(storage.db, "_now", lambda: clock[0])
    first, second = unit_of_work_db(reader, read_only=True), unit_of_work_db(reader, read_only=True)
    await first.scalar(_BACKEND)
    kept_last = int(await second.scalar(_BACKEND))
    await first.close()
    clock[0] += 0.9
    await second.close()
    assert _pool(writer).checkedout() == 2
    clock[0] += 0.2  # the first idle 1.1 s, the second 0.2 s
    assert await _reader_pid(reader) == kept_last
    assert _pool(writer).checkedout() == 1


async def test_a_kept_connection_the_server_closed_is_replaced(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    """The server ends a kept connection's session: a kept connection asyncpg knows to be closed is not taken; one
    it does not know of yet fails the next reader once with SQLAlchemy's error (as a pooled connection idle for
    less than the ping age does) and is thrown away. Either way the readers after it work on a new connection."""
    writer, reader = engines
    await _seeded(writer)
    for _ in range(3):  # the statement runs in one call from now on
        await _user_name(reader)
    pid = await _reader_pid(reader)
    async with writer.connect() as admin:
        await admin.execute(select(func.pg_terminate_backend(pid)))
    outcomes: list[str] = []
    for _ in range(3):
        try:
            outcomes.append(await _user_name(reader))
        except DBAPIError:
            outcomes.append("failed")
    assert outcomes[1:] == ["User 2001"] * 2 and outcomes[0] in ("failed", "User 2001")
    assert await _reader_pid(reader) != pid


async def _user_name(reader: AsyncEngine) -> str:
    db = unit_of_work_db(reader, read_only=True)
    try:
        found = await db.first(repositories._USER_BY_ID, {"id": MENTEE_ID})
        assert found is not None
        return str(found.first_name)
    finally:
        await db.close()


async def test_disposing_of_the_engine_closes_the_kept_connections(tmp_path: Path) -> None:
    url = await fresh_database("postgres", tmp_path)
    writer = create_engine(url)
    try:
        reader = reading_engine(writer)
        dbs = [unit_of_work_db(reader, read_only=True) for _ in range(3)]
        for db in dbs:
            await db.scalar(_BACKEND)
        for db in dbs:
            await db.close()
        assert await _sessions(url) == 3
        await writer.dispose()
        assert await _sessions(url) == 0
    finally:
        await writer.dispose()
        await drop_database(url)


async def _sessions(url: str) -> int:
    """How many server sessions are connected to ``url``'s database (seen from another engine's connection)."""
    other = create_engine(url)
    try:
        async with other.connect() as connection:
            count = func.count().filter(literal_column("datname") == func.current_database())
            own = literal_column("pid") != func.pg_backend_pid()
            statement = select(count).select_from(text("pg_stat_activity")).where(own)
            return int((await connection.execute(statement)).scalar_one())
    finally:
        await other.dispose()
