"""After a session: the mentee rates it (1-5 stars, once) and may add a few words.

The rules are ``domain.booking.rate`` (stars and the offering's counters) and ``domain.sessions`` (feedback).
"""

from __future__ import annotations

from domain import booking as rules
from domain.model import Actor, BookingView
from domain.ports import Clock, UnitOfWork
from domain.sessions import add_feedback, check_rateable
from domain.usecases.booking import booking_for
from domain.usecases.my_bookings import mentee_booking
from domain.usecases.notifications import record_change


async def booking_to_rate(uow: UnitOfWork, mentee_id: int, booking_id: int) -> BookingView:
    """The booking, if the asker (its mentee) may rate it now: completed and not rated yet."""
    view = await mentee_booking(uow, mentee_id, booking_id)
    check_rateable(view.booking)
    return view


async def rate_session(uow: UnitOfWork, clock: Clock, user_id: int, booking_id: int, stars: int) -> BookingView:
    """The mentee's 1-5 stars for a completed session, once; the offering's average moves in the same
    transaction."""
    view, actor = await booking_for(uow, booking_id, user_id, for_update=True)
    if actor == Actor.MENTEE:
        check_rateable(view.booking)
    rated, delta = rules.rate(view.booking, actor, stars, None, clock.now())
    rated = await uow.bookings.update(rated)
    assert view.offering.id is not None, "a loaded offering"
    await uow.offerings.apply_stats(view.offering.id, delta)
    await record_change(uow, view.booking, rated, actor, view.mentor_zone, clock.now())  # withdraws the follow-up
    return BookingView(rated, view.offering, view.mentor, view.mentee)


async def leave_feedback(uow: UnitOfWork, clock: Clock, user_id: int, booking_id: int, text: str) -> BookingView:
    view, actor = await booking_for(uow, booking_id, user_id, for_update=True)
    updated = await uow.bookings.update(add_feedback(view.booking, actor, text, clock.now()))
    return BookingView(updated, view.offering, view.mentor, view.mentee)
