"""After booking: the mentee's answers to reminders, cancelling under the offering's policy, and rating.

The mentor's moves (confirm, decline, complete, no-show, cancel) are ``usecases.change_status``; the rules here
are the mentee's side and the system's (expiry).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain import booking as rules
from domain.errors import DomainError, InvalidTransition, NotAllowed
from domain.model import NOTES_MAX, Actor, Booking, BookingStatus, Offering, User
from domain.notifications import expiry_time, record_change
from domain.ports import Clock, UnitOfWork
from domain.usecases import BookingView, booking_for
from domain.validation import clean_text


class CancellationClosed(DomainError):
    """The offering's cut-off has passed: the mentee can no longer cancel (the mentor still can)."""

    def __init__(self, hours: int) -> None:
        super().__init__(f"cancellation closes {hours} h before the start")
        self.hours = hours


def _zone(view: BookingView) -> str:
    return view.mentor.timezone or "UTC"


class AlreadyRated(DomainError):
    """The mentee has rated this session already; a rating is given once."""


class NotRateable(DomainError):
    """Only a session the mentor marked completed can be rated."""


def cancellation_deadline(booking: Booking, offering: Offering) -> datetime:
    return booking.scheduled_at - timedelta(hours=offering.cancellation_cutoff_hours)


def check_mentee_may_cancel(booking: Booking, offering: Offering, now: datetime) -> None:
    """A mentee cancels an active booking only until the cut-off (a pending request can always be withdrawn)."""
    if not booking.status.is_active:
        raise InvalidTransition(booking.status, BookingStatus.CANCELLED, Actor.MENTEE)
    if booking.status == BookingStatus.CONFIRMED and now > cancellation_deadline(booking, offering):
        raise CancellationClosed(offering.cancellation_cutoff_hours)


async def mentee_booking(
    uow: UnitOfWork, user_id: int, booking_id: int, *, for_update: bool = False
) -> BookingView:
    view, actor = await booking_for(uow, booking_id, user_id, for_update=for_update)
    if actor != Actor.MENTEE:
        raise NotAllowed("only the mentee")
    return view


async def start_mentee_cancellation(uow: UnitOfWork, clock: Clock, user_id: int, booking_id: int) -> BookingView:
    """Check that the mentee may cancel now (before asking for a reason)."""
    view = await mentee_booking(uow, user_id, booking_id)
    check_mentee_may_cancel(view.booking, view.offering, clock.now())
    return view


async def cancel_as_mentee(uow: UnitOfWork, clock: Clock, user_id: int, booking_id: int, reason: str) -> BookingView:
    view = await mentee_booking(uow, user_id, booking_id, for_update=True)
    check_mentee_may_cancel(view.booking, view.offering, clock.now())
    updated, _delta = rules.transition(view.booking, BookingStatus.CANCELLED, Actor.MENTEE, clock.now(), reason)
    updated = await uow.bookings.update(updated)
    await record_change(uow, view.booking, updated, Actor.MENTEE, _zone(view), clock.now())
    return BookingView(updated, view.offering, view.mentor, view.mentee)


async def rate_session(uow: UnitOfWork, clock: Clock, user_id: int, booking_id: int, stars: int) -> BookingView:
    """The mentee's 1-5 stars for a completed session, once; the offering's average moves in the same transaction."""
    view, actor = await booking_for(uow, booking_id, user_id, for_update=True)
    if actor == Actor.MENTEE and view.booking.mentee_rating is not None:
        raise AlreadyRated()
    if actor == Actor.MENTEE and view.booking.status != BookingStatus.COMPLETED:
        raise NotRateable()
    rated, delta = rules.rate(view.booking, actor, stars, None, clock.now())
    rated = await uow.bookings.update(rated)
    await uow.offerings.apply_stats(view.offering.id, delta)  # type: ignore[arg-type]
    await record_change(uow, view.booking, rated, actor, _zone(view), clock.now())  # withdraws the follow-up
    return BookingView(rated, view.offering, view.mentor, view.mentee)


def add_feedback(booking: Booking, actor: Actor, text: str, now: datetime) -> Booking:
    """Optional words after the stars: only by the mentee, only once, only after rating."""
    if actor != Actor.MENTEE:
        raise NotAllowed()
    if booking.mentee_rating is None or booking.mentee_feedback is not None:
        raise InvalidTransition(booking.status, booking.status, actor)
    return booking.with_changes(mentee_feedback=clean_text(text, NOTES_MAX, field="feedback") or None, updated_at=now)


async def leave_feedback(uow: UnitOfWork, clock: Clock, user_id: int, booking_id: int, text: str) -> BookingView:
    view, actor = await booking_for(uow, booking_id, user_id, for_update=True)
    updated = await uow.bookings.update(add_feedback(view.booking, actor, text, clock.now()))
    return BookingView(updated, view.offering, view.mentor, view.mentee)


# --- the system's side: what the dispatcher needs when a notification falls due ---------------------------------


async def load_view(uow: UnitOfWork, booking_id: int, *, for_update: bool = False) -> BookingView | None:
    """The booking with its offering and both people, or None if any of them is gone (no asker: the system).
    ``for_update``: before a change (``BookingRepository.get``)."""
    booking = await uow.bookings.get(booking_id, for_update=for_update)
    if booking is None:
        return None
    offering = await uow.offerings.get(booking.offering_id)
    mentor, mentee = await uow.users.get(booking.mentor_id), await uow.users.get(booking.mentee_id)
    if offering is None or mentor is None or mentee is None:
        return None
    return BookingView(booking, offering, mentor, mentee)


async def expire_request(uow: UnitOfWork, clock: Clock, booking_id: int) -> BookingView | None:
    """Expire a request the mentor did not answer in time; both people are told. None if it was answered."""
    view = await load_view(uow, booking_id, for_update=True)  # the mentor may be answering right now
    now = clock.now()
    if view is None or view.booking.status != BookingStatus.PENDING:
        return None
    if now < expiry_time(view.booking, uow.outbox.policy):
        return None
    expired, _delta = rules.transition(view.booking, BookingStatus.EXPIRED, Actor.SYSTEM, now)
    expired = await uow.bookings.update(expired)
    await record_change(uow, view.booking, expired, Actor.SYSTEM, _zone(view), now)
    return BookingView(expired, view.offering, view.mentor, view.mentee)


@dataclass(frozen=True, slots=True)
class Agenda:
    mentor: User
    sessions: list[BookingView]


async def day_agenda(uow: UnitOfWork, mentor_id: int, moment: datetime) -> Agenda | None:
    """The mentor's confirmed sessions on the local day of ``moment`` (the agenda hour), from ``moment`` on;
    None when the mentor turned the agenda off or has nothing that day."""
    mentor = await uow.users.get(mentor_id)
    if mentor is None or not mentor.daily_agenda:
        return None
    zone = ZoneInfo(mentor.timezone or "UTC")
    local_day = moment.astimezone(zone).date()
    day_end = datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    views = []
    for booking in await uow.bookings.active_for_mentor(mentor_id, moment, day_end):
        if booking.status != BookingStatus.CONFIRMED or not moment <= booking.scheduled_at < day_end:
            continue
        view = await load_view(uow, booking.id)  # type: ignore[arg-type]
        if view is not None:
            views.append(view)
    if not views:
        return None
    return Agenda(mentor, sorted(views, key=lambda v: v.booking.scheduled_at))
