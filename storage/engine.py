"""Engines for SQLite (aiosqlite) and PostgreSQL (asyncpg).

SQLite is configured for a bot that books time slots from several tasks (or processes) at once:

* PRAGMAs on every new connection: ``journal_mode=WAL`` (readers do not block the writer),
  ``foreign_keys=ON``, ``busy_timeout=30000`` (wait up to 30 s for the write lock instead of failing with
  "database is locked"), ``synchronous=NORMAL`` (safe with WAL, much faster than FULL).
* The driver's own transaction handling is switched off (``isolation_level = None``) and SQLAlchemy's "begin"
  event emits ``BEGIN IMMEDIATE`` instead - the recipe from the SQLAlchemy SQLite docs ("Serializable isolation /
  Savepoints / Transactional DDL"), with IMMEDIATE so that each transaction takes the database write lock when it
  starts. Two transactions that both read-then-write (check a slot, then insert a booking) therefore run one
  after the other instead of both reading the same "free" state. (Units of work, ``storage.db``, mostly begin and
  end their transactions on the connection's sqlite3 connection: the same ``BEGIN IMMEDIATE``.) Side effect: on
  SQLite every transaction, reads included, serializes with writers; keep transactions short, and never open a
  second unit of work while one is open in the same task (it would wait for the first one forever, i.e. until
  the timeout).
* A file database gets a pool of one connection (see ``create_engine``).
* Statements run through SQLAlchemy's own aiosqlite dialect, and units of work run them on a thread of their own
  (``storage.db.SqliteDb``); a writer waiting for another process's write lock waits there (SQLite's busy
  handler), never on the bot's event loop.
* Each connection's ``sqlite3.Connection`` is made through ``sqlite3.connect``'s ``factory`` (set by SQLAlchemy's
  ``do_connect`` event), so that ``storage.db`` can run its prepared statements on it directly
  (``sqlite3_connection``); ``check_same_thread=False`` (SQLAlchemy's default for a file already) lets the thread
  that holds the connection run them.
* Reads that need no write lock can use ``create_read_engine``: a few more connections to the same file, in
  autocommit, which refuse writes (``PRAGMA query_only``). In WAL mode they read the last committed state without
  waiting for the writer, so screens that only show data do not queue behind it.

PostgreSQL gets a modest pool (``PG_POOL_SIZE`` connections kept, ``PG_MAX_OVERFLOW`` more under load,
``PG_POOL_TIMEOUT`` seconds' wait for one); serialization there comes from ``UnitOfWork.lock_users`` (row locks),
not from the engine. **Sizing.** A unit of work holds its connection for its own round trips only (the handlers
close it before they call Telegram), so at 300 updates/s - about 2.5 units of work per update, each a few
milliseconds - a handful of connections are in use at once; the pool's 20 leave room for bursts, the dispatcher and
calendar sync, and keep two webhook workers (40) well inside PostgreSQL's default ``max_connections`` of 100. The
bot's one event loop is its limit (about 4 ms of CPU per update); when it is saturated every round trip inside a
unit of work waits for the loop's turn, so units of work hold their connections longer and updates queue for them,
first come first served (SQLAlchemy's asyncio queue). More connections would let more of them wait on that loop at
once (not measured: the machine was never quiet enough that day). **Overload.** An update waits up to
``PG_POOL_TIMEOUT`` seconds (30) for a connection; one that waited longer fails there
(``sqlalchemy.exc.TimeoutError``), answered once as failed and logged once (``handlers.common.remember_user`` for
the first read of an update). A shorter wait does not shed load, it turns slow answers into errors: in alternation
on a saturated machine (``benchmarks/bench_flow.py --db postgres --latency 0``, 1,000 users, load 8-9.5,
2026-12-04), 10 s failed 65-105 updates in each run - people who then try again, into the same queue - and 30 s
failed 0-1; the runs with 10 s answered 15-25% more updates per second, the error messages among them.

A PostgreSQL connection is checked before use only when it sat in the pool for ``IDLE_PING_AFTER`` seconds or
more (``_ping_if_idle``). SQLAlchemy's ``pool_pre_ping`` checks it on every checkout: a round trip and work on both
sides for each unit of work, 9-12% of the bot's throughput on PostgreSQL (``benchmarks/bench_flow.py``), for
connections that under load were in use milliseconds before. A server that went away is still found before a
statement runs, on every connection that waited; one taken back within the second after the server went away
fails its statement instead, and SQLAlchemy then replaces the pool's connections (its "optimistic" handling).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import PoolResetState

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL's pool (see the module notes, "Sizing" and "Overload")
PG_POOL_SIZE = 10
PG_MAX_OVERFLOW = 10
PG_POOL_TIMEOUT = 30.0  # seconds an update waits for a connection before it fails

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}
# What a database URL may name once normalized (``DATABASE_URL`` is checked against it at start-up).
SUPPORTED_DRIVERS = frozenset(_ASYNC_DRIVERS.values())


def normalize_url(url: str | URL) -> URL:
    """Parse ``url`` and pick the async driver when none is given (``sqlite://`` -> ``sqlite+aiosqlite://``,
    ``postgres://`` -> ``postgresql+asyncpg://``); ``sqlalchemy.exc.ArgumentError`` if it is not a URL."""
    parsed = make_url(url)
    if parsed.drivername in _ASYNC_DRIVERS:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[parsed.drivername])
    return parsed


def is_sqlite_memory(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or "mode=memory" in database or url.query.get("mode") == "memory"


def create_engine(url: str | URL, *, echo: bool = False, foreign_keys: bool = True, **kwargs: Any) -> AsyncEngine:
    """An ``AsyncEngine`` for ``url`` (``sqlite+aiosqlite:///path.db`` or ``postgresql+asyncpg://...``).

    ``foreign_keys=False`` turns SQLite's foreign key enforcement off; only migrations want that (batch
    operations copy and drop tables). Extra keyword arguments go to ``create_async_engine``.
    """
    parsed = normalize_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not is_sqlite_memory(parsed) and not (parsed.database or "").startswith("file:"):
            Path(parsed.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        # a connection given back after a commit has nothing to roll back: ``_configure_sqlite`` rolls back only
        # what is still open (the pool's default rolls back every time: a call to aiosqlite's thread)
        kwargs.setdefault("pool_reset_on_return", None)
        if not is_sqlite_memory(parsed) and "poolclass" not in kwargs:
            # Every transaction holds the write lock, so a second connection in this process could only wait
            # for it - polling in the busy handler. One pooled connection makes local waiters queue on the
            # pool instead (in order, woken at once); other processes still wait through busy_timeout.
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_async_engine(parsed, echo=echo, **kwargs)
        _configure_sqlite(engine.sync_engine, foreign_keys=foreign_keys, wal=not is_sqlite_memory(parsed))
        return engine
    if backend == "postgresql":
        if "poolclass" not in kwargs:  # e.g. NullPool takes none of these
            kwargs.setdefault("pool_size", PG_POOL_SIZE)
            kwargs.setdefault("max_overflow", PG_MAX_OVERFLOW)
            kwargs.setdefault("pool_timeout", PG_POOL_TIMEOUT)
            kwargs.setdefault("pool_recycle", 1800)
        # a reader in autocommit (``reading_engine``) has nothing to roll back when it gives its connection back
        kwargs.setdefault("skip_autocommit_rollback", True)
        engine = create_async_engine(parsed, echo=echo, **kwargs)
        if not kwargs.get("pool_pre_ping"):
            _ping_if_idle(engine.sync_engine, IDLE_PING_AFTER)
        return engine
    raise ValueError(f"unsupported database {parsed.drivername!r}: use sqlite+aiosqlite or postgresql+asyncpg")


IDLE_PING_AFTER = 1.0  # seconds in the pool after which a PostgreSQL connection is checked before use
_RETURNED_AT = "mentor_desk_returned_at"  # in a connection's ``info``: when it last went back to the pool


def _ping_if_idle(engine: Engine, idle_after: float) -> None:
    """Ping a pooled connection on checkout if it was idle ``idle_after`` seconds or more (see the module notes).

    A failed ping raises ``InvalidatePoolError``: SQLAlchemy then replaces this connection and every older one,
    and retries the checkout, as ``pool_pre_ping`` does. A new connection is not pinged.
    """

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned < idle_after:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.InvalidatePoolError(f"ping after {idle_after:g} s idle failed: {error!r}") from error


READ_POOL_SIZE = 4


def create_read_engine(url: str | URL) -> AsyncEngine | None:
    """For a SQLite file: an engine of read-only connections (see the module notes). None otherwise: PostgreSQL's
    pool already runs transactions side by side, and an in-memory database has one connection.

    Its connections run in SQLite's autocommit mode (SQLAlchemy's ``AUTOCOMMIT`` isolation level): no BEGIN and
    no ROLLBACK around a unit of work (``skip_autocommit_rollback``), each statement reads the latest committed
    state, as a PostgreSQL reader does (``reading_engine``). Each round trip to aiosqlite's thread is one the
    reader no longer makes."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite" or is_sqlite_memory(parsed):
        return None
    engine = create_async_engine(
        parsed,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=READ_POOL_SIZE,
        max_overflow=0,
        pool_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
        isolation_level="AUTOCOMMIT",
        skip_autocommit_rollback=True,
    )

    _record_sqlite3(engine.sync_engine)

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA query_only=ON")  # a write through a reader is a bug: fail loudly
        finally:
            cursor.close()

    return engine


def reading_engine(engine: AsyncEngine, read_engine: AsyncEngine | None = None) -> AsyncEngine:
    """Where read-only units of work run: SQLite's ``read_engine`` when there is one; on PostgreSQL, ``engine``'s
    own pool in autocommit. PostgreSQL's default isolation, READ COMMITTED, gives every statement its own
    snapshot inside a transaction too, so a read-only unit of work loses nothing without one, and saves the
    round trips for BEGIN and ROLLBACK (and the pool's pre-ping shrinks from three round trips to one)."""
    if read_engine is not None:
        return read_engine
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


_SQLITE3 = "mentor_desk_sqlite3"  # in a connection's ``info``: its ``sqlite3.Connection``


def sqlite3_connection(info: Mapping[str, Any]) -> sqlite3.Connection | None:
    """The ``sqlite3.Connection`` of a pooled SQLite connection, from its ``info`` (``PoolProxiedConnection.info``,
    which lives as long as that driver connection); None for an engine not made by ``create_engine``."""
    return info.get(_SQLITE3)


def _record_sqlite3(engine: Engine) -> None:
    """Each new connection of ``engine`` records its ``sqlite3.Connection`` (``sqlite3_connection``)."""

    @event.listens_for(engine, "do_connect")
    def remember_sqlite3(dialect: Any, connection_record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        # aiosqlite passes its keyword arguments on to ``sqlite3.connect``; the connection made (on aiosqlite's
        # thread) records itself in the pool's record of it, which SQLAlchemy clears when it replaces it
        info = connection_record.info
        base = cparams.get("factory", sqlite3.Connection)

        class Recorded(base):  # type: ignore[valid-type,misc]  # sqlite3's documented ``factory``: a subclass
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                info[_SQLITE3] = self

        cparams["factory"] = Recorded
        cparams["check_same_thread"] = False  # used by the thread that holds the connection (``storage.db``)


def _configure_sqlite(engine: Engine, *, foreign_keys: bool, wal: bool) -> None:
    _record_sqlite3(engine)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Stop the driver from emitting BEGIN (and COMMIT before DDL) by itself; "begin" below does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")  # first: the next ones may wait
            if wal:
                _switch_to_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()

    @event.listens_for(engine, "reset")
    def on_reset(dbapi_connection: Any, connection_record: Any, reset_state: PoolResetState) -> None:
        # The pool's reset (``pool_reset_on_return=None``, see ``create_engine``): a transaction SQLAlchemy ended
        # itself needs nothing more; otherwise roll back if the connection is still in one (aiosqlite reads
        # ``in_transaction`` from the sqlite3 connection without a call to its thread).
        if reset_state.transaction_was_reset or not reset_state.asyncio_safe:
            return
        if connection_record.driver_connection.in_transaction:
            dbapi_connection.rollback()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # storage.db may have begun already, on the sqlite3 connection (``storage.db._begin_at_once``)
        if not connection.connection.driver_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _switch_to_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode=WAL``, waiting like ``busy_timeout`` would. Switching needs the database to itself,
    and SQLite answers "database is locked" at once instead of waiting - seen when several processes open a new
    database at the same moment (``tests/storage/test_migrations.py``). Once the file is in WAL mode the pragma
    changes nothing and never waits."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as error:  # the driver's OperationalError, as adapted by SQLAlchemy
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)  # blocks the loop briefly; only while a brand-new database is being created
