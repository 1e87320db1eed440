from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domain.errors import NotFound
from storage.models import DialogRow, UserRow
from storage.uow import SqlUnitOfWork
from tests.storage.builders import user


async def test_user_round_trip(uow: SqlUnitOfWork) -> None:
    full = user(
        7_000_000_001,  # beyond 32 bits: Telegram ids are 64-bit
        first_name="Ада",
        last_name="Lovelace 🧮",
        username="ada",
        locale="hi",
        timezone="Asia/Kolkata",
        is_mentor=True,
    )
    minimal = user(5)
    async with uow:
        assert await uow.users.add(full) == full
        assert await uow.users.add(minimal) == minimal
        await uow.commit()
    async with uow:
        assert await uow.users.get(full.id) == full
        assert await uow.users.get(minimal.id) == minimal
        assert await uow.users.get(404) is None


async def test_user_update(uow: SqlUnitOfWork) -> None:
    async with uow:
        await uow.users.add(user(5))
        await uow.commit()
    changed = user(5, first_name="New", last_name=None, username="n", locale="ru", timezone="UTC", is_mentor=True)
    async with uow:
        assert await uow.users.update(changed) == changed
        await uow.commit()
    async with uow:
        assert await uow.users.get(5) == changed
        with pytest.raises(NotFound):
            await uow.users.update(user(404))


async def test_server_side_timestamps_read_back_as_aware_utc(uow: SqlUnitOfWork) -> None:
    async with uow:
        await uow.users.add(user(5))
        await uow.dialogs.set(5, "s", {})
        await uow.commit()
    async with uow:
        stamps = [
            *(await uow.db.execute(select(UserRow.created_at, UserRow.updated_at))).one(),
            (await uow.db.execute(select(DialogRow.updated_at))).scalar_one(),
        ]
    now = datetime.now(UTC)
    for stamp in stamps:
        assert stamp.tzinfo is UTC
        assert abs(stamp - now) < timedelta(minutes=5)


async def test_duplicate_user_is_rejected(uow: SqlUnitOfWork) -> None:
    async with uow:
        await uow.users.add(user(5))
        await uow.commit()
    async with uow:
        with pytest.raises(IntegrityError):
            await uow.users.add(user(5))


async def test_dialog_round_trip(uow: SqlUnitOfWork) -> None:
    data = {
        "offering_id": 12,
        "date": "2030-03-04",
        "price": "500.00",
        "nested": {"list": [1, 2.5, None, True, "ß"], "empty": {}},
        "emoji": "📅",
    }
    async with uow:
        assert await uow.dialogs.get(9) is None
        await uow.dialogs.set(9, "booking.choose_time", data)  # no users row needed
        await uow.commit()
    async with uow:
        assert await uow.dialogs.get(9) == ("booking.choose_time", data)
        await uow.dialogs.set(9, "booking.confirm", {"step": 2})
        assert await uow.dialogs.get(9) == ("booking.confirm", {"step": 2})
        await uow.commit()
    async with uow:
        assert await uow.dialogs.get(9) == ("booking.confirm", {"step": 2})
        await uow.dialogs.clear(9)
        await uow.dialogs.clear(9)  # clearing nothing is fine
        assert await uow.dialogs.get(9) is None
        await uow.commit()
    async with uow:
        assert await uow.dialogs.get(9) is None


async def test_dialogs_are_per_user(uow: SqlUnitOfWork) -> None:
    async with uow:
        await uow.dialogs.set(1, "a", {"x": 1})
        await uow.dialogs.set(2, "b", {"x": 2})
        await uow.dialogs.clear(1)
        await uow.commit()
    async with uow:
        assert await uow.dialogs.get(1) is None
        assert await uow.dialogs.get(2) == ("b", {"x": 2})
