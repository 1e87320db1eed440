"""What the bot says on its own: writing it when a booking changes, and the scheduler's side when it falls due.

``record_change`` writes the messages a change causes and re-plans the booking's timed ones (``domain.
notifications`` decides which), in the transaction of the change. The dispatcher calls the rest through
``handlers.notify.prepare``: ``load_view`` (a booking as it is now, with no asker: the system), ``expire_request``
and ``day_agenda``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain import booking as rules
from domain import waitlist
from domain.model import Actor, Booking, BookingStatus, BookingView
from domain.notifications import (
    Notification,
    NotificationKind,
    events_for,
    expiry_time,
    joined_session,
    left_session,
    session_after,
    session_keys,
    session_reminders,
    timed_for,
)
from domain.ports import Clock, UnitOfWork
from domain.sessions import Agenda
from domain.usecases.ledger import Due, settle_move, start_refunds


async def record_change(
    uow: UnitOfWork,
    before: Booking | None,
    after: Booking,
    actor: Actor,
    mentor_zone: str,
    now: datetime,
    *,
    tell: bool = True,
) -> None:
    """Write the messages ``before → after`` causes and re-plan the booking's timed ones (by the outbox's
    policy), in the caller's transaction: the change and what it tells people commit or roll back together.
    ``tell=False``: the caller tells the people itself, once for many bookings (a whole series declined)."""
    assert after.id is not None
    if tell:
        await uow.outbox.add(events_for(before, after, actor, now))
    await plan_timed(uow, before, after, mentor_zone, now)
    await tell_waitlist(uow, before, after, now)


async def plan_timed(
    uow: UnitOfWork, before: Booking | None, after: Booking, mentor_zone: str, now: datetime
) -> None:
    """Re-plan ``after``'s own timed notifications, and the mentor's messages of the sessions it joined or left.

    A session's reminders and after-session question (``domain.notifications.session_reminders``,
    ``session_after``) are created by whichever attendee joins
    (the key makes a second one a no-op) and locked while this transaction lasts. Leaving, the booking looks for
    other confirmed attendees; if it sees none it locks the session's pending reminders - so a transaction that is
    joining right now is waited for - looks again (a new statement sees what committed meanwhile) and only then
    withdraws them. Two last attendees leaving at once may both see the other and leave the rows; the dispatcher
    sends nothing for a session without attendees (``session_attendees``)."""
    assert after.id is not None
    policy = uow.outbox.policy
    await uow.outbox.replace_timed(after.id, timed_for(after, mentor_zone, now, policy))
    if joined_session(before, after):
        await uow.outbox.keep_timed([*session_reminders(after, now, policy), session_after(after)])
    left = left_session(before, after, now)
    if left is not None and not await session_attendees(uow, after.mentor_id, left):
        keys = session_keys(after.mentor_id, left, policy)
        await uow.outbox.lock_pending(keys)
        if not await session_attendees(uow, after.mentor_id, left):
            await uow.outbox.drop_pending(keys)


async def session_attendees(uow: UnitOfWork, mentor_id: int, start: datetime) -> list[Booking]:
    """The mentor's confirmed bookings starting at ``start``: the attendees of their session then."""
    found = await uow.bookings.active_for_mentor(mentor_id, start, start + timedelta(minutes=1))
    return [b for b in found if b.scheduled_at == start and b.status == BookingStatus.CONFIRMED]


async def session_views(uow: UnitOfWork, mentor_id: int, start: datetime) -> list[BookingView]:
    """The dispatcher's side of a session's reminder: its attendees now, with their offerings and people ([]:
    nobody attends any more, nothing to say)."""
    views = []
    for booking in await session_attendees(uow, mentor_id, start):
        assert booking.id is not None, "a loaded booking"
        view = await load_view(uow, booking.id)
        if view is not None:
            views.append(view)
    return views


async def tell_waitlist(uow: UnitOfWork, before: Booking | None, after: Booking, now: datetime) -> None:
    """The times ``before → after`` frees go to the first people waiting for them who were not told of them yet
    (``domain.waitlist``, rules 2 and 3): one notice per entry and time, in this transaction."""
    for start in waitlist.freed_starts(before, after, now):
        await tell_freed(uow, after.offering_id, start, now, passed_over=frozenset({after.mentee_id}))


# How many times a wave is topped up after other transactions told some of the people it chose (PostgreSQL:
# each round waits for one of them to commit, so this many processes freeing one time at once are all served).
_TOP_UPS = 16


async def tell_freed(
    uow: UnitOfWork,
    offering_id: int,
    start: datetime,
    now: datetime,
    *,
    passed_over: frozenset[int] = frozenset(),
    told_already: frozenset[int] = frozenset(),
) -> list[int]:
    """Tell the next wave waiting for ``start`` of the offering (``domain.waitlist``, rules 2 and 3): up to
    ``WAVE`` entries in joining order that were not told of it yet, leaving out the mentees ``passed_over`` and the
    entries ``told_already``. Returns the entries told.

    The outbox's notices are the record of who was told (``candidates`` leaves them out). Two transactions freeing
    the same time at once may choose the same people: the second one's notices wait for the first's commit and
    are then not stored (``add_new``), and it chooses again among those still untold."""
    told: list[int] = []
    first, last = waitlist.candidate_days(start)
    for _round in range(_TOP_UPS):
        skip = told_already | frozenset(told)
        limit = waitlist.WAVE * 4 + len(skip)
        entries = await uow.waitlist.candidates(offering_id, first, last, limit, untold_of=start)
        fresh = (e for e in entries if e.mentee_id not in passed_over and e.id not in skip)
        chosen = waitlist.wave(fresh, start, now, waitlist.WAVE - len(told))
        if not chosen:
            break
        notices = [_waitlist_notice(entry, start, now) for entry in chosen]
        stored = await uow.outbox.add_new(notices)
        told += [n.waitlist_id or 0 for n in notices if n.key in stored]
        if len(stored) == len(chosen) or len(told) >= waitlist.WAVE:
            break
    return told


def _waitlist_notice(entry: waitlist.WaitlistEntry, start: datetime, now: datetime) -> Notification:
    """The notice to ``entry`` that ``start`` freed up, due now; its key is the entry's and the time's."""
    assert entry.id is not None, "a stored entry"
    key = waitlist.notice_key(entry.id, start)
    return Notification(NotificationKind.WAITLIST, entry.mentee_id, now, key=key, waitlist_id=entry.id, slot=start)


async def load_view(uow: UnitOfWork, booking_id: int, *, for_update: bool = False) -> BookingView | None:
    """The booking with its offering and both people, or None if any of them is gone (no asker: the system).
    ``for_update``: before a change (``BookingRepository.get``)."""
    booking = await uow.bookings.get(booking_id, for_update=for_update)
    return await view_of(uow, booking) if booking is not None else None


async def view_of(uow: UnitOfWork, booking: Booking) -> BookingView | None:
    """``booking`` with its offering and both people, or None if any of them is gone: two reads, the offering
    with its mentor (``OfferingRepository.get_with_mentor``), then the mentee."""
    found = await uow.offerings.get_with_mentor(booking.offering_id)
    mentee = await uow.users.get(booking.mentee_id)
    if found is None or mentee is None:
        return None
    offering, mentor = found
    if mentor.id != booking.mentor_id:  # a booking's mentor is its offering's: not expected, but then read them
        found_mentor = await uow.users.get(booking.mentor_id)
        if found_mentor is None:
            return None
        mentor = found_mentor
    return BookingView(booking, offering, mentor, mentee)


async def expire_request(uow: UnitOfWork, clock: Clock, booking_id: int) -> BookingView | None:
    """Expire a request the mentor did not answer in time; both people are told, and what was paid is refunded.
    None if it was answered.

    A weekly series is one request: when one week's request runs out (the first week's at its start, which can
    come before the others'), every week still waiting with it runs out too, in the same transaction. So what was
    paid for them is owed at once, and a series paid with one Stars payment is refunded whole, once
    (``domain.payments.stars_refund_way``), never a share by hand first and the whole payment later. Each person
    is told once for the series (``SERIES_EXPIRED``) when more than one week ran out, and the refunds owed by hand
    are one message for the mentor (``ledger.start_refunds``). The weeks are locked in
    the order of their ids, so two dispatchers expiring two weeks of one series at once take turns instead of
    deadlocking; the second finds nothing waiting."""
    found = await uow.bookings.get(booking_id)
    if found is None or found.status != BookingStatus.PENDING:
        return None
    waiting = [booking_id]
    if found.series_id is not None:
        weeks = await uow.bookings.series_bookings(found.series_id)
        waiting = sorted(
            {booking_id, *(w.id for w in weeks if w.id is not None and w.status == BookingStatus.PENDING)}
        )
    locked = {week_id: await load_view(uow, week_id, for_update=True) for week_id in waiting}
    view = locked[booking_id]  # the mentor may be answering right now
    now = clock.now()
    if view is None or view.booking.status != BookingStatus.PENDING:
        return None
    if now < expiry_time(view.booking, uow.outbox.policy):
        return None
    pending = [v for v in locked.values() if v is not None and v.booking.status == BookingStatus.PENDING]
    alone = len(pending) == 1
    dues: list[Due] = []
    expired = [await _expire(uow, week, now, tell=alone, dues=None if alone else dues) for week in pending]
    await start_refunds(uow, dues, now)
    if not alone:
        first = expired[0].booking
        kind = NotificationKind.SERIES_EXPIRED
        told = [Notification(kind, person, now, first.id) for person in (first.mentee_id, first.mentor_id)]
        await uow.outbox.add(told)
    return next(v for v in expired if v.booking.id == booking_id)


async def _expire(
    uow: UnitOfWork, view: BookingView, now: datetime, *, tell: bool = True, dues: list[Due] | None = None
) -> BookingView:
    expired, _delta = rules.transition(view.booking, BookingStatus.EXPIRED, Actor.SYSTEM, now)
    expired = await uow.bookings.update(await settle_move(uow, view, expired, Actor.SYSTEM, now, dues))
    await record_change(uow, view.booking, expired, Actor.SYSTEM, view.mentor_zone, now, tell=tell)
    return BookingView(expired, view.offering, view.mentor, view.mentee)


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
        assert booking.id is not None, "a loaded booking"
        view = await load_view(uow, booking.id)
        if view is not None:
            views.append(view)
    if not views:
        return None
    return Agenda(mentor, sorted(views, key=lambda v: v.booking.scheduled_at))
