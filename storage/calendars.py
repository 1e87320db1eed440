"""Calendar sync in storage: the personal feeds (``FeedRepository``) and the mentors' busy calendars with their
busy intervals (``BusyCalendarRepository``), ports of ``domain.ports``. Like every repository, none commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, or_, select, update

from domain.busy import BusyCalendar, Failure
from domain.calendar import FeedLink
from domain.model import BusyInterval
from storage.db import AnyRow, Db
from storage.models import Base, BusyCalendarRow, CalendarBusyRow, CalendarFeedRow, UTCDateTime
from storage.repositories import Prefetched, upsert

_FEEDS: Table = Base.metadata.tables[CalendarFeedRow.__tablename__]
_CALENDARS: Table = Base.metadata.tables[BusyCalendarRow.__tablename__]
_BUSY: Table = Base.metadata.tables[CalendarBusyRow.__tablename__]


# --------------------------------------------------------------------------------------------------------------
# Feeds
# --------------------------------------------------------------------------------------------------------------


def _feed_from_row(row: AnyRow) -> FeedLink:
    return FeedLink(row.user_id, row.token, row.token_digest, row.content_digest, row.changed_at)


_FEED_OF_USER = select(*_FEEDS.c).where(_FEEDS.c.user_id == bindparam("user_id"))
_FEED_BY_DIGEST = select(*_FEEDS.c).where(_FEEDS.c.token_digest == bindparam("digest"))
_FEED_SET_VERSION = (
    update(_FEEDS)
    .where(
        _FEEDS.c.user_id == bindparam("feed_of"),
        or_(_FEEDS.c.content_digest != bindparam("digest"), _FEEDS.c.content_digest.is_(None)),
    )
    .values(content_digest=bindparam("digest"), changed_at=bindparam("first_served", type_=UTCDateTime()))
)


class SqlFeedRepository:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(self, user_id: int) -> FeedLink | None:
        found = await self._db.first(_FEED_OF_USER, {"user_id": user_id})
        return _feed_from_row(found) if found else None

    async def find(self, token_digest: str) -> FeedLink | None:
        found = await self._db.first(_FEED_BY_DIGEST, {"digest": token_digest})
        return _feed_from_row(found) if found else None

    async def save(self, feed: FeedLink) -> None:
        """Insert or replace the person's feed (a new token starts with no version)."""
        values = {
            "user_id": feed.user_id,
            "token": feed.token,
            "token_digest": feed.token_digest,
            "content_digest": feed.content_digest,
            "changed_at": feed.changed_at,
        }
        await upsert(self._db, _FEEDS, values, key=("user_id",))

    async def set_version(self, user_id: int, content_digest: str, changed_at: datetime) -> None:
        """The feed's content is now ``content_digest``, first served at ``changed_at``; nothing changes when the
        digest is already that (another process served the same content first)."""
        params = {"feed_of": user_id, "digest": content_digest, "first_served": changed_at}
        await self._db.write(_FEED_SET_VERSION, params)


# --------------------------------------------------------------------------------------------------------------
# Busy calendars
# --------------------------------------------------------------------------------------------------------------


def _calendar_from_row(row: AnyRow) -> BusyCalendar:
    return BusyCalendar(
        id=row.id,
        mentor_id=row.mentor_id,
        url=row.url,
        created_at=row.created_at,
        etag=row.etag,
        last_modified=row.last_modified,
        last_attempt_at=row.last_attempt_at,
        last_success_at=row.last_success_at,
        busy_until=row.busy_until,
        failure=Failure.from_code(row.last_error) if row.last_error else None,
        failing_since=row.failing_since,
        failure_told=row.failure_told,
    )


def _calendar_values(calendar: BusyCalendar) -> dict[str, Any]:
    return {
        "mentor_id": calendar.mentor_id,
        "url": calendar.url,
        "created_at": calendar.created_at,
        "etag": calendar.etag,
        "last_modified": calendar.last_modified,
        "last_attempt_at": calendar.last_attempt_at,
        "last_success_at": calendar.last_success_at,
        "busy_until": calendar.busy_until,
        "last_error": calendar.failure.code if calendar.failure is not None else None,
        "failing_since": calendar.failing_since,
        "failure_told": calendar.failure_told,
    }


_C = _CALENDARS.c
_CALENDAR_BY_ID = select(*_C).where(_C.id == bindparam("id"))
_CALENDARS_OF_MENTOR = select(*_C).where(_C.mentor_id == bindparam("mentor_id")).order_by(_C.id)
_DUE = (
    select(_C.id)
    .where((_C.last_attempt_at.is_(None)) | (_C.last_attempt_at <= bindparam("before", type_=UTCDateTime())))
    .order_by(_C.last_attempt_at.is_not(None), _C.last_attempt_at, _C.id)
    .limit(bindparam("limit"))
)
# The busy intervals of a mentor's calendars that still block (read successfully since ``fresh``), in a range.
_BUSY_OF_MENTOR = (
    select(_BUSY.c.starts_at, _BUSY.c.ends_at)
    .join(_CALENDARS, _C.id == _BUSY.c.calendar_id)
    .where(
        _BUSY.c.mentor_id == bindparam("mentor_id"),
        _BUSY.c.starts_at < bindparam("end", type_=UTCDateTime()),
        _BUSY.c.ends_at > bindparam("start", type_=UTCDateTime()),
        _C.last_success_at >= bindparam("fresh", type_=UTCDateTime()),
    )
    .order_by(_BUSY.c.starts_at)
)
_CALENDAR_FIELDS = (
    "mentor_id", "url", "created_at", "etag", "last_modified", "last_attempt_at", "last_success_at", "busy_until",
    "last_error", "failing_since", "failure_told",
)  # fmt: skip
_CALENDAR_INSERT = (
    insert(_CALENDARS)
    .values({name: bindparam(name, type_=_C[name].type) for name in _CALENDAR_FIELDS})
    .returning(_C.id)
)
_CALENDAR_UPDATE = (
    update(_CALENDARS)
    .where(_C.id == bindparam("calendar_id"))
    .values({name: bindparam(name, type_=_C[name].type) for name in _CALENDAR_FIELDS})
)
_BUSY_OF_CALENDAR_DELETE = delete(_BUSY).where(_BUSY.c.calendar_id == bindparam("calendar_id"))
_CALENDAR_DELETE = delete(_CALENDARS).where(_C.id == bindparam("calendar_id"))
_BUSY_COLUMNS = ("calendar_id", "mentor_id", "starts_at", "ends_at")
_BUSY_INSERT = insert(_BUSY).values({name: bindparam(name, type_=_BUSY.c[name].type) for name in _BUSY_COLUMNS})


class SqlBusyCalendarRepository:
    def __init__(self, db: Db, prefetched: Prefetched | None = None) -> None:
        self._db = db
        self._prefetched = prefetched or Prefetched()  # mentors known to have no calendar (``get_with_mentor``)

    async def list_for_mentor(self, mentor_id: int) -> list[BusyCalendar]:
        rows = await self._db.rows(_CALENDARS_OF_MENTOR, {"mentor_id": mentor_id})
        return [_calendar_from_row(row) for row in rows]

    async def get(self, calendar_id: int) -> BusyCalendar | None:
        found = await self._db.first(_CALENDAR_BY_ID, {"id": calendar_id})
        return _calendar_from_row(found) if found else None

    async def add(self, calendar: BusyCalendar) -> BusyCalendar:
        self._prefetched.without_calendars.discard(calendar.mentor_id)
        new_id = await self._db.scalar(_CALENDAR_INSERT, _calendar_values(calendar))
        return calendar.with_changes(id=new_id)

    async def save(self, calendar: BusyCalendar) -> bool:
        """Save every field; False when the calendar is gone (removed while it was being read)."""
        params = {"calendar_id": calendar.id, **_calendar_values(calendar)}
        return await self._db.rowcount(_CALENDAR_UPDATE, params) == 1

    async def remove(self, calendar_id: int) -> None:
        """The calendar and its busy intervals."""
        await self._db.write(_BUSY_OF_CALENDAR_DELETE, {"calendar_id": calendar_id})
        await self._db.write(_CALENDAR_DELETE, {"calendar_id": calendar_id})

    async def replace_busy(self, calendar: BusyCalendar, intervals: Sequence[BusyInterval]) -> None:
        """The calendar's busy intervals are exactly ``intervals`` from now on."""
        await self._db.write(_BUSY_OF_CALENDAR_DELETE, {"calendar_id": calendar.id})
        if intervals:
            await self._db.write(
                _BUSY_INSERT,
                [
                    {
                        "calendar_id": calendar.id,
                        "mentor_id": calendar.mentor_id,
                        "starts_at": interval.start,
                        "ends_at": interval.end,
                    }
                    for interval in intervals
                ],
            )

    async def busy_for_mentor(
        self, mentor_id: int, start: datetime, end: datetime, fresh_since: datetime
    ) -> list[BusyInterval]:
        if mentor_id in self._prefetched.without_calendars:  # read with the offering: none to look at
            return []
        params = {"mentor_id": mentor_id, "start": start, "end": end, "fresh": fresh_since}
        rows = await self._db.rows(_BUSY_OF_MENTOR, params)
        return [BusyInterval(row.starts_at, row.ends_at) for row in rows]

    async def due(self, before: datetime, limit: int) -> list[int]:
        rows = await self._db.rows(_DUE, {"before": before, "limit": limit})
        return [row.id for row in rows]
