"""A group session's roster, as its mentor manages it: open it from any attendee's booking, give everyone one
meeting link, mark each attendee, cancel the whole session.

Every attendee's change is that booking's usual move (``booking.move``, ``booking.add_meeting_link``), each
booking locked first and each attendee told; refunds follow the payments rules per attendee
(``ledger.settle_move`` inside ``move``). The rules are ``domain.roster``.
"""

from __future__ import annotations

from domain.errors import InvalidTransition
from domain.model import Actor, BookingStatus
from domain.ports import Clock, UnitOfWork
from domain.roster import Roster
from domain.usecases.booking import add_meeting_link, booking_views, move
from domain.usecases.inbox import mark_session, mentor_booking


async def open_roster(uow: UnitOfWork, mentor_id: int, booking_id: int) -> Roster:
    """The session of ``booking_id`` (any attendee's booking) with all its attendees; only for its mentor."""
    view = await mentor_booking(uow, mentor_id, booking_id)
    booking = view.booking
    bookings = await uow.bookings.session_bookings(booking.offering_id, booking.scheduled_at)
    attendees = await booking_views(uow, bookings, known=[view.mentor])
    return Roster(view.offering, view.mentor, booking.scheduled_at, tuple(attendees))


async def set_session_link(uow: UnitOfWork, clock: Clock, mentor_id: int, booking_id: int, link: str) -> Roster:
    """One meeting link for every attendee who may still get one (pending or confirmed); each is told.
    ``InvalidTransition`` when nobody may."""
    await uow.lock_users(mentor_id)  # booking locks the mentor too: nobody joins half-way through
    roster = await open_roster(uow, mentor_id, booking_id)
    receivers = roster.link_receivers
    if not receivers:
        raise InvalidTransition(BookingStatus.CANCELLED, BookingStatus.CANCELLED, Actor.MENTOR)
    for view in receivers:
        assert view.booking.id is not None
        if view.booking.meeting_link != link.strip():
            await add_meeting_link(uow, clock, mentor_id, view.booking.id, link)
    return await open_roster(uow, mentor_id, booking_id)


async def start_session_cancel(uow: UnitOfWork, mentor_id: int, booking_id: int) -> Roster:
    """Check that the whole session may be cancelled now (before asking for the reason)."""
    roster = await open_roster(uow, mentor_id, booking_id)
    roster.check_cancellable()
    if not roster.cancellable:
        raise InvalidTransition(BookingStatus.CANCELLED, BookingStatus.CANCELLED, Actor.MENTOR)
    return roster


async def cancel_session(uow: UnitOfWork, clock: Clock, mentor_id: int, booking_id: int, reason: str) -> Roster:
    """Cancel every pending or confirmed attendee with one reason, each told, each refunded by the policy."""
    await uow.lock_users(mentor_id)  # booking locks the mentor too: nobody joins half-way through
    roster = await start_session_cancel(uow, mentor_id, booking_id)
    for attendee in roster.cancellable:
        assert attendee.booking.id is not None
        view = await mentor_booking(uow, mentor_id, attendee.booking.id, for_update=True)
        if view.booking.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED):  # as read under the lock
            await move(uow, clock, view, Actor.MENTOR, BookingStatus.CANCELLED, reason)
    return await open_roster(uow, mentor_id, booking_id)


async def mark_attendee(
    uow: UnitOfWork, clock: Clock, mentor_id: int, booking_id: int, target: BookingStatus
) -> Roster:
    """Completed or no-show for one attendee (``inbox.mark_session``), then the roster as it is now."""
    await mark_session(uow, clock, mentor_id, booking_id, target)
    return await open_roster(uow, mentor_id, booking_id)
