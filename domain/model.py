"""Plain domain objects: users, availability, offerings and bookings.

Everything here is pure: frozen dataclasses, ``Decimal`` money, timezone-aware ``datetime``s in UTC.
Wall-clock times (availability) are minutes after local midnight in the mentor's IANA zone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

ALLOWED_DURATIONS: tuple[int, ...] = (15, 30, 45, 60, 90)
MAX_BUFFER_MINUTES = 120  # an offering's (and so a booking's) buffer before or after a session, at most
MINUTES_PER_DAY = 24 * 60

TITLE_MAX = 100
DESCRIPTION_MAX = 1000
NOTES_MAX = 1000
REASON_MAX = 500
LINK_MAX = 500
PRICE_MAX = Decimal("1000000")
CAPACITY_MAX = 100  # seats of a group offering, at most (1: a 1:1 session)


class Category(StrEnum):
    RESUME_REVIEW = "resume_review"
    MOCK_INTERVIEW = "mock_interview"
    CAREER_GUIDANCE = "career_guidance"
    PORTFOLIO_REVIEW = "portfolio_review"
    CODE_REVIEW = "code_review"
    SYSTEM_DESIGN = "system_design"
    OTHER = "other"


class OfferingStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


class BookingStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"  # held for the mentee until they pay (``hold_until``)
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    COMPLETED = "completed"
    NO_SHOW = "no_show"

    @property
    def is_active(self) -> bool:
        """Active bookings hold their time: they block slots and count against daily limits (a booking awaiting
        payment too: its slot is held for the mentee until the hold runs out)."""
        return self in (BookingStatus.AWAITING_PAYMENT, BookingStatus.PENDING, BookingStatus.CONFIRMED)


class PaymentStatus(StrEnum):
    """The summary of a booking's payments that cards show; the ledger (``domain.payments``) is the record."""

    NOT_REQUIRED = "not_required"  # free offering
    PENDING = "pending"  # nothing paid yet
    PAID = "paid"
    REFUND_DUE = "refund_due"  # a refund is owed and not yet done
    REFUNDED = "refunded"  # every payment was refunded


class PaymentMode(StrEnum):
    """How a paid booking is paid (``PAYMENTS``): Telegram Stars, a payment provider's invoice in rupees, UPI
    straight to the mentor's UPI ID (the mentor confirms receipt), or outside the bot (``off``: the mentor marks it
    paid by hand). Values are stored: never rename them."""

    STARS = "stars"
    PROVIDER = "provider"
    UPI = "upi"
    OFF = "off"


class Currency(StrEnum):
    """ISO 4217 code, or Telegram's ``XTR`` for Stars. Values are stored: never rename them."""

    INR = "INR"
    XTR = "XTR"

    @property
    def digits(self) -> int:
        """Digits after the decimal point in the smallest unit Telegram counts in (paise; whole Stars)."""
        return 0 if self == Currency.XTR else 2


class Actor(StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A wall-clock range on one local day, in minutes after midnight: ``start`` inclusive, ``end`` exclusive."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start < self.end <= MINUTES_PER_DAY):
            raise ValueError(f"invalid time range {self.start}-{self.end}")

    def overlaps(self, other: TimeRange) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class WeeklyRule:
    """Available every ``weekday`` (0 = Monday) during ``range``, mentor's local wall-clock time."""

    weekday: int
    range: TimeRange

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"invalid weekday {self.weekday}")


@dataclass(frozen=True, slots=True)
class DateOverride:
    """Replaces the weekly rules on one local date; no ranges means a day off."""

    day: date
    ranges: tuple[TimeRange, ...] = ()


@dataclass(frozen=True, slots=True)
class Availability:
    timezone: str
    weekly: tuple[WeeklyRule, ...] = ()
    overrides: tuple[DateOverride, ...] = ()

    def ranges_on(self, day: date) -> tuple[TimeRange, ...]:
        """The local wall-clock ranges open on ``day``, sorted; an override wins over the weekly rules."""
        for override in self.overrides:
            if override.day == day:
                return tuple(sorted(override.ranges, key=lambda r: r.start))
        weekday = day.weekday()
        return tuple(sorted((r.range for r in self.weekly if r.weekday == weekday), key=lambda r: r.start))

    @property
    def is_empty(self) -> bool:
        return not self.weekly and not any(o.ranges for o in self.overrides)


@dataclass(frozen=True, slots=True)
class User:
    id: int  # Telegram user id
    first_name: str
    last_name: str | None = None
    username: str | None = None
    locale: str = "en"
    timezone: str | None = None  # None until the user picks one
    is_mentor: bool = False
    daily_agenda: bool = True  # mentors: the morning agenda on days with sessions (off in /settings)

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or (self.username or str(self.id))


@dataclass(frozen=True, slots=True)
class MentorProfile:
    """What mentees see about a mentor besides their offerings; empty until the mentor fills it in."""

    user_id: int
    display_name: str | None = None  # None: the Telegram name
    headline: str = ""
    bio: str = ""
    expertise: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    upi_id: str | None = None  # where mentees pay by UPI (``PAYMENTS`` with ``upi``); never on the public card

    def with_changes(self, **changes: Any) -> MentorProfile:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Offering:
    mentor_id: int
    title: str
    price: Decimal
    duration_minutes: int
    id: int | None = None
    description: str = ""
    category: Category = Category.OTHER
    use_profile_availability: bool = True
    weekly_rules: tuple[WeeklyRule, ...] = ()  # used when use_profile_availability is False
    buffer_before_minutes: int = 5
    buffer_after_minutes: int = 5
    max_bookings_per_day: int = 5
    advance_booking_days: int = 30
    min_notice_hours: int = 24
    cancellation_policy: str = ""
    cancellation_cutoff_hours: int = 24  # a mentee may cancel until this many hours before the start
    reschedule_cutoff_hours: int | None = None  # a mentee may move it until then; None: the cancellation cut-off
    preparation_notes: str = ""
    price_stars: int | None = None  # the price in Telegram Stars; None: suggested from the rupee price
    auto_confirm_paid: bool = False  # a paid booking is confirmed at once instead of waiting for the mentor
    # Seats of one session: 1 is a 1:1 session; more makes a group session, each attendee with a booking of their
    # own at the same start (``domain.slots``, rule 6).
    capacity: int = 1
    # A package (``domain.series``): booked only as this many weekly sessions (2-12); None: one session at a time
    package_weeks: int | None = None
    status: OfferingStatus = OfferingStatus.DRAFT
    total_bookings: int = 0
    total_completed: int = 0
    rating_sum: int = 0
    rating_count: int = 0

    @property
    def is_free(self) -> bool:
        return self.price == 0

    @property
    def is_group(self) -> bool:
        return self.capacity > 1

    @property
    def average_rating(self) -> Decimal | None:
        return average_rating(self.rating_sum, self.rating_count)

    def with_changes(self, **changes: Any) -> Offering:
        return replace(self, **changes)


def average_rating(rating_sum: int, rating_count: int) -> Decimal | None:
    """The average of ``rating_count`` ratings adding up to ``rating_sum``, to two places; None without ratings.
    Offerings, a mentor's totals and the inbox's stats all derive it this way from stored sums."""
    if not rating_count:
        return None
    return (Decimal(rating_sum) / Decimal(rating_count)).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class Booking:
    offering_id: int
    mentor_id: int
    mentee_id: int
    scheduled_at: datetime  # UTC, aware
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    timezone: str  # the mentee's zone when booking
    amount: Decimal  # in ``currency``: rupees, or whole Stars
    payment_status: PaymentStatus
    status: BookingStatus
    created_at: datetime
    id: int | None = None
    currency: Currency = Currency.INR
    payment_mode: PaymentMode | None = None  # None for a free booking
    hold_until: datetime | None = None  # awaiting payment: the slot is held until then
    payment_nonce: str | None = None  # in the invoice payload with the id: a payload nobody can guess
    # UPI: when the mentee said "I have paid" and the mentor has not answered yet (the hold then lasts until the
    # start, ``held_until``); None otherwise
    payment_claimed_at: datetime | None = None
    meeting_link: str | None = None
    meeting_notes: str | None = None  # the mentee's notes
    cancelled_by: Actor | None = None
    cancellation_reason: str | None = None  # decline or cancel reason
    mentee_rating: int | None = None
    mentee_feedback: str | None = None
    mentor_notes: str | None = None  # private to the mentor
    updated_at: datetime | None = None
    # Rises by one with every saved change (storage increments it): the iCalendar SEQUENCE of the booking's event,
    # so a calendar app that has the event takes each new version (``domain.calendar``).
    sequence: int = 0
    # Rescheduling (``domain.reschedule``): a new time the mentee asked for, held for this booking until the mentor
    # answers (and when it was asked); how often the booking was moved, from which start, by whom (the last move).
    requested_start: datetime | None = None
    requested_at: datetime | None = None
    reschedules: int = 0
    moved_from: datetime | None = None
    moved_by: Actor | None = None
    # New times the mentor proposed (one to three; the mentee picks one or says none work) and their message.
    proposals: tuple[datetime, ...] = ()
    proposal_message: str | None = None
    # A weekly series (``domain.series``): the id of its first occurrence's booking, and this occurrence's place
    # among the weeks booked together ("week 3 of 6"); None for a single booking.
    series_id: int | None = None
    series_week: int | None = None
    series_weeks: int | None = None

    @property
    def ends_at(self) -> datetime:
        return self.scheduled_at + timedelta(minutes=self.duration_minutes)

    @property
    def blocked_from(self) -> datetime:
        """Start of the time this booking keeps free on the mentor's calendar (session plus buffer before)."""
        return self.scheduled_at - timedelta(minutes=self.buffer_before_minutes)

    @property
    def blocked_until(self) -> datetime:
        return self.ends_at + timedelta(minutes=self.buffer_after_minutes)

    @property
    def held_until(self) -> datetime | None:
        """When the hold on a booking awaiting payment runs out: ``hold_until``, or the session start while the
        mentor checks a UPI payment the mentee reported (their slowness must not cost the mentee the slot)."""
        if self.hold_until is None or self.payment_claimed_at is None:
            return self.hold_until
        return max(self.hold_until, self.scheduled_at)

    def with_changes(self, **changes: Any) -> Booking:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class BusyInterval:
    """Time a mentor's external calendar says they are busy: ``[start, end)``, aware UTC, ``start < end``.

    It blocks slots like a booking without buffers of its own: the offering's buffers still keep a new session
    apart from it (``domain.slots``, rule 4)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class BookingSet:
    """Which bookings a list (a tab of the inbox or of "My bookings") or a count holds at an instant ``now``: by
    status, and for some statuses by whether the session has ended. Declared once in ``domain``; ``holds`` is the
    rule in Python, and storage builds its SQL condition and order from the same fields."""

    always: tuple[BookingStatus, ...] = ()  # in the set whatever the time
    until_end: tuple[BookingStatus, ...] = ()  # in the set while the session has not ended (``ends_at > now``)
    after_end: tuple[BookingStatus, ...] = ()  # in the set once it has ended (``ends_at <= now``)
    soonest_first: bool = False  # a page lists the soonest session first; else the latest first

    def holds(self, booking: Booking, now: datetime) -> bool:
        if booking.status in self.always:
            return True
        if booking.status in self.until_end:
            return booking.ends_at > now
        return booking.status in self.after_end and booking.ends_at <= now


@dataclass(frozen=True, slots=True)
class StatsDelta:
    """How one change moves an offering's counters; applied in the same transaction as the change."""

    bookings: int = 0
    completed: int = 0
    rating_sum: int = 0
    rating_count: int = 0

    def __bool__(self) -> bool:
        return any((self.bookings, self.completed, self.rating_sum, self.rating_count))


@dataclass(frozen=True, slots=True)
class BookingView:
    """A booking with its offering and both people: what every screen and message about a booking shows."""

    booking: Booking
    offering: Offering
    mentor: User
    mentee: User

    @property
    def mentor_zone(self) -> str:
        """The mentor's time zone (UTC until they pick one): a booking's local days are the mentor's."""
        return self.mentor.timezone or "UTC"
