"""Ports: the narrow interfaces the use cases need. ``storage/`` implements them; tests may fake them.

Ports speak in the rules' types (``domain.model`` and the value types of the pure modules) and import nothing
else from ``domain``: the use cases (``domain.usecases``) import ports, never the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from domain.busy import BusyCalendar
from domain.calendar import FeedLink
from domain.discovery import Filters, Match, Review
from domain.inbox import InboxTab, MentorStats
from domain.mentee import MyTab
from domain.model import (
    Availability,
    Booking,
    BookingStatus,
    BusyInterval,
    Category,
    DateOverride,
    MentorProfile,
    Offering,
    StatsDelta,
    User,
    WeeklyRule,
)
from domain.notifications import Claimed, Notification, NotificationPolicy
from domain.payments import LedgerEntry, Sums
from domain.waitlist import WaitlistEntry


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class UserRepository(Protocol):
    async def get(self, user_id: int) -> User | None: ...

    async def add(self, user: User) -> User: ...

    async def update(self, user: User) -> User: ...

    async def mark_unreachable(self, user_id: int) -> None:
        """Telegram refused to deliver to the user (they blocked the bot): skip their notifications."""
        ...

    async def mark_reachable(self, user_id: int) -> None:
        """The user wrote to the bot again: deliver their notifications."""
        ...

    async def is_unreachable(self, user_id: int) -> bool: ...


class ProfileRepository(Protocol):
    async def get(self, user_id: int) -> MentorProfile | None: ...

    async def save(self, profile: MentorProfile) -> None:
        """Insert or replace the mentor's profile."""
        ...


class AvailabilityRepository(Protocol):
    async def get(self, mentor_id: int) -> Availability | None:
        """The mentor's weekly rules and overrides, in the mentor's time zone; None if never set."""
        ...

    async def replace_weekly(self, mentor_id: int, rules: Sequence[WeeklyRule]) -> None: ...

    async def set_override(self, mentor_id: int, override: DateOverride) -> None:
        """Replace whatever ``override.day`` had; an override without ranges is a day off."""
        ...

    async def clear_override(self, mentor_id: int, day: date) -> None: ...

    async def list_overrides(self, mentor_id: int, first: date, last: date) -> list[DateOverride]:
        """The mentor's overrides on the local dates ``first`` to ``last`` (both included), by date."""
        ...


class OfferingRepository(Protocol):
    async def get(self, offering_id: int) -> Offering | None: ...

    async def get_with_mentor(self, offering_id: int) -> tuple[Offering, User] | None:
        """The offering and its mentor (one read: every booking step needs both)."""
        ...

    async def add(self, offering: Offering) -> Offering:
        """Insert and return the offering with its new id."""
        ...

    async def update(self, offering: Offering) -> Offering:
        """Save every editable field (not the counters: use ``apply_stats``)."""
        ...

    async def list_by_mentor(self, mentor_id: int) -> list[Offering]: ...

    async def apply_stats(self, offering_id: int, delta: StatsDelta) -> None:
        """Atomically add ``delta`` to the offering's counters (an SQL ``UPDATE ... SET x = x + :d``)."""
        ...

    # -- offerings workspace (``domain.offerings``) --

    async def has_bookings(self, offering_id: int) -> bool:
        """Whether any booking, of any status, refers to the offering."""
        ...

    async def delete(self, offering_id: int) -> None:
        """Remove the offering and its own weekly rules (only ever called for an offering never booked)."""
        ...


class BookingRepository(Protocol):
    async def get(self, booking_id: int, *, for_update: bool = False) -> Booking | None:
        """``for_update``: the read before a change. The row stays locked until the transaction ends, so a
        concurrent change of the same booking waits and then reads this one's result (PostgreSQL
        ``SELECT ... FOR UPDATE``; SQLite's write transactions already run one at a time)."""
        ...

    async def add(self, booking: Booking) -> Booking:
        """Insert and return the booking with its new id."""
        ...

    async def update(self, booking: Booking) -> Booking: ...

    async def active_for_mentor(self, mentor_id: int, start: datetime, end: datetime) -> list[Booking]:
        """The mentor's pending and confirmed bookings (all offerings) whose buffered time touches [start, end)."""
        ...

    async def requested_for_mentor(self, mentor_id: int, start: datetime, end: datetime) -> list[Booking]:
        """The mentor's pending and confirmed bookings with a new time asked for (``Booking.requested_start``)
        whose buffered new time touches [start, end) (``domain.reschedule``: it is held for them)."""
        ...

    async def blocking_for_mentor(
        self, mentor_id: int, start: datetime, end: datetime
    ) -> tuple[list[Booking], list[Booking]]:
        """``(active_for_mentor(...), requested_for_mentor(...))`` read together (a booking step reads both): what
        blocks the mentor's time around [start, end)."""
        ...

    async def active_for_mentee(self, mentee_id: int, start: datetime, end: datetime) -> list[Booking]:
        """The mentee's pending and confirmed bookings whose session time touches [start, end)."""
        ...

    async def for_feed(self, user_id: int, since: datetime, limit: int) -> list[Booking]:
        """The person's bookings as a mentor or a mentee, of every status, starting at or after ``since``; earliest
        first, at most ``limit`` (``domain.calendar``)."""
        ...

    async def series_bookings(self, series_id: int) -> list[Booking]:
        """Every occurrence of a weekly series (``domain.series``), any status, in week order ("week 3 of 6"; a
        week moved on its own keeps its place)."""
        ...

    async def session_bookings(self, offering_id: int, scheduled_at: datetime) -> list[Booking]:
        """Every booking of the offering starting exactly at ``scheduled_at``, of every status, oldest first: the
        attendees of one group session (``domain.roster``)."""
        ...

    async def list_for_mentor(
        self, mentor_id: int, statuses: Sequence[BookingStatus], limit: int, offset: int = 0
    ) -> list[Booking]: ...

    async def list_for_mentee(
        self, mentee_id: int, statuses: Sequence[BookingStatus], limit: int, offset: int = 0
    ) -> list[Booking]: ...

    # -- the mentor's bookings inbox (``domain.inbox``) --

    async def count_inbox_tabs(self, mentor_id: int, now: datetime) -> dict[InboxTab, int]:
        """How many of the mentor's bookings each inbox tab holds at ``now`` (one aggregate query)."""
        ...

    async def list_inbox_tab(
        self, mentor_id: int, tab: InboxTab, now: datetime, limit: int, offset: int = 0
    ) -> list[Booking]:
        """One page of a tab: pending and upcoming soonest first, past and cancelled latest first."""
        ...

    async def mentor_stats(self, mentor_id: int, week_start: datetime, week_end: datetime) -> MentorStats:
        """Pending, sessions starting in ``[week_start, week_end)``, completed, and the ratings (aggregates)."""
        ...

    # -- the mentee's "My bookings" and the limit per mentor (``domain.mentee``) --

    async def count_mentee_tabs(self, mentee_id: int, now: datetime) -> dict[MyTab, int]:
        """How many of the mentee's bookings each tab of "My bookings" holds at ``now`` (one aggregate query)."""
        ...

    async def list_mentee_tab(
        self, mentee_id: int, tab: MyTab, now: datetime, limit: int, offset: int = 0
    ) -> list[Booking]:
        """One page of a tab: upcoming soonest first, past and cancelled latest first."""
        ...

    async def count_open_with_mentor(self, mentee_id: int, mentor_id: int, now: datetime) -> int:
        """The mentee's pending and confirmed bookings with the mentor that have not ended at ``now``."""
        ...


class FeedRepository(Protocol):
    """Each person's private calendar feed (``domain.calendar.FeedLink``)."""

    async def get(self, user_id: int) -> FeedLink | None: ...

    async def find(self, token_digest: str) -> FeedLink | None:
        """The feed whose token has this SHA-256."""
        ...

    async def save(self, feed: FeedLink) -> None:
        """Insert or replace the person's feed."""
        ...

    async def set_version(self, user_id: int, content_digest: str, changed_at: datetime) -> None:
        """The feed now serves ``content_digest``, first at ``changed_at`` (nothing changes if it already did)."""
        ...


class BusyCalendarRepository(Protocol):
    """A mentor's external calendars and their busy intervals (``domain.busy``)."""

    async def list_for_mentor(self, mentor_id: int) -> list[BusyCalendar]:
        """In the order they were added."""
        ...

    async def get(self, calendar_id: int) -> BusyCalendar | None: ...

    async def add(self, calendar: BusyCalendar) -> BusyCalendar:
        """Insert and return the calendar with its new id."""
        ...

    async def save(self, calendar: BusyCalendar) -> bool:
        """Save every field; False when the calendar is gone."""
        ...

    async def remove(self, calendar_id: int) -> None:
        """The calendar and its busy intervals."""
        ...

    async def replace_busy(self, calendar: BusyCalendar, intervals: Sequence[BusyInterval]) -> None:
        """The calendar's busy intervals are exactly ``intervals`` from now on."""
        ...

    async def busy_for_mentor(
        self, mentor_id: int, start: datetime, end: datetime, fresh_since: datetime
    ) -> list[BusyInterval]:
        """The busy intervals touching ``[start, end)`` of the mentor's calendars last read successfully at or
        after ``fresh_since`` (the others no longer block), by start."""
        ...

    async def due(self, before: datetime, limit: int) -> list[int]:
        """Ids of calendars never tried or last tried at or before ``before``, the longest waiting first."""
        ...


class DialogRepository(Protocol):
    """Where a user's conversation progress lives, so it survives restarts and is shared by processes."""

    async def get(self, user_id: int) -> tuple[str, dict[str, Any]] | None: ...

    async def set(self, user_id: int, state: str, data: dict[str, Any]) -> None: ...

    async def clear(self, user_id: int) -> None: ...


class OutboxRepository(Protocol):
    """Notifications due at a time (``domain.notifications``), written in the transaction of the change that causes
    them and sent by the dispatcher. A key is stored once: adding it again changes nothing."""

    policy: NotificationPolicy  # when timed notifications fall due in this deployment

    async def add(self, notifications: Sequence[Notification]) -> None:
        """Store the notifications whose key is new (events without a key get a unique one)."""
        ...

    async def add_new(self, notifications: Sequence[Notification]) -> set[str]:
        """Store the notifications whose key is new; the keys stored. A key another open transaction is storing
        waits for it: once that one commits, the key is not stored here (so two transactions never store one
        notice, and the caller can tell whom it told)."""
        ...

    async def replace_timed(self, booking_id: int, notifications: Sequence[Notification]) -> None:
        """Make the booking's pending timed notifications exactly ``notifications`` (never touching sent ones)."""
        ...

    async def keep_timed(self, notifications: Sequence[Notification]) -> None:
        """Store timed notifications not tied to one booking's plan (a session's reminders) unless their key is
        stored; a pending one keeps its key, moves to its due time and stays locked until the transaction ends."""
        ...

    async def lock_pending(self, keys: Sequence[str]) -> None:
        """Lock the pending notifications with these keys until the transaction ends (waiting for a transaction
        that is writing one): what is read next sees that transaction's change."""
        ...

    async def drop_pending(self, keys: Sequence[str]) -> None:
        """Withdraw the pending notifications with these keys (never sent or claimed ones)."""
        ...

    async def claim(self, now: datetime, limit: int, lease: timedelta) -> list[Claimed]:
        """Take up to ``limit`` due notifications (and ones whose claim expired) until ``now + lease``."""
        ...

    async def mark_sent(self, claim: Claimed, at: datetime) -> bool: ...

    async def retry_at(
        self, claim: Claimed, when: datetime, error: str, *, count_attempt: bool = True
    ) -> bool: ...

    async def give_up(self, claim: Claimed, error: str) -> bool: ...

    async def skip(self, claim: Claimed, why: str) -> bool: ...

    async def release(self, claims: Sequence[Claimed]) -> None:
        """Give claims back unused (a dispatcher stopping): pending again, the attempt not counted."""
        ...

    async def next_due(self) -> datetime | None:
        """When the next notification falls due (or a claim expires), for sleeping until then."""
        ...


# --- discover (``domain.discovery``) ---------------------------------------------------------------------------


class DiscoveryRepository(Protocol):
    """Finding open offerings for mentees: everything SQL can filter and sort, with limit and offset."""

    async def search(self, filters: Filters, limit: int, offset: int = 0) -> list[Match]:
        """Active offerings matching ``filters`` (all but the 7-day slot filter), in ``filters.sort`` order
        (best rated first for the slot-based sort), with their mentors."""
        ...

    async def count(self, filters: Filters) -> int:
        """How many active offerings ``search`` would find without limit."""
        ...

    async def category_counts(self, filters: Filters) -> dict[Category, int]:
        """Active offerings per category under ``filters`` except its category (and the 7-day slot filter)."""
        ...

    async def latest_reviews(self, mentor_id: int, limit: int) -> list[Review]:
        """The newest written reviews (stars and text) of the mentor's completed, rated sessions."""
        ...


# --- payments (``domain.payments``) ----------------------------------------------------------------------------


class PaymentRepository(Protocol):
    """The ledger: append-only, one row per money event; nothing is ever updated or deleted."""

    async def add(self, entry: LedgerEntry) -> LedgerEntry | None:
        """Append ``entry`` and return it with its id; None when the ledger already has this event of this charge
        (the same ``charge_ref`` and ``kind``: a second delivery of one payment records nothing)."""
        ...

    async def get(self, payment_id: int) -> LedgerEntry | None: ...

    async def for_booking(self, booking_id: int) -> list[LedgerEntry]:
        """Every event of the booking's payments, oldest first."""
        ...

    async def for_mentor(self, mentor_id: int) -> list[LedgerEntry]:
        """Every event of the payments for the mentor's bookings, oldest first (their ledger download)."""
        ...

    async def sums_for_mentor(self, mentor_id: int, since: datetime | None = None) -> Sums:
        """The mentor's ledger added up per currency and kind (events recorded from ``since`` on)."""
        ...


class WaitlistRepository(Protocol):
    """The waitlist (``domain.waitlist``)."""

    async def add(self, entry: WaitlistEntry) -> WaitlistEntry: ...

    async def get(self, entry_id: int) -> WaitlistEntry | None: ...

    async def for_mentee(self, mentee_id: int) -> list[WaitlistEntry]:
        """The mentee's entries, in the order they joined."""
        ...

    async def candidates(
        self, offering_id: int, first: date, last: date, limit: int, *, untold_of: datetime | None = None
    ) -> list[WaitlistEntry]:
        """The offering's entries for any date or a date from ``first`` to ``last``, oldest first, at most
        ``limit``; with ``untold_of``, only those not told of that start yet (no waitlist notice names the entry
        and that start)."""
        ...

    async def count_waiting(self, offering_id: int, today: date) -> int:
        """Entries of the offering for any date or a date from ``today`` on."""
        ...

    async def remove(self, entry_id: int, mentee_id: int) -> bool:
        """Remove the mentee's entry; False when it is not theirs (or gone)."""
        ...

    async def remove_for(self, offering_id: int, mentee_id: int) -> None:
        """The mentee booked the offering: their entries for it end."""
        ...


class UnitOfWork(Protocol):
    """One database transaction. Rolls back on exit unless ``commit()`` was called; repositories never commit."""

    # Read-only (properties): a use case reads a repository and never replaces it, and an implementation may
    # hold a subtype of each.
    @property
    def users(self) -> UserRepository: ...

    @property
    def profiles(self) -> ProfileRepository: ...

    @property
    def availability(self) -> AvailabilityRepository: ...

    @property
    def offerings(self) -> OfferingRepository: ...

    @property
    def bookings(self) -> BookingRepository: ...

    @property
    def dialogs(self) -> DialogRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def discovery(self) -> DiscoveryRepository: ...

    @property
    def payments(self) -> PaymentRepository: ...

    @property
    def feeds(self) -> FeedRepository: ...

    @property
    def calendars(self) -> BusyCalendarRepository: ...

    @property
    def waitlist(self) -> WaitlistRepository: ...

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def lock_users(self, *user_ids: int) -> None:
        """Serialize with every other transaction that locks any of these users, until this one ends.

        PostgreSQL: ``SELECT ... FOR UPDATE`` on the users' rows in id order. SQLite: the transaction is already
        an immediate write transaction, so this is a no-op there.
        """
        ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...
