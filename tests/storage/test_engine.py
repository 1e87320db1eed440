from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from storage.engine import IDLE_PING_AFTER, create_engine, normalize_url
from tests.dbutil import temporary_database


def test_normalize_url_picks_async_drivers() -> None:
    assert normalize_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+asyncpg"
    assert normalize_url("sqlite+aiosqlite:///x.db").drivername == "sqlite+aiosqlite"


def test_unsupported_database() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        create_engine("mysql+aiomysql://u@h/db")


async def test_sqlite_creates_the_directory_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "bot.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
    finally:
        await engine.dispose()
    assert path.exists()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000, "synchronous": 1}


async def test_sqlite_transactions_begin_immediate(tmp_path: Path) -> None:
    """A transaction that has only *read* already holds the write lock, so a second one cannot even begin."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    first = create_engine(url)
    impatient = create_engine(url)

    @event.listens_for(impatient.sync_engine, "connect")
    def short_busy_timeout(dbapi_connection: Any, connection_record: Any) -> None:  # runs after the engine's own
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=100")
        cursor.close()

    try:
        async with first.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        async with first.connect() as holder:
            await holder.execute(text("SELECT count(*) FROM t"))  # BEGIN IMMEDIATE + a read
            assert holder.in_transaction()
            async with impatient.connect() as other:
                with pytest.raises(OperationalError, match="database is locked"):
                    await other.execute(text("SELECT 1"))
            await holder.rollback()
        async with impatient.connect() as other:
            assert (await other.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    finally:
        await first.dispose()
        await impatient.dispose()


async def test_sqlite_writers_wait_instead_of_failing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    engines = [create_engine(url) for _ in range(10)]
    try:
        async with engines[0].begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")

        async def write(i: int) -> None:
            async with engines[i].begin() as connection:
                await connection.exec_driver_sql(f"INSERT INTO t VALUES ({i})")
                await asyncio.sleep(0.05)  # hold the lock a little

        await asyncio.gather(*(write(i) for i in range(10)))
        async with engines[0].connect() as connection:
            assert (await connection.exec_driver_sql("SELECT count(*) FROM t")).scalar_one() == 10
    finally:
        for engine in engines:
            await engine.dispose()


async def test_sqlite_readers_read_beside_the_writer_and_cannot_write(tmp_path: Path) -> None:
    """``create_read_engine``: while the writer holds the write lock (BEGIN IMMEDIATE, uncommitted insert), a
    reader still reads the last committed state at once; a write through a reader fails."""
    from domain.model import User
    from storage.engine import create_read_engine
    from storage.migrate import upgrade_to_head
    from storage.uow import SqlUnitOfWork

    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await upgrade_to_head(url)
    writer, reader = create_engine(url), create_read_engine(url)
    assert reader is not None
    assert create_read_engine("sqlite+aiosqlite:///:memory:") is None
    assert create_read_engine("postgresql+asyncpg://u@h/db") is None
    try:
        async with SqlUnitOfWork(writer) as uow:
            await uow.users.add(User(1, "Asha"))
            await uow.commit()
        async with SqlUnitOfWork(writer) as uow:
            await uow.users.add(User(2, "Ravi"))  # the write lock is held, not committed yet
            async with SqlUnitOfWork(reader, read_only=True) as view:
                found = await asyncio.wait_for(view.users.get(1), 2)  # no waiting for the writer
                assert found is not None and await view.users.get(2) is None
                with pytest.raises(RuntimeError, match="read-only"):
                    await view.commit()
            await uow.commit()
        async with reader.connect() as connection:
            with pytest.raises(OperationalError, match=r"readonly|read-only|query_only"):
                await connection.execute(text("DELETE FROM users"))
    finally:
        await writer.dispose()
        await reader.dispose()


async def test_read_only_units_of_work_need_no_transaction(db_url: str, engine: Any) -> None:
    """``reading_engine``: SQLite reads on its read engine; PostgreSQL reads in autocommit on the same pool (every
    statement its own snapshot, as READ COMMITTED gives inside a transaction anyway), and still sees commits."""
    from domain.model import User
    from storage.engine import create_read_engine, reading_engine
    from storage.uow import SqlUnitOfWork

    read_engine = create_read_engine(db_url)
    reads = reading_engine(engine, read_engine)
    try:
        if engine.dialect.name == "postgresql":
            assert read_engine is None and reads.pool is engine.pool
            reader_starts = await _transaction_starts(reads)
            assert reader_starts[1] > reader_starts[0]  # each statement began its own transaction
            writer_starts = await _transaction_starts(engine)
            assert writer_starts[1] == writer_starts[0]  # the writer still runs one transaction
        else:
            assert reads is read_engine
        async with SqlUnitOfWork(engine) as uow:
            await uow.users.add(User(7, "Asha"))
            await uow.commit()
        async with SqlUnitOfWork(reads, read_only=True) as view:
            assert await view.users.get(7) == User(7, "Asha")
            assert await view.dialogs.get(7) is None
    finally:
        if read_engine is not None:
            await read_engine.dispose()


async def _transaction_starts(engine: Any) -> list[Any]:
    """``now()`` (the current transaction's start) in two statements 20 ms apart on one connection."""
    async with engine.connect() as connection:
        first = (await connection.exec_driver_sql("SELECT now()")).scalar_one()
        await connection.exec_driver_sql("SELECT pg_sleep(0.02)")
        second = (await connection.exec_driver_sql("SELECT now()")).scalar_one()
    return [first, second]


async def _query_ok(engine: Any) -> bool:
    async with engine.connect() as connection:
        return (await connection.execute(text("SELECT 1"))).scalar_one() == 1


async def _end_server_sessions(url: str) -> None:
    """What a server restart does to this database's connections: the server ends every session."""
    admin = create_engine(url, poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await admin.dispose()


@pytest.mark.postgres
async def test_postgres_pings_a_connection_only_after_it_sat_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    """No round trip per checkout for a connection just used; one that waited is checked, and a dead one replaced
    before any statement runs on it."""
    async with temporary_database("postgres") as url:
        engine = create_engine(url)
        pings: list[object] = []
        ping = engine.dialect.do_ping

        def counted_ping(connection: Any) -> bool:
            pings.append(connection)
            return ping(connection)

        monkeypatch.setattr(engine.dialect, "do_ping", counted_ping)
        try:
            assert await _query_ok(engine) and await _query_ok(engine)
            assert pings == []  # a new connection, then one back from the pool at once: no pings
            await asyncio.sleep(IDLE_PING_AFTER + 0.1)
            assert await _query_ok(engine)
            assert len(pings) == 1  # it sat idle: checked first

            await _end_server_sessions(url)
            await asyncio.sleep(IDLE_PING_AFTER + 0.1)
            assert await _query_ok(engine)  # the ping failed; a new connection ran the statement
            assert len(pings) == 2
        finally:
            await engine.dispose()


@pytest.mark.postgres
async def test_postgres_connection_lost_within_the_idle_window_fails_once_then_recovers() -> None:
    """The trade-off of pinging only idle connections: a connection taken back within ``IDLE_PING_AFTER`` of the
    server going away fails its statement; SQLAlchemy then replaces the pool's connections."""
    async with temporary_database("postgres") as url:
        engine = create_engine(url)
        try:
            assert await _query_ok(engine)
            await _end_server_sessions(url)
            with pytest.raises(DBAPIError) as failed:
                await _query_ok(engine)
            assert failed.value.connection_invalidated
            assert await _query_ok(engine)
        finally:
            await engine.dispose()
