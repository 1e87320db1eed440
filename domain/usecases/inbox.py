"""The mentor's bookings inbox: a page of one tab with the quick stats, one booking's card, and the mentor's own
moves (confirm and decline are ``booking.change_status``; cancel, completed / no-show and the private note here).

Everything takes the mentor's id from the asker (never from a button) and re-checks that the booking is theirs.
The rules (the tabs, the week, the note's editing) are ``domain.inbox``.
"""

from __future__ import annotations

from domain.booking import allowed_moves, check_link_editable
from domain.errors import InvalidInput, InvalidTransition, NotAllowed
from domain.inbox import PAGE_SIZE, Inbox, InboxTab, NotAMentor, SessionNotStarted, edit_private_note, week_bounds
from domain.model import Actor, BookingStatus, BookingView, User
from domain.ports import Clock, UnitOfWork
from domain.usecases.booking import booking_for, booking_views, change_status, move

S = BookingStatus


async def _mentor(uow: UnitOfWork, user_id: int) -> User:
    user = await uow.users.get(user_id)
    if user is None or not user.is_mentor:
        raise NotAMentor("not a mentor")
    return user


async def open_inbox(uow: UnitOfWork, clock: Clock, mentor_id: int, tab: InboxTab, page: int, zone: str) -> Inbox:
    """One page of one tab, the count of every tab and the quick stats; ``zone`` is the mentor's (for the week).

    A page past the end (the list shrank since the button was drawn) shows the last page instead."""
    mentor = await _mentor(uow, mentor_id)
    now = clock.now()
    counts = await uow.bookings.count_inbox_tabs(mentor_id, now)
    pages = max(1, -(-counts[tab] // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    bookings = await uow.bookings.list_inbox_tab(mentor_id, tab, now, PAGE_SIZE, page * PAGE_SIZE)
    week_start, week_end = week_bounds(now, zone)
    stats = await uow.bookings.mentor_stats(mentor_id, week_start, week_end)
    entries = await booking_views(uow, bookings, known=[mentor])
    return Inbox(mentor, tab, page, pages, counts, stats, entries)


async def mentor_booking(
    uow: UnitOfWork, mentor_id: int, booking_id: int, *, for_update: bool = False
) -> BookingView:
    """The booking as its mentor sees it (private note included); ``NotAllowed`` for anyone else (the mentee
    too). ``for_update``: before a change (``domain.usecases.booking.booking_for``)."""
    view, actor = await booking_for(uow, booking_id, mentor_id, for_update=for_update)
    if actor != Actor.MENTOR:
        raise NotAllowed("only the mentor")
    return view


async def start_mentor_move(
    uow: UnitOfWork, clock: Clock, mentor_id: int, booking_id: int, target: BookingStatus
) -> BookingView:
    """Check that the mentor may move the booking to ``target`` now (before asking for a reason)."""
    view = await mentor_booking(uow, mentor_id, booking_id)
    if target not in allowed_moves(view.booking, Actor.MENTOR, clock.now()):
        raise InvalidTransition(view.booking.status, target, Actor.MENTOR)
    return view


async def start_meeting_link(uow: UnitOfWork, mentor_id: int, booking_id: int) -> BookingView:
    """Check that the mentor may add or change the booking's link now (before asking for it)."""
    view = await mentor_booking(uow, mentor_id, booking_id)
    check_link_editable(view.booking, Actor.MENTOR)
    return view


async def cancel_as_mentor(
    uow: UnitOfWork, clock: Clock, mentor_id: int, booking_id: int, reason: str
) -> BookingView:
    """The mentor cancels a pending or confirmed booking, with a reason the mentee is told."""
    return await change_status(uow, clock, mentor_id, booking_id, S.CANCELLED, reason, only=Actor.MENTOR)


async def mark_session(
    uow: UnitOfWork, clock: Clock, mentor_id: int, booking_id: int, target: BookingStatus
) -> BookingView:
    """Completed or no-show, by the mentor, once the session has started."""
    if target not in (S.COMPLETED, S.NO_SHOW):
        raise InvalidInput("status", "not a session outcome")
    view = await mentor_booking(uow, mentor_id, booking_id, for_update=True)
    if view.booking.status == S.CONFIRMED and clock.now() < view.booking.scheduled_at:
        raise SessionNotStarted(view.booking.scheduled_at)
    return await move(uow, clock, view, Actor.MENTOR, target)


async def set_private_note(uow: UnitOfWork, mentor_id: int, booking_id: int, typed: str) -> BookingView:
    """Only the booking's mentor writes (and ever reads) its private note.

    ``updated_at`` is left alone: it times the after-session follow-ups, which a note must not move."""
    view = await mentor_booking(uow, mentor_id, booking_id, for_update=True)
    updated = await uow.bookings.update(
        view.booking.with_changes(mentor_notes=edit_private_note(view.booking.mentor_notes, typed))
    )
    return BookingView(updated, view.offering, view.mentor, view.mentee)
