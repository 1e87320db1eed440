"""Fill a database with a realistic Mentor Desk at scale: by default 100,000 users and 1,000,000 bookings.

Run with ``.venv/bin/python -m benchmarks.seed --url URL`` (``--users N``, ``--bookings N``, ``--mentors N``,
``--seed S``, ``--no-pending-outbox``); from code, ``await seed(url, users=..., bookings=...)``. The database is
first brought to the head revision (``storage.migrate``); then everything goes in through the real schema with
bulk inserts: Core ``insert(table)`` executemany in chunks on SQLite, asyncpg's binary ``COPY`` on PostgreSQL
(several times faster there). The same ``seed`` and ``now`` always give the same rows.

What is in it, relative to ``now`` (by default today 00:00 UTC):

* users with Telegram-like ids ``USER_ID_BASE + n`` (names, language, most with a time zone); one in twenty is a
  mentor with a profile, weekly hours (one of a few patterns, in their zone), a few date exceptions, one to three
  live offerings and some paused, archived or draft ones (a few with their own weekly hours);
* bookings from two years ago to 60 days ahead, each mentor's on a two-hour grid inside their hours, so no two
  of a mentor's bookings (buffers included) ever overlap; a popularity skew (a few mentors and mentees have many);
  past ones completed, cancelled, declined, expired, no-show (and a few recent ones still confirmed, waiting to
  be marked), future ones confirmed, pending (asked in the last 48 hours), cancelled or declined; ratings and
  feedback on some completed ones; offering counters (``total_bookings`` ... ``average_rating``) equal to what
  the bookings add up to;
* the outbox: one sent "new booking" message per booking, plus the pending timed rows (reminders, expiry, ...)
  that ``domain.notifications.timed_for`` gives every future pending or confirmed booking; dialogs for 5 % of
  users.

Free for the caller: user ids from ``FREE_IDS_FROM`` (10**9) up; offerings, bookings and every other row added
through the repositories get ids after the seeded ones (PostgreSQL sequences are moved past them). ``seed``
returns what it made (``Seeded``: id ranges, live offerings, counts, timings). The time-dependent rows (pending
requests, due reminders) describe the day it was seeded: code using the data later should use a clock at
``Seeded.now`` (``domain.clock.FixedClock``) or reseed.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Date, Dialect, Table, bindparam, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import CreateIndex, DropIndex

from domain.model import Booking, BookingStatus, Category, OfferingStatus, PaymentStatus
from domain.notifications import NotificationPolicy, timed_for
from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.models import (
    AvailabilityOverrideRow,
    AvailabilityRuleRow,
    Base,
    BookingRow,
    DialogRow,
    ExactDecimal,
    MentorProfileRow,
    NotificationRow,
    OfferingRow,
    UserRow,
    UTCDateTime,
)

USER_ID_BASE = 100_000_000
FREE_IDS_FROM = 10**9
MENTOR_SHARE = 20  # one user in twenty is a mentor
PAST_DAYS = 730
FUTURE_DAYS = 60
SLOT_PITCH = 120  # minutes between a mentor's grid slots: 90-minute session + 15 + 15 buffers fit
CHUNK = 20_000
SQLITE_CACHE_KIB = 512 * 1024
INFO_TABLE = "bench_seed_info"  # one row describing the seed; not part of the app's schema

S = BookingStatus

_T: dict[str, Table] = {
    name: Base.metadata.tables[row.__tablename__]
    for name, row in (
        ("users", UserRow), ("profiles", MentorProfileRow), ("rules", AvailabilityRuleRow),
        ("overrides", AvailabilityOverrideRow), ("offerings", OfferingRow), ("bookings", BookingRow),
        ("notifications", NotificationRow), ("dialogs", DialogRow),
    )
}  # fmt: skip

# --- what people look like --------------------------------------------------------------------------------------

ZONES = (
    ("Asia/Kolkata", 70), ("Europe/London", 6), ("America/New_York", 6), ("Europe/Berlin", 4),
    ("America/Los_Angeles", 3), ("Asia/Dubai", 3), ("Asia/Singapore", 3), ("Australia/Sydney", 2), ("UTC", 3),
)  # fmt: skip
FIRST_NAMES = (
    "Aarav", "Vivaan", "Aditya", "Ananya", "Diya", "Ishaan", "Kavya", "Meera", "Rohan", "Saanvi", "Arjun", "Priya",
    "Rahul", "Sneha", "Vikram", "Neha", "Karan", "Pooja", "Amit", "Riya", "Sam", "Alex", "Maria", "John", "Li",
)  # fmt: skip
LAST_NAMES = ("Sharma", "Verma", "Iyer", "Patel", "Reddy", "Nair", "Gupta", "Singh", "Das", "Khan", "Smith")
HEADLINES = (
    "Senior engineer, 10 years in backend", "Product manager at a fintech", "Data scientist, ex-consulting",
    "Engineering manager, hiring for 6 years", "Designer: portfolios that get interviews",
    "SRE and cloud architect",
)  # fmt: skip
EXPERTISE = ("Python", "Java", "System design", "Interviews", "Careers", "ML", "SQL", "Go", "Figma", "Leadership")
LANGUAGES = ("English", "Hindi", "Tamil", "Marathi", "Bengali", "Kannada")
TITLES = {
    Category.RESUME_REVIEW: "Resume review",
    Category.MOCK_INTERVIEW: "Mock interview",
    Category.CAREER_GUIDANCE: "Career guidance call",
    Category.PORTFOLIO_REVIEW: "Portfolio review",
    Category.CODE_REVIEW: "Code review session",
    Category.SYSTEM_DESIGN: "System design practice",
    Category.OTHER: "Ask me anything",
}
PRICES = tuple(Decimal(p) for p in ("0", "199", "299", "499", "799", "999", "1499", "1999", "2999"))
PRICE_WEIGHTS = (20, 8, 10, 18, 12, 12, 9, 6, 5)
DURATIONS = ((15, 5), (30, 35), (45, 20), (60, 30), (90, 10))
REASONS = ("Something came up, sorry", "Need to reschedule", "Not a good fit for this topic", "Travelling")
FEEDBACK = ("Very helpful, thank you!", "Clear and practical advice.", "Good session", "Could go deeper", "Great!")
NOTES = ("I am preparing for interviews next month.", "Please look at my resume first.", "Backend role, 3 years")

# Weekly hours: (weekdays, local ranges in minutes). Grid slots start every SLOT_PITCH minutes inside each range.
PATTERNS: tuple[tuple[tuple[int, ...], tuple[tuple[int, int], ...]], ...] = (
    ((0, 1, 2, 3, 4), ((540, 780), (840, 1080))),  # weekdays 09-13, 14-18
    ((0, 1, 2, 3, 4, 5), ((1080, 1320),)),  # evenings 18-22, Monday to Saturday
    ((5, 6), ((600, 1080),)),  # weekends 10-18
    ((0, 2, 4), ((420, 660), (1140, 1380))),  # Mon/Wed/Fri 07-11 and 19-23
    ((0, 1, 2, 3, 4, 5, 6), ((720, 1200),)),  # every day 12-20
)
PATTERN_WEIGHTS = (35, 25, 10, 10, 20)

# Status mixes: (status, weight) for paid and free offerings, sessions in the past and in the future.
PAST_PAID = (
    (S.COMPLETED, 68),
    (S.CANCELLED, 11),
    (S.DECLINED, 7),
    (S.EXPIRED, 6),
    (S.NO_SHOW, 4),
    (S.CONFIRMED, 4),
)
PAST_FREE = ((S.COMPLETED, 78), (S.CANCELLED, 14), (S.NO_SHOW, 4), (S.CONFIRMED, 4))
FUTURE_PAID = ((S.CONFIRMED, 62), (S.PENDING, 26), (S.CANCELLED, 9), (S.DECLINED, 3))
FUTURE_FREE = ((S.CONFIRMED, 90), (S.CANCELLED, 10))
UNMARKED_DAYS = 14  # a past session still "confirmed" (not marked yet) only this recently
RATING_WEIGHTS = (3, 4, 10, 28, 55)  # 1..5 stars


# --- results ------------------------------------------------------------------------------------------------


@dataclass
class Seeded:
    """What ``seed`` made. Users are ``first_user_id`` to ``first_user_id + users - 1``; mentors come first."""

    url: str
    now: datetime
    seed: int
    users: int
    mentors: int
    bookings: int
    first_user_id: int = USER_ID_BASE
    live_offerings: list[int] = field(default_factory=list)  # (offering id) status active
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows inserted
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> seconds

    @property
    def user_ids(self) -> range:
        return range(self.first_user_id, self.first_user_id + self.users)

    @property
    def mentor_ids(self) -> range:
        return range(self.first_user_id, self.first_user_id + self.mentors)

    def info(self) -> dict[str, Any]:
        """The JSON kept in the database (``INFO_TABLE``) so that a later run can reuse it."""
        return {
            "now": self.now.isoformat(), "seed": self.seed, "users": self.users, "mentors": self.mentors,
            "bookings": self.bookings, "first_user_id": self.first_user_id, "rows": self.rows,
            "seconds": self.seconds,
        }  # fmt: skip


# --- writing ------------------------------------------------------------------------------------------------


class BulkWriter:
    """Buffered bulk inserts into one open connection; ``flush`` writes a table's buffered rows.

    Rows are dicts of the values the models take (aware UTC datetimes, ``Decimal`` money, lists for JSON). Both
    backends skip SQLAlchemy's per-value processing, which would take most of the time:

    * SQLite: the driver's ``executemany`` with each value already in its stored form (``_sqlite_converter``),
      checked once per column against SQLAlchemy's own bind processor, so the stored text is exactly what the
      app writes (comparisons of datetimes are text comparisons there);
    * PostgreSQL: binary ``COPY`` through asyncpg (JSON columns as text).
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self.counts: dict[str, int] = {}

    async def add(self, table: str, row: dict[str, Any], *, then: Sequence[str] = ()) -> None:
        """Buffer ``row``; a full buffer is written, followed by the ``then`` tables' buffers (rows that refer to
        this table's rows)."""
        rows = self.pending.setdefault(table, [])
        rows.append(row)
        if len(rows) >= CHUNK:
            await self.flush(table, *then)

    async def flush(self, *tables: str) -> None:
        for name in tables:
            rows = self.pending.pop(name, [])
            if rows:
                await (self._copy if self.postgres else self._insert)(_T[name], rows)
                self.counts[name] = self.counts.get(name, 0) + len(rows)

    async def _driver(self) -> Any:
        raw = await self.connection.get_raw_connection()
        return raw.driver_connection

    async def _insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        columns = list(rows[0])
        converters = [_sqlite_converter(table, c, rows[0][c], self.connection.dialect) for c in columns]
        records = [
            tuple(
                row[c] if f is None or row[c] is None else f(row[c])
                for c, f in zip(columns, converters, strict=True)
            )
            for row in rows
        ]
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        await (await self._driver()).executemany(sql, records)

    async def _copy(self, table: Table, rows: list[dict[str, Any]]) -> None:
        columns = list(rows[0])
        as_json = [isinstance(table.c[c].type, JSON) for c in columns]
        records = [
            tuple(
                json.dumps(row[c]) if j and row[c] is not None else row[c]
                for c, j in zip(columns, as_json, strict=True)
            )
            for row in rows
        ]
        await (await self._driver()).copy_records_to_table(table.name, records=records, columns=columns)


def _sqlite_text(value: datetime) -> str:
    """The stored form of a UTC datetime on SQLite (``UTCDateTime``: naive UTC, SQLAlchemy's DATETIME format)."""
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    )


def _sqlite_converter(table: Table, column: str, sample: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """A fast function from the model's value to SQLite's stored value for ``column`` (None: stored as is), checked
    on ``sample`` against what SQLAlchemy itself would bind."""
    kind = table.c[column].type
    convert: Callable[[Any], Any] | None = None
    if isinstance(kind, UTCDateTime):
        convert = _sqlite_text
    elif isinstance(kind, ExactDecimal):
        convert = functools.partial(lambda scale, v: int(v.scaleb(scale)), kind.scale)
    elif isinstance(kind, JSON):
        convert = json.dumps
    elif isinstance(kind, Date):
        convert = date.isoformat
    if sample is not None:
        if convert is not None and isinstance(sample, datetime) and sample.utcoffset() != timedelta(0):
            raise ValueError(f"{table.name}.{column}: seed values must be UTC")
        reference = kind.dialect_impl(dialect).bind_processor(dialect)
        expected = reference(sample) if reference is not None else sample
        got = convert(sample) if convert is not None else sample
        if isinstance(kind, JSON):
            expected, got = json.loads(expected), json.loads(got)
        if expected != got:
            raise AssertionError(f"{table.name}.{column}: {got!r} != SQLAlchemy's {expected!r}")
    return convert


# --- people -------------------------------------------------------------------------------------------------


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _w in pairs], [w for _v, w in pairs])[0]


@dataclass
class MentorPlan:
    id: int
    zone: str
    weekdays: tuple[int, ...]
    ranges: tuple[tuple[int, int], ...]
    joined: date
    offerings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def starts(self) -> list[int]:
        """Local start minutes of the grid slots of one available day."""
        return [m for lo, hi in self.ranges for m in range(lo, hi - SLOT_PITCH + 1, SLOT_PITCH)]


def _user_row(rng: random.Random, user_id: int, mentor: bool, created: datetime) -> dict[str, Any]:
    first = rng.choice(FIRST_NAMES)
    zone = _weighted(rng, ZONES) if mentor or rng.random() < 0.85 else None
    return {
        "id": user_id,
        "first_name": first,
        "last_name": rng.choice(LAST_NAMES) if rng.random() < 0.7 else None,
        "username": f"{first.lower()}_{user_id % 1_000_000}" if rng.random() < 0.6 else None,
        "locale": "hi" if rng.random() < 0.25 else "en",
        "timezone": zone,
        "is_mentor": mentor,
        "unreachable": rng.random() < 0.02,
        "daily_agenda": rng.random() < 0.9,
        "created_at": created,
        "updated_at": created,
    }


def _profile_row(rng: random.Random, user_id: int, created: datetime) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "display_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" if rng.random() < 0.3 else None,
        "headline": rng.choice(HEADLINES),
        "bio": "I help people grow in their careers. " * rng.randint(1, 6),
        "expertise": rng.sample(EXPERTISE, rng.randint(1, 4)),
        "languages": rng.sample(LANGUAGES, rng.randint(1, 3)),
        "created_at": created,
    }


def _offering_row(
    rng: random.Random, offering_id: int, mentor_id: int, status: OfferingStatus, created: datetime
) -> dict[str, Any]:
    category = rng.choice(list(Category))
    return {
        "id": offering_id,
        "mentor_id": mentor_id,
        "title": f"{TITLES[category]} ({rng.choice(EXPERTISE)})",
        "description": "What we will cover, and what you get afterwards. " * rng.randint(0, 4),
        "category": category.value,
        "price": rng.choices(PRICES, PRICE_WEIGHTS)[0],
        "duration_minutes": _weighted(rng, DURATIONS),
        "use_profile_availability": rng.random() < 0.9,
        "buffer_before_minutes": rng.choice((0, 5, 5, 10, 15)),
        "buffer_after_minutes": rng.choice((0, 5, 5, 10, 15)),
        "max_bookings_per_day": rng.randint(3, 8),
        "advance_booking_days": rng.choice((30, 30, 60, 90)),
        "min_notice_hours": rng.choice((2, 12, 24, 24, 48)),
        "cancellation_policy": "Cancel up to a day before." if rng.random() < 0.5 else "",
        "cancellation_cutoff_hours": rng.choice((12, 24, 24, 48)),
        "preparation_notes": "Send your resume first." if rng.random() < 0.3 else "",
        "status": status.value,
        "total_bookings": 0,
        "total_completed": 0,
        "rating_sum": 0,
        "rating_count": 0,
        "average_rating": None,
        "created_at": created,
        "updated_at": created,
    }


def _offering_statuses(rng: random.Random) -> list[OfferingStatus]:
    live = [OfferingStatus.ACTIVE] * rng.choices((1, 2, 3), (50, 35, 15))[0]
    extra = [
        status
        for status, share in (
            (OfferingStatus.PAUSED, 0.2),
            (OfferingStatus.ARCHIVED, 0.1),
            (OfferingStatus.DRAFT, 0.05),
        )
        if rng.random() < share
    ]
    return live + extra


# --- bookings -----------------------------------------------------------------------------------------------


@functools.cache
def _local_midnight_utc(zone: str, day: date) -> datetime:
    """Local midnight of ``day`` in ``zone`` as UTC, by the offset at noon (grid slots never span a DST change)."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(zone))
    offset = noon.utcoffset() or timedelta(0)
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - offset


class BookingMaker:
    """Turns a mentor's chosen grid positions into booking rows (and their outbox rows), keeping the offering
    counters and the future active bookings (for their timed notifications) as it goes."""

    def __init__(
        self, rng: random.Random, now: datetime, mentees: list[int], zones: dict[int, str | None]
    ) -> None:
        self.rng = rng
        self.now = now
        self.mentees = mentees
        self.zones = zones
        self.next_id = 1
        self.future_active: list[tuple[Booking, str]] = []  # (booking, mentor zone)
        self._minutes = [timedelta(minutes=m) for m in range(24 * 60 + 1)]

    def _mentee(self, mentor_id: int) -> int:
        while True:  # a skew: low positions of the shuffled list book far more often
            found = self.mentees[int(len(self.mentees) * self.rng.random() ** 1.3)]
            if found != mentor_id:
                return found

    def days(self, mentor: MentorPlan, end: date) -> tuple[date, int]:
        """The Monday the mentor's grid starts on and how many available days it has up to ``end``."""
        monday = mentor.joined - timedelta(days=mentor.joined.weekday())
        weeks = (end - monday).days // 7
        return monday, weeks * len(mentor.weekdays)

    def rows(self, mentor: MentorPlan, monday: date, positions: list[int]) -> Iterator[tuple[dict, dict]]:
        starts = mentor.starts
        per_day = len(starts)
        weekdays = mentor.weekdays
        bookable = [o for o in mentor.offerings if o["status"] != OfferingStatus.DRAFT.value]
        live = [o for o in bookable if o["status"] == OfferingStatus.ACTIVE.value]
        for position in sorted(positions):
            day_index, slot = divmod(position, per_day)
            week, weekday = divmod(day_index, len(weekdays))
            day = monday + timedelta(days=7 * week + weekdays[weekday])
            start = _local_midnight_utc(mentor.zone, day) + self._minutes[starts[slot]]
            offering = self.rng.choice(live if start > self.now else bookable)
            yield self._booking(mentor, offering, start)

    def _booking(self, mentor: MentorPlan, offering: dict[str, Any], start: datetime) -> tuple[dict, dict]:
        rng, now = self.rng, self.now
        free = offering["price"] == 0
        duration = offering["duration_minutes"]
        before, after = offering["buffer_before_minutes"], offering["buffer_after_minutes"]
        ends = start + self._minutes[duration]
        if ends <= now:
            status = _weighted(rng, PAST_FREE if free else PAST_PAID)
            if status == S.CONFIRMED and now - ends > timedelta(days=UNMARKED_DAYS):
                status = S.COMPLETED
        else:
            status = _weighted(rng, FUTURE_FREE if free else FUTURE_PAID)
            if status == S.PENDING and start <= now:
                status = S.CONFIRMED
        created = self._created(status, start)
        updated = self._updated(status, created, start, ends)
        mentee = self._mentee(mentor.id)
        rated = status == S.COMPLETED and rng.random() < 0.6
        rating = rng.choices((1, 2, 3, 4, 5), RATING_WEIGHTS)[0] if rated else None
        reason = status in (S.CANCELLED, S.DECLINED)
        row = {
            "id": self.next_id,
            "offering_id": offering["id"],
            "mentor_id": mentor.id,
            "mentee_id": mentee,
            "scheduled_at": start,
            "ends_at": ends,
            "blocked_from": start - self._minutes[before],
            "blocked_until": ends + self._minutes[after],
            "duration_minutes": duration,
            "buffer_before_minutes": before,
            "buffer_after_minutes": after,
            "timezone": self.zones.get(mentee) or "UTC",
            "meeting_link": (
                f"https://meet.example.com/{rng.getrandbits(40):010x}"
                if status in (S.CONFIRMED, S.COMPLETED, S.NO_SHOW) and rng.random() < 0.7
                else None
            ),
            "meeting_notes": rng.choice(NOTES) if rng.random() < 0.3 else None,
            "amount": offering["price"],
            "payment_status": (PaymentStatus.NOT_REQUIRED if free else PaymentStatus.PENDING).value,
            "status": status.value,
            "cancelled_by": self._cancelled_by(status),
            "cancellation_reason": rng.choice(REASONS) if reason else None,
            "mentee_rating": rating,
            "mentee_feedback": rng.choice(FEEDBACK) if rated and rng.random() < 0.35 else None,
            "mentor_notes": "Follow up on the system design round." if rng.random() < 0.05 else None,
            "created_at": created,
            "updated_at": updated,
        }
        self.next_id += 1
        self._count(offering, status, rating)
        if status.is_active and ends > now:
            self.future_active.append((_as_booking(row), mentor.zone))
        return row, self._sent_event(row)

    def _created(self, status: BookingStatus, start: datetime) -> datetime:
        rng = self.rng
        if status == S.PENDING:  # unanswered requests expire after 48 hours: only recent ones are still pending
            return min(self.now - timedelta(minutes=rng.uniform(10, 47 * 60)), start - timedelta(hours=1))
        created = start - timedelta(hours=rng.uniform(3, 21 * 24))
        return min(created, self.now - timedelta(minutes=rng.uniform(1, 24 * 60)))

    def _updated(self, status: BookingStatus, created: datetime, start: datetime, ends: datetime) -> datetime:
        rng = self.rng
        match status:
            case S.COMPLETED | S.NO_SHOW:
                return min(ends + timedelta(minutes=rng.uniform(5, 36 * 60)), self.now)
            case S.EXPIRED:
                return min(created + timedelta(hours=48), start)
            case S.PENDING:
                return created
            case _:  # confirmed, declined, cancelled: somewhere between the request and the start
                return min(created + (start - created) * rng.random() * 0.5, self.now)

    def _cancelled_by(self, status: BookingStatus) -> str | None:
        if status == S.DECLINED:
            return "mentor"
        if status == S.CANCELLED:
            return self.rng.choices(("mentee", "mentor", "system"), (60, 35, 5))[0]
        return None

    @staticmethod
    def _count(offering: dict[str, Any], status: BookingStatus, rating: int | None) -> None:
        """``StatsDelta``s the booking's life added: one booking, one completion, one rating."""
        offering["total_bookings"] += 1
        if status == S.COMPLETED:
            offering["total_completed"] += 1
        if rating is not None:
            offering["rating_sum"] += rating
            offering["rating_count"] += 1

    def _sent_event(self, row: dict[str, Any]) -> dict[str, Any]:
        at = row["created_at"]
        return {
            "key": f"new_booking:{row['mentor_id']}:{row['id']}:{self.rng.getrandbits(128):032x}",
            "kind": "new_booking",
            "recipient_id": row["mentor_id"],
            "booking_id": row["id"],
            "due_at": at,
            "lead_minutes": 0,
            "status": "sent",
            "attempts": 1,
            "sent_at": at + timedelta(seconds=1),
            "created_at": at,
        }


def _as_booking(row: dict[str, Any]) -> Booking:
    return Booking(
        id=row["id"], offering_id=row["offering_id"], mentor_id=row["mentor_id"], mentee_id=row["mentee_id"],
        scheduled_at=row["scheduled_at"], duration_minutes=row["duration_minutes"],
        buffer_before_minutes=row["buffer_before_minutes"], buffer_after_minutes=row["buffer_after_minutes"],
        timezone=row["timezone"], amount=row["amount"], payment_status=PaymentStatus(row["payment_status"]),
        status=BookingStatus(row["status"]), created_at=row["created_at"], updated_at=row["updated_at"],
    )  # fmt: skip


def _spread(rng: random.Random, total: int, capacities: list[int], cap_share: float = 0.6) -> list[int]:
    """``total`` bookings over mentors: lognormal popularity times capacity, none above ``cap_share`` of its
    capacity; exact total (``ValueError`` if the mentors cannot hold it)."""
    limits = [int(c * cap_share) for c in capacities]
    if sum(limits) < total:
        raise ValueError(f"{total} bookings do not fit {len(capacities)} mentors' hours; add mentors")
    weights = [rng.lognormvariate(0, 1.0) * c for c in capacities]
    counts = [0] * len(capacities)
    left = total
    while left > 0:
        open_ = [i for i in range(len(counts)) if counts[i] < limits[i]]
        weight = sum(weights[i] for i in open_)
        for i in open_:
            counts[i] = min(limits[i], counts[i] + int(left * weights[i] / weight))
        placed = total - sum(counts)
        if placed == left:  # rounding left a few: one each to random open mentors
            for i in rng.sample(open_, min(left, len(open_))):
                counts[i] += 1
        left = total - sum(counts)
    return counts


# --- the whole thing ----------------------------------------------------------------------------------------


class _Seeder:
    def __init__(self, writer: BulkWriter, result: Seeded, pending_outbox: bool) -> None:
        self.w = writer
        self.r = result
        self.rng = random.Random(result.seed)
        self.now = result.now
        self.start = result.now - timedelta(days=PAST_DAYS)
        self.pending_outbox = pending_outbox
        self.zones: dict[int, str | None] = {}
        self.mentors: list[MentorPlan] = []
        self.offerings: list[dict[str, Any]] = []

    async def timed(self, phase: str, step: Any) -> None:
        began = time.perf_counter()
        await step()
        self.r.seconds[phase] = round(time.perf_counter() - began, 1)
        print(f"  {phase}: {self.r.seconds[phase]:.1f} s", flush=True)

    def _moment(self, lo: datetime, hi: datetime) -> datetime:
        return lo + (hi - lo) * self.rng.random()

    async def people(self) -> None:
        rng, r = self.rng, self.r
        for n in range(r.users):
            user_id = r.first_user_id + n
            is_mentor = n < r.mentors
            created = self._moment(self.start - timedelta(days=60), self.now - timedelta(days=1))
            row = _user_row(rng, user_id, is_mentor, created)
            self.zones[user_id] = row["timezone"]
            await self.w.add("users", row)
            if is_mentor:
                late = self._moment(self.start, self.now - timedelta(days=90))
                joined = self.start if rng.random() < 0.6 else late
                weekdays, ranges = PATTERNS[rng.choices(range(len(PATTERNS)), PATTERN_WEIGHTS)[0]]
                self.mentors.append(MentorPlan(user_id, row["timezone"], weekdays, ranges, joined.date()))
        await self.w.flush("users")
        for mentor in self.mentors:
            await self.w.add("profiles", _profile_row(rng, mentor.id, self.start))
        await self.w.flush("profiles")

    async def catalogue(self) -> None:
        """Offerings, weekly hours (profile and offering-own) and date exceptions."""
        rng = self.rng
        for mentor in self.mentors:
            joined = datetime(mentor.joined.year, mentor.joined.month, mentor.joined.day, tzinfo=UTC)
            for status in _offering_statuses(rng):
                row = _offering_row(rng, len(self.offerings) + 1, mentor.id, status, joined)
                self.offerings.append(row)
                mentor.offerings.append(row)
                await self.w.add("offerings", row)
                if status == OfferingStatus.ACTIVE:
                    self.r.live_offerings.append(row["id"])
        await self.w.flush("offerings")
        for mentor in self.mentors:
            own = [o["id"] for o in mentor.offerings if not o["use_profile_availability"]]
            for offering_id in [None, *own]:  # offering-own hours: the same grid (bookings stay non-overlapping)
                for weekday in mentor.weekdays:
                    for lo, hi in mentor.ranges:
                        await self.w.add("rules", {
                            "mentor_id": mentor.id, "offering_id": offering_id, "weekday": weekday,
                            "start_minute": lo, "end_minute": hi,
                        })  # fmt: skip
            if rng.random() < 0.2:
                today = self.now.date()
                for day in {today + timedelta(days=rng.randint(1, FUTURE_DAYS)) for _ in range(rng.randint(1, 4))}:
                    day_off = {"mentor_id": mentor.id, "day": day, "start_minute": None, "end_minute": None}
                    await self.w.add("overrides", day_off)
        await self.w.flush("rules", "overrides")

    async def bookings(self) -> None:
        """Bookings and the outbox, with their secondary indexes dropped while loading and built afterwards
        (one sort instead of a million random inserts); they are the models' indexes, which the migrations
        create identically (``tests/storage/test_migrations.py``)."""
        indexes = [index for name in ("bookings", "notifications") for index in _T[name].indexes]
        for index in indexes:
            await self.w.connection.execute(DropIndex(index))
        await self._load_bookings()
        for index in indexes:
            await self.w.connection.execute(CreateIndex(index))

    async def _load_bookings(self) -> None:
        rng, r = self.rng, self.r
        mentees = list(r.user_ids)
        rng.shuffle(mentees)
        maker = BookingMaker(rng, self.now, mentees, self.zones)
        end = (self.now + timedelta(days=FUTURE_DAYS)).date()
        grids = [maker.days(m, end) for m in self.mentors]
        capacities = [days * len(m.starts) for m, (_monday, days) in zip(self.mentors, grids, strict=True)]
        counts = _spread(rng, r.bookings, capacities)
        for mentor, (monday, _days), capacity, count in zip(self.mentors, grids, capacities, counts, strict=True):
            for booking, event in maker.rows(mentor, monday, rng.sample(range(capacity), count)):
                self.w.pending.setdefault("notifications", []).append(event)  # written with its booking:
                await self.w.add("bookings", booking, then=["notifications"])  # they refer to it
        await self.w.flush("bookings", "notifications")
        if self.pending_outbox:
            keys: dict[str, dict[str, Any]] = {}
            policy = NotificationPolicy()
            for active, zone in maker.future_active:
                for n in timed_for(active, zone, self.now, policy):
                    keys[n.key] = {
                        "key": n.key, "kind": n.kind.value, "recipient_id": n.recipient_id,
                        "booking_id": n.booking_id, "due_at": n.due_at, "lead_minutes": n.lead_minutes,
                        "status": "pending", "attempts": 0, "created_at": active.created_at,
                    }  # fmt: skip
            for row in keys.values():
                await self.w.add("notifications", row)
            await self.w.flush("notifications")

    async def counters(self) -> None:
        """Offering counters as the bookings add up (one UPDATE per offering, executemany)."""
        table = _T["offerings"]
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                total_bookings=bindparam("b_total"), total_completed=bindparam("b_completed"),
                rating_sum=bindparam("b_sum"), rating_count=bindparam("b_count"),
                average_rating=bindparam("b_avg"),
            )
        )  # fmt: skip
        params = [
            {
                "b_id": o["id"], "b_total": o["total_bookings"], "b_completed": o["total_completed"],
                "b_sum": o["rating_sum"], "b_count": o["rating_count"],
                "b_avg": (
                    (Decimal(o["rating_sum"]) / o["rating_count"]).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
                    if o["rating_count"] else None
                ),
            }
            for o in self.offerings
            if o["total_bookings"]
        ]  # fmt: skip
        for i in range(0, len(params), CHUNK):
            await self.w.connection.execute(stmt, params[i : i + CHUNK])

    async def dialogs(self) -> None:
        rng = self.rng
        for user_id in rng.sample(list(self.r.user_ids), self.r.users // 20):
            state, data = rng.choice(
                (
                    ("zone_search", {}),
                    ("discover_search", {}),
                    ("booking_notes", {"offering_id": rng.choice(self.r.live_offerings or [1]),
                                       "start": (self.now + timedelta(days=3)).isoformat()}),
                    ("rating_feedback", {"booking_id": rng.randint(1, max(1, self.r.bookings))}),
                )
            )  # fmt: skip
            await self.w.add(
                "dialogs",
                {
                    "user_id": user_id,
                    "state": state,
                    "data": data,
                    "updated_at": self._moment(self.now - timedelta(days=30), self.now),
                },
            )
        await self.w.flush("dialogs")


async def seed(
    database_url: str,
    *,
    users: int = 100_000,
    bookings: int = 1_000_000,
    mentors: int | None = None,
    seed: int = 20261124,
    now: datetime | None = None,
    pending_outbox: bool = True,
) -> Seeded:
    """Migrate ``database_url`` to head and fill it (it must hold no Mentor Desk rows yet); see the module doc."""
    now = now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    mentors = mentors if mentors is not None else max(1, users // MENTOR_SHARE)
    if not 0 < mentors < users or users >= FREE_IDS_FROM - USER_ID_BASE:
        raise ValueError("need 0 < mentors < users < 900 million")
    result = Seeded(database_url, now, seed, users, mentors, bookings)
    began = time.perf_counter()
    await upgrade_to_head(database_url)
    # SQLite: foreign keys are checked once at the end (``_finish``) instead of on every row.
    engine = create_engine(database_url, foreign_keys=False)
    try:
        async with engine.begin() as connection:
            if engine.dialect.name == "sqlite":  # a big page cache while loading (SQLite's default is 2 MB)
                await connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            else:  # foreign keys are checked once at the end (``_finish``), not by a trigger on every row
                await connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            writer = BulkWriter(connection)
            seeder = _Seeder(writer, result, pending_outbox)
            print(f"seeding {users} users ({mentors} mentors), {bookings} bookings into {engine.dialect.name}")
            for phase, step in (
                ("users and profiles", seeder.people),
                ("offerings and hours", seeder.catalogue),
                ("bookings and outbox", seeder.bookings),
                ("offering counters", seeder.counters),
                ("dialogs", seeder.dialogs),
            ):
                await seeder.timed(phase, step)
            result.rows = dict(writer.counts)
            await seeder.timed("finish", lambda: _finish(connection, result))
    finally:
        await engine.dispose()
    if engine.dialect.name == "sqlite":
        await checkpoint(database_url)
    result.seconds["total"] = round(time.perf_counter() - began, 1)
    print(f"seeded in {result.seconds['total']:.1f} s: {result.rows}")
    await _save_info(database_url, result)
    return result


async def _finish(connection: AsyncConnection, result: Seeded) -> None:
    """Check every foreign key once (the load skipped the per-row checks). PostgreSQL: also move the id sequences
    past the explicit ids, and ANALYZE (autovacuum would, a bit later)."""
    if connection.dialect.name == "sqlite":
        broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).fetchmany(5)
        if broken:
            raise AssertionError(f"seeded rows break foreign keys: {broken}")
        return
    await connection.exec_driver_sql("SET LOCAL session_replication_role = origin")
    for table in _T.values():
        for fk in table.foreign_keys:
            child, parent = fk.parent, fk.column
            orphans = await connection.scalar(
                text(
                    f"SELECT count(*) FROM {table.name} c WHERE c.{child.name} IS NOT NULL AND NOT EXISTS "
                    f"(SELECT 1 FROM {parent.table.name} p WHERE p.{parent.name} = c.{child.name})"
                )
            )
            if orphans:
                raise AssertionError(f"{orphans} rows of {table.name}.{child.name} point nowhere")
    for name in ("offerings", "bookings"):
        await connection.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
        )
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None, "a connection taken from the pool is open"
    await driver.execute("ANALYZE")


async def checkpoint(url: str) -> None:
    """SQLite: fold the write-ahead log into the database file, so the file size is the database size."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:  # outside a transaction: on the driver's connection
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None, "a connection taken from the pool is open"
            await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await engine.dispose()


async def _save_info(url: str, result: Seeded) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {INFO_TABLE} (info TEXT NOT NULL)")
            await connection.exec_driver_sql(f"DELETE FROM {INFO_TABLE}")
            await connection.execute(
                text(f"INSERT INTO {INFO_TABLE} (info) VALUES (:info)"), {"info": json.dumps(result.info())}
            )
    finally:
        await engine.dispose()


async def seeded_info(url: str) -> dict[str, Any] | None:
    """What ``seed`` recorded in the database at ``url``, or None (not seeded, or not reachable)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            found = await connection.exec_driver_sql(f"SELECT info FROM {INFO_TABLE}")
            row = found.first()
            return json.loads(row[0]) if row is not None else None
    except Exception:  # noqa: BLE001 - no table, no database, no server: not seeded here
        return None
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", required=True, help="sqlite+aiosqlite:///... or postgresql+asyncpg://...")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--mentors", type=int, default=None, help=f"default: one user in {MENTOR_SHARE}")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--no-pending-outbox", action="store_true", help="no pending timed notifications")
    args = parser.parse_args()
    asyncio.run(
        seed(
            args.url, users=args.users, bookings=args.bookings, mentors=args.mentors, seed=args.seed,
            pending_outbox=not args.no_pending_outbox,
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
