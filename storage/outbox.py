"""The outbox: notifications stored until due, claimed by dispatchers, sent once.

A row's life (``storage.models.NotificationRow``)::

    pending --claim--> sending --mark_sent--> sent
       ^                  |  \\--skip-----> skipped   (nothing to say any more / the recipient blocked the bot)
       |                  |   \\-give_up--> failed    (a permanent error, or too many attempts)
       +----retry_at------+   (a later due_at; also ``release`` when a dispatcher stops)

``claim`` marks rows ``sending`` with a lease (``locked_until``) in the caller's transaction. A dispatcher that
crashes leaves its rows ``sending``; once the lease has run out, ``claim`` hands them out again. PostgreSQL claims
with ``FOR UPDATE SKIP LOCKED``, so two dispatchers claiming at once never get the same row; on SQLite every
transaction already holds the database write lock (``storage.engine``), so claims simply take turns.

Every outcome method takes the ``Claimed`` it reports on and changes the row only if that claim still holds it
(same status and attempt count): a dispatcher whose lease ran out cannot overwrite what the next one recorded.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, update

from domain.notifications import Claimed, Notification, NotificationKind, NotificationPolicy
from storage.db import Db
from storage.models import Base, NotificationRow
from storage.repositories import dialect_insert

# PostgreSQL: a commit that wrote notifications NOTIFYs this channel (``storage.uow``); the process that sends the
# outbox (``bot.leader``) LISTENs, so a notification committed by any process goes out at once.
OUTBOX_CHANNEL = "mentor_desk_outbox"

_T: Table = Base.metadata.tables[NotificationRow.__tablename__]
_TIMED_KINDS = tuple(k.value for k in NotificationKind if k.is_per_booking)  # what ``replace_timed`` replaces
_ERROR_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """A row as tests and benchmarks see it (not part of the port)."""

    key: str
    kind: str
    recipient_id: int
    booking_id: int | None
    due_at: datetime
    status: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None


# ``replace_timed``: a booking's pending timed rows whose key is not among ``keys`` (built once, like the
# statements below: a statement built per call leaves its expressions' cycles to the garbage collector)
_DELETE_OTHER_TIMED = delete(_T).where(
    _T.c.booking_id == bindparam("booking_id"),
    _T.c.status == "pending",
    _T.c.kind.in_(_TIMED_KINDS),
    _T.c.key.not_in(bindparam("keys", expanding=True)),
)


_PENDING_KEYS = and_(_T.c.key.in_(bindparam("keys", expanding=True)), _T.c.status == "pending")
_LOCK_PENDING = select(_T.c.id).where(_PENDING_KEYS).with_for_update()  # SQLite renders no locking clause
_DROP_PENDING = delete(_T).where(_PENDING_KEYS)


def event_key(n: Notification) -> str:
    """A unique key for an event (``Notification.key`` is empty for events: each is said once, when it happens)."""
    booking = n.booking_id if n.booking_id is not None else "-"
    return f"{n.kind.value}:{n.recipient_id}:{booking}:{uuid.uuid4().hex}"


def _insert(db: Db, *, reschedule_pending: bool = False) -> Any:
    """``INSERT ... ON CONFLICT (key) DO NOTHING`` into the outbox - both dialects spell it the same way.

    ``reschedule_pending``: on a conflict with a row that is still pending, move it to the new due time instead
    (``DO UPDATE ... WHERE status = 'pending'``): an after-session question keeps its key when the session moves.
    """
    return _insert_statement(db.dialect, reschedule_pending)


@functools.cache
def _insert_statement(dialect: str, reschedule_pending: bool) -> Any:
    """Built once: ``excluded`` is a new alias of the whole table each time, garbage with cycles once used."""
    stmt = dialect_insert(dialect, _T).values({name: bindparam(name) for name in _COLUMNS})
    if not reschedule_pending:
        return stmt.on_conflict_do_nothing(index_elements=["key"])
    return stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={"due_at": stmt.excluded.due_at, "lead_minutes": stmt.excluded.lead_minutes},
        where=_T.c.status == "pending",
    )


@functools.cache
def _insert_new_statement(dialect: str) -> Any:
    """``_insert`` returning the key it stored (no row: the key was there already)."""
    return _insert_statement(dialect, False).returning(_T.c.key)


_COLUMNS = (
    "key", "kind", "recipient_id", "booking_id", "due_at", "lead_minutes", "status", "attempts", "payment_id",
    "waitlist_id", "slot_start",
)  # fmt: skip


def _values(n: Notification) -> dict[str, Any]:
    return {
        "key": n.key or event_key(n),
        "kind": n.kind.value,
        "recipient_id": n.recipient_id,
        "booking_id": n.booking_id,
        "due_at": n.due_at,
        "lead_minutes": n.lead_minutes,
        "status": "pending",
        "attempts": 0,
        "payment_id": n.payment_id,
        "waitlist_id": n.waitlist_id,
        "slot_start": n.slot,
    }


# The row is still held by a claim (its parameters: ``_held_by``). The dispatcher's statements after every message
# (sent, released) are built once; the rarer ones (retry, give up, skip) per call on the same condition.
_HELD = and_(
    _T.c.id == bindparam("held_id", type_=_T.c.id.type),
    _T.c.status == "sending",
    _T.c.attempts == bindparam("held_attempts", type_=_T.c.attempts.type),
)
_MARK_SENT = (
    update(_T)
    .where(_HELD)
    .values(locked_until=None, status="sent", sent_at=bindparam("at", type_=_T.c.sent_at.type))
)
_RELEASE = update(_T).where(_HELD).values(locked_until=None, status="pending", attempts=_T.c.attempts - 1)


def _held_by(claim: Claimed) -> dict[str, Any]:
    return {"held_id": claim.outbox_id, "held_attempts": claim.attempts}


# When the dispatcher must wake next: the first pending row due, the first lease to run out (one statement, built
# once: the dispatcher reads it after every pass).
_NEXT_DUE = select(
    select(func.min(_T.c.due_at)).where(_T.c.status == "pending").scalar_subquery().label("pending"),
    select(func.min(_T.c.locked_until)).where(_T.c.status == "sending").scalar_subquery().label("leased"),
)


class SqlOutboxRepository:
    """Implements ``domain.ports.OutboxRepository`` on a unit of work's connection; never commits. ``policy``
    says when timed notifications fall due (reminder leads, expiry); the deployment's settings choose it."""

    def __init__(self, db: Db, policy: NotificationPolicy = NotificationPolicy()) -> None:
        self._db = db
        self.policy = policy
        self.wrote = False  # something was added in this transaction (the unit of work wakes the dispatcher)

    # -- writing (in the transaction of the booking change) ---------------------------------------------------

    async def add(self, notifications: Sequence[Notification]) -> None:
        if notifications:
            self.wrote = True
            await self._db.write(_insert(self._db), [_values(n) for n in notifications])

    async def add_new(self, notifications: Sequence[Notification]) -> set[str]:
        """Store each notification whose key is new, one statement each; the keys stored. A key another transaction
        is storing meanwhile waits for it (the unique index): once it commits, the key is not stored here."""
        stored: set[str] = set()
        statement = _insert_new_statement(self._db.dialect)
        for n in notifications:
            key = await self._db.scalar(statement, _values(n))
            if key is not None:
                stored.add(key)
                self.wrote = True
        return stored

    async def replace_timed(self, booking_id: int, notifications: Sequence[Notification]) -> None:
        """Delete the booking's pending timed rows whose key is not in ``notifications``, add the new ones and move
        pending ones with a known key to their new due time.

        Rows already claimed, sent, skipped or failed are never touched: a reminder that went out is not sent again
        when the booking changes, and one being sent right now is re-checked when it is prepared
        (``domain.notifications.still_relevant``).
        """
        for n in notifications:
            if not n.kind.is_per_booking or n.booking_id not in (booking_id, None):
                raise ValueError(f"not a timed notification of booking {booking_id}: {n}")
        keys = [n.key for n in notifications]
        await self._db.write(_DELETE_OTHER_TIMED, {"booking_id": booking_id, "keys": keys})
        if notifications:
            self.wrote = True
            await self._db.write(_insert(self._db, reschedule_pending=True), [_values(n) for n in notifications])

    async def keep_timed(self, notifications: Sequence[Notification]) -> None:
        """Store these timed notifications unless their key is stored (a pending one is moved to its due time and
        its row locked until this transaction ends, so ``lock_pending`` elsewhere waits for it)."""
        if notifications:
            self.wrote = True
            await self._db.write(_insert(self._db, reschedule_pending=True), [_values(n) for n in notifications])

    async def lock_pending(self, keys: Sequence[str]) -> None:
        """Lock the pending rows with these keys until this transaction ends (PostgreSQL; a SQLite transaction
        already holds the database's write lock): one that another transaction is writing is waited for."""
        if keys:
            await self._db.write(_LOCK_PENDING, {"keys": list(keys)})

    async def drop_pending(self, keys: Sequence[str]) -> None:
        """Delete the pending rows with these keys (sent, claimed and failed ones stay)."""
        if keys:
            await self._db.write(_DROP_PENDING, {"keys": list(keys)})

    # -- the dispatcher ----------------------------------------------------------------------------------------

    async def claim(self, now: datetime, limit: int, lease: timedelta) -> list[Claimed]:
        """Up to ``limit`` due rows, oldest first: pending ones due by ``now`` and ``sending`` ones whose lease ran
        out. They become ``sending`` until ``now + lease`` with one more attempt."""
        due = or_(
            and_(_T.c.status == "pending", _T.c.due_at <= now),
            and_(_T.c.status == "sending", _T.c.locked_until <= now),
        )
        chosen = (
            select(_T.c.id)
            .where(due)
            .order_by(_T.c.due_at, _T.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite renders no locking clause
            .scalar_subquery()
        )
        locked_until = now + lease
        result = await self._db.execute(
            update(_T)
            .where(_T.c.id.in_(chosen))
            .values(status="sending", locked_until=locked_until, attempts=_T.c.attempts + 1)
            .returning(
                _T.c.id, _T.c.key, _T.c.kind, _T.c.recipient_id, _T.c.booking_id, _T.c.due_at,
                _T.c.lead_minutes, _T.c.attempts, _T.c.payment_id, _T.c.waitlist_id, _T.c.slot_start,
            )
        )  # fmt: skip
        claimed: list[Claimed] = []
        unknown: list[int] = []
        for row in result:
            try:
                kind = NotificationKind(row.kind)
            except ValueError:
                unknown.append(row.id)
                continue
            notification = Notification(
                kind, row.recipient_id, row.due_at, row.booking_id, row.lead_minutes, row.key, row.payment_id,
                row.waitlist_id, row.slot_start,
            )  # fmt: skip
            claimed.append(Claimed(row.id, notification, row.attempts, locked_until))
        if unknown:  # written by a newer version of the bot, or by hand: never let it block the queue
            await self._db.execute(
                update(_T).where(_T.c.id.in_(unknown)).values(status="failed", last_error="unknown kind")
            )
        claimed.sort(key=lambda c: (c.notification.due_at, c.outbox_id))
        return claimed

    async def _finish(self, claim: Claimed, **values: Any) -> bool:
        statement = update(_T).where(_HELD).values(locked_until=None, **values)
        return await self._db.rowcount(statement, _held_by(claim)) == 1

    async def mark_sent(self, claim: Claimed, at: datetime) -> bool:
        return await self._db.rowcount(_MARK_SENT, {**_held_by(claim), "at": at}) == 1

    async def retry_at(self, claim: Claimed, when: datetime, error: str, *, count_attempt: bool = True) -> bool:
        """Pending again, due at ``when``. ``count_attempt=False`` (Telegram said "too many requests, wait"):
        this attempt does not count towards giving up."""
        attempts = _T.c.attempts if count_attempt else _T.c.attempts - 1
        return await self._finish(
            claim, status="pending", due_at=when, attempts=attempts, last_error=error[:_ERROR_LENGTH]
        )

    async def give_up(self, claim: Claimed, error: str) -> bool:
        return await self._finish(claim, status="failed", last_error=error[:_ERROR_LENGTH])

    async def skip(self, claim: Claimed, why: str) -> bool:
        return await self._finish(claim, status="skipped", last_error=why[:_ERROR_LENGTH])

    async def release(self, claims: Sequence[Claimed]) -> None:
        for claim in claims:
            await self._db.write(_RELEASE, _held_by(claim))

    async def next_due(self) -> datetime | None:
        row = await self._db.first(_NEXT_DUE)
        found = [t for t in row or () if t is not None]
        return min(found) if found else None

    # -- for tests, benchmarks and operators -------------------------------------------------------------------

    async def counts(self) -> dict[str, int]:
        """How many rows are in each status (statuses without rows are left out)."""
        rows = await self._db.rows(select(_T.c.status, func.count()).group_by(_T.c.status))
        return {status: count for status, count in rows}

    async def records(self, *, booking_id: int | None = None, key: str | None = None) -> list[OutboxRecord]:
        stmt = select(_T).order_by(_T.c.due_at, _T.c.id)
        if booking_id is not None:
            stmt = stmt.where(_T.c.booking_id == booking_id)
        if key is not None:
            stmt = stmt.where(_T.c.key == key)
        rows = await self._db.rows(stmt)
        return [
            OutboxRecord(
                key=r.key, kind=r.kind, recipient_id=r.recipient_id, booking_id=r.booking_id, due_at=r.due_at,
                status=r.status, attempts=r.attempts, last_error=r.last_error, sent_at=r.sent_at,
            )
            for r in rows
        ]  # fmt: skip
