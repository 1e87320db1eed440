"""Booking: choosing a time, booking it, and moving a booking through the state machine.

The rules are ``domain.slots`` (which start times are free) and ``domain.booking`` (the transition table: who may
move a booking from which status to which). Every change here locks the booking's row first (``for_update``),
saves the new state, writes what it tells people (``notifications.record_change``) and the offering's counters,
all in the caller's unit of work. The mentor's inbox (``inbox``) and the mentee's bookings (``my_bookings``,
``aftercare``) build on ``booking_for`` and ``move``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain import booking as rules
from domain import busy, slots
from domain.availability import effective_availability
from domain.errors import (
    MenteeOverlap,
    NotAllowed,
    NotFound,
    OfferingUnavailable,
    SelfBooking,
    SlotTaken,
    TooManyBookings,
)
from domain.mentee import DEFAULT_MAX_ACTIVE_PER_MENTOR, monday_of, window_days
from domain.model import (
    Actor,
    Availability,
    Booking,
    BookingStatus,
    BookingView,
    BusyInterval,
    Offering,
    OfferingStatus,
    PaymentMode,
    User,
)
from domain.payments import NONCE_BYTES, PaymentSettings, payment_terms
from domain.ports import Clock, UnitOfWork
from domain.reschedule import held_times
from domain.roster import session_link as roster_link
from domain.series import check_package
from domain.slots import SlotContext
from domain.usecases.ledger import Due, settle_move
from domain.usecases.notifications import record_change, view_of
from domain.usecases.people import load_user

# --- choosing a time ----------------------------------------------------------------------------------------


async def _bookable_offering(uow: UnitOfWork, offering_id: int, viewer_id: int) -> tuple[Offering, User]:
    found = await uow.offerings.get_with_mentor(offering_id)
    if found is None:
        raise NotFound("offering")
    offering, mentor = found
    if offering.status != OfferingStatus.ACTIVE:
        raise OfferingUnavailable(offering.status)
    if offering.mentor_id == viewer_id:
        raise SelfBooking()
    return offering, mentor


async def busy_between(
    uow: UnitOfWork, now: datetime, mentor_id: int, start: datetime, end: datetime
) -> list[BusyInterval]:
    """What the mentor's external calendars that still block (``domain.busy``, rule 4) say is busy in
    ``[start, end)``."""
    return await uow.calendars.busy_for_mentor(mentor_id, start, end, busy.fresh_since(now))


async def _slot_context(
    uow: UnitOfWork,
    offering_id: int,
    viewer_id: int,
    now: datetime,
    around: tuple[datetime, datetime] | None = None,
    moving: int | None = None,
) -> SlotContext:
    """The offering, its mentor, their availability, and the bookings and external busy intervals that can
    affect a slot starting in ``around`` (both ends included; without it, the offering's booking window from
    ``now``). Loads each of them once, and only what is busy around what the step looks at: a step's cost does not
    grow with how many bookings the mentor has elsewhere. ``moving``: the id of a booking being moved, whose own
    time (and a new time held for it) is not a conflict (``domain.reschedule``, rule 2)."""
    offering, mentor = await _bookable_offering(uow, offering_id, viewer_id)
    availability = effective_availability(offering, await uow.availability.get(mentor.id))
    ctx = SlotContext(offering, mentor, availability, [])
    return await _with_busy(uow, ctx, now, around or slots.booking_window(offering, now), moving)


async def _with_busy(
    uow: UnitOfWork,
    ctx: SlotContext,
    now: datetime,
    around: tuple[datetime, datetime],
    moving: int | None = None,
) -> SlotContext:
    """``ctx`` with the mentor's bookings, the new times held for bookings being rescheduled, and external busy
    intervals that can affect a slot starting in ``around``; the booking ``moving`` left out."""
    start, end = around[0] - slots.NEIGHBOURHOOD, around[1] + slots.NEIGHBOURHOOD
    booked, requested = await uow.bookings.blocking_for_mentor(ctx.mentor.id, start, end)
    booked += held_times(requested)
    if moving is not None:
        booked = [booking for booking in booked if booking.id != moving]
    external = await busy_between(uow, now, ctx.mentor.id, start, end)
    return replace(ctx, busy=booked, external=external)


async def open_starts(
    uow: UnitOfWork, now: datetime, offering: Offering, mentor: User, profile: Availability | None
) -> list[datetime]:
    """Every start time of ``offering`` free now in its booking window, for no one in particular (the waitlist's
    side: which times an edit of the mentor's hours ``profile`` opens)."""
    availability = effective_availability(offering, profile)
    if availability is None:
        return []
    ctx = SlotContext(offering, mentor, availability, [])
    ctx = await _with_busy(uow, ctx, now, slots.booking_window(offering, now))
    return slots.generate_slots(offering, availability, ctx.busy, now, external=ctx.external)


async def free_dates(
    uow: UnitOfWork, clock: Clock, offering_id: int, viewer_id: int, viewer_tz: str
) -> tuple[SlotContext, list[date]]:
    """Dates (in the viewer's zone) on which the offering has at least one free start time, in its whole booking
    window (the date picker shows one week: ``date_page``)."""
    ctx = await _slot_context(uow, offering_id, viewer_id, clock.now())
    if ctx.availability is None:
        return ctx, []
    days = slots.free_dates(
        ctx.offering, ctx.availability, ctx.busy, clock.now(), ZoneInfo(viewer_tz), ctx.external
    )
    return ctx, days


async def date_page(
    uow: UnitOfWork,
    clock: Clock,
    offering_id: int,
    viewer_id: int,
    viewer_tz: str,
    monday: date | None = None,
    moving: Booking | None = None,
) -> tuple[SlotContext, list[date]]:
    """What the date picker shows: the free dates (viewer's zone) of the week starting ``monday``, or, without one,
    of the first week of the booking window that has any. When the week asked for has none, the free dates of the
    earliest other week that has any come back instead (so ``domain.mentee.week_page`` shows an empty week, not an
    empty window); ``[]`` means the whole window is full. Loads what is busy one week at a time, usually once.
    ``moving``: a booking being moved - its own time is not a conflict, and no free time for it either (a day whose
    only free time is the booking's own is not listed, as the time picker would show it none)."""
    now = clock.now()
    offering, mentor = await _bookable_offering(uow, offering_id, viewer_id)
    first, last = window_days(offering, now, viewer_tz)
    weeks = (monday_of(last) - monday_of(first)).days // 7 + 1
    mondays = [monday_of(first) + timedelta(weeks=n) for n in range(weeks)]
    if monday is not None:
        wanted = min(max(monday_of(monday), mondays[0]), mondays[-1])
        mondays.remove(wanted)
        mondays.insert(0, wanted)
    tz = ZoneInfo(viewer_tz)
    own = moving.scheduled_at if moving is not None else None
    availability = effective_availability(offering, await uow.availability.get(mentor.id))
    ctx = SlotContext(offering, mentor, availability, [])
    if ctx.availability is None:
        return ctx, []
    for week in mondays:
        sunday = week + timedelta(days=6)
        start, end = slots.days_around(week, sunday, tz)
        ctx = await _with_busy(uow, ctx, now, (start, end), moving.id if moving else None)
        days = slots.free_dates(
            offering, ctx.availability, ctx.busy, now, tz, ctx.external, start=start, end=end, skip=own
        )
        days = [day for day in days if week <= day <= sunday]
        if days:
            return ctx, days
    return ctx, []


async def free_times(
    uow: UnitOfWork,
    clock: Clock,
    offering_id: int,
    viewer_id: int,
    day: date,
    viewer_tz: str,
    moving: int | None = None,
) -> tuple[SlotContext, list[datetime]]:
    """Free start times on ``day`` in the viewer's zone (what is busy is loaded around that day only)."""
    zone = ZoneInfo(viewer_tz)
    ctx = await _slot_context(uow, offering_id, viewer_id, clock.now(), slots.days_around(day, day, zone), moving)
    if ctx.availability is None:
        return ctx, []
    times = slots.slots_on(ctx.offering, ctx.availability, ctx.busy, clock.now(), day, zone, ctx.external)
    return ctx, times


async def check_slot(
    uow: UnitOfWork, clock: Clock, offering_id: int, viewer_id: int, start: datetime, moving: int | None = None
) -> SlotContext:
    """Raise ``SlotTaken`` unless ``start`` is bookable now (used before asking for notes and at confirmation)."""
    now = clock.now()
    ctx = await _slot_context(uow, offering_id, viewer_id, now, (start, start), moving)
    if ctx.availability is None or not slots.is_bookable(
        ctx.offering, ctx.availability, ctx.busy, now, start, ctx.external
    ):
        raise SlotTaken()
    return ctx


# --- booking ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookingRequest:
    offering_id: int
    mentee_id: int
    start: datetime
    notes: str | None = None
    mode: PaymentMode | None = None  # how a paid booking is paid; None: the first way the offering offers


async def upi_id_for(uow: UnitOfWork, offering: Offering, payments: PaymentSettings) -> str | None:
    """The mentor's UPI ID when UPI may pay for ``offering`` (it is on, the offering is paid); None otherwise. A
    mentor without one is simply not offered UPI (``domain.payments.modes_for``)."""
    if PaymentMode.UPI not in payments.modes or offering.is_free:
        return None
    profile = await uow.profiles.get(offering.mentor_id)
    return profile.upi_id if profile is not None else None


async def book_slot(
    uow: UnitOfWork,
    clock: Clock,
    request: BookingRequest,
    max_active_per_mentor: int = DEFAULT_MAX_ACTIVE_PER_MENTOR,
    payments: PaymentSettings = PaymentSettings(),
) -> BookingView:
    """Book ``request.start`` for the mentee, re-checking everything inside the write transaction.

    Both people's rows are locked first (PostgreSQL; SQLite transactions are immediate), so two requests for
    the same mentor or by the same mentee run one after the other and the second sees the first's booking
    (the limit of ``max_active_per_mentor`` pending or upcoming bookings with one mentor included).

    A paid booking paid in the bot (``payments``: Stars, a provider, UPI) is held awaiting payment: its price,
    currency and the end of the hold are stored on it (``domain.payments.payment_terms``), with a random nonce
    for its invoice; ``PaymentModeUnavailable`` for a way of paying the offering does not offer.
    """
    offering = await uow.offerings.get(request.offering_id)
    if offering is None:
        raise NotFound("offering")
    await uow.lock_users(*sorted({offering.mentor_id, request.mentee_id}))
    ctx = await check_slot(uow, clock, request.offering_id, request.mentee_id, request.start)
    check_package(ctx.offering, None)  # a package is booked as its weeks (``usecases.series``), never alone
    mentee = await load_user(uow, request.mentee_id)
    end = request.start + timedelta(minutes=ctx.offering.duration_minutes)
    if await uow.bookings.active_for_mentee(mentee.id, request.start, end):
        raise MenteeOverlap()
    if await uow.bookings.count_open_with_mentor(mentee.id, ctx.mentor.id, clock.now()) >= max_active_per_mentor:
        raise TooManyBookings(max_active_per_mentor)
    upi_id = await upi_id_for(uow, ctx.offering, payments)
    terms = payment_terms(
        ctx.offering, request.mode, payments, request.start, clock.now(), secrets.token_hex(NONCE_BYTES), upi_id
    )
    booking, delta = rules.new_booking(
        ctx.offering, mentee.id, request.start, mentee.timezone or "UTC", clock.now(), request.notes, terms
    )
    if ctx.offering.is_group:  # joining a session: its meeting link is everyone's (``domain.roster``)
        link = roster_link(ctx.offering, ctx.busy, request.start)
        booking = booking.with_changes(meeting_link=link) if link else booking
    booking = await uow.bookings.add(booking)
    assert ctx.offering.id is not None, "a loaded offering"
    await uow.waitlist.remove_for(ctx.offering.id, mentee.id)  # booked: no longer waiting
    await uow.offerings.apply_stats(ctx.offering.id, delta)
    await record_change(uow, None, booking, Actor.MENTEE, ctx.mentor.timezone or "UTC", clock.now())
    return BookingView(booking, ctx.offering, ctx.mentor, mentee)


# --- one booking, as one of its two people --------------------------------------------------------------------


async def booking_views(
    uow: UnitOfWork, bookings: Sequence[Booking], known: Sequence[User] = ()
) -> list[BookingView]:
    """Each booking with its offering and both people, each row loaded once for the whole list (``known`` people
    are not loaded again); a booking whose offering or person is gone is left out."""
    people = {user.id: user for user in known}
    offerings: dict[int, Offering | None] = {}
    views = []
    for booking in bookings:
        for person_id in (booking.mentor_id, booking.mentee_id):
            if person_id not in people:
                found = await uow.users.get(person_id)
                if found is not None:
                    people[person_id] = found
        if booking.offering_id not in offerings:
            offerings[booking.offering_id] = await uow.offerings.get(booking.offering_id)
        offering, mentor, mentee = (
            offerings[booking.offering_id],
            people.get(booking.mentor_id),
            people.get(booking.mentee_id),
        )
        if offering is not None and mentor is not None and mentee is not None:
            views.append(BookingView(booking, offering, mentor, mentee))
    return views


async def booking_for(
    uow: UnitOfWork, booking_id: int, user_id: int, *, for_update: bool = False
) -> tuple[BookingView, Actor]:
    """The booking with both people and the asker's role in it; ``NotAllowed`` for anyone else.

    ``for_update`` when the booking is about to change: it stays locked until the unit of work ends, so two
    people changing it at once are served one after the other and the second sees the first's change
    (``BookingRepository.get``)."""
    booking = await uow.bookings.get(booking_id, for_update=for_update)
    if booking is None:
        raise NotFound("booking")
    if user_id == booking.mentor_id:
        actor = Actor.MENTOR
    elif user_id == booking.mentee_id:
        actor = Actor.MENTEE
    else:
        raise NotAllowed("not your booking")
    view = await view_of(uow, booking)
    if view is None:
        raise NotFound("offering")
    return view, actor


# --- moving a booking ---------------------------------------------------------------------------------------


async def change_status(
    uow: UnitOfWork,
    clock: Clock,
    user_id: int,
    booking_id: int,
    target: BookingStatus,
    reason: str | None = None,
    *,
    only: Actor | None = None,
) -> BookingView:
    """Move a booking as the asking user (confirm, decline, cancel, complete, no-show); ``only``: refuse
    (``NotAllowed``) unless the asker has that role in the booking."""
    view, actor = await booking_for(uow, booking_id, user_id, for_update=True)
    if only is not None and actor != only:
        raise NotAllowed(f"only the {only.value}")
    return await move(uow, clock, view, actor, target, reason)


async def move(
    uow: UnitOfWork,
    clock: Clock,
    view: BookingView,
    actor: Actor,
    target: BookingStatus,
    reason: str | None = None,
    *,
    tell: bool = True,
    dues: list[Due] | None = None,
) -> BookingView:
    """Move the booking of ``view`` - loaded ``for_update`` in this unit of work - as ``actor``: the new status,
    the refund it makes due (``ledger.settle_move``), the notifications it brings and the offering's counters, all
    in this transaction. ``tell=False``: the caller tells the people once for many bookings
    (``notifications.record_change``); timed messages are planned as usual, and refunds made due too: with
    ``dues``, collected there for the caller to start together (``ledger.start_refunds``)."""
    updated, delta = rules.transition(view.booking, target, actor, clock.now(), reason)
    updated = await settle_move(uow, view, updated, actor, clock.now(), dues)
    updated = await uow.bookings.update(updated)
    await record_change(uow, view.booking, updated, actor, view.mentor_zone, clock.now(), tell=tell)
    if delta:
        assert view.offering.id is not None, "a loaded offering"
        await uow.offerings.apply_stats(view.offering.id, delta)
    return BookingView(updated, view.offering, view.mentor, view.mentee)


async def add_meeting_link(uow: UnitOfWork, clock: Clock, user_id: int, booking_id: int, link: str) -> BookingView:
    view, actor = await booking_for(uow, booking_id, user_id, for_update=True)
    updated = await uow.bookings.update(rules.set_meeting_link(view.booking, actor, link, clock.now()))
    await record_change(uow, view.booking, updated, actor, view.mentor_zone, clock.now())
    return BookingView(updated, view.offering, view.mentor, view.mentee)
