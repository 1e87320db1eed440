"""The SQL unit of work: one ``AsyncSession`` and one transaction per ``async with`` block."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.notifications import NotificationPolicy
from storage.calendars import SqlBusyCalendarRepository, SqlFeedRepository
from storage.models import UserRow
from storage.outbox import OUTBOX_CHANNEL, SqlOutboxRepository
from storage.payments import SqlPaymentRepository
from storage.repositories import (
    SqlAvailabilityRepository,
    SqlBookingRepository,
    SqlDialogRepository,
    SqlDiscoveryRepository,
    SqlOfferingRepository,
    SqlProfileRepository,
    SqlUserRepository,
)


class SqlUnitOfWork:
    """Implements ``domain.ports.UnitOfWork``::

        uow = SqlUnitOfWork(session_factory)
        async with uow:
            user = await uow.users.get(42)
            ...
            await uow.commit()

    Entering opens a new session and transaction and binds the repositories (``users``, ``profiles``,
    ``availability``, ``offerings``, ``bookings``, ``dialogs``, ``outbox``, ``discovery``, ``payments``,
    ``feeds``, ``calendars``) to it; leaving rolls back whatever was not committed and closes the session. Work done
    after a ``commit()`` inside the same block runs in a new transaction and is rolled back on exit unless committed
    again.
    ``availability``, ``offerings``, ``bookings``, ``dialogs``, ``outbox``, ``discovery``, ``feeds``,
    ``calendars``) to it; leaving rolls back whatever was not committed and closes the session. Work done after a ``commit()`` inside the same block runs in a new
    transaction and is rolled back on exit unless committed again.

    One object may be used for any number of *sequential* ``async with`` blocks, but it holds one session at a
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
        session_factory: async_sessionmaker[AsyncSession],
        notification_policy: NotificationPolicy = NotificationPolicy(),
        after_outbox_commit: Callable[[], None] | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self._session_factory = session_factory
        self.read_only = read_only  # for screens that only show data: commit() is refused
        self._policy = notification_policy
        self._after_outbox_commit = after_outbox_commit
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not active: use it inside 'async with'")
        return self._session

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._session is not None:
            raise RuntimeError("this unit of work is already active (it must not be shared between tasks)")
        session = self._session_factory()
        self._session = session
        self.users = SqlUserRepository(session)
        self.profiles = SqlProfileRepository(session)
        self.availability = SqlAvailabilityRepository(session)
        self.offerings = SqlOfferingRepository(session)
        self.bookings = SqlBookingRepository(session)
        self.dialogs = SqlDialogRepository(session)
        self.outbox = SqlOutboxRepository(session, self._policy)
        self.discovery = SqlDiscoveryRepository(session)
        self.payments = SqlPaymentRepository(session)
        self.feeds = SqlFeedRepository(session)
        self.calendars = SqlBusyCalendarRepository(session)
        return self

    async def __aexit__(self, *exc: object) -> None:
        session, self._session = self.session, None
        await session.close()  # rolls back whatever was not committed, and gives the connection back

    async def lock_users(self, *user_ids: int) -> None:
        """Serialize with every other transaction that locks any of these users, until this transaction ends.

        PostgreSQL: ``SELECT id FROM users WHERE id IN (...) ORDER BY id FOR UPDATE`` (sorted, so two transactions
        locking overlapping sets cannot deadlock). Ids without a user row lock nothing. SQLite: every transaction
        is ``BEGIN IMMEDIATE`` (see ``storage.engine``), so this only makes sure the transaction - and with it the
        database write lock - has started.
        """
        session = self.session
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            if user_ids:
                ids = sorted(set(user_ids))
                await session.execute(
                    select(UserRow.id).where(UserRow.id.in_(ids)).order_by(UserRow.id).with_for_update()
                )
        else:
            await session.connection()  # starts the transaction: BEGIN IMMEDIATE

    async def commit(self) -> None:
        """Commit; if notifications were written, tell ``after_outbox_commit`` (this process's dispatcher) and, on
        PostgreSQL, every process listening on ``OUTBOX_CHANNEL`` (NOTIFY is delivered when the commit
        succeeds)."""
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        session = self.session
        if self.outbox.wrote and session.bind is not None and session.bind.dialect.name == "postgresql":
            await session.execute(select(func.pg_notify(OUTBOX_CHANNEL, "")))
        await session.commit()
        if self.outbox.wrote:
            self.outbox.wrote = False
            if self._after_outbox_commit is not None:
                self._after_outbox_commit()

    async def rollback(self) -> None:
        await self.session.rollback()
