"""``storage.repositories.compiled_once``: the dialects' ``INSERT ... ON CONFLICT`` runs from SQLAlchemy's
cache."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.interfaces import CacheStats
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import DialogRow
from storage.outbox import _insert_statement
from storage.repositories import _upsert_statement, dialect_insert
from storage.uow import SqlUnitOfWork
from tests.storage.builders import user


def test_the_dialects_insert_has_no_cache_key_and_the_compiled_text_has_one() -> None:
    for dialect in ("sqlite", "postgresql"):
        plain = dialect_insert(dialect, DialogRow).values(user_id=1)
        assert plain.on_conflict_do_nothing()._generate_cache_key() is None  # why compiled_once exists
        upsert = _upsert_statement(dialect, DialogRow, ("user_id", "state", "data"), ("user_id",), "updated_at")
        assert upsert._generate_cache_key() is not None
        for reschedule in (False, True):
            assert _insert_statement(dialect, reschedule)._generate_cache_key() is not None
        assert "RETURNING" not in _insert_statement(dialect, False).text


async def test_the_dialog_upsert_runs_from_the_cache(engine: AsyncEngine, uow: SqlUnitOfWork) -> None:
    seen: list[tuple[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.startswith("INSERT INTO"):
            seen.append((statement.split()[2], context.cache_hit))

    async with uow:
        await uow.users.add(user(1))
        await uow.commit()
    for step in range(3):
        async with uow:
            await uow.dialogs.set(1, "booking_notes", {"step": step, "name": "Zoë <b>"})
            await uow.commit()
    async with uow:
        assert await uow.dialogs.get(1) == ("booking_notes", {"step": 2, "name": "Zoë <b>"})
    dialogs = [hit for table, hit in seen if table == "dialogs"]
    assert dialogs[1:] == [CacheStats.CACHE_HIT, CacheStats.CACHE_HIT]  # was NO_CACHE_KEY every time
