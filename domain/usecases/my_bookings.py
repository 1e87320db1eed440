"""The mentee's bookings ("My bookings"): a page of one tab, one booking's card, and cancelling it.

Everything takes the mentee's id from the asker (never from a button) and re-checks that the booking is theirs.
The rules (the tabs, what a card offers, the cancellation cut-off) are ``domain.mentee`` and ``domain.sessions``.
"""

from __future__ import annotations

from domain.errors import InvalidTransition, NotAllowed
from domain.mentee import PAGE_SIZE, MyBookings, MyTab
from domain.model import Actor, BookingStatus, BookingView
from domain.ports import Clock, UnitOfWork
from domain.sessions import check_mentee_may_cancel
from domain.usecases.booking import booking_for, booking_views, move


async def open_my_bookings(uow: UnitOfWork, clock: Clock, mentee_id: int, tab: MyTab, page: int) -> MyBookings:
    """One page of one tab of the asker's bookings (as a mentee), with every tab's count. A page past the end
    (the list shrank since the button was drawn) shows the last page instead."""
    me = await uow.users.get(mentee_id)
    now = clock.now()
    counts = await uow.bookings.count_mentee_tabs(mentee_id, now)
    pages = max(1, -(-counts[tab] // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    bookings = await uow.bookings.list_mentee_tab(mentee_id, tab, now, PAGE_SIZE, page * PAGE_SIZE)
    entries = await booking_views(uow, bookings, known=[me] if me is not None else [])
    return MyBookings(tab, page, pages, counts, entries)


async def mentee_booking(
    uow: UnitOfWork, user_id: int, booking_id: int, *, for_update: bool = False
) -> BookingView:
    """The booking as its mentee sees it; ``NotAllowed`` for anyone else (its mentor too). ``for_update``: before
    a change (``domain.usecases.booking.booking_for``)."""
    view, actor = await booking_for(uow, booking_id, user_id, for_update=for_update)
    if actor != Actor.MENTEE:
        raise NotAllowed("only the mentee")
    return view


async def my_booking(uow: UnitOfWork, mentee_id: int, booking_id: int) -> BookingView:
    """The booking as its mentee sees it; ``NotAllowed`` for anyone else (its mentor too)."""
    return await mentee_booking(uow, mentee_id, booking_id)


async def start_mentee_cancellation(uow: UnitOfWork, clock: Clock, user_id: int, booking_id: int) -> BookingView:
    """Check that the mentee may cancel now (before asking for a reason)."""
    view = await mentee_booking(uow, user_id, booking_id)
    if view.booking.status == BookingStatus.AWAITING_PAYMENT:
        raise InvalidTransition(view.booking.status, BookingStatus.CANCELLED, Actor.MENTEE)
    check_mentee_may_cancel(view.booking, view.offering, clock.now())
    return view


async def cancel_as_mentee(
    uow: UnitOfWork, clock: Clock, user_id: int, booking_id: int, reason: str
) -> BookingView:
    """The mentee cancels a request or a confirmed session (until the cut-off), with a reason for the mentor; what
    they paid is refunded by the policy (``domain.payments.refund_on_move``)."""
    view = await mentee_booking(uow, user_id, booking_id, for_update=True)
    if view.booking.status == BookingStatus.AWAITING_PAYMENT:  # not paid yet: nothing to cancel but the hold
        raise InvalidTransition(view.booking.status, BookingStatus.CANCELLED, Actor.MENTEE)
    check_mentee_may_cancel(view.booking, view.offering, clock.now())
    return await move(uow, clock, view, Actor.MENTEE, BookingStatus.CANCELLED, reason)
