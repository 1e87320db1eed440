"""Repositories: the ports of ``domain.ports`` as Core statements on one unit of work's connection
(``storage.db.Db``).

Every method takes and returns domain objects, and none of them commits: the unit of work
(``storage.uow.SqlUnitOfWork``) owns the transaction. No ORM session is involved: the mapped classes of
``storage.models`` describe the tables, and the statements here run on their ``Table`` objects, most of them built
once at import (a statement built once keeps its cache key and leaves no expression trees to the garbage
collector). A new row's id comes back from its ``INSERT ... RETURNING``.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from domain import inbox as inbox_rules
from domain import mentee as mentee_rules
from domain.discovery import PRICE_BOUNDS, Filters, Match, Review, SortOrder
from domain.errors import NotFound
from domain.inbox import WEEK_STATUSES, InboxTab, MentorStats
from domain.mentee import MyTab
from domain.model import (
    ALLOWED_DURATIONS,
    MAX_BUFFER_MINUTES,
    Actor,
    Availability,
    Booking,
    BookingSet,
    BookingStatus,
    Category,
    Currency,
    DateOverride,
    MentorProfile,
    Offering,
    OfferingStatus,
    PaymentMode,
    PaymentStatus,
    StatsDelta,
    TimeRange,
    User,
    WeeklyRule,
)
from storage.db import AnyRow, Db
from storage.models import (
    AvailabilityOverrideRow,
    AvailabilityRuleRow,
    BookingRow,
    BusyCalendarRow,
    DialogRow,
    MentorProfileRow,
    OfferingRow,
    UserRow,
    UTCDateTime,
)

FALLBACK_TIMEZONE = "UTC"
_ACTIVE_STATUSES = tuple(s.value for s in BookingStatus if s.is_active)


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


_USERS = _table(UserRow)
_PROFILES = _table(MentorProfileRow)
_RULES = _table(AvailabilityRuleRow)
_OVERRIDES = _table(AvailabilityOverrideRow)
_OFFERINGS = _table(OfferingRow)
_BOOKINGS = _table(BookingRow)
_DIALOGS = _table(DialogRow)
_BUSY_CALENDARS = _table(BusyCalendarRow)


def dialect_insert(dialect: str, table: Table) -> Any:
    """The dialect's ``INSERT`` (with ``on_conflict_do_*``, which both spell the same way). SQLAlchemy caches its
    compiled form like any other statement's (since 2.1)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"no INSERT ... ON CONFLICT for {dialect!r}")  # pragma: no cover - create_engine refuses


async def upsert(
    db: Db, table: Table, values: dict[str, Any], key: tuple[str, ...], touch: str | None = None
) -> None:
    """Insert ``values``; on a ``key`` conflict overwrite the other columns of ``values`` (and set the ``touch``
    column to ``now()``). ``INSERT ... ON CONFLICT (key) DO UPDATE SET col = excluded.col``: both dialects spell
    it the same way."""
    await db.write(_upsert_statement(db.dialect, table, tuple(values), key, touch), values)


@functools.cache
def _upsert_statement(
    dialect: str, table: Table, columns: tuple[str, ...], key: tuple[str, ...], touch: str | None
) -> Any:
    """Built once per shape: each ``excluded`` is a new alias of the whole table, and a statement built per call
    left a cycle of columns and collections for the garbage collector on every dialog step."""
    stmt = dialect_insert(dialect, table).values({name: bindparam(name) for name in columns})
    updates: dict[str, Any] = {name: stmt.excluded[name] for name in columns if name not in key}
    if touch is not None:
        updates[touch] = func.now()
    return stmt.on_conflict_do_update(index_elements=list(key), set_=updates)


def _insert_values(table: Table, columns: Iterable[str]) -> Any:
    """``INSERT INTO table (columns) VALUES (:column, ...)``."""
    return insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in columns})


# --------------------------------------------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------------------------------------------


_USER_FIELDS = ("id", "first_name", "last_name", "username", "locale", "timezone", "is_mentor", "daily_agenda")


def _user_from_row(row: AnyRow, prefix: str = "") -> User:
    """``prefix``: the user's columns are labelled ``prefix + name`` (a user joined to another table)."""
    return User(**{name: getattr(row, prefix + name) for name in _USER_FIELDS})


def _user_values(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in _USER_FIELDS}


_U = _USERS.c
_USER_BY_ID = select(*_U).where(_U.id == bindparam("id"))
_USER_INSERT = _insert_values(_USERS, _USER_FIELDS)
_USER_UPDATE = (
    update(_USERS)
    .where(_U.id == bindparam("user_id"))
    .values({name: bindparam(name, type_=_U[name].type) for name in _USER_FIELDS if name != "id"})
)
_USER_UNREACHABLE = update(_USERS).where(_U.id == bindparam("user_id")).values(unreachable=True)
_USER_REACHABLE = (
    update(_USERS).where(_U.id == bindparam("user_id"), _U.unreachable.is_(True)).values(unreachable=False)
)
_USER_IS_UNREACHABLE = select(_U.unreachable).where(_U.id == bindparam("id"))


class SqlUserRepository:
    def __init__(self, db: Db, prefetched: Prefetched | None = None) -> None:
        self._db = db
        self._prefetched = prefetched  # a mentor's time zone is part of their availability
        self._reachable: set[int] = set()  # loaded in this transaction and not blocked (see mark_reachable)

    async def get(self, user_id: int) -> User | None:
        row = await self._db.first(_USER_BY_ID, {"id": user_id})
        if row is None:
            return None
        if row.unreachable:
            self._reachable.discard(user_id)
        else:
            self._reachable.add(user_id)
        return _user_from_row(row)

    async def add(self, user: User) -> User:
        await self._db.write(_USER_INSERT, _user_values(user))
        return user

    async def update(self, user: User) -> User:
        if self._prefetched is not None:
            self._prefetched.clear()
        values = _user_values(user)
        values["user_id"] = values.pop("id")
        if await self._db.rowcount(_USER_UPDATE, values) != 1:
            raise NotFound(f"user {user.id}")
        return user

    # -- reachability (``storage.outbox`` / ``bot.dispatcher``): not part of the domain ``User`` --------------

    async def mark_unreachable(self, user_id: int) -> None:
        """The user blocked the bot (Telegram said 403): skip their notifications until they write again."""
        self._reachable.discard(user_id)
        await self._db.write(_USER_UNREACHABLE, {"user_id": user_id})

    async def mark_reachable(self, user_id: int) -> None:
        """The user wrote to the bot: deliver their notifications again (no write when nothing changes).

        Runs on every update (``handlers.common.remember_user``, right after ``get``): when the row this unit of
        work already loaded says the user is reachable, there is nothing to do and no statement is sent."""
        if user_id in self._reachable:
            return
        await self._db.write(_USER_REACHABLE, {"user_id": user_id})

    async def is_unreachable(self, user_id: int) -> bool:
        if user_id in self._reachable:  # loaded as reachable in this transaction
            return False
        return bool(await self._db.scalar(_USER_IS_UNREACHABLE, {"id": user_id}))


# --------------------------------------------------------------------------------------------------------------
# Mentor profiles
# --------------------------------------------------------------------------------------------------------------

_PROFILE_OF = select(*_PROFILES.c).where(_PROFILES.c.user_id == bindparam("user_id"))


class SqlProfileRepository:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(self, user_id: int) -> MentorProfile | None:
        row = await self._db.first(_PROFILE_OF, {"user_id": user_id})
        if row is None:
            return None
        return MentorProfile(
            user_id=row.user_id,
            display_name=row.display_name,
            headline=row.headline or "",
            bio=row.bio or "",
            expertise=tuple(row.expertise or ()),
            languages=tuple(row.languages or ()),
            upi_id=row.upi_id,
        )

    async def save(self, profile: MentorProfile) -> None:
        values = {
            "user_id": profile.user_id,
            "display_name": profile.display_name,
            "headline": profile.headline,
            "bio": profile.bio,
            "expertise": list(profile.expertise),
            "languages": list(profile.languages),
            "upi_id": profile.upi_id,
        }
        await upsert(self._db, _PROFILES, values, key=("user_id",))


# --------------------------------------------------------------------------------------------------------------
# Availability
# --------------------------------------------------------------------------------------------------------------


def _rule_from_row(row: AnyRow) -> WeeklyRule:
    return WeeklyRule(row.weekday, TimeRange(row.start_minute, row.end_minute))


_RULE_COLUMNS = ("mentor_id", "offering_id", "weekday", "start_minute", "end_minute")
_RULE_INSERT = _insert_values(_RULES, _RULE_COLUMNS)


async def _insert_rules(db: Db, mentor_id: int, offering_id: int | None, rules: Iterable[WeeklyRule]) -> None:
    values = [
        {
            "mentor_id": mentor_id,
            "offering_id": offering_id,
            "weekday": rule.weekday,
            "start_minute": rule.range.start,
            "end_minute": rule.range.end,
        }
        for rule in rules
    ]
    if values:
        await db.write(_RULE_INSERT, values)


def _overrides_from_rows(rows: Iterable[tuple[date, int | None, int | None]]) -> list[DateOverride]:
    """``(day, start_minute, end_minute)`` sorted by day into one override per day; a row without minutes marks
    the day off."""
    by_day: dict[date, list[TimeRange]] = defaultdict(list)
    for day, start, end in rows:
        ranges = by_day[day]  # creates the day even for a day-off row
        if start is not None and end is not None:
            ranges.append(TimeRange(start, end))
    return [DateOverride(day, tuple(ranges)) for day, ranges in by_day.items()]


# A mentor's availability in one statement: their zone with their profile rules (no rule: one row of NULLs),
# then their date overrides. ``part`` 0 rows are the first, 1 the second.
_AVAILABILITY_OF_MENTOR = union_all(
    select(
        literal_column("0").label("part"),
        _USERS.c.timezone,
        _RULES.c.weekday,
        type_coerce(null(), _OVERRIDES.c.day.type).label("day"),
        _RULES.c.start_minute,
        _RULES.c.end_minute,
        _RULES.c.id.label("row_id"),
    )
    .select_from(_USERS.outerjoin(_RULES, and_(_RULES.c.mentor_id == _USERS.c.id, _RULES.c.offering_id.is_(None))))
    .where(_USERS.c.id == bindparam("mentor_id")),
    select(
        literal_column("1"),
        null(),
        null(),
        _OVERRIDES.c.day,
        _OVERRIDES.c.start_minute,
        _OVERRIDES.c.end_minute,
        _OVERRIDES.c.id,
    ).where(_OVERRIDES.c.mentor_id == bindparam("mentor_id")),
).order_by(text("part"), text("weekday"), text("day"), text("start_minute"), text("row_id"))


def _availability(
    timezone: str | None, rules: list[WeeklyRule], overrides: list[tuple[date, int | None, int | None]]
) -> Availability | None:
    if timezone is None and not rules and not overrides:
        return None
    return Availability(
        timezone=timezone or FALLBACK_TIMEZONE,
        weekly=tuple(rules),
        overrides=tuple(_overrides_from_rows(overrides)),
    )


class Prefetched:
    """Mentors' availability read together with something else in this unit of work, for the next
    ``SqlAvailabilityRepository.get`` of that mentor (``SqlOfferingRepository.get_with_mentor``: every booking step
    reads both, in one statement). Used once; any write to users or availability in the unit of work drops it.

    ``without_calendars``: mentors that statement found without any busy calendar, whose busy intervals
    (``storage.calendars.SqlBusyCalendarRepository.busy_for_mentor``) are then known to be none without another
    statement, for the rest of the unit of work; adding a calendar in it drops them."""

    __slots__ = ("availability", "without_calendars")

    def __init__(self) -> None:
        self.availability: dict[int, Availability | None] = {}
        self.without_calendars: set[int] = set()

    def clear(self) -> None:
        self.availability.clear()
        self.without_calendars.clear()


class SqlAvailabilityRepository:
    """Profile availability: weekly rules with ``offering_id IS NULL`` plus date overrides, in the mentor's zone.

    ``get`` returns None when the mentor does not exist, or has neither a time zone nor any rule or override
    (availability never set). A mentor with a time zone but no rules gets an empty ``Availability`` in that zone
    (an offering with its own weekly rules still needs the zone and the overrides). Rules or overrides without a
    time zone - which the bot's flows never produce - are read in ``FALLBACK_TIMEZONE`` (UTC).

    Overrides are written one date at a time (``set_override`` / ``clear_override``).
    """

    def __init__(self, db: Db, prefetched: Prefetched | None = None) -> None:
        self._db = db
        self._prefetched = prefetched or Prefetched()

    async def get(self, mentor_id: int) -> Availability | None:
        known = self._prefetched.availability
        if mentor_id in known:
            return known.pop(mentor_id)
        found = await self._db.rows(_AVAILABILITY_OF_MENTOR, {"mentor_id": mentor_id})
        if not found or found[0].part != 0:  # no such user
            return None
        rules = [_rule_from_row(r) for r in found if r.part == 0 and r.weekday is not None]
        overrides = [(r.day, r.start_minute, r.end_minute) for r in found if r.part == 1]
        return _availability(found[0].timezone, rules, overrides)

    async def replace_weekly(self, mentor_id: int, rules: Sequence[WeeklyRule]) -> None:
        self._prefetched.clear()
        await self._db.write(_PROFILE_RULES_DELETE, {"mentor_id": mentor_id})
        await _insert_rules(self._db, mentor_id, None, rules)

    async def set_override(self, mentor_id: int, override: DateOverride) -> None:
        """Replace whatever ``override.day`` had; an override without ranges stores a day off."""
        self._prefetched.clear()
        await self.clear_override(mentor_id, override.day)
        ranges: Sequence[TimeRange | None] = override.ranges or (None,)
        await self._db.write(
            _OVERRIDE_INSERT,
            [
                {
                    "mentor_id": mentor_id,
                    "day": override.day,
                    "start_minute": r.start if r else None,
                    "end_minute": r.end if r else None,
                }
                for r in ranges
            ],
        )

    async def clear_override(self, mentor_id: int, day: date) -> None:
        self._prefetched.clear()
        await self._db.write(_OVERRIDE_DELETE, {"mentor_id": mentor_id, "day": day})

    async def list_overrides(self, mentor_id: int, first: date, last: date) -> list[DateOverride]:
        rows = await self._db.rows(_OVERRIDES_BETWEEN, {"mentor_id": mentor_id, "first": first, "last": last})
        return _overrides_from_rows((r.day, r.start_minute, r.end_minute) for r in rows)


_O = _OVERRIDES.c
_PROFILE_RULES_DELETE = delete(_RULES).where(
    _RULES.c.mentor_id == bindparam("mentor_id"), _RULES.c.offering_id.is_(None)
)
_OVERRIDE_INSERT = _insert_values(_OVERRIDES, ("mentor_id", "day", "start_minute", "end_minute"))
_OVERRIDE_DELETE = delete(_OVERRIDES).where(_O.mentor_id == bindparam("mentor_id"), _O.day == bindparam("day"))
_OVERRIDES_BETWEEN = (
    select(*_O)
    .where(
        _O.mentor_id == bindparam("mentor_id"),
        _O.day >= bindparam("first", type_=_O.day.type),
        _O.day <= bindparam("last", type_=_O.day.type),
    )
    .order_by(_O.day, _O.start_minute, _O.id)
)


# --------------------------------------------------------------------------------------------------------------
# Offerings
# --------------------------------------------------------------------------------------------------------------

_OFFERING_EDITABLE = (
    "title",
    "description",
    "price",
    "duration_minutes",
    "use_profile_availability",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "max_bookings_per_day",
    "advance_booking_days",
    "min_notice_hours",
    "cancellation_policy",
    "cancellation_cutoff_hours",
    "reschedule_cutoff_hours",
    "preparation_notes",
    "price_stars",
    "auto_confirm_paid",
    "capacity",
    "package_weeks",
)


def _offering_from_row(row: AnyRow, rules: Sequence[WeeklyRule]) -> Offering:
    return Offering(
        id=row.id,
        mentor_id=row.mentor_id,
        title=row.title,
        description=row.description,
        category=Category(row.category),
        price=row.price,
        duration_minutes=row.duration_minutes,
        use_profile_availability=row.use_profile_availability,
        weekly_rules=tuple(rules),
        buffer_before_minutes=row.buffer_before_minutes,
        buffer_after_minutes=row.buffer_after_minutes,
        max_bookings_per_day=row.max_bookings_per_day,
        advance_booking_days=row.advance_booking_days,
        min_notice_hours=row.min_notice_hours,
        cancellation_policy=row.cancellation_policy,
        cancellation_cutoff_hours=row.cancellation_cutoff_hours,
        reschedule_cutoff_hours=row.reschedule_cutoff_hours,
        preparation_notes=row.preparation_notes,
        price_stars=row.price_stars,
        auto_confirm_paid=row.auto_confirm_paid,
        capacity=row.capacity,
        package_weeks=row.package_weeks,
        status=OfferingStatus(row.status),
        total_bookings=row.total_bookings,
        total_completed=row.total_completed,
        rating_sum=row.rating_sum,
        rating_count=row.rating_count,
    )


def _offering_values(offering: Offering) -> dict[str, Any]:
    """The columns ``OfferingRepository.update`` writes: the editable fields, category and status."""
    values = {name: getattr(offering, name) for name in _OFFERING_EDITABLE}
    values["category"] = offering.category.value
    values["status"] = offering.status.value
    return values


def _average_rating_sql(dialect: str, rating_sum: ColumnElement[int], rating_count: ColumnElement[int]) -> Any:
    """SQL for ``rating_sum / rating_count`` rounded half-even to 0.01 (``Offering.average_rating``); NULL at 0.

    Integer arithmetic on both databases: ``hundredths = round_half_even(100 * sum / count)``. On SQLite that
    integer *is* the stored form of ``ExactDecimal(3, 2)``; PostgreSQL divides it by 100 into ``numeric``.
    """
    numerator = rating_sum * 100
    quotient = numerator // rating_count  # integer division (operands are never negative)
    remainder = numerator - quotient * rating_count
    hundredths = case(
        (remainder * 2 > rating_count, quotient + 1),
        (and_(remainder * 2 == rating_count, quotient % 2 == 1), quotient + 1),
        else_=quotient,
    )
    value: Any = hundredths if dialect == "sqlite" else hundredths / literal(100, postgresql.NUMERIC)
    return case((rating_count > 0, value), else_=None)


@functools.cache
def _apply_stats_statement(dialect: str) -> Any:
    """``OfferingRepository.apply_stats``, built once per dialect (each build leaves a tree of expressions with
    cycles for the garbage collector)."""
    o = _OFFERINGS.c
    new_sum = o.rating_sum + bindparam("d_rating_sum", type_=Integer)
    new_count = o.rating_count + bindparam("d_rating_count", type_=Integer)
    return (
        update(_OFFERINGS)
        .where(o.id == bindparam("offering_id"))
        .values(
            total_bookings=o.total_bookings + bindparam("d_bookings", type_=Integer),
            total_completed=o.total_completed + bindparam("d_completed", type_=Integer),
            rating_sum=new_sum,
            rating_count=new_count,
            average_rating=_average_rating_sql(dialect, new_sum, new_count),
        )
    )


_OFFERING_WITH_RULES = (
    select(
        *_OFFERINGS.c,
        _RULES.c.weekday.label("rule_weekday"),
        _RULES.c.start_minute.label("rule_start_minute"),
        _RULES.c.end_minute.label("rule_end_minute"),
    )
    .select_from(_OFFERINGS.outerjoin(_RULES, _RULES.c.offering_id == _OFFERINGS.c.id))
    .where(_OFFERINGS.c.id == bindparam("id"))
    .order_by(_RULES.c.weekday, _RULES.c.start_minute, _RULES.c.id)
)


_MENTOR = _USERS.alias("mentor")
_MENTOR_PREFIX = "mentor_user_"  # the mentor's columns beside an offering's (offerings has its own mentor_id)
_MENTOR_COLUMNS = tuple(column.label(_MENTOR_PREFIX + column.name) for column in _U)  # the users table's
_OFFERING_WITH_MENTOR = (
    select(
        *_OFFERING_WITH_RULES.selected_columns,
        *(column.label(_MENTOR_PREFIX + column.name) for column in _MENTOR.c),
    )
    .select_from(
        _OFFERINGS.join(_MENTOR, _MENTOR.c.id == _OFFERINGS.c.mentor_id).outerjoin(
            _RULES, _RULES.c.offering_id == _OFFERINGS.c.id
        )
    )
    .where(_OFFERINGS.c.id == bindparam("id"))
    .order_by(_RULES.c.weekday, _RULES.c.start_minute, _RULES.c.id)
)


# The offering with its own rules and its mentor (part 0), and that mentor's availability: profile rules (part 1)
# and date overrides (part 2), and their busy calendars' ids (part 3: whether there are any), in one statement:
# what every booking step reads first.
_MENTOR_OF_OFFERING = select(_OFFERINGS.c.mentor_id).where(_OFFERINGS.c.id == bindparam("id")).scalar_subquery()


def _hours_part(part: int, **values: Any) -> list[Any]:
    """The columns of ``_OFFERING_WITH_MENTOR_AND_HOURS`` for a part of the mentor's hours: ``values`` by name,
    NULL for the offering's and the mentor's."""
    names = ["part", *(c.name for c in _OFFERING_WITH_MENTOR.selected_columns), "override_day", "row_id"]
    values["part"] = literal_column(str(part))
    return [values.get(name, null()) for name in names]


_OFFERING_WITH_MENTOR_AND_HOURS = union_all(
    select(
        literal_column("0").label("part"),
        *_OFFERING_WITH_MENTOR.selected_columns,
        cast(null(), _OVERRIDES.c.day.type).label("override_day"),  # typed: PostgreSQL unites NULL, NULL, date
        _RULES.c.id.label("row_id"),
    )
    .select_from(
        _OFFERINGS.join(_MENTOR, _MENTOR.c.id == _OFFERINGS.c.mentor_id).outerjoin(
            _RULES, _RULES.c.offering_id == _OFFERINGS.c.id
        )
    )
    .where(_OFFERINGS.c.id == bindparam("id")),
    select(
        *_hours_part(
            1,
            rule_weekday=_RULES.c.weekday,
            rule_start_minute=_RULES.c.start_minute,
            rule_end_minute=_RULES.c.end_minute,
            row_id=_RULES.c.id,
        )
    ).where(_RULES.c.mentor_id == _MENTOR_OF_OFFERING, _RULES.c.offering_id.is_(None)),
    select(
        *_hours_part(
            2,
            rule_start_minute=_OVERRIDES.c.start_minute,
            rule_end_minute=_OVERRIDES.c.end_minute,
            override_day=_OVERRIDES.c.day,
            row_id=_OVERRIDES.c.id,
        )
    ).where(_OVERRIDES.c.mentor_id == _MENTOR_OF_OFFERING),
    select(*_hours_part(3, row_id=_BUSY_CALENDARS.c.id)).where(_BUSY_CALENDARS.c.mentor_id == _MENTOR_OF_OFFERING),
).order_by(text("part"), text("rule_weekday"), text("override_day"), text("rule_start_minute"), text("row_id"))


def _offering_with_rules(rows: Sequence[AnyRow]) -> Offering:
    """The offering of ``rows`` (one per own weekly rule, or one with NULL rule columns)."""
    rules = [
        WeeklyRule(r.rule_weekday, TimeRange(r.rule_start_minute, r.rule_end_minute))
        for r in rows
        if r.rule_weekday is not None
    ]
    return _offering_from_row(rows[0], rules)


_OF = _OFFERINGS.c
_OFFERING_WRITTEN = (*_OFFERING_EDITABLE, "category", "status")
_OFFERING_INSERT = _insert_values(
    _OFFERINGS,
    ("mentor_id", *_OFFERING_WRITTEN, "total_bookings", "total_completed", "rating_sum", "rating_count",
     "average_rating"),
).returning(_OF.id)  # fmt: skip
_OFFERING_UPDATE = (
    update(_OFFERINGS)
    .where(_OF.id == bindparam("offering_id"))
    .values({name: bindparam(name, type_=_OF[name].type) for name in _OFFERING_WRITTEN})
    .returning(_OF.mentor_id)
)
_OFFERING_RULES_DELETE = delete(_RULES).where(_RULES.c.offering_id == bindparam("offering_id"))
_OFFERING_DELETE = delete(_OFFERINGS).where(_OF.id == bindparam("offering_id"))
_OFFERINGS_OF_MENTOR = select(*_OF).where(_OF.mentor_id == bindparam("mentor_id")).order_by(_OF.id)
_ANY_BOOKING_OF_OFFERING = (
    select(_BOOKINGS.c.id).where(_BOOKINGS.c.offering_id == bindparam("offering_id")).limit(1)
)
_RULES_OF_OFFERINGS = (
    select(*_RULES.c)
    .where(_RULES.c.offering_id.in_(bindparam("offering_ids", expanding=True)))
    .order_by(_RULES.c.weekday, _RULES.c.start_minute, _RULES.c.id)
)


async def _rules_for(db: Db, offering_ids: Sequence[int]) -> dict[int, list[WeeklyRule]]:
    """The offerings' own weekly rules, by offering id."""
    rules: dict[int, list[WeeklyRule]] = defaultdict(list)
    if offering_ids:
        for row in await db.rows(_RULES_OF_OFFERINGS, {"offering_ids": list(offering_ids)}):
            rules[row.offering_id].append(_rule_from_row(row))
    return rules


class SqlOfferingRepository:
    """Offerings, with their own weekly rules (``availability_rules.offering_id``) in ``Offering.weekly_rules``."""

    def __init__(self, db: Db, prefetched: Prefetched | None = None) -> None:
        self._db = db
        self._prefetched = prefetched or Prefetched()

    async def get(self, offering_id: int) -> Offering | None:
        # the offering and its own weekly rules in one query (no rule: one row with NULL rule columns)
        rows = await self._db.rows(_OFFERING_WITH_RULES, {"id": offering_id})
        return _offering_with_rules(rows) if rows else None

    async def get_with_mentor(self, offering_id: int) -> tuple[Offering, User] | None:
        """The offering with its own weekly rules and its mentor, in one query (every booking step needs both);
        the mentor's availability comes with it, for the ``availability.get`` that follows (``Prefetched``)."""
        rows = await self._db.rows(_OFFERING_WITH_MENTOR_AND_HOURS, {"id": offering_id})
        offering_rows = [row for row in rows if row.part == 0]
        if not offering_rows:
            return None
        mentor = _user_from_row(offering_rows[0], _MENTOR_PREFIX)
        hours = [
            WeeklyRule(row.rule_weekday, TimeRange(row.rule_start_minute, row.rule_end_minute))
            for row in rows
            if row.part == 1
        ]
        overrides = [(r.override_day, r.rule_start_minute, r.rule_end_minute) for r in rows if r.part == 2]
        self._prefetched.availability[mentor.id] = _availability(mentor.timezone, hours, overrides)
        if rows[-1].part != 3:  # ordered by part: no busy calendar
            self._prefetched.without_calendars.add(mentor.id)
        else:
            self._prefetched.without_calendars.discard(mentor.id)
        return _offering_with_rules(offering_rows), mentor

    async def add(self, offering: Offering) -> Offering:
        values = _offering_values(offering)
        values.update(
            mentor_id=offering.mentor_id,
            total_bookings=offering.total_bookings,
            total_completed=offering.total_completed,
            rating_sum=offering.rating_sum,
            rating_count=offering.rating_count,
            average_rating=offering.average_rating,
        )
        offering_id = await self._db.scalar(_OFFERING_INSERT, values)
        await _insert_rules(self._db, offering.mentor_id, offering_id, offering.weekly_rules)
        return offering.with_changes(id=offering_id)

    async def update(self, offering: Offering) -> Offering:
        """Save the editable fields, category and status, and replace the offering's own weekly rules.

        The counters are left alone (they change through ``apply_stats`` only); the returned offering carries the
        stored counters. ``mentor_id`` never changes.
        """
        if offering.id is None:
            raise ValueError("cannot update an offering without an id")
        values = {"offering_id": offering.id, **_offering_values(offering)}
        mentor_id = await self._db.scalar(_OFFERING_UPDATE, values)
        if mentor_id is None:
            raise NotFound(f"offering {offering.id}")
        await self._db.write(_OFFERING_RULES_DELETE, {"offering_id": offering.id})
        await _insert_rules(self._db, mentor_id, offering.id, offering.weekly_rules)
        updated = await self.get(offering.id)
        assert updated is not None
        return updated

    async def list_by_mentor(self, mentor_id: int) -> list[Offering]:
        """All of the mentor's offerings (every status), oldest first."""
        rows = await self._db.rows(_OFFERINGS_OF_MENTOR, {"mentor_id": mentor_id})
        rules = await _rules_for(self._db, [row.id for row in rows])
        return [_offering_from_row(row, rules.get(row.id, ())) for row in rows]

    async def apply_stats(self, offering_id: int, delta: StatsDelta) -> None:
        """One ``UPDATE``: every counter ``x = x + :d`` and ``average_rating`` recomputed from the new values."""
        if not delta:
            return
        matched = await self._db.rowcount(
            _apply_stats_statement(self._db.dialect),
            {
                "offering_id": offering_id,
                "d_bookings": delta.bookings,
                "d_completed": delta.completed,
                "d_rating_sum": delta.rating_sum,
                "d_rating_count": delta.rating_count,
            },
        )
        if matched != 1:
            raise NotFound(f"offering {offering_id}")

    # -- offerings workspace: delete only what was never booked ----------------------------------------------

    async def has_bookings(self, offering_id: int) -> bool:
        """Whether any booking row, of any status, refers to the offering."""
        return await self._db.first(_ANY_BOOKING_OF_OFFERING, {"offering_id": offering_id}) is not None

    async def delete(self, offering_id: int) -> None:
        """Remove the offering and its own weekly rules; ``NotFound`` if it is not there. A booking that refers to
        it makes the database refuse (foreign key): the caller checks ``has_bookings`` first."""
        await self._db.write(_OFFERING_RULES_DELETE, {"offering_id": offering_id})
        if await self._db.rowcount(_OFFERING_DELETE, {"offering_id": offering_id}) != 1:
            raise NotFound(f"offering {offering_id}")


# --------------------------------------------------------------------------------------------------------------
# Bookings
# --------------------------------------------------------------------------------------------------------------


def _booking_from_row(row: AnyRow) -> Booking:
    return Booking(
        id=row.id,
        offering_id=row.offering_id,
        mentor_id=row.mentor_id,
        mentee_id=row.mentee_id,
        scheduled_at=row.scheduled_at,
        duration_minutes=row.duration_minutes,
        buffer_before_minutes=row.buffer_before_minutes,
        buffer_after_minutes=row.buffer_after_minutes,
        timezone=row.timezone,
        amount=row.amount,
        payment_status=PaymentStatus(row.payment_status),
        status=BookingStatus(row.status),
        created_at=row.created_at,
        currency=Currency(row.currency),
        payment_mode=PaymentMode(row.payment_mode) if row.payment_mode is not None else None,
        hold_until=row.hold_until,
        payment_nonce=row.payment_nonce,
        payment_claimed_at=row.payment_claimed_at,
        meeting_link=row.meeting_link,
        meeting_notes=row.meeting_notes,
        cancelled_by=Actor(row.cancelled_by) if row.cancelled_by is not None else None,
        cancellation_reason=row.cancellation_reason,
        mentee_rating=row.mentee_rating,
        mentee_feedback=row.mentee_feedback,
        mentor_notes=row.mentor_notes,
        updated_at=row.updated_at,
        sequence=row.sequence,
        requested_start=row.requested_start,
        requested_at=row.requested_at,
        reschedules=row.reschedules,
        moved_from=row.moved_from,
        moved_by=Actor(row.moved_by) if row.moved_by is not None else None,
        proposals=tuple(datetime.fromisoformat(moment) for moment in row.proposals or ()),
        proposal_message=row.proposal_message,
        series_id=row.series_id,
        series_week=row.series_week,
        series_weeks=row.series_weeks,
    )


def _booking_values(booking: Booking) -> dict[str, Any]:
    """Every column of the booking's row but ``id``, as stored."""
    return {
        "offering_id": booking.offering_id,
        "mentor_id": booking.mentor_id,
        "mentee_id": booking.mentee_id,
        "scheduled_at": booking.scheduled_at,
        "ends_at": booking.ends_at,
        "blocked_from": booking.blocked_from,
        "blocked_until": booking.blocked_until,
        "duration_minutes": booking.duration_minutes,
        "buffer_before_minutes": booking.buffer_before_minutes,
        "buffer_after_minutes": booking.buffer_after_minutes,
        "timezone": booking.timezone,
        "meeting_link": booking.meeting_link,
        "meeting_notes": booking.meeting_notes,
        "amount": booking.amount,
        "payment_status": booking.payment_status.value,
        "currency": booking.currency.value,
        "payment_mode": booking.payment_mode.value if booking.payment_mode is not None else None,
        "hold_until": booking.hold_until,
        "payment_nonce": booking.payment_nonce,
        "payment_claimed_at": booking.payment_claimed_at,
        "status": booking.status.value,
        "cancelled_by": booking.cancelled_by.value if booking.cancelled_by is not None else None,
        "cancellation_reason": booking.cancellation_reason,
        "mentee_rating": booking.mentee_rating,
        "mentee_feedback": booking.mentee_feedback,
        "mentor_notes": booking.mentor_notes,
        "created_at": booking.created_at,
        "updated_at": booking.updated_at,
        "sequence": booking.sequence,
        "requested_start": booking.requested_start,
        "requested_at": booking.requested_at,
        "reschedules": booking.reschedules,
        "moved_from": booking.moved_from,
        "moved_by": booking.moved_by.value if booking.moved_by is not None else None,
        "proposals": [moment.astimezone(UTC).isoformat() for moment in booking.proposals] or None,
        "proposal_message": booking.proposal_message,
        "series_id": booking.series_id,
        "series_week": booking.series_week,
        "series_weeks": booking.series_weeks,
    }


_BOOKING_BY_ID = select(*_BOOKINGS.c).where(_BOOKINGS.c.id == bindparam("id"))
_BOOKING_BY_ID_FOR_UPDATE = _BOOKING_BY_ID.with_for_update()
_BOOKING_INSERT = _insert_values(_BOOKINGS, (c.name for c in _BOOKINGS.c if c.name != "id")).returning(
    _BOOKINGS.c.id
)
_NOT_SET = ("id", "sequence")
# Every change saves every column and adds one to ``sequence`` (the iCalendar SEQUENCE), in the one UPDATE.
_BOOKING_UPDATE = (
    update(_BOOKINGS)
    .where(_BOOKINGS.c.id == bindparam("booking_id"))
    .values(
        {
            **{c.name: bindparam(f"new_{c.name}", type_=c.type) for c in _BOOKINGS.c if c.name not in _NOT_SET},
            "sequence": _BOOKINGS.c.sequence + 1,
        }
    )
    .returning(_BOOKINGS.c.sequence)
)


def _active_overlapping(person: Any, begins: Any, ends: Any) -> Select[Any]:
    """Pending/confirmed bookings where ``person`` is ``:person`` and ``[begins, ends)`` overlaps
    ``[:start, :end)``, by start time. ``:started_after`` and ``:started_before`` narrow the index on
    ``(person, status, scheduled_at)`` to the start times such a booking can have (``_around``): without them the
    database reads every active booking of the person, and a step's cost grows with their bookings elsewhere."""
    return (
        select(*_BOOKINGS.c)
        .where(*_overlapping(person, begins, ends))
        .order_by(_BOOKINGS.c.scheduled_at, _BOOKINGS.c.id)
    )


def _overlapping(person: Any, begins: Any, ends: Any) -> tuple[ColumnElement[bool], ...]:
    """The conditions of ``_active_overlapping``."""
    return (
        person == bindparam("person"),
        _BOOKINGS.c.status.in_(_ACTIVE_STATUSES),
        _BOOKINGS.c.scheduled_at > bindparam("started_after", type_=UTCDateTime()),
        _BOOKINGS.c.scheduled_at < bindparam("started_before", type_=UTCDateTime()),
        begins < bindparam("end", type_=UTCDateTime()),
        ends > bindparam("start", type_=UTCDateTime()),
    )


# How far a booking's time reaches from its start, at most (CHECK constraints on bookings, migration 0007).
_LONGEST = timedelta(minutes=max(ALLOWED_DURATIONS))
_MOST_BEFORE = timedelta(minutes=MAX_BUFFER_MINUTES)
_MOST_AFTER = _LONGEST + timedelta(minutes=MAX_BUFFER_MINUTES)


def _around(person: int, start: datetime, end: datetime, before: timedelta, after: timedelta) -> dict[str, Any]:
    """Parameters of ``_active_overlapping``: a booking that reaches ``before`` ahead of its start and ``after``
    past it can only overlap ``[start, end)`` if it starts within ``(start - after, end + before)``."""
    return {
        "person": person,
        "start": start,
        "end": end,
        "started_after": start - after,
        "started_before": end + before,
    }


_B = _BOOKINGS.c
_ACTIVE_FOR_MENTOR = _active_overlapping(_B.mentor_id, _B.blocked_from, _B.blocked_until)  # buffers included
_ACTIVE_FOR_MENTEE = _active_overlapping(_B.mentee_id, _B.scheduled_at, _B.ends_at)
# New times asked for (``domain.reschedule``), by the index on (mentor_id, requested_start): a held time may start
# within (start - _MOST_AFTER, end + _MOST_BEFORE) to touch [start, end) with its buffers (the use case keeps the
# exact rule).
_REQUESTED = (
    _B.mentor_id == bindparam("person"),
    _B.requested_start > bindparam("started_after", type_=UTCDateTime()),
    _B.requested_start < bindparam("started_before", type_=UTCDateTime()),
    _B.status.in_(_ACTIVE_STATUSES),
)
_REQUESTED_FOR_MENTOR = select(*_BOOKINGS.c).where(*_REQUESTED).order_by(_B.requested_start, _B.id)
# What blocks a mentor's time around a range, for a booking step, in one statement: their active bookings there
# (part 0, ``_ACTIVE_FOR_MENTOR``) and those whose new time asked for may touch it (part 1,
# ``_REQUESTED_FOR_MENTOR``), each leg by its own index, each in its own statement's order (``sort_at``).
_BLOCKING_FOR_MENTOR = union_all(
    select(literal_column("0").label("part"), _B.scheduled_at.label("sort_at"), *_BOOKINGS.c).where(
        *_overlapping(_B.mentor_id, _B.blocked_from, _B.blocked_until)
    ),
    select(literal_column("1"), _B.requested_start, *_BOOKINGS.c).where(*_REQUESTED),
).order_by(text("part"), text("sort_at"), text("id"))
# A person's calendar feed: both roles, as two index ranges (mentor_id, ...) and (mentee_id, ...) in one statement.
_FOR_FEED = (
    union_all(
        *(
            select(*_BOOKINGS.c).where(
                person == bindparam("user_id"), _B.scheduled_at >= bindparam("since", type_=UTCDateTime())
            )
            for person in (_B.mentor_id, _B.mentee_id)
        )
    )
    .order_by("scheduled_at", "id")
    .limit(bindparam("limit"))
)


_SESSION_BOOKINGS = (
    select(*_B)
    .where(
        _B.offering_id == bindparam("offering_id"),
        _B.scheduled_at == bindparam("scheduled_at", type_=UTCDateTime()),
    )
    .order_by(_B.id)
)


# in week order: a week moved on its own (rescheduled) keeps its place in the series
_SERIES_BOOKINGS = select(*_B).where(_B.series_id == bindparam("series_id")).order_by(_B.series_week, _B.id)


class SqlBookingRepository:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def _load(self, stmt: Executable, params: dict[str, Any] | None = None) -> list[Booking]:
        return [_booking_from_row(row) for row in await self._db.rows(stmt, params)]

    async def get(self, booking_id: int, *, for_update: bool = False) -> Booking | None:
        """``for_update``: ``SELECT ... FOR UPDATE`` on PostgreSQL (SQLite renders no locking clause: its write
        transactions are immediate and already hold the database's write lock)."""
        stmt = _BOOKING_BY_ID_FOR_UPDATE if for_update else _BOOKING_BY_ID
        row = await self._db.first(stmt, {"id": booking_id})
        return _booking_from_row(row) if row is not None else None

    async def add(self, booking: Booking) -> Booking:
        booking_id = await self._db.scalar(_BOOKING_INSERT, _booking_values(booking))
        return booking.with_changes(id=booking_id)

    async def update(self, booking: Booking) -> Booking:
        """Save every field of ``booking`` (looked up by id), including the derived range columns, and raise its
        ``sequence`` by one: one ``UPDATE``, no read first (the use case read it, ``for_update``, in this
        transaction). Returns the booking with its new sequence."""
        if booking.id is None:
            raise ValueError("cannot update a booking without an id")
        values = {f"new_{name}": value for name, value in _booking_values(booking).items() if name != "sequence"}
        sequence = await self._db.scalar(_BOOKING_UPDATE, {"booking_id": booking.id, **values})
        if sequence is None:
            raise NotFound(f"booking {booking.id}")
        return booking.with_changes(sequence=sequence)

    async def active_for_mentor(self, mentor_id: int, start: datetime, end: datetime) -> list[Booking]:
        """Pending/confirmed bookings (any offering) whose ``[blocked_from, blocked_until)`` overlaps
        ``[start, end)``.

        Half-open on both sides: a booking whose buffer ends exactly at ``start`` does not touch the range.
        Sorted by start time.
        """
        return await self._load(_ACTIVE_FOR_MENTOR, _around(mentor_id, start, end, _MOST_BEFORE, _MOST_AFTER))

    async def requested_for_mentor(self, mentor_id: int, start: datetime, end: datetime) -> list[Booking]:
        """Active bookings of the mentor whose new time asked for may touch ``[start, end)`` (buffers included)."""
        return await self._load(_REQUESTED_FOR_MENTOR, _around(mentor_id, start, end, _MOST_BEFORE, _MOST_AFTER))

    async def blocking_for_mentor(
        self, mentor_id: int, start: datetime, end: datetime
    ) -> tuple[list[Booking], list[Booking]]:
        """``(active_for_mentor(...), requested_for_mentor(...))`` in one statement (each booking step reads both:
        one round trip instead of two)."""
        rows = await self._db.rows(_BLOCKING_FOR_MENTOR, _around(mentor_id, start, end, _MOST_BEFORE, _MOST_AFTER))
        active = [_booking_from_row(row) for row in rows if row.part == 0]
        return active, [_booking_from_row(row) for row in rows if row.part != 0]

    async def active_for_mentee(self, mentee_id: int, start: datetime, end: datetime) -> list[Booking]:
        """The mentee's pending/confirmed bookings whose ``[scheduled_at, ends_at)`` overlaps ``[start, end)``.

        Buffers do not matter here: they protect the mentor's calendar, not the mentee's. Sorted by start time.
        """
        return await self._load(_ACTIVE_FOR_MENTEE, _around(mentee_id, start, end, timedelta(0), _LONGEST))

    async def for_feed(self, user_id: int, since: datetime, limit: int) -> list[Booking]:
        """The person's bookings as a mentor or a mentee, of every status, starting at or after ``since``;
        earliest first, at most ``limit``."""
        params = {"user_id": user_id, "since": since, "limit": limit}
        return await self._load(_FOR_FEED, params)

    async def session_bookings(self, offering_id: int, scheduled_at: datetime) -> list[Booking]:
        """Every booking of the offering at exactly ``scheduled_at`` (any status), oldest first (the index on
        ``offering_id``)."""
        return await self._load(_SESSION_BOOKINGS, {"offering_id": offering_id, "scheduled_at": scheduled_at})

    async def series_bookings(self, series_id: int) -> list[Booking]:
        """Every occurrence of a weekly series (any status), in week order (a week moved on its own keeps its
        place)."""
        return await self._load(_SERIES_BOOKINGS, {"series_id": series_id})

    async def list_for_mentor(
        self, mentor_id: int, statuses: Sequence[BookingStatus], limit: int, offset: int = 0
    ) -> list[Booking]:
        """The mentor's bookings in ``statuses``, earliest session first."""
        return await self._list(_B.mentor_id == mentor_id, statuses, limit, offset)

    async def list_for_mentee(
        self, mentee_id: int, statuses: Sequence[BookingStatus], limit: int, offset: int = 0
    ) -> list[Booking]:
        """The mentee's bookings in ``statuses``, earliest session first."""
        return await self._list(_B.mentee_id == mentee_id, statuses, limit, offset)

    async def _list(
        self, who: ColumnElement[bool], statuses: Sequence[BookingStatus], limit: int, offset: int
    ) -> list[Booking]:
        return await self._load(
            select(*_B)
            .where(who, _B.status.in_([BookingStatus(s).value for s in statuses]))
            .order_by(_B.scheduled_at, _B.id)
            .limit(limit)
            .offset(offset)
        )

    # -- the mentor's bookings inbox (the tabs are ``domain.inbox.TABS``) --

    async def count_inbox_tabs(self, mentor_id: int, now: datetime) -> dict[InboxTab, int]:
        tabs = inbox_rules.TABS
        columns = [func.coalesce(func.sum(case((_holds(tabs[tab], now), 1), else_=0)), 0) for tab in InboxTab]
        found = await self._db.one(select(*columns).where(_B.mentor_id == mentor_id))
        return {tab: int(count) for tab, count in zip(InboxTab, found, strict=True)}

    async def list_inbox_tab(
        self, mentor_id: int, tab: InboxTab, now: datetime, limit: int, offset: int = 0
    ) -> list[Booking]:
        rule = inbox_rules.TABS[tab]
        return await self._load(
            select(*_B)
            .where(_B.mentor_id == mentor_id, _holds(rule, now))
            .order_by(*_page_order(rule))
            .limit(limit)
            .offset(offset)
        )

    async def mentor_stats(self, mentor_id: int, week_start: datetime, week_end: datetime) -> MentorStats:
        def count(condition: ColumnElement[bool]) -> Any:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        this_week = and_(_status_in(WEEK_STATUSES), _B.scheduled_at >= week_start, _B.scheduled_at < week_end)
        found = await self._db.one(
            select(
                count(_B.status == BookingStatus.PENDING.value),
                count(this_week),
                count(_B.status == BookingStatus.COMPLETED.value),
                func.coalesce(func.sum(_B.mentee_rating), 0),
                func.count(_B.mentee_rating),
            ).where(_B.mentor_id == mentor_id)
        )
        return MentorStats(*(int(value) for value in found))

    # -- the mentee's "My bookings" (the tabs are ``domain.mentee.TABS``) and the limit per mentor --

    async def count_mentee_tabs(self, mentee_id: int, now: datetime) -> dict[MyTab, int]:
        tabs = mentee_rules.TABS
        columns = [func.coalesce(func.sum(case((_holds(tabs[tab], now), 1), else_=0)), 0) for tab in MyTab]
        found = await self._db.one(select(*columns).where(_B.mentee_id == mentee_id))
        return {tab: int(count) for tab, count in zip(MyTab, found, strict=True)}

    async def list_mentee_tab(
        self, mentee_id: int, tab: MyTab, now: datetime, limit: int, offset: int = 0
    ) -> list[Booking]:
        rule = mentee_rules.TABS[tab]
        return await self._load(
            select(*_B)
            .where(_B.mentee_id == mentee_id, _holds(rule, now))
            .order_by(*_page_order(rule))
            .limit(limit)
            .offset(offset)
        )

    async def count_open_with_mentor(self, mentee_id: int, mentor_id: int, now: datetime) -> int:
        """``domain.mentee.OPEN_WITH_MENTOR``: pending or confirmed, not yet ended."""
        params = {"mentee_id": mentee_id, "mentor_id": mentor_id, "now": now}
        return int(await self._db.scalar(_OPEN_WITH_MENTOR, params) or 0)


def _status_in(statuses: Iterable[BookingStatus]) -> ColumnElement[bool]:
    values = [s.value for s in statuses]
    return _B.status == values[0] if len(values) == 1 else _B.status.in_(values)


def _holds(rule: BookingSet, now: Any) -> ColumnElement[bool]:
    """The SQL form of ``rule.holds(booking, now)`` (``domain.model.BookingSet``); ``now`` a datetime or a bound
    parameter."""
    conditions = []
    if rule.always:
        conditions.append(_status_in(rule.always))
    if rule.until_end:
        conditions.append(and_(_status_in(rule.until_end), _B.ends_at > now))
    if rule.after_end:
        conditions.append(and_(_status_in(rule.after_end), _B.ends_at <= now))
    return or_(*conditions) if len(conditions) > 1 else conditions[0]


def _page_order(rule: BookingSet) -> tuple[Any, ...]:
    if rule.soonest_first:
        return _B.scheduled_at, _B.id
    return _B.scheduled_at.desc(), _B.id.desc()


_OPEN_WITH_MENTOR = select(func.count()).where(
    _B.mentee_id == bindparam("mentee_id"),
    _B.mentor_id == bindparam("mentor_id"),
    _holds(mentee_rules.OPEN_WITH_MENTOR, bindparam("now", type_=UTCDateTime())),
)


# --------------------------------------------------------------------------------------------------------------
# Dialogs
# --------------------------------------------------------------------------------------------------------------


_DIALOG_OF_USER = select(_DIALOGS.c.state, _DIALOGS.c.data).where(_DIALOGS.c.user_id == bindparam("user_id"))
_DIALOG_DELETE = delete(_DIALOGS).where(_DIALOGS.c.user_id == bindparam("user_id"))


class SqlDialogRepository:
    """Conversation state per user: ``(state, data)``; ``data`` must be JSON-serializable (str keys, no Decimal or
    datetime - store their ``str``/``isoformat()``)."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(self, user_id: int) -> tuple[str, dict[str, Any]] | None:
        found = await self._db.first(_DIALOG_OF_USER, {"user_id": user_id})
        return (found.state, dict(found.data)) if found is not None else None

    async def set(self, user_id: int, state: str, data: dict[str, Any]) -> None:
        await upsert(
            self._db,
            _DIALOGS,
            {"user_id": user_id, "state": state, "data": data},
            key=("user_id",),
            touch="updated_at",
        )

    async def clear(self, user_id: int) -> None:
        await self._db.write(_DIALOG_DELETE, {"user_id": user_id})


# --------------------------------------------------------------------------------------------------------------
# Discover (``domain.discovery``): open offerings for mentees, filtered, searched and sorted in SQL
# --------------------------------------------------------------------------------------------------------------


def _like_pattern(term: str) -> str:
    """``%term%`` for ``LIKE ... ESCAPE '\\'``, with the term's own wildcards taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _discovery_conditions(filters: Filters, *, with_category: bool = True) -> list[ColumnElement[bool]]:
    """``WHERE`` clauses over offerings joined with their mentor (``UserRow``) and profile (outer join)."""
    conditions: list[ColumnElement[bool]] = [_OF.status == OfferingStatus.ACTIVE.value]
    if with_category and filters.category is not None:
        conditions.append(_OF.category == filters.category.value)
    low, high = PRICE_BOUNDS[filters.price]
    if low is not None:
        conditions.append(_OF.price >= low)
    if high is not None:
        conditions.append(_OF.price <= high)
    if filters.minutes:
        conditions.append(_OF.duration_minutes == filters.minutes)
    searched = (
        _OF.title,
        _OF.description,
        _U.first_name,
        func.coalesce(_U.last_name, ""),
        func.coalesce(_U.username, ""),
        func.coalesce(_PROFILES.c.display_name, ""),
    )
    for term in filters.terms:  # every word somewhere
        pattern = _like_pattern(term)
        conditions.append(or_(*(func.lower(column).like(pattern, escape="\\") for column in searched)))
    return conditions


def _discovery_order(sort: SortOrder) -> list[Any]:
    rating = _OF.average_rating.desc().nulls_last()
    if sort == SortOrder.BOOKINGS:
        return [_OF.total_bookings.desc(), rating, _OF.id]
    if sort == SortOrder.PRICE:
        return [_OF.price, rating, _OF.total_bookings.desc(), _OF.id]
    return [rating, _OF.total_bookings.desc(), _OF.id]  # rating; the base of "soonest"


class SqlDiscoveryRepository:
    """Implements ``domain.ports.DiscoveryRepository``."""

    def __init__(self, db: Db) -> None:
        self._db = db

    @staticmethod
    def _joined(stmt: Select[Any]) -> Select[Any]:
        return stmt.join(_USERS, _U.id == _OF.mentor_id).outerjoin(_PROFILES, _PROFILES.c.user_id == _OF.mentor_id)

    async def search(self, filters: Filters, limit: int, offset: int = 0) -> list[Match]:
        stmt = (
            self._joined(select(*_OF, *_MENTOR_COLUMNS, _PROFILES.c.display_name, _PROFILES.c.headline))
            .where(*_discovery_conditions(filters))
            .order_by(*_discovery_order(filters.sort))
            .limit(limit)
            .offset(offset)
        )
        rows = await self._db.rows(stmt)
        rules = await _rules_for(self._db, [row.id for row in rows])
        return [
            Match(
                _offering_from_row(row, rules.get(row.id, ())),
                _user_from_row(row, _MENTOR_PREFIX),
                row.display_name,
                row.headline or "",
            )
            for row in rows
        ]

    async def count(self, filters: Filters) -> int:
        stmt = self._joined(select(func.count(_OF.id))).where(*_discovery_conditions(filters))
        return int(await self._db.scalar(stmt) or 0)

    async def category_counts(self, filters: Filters) -> dict[Category, int]:
        stmt = (
            self._joined(select(_OF.category, func.count(_OF.id)))
            .where(*_discovery_conditions(filters, with_category=False))
            .group_by(_OF.category)
        )
        return {Category(category): int(count) for category, count in await self._db.rows(stmt)}

    async def latest_reviews(self, mentor_id: int, limit: int) -> list[Review]:
        """Completed, rated sessions with feedback text, the most recently rated first."""
        stmt = (
            select(_B.mentee_rating, _B.mentee_feedback, _B.updated_at)
            .where(
                _B.mentor_id == mentor_id,
                _B.status == BookingStatus.COMPLETED.value,
                _B.mentee_rating.is_not(None),
                _B.mentee_feedback.is_not(None),
                func.trim(_B.mentee_feedback) != "",
            )
            .order_by(func.coalesce(_B.updated_at, _B.scheduled_at).desc(), _B.id.desc())
            .limit(limit)
        )
        return [Review(int(stars), text, at) for stars, text, at in await self._db.rows(stmt)]
