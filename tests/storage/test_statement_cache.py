"""The write path's statements run from SQLAlchemy's statement cache: the dialects' ``INSERT ... ON CONFLICT``
(the dialog upsert of every conversation step, the outbox inserts) is compiled once, not on every execution
(SQLAlchemy before 2.1 gave it no cache key: 110-200 us per execution here). On SQLite a write whose result
nobody reads runs in one call on the sqlite3 connection from its second time on (``storage.db.SqliteDb.write``),
not through SQLAlchemy at all; on PostgreSQL in one call on the asyncpg connection once the transaction has begun
(``storage.db.PgDb``): counted here too."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.interfaces import CacheStats
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.model import StatsDelta
from domain.notifications import Notification, NotificationKind
from storage.db import listen_to_selects
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, T0, booking, mentor_and_mentee


async def test_the_write_path_runs_from_the_cache(engine: AsyncEngine, uow: SqlUnitOfWork) -> None:
    seen: dict[str, list[Any]] = defaultdict(list)  # per statement: SQLAlchemy's cache hit, or "one call"
    step = -1

    def record_sql(statement: str, how: Any) -> None:
        words = statement.split()
        if step >= 0 and words[0] in ("INSERT", "UPDATE", "DELETE"):
            table = words[2] if words[0] != "UPDATE" else words[1]
            seen[f"{words[0]} {table}"].append((step, how))

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        record_sql(statement, context.cache_hit)

    listen_to_selects(engine, lambda statement, arguments: record_sql(statement, "one call"))

    offering = await mentor_and_mentee(uow)
    assert offering.id is not None
    async with uow:
        booked = await uow.bookings.add(booking(offering))
        await uow.commit()
    assert booked.id is not None
    for step in range(3):  # ``record_sql`` reads ``step``
        async with uow:
            await uow.dialogs.set(MENTEE_ID, "booking_notes", {"step": step, "name": "Zoë <b>"})
            await uow.offerings.apply_stats(offering.id, StatsDelta(bookings=1))
            reminder = Notification(
                NotificationKind.REMINDER, MENTEE_ID, T0 - timedelta(hours=step + 1), booked.id, 60
            )
            await uow.outbox.replace_timed(booked.id, [reminder])
            await uow.outbox.add([Notification(NotificationKind.NEW_BOOKING, MENTEE_ID, T0, booked.id)])
            await uow.commit()
    async with uow:
        assert await uow.dialogs.get(MENTEE_ID) == ("booking_notes", {"step": 2, "name": "Zoë <b>"})
    assert set(seen) == {"INSERT dialogs", "UPDATE offerings", "DELETE notifications", "INSERT notifications"}
    for statement, runs in seen.items():
        assert {at for at, _how in runs} == {0, 1, 2}, statement  # run at every step
        later = [how for at, how in runs if at > 0]
        assert all(how in (CacheStats.CACHE_HIT, "one call") for how in later), (statement, later)
    if engine.dialect.name == "sqlite":  # the dialog's upsert, from its second time on
        assert [how for at, how in seen["INSERT dialogs"] if at > 0] == ["one call", "one call"]
    else:  # the upsert begins the transaction (through SQLAlchemy); the writes after it, from their second time on
        assert [how for at, how in seen["INSERT dialogs"] if at > 0] == [CacheStats.CACHE_HIT] * 2
        assert [how for at, how in seen["UPDATE offerings"] if at > 0] == ["one call", "one call"]
