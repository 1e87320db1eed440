"""Calendar sync: each person's private feed of their sessions, and a mentor's busy calendars.

The rules are ``domain.calendar`` (what the feed holds, its tokens) and ``domain.busy`` (which calendars, what
blocks, when to read again, when to tell the mentor). Reading a calendar over the network is not a use case: the
caller plans the read here (``plan_read``), fetches and reads the file outside any transaction, and records the
outcome here (``record_read``) - so no transaction stays open while a server takes its time. Times a calendar stops
blocking (removed, or read again with less in it) go to the people waiting for them (``domain.waitlist``, rule 4),
in the transaction that saves the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import busy
from domain.busy import BusyCalendar, Failure
from domain.calendar import (
    FEED_LIMIT,
    FeedLink,
    feed_since,
    looks_like_token,
    new_feed,
    token_digest,
    token_matches,
)
from domain.errors import NotAllowed, NotFound
from domain.model import BookingView, BusyInterval, OfferingStatus, User
from domain.notifications import Notification, NotificationKind
from domain.ports import Clock, UnitOfWork
from domain.schedule import FALLBACK_ZONE
from domain.usecases.booking import booking_views
from domain.usecases.people import load_mentor, load_user
from domain.usecases.waitlist import free_starts, tell_opened

# --- the personal feed -----------------------------------------------------------------------------------------


async def feed_link(uow: UnitOfWork, user_id: int) -> FeedLink:
    """The person's feed, made on first use (the caller commits)."""
    await load_user(uow, user_id)
    found = await uow.feeds.get(user_id)
    if found is not None:
        return found
    made = new_feed(user_id)
    await uow.feeds.save(made)
    return made


async def reset_feed(uow: UnitOfWork, user_id: int) -> FeedLink:
    """A new address for the person's feed; the old one stops working once this commits."""
    await load_user(uow, user_id)
    made = new_feed(user_id)
    await uow.feeds.save(made)
    return made


@dataclass(frozen=True, slots=True)
class Feed:
    owner: User
    link: FeedLink
    sessions: list[BookingView]  # as a mentor and as a mentee, earliest first


async def open_feed(uow: UnitOfWork, clock: Clock, token: str) -> Feed | None:
    """The feed whose address carries ``token`` with the sessions it shows now; None for a token that is not one
    (found by the token's digest, then compared in constant time)."""
    if not looks_like_token(token):
        return None
    link = await uow.feeds.find(token_digest(token))
    if link is None or not token_matches(token, link):
        return None
    owner = await uow.users.get(link.user_id)
    if owner is None:
        return None
    bookings = await uow.bookings.for_feed(owner.id, feed_since(clock.now()), FEED_LIMIT)
    return Feed(owner, link, await booking_views(uow, bookings, known=[owner]))


async def record_feed_version(uow: UnitOfWork, clock: Clock, feed: Feed, digest: str) -> datetime:
    """The feed now serves the content with ``digest``; returns when that content was first served (its
    Last-Modified), in whole seconds and later than the previous version's, so that HTTP dates tell any two
    versions apart. Writes only when the content changed."""
    previous = feed.link.changed_at
    if feed.link.content_digest == digest and previous is not None:
        return previous
    changed = clock.now().replace(microsecond=0)
    if previous is not None and changed <= previous:
        changed = previous + timedelta(seconds=1)
    await uow.feeds.set_version(feed.owner.id, digest, changed)
    return changed


# --- a mentor's busy calendars ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Calendars:
    """A mentor's busy calendars as the availability screen lists them."""

    zone: str
    calendars: list[BusyCalendar]
    now: datetime

    def blocks(self, calendar: BusyCalendar) -> bool:
        return busy.blocks(calendar, self.now)

    @property
    def room(self) -> bool:
        return len(self.calendars) < busy.MAX_CALENDARS


async def _zone(uow: UnitOfWork, mentor: User) -> str:
    """The mentor's wall-clock zone: their weekly hours', else their own."""
    saved = await uow.availability.get(mentor.id)
    return saved.timezone if saved is not None else mentor.timezone or FALLBACK_ZONE


async def list_calendars(uow: UnitOfWork, clock: Clock, mentor_id: int) -> Calendars:
    mentor = await load_mentor(uow, mentor_id)
    return Calendars(await _zone(uow, mentor), await uow.calendars.list_for_mentor(mentor_id), clock.now())


async def add_calendar(uow: UnitOfWork, clock: Clock, mentor_id: int, typed: str) -> BusyCalendar:
    """Add the calendar at the address the mentor typed (``busy.check_url``), at most ``busy.MAX_CALENDARS``; the
    mentor's row is locked first, so two additions at once cannot pass the limit together. The caller reads it
    right away (``plan_read``)."""
    url = busy.check_url(typed)
    await load_mentor(uow, mentor_id)
    await uow.lock_users(mentor_id)
    busy.check_room(await uow.calendars.list_for_mentor(mentor_id))
    return await uow.calendars.add(BusyCalendar(mentor_id, url, clock.now()))


async def _own_calendar(uow: UnitOfWork, mentor_id: int, calendar_id: int) -> BusyCalendar:
    calendar = await uow.calendars.get(calendar_id)
    if calendar is None:
        raise NotFound("calendar")
    if calendar.mentor_id != mentor_id:
        raise NotAllowed("not your calendar")
    return calendar


async def remove_calendar(uow: UnitOfWork, clock: Clock, mentor_id: int, calendar_id: int) -> Calendars:
    await load_mentor(uow, mentor_id)
    await _own_calendar(uow, mentor_id, calendar_id)
    before = await free_starts(uow, clock, mentor_id)
    await uow.calendars.remove(calendar_id)
    await tell_opened(uow, mentor_id, before)
    return await list_calendars(uow, clock, mentor_id)


# --- reading a calendar: plan, fetch elsewhere, record ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadPlan:
    calendar: BusyCalendar
    start: datetime  # keep the busy intervals of [start, end)
    end: datetime
    zone: str  # for floating times and all-day dates when the calendar names no zone
    conditional: bool  # send the stored ETag / Last-Modified

    @property
    def etag(self) -> str | None:
        return self.calendar.etag if self.conditional else None

    @property
    def last_modified(self) -> str | None:
        return self.calendar.last_modified if self.conditional else None


async def plan_read(uow: UnitOfWork, clock: Clock, calendar_id: int) -> ReadPlan | None:
    """What reading the calendar now takes; None when it is gone."""
    calendar = await uow.calendars.get(calendar_id)
    if calendar is None:
        return None
    mentor = await uow.users.get(calendar.mentor_id)
    if mentor is None:
        return None
    windows = [
        offering.advance_booking_days
        for offering in await uow.offerings.list_by_mentor(mentor.id)
        if offering.status != OfferingStatus.ARCHIVED
    ]
    advance = max(windows, default=busy.DEFAULT_WINDOW_DAYS)
    now = clock.now()
    start, end = busy.keep_range(now, advance)
    conditional = not busy.needs_full_read(calendar, now, advance)
    return ReadPlan(calendar, start, end, await _zone(uow, mentor), conditional)


@dataclass(frozen=True, slots=True)
class ReadOk:
    etag: str | None
    last_modified: str | None
    intervals: Sequence[BusyInterval] | None  # None: not modified since the last read


async def record_read(
    uow: UnitOfWork, clock: Clock, plan: ReadPlan, outcome: ReadOk | Failure
) -> BusyCalendar | None:
    """Save how reading the calendar of ``plan`` went: new busy intervals, or the failure (and, when it has not
    blocked for a day, a message telling the mentor, once). None when the calendar was removed meanwhile. New
    intervals that leave times free which were not tell the people waiting for them."""
    now = clock.now()
    current = await uow.calendars.get(plan.calendar.id or 0)
    if current is None:
        return None
    before = None
    if isinstance(outcome, Failure):
        updated = busy.read_failed(current, now, outcome)
        if busy.should_tell_failing(updated, now):
            updated = updated.with_changes(failure_told=True)
            await uow.outbox.add([failing_notice(updated, now)])
    else:
        until = plan.end if outcome.intervals is not None else None
        updated = busy.read_ok(current, now, outcome.etag, outcome.last_modified, until)
        if outcome.intervals is not None:
            before = await free_starts(uow, clock, current.mentor_id)
            await uow.calendars.replace_busy(updated, outcome.intervals)
    await uow.calendars.save(updated)
    if before is not None:
        await tell_opened(uow, current.mentor_id, before)
    return updated


def failing_notice(calendar: BusyCalendar, now: datetime) -> Notification:
    """The message that ``calendar`` stopped blocking: once per failure (its key names when the failure began)."""
    since = calendar.failing_since or now
    key = f"{NotificationKind.CALENDAR_FAILING.value}:{calendar.id}:{since:%Y%m%d%H%M%S}"
    return Notification(NotificationKind.CALENDAR_FAILING, calendar.mentor_id, now, key=key)


async def calendars_due(uow: UnitOfWork, clock: Clock, every: timedelta, limit: int) -> list[int]:
    """Calendars not read for ``every`` (or never), the longest waiting first."""
    return await uow.calendars.due(clock.now() - every, limit)


async def stopped_calendars(
    uow: UnitOfWork, clock: Clock, mentor_id: int
) -> tuple[User, list[BusyCalendar]] | None:
    """For the message that calendars stopped blocking: the mentor and those of their calendars that fail and no
    longer block now; None when there are none (they recovered, or were removed)."""
    mentor = await uow.users.get(mentor_id)
    if mentor is None:
        return None
    now = clock.now()
    stopped = [
        calendar
        for calendar in await uow.calendars.list_for_mentor(mentor_id)
        if calendar.failure is not None and not busy.blocks(calendar, now)
    ]
    return (mentor, stopped) if stopped else None
