"""The mentor's bookings inbox: four tabs, paged, with quick stats on top; the mentor's own moves on a booking.

Tabs (``TABS`` is the definition: ``tab_of`` reads it, and storage builds its queries from it)::

    pending   - status pending, and slots held awaiting a mentee's payment
    upcoming  - confirmed and not yet ended
    past      - completed, no-show, expired, and confirmed whose end has passed (waiting to be marked)
    cancelled - cancelled and declined

Quick stats: pending requests, sessions this week (the mentor's local Monday to Sunday; pending, confirmed and
completed), completed sessions, and the average over every rating the mentor has received.

The rules only; the use cases (``domain.usecases.inbox``) take the mentor's id from the asker (never from a
button) and re-check that the booking is theirs; a mentee never gets a view of the private note through them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.errors import DomainError, InvalidInput, NotAllowed
from domain.model import NOTES_MAX, Booking, BookingSet, BookingStatus, BookingView, User, average_rating
from domain.validation import EMPTY, TOO_LONG, clean_text

S = BookingStatus

PAGE_SIZE = 5
PRIVATE_NOTE_MAX = NOTES_MAX
CLEAR_NOTE = "-"  # typed alone: delete the private note
APPEND_NOTE = "+"  # typed first: add to the private note instead of replacing it


class InboxTab(StrEnum):
    """Values travel in button data: never rename them."""

    PENDING = "pending"
    UPCOMING = "upcoming"
    PAST = "past"
    CANCELLED = "cancelled"


# Which bookings each tab holds, and in which order a page lists them. Every booking is in exactly one tab.
TABS: dict[InboxTab, BookingSet] = {
    InboxTab.PENDING: BookingSet(always=(S.AWAITING_PAYMENT, S.PENDING), soonest_first=True),
    InboxTab.UPCOMING: BookingSet(until_end=(S.CONFIRMED,), soonest_first=True),
    InboxTab.PAST: BookingSet(always=(S.COMPLETED, S.NO_SHOW, S.EXPIRED), after_end=(S.CONFIRMED,)),
    InboxTab.CANCELLED: BookingSet(always=(S.CANCELLED, S.DECLINED)),
}
WEEK_STATUSES = (S.PENDING, S.CONFIRMED, S.COMPLETED)  # what counts as a session this week


def tab_of(booking: Booking, now: datetime) -> InboxTab:
    """The tab ``booking`` is listed under at ``now``."""
    return next(tab for tab, holds in TABS.items() if holds.holds(booking, now))


def week_bounds(now: datetime, zone: str) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 of the week containing ``now`` in ``zone``, as UTC instants."""
    tz = ZoneInfo(zone)
    local_day = now.astimezone(tz).date()
    monday = local_day - timedelta(days=local_day.weekday())
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class MentorStats:
    pending: int = 0
    this_week: int = 0
    completed: int = 0
    rating_sum: int = 0
    rating_count: int = 0

    @property
    def average_rating(self) -> Decimal | None:
        return average_rating(self.rating_sum, self.rating_count)


@dataclass(frozen=True, slots=True)
class Inbox:
    mentor: User
    tab: InboxTab
    page: int  # 0-based, within range
    pages: int  # at least 1
    counts: dict[InboxTab, int]
    stats: MentorStats
    entries: list[BookingView]

    @property
    def has_previous(self) -> bool:
        return self.page > 0

    @property
    def has_next(self) -> bool:
        return self.page + 1 < self.pages


class NotAMentor(NotAllowed):
    """The inbox is a mentor's page."""


class SessionNotStarted(DomainError):
    """Completed and no-show are marked only once the session has started."""

    def __init__(self, starts_at: datetime) -> None:
        super().__init__(f"the session starts at {starts_at.isoformat()}")
        self.starts_at = starts_at


def edit_private_note(current: str | None, typed: str) -> str | None:
    """The note after the mentor typed ``typed``: ``-`` deletes it, ``+ text`` adds a line, anything else replaces
    it. At most ``PRIVATE_NOTE_MAX`` characters in all."""
    text = clean_text(typed, PRIVATE_NOTE_MAX * 2, field="private_note")
    if text == CLEAR_NOTE:
        return None
    if text.startswith(APPEND_NOTE):
        addition = text[len(APPEND_NOTE) :].strip()
        text = f"{current}\n{addition}" if current and addition else (current or addition)
    if not text:
        raise InvalidInput("private_note", EMPTY)
    if len(text) > PRIVATE_NOTE_MAX:
        raise InvalidInput("private_note", TOO_LONG)
    return text
