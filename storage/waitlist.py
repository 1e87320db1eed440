"""The waitlist's table (``domain.waitlist``): entries per offering in the order they joined, and per mentee."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, Table, and_, bindparam, delete, exists, func, insert, or_, select

from domain.waitlist import WaitlistEntry
from storage.db import Db
from storage.models import NotificationRow, UTCDateTime, WaitlistRow

_W: Table = WaitlistRow.__table__  # type: ignore[assignment]
_N: Table = NotificationRow.__table__  # type: ignore[assignment]

_INSERT = (
    insert(_W)
    .values(
        offering_id=bindparam("offering_id"),
        mentee_id=bindparam("mentee_id"),
        day=bindparam("day"),
        zone=bindparam("zone"),
        created_at=bindparam("created_at", type_=UTCDateTime()),
    )
    .returning(_W.c.id)
)
_BY_ID = select(*_W.c).where(_W.c.id == bindparam("entry_id"))
_OF_MENTEE = select(*_W.c).where(_W.c.mentee_id == bindparam("mentee_id")).order_by(_W.c.id)
# Entries that may match a freed start: any date, or one of the dates it falls on in some zone, and not told of
# that start yet (a waitlist notice in the outbox names the entry and the start; no start: NULL matches no
# notice); oldest first.
_CANDIDATES = (
    select(*_W.c)
    .where(
        _W.c.offering_id == bindparam("offering_id"),
        or_(_W.c.day.is_(None), and_(_W.c.day >= bindparam("first"), _W.c.day <= bindparam("last"))),
        ~exists().where(_N.c.waitlist_id == _W.c.id, _N.c.slot_start == bindparam("start", type_=UTCDateTime())),
    )
    .order_by(_W.c.id)
    .limit(bindparam("limit"))
)
_COUNT = select(func.count()).where(
    _W.c.offering_id == bindparam("offering_id"), or_(_W.c.day.is_(None), _W.c.day >= bindparam("today"))
)
_REMOVE = delete(_W).where(_W.c.id == bindparam("entry_id"), _W.c.mentee_id == bindparam("mentee_id"))
_REMOVE_FOR = delete(_W).where(
    _W.c.offering_id == bindparam("offering_id"), _W.c.mentee_id == bindparam("mentee_id")
)


def _entry(row: Row[Any]) -> WaitlistEntry:
    return WaitlistEntry(row.offering_id, row.mentee_id, row.day, row.zone, row.created_at, row.id)


class SqlWaitlistRepository:
    """Implements ``domain.ports.WaitlistRepository``; never commits."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, entry: WaitlistEntry) -> WaitlistEntry:
        values = {
            "offering_id": entry.offering_id,
            "mentee_id": entry.mentee_id,
            "day": entry.day,
            "zone": entry.zone,
            "created_at": entry.created_at,
        }
        return WaitlistEntry(**{**values, "id": await self._db.scalar(_INSERT, values)})

    async def get(self, entry_id: int) -> WaitlistEntry | None:
        row = await self._db.first(_BY_ID, {"entry_id": entry_id})
        return _entry(row) if row is not None else None

    async def for_mentee(self, mentee_id: int) -> list[WaitlistEntry]:
        return [_entry(row) for row in await self._db.rows(_OF_MENTEE, {"mentee_id": mentee_id})]

    async def candidates(
        self, offering_id: int, first: date, last: date, limit: int, *, untold_of: datetime | None = None
    ) -> list[WaitlistEntry]:
        params = {"offering_id": offering_id, "start": untold_of, "first": first, "last": last, "limit": limit}
        return [_entry(row) for row in await self._db.rows(_CANDIDATES, params)]

    async def count_waiting(self, offering_id: int, today: date) -> int:
        return int(await self._db.scalar(_COUNT, {"offering_id": offering_id, "today": today}) or 0)

    async def remove(self, entry_id: int, mentee_id: int) -> bool:
        return await self._db.rowcount(_REMOVE, {"entry_id": entry_id, "mentee_id": mentee_id}) == 1

    async def remove_for(self, offering_id: int, mentee_id: int) -> None:
        await self._db.write(_REMOVE_FOR, {"offering_id": offering_id, "mentee_id": mentee_id})
