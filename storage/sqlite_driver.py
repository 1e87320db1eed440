"""SQLite through SQLAlchemy's aiosqlite dialect, with fewer thread hand-offs: one per statement for the writer,
none for readers.

aiosqlite runs every call on the connection's own thread and hands the result back to the event loop. SQLAlchemy's
adapter (``sqlalchemy.dialects.sqlite.aiosqlite``) makes four such calls for one statement: open a cursor,
execute, fetch the rows, close the cursor. Each hand-off costs a wake-up of the thread, a wake-up of the event
loop and two changes of hands of the GIL, and on SQLite every write transaction holds the database's one write
lock while it waits for them - so under load those turns, not SQLite, set how many updates per second the bot
handles (``benchmarks/bench_flow.py``).

* ``one_hop_dbapi()`` (the writer): the same DB-API module with a cursor that does the four steps in one call
  on the connection's thread. The writer keeps its thread because ``BEGIN IMMEDIATE`` may wait - up to the busy
  timeout - for another process's write lock, and that wait must not stop the event loop.
* ``inline_dbapi()`` (the read-only engine, ``storage.engine.create_read_engine``): no thread at all; each
  statement runs at once on the event loop's thread. In WAL mode a reader never waits for a writer, and the
  reads routed there are small indexed lookups (a user, an offering, a mentor's hours and bookings), so running
  them in place costs less than handing them off. SQLite can still answer "busy" to a reader for a moment (while
  another connection recovers or resets the WAL); the busy timeout then waits in place, briefly.

Everything else (connections, transactions, errors, server-side cursors) is SQLAlchemy's adapter unchanged.
The modules are passed as ``module=`` to ``create_async_engine`` (SQLAlchemy's documented way to supply a
DB-API module to a dialect), so URLs stay ``sqlite+aiosqlite://``. This relies on two private names of aiosqlite's
``Connection`` (``_execute``: run a function on the connection's thread; ``_conn``: the ``sqlite3.Connection``),
present from aiosqlite 0.17 through 0.22, and on SQLAlchemy 2.0's adapter classes;
``tests/storage/test_sqlite_driver.py`` checks the behaviour this module promises.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)


def _run(connection: sqlite3.Connection, operation: str, parameters: Any) -> tuple[Any, Any, int, int]:
    """On the connection's thread: one statement, start to finish. Returns (description, rows, lastrowid,
    rowcount) the way SQLAlchemy's adapter records them."""
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


class _OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        connection = self._connection
        try:
            description, rows, lastrowid, rowcount = self.await_(
                connection._execute(_run, connection._conn, operation, parameters)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = description
        self.lastrowid = lastrowid
        self.rowcount = rowcount
        if rows is not None:
            self._rows = deque(rows)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        connection = self._connection
        try:
            lastrowid, rowcount = self.await_(
                connection._execute(_run_many, connection._conn, operation, seq_of_parameters)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = None
        self.lastrowid = lastrowid
        self.rowcount = rowcount


class _OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            return super().cursor(server_side=True)
        return _OneHopCursor(self)


class _OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        if type(adapted) is AsyncAdapt_aiosqlite_connection:  # not the sync "fallback" flavour
            return _OneHopConnection(self, adapted._connection)
        return adapted


def one_hop_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DB-API module to pass as ``module=`` to ``create_async_engine`` for ``sqlite+aiosqlite`` URLs."""
    return _OneHopDBAPI(aiosqlite, sqlite3)


class _InlineConnection:
    """An ``aiosqlite.Connection`` look-alike for readers: runs each call at once on the event loop's thread.

    Only what SQLAlchemy's adapter and ``_OneHopCursor`` use is provided.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    @property
    def _conn(self) -> sqlite3.Connection:
        return self._connection

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

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

    @property
    def isolation_level(self) -> str | None:
        return self._connection.isolation_level


class _InlineAdaptedConnection(_OneHopConnection):
    __slots__ = ()

    @property
    def isolation_level(self) -> str | None:
        return self._connection.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._connection._conn.isolation_level = value


class _InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        kw.pop("async_fallback", None)
        kw["check_same_thread"] = False
        return _InlineAdaptedConnection(self, _InlineConnection(sqlite3.connect(*arg, **kw)))


def inline_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    return _InlineDBAPI(aiosqlite, sqlite3)
