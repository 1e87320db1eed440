"""SQLite units of work (``storage.db.SqliteDb``): statements run on the SQLite thread, the bot's loop waits only
for a free connection and for another process's write lock, and then it is awaited, not blocked."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

import storage.db
from storage.engine import create_engine, create_read_engine, sqlite3_connection
from storage.migrate import upgrade_to_head
from storage.uow import SqlUnitOfWork
from tests.storage.builders import user


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await upgrade_to_head(url)
    return url


@pytest.fixture
async def writer(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def reader(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_read_engine(sqlite_url)
    assert engine is not None
    try:
        yield engine
    finally:
        await engine.dispose()


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


def _statements(engine: AsyncEngine) -> list[tuple[str, str]]:
    """(first word, name of the thread it ran on) of every statement ``engine`` runs from now on."""
    seen: list[tuple[str, str]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append((statement.split()[0], threading.current_thread().name))

    storage.db.listen_to_selects(  # the statements run in one call on the sqlite3 connection
        engine, lambda statement, parameters: seen.append((statement.split()[0], threading.current_thread().name))
    )
    return seen


async def test_statements_run_on_the_sqlite_thread(writer: AsyncEngine, reader: AsyncEngine) -> None:
    written, read = _statements(writer), _statements(reader)
    async with SqlUnitOfWork(writer) as uow:
        await uow.users.add(user(1))
        await uow.commit()
    async with SqlUnitOfWork(reader, read_only=True) as view:
        assert await view.users.get(1) == user(1)
    assert written == [("INSERT", "sqlite")]  # BEGIN IMMEDIATE went with the busy timeout, in one call
    assert read == [("SELECT", "sqlite")]  # autocommit: no BEGIN (and no ROLLBACK) around a read


async def test_statements_after_the_first_take_no_trip(
    writer: AsyncEngine, reader: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a unit of work holds its connection (a writer: its transaction begun), its prepared statements run on
    its own thread, on the connection's sqlite3 connection: a writer's trips to the SQLite thread are its first
    statement (checkout and BEGIN with it) and its commit; a reader's kept connection needs none."""
    for n in (1, 2, 3):  # statements seen twice are prepared; a reader keeps its connection
        async with SqlUnitOfWork(writer) as uow:
            await uow.users.add(user(n))  # not prepared (a default computed per execution): SQLAlchemy's way
            await uow.users.mark_unreachable(n)
            await uow.users.mark_reachable(n)
            await uow.commit()
        async with SqlUnitOfWork(reader, read_only=True) as view:
            assert await view.users.get(n) == user(n)
    trips: list[str] = []
    real_wait = storage.db._SqliteThread.wait

    def wait(work: Any) -> Any:
        trips.append(work.cr_code.co_name)
        return real_wait(work)

    monkeypatch.setattr(storage.db._SqliteThread, "wait", wait)
    written, read = _statements(writer), _statements(reader)
    async with SqlUnitOfWork(writer) as uow:
        await uow.users.add(user(4))
        await uow.users.mark_unreachable(4)
        await uow.users.mark_reachable(4)
        await uow.commit()
    async with SqlUnitOfWork(reader, read_only=True) as view:
        assert await view.users.get(4) == user(4)
        assert await view.users.get(3) == user(3)
    here = threading.current_thread().name
    assert here != "sqlite"
    assert written == [("INSERT", "sqlite"), ("UPDATE", here), ("UPDATE", here)]
    assert read == [("SELECT", here), ("SELECT", here)]
    assert trips == ["_first", "_give_back"]


async def test_each_connection_knows_its_own_sqlite3_connection(reader: AsyncEngine) -> None:
    """``sqlite3_connection`` is the connection aiosqlite runs SQLAlchemy's statements on (a setting made through
    SQLAlchemy is read back on it), one per pooled connection; a replaced connection is recorded anew."""
    async with reader.connect() as one, reader.connect() as two:
        await one.exec_driver_sql("PRAGMA cache_size=-1234")
        await two.exec_driver_sql("PRAGMA cache_size=-5678")
        raw_one = sqlite3_connection((await one.get_raw_connection()).info)
        raw_two = sqlite3_connection((await two.get_raw_connection()).info)
        assert raw_one is not None and raw_two is not None
        assert raw_one.execute("PRAGMA cache_size").fetchone() == (-1234,)
        assert raw_two.execute("PRAGMA cache_size").fetchone() == (-5678,)
        await one.invalidate()
    async with reader.connect() as three:
        raw_three = sqlite3_connection((await three.get_raw_connection()).info)
        assert raw_three is not None and raw_three is not raw_one
        assert raw_three.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(sqlite3.ProgrammingError):  # the replaced one was closed
        raw_one.execute("SELECT 1")


async def test_a_reader_sees_each_commit_at_once(writer: AsyncEngine, reader: AsyncEngine) -> None:
    """Autocommit: every statement of a read-only unit of work reads the latest committed state."""
    async with SqlUnitOfWork(reader, read_only=True) as view:
        assert await view.users.get(1) is None
        async with SqlUnitOfWork(writer) as uow:
            await uow.users.add(user(1))
            async with SqlUnitOfWork(reader, read_only=True) as other:
                assert await other.users.get(1) is None  # not committed yet
            await uow.commit()
        assert await view.users.get(1) == user(1)


async def test_units_of_work_queue_for_the_writer_without_blocking_the_loop(writer: AsyncEngine) -> None:
    holding = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with SqlUnitOfWork(writer) as uow:
            await uow.users.add(user(1))
            holding.set()
            await release.wait()  # holds the one writer connection (and the write lock)
            await uow.commit()

    async def second() -> None:
        async with SqlUnitOfWork(writer) as uow:
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
    async with SqlUnitOfWork(writer) as uow:
        assert [await uow.users.get(i) for i in (1, 2)] == [user(1), user(2)]


async def test_readers_beyond_the_pool_wait_their_turn(reader: AsyncEngine, writer: AsyncEngine) -> None:
    async with SqlUnitOfWork(writer) as uow:
        await uow.users.add(user(1))
        await uow.commit()
    size = reader.sync_engine.pool.size()  # type: ignore[attr-defined]
    release = asyncio.Event()
    inside = 0

    async def read() -> None:
        nonlocal inside
        async with SqlUnitOfWork(reader, read_only=True) as view:
            assert await view.users.get(1) == user(1)  # holds a connection from here ...
            inside += 1
            await release.wait()  # ... across an await

    tasks = [asyncio.create_task(read()) for _ in range(size + 3)]
    await asyncio.sleep(0.2)
    assert inside == size  # the rest wait for a connection without blocking the loop
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert inside == size + 3


def _hold_the_write_lock(path: Path, seconds: float, taken: threading.Event) -> None:
    """Another process, as far as SQLite can tell: its own connection, holding the write lock for a while."""
    import sqlite3

    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        connection.execute("COMMIT")
    finally:
        connection.close()


async def _lock_elsewhere(path: Path, seconds: float) -> asyncio.Future[None]:
    taken = threading.Event()
    holder = asyncio.get_running_loop().run_in_executor(None, _hold_the_write_lock, path, seconds, taken)
    await asyncio.to_thread(taken.wait, 5)
    return holder


async def _write_while_another_process_holds_the_lock(
    path: Path, writer: AsyncEngine, write: Callable[[SqlUnitOfWork], Awaitable[None]]
) -> None:
    """``write`` in a unit of work while another process holds the write lock for 0.5 s: its BEGIN IMMEDIATE
    waits for that lock, on the SQLite thread, while the loop keeps turning."""
    holder = await _lock_elsewhere(path, 0.5)
    ticker = Ticker()
    began = time.monotonic()
    async with SqlUnitOfWork(writer) as uow:
        await write(uow)
        await uow.commit()
    waited = time.monotonic() - began
    ticker.stop()
    await holder
    assert 0.3 < waited < 5
    assert ticker.ticks >= 10


async def test_a_writer_waits_for_another_process_without_blocking_the_loop(
    tmp_path: Path, writer: AsyncEngine
) -> None:
    async def add(uow: SqlUnitOfWork) -> None:
        await uow.users.add(user(1))

    await _write_while_another_process_holds_the_lock(tmp_path / "bot.db", writer, add)
    async with SqlUnitOfWork(writer) as uow:
        assert await uow.users.get(1) == user(1)


async def _warm_writer(writer: AsyncEngine) -> None:
    """User 1, and its reachability statements prepared (seen twice) on a connection the writer keeps."""
    async with SqlUnitOfWork(writer) as uow:
        await uow.users.add(user(1))
        await uow.commit()
    for _ in range(3):
        async with SqlUnitOfWork(writer) as uow:
            await uow.users.mark_unreachable(1)
            await uow.users.mark_reachable(1)
            await uow.commit()


def _unreachable(sqlite_url: str) -> int:
    """User 1's committed ``unreachable``, read by another connection (as another process would)."""
    other = sqlite3.connect(sqlite_url.split(":///", 1)[1])
    try:
        return int(other.execute("SELECT unreachable FROM users WHERE id = 1").fetchone()[0])
    finally:
        other.close()


async def test_a_writer_of_prepared_statements_takes_no_trip(
    writer: AsyncEngine, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer whose statements are all prepared begins, commits and rolls back on the connection's sqlite3
    connection, and keeps the connection for the next unit of work: no trip to the SQLite thread at all."""
    await _warm_writer(writer)
    trips: list[str] = []
    real_wait, real_post = storage.db._SqliteThread.wait, storage.db._SqliteThread.post

    def wait(work: Any) -> Any:
        trips.append(work.cr_code.co_name)
        return real_wait(work)

    def post(work: Any) -> None:
        trips.append(work.cr_code.co_name)
        real_post(work)

    monkeypatch.setattr(storage.db._SqliteThread, "wait", wait)
    monkeypatch.setattr(storage.db._SqliteThread, "post", post)
    written = _statements(writer)
    async with SqlUnitOfWork(writer) as uow:
        await uow.users.mark_unreachable(1)
        await uow.commit()
    assert _unreachable(sqlite_url) == 1
    async with SqlUnitOfWork(writer) as uow:
        await uow.users.mark_reachable(1)  # not committed: rolled back when the unit of work ends
    assert _unreachable(sqlite_url) == 1
    async with SqlUnitOfWork(writer) as uow:
        await uow.users.mark_reachable(1)
        await uow.rollback()
        await uow.users.mark_reachable(1)  # a new transaction after the rollback
        await uow.commit()
    assert _unreachable(sqlite_url) == 0
    here = threading.current_thread().name
    assert written == [("UPDATE", here)] * 4
    assert trips == []


async def test_a_kept_writer_waits_for_another_process_without_blocking_the_loop(
    tmp_path: Path, writer: AsyncEngine, sqlite_url: str
) -> None:
    await _warm_writer(writer)

    async def mark(uow: SqlUnitOfWork) -> None:
        await uow.users.mark_unreachable(1)  # a prepared statement: BEGIN on the kept connection first

    await _write_while_another_process_holds_the_lock(tmp_path / "bot.db", writer, mark)
    assert _unreachable(sqlite_url) == 1


async def test_a_writer_gives_up_after_its_patience(
    tmp_path: Path, writer: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    holder = await _lock_elsewhere(tmp_path / "bot.db", 1.0)
    began = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"):
        async with SqlUnitOfWork(writer) as uow:
            await uow.users.add(user(1))
    assert 0.15 <= time.monotonic() - began < 0.9
    await holder
    async with SqlUnitOfWork(writer) as uow:  # the connection is usable again once the lock is free
        await uow.users.add(user(1))
        await uow.commit()
    async with SqlUnitOfWork(writer) as uow:
        assert await uow.users.get(1) == user(1)
        assert (await uow.db.execute(text("PRAGMA busy_timeout"))).scalar() == 200  # its patience restored


async def test_a_failed_write_rolls_back_and_the_writer_goes_on(writer: AsyncEngine) -> None:
    async with SqlUnitOfWork(writer) as uow:
        await uow.users.add(user(1))
        await uow.commit()
    with pytest.raises(IntegrityError):  # noqa: PT012 - the whole unit of work is what fails and rolls back
        async with SqlUnitOfWork(writer) as uow:
            await uow.users.add(user(2))
            await uow.users.add(user(1))  # the same id again
    async with SqlUnitOfWork(writer) as uow:
        assert [await uow.users.get(i) for i in (1, 2)] == [user(1), None]
        await uow.users.add(user(3))
        await uow.commit()
    async with SqlUnitOfWork(writer) as uow:
        assert await uow.users.get(3) == user(3)


async def test_a_health_check_takes_its_turn_like_a_unit_of_work(writer: AsyncEngine) -> None:
    """``ping`` (the start-up check and ``/healthz``) while units of work hold and queue for the writer: it waits
    its turn, and the units of work after it go on. A connection awaited on the bot's loop instead would tie the
    pool's queue to that loop and break the SQLite thread's next wait for it (or the other way round)."""
    async with SqlUnitOfWork(writer) as uow:
        await uow.users.add(user(1))
        await uow.commit()

    async def touch(n: int) -> None:
        async with SqlUnitOfWork(writer) as uow:
            await uow.users.get(1)
            await asyncio.sleep(0.002 * (n % 3))  # holds the connection across awaits, as handlers do
            await uow.commit()

    for _round in range(3):
        await asyncio.gather(*(touch(n) for n in range(20)), *(storage.db.ping(writer) for _ in range(5)))
    await storage.db.ping(writer)


async def test_a_connection_given_back_after_a_commit_is_not_rolled_back_again(
    writer: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool resets a SQLite connection only when a transaction is still open on it (``storage.engine``): a
    rollback after a commit would be one more call to aiosqlite's thread for nothing."""
    import aiosqlite

    rollbacks: list[object] = []
    original = aiosqlite.Connection.rollback

    async def counted(self: aiosqlite.Connection) -> None:
        rollbacks.append(self)
        await original(self)

    monkeypatch.setattr(aiosqlite.Connection, "rollback", counted)
    async with SqlUnitOfWork(writer) as uow:
        await uow.users.add(user(1))
        await uow.commit()
    async with SqlUnitOfWork(writer) as uow:
        await uow.users.add(user(2))  # not committed: rolled back on the way out
    assert len(rollbacks) == 1
    async with SqlUnitOfWork(writer) as uow:
        assert await uow.users.get(1) == user(1) and await uow.users.get(2) is None


async def test_a_transaction_left_open_on_the_driver_is_rolled_back_when_the_connection_goes_back(
    writer: AsyncEngine, sqlite_url: str
) -> None:
    """A transaction SQLAlchemy does not know of (begun on the driver connection itself) does not outlive the
    connection's return to the pool: its writes are undone and the write lock is free for others at once."""

    async def begin_on_the_driver_and_give_back() -> None:
        connection = writer.connect()
        await connection.start()
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.execute("BEGIN IMMEDIATE")
        await driver.execute("INSERT INTO dialogs (user_id, state, data) VALUES (7, 'x', '{}')")
        await connection.close()

    await storage.db._SqliteThread.await_(begin_on_the_driver_and_give_back())
    other = sqlite3.connect(sqlite_url.split(":///", 1)[1], timeout=0, isolation_level=None)
    try:  # another process's writer: the write lock is free at once ("database is locked" otherwise)
        other.execute("BEGIN IMMEDIATE")
        found = other.execute("SELECT count(*) FROM dialogs").fetchone()[0]
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert found == 0


async def test_a_reader_keeps_its_connections_between_units_of_work(
    reader: AsyncEngine, writer: AsyncEngine
) -> None:
    """A reader's unit of work takes a connection an earlier one kept (no checkout from SQLAlchemy's pool, no trip
    to give it back); never more of them than the pool holds; each reads the latest commit. (A unit of work that
    ran a statement through SQLAlchemy - the first two times a statement is seen - gives its connection back.)"""
    for _ in range(2):
        async with SqlUnitOfWork(reader, read_only=True) as view:
            assert await view.users.get(1) is None
    checkouts: list[object] = []
    event.listen(reader.sync_engine.pool, "checkout", lambda *args: checkouts.append(args[0]))
    size = reader.sync_engine.pool.size()  # type: ignore[attr-defined]
    for n in range(1, 6):
        async with SqlUnitOfWork(writer) as uow:
            await uow.users.add(user(n))
            await uow.commit()
        async with SqlUnitOfWork(reader, read_only=True) as view:
            assert await view.users.get(n) == user(n)  # the commit just made, through a kept connection
    assert len(checkouts) == 1

    async def read(n: int) -> None:
        async with SqlUnitOfWork(reader, read_only=True) as view:
            assert await view.users.get(n) == user(n)
            await asyncio.sleep(0.01)  # holding the connection across an await

    await asyncio.wait_for(asyncio.gather(*(read(1 + n % 5) for n in range(4 * size))), 5)
    assert len(checkouts) == size  # the rest waited for a kept one
    assert reader.sync_engine.pool.checkedout() == size  # type: ignore[attr-defined]


async def test_a_disposed_reader_closes_the_connections_it_kept(sqlite_url: str, writer: AsyncEngine) -> None:
    """Kept connections are checked out of the pool, which ``dispose`` does not close: they are closed with it, and
    with them aiosqlite's threads (which would keep the process from exiting)."""
    async with SqlUnitOfWork(writer) as uow:
        await uow.users.add(user(1))
        await uow.commit()
    before = set(threading.enumerate())
    reader = create_read_engine(sqlite_url)
    assert reader is not None

    async def read() -> None:
        async with SqlUnitOfWork(reader, read_only=True) as view:
            assert await view.users.get(1) == user(1)
            await asyncio.sleep(0.01)

    await read()
    await read()  # a statement runs through SQLAlchemy the first two times it is seen: from now on in one call
    await asyncio.gather(read(), read(), read())
    assert reader.sync_engine.pool.checkedout() == 3  # type: ignore[attr-defined]  # kept
    drivers = set(threading.enumerate()) - before
    assert len(drivers) == 3  # one aiosqlite thread per connection, kept
    await reader.dispose()
    for thread in drivers:  # an aiosqlite thread ends once its connection is closed
        await asyncio.to_thread(thread.join, 5)
    assert not any(thread.is_alive() for thread in drivers)
    async with SqlUnitOfWork(reader, read_only=True) as view:  # a disposed engine goes on with a new pool
        assert await view.users.get(1) == user(1)
    await reader.dispose()


async def test_a_reader_disposed_while_it_reads_closes_its_connection_at_the_end(
    sqlite_url: str, writer: AsyncEngine
) -> None:
    """A unit of work that took a kept connection before ``dispose`` closes it when it ends (handed back to the
    discarded pool it would stay open, and its aiosqlite thread with it); the next reads through the new pool."""
    async with SqlUnitOfWork(writer) as uow:
        await uow.users.add(user(1))
        await uow.commit()
    reader = create_read_engine(sqlite_url)
    assert reader is not None
    invalidated = threading.Event()
    event.listen(reader.sync_engine, "invalidate", lambda *args: invalidated.set())
    for _ in range(3):  # the statement's first two sightings go through SQLAlchemy; the third keeps its connection
        async with SqlUnitOfWork(reader, read_only=True) as view:
            assert await view.users.get(1) == user(1)
    async with SqlUnitOfWork(reader, read_only=True) as view:
        assert await view.users.get(1) == user(1)  # through the kept connection
        await reader.dispose()
        assert not invalidated.is_set()  # it is in use: closed when this unit of work ends
    assert await asyncio.to_thread(invalidated.wait, 5)
    async with SqlUnitOfWork(reader, read_only=True) as view:
        assert await view.users.get(1) == user(1)
    await reader.dispose()


async def test_a_writer_disposed_before_its_connection_is_back_closes_it(sqlite_url: str) -> None:
    """A unit of work that ends without a commit gives its connection back without waiting (a task on the SQLite
    thread). Disposing of the engine before that task is done waits for it and closes the connection: checked in
    to the discarded pool, it would stay open until the garbage collector dropped it, and aiosqlite's thread would
    then answer on an event loop closed by then ("Event loop is closed", an unhandled exception in a thread)."""
    writer = create_engine(sqlite_url)
    opened: list[Any] = []
    closed: list[Any] = []
    event.listen(writer.sync_engine, "connect", lambda connection, record: opened.append(connection))
    event.listen(writer.sync_engine, "close", lambda connection, record: closed.append(connection))
    disposing = threading.Event()  # listened to before any unit of work: told before the engine's own listeners
    event.listen(writer.sync_engine, "engine_disposed", lambda engine: disposing.set())

    async def hold_the_sqlite_thread() -> None:
        assert disposing.wait(10)  # blocks the SQLite thread until the engine is being disposed

    async with SqlUnitOfWork(writer) as uow:
        await uow.users.add(user(1))
        storage.db._SqliteThread.post(hold_the_sqlite_thread())
    # not committed: the connection goes back after the hold, i.e. after the pool's own dispose
    await writer.dispose()
    assert len(opened) == 1 and closed == opened


async def test_a_writer_disposed_while_in_use_closes_its_connection_at_the_end(sqlite_url: str) -> None:
    """A writer's unit of work that holds its connection while the engine is disposed closes it when it ends
    without a commit (it is not handed back to the discarded pool); the next one goes on with the new pool."""
    writer = create_engine(sqlite_url)
    closed = threading.Event()
    event.listen(writer.sync_engine, "close", lambda connection, record: closed.set())
    async with SqlUnitOfWork(writer) as uow:
        await uow.users.add(user(1))
        await writer.dispose()
        assert not closed.is_set()  # in use: closed when this unit of work ends
    assert await asyncio.to_thread(closed.wait, 5)
    async with SqlUnitOfWork(writer) as uow:
        assert await uow.users.get(1) is None  # rolled back
    await writer.dispose()
