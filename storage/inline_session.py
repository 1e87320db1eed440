"""SQLite sessions without a greenlet per call: the part of ``AsyncSession`` the repositories use, run in place.

``AsyncSession`` runs each awaited call (``execute``, ``scalar``, ``get``, ``flush``, ``commit``, ``close`` ...) in
a new greenlet, so that a driver deep inside can await. On SQLite this project's driver never needs to
(``storage.sqlite_driver`` runs statements on the event loop's thread), and the greenlets were most of what a unit
of work cost: creating, switching to and freeing one per call (on Python 3.11 each new greenlet also maps and
unmaps its own stack). ``InlineSession`` drives the same synchronous ``Session`` directly instead, except at the
start of each transaction, which still runs in one greenlet because only there can anything wait:

* the engine's pool (one writer connection, four readers) queues tasks asynchronously when it is empty;
* the writer's ``BEGIN IMMEDIATE`` may find another process holding the write lock, and waits for it on a worker
  thread (``storage.sqlite_driver``).

Once a transaction has begun, a statement takes the write lock or reads a WAL snapshot it already has, so it never
waits. ``storage.engine.create_session_factory`` hands these sessions out for SQLite; PostgreSQL keeps
``AsyncSession`` (asyncpg really awaits the network).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Connection, Result
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session
from sqlalchemy.util import immutabledict
from sqlalchemy.util.concurrency import greenlet_spawn

# As AsyncSession runs statements: ORM rows are loaded before the call returns, not while the caller iterates.
_EXECUTE_OPTIONS = immutabledict({"prebuffer_rows": True})


class InlineSession:
    """An ``AsyncSession`` look-alike over a synchronous ``Session`` on the loop's thread (see the module notes).

    Awaitable: ``execute``, ``scalar``, ``scalars``, ``get``, ``flush``, ``connection``, ``commit``,
    ``rollback``, ``close``; plain: ``add``, ``add_all``, ``new``, ``dirty``, ``deleted``, ``bind``.
    ``connection()`` returns the synchronous ``Connection``. Like ``AsyncSession``, one task at a time.
    """

    __slots__ = ("bind", "sync_session", "_begun")

    def __init__(self, engine: AsyncEngine) -> None:
        self.bind = engine
        self.sync_session = Session(engine.sync_engine, expire_on_commit=False)
        self._begun = False  # this transaction holds its connection (and, on the writer, the write lock)

    async def _begin(self) -> None:
        """Check a connection out and begin, in the one greenlet where waiting is possible."""
        await greenlet_spawn(self.sync_session.connection)
        self._begun = True

    async def execute(self, statement: Any, params: Any = None, **kwargs: Any) -> Result[Any]:
        if not self._begun:
            await self._begin()
        options = kwargs.pop("execution_options", None)
        options = _EXECUTE_OPTIONS.union(options) if options else _EXECUTE_OPTIONS
        return self.sync_session.execute(statement, params, execution_options=options, **kwargs)

    async def scalar(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        if not self._begun:
            await self._begin()
        return self.sync_session.scalar(statement, params, **kwargs)

    async def scalars(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        return (await self.execute(statement, params, **kwargs)).scalars()

    async def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        if not self._begun:
            await self._begin()
        return self.sync_session.get(entity, ident, **kwargs)

    async def flush(self, objects: Iterable[Any] | None = None) -> None:
        if not self._begun:
            await self._begin()
        self.sync_session.flush(objects)

    async def connection(self) -> Connection:
        if not self._begun:
            await self._begin()
        return self.sync_session.connection()

    async def commit(self) -> None:
        if not self._begun:
            if not self._pending():
                self.sync_session.commit()  # nothing began: nothing to write, no connection to take
                return
            await self._begin()
        try:
            self.sync_session.commit()
        finally:
            if not self.sync_session.in_transaction():
                self._begun = False

    async def rollback(self) -> None:
        try:
            self.sync_session.rollback()
        finally:
            self._begun = False

    async def close(self) -> None:
        try:
            self.sync_session.close()
        finally:
            self._begun = False

    async def __aenter__(self) -> InlineSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def add(self, instance: Any) -> None:
        self.sync_session.add(instance)

    def add_all(self, instances: Iterable[Any]) -> None:
        self.sync_session.add_all(instances)

    def _pending(self) -> bool:
        session = self.sync_session
        return bool(session.new or session.dirty or session.deleted)

    @property
    def new(self) -> Any:
        return self.sync_session.new

    @property
    def dirty(self) -> Any:
        return self.sync_session.dirty

    @property
    def deleted(self) -> Any:
        return self.sync_session.deleted


class InlineSessionFactory:
    """Makes an ``InlineSession`` per call, as ``async_sessionmaker`` makes an ``AsyncSession``."""

    __slots__ = ("engine",)

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def __call__(self) -> InlineSession:
        return InlineSession(self.engine)
