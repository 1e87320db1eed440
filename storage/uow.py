"""The SQL unit of work: one connection (``storage.db.Db``) and one transaction per ``async with`` block."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.notifications import NotificationPolicy
from storage.calendars import SqlBusyCalendarRepository, SqlFeedRepository
from storage.db import Db, unit_of_work_db
from storage.models import UserRow
from storage.outbox import OUTBOX_CHANNEL, SqlOutboxRepository
from storage.payments import SqlPaymentRepository
from storage.repositories import (
    Prefetched,
    SqlAvailabilityRepository,
    SqlBookingRepository,
    SqlDialogRepository,
    SqlDiscoveryRepository,
    SqlOfferingRepository,
    SqlProfileRepository,
    SqlUserRepository,
)
from storage.waitlist import SqlWaitlistRepository

_USERS = UserRow.__table__
# PostgreSQL: the rows of the users a booking change concerns, locked in id order (see ``lock_users``)
_LOCK_USERS = (
    select(_USERS.c.id)
    .where(_USERS.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_USERS.c.id)
    .with_for_update()
)
_NOTIFY_OUTBOX = select(func.pg_notify(OUTBOX_CHANNEL, ""))


class SqlUnitOfWork:
    """Implements ``domain.ports.UnitOfWork``::

        uow = SqlUnitOfWork(engine)
        async with uow:
            user = await uow.users.get(42)
            ...
            await uow.commit()

    Entering binds the repositories (``users``, ``profiles``, ``availability``, ``offerings``, ``bookings``,
    ``dialogs``, ``outbox``, ``discovery``, ``payments``, ``feeds``, ``calendars``) to a new connection, which
    is checked out and begins its transaction at the first statement; leaving rolls back whatever was not
    committed and gives the connection back. Work done after a ``commit()`` inside the same block runs in a new
    transaction and is rolled back on exit unless committed again.

    One object may be used for any number of *sequential* ``async with`` blocks, but it holds one connection at a
    time: never share it between concurrent tasks (give each task - each Telegram update - its own
    ``SqlUnitOfWork``; they are cheap). Entering it while already inside raises ``RuntimeError``.
    """

    users: SqlUserRepository
    profiles: SqlProfileRepository
    availability: SqlAvailabilityRepository
    offerings: SqlOfferingRepository
    bookings: SqlBookingRepository
    dialogs: SqlDialogRepository
    outbox: SqlOutboxRepository
    discovery: SqlDiscoveryRepository
    payments: SqlPaymentRepository
    feeds: SqlFeedRepository
    calendars: SqlBusyCalendarRepository

    def __init__(
        self,
        engine: AsyncEngine,
        notification_policy: NotificationPolicy = NotificationPolicy(),
        after_outbox_commit: Callable[[], None] | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self._engine = engine
        self.read_only = read_only  # for screens that only show data: commit() is refused
        self._policy = notification_policy
        self._after_outbox_commit = after_outbox_commit
        self._db: Db | None = None

    @property
    def db(self) -> Db:
        """This block's connection (tests and tools run statements of their own through it)."""
        if self._db is None:
            raise RuntimeError("the unit of work is not active: use it inside 'async with'")
        return self._db

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._db is not None:
            raise RuntimeError("this unit of work is already active (it must not be shared between tasks)")
        db = unit_of_work_db(self._engine, read_only=self.read_only)
        self._db = db
        prefetched = Prefetched()  # read with an offering: its mentor's hours, whether they have calendars
        self.users = SqlUserRepository(db, prefetched)
        self.profiles = SqlProfileRepository(db)
        self.availability = SqlAvailabilityRepository(db, prefetched)
        self.offerings = SqlOfferingRepository(db, prefetched)
        self.bookings = SqlBookingRepository(db)
        self.dialogs = SqlDialogRepository(db)
        self.outbox = SqlOutboxRepository(db, self._policy)
        self.discovery = SqlDiscoveryRepository(db)
        self.payments = SqlPaymentRepository(db)
        self.feeds = SqlFeedRepository(db)
        self.calendars = SqlBusyCalendarRepository(db, prefetched)
        self.waitlist = SqlWaitlistRepository(db)
        return self

    async def __aexit__(self, *exc: object) -> None:
        db, self._db = self.db, None
        await db.close()  # rolls back whatever was not committed, and gives the connection back

    async def lock_users(self, *user_ids: int) -> None:
        """Serialize with every other transaction that locks any of these users, until this transaction ends.

        PostgreSQL: ``SELECT id FROM users WHERE id IN (...) ORDER BY id FOR UPDATE`` (sorted, so two transactions
        locking overlapping sets cannot deadlock). Ids without a user row lock nothing. SQLite: every transaction
        is ``BEGIN IMMEDIATE`` (see ``storage.engine``), so this only makes sure the transaction - and with it the
        database write lock - has started.
        """
        db = self.db
        if db.dialect == "postgresql":
            if user_ids:
                await db.execute(_LOCK_USERS, {"ids": sorted(set(user_ids))})
        else:
            await db.begin()  # BEGIN IMMEDIATE

    async def commit(self) -> None:
        """Commit; if notifications were written, tell ``after_outbox_commit`` (this process's dispatcher) and, on
        PostgreSQL, every process listening on ``OUTBOX_CHANNEL`` (NOTIFY is delivered when the commit
        succeeds)."""
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        db = self.db
        if self.outbox.wrote and db.dialect == "postgresql":
            await db.execute(_NOTIFY_OUTBOX)
        await db.commit()
        if self.outbox.wrote:
            self.outbox.wrote = False
            if self._after_outbox_commit is not None:
                self._after_outbox_commit()

    async def rollback(self) -> None:
        await self.db.rollback()
