"""SQLAlchemy tables for Mentor Desk.

Rows here are storage details: repositories (``storage.repositories``) turn them into the frozen domain objects of
``domain.model`` and back. Nothing outside ``storage/`` should import these classes.

Two column types paper over SQLite:

* ``UTCDateTime`` - aware UTC ``datetime`` in and out. PostgreSQL stores ``timestamptz``; SQLite (which has no
  time zones) stores naive UTC text and gets ``tzinfo=UTC`` back on read. Naive datetimes are rejected on write.
* ``ExactDecimal`` - ``Decimal`` in and out, exact. PostgreSQL stores ``numeric(p, s)``; SQLite stores an integer
  count of the smallest unit (``12.34`` -> ``1234`` for scale 2), because SQLite's NUMERIC affinity would turn a
  decimal into a binary float. A value with more fractional digits than ``scale`` is rejected, never rounded.

Enum-like columns (statuses, category, ...) are plain strings holding the ``StrEnum`` values; the ones the brief
names carry CHECK constraints. Their allowed values are copied from ``domain.model`` here and frozen into the
migrations (a test checks the two agree).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    func,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from domain.model import (
    ALLOWED_DURATIONS,
    CAPACITY_MAX,
    MAX_BUFFER_MINUTES,
    Actor,
    BookingStatus,
    Currency,
    OfferingStatus,
    PaymentMode,
    PaymentStatus,
)
from domain.payments import LedgerKind
from domain.series import MAX_WEEKS, MIN_WEEKS

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# --------------------------------------------------------------------------------------------------------------
# Column types
# --------------------------------------------------------------------------------------------------------------


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend; naive datetimes are refused on write."""

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(DateTime(timezone=False))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: storage only accepts timezone-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite: stored as naive UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ExactDecimal(TypeDecorator[Decimal]):
    """Exact ``Decimal`` with ``scale`` decimals: ``numeric(p, s)`` on PostgreSQL, integer units on SQLite."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        # Same names as the __init__ arguments: SQLAlchemy builds the statement-cache key from them.
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> Decimal | int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
            raise TypeError(f"expected a Decimal, got {type(value).__name__}")
        value = Decimal(value)
        if not value.is_finite():
            raise ValueError(f"{value} cannot be stored")
        units = value.scaleb(self.scale)
        if units != units.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        if abs(units) >= 10**self.precision:
            raise ValueError(f"{value} does not fit numeric({self.precision}, {self.scale})")
        if dialect.name == "sqlite":
            return int(units)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale)
        return Decimal(value).quantize(Decimal(1).scaleb(-self.scale))


def _between(column: str, low: int, high: int) -> str:
    return f"{column} BETWEEN {low} AND {high}"


def _in(column: str, values: Iterable[object]) -> str:
    """SQL text ``column IN ('a', 'b')`` for a CHECK constraint over fixed values."""
    return f"{column} IN ({', '.join(repr(str(v)) if isinstance(v, str) else str(v) for v in values)})"


OFFERING_STATUSES = tuple(s.value for s in OfferingStatus)
BOOKING_STATUSES = tuple(s.value for s in BookingStatus)
PAYMENT_STATUSES = tuple(s.value for s in PaymentStatus)
PAYMENT_MODES = tuple(m.value for m in PaymentMode)
CURRENCIES = tuple(c.value for c in Currency)
LEDGER_KINDS = tuple(k.value for k in LedgerKind)
ACTORS = tuple(a.value for a in Actor)


# --------------------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------------------


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _created_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), nullable=False, server_default=func.now())


def _updated_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), nullable=False, server_default=func.now(), onupdate=func.now())


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # Telegram user id
    first_name: Mapped[str] = mapped_column(Text, nullable=False)
    last_name: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(16), nullable=False, default="en", server_default="en")
    timezone: Mapped[str | None] = mapped_column(String(64))
    is_mentor: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    # The bot could not reach the user (blocked it); set by the notifier, not part of the domain User.
    unreachable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    # Mentors: send the daily agenda (``domain.model.User.daily_agenda``).
    daily_agenda: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class MentorProfileRow(Base):
    """Public mentor profile texts (``domain.model.MentorProfile``)."""

    __tablename__ = "mentor_profiles"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    display_name: Mapped[str | None] = mapped_column(Text)
    headline: Mapped[str | None] = mapped_column(Text)
    bio: Mapped[str | None] = mapped_column(Text)
    # JSON lists of short strings; NULL reads as empty (no server default: PostgreSQL cannot compare json values).
    expertise: Mapped[list[str] | None] = mapped_column(JSON)
    languages: Mapped[list[str] | None] = mapped_column(JSON)
    upi_id: Mapped[str | None] = mapped_column(String(100))  # 0009: where mentees pay by UPI
    created_at: Mapped[datetime] = _created_at()


class AvailabilityRuleRow(Base):
    """One weekly range: the mentor's profile rules (``offering_id`` NULL) or an offering's own rules."""

    __tablename__ = "availability_rules"
    __table_args__ = (
        Index(None, "mentor_id", "offering_id"),
        Index(None, "offering_id"),  # an offering's own rules (every offering read); 0004
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440", name="range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mentor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    offering_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("offerings.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger, nullable=False)  # 0 = Monday
    start_minute: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    end_minute: Mapped[int] = mapped_column(SmallInteger, nullable=False)


class AvailabilityOverrideRow(Base):
    """One range on one local date; a row with NULL minutes marks the whole day off."""

    __tablename__ = "availability_overrides"
    __table_args__ = (
        Index(None, "mentor_id", "day"),
        CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR "
            "(start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440)",
            name="range",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mentor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    start_minute: Mapped[int | None] = mapped_column(SmallInteger)
    end_minute: Mapped[int | None] = mapped_column(SmallInteger)


class OfferingRow(Base):
    __tablename__ = "offerings"
    __table_args__ = (
        Index(None, "status"),
        Index(None, "mentor_id"),
        CheckConstraint(_in("status", OFFERING_STATUSES), name="status"),
        CheckConstraint(_in("duration_minutes", ALLOWED_DURATIONS), name="duration_minutes"),
        CheckConstraint(_between("buffer_before_minutes", 0, MAX_BUFFER_MINUTES), name="buffer_before_minutes"),
        CheckConstraint(_between("buffer_after_minutes", 0, MAX_BUFFER_MINUTES), name="buffer_after_minutes"),
        CheckConstraint(_between("capacity", 1, CAPACITY_MAX), name="capacity"),
        CheckConstraint(_between("package_weeks", MIN_WEEKS, MAX_WEEKS), name="package_weeks"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mentor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    category: Mapped[str] = mapped_column(String(32), nullable=False, default="other", server_default="other")
    price: Mapped[Decimal] = mapped_column(ExactDecimal(10, 2), nullable=False)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    use_profile_availability: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    max_bookings_per_day: Mapped[int] = mapped_column(Integer, nullable=False)
    advance_booking_days: Mapped[int] = mapped_column(Integer, nullable=False)
    min_notice_hours: Mapped[int] = mapped_column(Integer, nullable=False)
    cancellation_policy: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    cancellation_cutoff_hours: Mapped[int] = mapped_column(
        Integer, nullable=False, default=24, server_default=text("24")
    )
    reschedule_cutoff_hours: Mapped[int | None] = mapped_column(Integer)  # 0010; NULL: the cancellation cut-off
    preparation_notes: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    # Payments (0005): the price in Telegram Stars (NULL: suggested from ``price``), and whether a paid booking is
    # confirmed at once.
    price_stars: Mapped[int | None] = mapped_column(Integer)
    auto_confirm_paid: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    # Seats of one session (0008): 1 is a 1:1 session; each attendee of a group session has a booking of their own.
    capacity: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default=text("1"))
    # A package (0015): booked only as this many weekly sessions; NULL: one session at a time.
    package_weeks: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft", server_default="draft")
    total_bookings: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    total_completed: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    rating_sum: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    rating_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    # rating_sum / rating_count rounded half-even to 0.01, NULL without ratings; kept in sync by apply_stats.
    average_rating: Mapped[Decimal | None] = mapped_column(ExactDecimal(3, 2))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class BookingRow(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        Index(None, "mentor_id", "status", "scheduled_at"),
        Index(None, "mentee_id", "status", "scheduled_at"),
        Index(None, "offering_id"),
        Index(None, "mentor_id", "requested_start"),
        Index(None, "series_id"),  # a weekly series' occurrences (0013)
        CheckConstraint(_in("status", BOOKING_STATUSES), name="status"),
        CheckConstraint(_in("payment_status", PAYMENT_STATUSES), name="payment_status"),
        CheckConstraint(_in("currency", CURRENCIES), name="currency"),
        CheckConstraint(f"payment_mode IS NULL OR {_in('payment_mode', PAYMENT_MODES)}", name="payment_mode"),
        CheckConstraint(f"cancelled_by IS NULL OR {_in('cancelled_by', ACTORS)}", name="cancelled_by"),
        CheckConstraint(f"moved_by IS NULL OR {_in('moved_by', ACTORS)}", name="moved_by"),
        CheckConstraint("reschedules >= 0", name="reschedules"),
        CheckConstraint("mentee_rating IS NULL OR mentee_rating BETWEEN 1 AND 5", name="mentee_rating"),
        # a booking's blocked time is at most this long around its start (storage.repositories: _active_overlapping
        # bounds its index range with them)
        CheckConstraint(_in("duration_minutes", ALLOWED_DURATIONS), name="duration_minutes"),
        CheckConstraint(_between("buffer_before_minutes", 0, MAX_BUFFER_MINUTES), name="buffer_before_minutes"),
        CheckConstraint(_between("buffer_after_minutes", 0, MAX_BUFFER_MINUTES), name="buffer_after_minutes"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offering_id: Mapped[int] = mapped_column(Integer, ForeignKey("offerings.id"), nullable=False)
    mentor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    mentee_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # Derived from the fields above and stored so that range queries can use plain comparisons.
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    blocked_from: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    meeting_link: Mapped[str | None] = mapped_column(Text)
    meeting_notes: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal(10, 2), nullable=False)  # in ``currency``
    payment_status: Mapped[str] = mapped_column(String(16), nullable=False)
    # Payments (0005): the currency of ``amount``, how it is paid, until when an unpaid slot is held, and the
    # random part of its invoice payload.
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="INR", server_default="INR")
    payment_mode: Mapped[str | None] = mapped_column(String(16))
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payment_nonce: Mapped[str | None] = mapped_column(String(32))
    # 0009: UPI - when the mentee said they paid, while the mentor has not answered
    payment_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    cancelled_by: Mapped[str | None] = mapped_column(String(16))
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    mentee_rating: Mapped[int | None] = mapped_column(SmallInteger)
    mentee_feedback: Mapped[str | None] = mapped_column(Text)
    mentor_notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The iCalendar SEQUENCE: every UPDATE of the row adds one (``SqlBookingRepository.update``).
    sequence: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    # Rescheduling (0010, ``domain.reschedule``): a new time asked for and held until the mentor answers, and the
    # booking's moves (how many, the start it last left, who moved it).
    requested_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reschedules: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    moved_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moved_by: Mapped[str | None] = mapped_column(String(16))
    # The mentor's proposed new times (0011): a JSON list of UTC ISO instants, NULL when none; and their message.
    proposals: Mapped[list[str] | None] = mapped_column(JSON)
    proposal_message: Mapped[str | None] = mapped_column(Text)
    # A weekly series (0013): the first occurrence's booking id, and this occurrence's week of the series' weeks.
    series_id: Mapped[int | None] = mapped_column(Integer)
    series_week: Mapped[int | None] = mapped_column(SmallInteger)
    series_weeks: Mapped[int | None] = mapped_column(SmallInteger)


class DialogRow(Base):
    """A user's conversation progress. No foreign key: a dialog may start before the user row exists."""

    __tablename__ = "dialogs"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(64), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    updated_at: Mapped[datetime] = _updated_at()


# --------------------------------------------------------------------------------------------------------------
# Calendar sync: the personal feed and a mentor's busy calendars (``domain.calendar``, ``domain.busy``)
# --------------------------------------------------------------------------------------------------------------


class CalendarFeedRow(Base):
    """A person's private calendar feed: ``<PUBLIC_URL>/calendar/<token>.ics``.

    The token is kept so that /settings can show the address again (anyone who can read this table can read the
    bookings themselves); requests find it by its SHA-256 (``token_digest``), so the database never compares the
    secret itself. ``content_digest`` and ``changed_at`` are the feed's ETag and Last-Modified: the digest of the
    last body served and when it first was.
    """

    __tablename__ = "calendar_feeds"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    token: Mapped[str] = mapped_column(String(64), nullable=False)
    token_digest: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    content_digest: Mapped[str | None] = mapped_column(String(64))
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = _created_at()


class BusyCalendarRow(Base):
    """An external iCalendar URL of a mentor whose events block their free times (``domain.busy.BusyCalendar``)."""

    __tablename__ = "busy_calendars"
    __table_args__ = (Index(None, "mentor_id"), Index(None, "last_attempt_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mentor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # Conditional GET: what the server said last time.
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    busy_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the end of the range last read
    last_error: Mapped[str | None] = mapped_column(String(40))  # ``domain.busy.Problem`` (with an HTTP status)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failure_told: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())


class CalendarBusyRow(Base):
    """One busy interval of a busy calendar, in the coming booking window (replaced on every successful read)."""

    __tablename__ = "calendar_busy"
    __table_args__ = (Index(None, "mentor_id", "starts_at"), Index(None, "calendar_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("busy_calendars.id", ondelete="CASCADE"), nullable=False
    )
    mentor_id: Mapped[int] = mapped_column(BigInteger, nullable=False)  # the calendar's, for the range query
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


# --------------------------------------------------------------------------------------------------------------
# Outbox (``storage.outbox``)
# --------------------------------------------------------------------------------------------------------------

NOTIFICATION_STATUSES = ("pending", "sending", "sent", "skipped", "failed")


class WaitlistRow(Base):
    """A mentee waiting for a time of an offering to free up (0012, ``domain.waitlist``): any date (``day`` NULL)
    or one date in their zone. Told in the order they joined (``id``)."""

    __tablename__ = "waitlist"
    __table_args__ = (Index(None, "offering_id", "day", "id"), Index(None, "mentee_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offering_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("offerings.id", ondelete="CASCADE"), nullable=False
    )
    mentee_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    day: Mapped[date | None] = mapped_column(Date)
    zone: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class NotificationRow(Base):
    """One message the bot sends on its own (or an action it takes, e.g. expiring a request), due at ``due_at``.

    ``pending`` -> claimed by a dispatcher: ``sending`` until ``locked_until`` (after that another dispatcher may
    claim it again: the first one crashed) -> ``sent`` / ``skipped`` (nothing to say any more, or the recipient
    blocked the bot) / ``failed`` (gave up), or back to ``pending`` with a later ``due_at`` to retry.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index(None, "status", "due_at"),
        Index(None, "booking_id"),
        Index(None, "waitlist_id", "slot_start"),  # who was told of a freed time (0014, ``storage.waitlist``)
        CheckConstraint(_in("status", NOTIFICATION_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    recipient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    booking_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("bookings.id", ondelete="CASCADE"))
    # The ledger's charge a payment message or a Stars refund is about (0005).
    payment_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("payments.id"))
    # A waitlist notice (0012): the entry told, and the start time that freed up.
    waitlist_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("waitlist.id", ondelete="SET NULL"))
    slot_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    lead_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = _created_at()


# --------------------------------------------------------------------------------------------------------------
# The payments ledger (``storage.payments``)
# --------------------------------------------------------------------------------------------------------------


class PaymentRow(Base):
    """One money event (``domain.payments.LedgerEntry``): a charge, a refund that became due, a refund done.

    Append-only: rows are inserted and read, never updated or deleted (``storage.payments`` has no statement that
    would). ``charge_ref`` names the charge an event is about (Telegram's charge id, or ``manual:<booking>``);
    the unique key on it and ``kind`` makes a second delivery of one payment record nothing.
    """

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("charge_ref", "kind"),
        Index(None, "booking_id"),
        Index(None, "mentor_id", "recorded_at"),
        CheckConstraint(_in("kind", LEDGER_KINDS), name="kind"),
        CheckConstraint(_in("currency", CURRENCIES), name="currency"),
        CheckConstraint(_in("mode", PAYMENT_MODES), name="mode"),
        CheckConstraint("amount > 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(Integer, ForeignKey("bookings.id"), nullable=False)
    mentor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    payer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal(12, 2), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    mode: Mapped[str] = mapped_column(String(16), nullable=False)
    charge_ref: Mapped[str] = mapped_column(String(255), nullable=False)
    telegram_payment_charge_id: Mapped[str | None] = mapped_column(String(255))
    provider_payment_charge_id: Mapped[str | None] = mapped_column(String(255))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    created_at: Mapped[datetime] = _created_at()


# The ledger refuses UPDATE and DELETE in the database itself (0005 creates the same triggers): a row is never
# rewritten, by this program or by anyone with a SQL prompt and a bad idea.
APPEND_ONLY_MESSAGE = "the payments ledger is append-only"
PAYMENTS_APPEND_ONLY: dict[str, tuple[str, ...]] = {
    "postgresql": (
        "CREATE FUNCTION payments_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$",
        "CREATE TRIGGER payments_append_only BEFORE UPDATE OR DELETE ON payments "
        "FOR EACH ROW EXECUTE FUNCTION payments_append_only()",
    ),
    "sqlite": (
        "CREATE TRIGGER payments_no_update BEFORE UPDATE ON payments "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
        "CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
    ),
}
for _dialect, _statements in PAYMENTS_APPEND_ONLY.items():
    for _statement in _statements:
        event.listen(PaymentRow.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect))
