"""Rescheduling a booking (``domain.reschedule`` holds the rules): the mentee picks a new time of the same offering
and either moves the booking at once or asks the mentor, who approves or declines; an unanswered request expires.

Every change locks both people's rows first (as ``book_slot`` does: a move and another booking for the same time
are served one after the other, so exactly one gets it), then the booking ``for_update``, re-checks the new time
inside the transaction, saves the booking and writes what it tells people (``notifications.record_change``: the
other person is told, reminders and the other timed messages follow the new time). A paid booking keeps its
payment: the status does not change, so ``ledger.settle_move`` makes nothing due.
"""

from __future__ import annotations

from datetime import date, datetime

from domain import reschedule as rules
from domain.errors import MenteeOverlap, NotFound, SlotTaken
from domain.model import Actor, Booking, BookingView
from domain.ports import Clock, UnitOfWork
from domain.slots import SlotContext
from domain.usecases.booking import check_slot, date_page, free_times
from domain.usecases.inbox import mentor_booking
from domain.usecases.ledger import settle_move
from domain.usecases.my_bookings import mentee_booking
from domain.usecases.notifications import load_view, record_change


async def start_reschedule(
    uow: UnitOfWork, clock: Clock, user_id: int, booking_id: int, max_moves: int
) -> BookingView:
    """The booking as its mentee may move it now (``domain.reschedule.check_may_reschedule``)."""
    view = await mentee_booking(uow, user_id, booking_id)
    rules.check_may_reschedule(view.booking, view.offering, clock.now(), max_moves)
    return view


async def move_dates(
    uow: UnitOfWork,
    clock: Clock,
    user_id: int,
    booking_id: int,
    zone: str,
    max_moves: int,
    monday: date | None = None,
) -> tuple[BookingView, SlotContext, list[date]]:
    """The date picker's week for moving the booking: its own time is not a conflict."""
    view = await start_reschedule(uow, clock, user_id, booking_id, max_moves)
    ctx, days = await date_page(uow, clock, view.offering.id, user_id, zone, monday, moving=view.booking)  # type: ignore[arg-type]
    return view, ctx, days


async def move_times(
    uow: UnitOfWork, clock: Clock, user_id: int, booking_id: int, day: date, zone: str, max_moves: int
) -> tuple[BookingView, SlotContext, list[datetime]]:
    """The free times of ``day`` for moving the booking (its current time left out: it is where it is now)."""
    view = await start_reschedule(uow, clock, user_id, booking_id, max_moves)
    ctx, times = await free_times(uow, clock, view.offering.id, user_id, day, zone, moving=booking_id)  # type: ignore[arg-type]
    return view, ctx, [start for start in times if start != view.booking.scheduled_at]


async def check_move(
    uow: UnitOfWork, clock: Clock, user_id: int, booking_id: int, start: datetime, max_moves: int
) -> BookingView:
    """``SlotTaken`` unless the booking may move to ``start`` now (every booking rule; its own time not a
    conflict)."""
    view = await start_reschedule(uow, clock, user_id, booking_id, max_moves)
    if start == view.booking.scheduled_at:
        raise rules.SameTime()
    await _check_new_time(uow, clock, view, start)
    return view


async def _locked(uow: UnitOfWork, booking_id: int) -> None:
    """Lock both people of the booking (before the booking itself): the order every booking change takes."""
    booking = await uow.bookings.get(booking_id)
    if booking is None:
        raise NotFound("booking")
    await uow.lock_users(*sorted({booking.mentor_id, booking.mentee_id}))


async def reschedule(
    uow: UnitOfWork, clock: Clock, user_id: int, booking_id: int, start: datetime, max_moves: int
) -> BookingView:
    """The mentee moves the booking to ``start`` (re-checked here, inside the write transaction): at once, or as a
    request the mentor answers (``domain.reschedule``, rule 3). The returned booking says which
    (``requested_start`` set: asked)."""
    await _locked(uow, booking_id)
    view = await mentee_booking(uow, user_id, booking_id, for_update=True)
    await check_move(uow, clock, user_id, booking_id, start, max_moves)
    now = clock.now()
    if rules.moves_at_once(view.booking, view.offering):
        return await _save(uow, view, rules.moved(view.booking, start, Actor.MENTEE, now), Actor.MENTEE, now)
    return await _save(uow, view, rules.requested(view.booking, start, now), Actor.MENTEE, now)


async def answer_move(
    uow: UnitOfWork, clock: Clock, mentor_id: int, booking_id: int, start: datetime, approve: bool
) -> BookingView:
    """The mentor approves (the booking moves to the time asked for) or declines (it keeps its time) the request
    for ``start``; ``NoMoveRequest`` when that request is no longer open (a stale or forged button)."""
    await _locked(uow, booking_id)
    view = await mentor_booking(uow, mentor_id, booking_id, for_update=True)
    rules.check_request(view.booking, start)
    now = clock.now()
    if not approve:
        return await _save(uow, view, rules.without_request(view.booking, now), Actor.MENTOR, now)
    if start <= now:
        raise SlotTaken()  # the time asked for has begun: nothing to move to
    end = start + (view.booking.ends_at - view.booking.scheduled_at)
    mentee_busy = await uow.bookings.active_for_mentee(view.mentee.id, start, end)
    if any(other.id != booking_id for other in mentee_busy):
        raise MenteeOverlap()  # the mentee booked something else at that time meanwhile
    return await _save(uow, view, rules.moved(view.booking, start, Actor.MENTEE, now), Actor.MENTOR, now)


async def expire_move(uow: UnitOfWork, clock: Clock, booking_id: int) -> BookingView | None:
    """The dispatcher's side: a request the mentor did not answer in time expires, the booking keeping its time.
    None when it was answered (or the booking changed) meanwhile."""
    view = await load_view(uow, booking_id, for_update=True)
    now = clock.now()
    if view is None or view.booking.requested_start is None or not view.booking.status.is_active:
        return None
    if now < rules.request_expiry(view.booking, uow.outbox.policy.expire_after):
        return None
    return await _save(uow, view, rules.without_request(view.booking, now), Actor.SYSTEM, now)


async def _save(uow: UnitOfWork, view: BookingView, changed: Booking, actor: Actor, now: datetime) -> BookingView:
    """Save the moved (or asked-for) booking with what it tells people, its timed messages re-planned, its payment
    kept (the status is the same: the ledger makes nothing due)."""
    changed = await settle_move(uow, view, changed, actor, now)
    saved = await uow.bookings.update(changed)
    await record_change(uow, view.booking, saved, actor, view.mentor_zone, now)
    return BookingView(saved, view.offering, view.mentor, view.mentee)


# --- the mentor proposes new times ----------------------------------------------------------------------------


async def start_proposal(
    uow: UnitOfWork, clock: Clock, mentor_id: int, booking_id: int, max_moves: int
) -> BookingView:
    """The booking as its mentor may propose new times for it now (``domain.reschedule``, rule 4)."""
    view = await mentor_booking(uow, mentor_id, booking_id)
    rules.check_may_propose(view.booking, clock.now(), max_moves)
    return view


async def proposal_dates(
    uow: UnitOfWork,
    clock: Clock,
    mentor_id: int,
    booking_id: int,
    zone: str,
    max_moves: int,
    monday: date | None = None,
) -> tuple[BookingView, SlotContext, list[date]]:
    """The date picker's week of the offering's free times, as the mentee could book them (the same rules; the
    booking's own time not a conflict), in the mentor's ``zone``."""
    view = await start_proposal(uow, clock, mentor_id, booking_id, max_moves)
    ctx, days = await date_page(uow, clock, view.offering.id, view.mentee.id, zone, monday, moving=view.booking)  # type: ignore[arg-type]
    return view, ctx, days


async def proposal_times(
    uow: UnitOfWork, clock: Clock, mentor_id: int, booking_id: int, day: date, zone: str, max_moves: int
) -> tuple[BookingView, SlotContext, list[datetime]]:
    view = await start_proposal(uow, clock, mentor_id, booking_id, max_moves)
    ctx, times = await free_times(uow, clock, view.offering.id, view.mentee.id, day, zone, moving=booking_id)  # type: ignore[arg-type]
    return view, ctx, [start for start in times if start != view.booking.scheduled_at]


async def _check_new_time(uow: UnitOfWork, clock: Clock, view: BookingView, start: datetime) -> None:
    """``SlotTaken`` unless the booking could move to ``start`` now; ``MenteeOverlap`` when its mentee has another
    session then."""
    booking_id = view.booking.id
    await check_slot(uow, clock, view.offering.id, view.mentee.id, start, moving=booking_id)  # type: ignore[arg-type]
    end = start + (view.booking.ends_at - view.booking.scheduled_at)
    if any(other.id != booking_id for other in await uow.bookings.active_for_mentee(view.mentee.id, start, end)):
        raise MenteeOverlap()


async def propose_times(
    uow: UnitOfWork,
    clock: Clock,
    mentor_id: int,
    booking_id: int,
    starts: list[datetime],
    message: str | None,
    max_moves: int,
) -> BookingView:
    """The mentor proposes one to three new times (each re-checked here) with an optional message; the mentee is
    sent them as buttons. New proposals replace the old ones."""
    await _locked(uow, booking_id)
    view = await mentor_booking(uow, mentor_id, booking_id, for_update=True)
    now = clock.now()
    rules.check_may_propose(view.booking, now, max_moves)
    changed = rules.proposed(view.booking, starts, message, now)
    for start in changed.proposals:
        await _check_new_time(uow, clock, view, start)
    return await _save(uow, view, changed, Actor.MENTOR, now)


async def pick_proposal(
    uow: UnitOfWork, clock: Clock, mentee_id: int, booking_id: int, start: datetime, max_moves: int
) -> BookingView:
    """The mentee takes one of the proposed times: the booking moves there at once (re-checked here; the move is
    the mentor's, counted like any other). ``NoProposal`` when that time is no longer proposed - so two proposals
    pressed at once move the booking once."""
    await _locked(uow, booking_id)
    view = await mentee_booking(uow, mentee_id, booking_id, for_update=True)
    rules.check_proposal(view.booking, start)
    now = clock.now()
    if rules.moves_left(view.booking, max_moves) == 0:
        raise rules.TooManyMoves(max_moves)
    await _check_new_time(uow, clock, view, start)
    return await _save(uow, view, rules.moved(view.booking, start, Actor.MENTOR, now), Actor.MENTEE, now)


async def decline_proposals(uow: UnitOfWork, clock: Clock, mentee_id: int, booking_id: int) -> BookingView:
    """None of the proposed times works: the booking stays, the mentor is told (they may propose again or
    cancel)."""
    await _locked(uow, booking_id)
    view = await mentee_booking(uow, mentee_id, booking_id, for_update=True)
    now = clock.now()
    return await _save(uow, view, rules.without_proposals(view.booking, now), Actor.MENTEE, now)
