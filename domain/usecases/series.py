"""Weekly series, as the mentee books them and either person manages them: plan the weeks (each checked by the
usual rules), book the free ones together, confirm or decline a whole series (the mentor), cancel all future
occurrences.

Each occurrence is a booking of its own, so reminders, after-session messages, rating and cancelling one
occurrence are every booking's. The rules are ``domain.series``.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from domain import booking as rules
from domain.errors import InvalidTransition, NotAllowed, NotFound, SlotTaken, TooManyBookings
from domain.mentee import DEFAULT_MAX_ACTIVE_PER_MENTOR
from domain.model import Actor, BookingStatus, BookingView
from domain.notifications import Notification, NotificationKind
from domain.payments import NONCE_BYTES, PaymentModeUnavailable, PaymentSettings, payment_terms
from domain.ports import Clock, UnitOfWork
from domain.series import SeriesPlan, Week, check_package, check_weeks, occurrences, series_modes, weeks_possible
from domain.sessions import cancellation_closed
from domain.slots import SlotContext
from domain.usecases.booking import BookingRequest, booking_for, booking_views, check_slot, move, upi_id_for
from domain.usecases.ledger import Due, start_refunds
from domain.usecases.notifications import plan_timed, record_change
from domain.usecases.people import load_user

S = BookingStatus


async def _week_is_free(uow: UnitOfWork, clock: Clock, ctx: SlotContext, mentee_id: int, start: datetime) -> bool:
    """The usual slot rules at ``start``, and no other session of the mentee's then."""
    assert ctx.offering.id is not None
    try:
        await check_slot(uow, clock, ctx.offering.id, mentee_id, start)
    except SlotTaken:
        return False
    end = start + timedelta(minutes=ctx.offering.duration_minutes)
    return not await uow.bookings.active_for_mentee(mentee_id, start, end)


async def series_start(
    uow: UnitOfWork, clock: Clock, offering_id: int, mentee_id: int, first: datetime, payments: PaymentSettings
) -> tuple[SlotContext, int]:
    """The chosen first time re-checked (``SlotTaken``), and how many weeks a series from it may have."""
    ctx = await check_slot(uow, clock, offering_id, mentee_id, first)
    return ctx, weeks_possible(ctx.offering, first, clock.now(), _zone(ctx))


def _zone(ctx: SlotContext) -> str:
    """The mentor's wall clock that a series keeps: the zone of the offering's availability."""
    return ctx.availability.timezone if ctx.availability is not None else (ctx.mentor.timezone or "UTC")


async def plan_series(
    uow: UnitOfWork,
    clock: Clock,
    offering_id: int,
    mentee_id: int,
    first: datetime,
    weeks: int,
    payments: PaymentSettings = PaymentSettings(),
) -> SeriesPlan:
    """Each of ``weeks`` weeks from ``first`` (the mentor's wall-clock time kept), checked by the usual rules."""
    ctx, possible = await series_start(uow, clock, offering_id, mentee_id, first, payments)
    check_package(ctx.offering, weeks)
    check_weeks(weeks, possible)
    planned = []
    for number, start in enumerate(occurrences(first, weeks, _zone(ctx)), start=1):
        free = start is not None and await _week_is_free(uow, clock, ctx, mentee_id, start)
        planned.append(Week(number, start, free))
    return SeriesPlan(ctx.offering, tuple(planned))


async def book_series(
    uow: UnitOfWork,
    clock: Clock,
    request: BookingRequest,
    weeks: int,
    max_active_per_mentor: int = DEFAULT_MAX_ACTIVE_PER_MENTOR,
    payments: PaymentSettings = PaymentSettings(),
) -> list[BookingView]:
    """Book the free weeks of a series as one: everything re-checked inside the write transaction with both
    people locked, as ``book_slot`` does; the mentor hears of the series once (its first occurrence's request),
    and every occurrence gets its own reminders. The series counts as one booking against the limit."""
    offering = await uow.offerings.get(request.offering_id)
    if offering is None:
        raise NotFound("offering")
    await uow.lock_users(*sorted({offering.mentor_id, request.mentee_id}))
    plan = await plan_series(uow, clock, request.offering_id, request.mentee_id, request.start, weeks, payments)
    mentee = await load_user(uow, request.mentee_id)
    mentor = await load_user(uow, offering.mentor_id)
    if await uow.bookings.count_open_with_mentor(mentee.id, mentor.id, clock.now()) >= max_active_per_mentor:
        raise TooManyBookings(max_active_per_mentor)
    free = [week for week in plan.free if week.start is not None]
    now, zone = clock.now(), mentor.timezone or "UTC"
    upi_id = await upi_id_for(uow, plan.offering, payments)
    modes = series_modes(plan.offering, payments, upi_id)
    if request.mode is not None and request.mode not in modes:
        raise PaymentModeUnavailable(request.mode)
    mode = request.mode or (modes[0] if modes else None)
    nonce = secrets.token_hex(NONCE_BYTES)  # one for the series: its one invoice (``domain.payments``)
    views: list[BookingView] = []
    series_id: int | None = None
    hold_until = None
    for place, week in enumerate(free, start=1):
        assert week.start is not None
        terms = payment_terms(plan.offering, mode, payments, week.start, now, nonce, upi_id)
        if terms is not None and terms.hold_until is not None:  # every week is held as long as the first
            hold_until = hold_until or terms.hold_until
            terms = replace(terms, hold_until=hold_until)
        fresh, delta = rules.new_booking(
            plan.offering, mentee.id, week.start, mentee.timezone or "UTC", now, request.notes, terms
        )
        booking = await uow.bookings.add(
            fresh.with_changes(series_id=series_id, series_week=place, series_weeks=len(free))
        )
        if series_id is None:  # the first occurrence names the series
            series_id = booking.id
            booking = await uow.bookings.update(booking.with_changes(series_id=series_id))
            await record_change(uow, None, booking, Actor.MENTEE, zone, now)
        else:
            assert booking.id is not None
            await plan_timed(uow, None, booking, zone, now)
        await uow.offerings.apply_stats(plan.offering.id, delta)  # type: ignore[arg-type]
        views.append(BookingView(booking, plan.offering, mentor, mentee))
    return views


async def series_views(uow: UnitOfWork, user_id: int, booking_id: int) -> tuple[list[BookingView], Actor]:
    """Every occurrence of the series of ``booking_id``, for either of its two people."""
    view, actor = await booking_for(uow, booking_id, user_id)
    if view.booking.series_id is None:
        return [view], actor
    bookings = await uow.bookings.series_bookings(view.booking.series_id)
    return await booking_views(uow, bookings, known=[view.mentor, view.mentee]), actor


async def confirm_series(uow: UnitOfWork, clock: Clock, mentor_id: int, booking_id: int) -> list[BookingView]:
    """The mentor confirms every pending occurrence of the series at once. Each week is confirmed by the usual
    move (its reminders planned), and the mentee is told once, for the whole series (``SERIES_CONFIRMED``, about
    the first week confirmed). ``InvalidTransition`` when no week waits for an answer any more (a second press)."""
    views, actor = await series_views(uow, mentor_id, booking_id)
    if actor != Actor.MENTOR:
        raise NotAllowed("only the mentor")
    confirmed: list[BookingView] = []
    for occurrence in views:
        if occurrence.booking.status == S.PENDING:
            assert occurrence.booking.id is not None
            locked, _actor = await booking_for(uow, occurrence.booking.id, mentor_id, for_update=True)
            if locked.booking.status == S.PENDING:  # as read under the lock
                confirmed.append(await move(uow, clock, locked, Actor.MENTOR, S.CONFIRMED, tell=False))
    if not confirmed:
        raise InvalidTransition(views[0].booking.status, S.CONFIRMED, Actor.MENTOR)
    await _tell_once(uow, clock, NotificationKind.SERIES_CONFIRMED, confirmed, confirmed[0].booking.mentee_id)
    return (await series_views(uow, mentor_id, booking_id))[0]


async def _tell_once(
    uow: UnitOfWork, clock: Clock, kind: NotificationKind, changed: list[BookingView], recipient_id: int
) -> None:
    """One message to ``recipient_id`` for the weeks of a series changed together, about the first of them (the
    dispatcher renders the series as it is then)."""
    await uow.outbox.add([Notification(kind, recipient_id, clock.now(), changed[0].booking.id)])


async def start_series_decline(uow: UnitOfWork, mentor_id: int, booking_id: int) -> list[BookingView]:
    """The series as its mentor may decline it now (before asking for the reason): ``InvalidTransition`` when no
    week waits for an answer any more."""
    views, actor = await series_views(uow, mentor_id, booking_id)
    if actor != Actor.MENTOR:
        raise NotAllowed("only the mentor")
    if not any(v.booking.status == S.PENDING for v in views):
        raise InvalidTransition(views[0].booking.status, S.DECLINED, Actor.MENTOR)
    return views


async def decline_series(
    uow: UnitOfWork, clock: Clock, mentor_id: int, booking_id: int, reason: str
) -> list[BookingView]:
    """The mentor declines every week of the series still waiting for an answer, one reason for all. Each week is
    declined by the usual rules (its refund by the payments policy, its timed messages withdrawn), and the mentee
    is told once, for the whole series (``SERIES_DECLINED``, about the first week declined); the refunds owed by
    hand are one message for the mentor (``ledger.start_refunds``). Weeks already
    confirmed stay (the mentor cancels those). Returns the series as it is now."""
    views = await start_series_decline(uow, mentor_id, booking_id)
    declined: list[BookingView] = []
    dues: list[Due] = []
    for occurrence in views:
        if occurrence.booking.status != S.PENDING:
            continue
        assert occurrence.booking.id is not None
        locked, _actor = await booking_for(uow, occurrence.booking.id, mentor_id, for_update=True)
        if locked.booking.status == S.PENDING:  # as read under the lock
            declined.append(
                await move(uow, clock, locked, Actor.MENTOR, S.DECLINED, reason, tell=False, dues=dues)
            )
    if not declined:
        raise InvalidTransition(views[0].booking.status, S.DECLINED, Actor.MENTOR)
    await start_refunds(uow, dues, clock.now())
    await _tell_once(uow, clock, NotificationKind.SERIES_DECLINED, declined, declined[0].booking.mentee_id)
    return (await series_views(uow, mentor_id, booking_id))[0]


async def series_of(uow: UnitOfWork, booking_id: int) -> list[BookingView]:
    """Every occurrence of the series of ``booking_id`` (no asker: the dispatcher's side); [] when it is gone."""
    booking = await uow.bookings.get(booking_id)
    if booking is None:
        return []
    if booking.series_id is None:
        return await booking_views(uow, [booking])
    bookings = await uow.bookings.series_bookings(booking.series_id)
    return await booking_views(uow, bookings)


def future_open(views: list[BookingView], now: datetime) -> list[BookingView]:
    """The occurrences "cancel all future" cancels: pending or confirmed, not started yet."""
    return [v for v in views if v.booking.status in (S.PENDING, S.CONFIRMED) and v.booking.scheduled_at > now]


async def cancel_future(
    uow: UnitOfWork, clock: Clock, user_id: int, booking_id: int, reason: str
) -> tuple[list[BookingView], list[BookingView]]:
    """Cancel every future occurrence of the series, as either person, one reason for all, each occurrence by
    the usual rules (refunds by policy, its reminders withdrawn); the other person is told once, for the whole
    series (``SERIES_CANCELLED``, about the first week cancelled), and refunds owed by hand are one message for
    the mentor (``ledger.start_refunds``). A mentee's cancelling closes before each
    session (``domain.sessions``): the occurrences already past their cut-off stay. Returns the series as it
    is now and the occurrences that stayed for that reason."""
    views, actor = await series_views(uow, user_id, booking_id)
    now = clock.now()
    kept = []
    cancelled: list[BookingView] = []
    dues: list[Due] = []
    for occurrence in future_open(views, now):
        assert occurrence.booking.id is not None
        if (
            actor == Actor.MENTEE
            and occurrence.booking.status == S.CONFIRMED
            and cancellation_closed(occurrence.booking, occurrence.offering, now)
        ):
            kept.append(occurrence)
            continue
        locked, _actor = await booking_for(uow, occurrence.booking.id, user_id, for_update=True)
        if locked.booking.status in (S.PENDING, S.CONFIRMED):
            cancelled.append(await move(uow, clock, locked, actor, S.CANCELLED, reason, tell=False, dues=dues))
    await start_refunds(uow, dues, now)
    if cancelled:
        first = cancelled[0].booking
        other = first.mentee_id if actor == Actor.MENTOR else first.mentor_id
        await _tell_once(uow, clock, NotificationKind.SERIES_CANCELLED, cancelled, other)
    return (await series_views(uow, user_id, booking_id))[0], kept
