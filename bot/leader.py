"""One dispatcher for many bot processes: leadership through a lock that dies with its holder.

Several processes can serve one bot (behind one webhook URL) on one database. Each handles the updates it gets;
but only one of them - the *leader* - sends the scheduler's messages, so that Telegram's overall limit for bulk
messages (``SEND_RATE_PER_SECOND``) is kept by one rate limiter, not one per process. (The outbox's claims would
already keep two dispatchers from sending a row twice; leadership is about the shared rate.)

* PostgreSQL: ``pg_try_advisory_lock`` on a connection of its own. The server drops the lock when that connection
  ends - a crashed or killed leader loses it at once - and the others try again every ``retry`` seconds. The same
  connection ``LISTEN``s on ``OUTBOX_CHANNEL``: a process that commits a notification due now ``NOTIFY``s in that
  transaction (``storage.uow``), so the leader sends it at once even when another process took the update.
* SQLite (one file, one machine): an exclusive ``flock`` on ``<database>.dispatcher.lock``, released by the
  kernel when the process ends. An in-memory database has one process by definition: always the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import URL

from storage.engine import is_sqlite_memory, normalize_url
from storage.outbox import OUTBOX_CHANNEL

log = logging.getLogger(__name__)

# pg_try_advisory_lock(bigint): a fixed number, different from storage.migrate.MIGRATION_LOCK_KEY (the leader
# holds its lock for its whole life; sharing the key would stop every other process at its migrations).
# Advisory locks are per database, so two bots on one server never collide.
DISPATCHER_LOCK_KEY = 0x6D64_6469_7370  # "md" "disp"

OnChange = Callable[[bool], None]


class Leadership(Protocol):
    @property
    def is_leader(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class AlwaysLeader:
    """A single process (an in-memory database, or tests that want no election)."""

    def __init__(self, on_change: OnChange | None = None) -> None:
        self._on_change = on_change
        self._leader = False

    @property
    def is_leader(self) -> bool:
        return self._leader

    async def start(self) -> None:
        self._leader = True
        if self._on_change is not None:
            self._on_change(True)

    async def stop(self) -> None:
        self._leader = False


class _Campaign:
    """The shared loop: try to become leader, keep checking that the lock still holds, try again after a loss."""

    def __init__(self, retry: float, on_change: OnChange | None) -> None:
        self.retry = retry
        self._on_change = on_change
        self._leader = False
        self._task: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        return self._leader

    async def start(self) -> None:
        """The first try happens here (a lone process leads from its first update on), the rest in the
        background."""
        if self._task is None:
            await self._attempt()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="leader election")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set(False)
        await self._release()

    def _set(self, leader: bool) -> None:
        if leader != self._leader:
            self._leader = leader
            log.info("dispatcher leadership %s (pid %s)", "taken" if leader else "given up", os.getpid())
            if self._on_change is not None:
                self._on_change(leader)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.retry)
            await self._attempt()

    async def _attempt(self) -> None:
        try:
            self._set(await self._hold())
        except asyncio.CancelledError:
            raise
        except Exception:  # the database went away: no longer sure to hold the lock
            log.warning("leader election: lost the lock connection; retrying", exc_info=True)
            self._set(False)
            await self._release()

    async def _hold(self) -> bool:
        """Take the lock if free, or check it is still held; True while this process holds it."""
        raise NotImplementedError

    async def _release(self) -> None:
        raise NotImplementedError


class PostgresLeader(_Campaign):
    def __init__(
        self,
        url: URL,
        *,
        retry: float = 5.0,
        on_change: OnChange | None = None,
        on_notify: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(retry, on_change)
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._on_notify = on_notify
        self._connection: Any = None  # asyncpg.Connection

    async def _hold(self) -> bool:
        import asyncpg

        if self._connection is None or self._connection.is_closed():
            if self.is_leader:  # the session that held the lock is gone, and the lock with it
                raise ConnectionError("the connection holding the dispatcher lock closed")
            self._connection = await asyncpg.connect(self._dsn, timeout=10)
        if self.is_leader:
            await self._connection.fetchval("SELECT 1", timeout=10)  # still connected, so still holding it
            return True
        taken = bool(await self._connection.fetchval("SELECT pg_try_advisory_lock($1)", DISPATCHER_LOCK_KEY))
        if taken and self._on_notify is not None:
            await self._connection.add_listener(OUTBOX_CHANNEL, self._notified)
        return taken

    def _notified(self, *args: object) -> None:
        if self._on_notify is not None and self.is_leader:
            self._on_notify()

    async def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 5)  # ends the session: the lock goes with it


class FileLeader(_Campaign):
    def __init__(self, path: Path, *, retry: float = 5.0, on_change: OnChange | None = None) -> None:
        super().__init__(retry, on_change)
        self.path = path
        self._fd: int | None = None

    async def _hold(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def _release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock


def leadership_for(
    database_url: str,
    *,
    retry: float,
    on_change: OnChange | None = None,
    on_notify: Callable[[], None] | None = None,
) -> Leadership:
    """The election that fits the database: advisory lock (PostgreSQL), file lock (SQLite file), or none."""
    url = normalize_url(database_url)
    if url.get_backend_name() == "postgresql":
        return PostgresLeader(url, retry=retry, on_change=on_change, on_notify=on_notify)
    if is_sqlite_memory(url) or (url.database or "").startswith("file:"):
        return AlwaysLeader(on_change)
    return FileLeader(Path(f"{url.database}.dispatcher.lock"), retry=retry, on_change=on_change)
