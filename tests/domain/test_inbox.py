"""The bookings inbox's rules: tabs, the mentor's week, private notes, and who may do what (in-memory fake)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain import inbox
from domain.clock import FixedClock
from domain.errors import InvalidInput, InvalidTransition, NotAllowed, ReasonRequired
from domain.inbox import InboxTab, MentorStats, SessionNotStarted, edit_private_note, tab_of, week_bounds
from domain.model import Booking, BookingStatus, Offering, User
from domain.notifications import Notification, NotificationKind, NotificationPolicy
from domain.usecases.inbox import (
    cancel_as_mentor,
    mark_session,
    mentor_booking,
    open_inbox,
    set_private_note,
    start_mentor_move,
)
from domain.validation import EMPTY, TOO_LONG
from tests.domain.factories import booking, offering

S = BookingStatus
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # a Tuesday
H = timedelta(hours=1)


# --- tabs ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "start", "tab"),
    [
        (S.PENDING, NOW + 48 * H, InboxTab.PENDING),
        (S.PENDING, NOW - 48 * H, InboxTab.PENDING),  # not answered and past: still waiting (expiry moves it)
        (S.CONFIRMED, NOW + H, InboxTab.UPCOMING),
        (S.CONFIRMED, NOW - timedelta(minutes=30), InboxTab.UPCOMING),  # under way: ends at 06:30
        (S.CONFIRMED, NOW - H, InboxTab.PAST),  # ended exactly now: needs marking
        (S.CONFIRMED, NOW - 2 * H, InboxTab.PAST),
        (S.COMPLETED, NOW - 2 * H, InboxTab.PAST),
        (S.NO_SHOW, NOW - 2 * H, InboxTab.PAST),
        (S.EXPIRED, NOW + 2 * H, InboxTab.PAST),
        (S.CANCELLED, NOW + 2 * H, InboxTab.CANCELLED),
        (S.DECLINED, NOW - 2 * H, InboxTab.CANCELLED),
    ],
)
def test_each_booking_is_in_exactly_one_tab(status: S, start: datetime, tab: InboxTab) -> None:
    assert tab_of(booking(start, 60, status=status), NOW) == tab


def test_every_status_has_a_tab() -> None:
    for status in S:
        assert tab_of(booking(NOW, status=status), NOW) in InboxTab


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("start", [NOW - 2 * H, NOW - H, NOW - timedelta(minutes=30), NOW + H])
def test_the_declared_tabs_hold_every_booking_exactly_once(status: S, start: datetime) -> None:
    """``inbox.TABS`` is what storage's queries are built from: no booking may fall in two tabs, or in none."""
    entry = booking(start, 60, status=status)
    assert [tab for tab, rule in inbox.TABS.items() if rule.holds(entry, NOW)] == [tab_of(entry, NOW)]


@pytest.mark.parametrize(
    ("now", "zone", "start", "end"),
    [
        # Tuesday 06:00 UTC is Tuesday 11:30 in Kolkata: Monday 00:00 IST = Sunday 18:30 UTC
        (
            NOW,
            "Asia/Kolkata",
            datetime(2026, 11, 22, 18, 30, tzinfo=UTC),
            datetime(2026, 11, 29, 18, 30, tzinfo=UTC),
        ),
        # Sunday 23:30 UTC is already Monday in Kolkata: a new week there
        (
            datetime(2026, 11, 29, 23, 30, tzinfo=UTC),
            "Asia/Kolkata",
            datetime(2026, 11, 29, 18, 30, tzinfo=UTC),
            datetime(2026, 12, 6, 18, 30, tzinfo=UTC),
        ),
        # but still Sunday in New York
        (
            datetime(2026, 11, 29, 23, 30, tzinfo=UTC),
            "America/New_York",
            datetime(2026, 11, 23, 5, 0, tzinfo=UTC),
            datetime(2026, 11, 30, 5, 0, tzinfo=UTC),
        ),
        # the week of the spring change in London is 167 hours long
        (
            datetime(2026, 3, 25, 12, 0, tzinfo=UTC),
            "Europe/London",
            datetime(2026, 3, 23, 0, 0, tzinfo=UTC),
            datetime(2026, 3, 29, 23, 0, tzinfo=UTC),
        ),
    ],
)
def test_the_week_is_monday_to_sunday_in_the_mentors_zone(now, zone, start, end) -> None:
    assert week_bounds(now, zone) == (start, end)


def test_average_rating_of_the_stats() -> None:
    assert MentorStats().average_rating is None
    assert MentorStats(rating_sum=14, rating_count=3).average_rating == Decimal("4.67")


# --- private notes ------------------------------------------------------------------------------------------


def test_a_note_replaces_appends_or_is_deleted() -> None:
    assert edit_private_note(None, "  Wants FAANG prep  ") == "Wants FAANG prep"
    assert edit_private_note("old", "new") == "new"
    assert edit_private_note("first", "+ second") == "first\nsecond"
    assert edit_private_note(None, "+second") == "second"
    assert edit_private_note("first", "-") is None
    assert edit_private_note("<b>kept</b> & literal", "+<i>x</i>") == "<b>kept</b> & literal\n<i>x</i>"


def test_note_limits_are_checked_on_the_whole_note() -> None:
    edit_private_note(None, "x" * inbox.PRIVATE_NOTE_MAX)
    with pytest.raises(InvalidInput) as error:
        edit_private_note(None, "x" * (inbox.PRIVATE_NOTE_MAX + 1))
    assert (error.value.field, error.value.detail) == ("private_note", TOO_LONG)
    with pytest.raises(InvalidInput) as error:
        edit_private_note("y" * 600, "+" + "x" * 600)
    assert error.value.detail == TOO_LONG
    for blank in ("   ", "+", "+   "):
        with pytest.raises(InvalidInput) as error:
            edit_private_note(None, blank)
        assert error.value.detail == EMPTY


# --- the use cases over an in-memory unit of work -----------------------------------------------------------

MENTOR, MENTEE, OTHER_MENTOR = 1, 500, 2


@dataclass
class FakeRepo:
    items: dict[int, Any] = field(default_factory=dict)

    async def get(self, key: int) -> Any:
        return self.items.get(key)


@dataclass
class FakeBookings(FakeRepo):
    locked: set[int] = field(default_factory=set)  # read ``for_update`` in this unit of work

    async def get(self, key: int, *, for_update: bool = False) -> Any:
        if for_update:
            self.locked.add(key)
        return self.items.get(key)

    async def update(self, b: Booking) -> Booking:
        # a change is made only to a booking this unit of work locked (two people at once: one after the other)
        assert b.id in self.locked, f"booking {b.id} changed without reading it for update"
        self.items[b.id] = b
        return b

    async def active_for_mentor(self, mentor_id: int, start: datetime, end: datetime) -> list[Booking]:
        return [b for b in self._mine(mentor_id) if b.status.is_active and start <= b.scheduled_at < end]

    def _mine(self, mentor_id: int) -> list[Booking]:
        return [b for b in self.items.values() if b.mentor_id == mentor_id]

    async def count_inbox_tabs(self, mentor_id: int, now: datetime) -> dict[InboxTab, int]:
        tabs = [tab_of(b, now) for b in self._mine(mentor_id)]
        return {tab: tabs.count(tab) for tab in InboxTab}

    async def list_inbox_tab(self, mentor_id, tab, now, limit, offset=0) -> list[Booking]:
        found = sorted((b for b in self._mine(mentor_id) if tab_of(b, now) == tab), key=lambda b: b.scheduled_at)
        return found[offset : offset + limit]

    async def mentor_stats(self, mentor_id, week_start, week_end) -> MentorStats:
        mine = self._mine(mentor_id)
        return MentorStats(
            pending=sum(b.status == S.PENDING for b in mine),
            this_week=sum(
                b.status in inbox.WEEK_STATUSES and week_start <= b.scheduled_at < week_end for b in mine
            ),
            completed=sum(b.status == S.COMPLETED for b in mine),
            rating_sum=sum(b.mentee_rating or 0 for b in mine),
            rating_count=sum(b.mentee_rating is not None for b in mine),
        )


@dataclass
class FakeOfferings(FakeRepo):
    applied: list[Any] = field(default_factory=list)
    people: FakeRepo = field(default_factory=FakeRepo)

    async def get_with_mentor(self, offering_id: int) -> tuple[Offering, User] | None:
        offering = self.items.get(offering_id)
        mentor = self.people.items.get(offering.mentor_id) if offering is not None else None
        return (offering, mentor) if offering is not None and mentor is not None else None

    async def apply_stats(self, offering_id: int, delta: Any) -> None:
        self.applied.append((offering_id, delta))


class FakeOutbox:
    """Keeps what the use cases would send, so tests can see it."""

    policy = NotificationPolicy()

    def __init__(self) -> None:
        self.events: list[Notification] = []
        self.timed: dict[int, list[Notification]] = {}
        self.sessions: dict[str, Notification] = {}  # the mentor's reminders of a session, by key

    async def add(self, notifications: list[Notification]) -> None:
        self.events += notifications

    async def replace_timed(self, booking_id: int, notifications: list[Notification]) -> None:
        self.timed[booking_id] = list(notifications)

    async def keep_timed(self, notifications: list[Notification]) -> None:
        for n in notifications:
            self.sessions.setdefault(n.key, n)

    async def lock_pending(self, keys: list[str]) -> None:
        pass

    async def drop_pending(self, keys: list[str]) -> None:
        for key in keys:
            self.sessions.pop(key, None)


class FakeWaitlist:
    """Nobody waits."""

    async def candidates(self, offering_id: int, first: Any, last: Any, limit: int, **untold: Any) -> list[Any]:
        return []


class FakeUow:
    def __init__(self, bookings: list[Booking], offerings: list[Offering]) -> None:
        self.outbox = FakeOutbox()
        self.waitlist = FakeWaitlist()
        people = [
            User(MENTOR, "Asha", is_mentor=True),
            User(MENTEE, "Ravi"),
            User(OTHER_MENTOR, "Mo", is_mentor=True),
        ]
        self.users = FakeRepo({u.id: u for u in people})
        self.bookings = FakeBookings({b.id: b for b in bookings if b.id is not None})  # stored ones
        self.offerings = FakeOfferings({o.id: o for o in offerings if o.id is not None}, people=self.users)


def uow_with(*bookings: Booking) -> FakeUow:
    numbered = [b.with_changes(id=i) for i, b in enumerate(bookings, start=1)]
    return FakeUow(numbered, [offering(price=Decimal(500))])


async def test_the_inbox_pages_one_tab_and_counts_all() -> None:
    uow = uow_with(
        *(booking(NOW + (24 + i) * H, status=S.PENDING) for i in range(7)),
        booking(NOW + H),
        booking(NOW - 3 * H, status=S.COMPLETED).with_changes(mentee_rating=4),
    )
    clock = FixedClock(NOW)
    first = await open_inbox(uow, clock, MENTOR, InboxTab.PENDING, 0, "Asia/Kolkata")  # type: ignore[arg-type]
    assert first.counts == {InboxTab.PENDING: 7, InboxTab.UPCOMING: 1, InboxTab.PAST: 1, InboxTab.CANCELLED: 0}
    assert (first.page, first.pages, len(first.entries)) == (0, 2, inbox.PAGE_SIZE)
    assert first.has_next and not first.has_previous
    assert first.entries[0].mentee.display_name == "Ravi"
    # a page past the end (the list shrank) shows the last page
    last = await open_inbox(uow, clock, MENTOR, InboxTab.PENDING, 9, "Asia/Kolkata")  # type: ignore[arg-type]
    assert (last.page, len(last.entries), last.has_next) == (1, 2, False)
    assert last.stats == MentorStats(pending=7, this_week=9, completed=1, rating_sum=4, rating_count=1)
    empty = await open_inbox(uow, clock, MENTOR, InboxTab.CANCELLED, 0, "UTC")  # type: ignore[arg-type]
    assert (empty.pages, empty.entries) == (1, [])


async def test_only_mentors_have_an_inbox() -> None:
    uow = uow_with(booking(NOW + H))
    with pytest.raises(inbox.NotAMentor):
        await open_inbox(uow, FixedClock(NOW), MENTEE, InboxTab.PENDING, 0, "UTC")  # type: ignore[arg-type]


@pytest.mark.parametrize("asker", [MENTEE, OTHER_MENTOR])
async def test_nobody_but_the_mentor_reads_or_changes_a_booking(asker: int) -> None:
    original = booking(NOW - 2 * H, status=S.CONFIRMED).with_changes(mentor_notes="secret")
    uow = uow_with(original)
    clock = FixedClock(NOW)
    attempts = [
        mentor_booking(uow, asker, 1),  # type: ignore[arg-type]
        set_private_note(uow, asker, 1, "mine now"),  # type: ignore[arg-type]
        mark_session(uow, clock, asker, 1, S.COMPLETED),  # type: ignore[arg-type]
        cancel_as_mentor(uow, clock, asker, 1, "because"),  # type: ignore[arg-type]
        start_mentor_move(uow, clock, asker, 1, S.CANCELLED),  # type: ignore[arg-type]
    ]
    for attempt in attempts:
        with pytest.raises(NotAllowed):
            await attempt
    assert uow.bookings.items[1] == original.with_changes(id=1)
    assert uow.offerings.applied == []


async def test_marking_waits_for_the_start() -> None:
    uow = uow_with(booking(NOW + H, status=S.CONFIRMED))
    clock = FixedClock(NOW)
    with pytest.raises(SessionNotStarted) as error:
        await mark_session(uow, clock, MENTOR, 1, S.COMPLETED)  # type: ignore[arg-type]
    assert error.value.starts_at == NOW + H
    with pytest.raises(SessionNotStarted):
        await mark_session(uow, clock, MENTOR, 1, S.NO_SHOW)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        await mark_session(uow, clock, MENTOR, 1, S.CANCELLED)  # type: ignore[arg-type]
    clock.advance(H)
    done = await mark_session(uow, clock, MENTOR, 1, S.COMPLETED)  # type: ignore[arg-type]
    assert done.booking.status == S.COMPLETED
    assert [delta.completed for _id, delta in uow.offerings.applied] == [1]
    with pytest.raises(InvalidTransition):  # once only
        await mark_session(uow, clock, MENTOR, 1, S.NO_SHOW)  # type: ignore[arg-type]


async def test_the_mentor_cancels_with_a_reason_and_keeps_a_note() -> None:
    uow = uow_with(booking(NOW + 48 * H, status=S.CONFIRMED))
    clock = FixedClock(NOW)
    await start_mentor_move(uow, clock, MENTOR, 1, S.CANCELLED)  # type: ignore[arg-type]
    with pytest.raises(InvalidTransition):
        await start_mentor_move(uow, clock, MENTOR, 1, S.DECLINED)  # type: ignore[arg-type]
    with pytest.raises(ReasonRequired):
        await cancel_as_mentor(uow, clock, MENTOR, 1, "   ")  # type: ignore[arg-type]
    view = await cancel_as_mentor(uow, clock, MENTOR, 1, "Ill, sorry")  # type: ignore[arg-type]
    assert (view.booking.status, view.booking.cancellation_reason) == (S.CANCELLED, "Ill, sorry")
    # the mentee is told, and the reminders are withdrawn, in the same unit of work
    assert [(n.kind, n.recipient_id) for n in uow.outbox.events] == [(NotificationKind.CANCELLED, MENTEE)]
    assert uow.outbox.timed[1] == []
    noted = await set_private_note(uow, MENTOR, 1, "offer another slot")  # type: ignore[arg-type]
    assert noted.booking.mentor_notes == "offer another slot"
    assert noted.booking.updated_at == view.booking.updated_at  # a note does not move the follow-ups
