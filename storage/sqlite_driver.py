"""SQLite through SQLAlchemy's aiosqlite dialect, with statements run on the event loop's thread.

aiosqlite runs every call on the connection's own thread and hands the result back to the event loop. SQLAlchemy's
adapter (``sqlalchemy.dialects.sqlite.aiosqlite``) makes four such calls for one statement: open a cursor,
execute, fetch the rows, close the cursor. Each hand-off costs a wake-up of the thread, a wake-up of the event
loop and two changes of hands of the GIL, and on SQLite every write transaction holds the database's one write
lock while it waits for them. Under load those hand-offs, not SQLite, set how many updates per second the bot
handles (``benchmarks/bench_flow.py``: 39 updates/s with the stock adapter, 150-166/s with this module, same
machine and day). The statements the bot runs are small indexed reads and single-row writes of a few
microseconds each, so they run in place:

* ``inline_dbapi()`` (the read-only engine, ``storage.engine.create_read_engine``): each statement runs at once.
  In WAL mode a reader never waits for a writer. SQLite can still answer "busy" to a reader for a moment (while
  another connection recovers or resets the WAL); the busy timeout then waits in place, briefly.
* ``inline_writer_dbapi()`` (the writer): the same, except waiting for a lock. SQLite's own busy timeout stays 0
  on the connection; a statement that finds the database locked by another process before its transaction
  began (``BEGIN IMMEDIATE``) runs again on a worker thread, where SQLite's busy handler waits up to the
  connection's patience (``PRAGMA busy_timeout``, which this driver keeps for itself). In one process the
  writer's pool of one connection already queues the bot's own transactions, so that path is only taken when
  several processes share the file. A commit that triggers SQLite's automatic WAL checkpoint (about every
  1,000 written pages) does that I/O in place too: 6-8 ms measured here, once per ~1,000 small transactions.

Everything else (connections, transactions, errors) is SQLAlchemy's adapter unchanged; rows are always fetched
at once, so a "server-side" cursor is buffered as well. The modules are passed as ``module=`` to
``create_async_engine`` (SQLAlchemy's documented way to supply a DB-API module to a dialect), so URLs stay
``sqlite+aiosqlite://``. The connection object stands in for ``aiosqlite.Connection`` where SQLAlchemy's adapter
and ``benchmarks.seed`` use it; ``tests/storage/test_sqlite_driver.py`` checks what this module promises.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import in_greenlet


def _run(connection: sqlite3.Connection, operation: str, parameters: Any) -> tuple[Any, Any, int, int]:
    """One statement, start to finish. Returns (description, rows, lastrowid, rowcount) the way SQLAlchemy's
    adapter records them."""
    cursor = connection.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        if cursor.description:
            return cursor.description, cursor.fetchall(), -1, -1
        return None, None, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


def _run_many(connection: sqlite3.Connection, operation: str, seq_of_parameters: Any) -> tuple[int, int]:
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, seq_of_parameters)
        return cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


def _run_waiting(connection: sqlite3.Connection, operation: str, parameters: Any, patience_ms: int) -> Any:
    """On a worker thread: ``_run`` with SQLite's own busy handler waiting up to ``patience_ms``."""
    connection.execute(f"PRAGMA busy_timeout={int(patience_ms)}")
    try:
        return _run(connection, operation, parameters)
    finally:
        connection.execute("PRAGMA busy_timeout=0")


async def _at_once(fn: Any, *args: Any) -> Any:
    return fn(*args)


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    """Runs each statement at once on the caller's (the event loop's) thread; rows are always fetched at once."""

    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            if in_greenlet():
                # awaited, though it never suspends: SQLAlchemy's AsyncConnection insists that every execution
                # awaits something (AwaitRequired), its guard against drivers that are not async at all
                result = self.await_(_at_once(_run, self._connection._conn, operation, parameters))
            else:  # a synchronous Session on the loop's thread (storage.inline_session)
                result = _run(self._connection._conn, operation, parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._take(result)

    def _take(self, result: tuple[Any, Any, int, int]) -> None:
        """Record what ``_run`` returned, as SQLAlchemy's adapter does."""
        description, rows, lastrowid, rowcount = result
        self.description = description
        self.lastrowid = lastrowid
        self.rowcount = rowcount
        if rows is not None:
            self._rows = deque(rows)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            if in_greenlet():
                self.lastrowid, self.rowcount = self.await_(
                    _at_once(_run_many, self._connection._conn, operation, seq_of_parameters)
                )
            else:
                self.lastrowid, self.rowcount = _run_many(self._connection._conn, operation, seq_of_parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = None


_BUSY_TIMEOUT_PRAGMA = re.compile(r"\s*PRAGMA\s+busy_timeout\s*(?:=\s*(\d+))?\s*;?\s*$", re.IGNORECASE)


class _PatientCursor(_Cursor):
    """The writer's cursor.

    SQLite's busy timeout is kept at 0 on the connection, so a statement never blocks the loop waiting for
    another process's lock; ``PRAGMA busy_timeout=N`` sets the patience this cursor applies instead (and
    ``PRAGMA busy_timeout`` reads it). A statement outside a transaction (in practice ``BEGIN IMMEDIATE``) that
    finds the database locked is run again on a worker thread with SQLite's busy handler waiting up to that
    patience - exactly what a threaded driver does, so waiting processes take turns as they did before. Inside a
    transaction the write lock is already held, and SQLite's "busy" would be an error anyway.
    """

    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        inline: _InlineConnection = self._connection
        setting = _BUSY_TIMEOUT_PRAGMA.match(operation) if isinstance(operation, str) else None
        if setting is not None:  # the patience stands in for SQLite's busy timeout, which stays 0
            if setting.group(1) is None:
                return super().execute("SELECT ? AS timeout", (inline.patience_ms,))
            inline.patience_ms = int(setting.group(1))
            return super().execute("PRAGMA busy_timeout=0")
        try:
            return super().execute(operation, parameters)
        except sqlite3.OperationalError as error:
            if inline._conn.in_transaction or "locked" not in str(error) or inline.patience_ms <= 0:
                raise
            if not in_greenlet():  # nothing to wait in; storage.inline_session begins inside one
                raise
        try:
            result = self.await_(
                asyncio.to_thread(_run_waiting, inline._conn, operation, parameters, inline.patience_ms)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._take(result)


class _InlineConnection:
    """Stands in for ``aiosqlite.Connection`` where SQLAlchemy's adapter (closing, terminating, creating
    functions) and ``benchmarks.seed`` (bulk inserts) use it; every call runs at once."""

    def __init__(self, connection: sqlite3.Connection, patience_ms: int = 0) -> None:
        self._connection = connection
        self.patience_ms = patience_ms  # how long a writer waits for another process's lock (``_PatientCursor``)

    @property
    def _conn(self) -> sqlite3.Connection:
        return self._connection

    async def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        return self._connection.execute(sql, parameters)

    async def executemany(self, sql: str, parameters: Any) -> sqlite3.Cursor:
        return self._connection.executemany(sql, parameters)

    async def commit(self) -> None:
        self._connection.commit()

    async def rollback(self) -> None:
        self._connection.rollback()

    async def close(self) -> None:
        self._connection.close()

    def stop(self) -> None:
        self._connection.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._connection.create_function(*args, **kwargs)


class _AdaptedConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's adapter over an ``_InlineConnection``: cursors, commits and rollbacks run in place."""

    __slots__ = ()
    cursor_class: type[_Cursor] = _Cursor

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        return self.cursor_class(self)  # rows are fetched at once, so "server-side" cursors are buffered too

    def commit(self) -> None:
        try:
            self._connection._conn.commit()
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        try:
            self._connection._conn.rollback()
        except Exception as error:
            self._handle_exception(error)

    @property
    def isolation_level(self) -> str | None:
        return self._connection._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._connection._conn.isolation_level = value


class _WriterConnection(_AdaptedConnection):
    __slots__ = ()
    cursor_class = _PatientCursor


class _InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def __init__(self, *, writer: bool) -> None:
        super().__init__(aiosqlite, sqlite3)
        self._writer = writer

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        kw.pop("async_fallback", None)
        kw["check_same_thread"] = False  # a writer's contended statement waits on a worker thread
        if not self._writer:
            return _AdaptedConnection(self, _InlineConnection(sqlite3.connect(*arg, **kw)))
        patience = float(kw.pop("timeout", 5.0))  # sqlite3's default
        connection = sqlite3.connect(*arg, timeout=0, **kw)
        return _WriterConnection(self, _InlineConnection(connection, int(patience * 1000)))


def runs_inline(engine: Any) -> bool:
    """Whether ``engine`` (async or not) runs its statements through this module."""
    return isinstance(getattr(engine.dialect, "dbapi", None), _InlineDBAPI)


def inline_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DB-API module for the read-only engine (``module=`` of ``create_async_engine``)."""
    return _InlineDBAPI(writer=False)


def inline_writer_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DB-API module for the writer: waits for other processes' locks on a worker thread."""
    return _InlineDBAPI(writer=True)
