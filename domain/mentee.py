"""The mentee's side of bookings: "My bookings" (tabs, pages, what each booking card offers), the calendar file,
the per-mentor limit on open bookings, and the booking flow's week pages and time groups.

Tabs (``TABS`` is the definition: ``my_tab_of`` reads it, and storage builds its queries from it)::

    upcoming  - awaiting payment, pending, and confirmed not yet ended
    past      - completed, no-show, and confirmed whose end has passed
    cancelled - cancelled, declined and expired (the session did not happen)

The rules only; the use cases (``domain.usecases.my_bookings``) take the mentee's id from the asker (never from
a button) and re-check that the booking is theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.model import Booking, BookingSet, BookingStatus, BookingView, Offering
from domain.sessions import cancellation_closed
from domain.slots import booking_window

S = BookingStatus

PAGE_SIZE = 5


class MyTab(StrEnum):
    """Values travel in button data: never rename them."""

    UPCOMING = "up"
    PAST = "past"
    CANCELLED = "cx"


# Which bookings each tab holds, and in which order a page lists them. Every booking is in exactly one tab.
TABS: dict[MyTab, BookingSet] = {
    MyTab.UPCOMING: BookingSet(
        always=(S.AWAITING_PAYMENT, S.PENDING), until_end=(S.CONFIRMED,), soonest_first=True
    ),
    MyTab.PAST: BookingSet(always=(S.COMPLETED, S.NO_SHOW), after_end=(S.CONFIRMED,)),
    MyTab.CANCELLED: BookingSet(always=(S.CANCELLED, S.DECLINED, S.EXPIRED)),
}

# The limit on open bookings per mentee with one mentor: awaiting payment, pending or confirmed, and not yet
# ended. A deployment may change the number (``MAX_ACTIVE_BOOKINGS_PER_MENTOR``); this is its default.
DEFAULT_MAX_ACTIVE_PER_MENTOR = 3
OPEN_WITH_MENTOR = BookingSet(until_end=tuple(status for status in S if status.is_active))


def my_tab_of(booking: Booking, now: datetime) -> MyTab:
    """The tab ``booking`` is listed under in its mentee's "My bookings" at ``now``."""
    return next(tab for tab, holds in TABS.items() if holds.holds(booking, now))


def counts_towards_limit(booking: Booking, now: datetime) -> bool:
    """Pending or upcoming: what ``usecases.booking.book_slot``'s limit per mentor counts (``OPEN_WITH_MENTOR``;
    a session that has ended does not count)."""
    return OPEN_WITH_MENTOR.holds(booking, now)


# --- the list -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MyBookings:
    tab: MyTab
    page: int  # 0-based, within range
    pages: int  # at least 1
    counts: dict[MyTab, int]
    entries: list[BookingView]

    @property
    def has_previous(self) -> bool:
        return self.page > 0

    @property
    def has_next(self) -> bool:
        return self.page + 1 < self.pages


# --- one booking ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MenteeActions:
    """What the mentee's card offers right now."""

    join: bool  # confirmed, with a link, not yet ended
    calendar: bool  # pending or confirmed and not yet ended
    cancel: bool  # pending, or confirmed until the offering's cut-off; never once started
    rate: bool  # completed and not yet rated
    cancel_closed: bool = False  # confirmed, not yet started, past the cut-off: the card says so (no button)
    pay: bool = False  # awaiting payment, the hold not yet over: send the invoice (again)
    release: bool = False  # awaiting payment: give the held time back without paying


_BOOKED = (S.PENDING, S.CONFIRMED)


def mentee_actions(booking: Booking, offering: Offering, now: datetime) -> MenteeActions:
    booked = booking.status in _BOOKED
    upcoming = booked and booking.ends_at > now
    not_started = booked and booking.scheduled_at > now
    closed = not_started and cancellation_closed(booking, offering, now)
    awaiting = booking.status == S.AWAITING_PAYMENT
    return MenteeActions(
        join=bool(booking.meeting_link) and booking.status == S.CONFIRMED and booking.ends_at > now,
        calendar=upcoming,
        cancel=not_started and not closed,
        rate=booking.status == S.COMPLETED and booking.mentee_rating is None,
        cancel_closed=closed,
        pay=awaiting and booking.held_until is not None and now < booking.held_until,
        release=awaiting,
    )


# --- the booking flow: dates a week at a time, times by part of the day ---------------------------------------


@dataclass(frozen=True, slots=True)
class WeekPage:
    monday: date
    days: list[date]  # the free dates of this week, sorted
    has_previous: bool
    has_next: bool

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def window_days(offering: Offering, now: datetime, zone: str) -> tuple[date, date]:
    """The first and last dates (in ``zone``) of the offering's booking window."""
    earliest, latest = booking_window(offering, now)
    tz = ZoneInfo(zone)
    return earliest.astimezone(tz).date(), latest.astimezone(tz).date()


def week_page(free: Sequence[date], window: tuple[date, date], monday: date | None = None) -> WeekPage:
    """The Monday-to-Sunday week starting ``monday`` (clamped to the weeks of ``window``, the first and last dates
    one may book), or, without one, the week of the first free date (the window's first week when none is free)."""
    lowest, highest = monday_of(window[0]), monday_of(window[1])
    if monday is None:
        monday = monday_of(free[0]) if free else lowest
    monday = min(max(monday_of(monday), lowest), highest)
    days = sorted(day for day in free if monday <= day <= monday + timedelta(days=6))
    return WeekPage(monday, days, monday > lowest, monday < highest)


class DayPart(StrEnum):
    MORNING = "morning"  # before 12:00
    AFTERNOON = "afternoon"  # 12:00 to 17:00
    EVENING = "evening"  # from 17:00


def day_part(moment: datetime, zone: str) -> DayPart:
    hour = moment.astimezone(ZoneInfo(zone)).hour
    if hour < 12:
        return DayPart.MORNING
    if hour < 17:
        return DayPart.AFTERNOON
    return DayPart.EVENING


def group_times(times: Sequence[datetime], zone: str) -> list[tuple[DayPart, list[datetime]]]:
    """The times by part of the day on the reader's clock, in order; empty parts left out."""
    groups: dict[DayPart, list[datetime]] = {}
    for moment in sorted(times):
        groups.setdefault(day_part(moment, zone), []).append(moment)
    return [(part, groups[part]) for part in DayPart if part in groups]
