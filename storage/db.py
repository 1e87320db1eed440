"""A unit of work's access to the database: one SQLAlchemy ``AsyncConnection``, Core statements, one transaction
at a time.

The repositories (``storage.repositories``, ``storage.outbox``) run Core statements through a ``Db``; the unit of
work (``storage.uow``) owns it and ends its transactions. The connection is taken from the engine's pool at the
first statement, not before, so a unit of work that reads nothing holds no connection; the transaction begins
with that statement too (SQLAlchemy's autobegin; on SQLite the writer's ``BEGIN IMMEDIATE``, see
``storage.engine``). Rows come back buffered: a result is complete when the statement returns.

**SQLite runs on its own thread** (``SqliteDb``). aiosqlite runs each call on the connection's thread and hands
the result back through the event loop that awaits it, and SQLAlchemy's adapter makes four such calls for one
``SELECT`` (cursor, execute, fetch, close). Awaited on the bot's event loop, each of them waits for that loop's
turn: under load, a few milliseconds per statement, and a write transaction holds SQLite's one write lock (and the
writer's pool of one connection) for all of them. So every SQLite engine's connections live on one extra thread
with an event loop of its own (``_SqliteThread``), where those hand-offs take microseconds, and a unit of work
waits for what it runs there (a checkout, a statement through SQLAlchemy, its commit; the statements every update
runs take no trip at all, see below): it blocks the bot's loop for the call's own time, as an embedded database
does, instead of yielding to it between the hand-offs (the bot's thread blocks on a plain lock that the task's
done-callback releases: every statement is such a trip, and a ``concurrent.futures.Future`` costs more). What may
wait for long is awaited instead, so the loop goes on meanwhile: a free connection (an ``asyncio`` semaphore per
pool: a unit of work holding a connection across other awaits makes the next one wait its turn), and the write
lock when another process holds it (``BEGIN IMMEDIATE`` is tried without waiting first; only if another process
has the lock is it awaited with SQLite's busy timeout). A write transaction therefore holds the lock for its own
work only.

**SQLite's prepared statements run in one call** (``_OneCall``). Through SQLAlchemy's adapter a ``SELECT`` takes
four calls to aiosqlite's thread, each a wake-up of two threads, and a pass through SQLAlchemy's execution
context: about 250 us of CPU for one row, against 40 us for one call with the same SQL. A ``SELECT`` that a unit of
work runs again and again - the statements built once at import, which every update uses - is therefore compiled
once by SQLAlchemy (``compile``, ``construct_params``, ``construct_expanded_state`` for a constant ``IN`` list) and
then run in one ``execute`` and ``fetchall`` on the unit of work's own connection (inside its transaction, if
any), its parameters and columns converted by their types' own ``bind_processor`` and ``result_processor``: the
rows come back as SQLAlchemy's would, with the names SQLAlchemy gave them the first time it ran the statement.
**Writes** (an ``INSERT``, ``UPDATE`` or ``DELETE`` whose columns need no default computed per execution, with one
set of parameters it names) run the same way: through ``Db.write`` when nobody reads the result, through
``scalar``/``first``/``rows`` when they read its ``RETURNING`` (named, like a ``SELECT``'s columns, by its first
run through SQLAlchemy). A list of parameter sets runs each set in one call (``write``); ``rowcount`` reads
SQLite's ``changes()`` right after the write; a list given with each run (``IN``, ``NOT IN``) is expanded for that
run by the compiled statement (``construct_expanded_state``). Statements built per call and anything else the fast
way does not cover (execution options, defaults computed per execution) go through SQLAlchemy as before, and are
tried for the fast way only once; so does a statement whose fast run fails (SQLite undoes a failed statement, not
its transaction), so that errors are raised as SQLAlchemy raises them.

**On the connection's sqlite3 connection, without a trip** (``SqliteDb._direct``). That one call runs on the
``sqlite3.Connection`` that aiosqlite opened for the pooled connection (``storage.engine`` has each record itself:
``sqlite3.connect``'s ``factory``, SQLAlchemy's ``do_connect`` event, ``check_same_thread=False``), from the thread
of the unit of work that holds the connection - once it holds it, and a writer's transaction has begun. Nothing
then waits for another process (a reader in WAL mode never does; a writer holds the write lock), so the bot's
thread is blocked for the statement's own time, as it was before while the statement ran on aiosqlite's thread -
minus the four thread wake-ups of that trip (bot -> SQLite thread -> aiosqlite's thread and back), which took
230-270 us of wall time per statement under load, 3.8-4 statements per update: the bot's thread waited 1.0 ms per
update for them (measured 2026-12-05 with ``benchmarks/bench_flow.py``, 50 ms latency). The connection is used by
one thread at a time: the unit of work's statements run one after another, and aiosqlite's thread gets it only for
what goes through SQLAlchemy (checkout, ``BEGIN``, the statements not prepared, commit, rollback, give-back), each
awaited or waited for before the next statement.

**A writer's transaction on the sqlite3 connection too.** A writer begins with ``BEGIN IMMEDIATE`` on the sqlite3
connection, SQLite's busy timeout at 0 for that moment (``_begin_at_once``); if another process holds the write
lock, it waits on the SQLite thread instead (SQLAlchemy's begin, with the busy timeout), awaited. When every
statement of the unit of work was prepared, SQLAlchemy never learns of the transaction, and the commit (or
rollback) is the sqlite3 connection's too, here: the connection then is in no transaction and is kept for the next
unit of work like a reader's. A statement through SQLAlchemy begins SQLAlchemy's transaction on the connection
already in one (the engine's "begin" listener emits nothing then), and that transaction ends through SQLAlchemy
(a trip), giving the connection back to the pool. So a step whose statements are all prepared takes no trip at
all, once a connection is kept; before, a writer took two (its first statement with the checkout and the
``BEGIN``, then the commit with the give-back: 530-640 and 420-480 us of wall time under load).

Everything here is SQLAlchemy's, aiosqlite's and sqlite3's public interface: ``AsyncConnection``,
``get_raw_connection`` (its ``info``), the ``do_connect`` event and aiosqlite's keyword arguments to
``sqlite3.connect`` (``storage.engine``), ``sqlite3.Connection.execute`` and ``in_transaction``, compiled
statements (``Compiled.string``, ``positiontup``, ``binds``, ``construct_params``, ``construct_expanded_state``),
types' ``dialect_impl``, ``bind_processor`` and ``result_processor``, ``loop.call_soon_threadsafe``,
``asyncio.run_coroutine_threadsafe``.

**PostgreSQL's prepared statements run in one call too** (``PgDb``), on the bot's loop (asyncpg really awaits the
network): the same ``_OneCall``, run with the asyncpg connection's ``fetch`` (rows) or ``execute`` (a write's
command status, which gives its row count). Through SQLAlchemy a statement cost the bot 167-205 us of CPU,
against 57-61 us for asyncpg's ``fetch`` with the same SQL (measured 2026-12-06 in a loop on one connection); an
update runs about five. What differs from SQLite: the columns' result processors are made from PostgreSQL's
description of the statement (asyncpg's ``prepare`` and ``get_attributes``, once per statement: the type OIDs
SQLAlchemy's adapter reads too; a ``NUMERIC`` column's processor depends on it); a writer's first statement goes
through SQLAlchemy, whose asyncpg adapter begins the transaction with it (one call runs only on the reading
engine, in autocommit, or inside a transaction begun); and PostgreSQL aborts a transaction in which a statement
fails, so a statement the server refused inside one is not run again through SQLAlchemy but raised as SQLAlchemy
raises the driver's error (``_pg_error``). **A reader keeps its connection** for the next reader (the reading
engine is in autocommit: nothing to roll back or reset): a pool checkout and give-back cost 120-155 us of CPU per
unit of work, and an update opens two or three readers. At most half the pool is kept (writers always find
connections there), none idle for longer than the pool's ping age (``storage.engine.IDLE_PING_AFTER``: it then
goes back, and the pool's checkout pings it) or held for more than ``PG_KEEP_FOR``; disposing of the engine
closes them (``_close_kept``). The interfaces used: ``PoolProxiedConnection.driver_connection``,
asyncpg's ``fetch``, ``execute``, ``prepare``, ``get_attributes``, ``is_in_transaction`` and exception classes,
the dialect's DBAPI module (``loaded_dbapi``) and ``DBAPIError.instance``.
"""

from __future__ import annotations

import asyncio
import functools
import keyword
import logging
import sqlite3
import threading
import time
import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    CompoundSelect,
    CursorResult,
    Delete,
    Dialect,
    Executable,
    Insert,
    Row,
    Select,
    Update,
    event,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import Pool, QueuePool

from storage.engine import IDLE_PING_AFTER, SQLITE_BUSY_TIMEOUT_MS, sqlite3_connection

T = TypeVar("T")
Work = Callable[[AsyncConnection], Coroutine[Any, Any, T]]
AnyRow = Row[*tuple[Any, ...]]  # a row of any number of columns of any types
Parameters = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None  # a write's: one set, or one set per run


class Db:
    """One unit of work's connection (see the module notes). Not for concurrent use: one task at a time."""

    __slots__ = ("_connection", "dialect", "engine")

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect: str = engine.dialect.name  # "sqlite" or "postgresql"
        self._connection: AsyncConnection | None = None

    async def connection(self) -> AsyncConnection:
        """The connection, checked out of the pool on first use."""
        if self._connection is None:
            connection = self.engine.connect()
            await connection.start()
            self._connection = connection
        return self._connection

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        """Run ``statement`` (a list of parameter sets: once per set, as one ``executemany``)."""
        connection = await self.connection()
        return await connection.execute(statement, parameters)

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> CursorResult[Any]:
        """Run SQL text in the driver's own parameter style (tools: ``benchmarks.explain_hot``)."""
        connection = await self.connection()
        return await connection.exec_driver_sql(statement, parameters)

    async def rows(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> Sequence[AnyRow]:
        return (await self.execute(statement, parameters)).all()

    async def first(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> AnyRow | None:
        return (await self.execute(statement, parameters)).first()

    async def one(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> AnyRow:
        """The statement's one row (an aggregate's, say); an error if it returns none or more."""
        return (await self.execute(statement, parameters)).one()

    async def scalar(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> Any:
        return (await self.execute(statement, parameters)).scalar()

    async def write(self, statement: Executable, parameters: Parameters = None) -> None:
        """Run an ``INSERT``, ``UPDATE`` or ``DELETE`` whose result nobody reads; a list of parameter sets runs it
        once per set (on SQLite in one call each, see ``SqliteDb.write``)."""
        await self.execute(statement, parameters)

    async def rowcount(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> int:
        """Run a DML statement; how many rows it matched."""
        return (await self.execute(statement, parameters)).rowcount

    async def begin(self) -> None:
        """Begin the transaction now, if none is open (SQLite's writer: takes the write lock)."""
        connection = await self.connection()
        if not connection.in_transaction():
            await connection.begin()

    def in_transaction(self) -> bool:
        return self._connection is not None and self._connection.in_transaction()

    async def commit(self) -> None:
        if self.in_transaction():
            assert self._connection is not None
            await self._connection.commit()

    async def rollback(self) -> None:
        if self.in_transaction():
            assert self._connection is not None
            await self._connection.rollback()

    async def close(self) -> None:
        """Roll back what was not committed and give the connection back to the pool."""
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()


class _OneCallDb(Db):
    """What ``SqliteDb`` and ``PgDb`` share: a unit of work's rows come from ``_select``, which runs a known
    statement in one call on the driver's connection (each its own way) or else through SQLAlchemy
    (``_through_sqlalchemy``, which names a prepared statement's columns for the next time)."""

    __slots__ = ()

    async def rows(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> Sequence[AnyRow]:
        return await self._select(statement, parameters)

    async def first(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> AnyRow | None:
        found = await self._select(statement, parameters)
        return found[0] if found else None

    async def scalar(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> Any:
        found = await self._select(statement, parameters)
        return found[0][0] if found else None

    async def _select(self, statement: Executable, parameters: Mapping[str, Any] | None) -> Sequence[Any]:
        raise NotImplementedError

    async def _through_sqlalchemy(
        self, statement: Executable, parameters: Mapping[str, Any] | None, prepared: _OneCall | None
    ) -> Sequence[Any]:
        result = await self.execute(statement, parameters)
        if prepared is not None and prepared.keys is None:
            prepared.learn(list(result.keys()))
        return result.all()


class PgDb(_OneCallDb):
    """``Db`` for PostgreSQL: the statements compiled once (``_OneCall``) run on the connection's asyncpg
    connection, in one ``fetch`` or ``execute`` (see the module notes), when nothing of SQLAlchemy's transaction
    handling is needed for them: on the reading engine (``autocommit``: no transaction at all), or once the
    writer's transaction has begun - its first statement goes through SQLAlchemy, whose asyncpg adapter begins
    the transaction then, and commits and rolls it back as ever.

    A statement that fails in one call runs again through SQLAlchemy, which raises its error as SQLAlchemy's (or
    works there: a connection lost, say, is then handled by SQLAlchemy's pool), unless it failed on the server
    inside a transaction: PostgreSQL has then aborted the transaction, so running it again would only report
    that. Its error is then raised as SQLAlchemy raises the driver's (``_pg_error``)."""

    __slots__ = ("_autocommit", "_driver", "_since")

    def __init__(self, engine: AsyncEngine, *, autocommit: bool) -> None:
        super().__init__(engine)
        self._autocommit = autocommit
        self._driver: Any = None  # the asyncpg connection of this unit of work's connection, learnt with it
        self._since = 0.0  # when the connection was checked out of the pool (``time.monotonic``)

    async def connection(self) -> AsyncConnection:
        if self._connection is None and not (self._autocommit and await self._take_kept()):
            connection = self.engine.connect()
            await connection.start()
            try:
                self._driver = (await connection.get_raw_connection()).driver_connection
            except BaseException:
                await connection.close()
                raise
            self._since = _now()
            self._connection = connection
        assert self._connection is not None
        return self._connection

    async def _take_kept(self) -> bool:
        """A reader's connection kept by an earlier reader (``close``), if one is fresh: True. Those that are not
        go back to the pool, whose checkout pings a connection idle for a while (``storage.engine``)."""
        pool = self.engine.sync_engine.pool
        kept = _pg_kept.get(pool)
        if not kept:
            return False
        connections, now = kept[1], _now()
        while connections and now - connections[0][2] >= IDLE_PING_AFTER:  # the one kept first, idle too long
            await connections.pop(0)[0].close()
        while connections:
            connection, driver, _kept_at, since = connections.pop()  # the one kept last
            if now - since < PG_KEEP_FOR and not driver.is_closed():
                self._connection, self._driver, self._since = connection, driver, since
                return True
            await connection.close()
        return False

    async def close(self) -> None:
        """Give the connection back to the pool; a reader's (autocommit: nothing to roll back or reset) is kept
        for the next reader instead, up to ``_keep_at_most`` of them per pool, while it is fresh."""
        connection, self._connection = self._connection, None
        driver, self._driver = self._driver, None
        if connection is None:
            return
        if self._keepable(connection, driver):
            if connection.in_transaction():  # begun by a statement through SQLAlchemy: its bookkeeping only
                await connection.rollback()
            pool = self.engine.sync_engine.pool
            kept = _pg_kept.setdefault(pool, (self.engine.sync_engine, []))[1]
            if len(kept) < _keep_at_most(pool):
                kept.append((connection, driver, _now(), self._since))
                return
        await connection.close()

    def _keepable(self, connection: AsyncConnection, driver: Any) -> bool:
        """A reader's connection that works, in no transaction, checked out less than ``PG_KEEP_FOR`` ago."""
        if not self._autocommit or connection.invalidated or driver.is_closed():
            return False
        return not driver.is_in_transaction() and _now() - self._since < PG_KEEP_FOR

    async def _ready(self) -> Any:
        """The asyncpg connection when a prepared statement may run on it now, else None (see the class notes)."""
        await self.connection()
        driver = self._driver
        if self._autocommit or driver.is_in_transaction():
            return driver
        return None

    async def _select(self, statement: Executable, parameters: Mapping[str, Any] | None) -> Sequence[Any]:
        """The rows of ``statement``: in one ``fetch`` when it is a known ``SELECT`` (or a known write read
        through its ``RETURNING``) and the connection allows it, else through SQLAlchemy (which also names the
        columns for the next time)."""
        prepared = _OneCall.known(statement, self.engine.dialect)
        if prepared is not None and prepared.keys is not None and prepared.reads(parameters):
            driver = await self._ready()
            made = _pg_arguments(prepared, parameters) if driver is not None else None
            if made is not None:
                sql, arguments = made
                if prepared.processors is not None or await self._learn_types(driver, prepared, sql):
                    records = await self._one_call(driver, sql, arguments, fetch=True)
                    if records is not None:
                        return prepared.rows(records)
        return await self._through_sqlalchemy(statement, parameters, prepared)

    async def write(self, statement: Executable, parameters: Parameters = None) -> None:
        """One set of parameters (or a list of one) in one ``execute`` when it is a known write; several sets go
        through SQLAlchemy (its ``executemany``: one round trip for them all)."""
        one = parameters
        if isinstance(parameters, Sequence) and len(parameters) == 1:
            one = parameters[0]
        if (one is None or isinstance(one, Mapping)) and await self._write_here(statement, one) is not None:
            return
        await self.execute(statement, parameters)

    async def rowcount(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> int:
        counted = await self._write_here(statement, parameters)
        if counted is not None:
            return counted
        return (await self.execute(statement, parameters)).rowcount

    async def _write_here(self, statement: Executable, parameters: Mapping[str, Any] | None) -> int | None:
        """How many rows a known write changed, run in one ``execute``; None when it did not run that way."""
        prepared = _OneCall.known(statement, self.engine.dialect)
        if prepared is None or not prepared.writes or not prepared.takes(parameters):
            return None
        driver = await self._ready()
        made = _pg_arguments(prepared, parameters) if driver is not None else None
        if made is None:
            return None
        sql, arguments = made
        status = await self._one_call(driver, sql, arguments, fetch=False)
        if status is None:
            return None
        last = status.rpartition(" ")[2]  # "UPDATE 3", "DELETE 0", "INSERT 0 1": the rows, last
        return int(last) if last.isdigit() else -1

    async def _learn_types(self, driver: Any, prepared: _OneCall, sql: str) -> bool:
        """The statement's result processors, from its columns' types as PostgreSQL describes them (asyncpg's
        ``prepare`` and ``get_attributes``, what SQLAlchemy's adapter reads too), once: False when they cannot be
        made, or the description failed where running the statement through SQLAlchemy is still possible."""
        try:
            attributes = (await driver.prepare(sql)).get_attributes()
        except Exception as error:
            if self._autocommit or not _pg_server_error(error):
                log.debug("describing a statement failed; through SQLAlchemy", exc_info=True)
                return False
            raise _pg_error(error, sql, (), self.engine.dialect) from error
        return prepared.learn_types([attribute.type.oid for attribute in attributes])

    async def _one_call(self, driver: Any, sql: str, arguments: tuple[Any, ...], *, fetch: bool) -> Any:
        """``fetch`` (the records) or ``execute`` (the status) on the asyncpg connection; None when the caller is
        to run the statement through SQLAlchemy instead (see the class notes)."""
        for listener in _select_listeners.get(self.engine.sync_engine, ()):
            listener(sql, arguments)
        try:
            if fetch:
                return await driver.fetch(sql, *arguments)
            return await driver.execute(sql, *arguments)
        except Exception as error:
            if self._autocommit or not _pg_server_error(error):
                log.debug("a statement in one call failed; through SQLAlchemy", exc_info=True)
                return None
            raise _pg_error(error, sql, arguments, self.engine.dialect) from error


# Readers' connections kept between units of work (``PgDb.close``), per pool: the engine they came from (its pool
# is another one once it is disposed: ``_close_kept``) and (connection, asyncpg connection, when kept, when checked
# out of the pool). A kept connection is not the pool's to give: at most ``_keep_at_most`` are kept, so that the
# writers' units of work always find connections there.
_pg_kept: weakref.WeakKeyDictionary[Pool, tuple[Any, list[tuple[AsyncConnection, Any, float, float]]]] = (
    weakref.WeakKeyDictionary()
)
PG_KEEP_FOR = 600.0  # seconds a reader's connection is kept at most before it goes back to the pool (recycling)
_now = time.monotonic  # the kept connections' clock (tests move it)


def _keep_at_most(pool: Pool) -> int:
    return pool.size() // 2 if isinstance(pool, QueuePool) else 0


@event.listens_for(Engine, "engine_disposed")
def _close_kept(engine: Engine) -> None:
    """An engine disposed of its pool: the readers' connections kept from it go back to it and are closed with
    what it holds (inside ``AsyncEngine.dispose``, which runs this where SQLAlchemy may await the driver)."""
    for pool, (source, kept) in list(_pg_kept.items()):
        if source.pool is not pool:  # the pool its engine had, replaced by this dispose
            del _pg_kept[pool]
            for connection, _driver, _kept_at, _since in kept:
                try:
                    connection.sync_connection.close()  # type: ignore[union-attr]  # started: it has one
                except Exception:  # closing what is thrown away: log, and close the others
                    log.exception("closing a kept PostgreSQL connection failed")
            pool.dispose()


def _pg_arguments(prepared: _OneCall, parameters: Mapping[str, Any] | None) -> tuple[str, tuple[Any, ...]] | None:
    """The statement's SQL and arguments, or None when its parameters cannot be converted (nothing was sent:
    SQLAlchemy then raises its error for them)."""
    try:
        return prepared.arguments(parameters)
    except Exception:
        log.debug("a statement's parameters for one call failed; through SQLAlchemy", exc_info=True)
        return None


def _pg_server_error(error: Exception) -> bool:
    """Whether PostgreSQL itself refused the statement (it then aborts the transaction it ran in), rather than
    asyncpg before sending it (an argument it cannot encode) or the connection."""
    import asyncpg  # PostgreSQL's driver: imported where PostgreSQL is used

    return isinstance(error, asyncpg.PostgresError)


def _pg_error(error: Exception, sql: str, arguments: tuple[Any, ...], dialect: Dialect) -> DBAPIError:
    """asyncpg's ``error`` as SQLAlchemy raises it: the driver's error adapted to the DBAPI's classes (a
    constraint violated: ``IntegrityError``; a statement PostgreSQL does not accept: ``ProgrammingError``; else
    its ``Error``), wrapped in SQLAlchemy's exception of that class."""
    dbapi = dialect.loaded_dbapi
    name = next(_PG_ERRORS[kind.__name__] for kind in type(error).__mro__ if kind.__name__ in _PG_ERRORS)
    adapted = getattr(dbapi, name)(error.args[0] if error.args else str(error), error)
    return DBAPIError.instance(sql, arguments, adapted, dbapi.Error, dialect=dialect)


# asyncpg's server errors -> the DBAPI error class SQLAlchemy's asyncpg adapter raises for each (the nearest in
# the error's class hierarchy; its module's public exception classes, PEP 249's and the adapter's own)
_PG_ERRORS = {
    "UniqueViolationError": "UniqueViolationError",
    "ForeignKeyViolationError": "ForeignKeyViolationError",
    "NotNullViolationError": "NotNullViolationError",
    "CheckViolationError": "CheckViolationError",
    "ExclusionViolationError": "ExclusionViolationError",
    "RestrictViolationError": "RestrictViolationError",
    "IntegrityConstraintViolationError": "IntegrityError",
    "SyntaxOrAccessError": "ProgrammingError",
    "InvalidCachedStatementError": "InvalidCachedStatementError",
    "InternalServerError": "InternalServerError",
    "PostgresError": "Error",
}


class _SqliteThread:
    """The thread every SQLite connection of this process lives on, with its event loop (see the module notes)."""

    _lock = threading.Lock()
    _loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def loop(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None:
                loop = _new_loop()
                threading.Thread(target=loop.run_forever, name="sqlite", daemon=True).start()
                cls._loop = loop
            return cls._loop

    @classmethod
    def wait(cls, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` there and block until it is done: for what takes the statement's own time.

        The hand-off is a lock, not a ``concurrent.futures.Future``: the calling thread blocks on a lock the
        task's done-callback releases, and reads the finished task's result (``asyncio.run_coroutine_threadsafe``
        would build a future with a condition variable and chain it to the task; every statement is a trip:
        measured, a read unit of work of five ``SELECT``s took 0.95 ms of CPU that way and 0.46 ms this way)."""
        done = threading.Lock()
        done.acquire()
        finished: list[asyncio.Task[T]] = []
        cls.loop().call_soon_threadsafe(_start, work, finished, done)
        done.acquire()  # released by the task's done-callback on the SQLite thread
        return finished[0].result()

    @classmethod
    def post(cls, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` there without waiting for it (errors are logged)."""
        cls.loop().call_soon_threadsafe(_start_posted, work)

    @classmethod
    async def await_(cls, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` there and await it: for what may wait for long (the write lock of another process)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, cls.loop()))


def _start(work: Coroutine[Any, Any, T], finished: list[asyncio.Task[T]], done: threading.Lock) -> None:
    """On the SQLite thread: run ``work`` as a task; when it ends, hand it over and release the waiting caller."""

    def hand_over(task: asyncio.Task[T]) -> None:
        finished.append(task)
        done.release()

    asyncio.get_running_loop().create_task(work).add_done_callback(hand_over)


def _start_posted(work: Coroutine[Any, Any, Any]) -> None:
    asyncio.get_running_loop().create_task(work).add_done_callback(_log_failure)


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop where it is installed: each aiosqlite hand-off wakes this loop, and uvloop does that,
    and runs the callback, in C (a statement costs about a third less CPU than on asyncio's own loop)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - not on every platform (pyproject.toml)
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


log = logging.getLogger(__name__)


def _log_failure(done: Any) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.error("giving a SQLite connection back failed", exc_info=done.exception())


# A connection for each unit of work that holds one, per pool: awaited on the bot's loop, so that checking one
# out on the SQLite thread never waits (which would block the loop while the holders could not go on).
_turns: weakref.WeakKeyDictionary[Pool, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _turn(engine: AsyncEngine, pool: Pool) -> asyncio.Semaphore:
    """The pool's semaphore; the first time, ``_close_idle`` is told when ``engine`` disposes of ``pool``."""
    turn = _turns.get(pool)
    if turn is None:
        assert isinstance(pool, QueuePool)
        turn = _turns[pool] = asyncio.Semaphore(pool.size())
        event.listen(engine.sync_engine, "engine_disposed", functools.partial(_close_idle, pool))
    return turn


def _locked(error: OperationalError) -> bool:
    return "locked" in str(error.orig)


class SqliteDb(_OneCallDb):
    """``Db`` for a SQLite file: the connection lives on ``_SqliteThread`` (see the module notes).

    ``writes``: this unit of work's connection begins ``BEGIN IMMEDIATE`` transactions (the writer engine), so
    beginning may wait for another process; without it (the read engine, in autocommit) nothing ever waits.
    The first statement takes a connection: one an earlier unit of work kept (``_idle``), or one checked out of
    the pool in a trip to the SQLite thread (beginning there too). Prepared statements then run here
    (``_direct``); a writer begins, commits and rolls back here too (``_open``, ``_end_here``) unless a statement
    went through SQLAlchemy, whose transaction then ends in a trip, giving the connection back to the pool.
    Otherwise the connection is kept for the next unit of work.
    """

    __slots__ = ("_patience_ms", "_pool", "_raw", "_turn", "_waited", "_writes")

    def __init__(self, engine: AsyncEngine, *, writes: bool, patience_ms: int) -> None:
        super().__init__(engine)
        self._writes = writes
        self._patience_ms = patience_ms
        self._turn: asyncio.Semaphore | None = None
        self._raw: sqlite3.Connection | None = None  # the connection's sqlite3 connection, learnt with it
        self._pool: Pool | None = None  # the pool its connection came from (``_idle``, ``_give_back_later``)
        # it awaited the SQLite thread (another process's write lock): if that await was cancelled, the BEGIN may
        # still be under way there, so the connection goes back through that thread, in order, never kept
        self._waited = False

    async def _run(self, work: Work[T]) -> T:
        """``await work(connection)`` on the SQLite thread, the connection taken (and, for a writer, its
        transaction begun) first if this unit of work holds none."""
        if self._connection is None and not await self._take_kept():
            return await self._run_first(work)
        connection = self._connection
        assert connection is not None
        if self._writes:
            await self._open()
        return _SqliteThread.wait(work(connection))

    async def _take_kept(self) -> bool:
        """Take this unit of work's turn for a connection (awaited here, so that checking one out on the SQLite
        thread never waits), then a connection an earlier unit of work kept, if any: True (no trip)."""
        pool = self.engine.sync_engine.pool
        turn = _turn(self.engine, pool)
        await turn.acquire()
        self._turn = turn
        self._pool = pool
        idle = _idle.get(pool)
        if idle:
            self._connection, self._raw = idle.pop()
            return True
        return False

    async def _run_first(self, work: Work[T]) -> T:
        """The turn taken, no connection kept for it: check one out, begin and ``work``, in one trip."""
        turn = self._turn
        assert turn is not None
        try:
            connection, begun, result = _SqliteThread.wait(
                _first(self.engine, self._writes, self._patience_ms, work, self._learn_raw)
            )
        except BaseException:
            self._turn = None
            turn.release()
            raise
        self._connection = connection
        if begun:
            return result  # type: ignore[return-value]  # begun: ``work`` ran, and this is its T
        return await self._run(work)  # another process holds the write lock: ``_open`` waits for it

    async def _open(self) -> None:
        """A writer's transaction, begun if it is not: ``BEGIN IMMEDIATE`` here on the sqlite3 connection when no
        other process holds the write lock (no trip); if one does, awaited with the connection's patience on the
        SQLite thread (SQLAlchemy's begin, whose listener emits it there with the busy timeout)."""
        raw, connection = self._raw, self._connection
        assert raw is not None and connection is not None
        if not raw.in_transaction and not _begin_at_once(raw, self._patience_ms, self.engine):
            self._waited = True
            await _SqliteThread.await_(_begin(connection))

    def in_transaction(self) -> bool:
        """Begun by SQLAlchemy, or on the sqlite3 connection only (``_open``)."""
        raw = self._raw
        return self._connection is not None and raw is not None and raw.in_transaction

    async def connection(self) -> AsyncConnection:
        if self._connection is None:
            await self._run(_nothing)
        assert self._connection is not None
        return self._connection

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        async def work(connection: AsyncConnection) -> CursorResult[Any]:
            return await connection.execute(statement, parameters)

        return await self._run(work)

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> CursorResult[Any]:
        async def work(connection: AsyncConnection) -> CursorResult[Any]:
            return await connection.exec_driver_sql(statement, parameters)

        return await self._run(work)

    async def _select(self, statement: Executable, parameters: Mapping[str, Any] | None) -> Sequence[Any]:
        """The rows of ``statement``: in one call (``_direct``) when it is a known ``SELECT``, or a known
        write with ``RETURNING`` (see the module notes), else through SQLAlchemy (which also names the columns for
        the next time). A write that fails in one call changed nothing and runs again through SQLAlchemy (as in
        ``write``); once it ran, its rows are made here, never by running it again."""
        prepared = _OneCall.known(statement, self.engine.dialect)
        if prepared is not None and prepared.keys is not None and prepared.reads(parameters):
            try:
                raw = await self._in_one_call(prepared, parameters)
            except Exception:  # as SQLAlchemy would raise it (or it works there): the same rows or the same error
                log.debug("a statement in one call failed; through SQLAlchemy", exc_info=True)
            else:
                return prepared.rows(raw)
        return await self._through_sqlalchemy(statement, parameters, prepared)

    async def write(self, statement: Executable, parameters: Parameters = None) -> None:
        """In one call per parameter set when it is a known write (see the module notes; ``_direct``), else
        through SQLAlchemy. A write that fails in one call changed
        nothing (SQLite undoes a failed statement, not its transaction): it and the sets after it run again
        through SQLAlchemy, which raises its error as SQLAlchemy's."""
        sets: list[Mapping[str, Any] | None] = []
        many = parameters is not None and not isinstance(parameters, Mapping)
        if parameters is None or isinstance(parameters, Mapping):
            sets.append(parameters)
        else:
            sets.extend(parameters)
        prepared = _OneCall.known(statement, self.engine.dialect)
        done = 0
        if sets and prepared is not None and prepared.writes and all(prepared.takes(one) for one in sets):
            done = await self._direct(lambda raw: self._write_sets(raw, prepared, sets))
        if done < len(sets):
            await self.execute(statement, sets[done:] if many else parameters)

    async def rowcount(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> int:
        """In one call when it is a known write, with SQLite's ``changes()`` read right after it on the same
        connection (what SQLAlchemy's ``rowcount`` reads there too); else, or if it fails there, SQLAlchemy's."""
        prepared = _OneCall.known(statement, self.engine.dialect)
        if prepared is not None and prepared.writes and prepared.takes(parameters):
            counted = await self._direct(lambda raw: self._write_counted(raw, prepared, parameters))
            if counted is not None:
                return counted
        return (await self.execute(statement, parameters)).rowcount

    async def _direct(self, run: Callable[[sqlite3.Connection], T]) -> T:
        """``run(sqlite3 connection)`` for one or more prepared statements: on this thread, without a trip, when
        this unit of work holds a connection (a reader: one kept by an earlier unit of work, taken now) whose
        sqlite3 connection it knows, and a writer's transaction has begun - then nothing waits for another
        process, and the statements take their own time only, as before on aiosqlite's thread while this one
        waited; else in the trip that takes the connection (or begins), on the SQLite thread."""
        if self._connection is None and not await self._take_kept():
            return await self._run_first(functools.partial(self._on_raw, run))
        if self._writes:
            await self._open()
        assert self._raw is not None
        return run(self._raw)

    def _learn_raw(self, raw: sqlite3.Connection) -> None:
        self._raw = raw

    async def _on_raw(self, run: Callable[[sqlite3.Connection], T], connection: AsyncConnection) -> T:
        """On the SQLite thread, in the trip that checks the connection out (``_first``, which learnt its sqlite3
        connection): ``run`` on the connection's sqlite3 connection."""
        assert self._raw is not None
        return run(self._raw)

    def _write_sets(
        self, raw: sqlite3.Connection, prepared: _OneCall, sets: list[Mapping[str, Any] | None]
    ) -> int:
        """How many of ``sets`` ran, one after another, until one failed."""
        for done, one in enumerate(sets):
            try:
                sql, arguments = prepared.arguments(one)
                self._fetch_all(raw, sql, arguments)
            except Exception:
                log.debug("a write in one call failed; through SQLAlchemy", exc_info=True)
                return done
        return len(sets)

    def _write_counted(
        self, raw: sqlite3.Connection, prepared: _OneCall, parameters: Mapping[str, Any] | None
    ) -> int | None:
        """The rows a write changed, or None when it failed (and changed nothing)."""
        if not self._write_sets(raw, prepared, [parameters]):
            return None
        return int(raw.execute("SELECT changes()").fetchone()[0])

    async def _in_one_call(self, prepared: _OneCall, parameters: Mapping[str, Any] | None) -> Any:
        """Run a prepared statement on this unit of work's sqlite3 connection (``_direct``)."""
        sql, arguments = prepared.arguments(parameters)
        return await self._direct(lambda raw: self._fetch_all(raw, sql, arguments))

    def _fetch_all(self, raw: sqlite3.Connection, sql: str, arguments: tuple[Any, ...]) -> list[Any]:
        for listener in _select_listeners.get(self.engine.sync_engine, ()):
            listener(sql, arguments)
        return raw.execute(sql, arguments).fetchall()

    async def begin(self) -> None:
        if self._writes:
            await self._direct(_no_statement)
        else:
            await self._run(_begin)

    async def commit(self) -> None:
        """Commit: here on the sqlite3 connection when only it knows of the transaction (keeping the connection
        for the next unit of work); else SQLAlchemy's commit, giving the connection back, in one trip."""
        if self.in_transaction():
            await self._give_back(commit=True)

    async def rollback(self) -> None:
        if self.in_transaction():
            connection, raw = self._connection, self._raw
            assert connection is not None and raw is not None
            if connection.in_transaction():
                _SqliteThread.wait(connection.rollback())
            else:
                _end_here(raw, self.engine, commit=False)

    async def close(self) -> None:
        """Roll back what was not committed and give the connection back, without waiting for it: the SQLite
        thread runs its calls in order, so the next unit of work's checkout comes after it there."""
        await self._give_back(commit=False)

    async def _give_back(self, *, commit: bool) -> None:
        connection, self._connection = self._connection, None
        raw, self._raw = self._raw, None
        pool, self._pool = self._pool, None
        turn, self._turn = self._turn, None
        waited, self._waited = self._waited, False
        try:
            if connection is None:
                return
            if not waited and raw is not None and raw.in_transaction and not connection.in_transaction():
                # begun here (``_open``) and never seen by SQLAlchemy: ended here too, without a trip
                try:
                    _end_here(raw, self.engine, commit=commit)
                except BaseException:
                    _SqliteThread.post(_discard([connection]))  # in an unknown state: closed for good
                    raise
            elif commit:
                _SqliteThread.wait(_give_back(connection, commit))
                return
            if pool is not None and pool is not self.engine.sync_engine.pool:
                _SqliteThread.post(_discard([connection]))  # the engine was disposed meanwhile: closed for good
            elif pool is not None and raw is not None and not waited and _reusable(connection, raw):
                _keep(pool, connection, raw)  # kept for the next unit of work, no trip
            elif pool is not None:
                _SqliteThread.loop().call_soon_threadsafe(_give_back_later, pool, connection)
        finally:
            if turn is not None:
                turn.release()


# Connections kept checked out between units of work (per pool), with their sqlite3 connections: checking one out
# of SQLAlchemy's pool and giving it back costs a trip to the SQLite thread and SQLAlchemy's pool work there, about
# 0.1 ms of CPU per unit of work, and a connection kept here has nothing to reset in between (a reader:
# autocommit, ``query_only``; a writer's: only when its transaction ended on the sqlite3 connection, which then is
# in none, ``_reusable``). The pool's semaphore (``_turn``) still bounds them to the pool's size, so a checkout
# never waits; and when the engine is disposed, its kept connections are closed (``_close_idle``).
_idle: weakref.WeakKeyDictionary[Pool, list[tuple[AsyncConnection, sqlite3.Connection]]] = (
    weakref.WeakKeyDictionary()
)
# Connections being given back without waiting (``SqliteDb.close``), per pool: tasks on the SQLite thread, seen
# there only. Disposing of the engine waits for its old pool's: a connection checked in to a pool after its
# ``dispose`` would stay open until the garbage collector drops it, and aiosqlite's thread then answers on an
# event loop that may be closed ("Event loop is closed" in that thread).
_returning: weakref.WeakKeyDictionary[Pool, set[asyncio.Task[None]]] = weakref.WeakKeyDictionary()


def _reusable(connection: AsyncConnection, raw: sqlite3.Connection) -> bool:
    return (
        not connection.closed
        and not connection.invalidated
        and not connection.in_transaction()
        and not raw.in_transaction
    )


def _keep(pool: Pool, connection: AsyncConnection, raw: sqlite3.Connection) -> None:
    _idle.setdefault(pool, []).append((connection, raw))


def _give_back_later(pool: Pool, connection: AsyncConnection) -> None:
    """On the SQLite thread: roll back and give ``connection`` back, as a task ``_close_idle`` can wait for."""
    task = asyncio.get_running_loop().create_task(_give_back(connection, False))
    returning = _returning.setdefault(pool, set())
    returning.add(task)
    task.add_done_callback(returning.discard)
    task.add_done_callback(_log_failure)


def _close_idle(pool: Pool, engine: Any) -> None:
    """The engine was disposed: close the connections kept from its old pool (``Engine.dispose`` closes only the
    pool's checked-in ones). Each is invalidated first, which closes the driver's connection (and aiosqlite's
    thread) at once, rather than handed back to the discarded pool. Connections still being given back to it
    (``_give_back_later``) are waited for, then closed with the rest of what the old pool holds."""
    idle = _idle.pop(pool, None) or []
    _SqliteThread.wait(_close_old(pool, [connection for connection, _raw in idle]))
    pool.dispose()  # what was given back to it after the engine's own ``dispose``


async def _close_old(pool: Pool, idle: list[AsyncConnection]) -> None:
    """On the SQLite thread: wait for the connections being given back to ``pool``, and close its kept ones."""
    await asyncio.gather(*_returning.pop(pool, ()), return_exceptions=True)  # failures: logged (``_log_failure``)
    await _discard(idle)


async def _discard(connections: list[AsyncConnection]) -> None:
    for connection in connections:
        try:
            await connection.invalidate()
            await connection.close()
        except Exception:  # closing what is being thrown away: log, and close the others
            log.exception("closing a kept SQLite connection failed")


async def _nothing(connection: AsyncConnection) -> None:
    return None


# Who is told of each statement run in one call, per engine (SQLAlchemy's cursor events do not see those):
# tests and tools that count or explain statements (``listen_to_selects``).
_select_listeners: weakref.WeakKeyDictionary[Any, list[Callable[[str, tuple[Any, ...]], None]]] = (
    weakref.WeakKeyDictionary()
)


_transaction_listeners: weakref.WeakKeyDictionary[Any, list[Callable[[str], None]]] = weakref.WeakKeyDictionary()


def listen_to_transactions(engine: AsyncEngine, listener: Callable[[str], None]) -> None:
    """Call ``listener(sql)`` after each ``BEGIN IMMEDIATE``, ``COMMIT`` and ``ROLLBACK`` that units of work on
    ``engine`` run on the sqlite3 connection (``_begin_at_once``, ``_end_here``): SQLAlchemy's "begin" and "commit"
    events see the transactions SQLAlchemy begins and ends only (tests and tools that count transactions)."""
    _transaction_listeners.setdefault(engine.sync_engine, []).append(listener)


def listen_to_selects(engine: AsyncEngine, listener: Callable[[str, tuple[Any, ...]], None]) -> None:
    """Call ``listener(sql, arguments)`` for every statement that units of work on ``engine`` run in one call on
    the sqlite3 or asyncpg connection - a ``SELECT``, or a write - (on the thread that runs it, before it runs);
    what goes through SQLAlchemy is seen by its ``before_cursor_execute`` event as ever."""
    _select_listeners.setdefault(engine.sync_engine, []).append(listener)


class _OneCall:
    """A ``SELECT`` (or a write, ``writes``) compiled once for a dialect, to run in one call on the connection's
    sqlite3 or asyncpg connection (see the module notes): its SQL, how to make its positional arguments, and how
    to make rows of what comes back.

    ``known`` finds it: a statement is prepared the second time it is seen (statements built per call are never
    seen twice and cost one dictionary entry); a ``SELECT`` runs through SQLAlchemy once more to learn the names of
    its columns (``learn``); from then on in one call."""

    __slots__ = (
        "binds", "compiled", "dialect", "keys", "names", "plan", "processors", "row", "sql", "types", "writes"
    )  # fmt: skip

    # (id of the statement, id of the dialect) -> (the statement, weakly; the dialect; whether ``prepare`` ran;
    # what it made: None when the fast way does not cover the statement)
    _seen: ClassVar[
        OrderedDict[tuple[int, int], tuple[weakref.ref[Executable], Dialect, bool, _OneCall | None]]
    ] = OrderedDict()
    CAPACITY: ClassVar[int] = 1024  # statements remembered (the project builds about 200 at import)

    def __init__(
        self,
        sql: str,
        compiled: Any,
        plan: list[tuple[str | None, Any, Any]],
        types: list[Any],
        *,
        dialect: Dialect,
        binds: dict[str, Any],
        writes: bool = False,
    ):
        self.sql = sql  # "": expanded for each run (a list parameter given with it)
        self.compiled = compiled
        self.dialect = dialect
        self.plan = plan  # per argument: (parameter name, its bind processor, -) or (None, -, constant)
        self.binds = binds  # per parameter: its bind processor or None
        self.types = types  # per column: its SQLAlchemy type
        # per column: its result processor or None. SQLite's driver tells no column types (SQLAlchemy asks with
        # None): made now. PostgreSQL's does, and SQLAlchemy makes them from those (a ``NUMERIC`` column's
        # processor depends on it): made from the statement's first run in one call (``learn_types``).
        self.processors: list[Any] | None = None
        if dialect.name == "sqlite":
            self.processors = [_result_processor(type_, dialect) for type_ in types]
        self.keys: list[str] | None = None
        self.row: Any = None
        self.writes = writes  # an INSERT, UPDATE or DELETE (rows come back only from its ``RETURNING``)
        self.names: frozenset[str] = frozenset(compiled.binds)

    @classmethod
    def known(cls, statement: Executable, dialect: Dialect) -> _OneCall | None:
        if not isinstance(statement, (Select, CompoundSelect, Insert, Update, Delete)):
            return None
        key = (id(statement), id(dialect))
        entry = cls._seen.get(key)
        if entry is None or entry[0]() is not statement:  # first seen (or an id used again after a statement died)
            cls._seen[key] = (weakref.ref(statement), dialect, False, None)
            if len(cls._seen) > cls.CAPACITY:
                cls._seen.popitem(last=False)
            return None
        cls._seen.move_to_end(key)
        reference, _, tried, prepared = entry
        if not tried:  # once: a statement the fast way does not cover is not compiled again at every sighting
            try:
                prepared = cls.prepare(statement, dialect)
            except Exception:  # a type this cannot convert without SQLAlchemy's cursor: SQLAlchemy's way
                log.debug("not prepared for one call: %s", statement, exc_info=True)
            cls._seen[key] = (reference, dialect, True, prepared)
        return prepared

    @classmethod
    def prepare(
        cls, statement: Select[Any] | CompoundSelect[Any] | Insert | Update | Delete, dialect: Dialect
    ) -> _OneCall | None:
        """None for what the fast way does not cover."""
        if statement.get_execution_options():
            return None
        compiled: Any = statement.compile(dialect=dialect)
        binds = compiled.binds
        if compiled.positiontup is None or compiled.escaped_bind_names:
            return None
        writes = isinstance(statement, (Insert, Update, Delete))
        if writes and (compiled.insert_prefetch or compiled.update_prefetch):
            return None  # defaults SQLAlchemy computes per execution: its way
        processors = {name: _bind_processor(bind.type, dialect) for name, bind in binds.items()}
        plan: list[tuple[str | None, Any, Any]] = []
        if any(b.expanding and b.callable is not None for b in binds.values()):
            return None
        if any(b.expanding and b.value is None for b in binds.values()):
            sql, plan = "", []  # a list given with each run: expanded for it (``arguments``)
        elif any(bind.expanding for bind in binds.values()):
            # constant lists (e.g. ``status IN (...)`` of fixed statuses): expanded once, here
            state = compiled.construct_expanded_state({n: None for n, b in binds.items() if not b.expanding})
            expanded = {name: base for base, names in state.parameter_expansion.items() for name in names}
            sql = state.statement
            for name in state.positiontup:
                if name in expanded:
                    process = processors[expanded[name]]
                    value = state.parameters[name]
                    plan.append((None, None, process(value) if process else value))
                else:
                    plan.append((name, processors[name], None))
        else:
            sql = compiled.string
            plan = [(name, processors[name], None) for name in compiled.positiontup]
        if writes:  # the columns of its ``RETURNING``, if any
            returned = compiled.effective_returning or ()
            columns = [c.type for c in returned]
            return cls(sql, compiled, plan, columns, dialect=dialect, binds=processors, writes=True)
        assert isinstance(statement, (Select, CompoundSelect))
        columns = [column.type for column in statement.selected_columns]
        return cls(sql, compiled, plan, columns, dialect=dialect, binds=processors)

    def takes(self, parameters: Any) -> bool:
        """None, or one set of parameters, only ones the statement names (SQLAlchemy would add an ``INSERT``'s
        other columns as values; a list of sets is its ``executemany``)."""
        return parameters is None or (isinstance(parameters, Mapping) and self.names.issuperset(parameters))

    def reads(self, parameters: Any) -> bool:
        """Whether its rows (a ``SELECT``'s, a write's ``RETURNING``) may come in one call with ``parameters``."""
        return not self.writes or self.takes(parameters)

    def learn(self, keys: list[str]) -> None:
        """The columns' names as SQLAlchemy's result gave them: the rows' fields from now on."""
        usable = len(keys) == len(self.types) and len(set(keys)) == len(keys)
        names_ok = all(
            k.isidentifier() and not keyword.iskeyword(k) and not k.startswith("_") and k not in _ROW_NAMES
            for k in keys
        )
        if usable and names_ok:
            self.row = namedtuple("Row", keys)  # type: ignore[misc]  # attribute and index access, as Row's
            self.keys = keys

    def arguments(self, parameters: Mapping[str, Any] | None) -> tuple[str, tuple[Any, ...]]:
        """The SQL to run with ``parameters`` and its positional arguments, converted by their types."""
        if not self.sql:  # a list parameter: SQLAlchemy's own expansion for this run, converted the same way
            state = self.compiled.construct_expanded_state(parameters)
            base = {name: bind for bind, names in state.parameter_expansion.items() for name in names}
            values = state.parameters
            arguments = []
            for name in state.positiontup:
                process = self.binds[base.get(name, name)]
                arguments.append(process(values[name]) if process else values[name])
            return state.statement, tuple(arguments)
        values = self.compiled.construct_params(parameters)
        return self.sql, tuple(
            constant if name is None else (process(values[name]) if process else values[name])
            for name, process, constant in self.plan
        )

    def learn_types(self, type_codes: Sequence[Any]) -> bool:
        """The result processors, made as SQLAlchemy makes them from the driver's column types (PostgreSQL's
        type OIDs of the statement's columns); False if they cannot be (the statement then goes SQLAlchemy's way
        for good: ``keys`` forgotten, and never learnt again)."""
        try:
            if len(type_codes) != len(self.types):
                raise ValueError(f"{len(type_codes)} columns, {len(self.types)} expected")
            dialect = self.dialect
            self.processors = [
                type_.dialect_impl(dialect).result_processor(dialect, code)
                for type_, code in zip(self.types, type_codes, strict=True)
            ]
        except Exception:
            log.debug("no result processors for one call: %s", self.sql, exc_info=True)
            self.keys = None
            self.types = []  # ``learn`` never takes names again: no row has no columns
            return False
        return True

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        make, processors = self.row._make, self.processors
        assert processors is not None
        return [make([p(v) if p else v for p, v in zip(processors, values, strict=True)]) for values in raw]


# names a row's field may not have: ``Row`` has them as methods (SQLAlchemy's own rows there give the method)
_ROW_NAMES = frozenset({"count", "index", "t", "tuple"})


def _bind_processor(type_: Any, dialect: Dialect) -> Any:
    return type_.dialect_impl(dialect).bind_processor(dialect)


def _result_processor(type_: Any, dialect: Dialect) -> Any:
    return type_.dialect_impl(dialect).result_processor(dialect, None)


async def _first(
    engine: AsyncEngine,
    writes: bool,
    patience_ms: int,
    work: Work[T],
    learn: Callable[[sqlite3.Connection], None],
) -> tuple[AsyncConnection, bool, T | None]:
    """Check a connection out, tell ``learn`` its sqlite3 connection (before ``work``, which may use it), begin (a
    writer: only if that needs no waiting) and run ``work``: ``(connection, begun, result)``; not begun: ``work``
    has not run."""
    connection = engine.connect()
    await connection.start()
    try:
        raw = sqlite3_connection((await connection.get_raw_connection()).info)
        assert raw is not None, "an engine made by storage.engine records its connections (unit_of_work_db)"
        learn(raw)
        if writes and not _begin_at_once(raw, patience_ms, engine):
            return connection, False, None
        return connection, True, await work(connection)
    except BaseException:
        await connection.close()
        raise


async def _give_back(connection: AsyncConnection, commit: bool) -> None:
    try:
        if commit:
            await connection.commit()
    finally:
        await connection.close()


async def _begin(connection: AsyncConnection) -> None:
    await connection.begin()


def _begin_at_once(raw: sqlite3.Connection, patience_ms: int, engine: AsyncEngine) -> bool:
    """``BEGIN IMMEDIATE`` on the sqlite3 connection with SQLite's busy timeout at 0 for the moment: False if
    another process holds the write lock (the caller then waits for it elsewhere). SQLAlchemy does not know of
    this transaction: if a statement goes through SQLAlchemy, its transaction begins on a connection already in
    one, the engine's "begin" listener emits nothing more (``storage.engine``), and the commit is SQLAlchemy's."""
    raw.execute("PRAGMA busy_timeout=0")
    try:
        raw.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise
        return False
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(patience_ms)}")
    _tell_transaction(engine, "BEGIN IMMEDIATE")
    return True


def _end_here(raw: sqlite3.Connection, engine: AsyncEngine, *, commit: bool) -> None:
    """Commit (or roll back) a transaction only the sqlite3 connection knows of (``_begin_at_once``)."""
    sql = "COMMIT" if commit else "ROLLBACK"
    raw.execute(sql)
    _tell_transaction(engine, sql)


def _tell_transaction(engine: AsyncEngine, sql: str) -> None:
    for listener in _transaction_listeners.get(engine.sync_engine, ()):
        listener(sql)


def _no_statement(raw: sqlite3.Connection) -> None:
    return None


def unit_of_work_db(engine: AsyncEngine, *, read_only: bool) -> Db:
    """The ``Db`` for a unit of work on ``engine``: ``SqliteDb`` for a SQLite file (a pool of its own connections;
    the engine made by ``storage.engine``, whose connections record their sqlite3 connections), ``PgDb`` for
    PostgreSQL (a reader: on an engine in autocommit, ``storage.engine.reading_engine``), ``Db`` otherwise (an
    in-memory SQLite database, whose one connection is shared)."""
    if engine.dialect.name == "sqlite" and isinstance(engine.sync_engine.pool, QueuePool):
        # the read engine runs in autocommit: it never begins a transaction, so nothing it does ever waits
        autocommit = engine.dialect.skip_autocommit_rollback
        return SqliteDb(engine, writes=not (read_only and autocommit), patience_ms=SQLITE_BUSY_TIMEOUT_MS)
    if engine.dialect.name == "postgresql":
        isolation = engine.get_execution_options().get("isolation_level")
        return PgDb(engine, autocommit=isolation == "AUTOCOMMIT")
    return Db(engine)


_PING = text("SELECT 1")


async def ping(engine: AsyncEngine) -> None:
    """``SELECT 1`` on ``engine`` the way a unit of work runs it (a SQLite file: on the SQLite thread, taking its
    turn for a connection); raises whatever the driver raises when the database does not answer. A SQLite engine's
    connections must never be awaited on another event loop than that thread's: SQLAlchemy's pool queues waiters
    on the loop that first waited for a connection."""
    db = unit_of_work_db(engine, read_only=True)
    try:
        await db.execute(_PING)
    finally:
        await db.close()
