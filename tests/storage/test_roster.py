"""A group session's roster through the real repositories, on SQLite and PostgreSQL: the attendees together, one
link for everyone, each attendee marked, the whole session cancelled (each attendee told, refunds by policy)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.clock import FixedClock
from domain.errors import NotAllowed
from domain.model import BookingStatus, PaymentMode, PaymentStatus, TimeRange, WeeklyRule
from domain.notifications import NotificationKind
from domain.roster import SeatBeingPaid
from domain.usecases.booking import BookingRequest, book_slot
from domain.usecases.payments import mark_paid
from domain.usecases.roster import cancel_session, mark_attendee, open_roster, set_session_link
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTOR_ID, T0, booking, offering, seed, user

ATTENDEES = [2101, 2102, 2103]
LATE = 2104  # cancelled before: still on the roster, without a seat
OTHER_TIME = 2105  # the same offering an hour later: another session
BEFORE = FixedClock(T0 - timedelta(days=1))
S = BookingStatus


async def _session(uow: SqlUnitOfWork, **changes: Any) -> list[int]:
    [group] = await seed(
        uow,
        user(MENTOR_ID, is_mentor=True, timezone="Asia/Kolkata"),
        *(user(m, timezone="Europe/Berlin") for m in [*ATTENDEES, LATE, OTHER_TIME]),
        offerings=(offering(capacity=5, **changes),),
    )
    async with uow:
        ids = [(await uow.bookings.add(booking(group, m, status=S.CONFIRMED))).id for m in ATTENDEES]
        await uow.bookings.add(booking(group, LATE, status=S.CANCELLED, cancellation_reason="ill"))
        await uow.bookings.add(booking(group, OTHER_TIME, start=T0 + timedelta(hours=2), status=S.CONFIRMED))
        await uow.commit()
    return [i for i in ids if i is not None]


async def _told(uow: SqlUnitOfWork, kind: NotificationKind) -> list[int]:
    async with uow:
        return sorted(r.recipient_id for r in await uow.outbox.records() if r.kind == kind.value)


async def test_the_roster_holds_the_sessions_attendees_only(uow: SqlUnitOfWork) -> None:
    ids = await _session(uow)
    async with uow:
        roster = await open_roster(uow, MENTOR_ID, ids[1])
        with pytest.raises(NotAllowed):
            await open_roster(uow, ATTENDEES[0], ids[0])  # an attendee is not the mentor
    assert [v.mentee.id for v in roster.attendees] == [*ATTENDEES, LATE]
    assert roster.seats_taken == 3 and roster.start == T0 and roster.link is None


async def test_one_link_for_everyone_and_for_whoever_joins_later(uow: SqlUnitOfWork) -> None:
    ids = await _session(uow)
    async with uow:
        roster = await set_session_link(uow, BEFORE, MENTOR_ID, ids[0], " https://meet.example.com/cohort ")
        await uow.commit()
    assert roster.link == "https://meet.example.com/cohort"
    assert [v.booking.meeting_link for v in roster.attendees] == ["https://meet.example.com/cohort"] * 3 + [None]
    assert await _told(uow, NotificationKind.LINK) == ATTENDEES
    # a fourth mentee booking the session gets the link with the seat
    async with uow:
        await uow.availability.replace_weekly(MENTOR_ID, [WeeklyRule(0, TimeRange(0, 24 * 60))])
        await uow.commit()
    async with uow:
        request = BookingRequest(roster.offering.id or 0, LATE, T0)
        view = await book_slot(uow, FixedClock(T0 - timedelta(days=3)), request)
        await uow.commit()
    assert view.booking.meeting_link == "https://meet.example.com/cohort"


async def test_each_attendee_is_marked_on_their_own(uow: SqlUnitOfWork) -> None:
    ids = await _session(uow)
    after = FixedClock(T0 + timedelta(hours=1))
    async with uow:
        await mark_attendee(uow, after, MENTOR_ID, ids[0], S.COMPLETED)
        roster = await mark_attendee(uow, after, MENTOR_ID, ids[1], S.NO_SHOW)
        await uow.commit()
    assert [v.booking.status for v in roster.attendees] == [S.COMPLETED, S.NO_SHOW, S.CONFIRMED, S.CANCELLED]
    async with uow:
        stored = await uow.offerings.get(roster.offering.id or 0)
    assert stored is not None and stored.total_completed == 1  # completions count attendees
    assert await _told(uow, NotificationKind.RATE) == [ATTENDEES[0]]


async def test_cancelling_the_whole_session_tells_and_refunds_each_attendee(uow: SqlUnitOfWork) -> None:
    ids = await _session(uow, price=Decimal("500"))
    async with uow:  # paid outside the bot, and marked paid by the mentor, for the first two
        for booking_id in ids:
            stored = await uow.bookings.get(booking_id)
            assert stored is not None
            await uow.bookings.update(stored.with_changes(payment_mode=PaymentMode.OFF))
        for booking_id in ids[:2]:
            await mark_paid(uow, BEFORE, MENTOR_ID, booking_id)
        await uow.commit()
    async with uow:
        roster = await cancel_session(uow, BEFORE, MENTOR_ID, ids[2], "  the venue is closed ")
        await uow.commit()
    assert [v.booking.status for v in roster.attendees] == [S.CANCELLED] * 4
    assert [v.booking.cancellation_reason for v in roster.attendees[:3]] == ["the venue is closed"] * 3
    assert [v.booking.payment_status for v in roster.attendees[:3]] == [
        PaymentStatus.REFUND_DUE, PaymentStatus.REFUND_DUE, PaymentStatus.PENDING
    ]  # fmt: skip
    assert await _told(uow, NotificationKind.CANCELLED) == ATTENDEES
    assert await _told(uow, NotificationKind.REFUND_DUE) == [MENTOR_ID, MENTOR_ID]
    async with uow:  # the other session of the offering is untouched
        other = await open_roster(uow, MENTOR_ID, ids[0] + 4)
    assert [v.booking.status for v in other.attendees] == [S.CONFIRMED]


async def test_the_session_is_not_cancelled_while_a_seat_is_being_paid(uow: SqlUnitOfWork) -> None:
    ids = await _session(uow)
    async with uow:
        stored = await uow.bookings.get(ids[0])
        assert stored is not None
        held = stored.with_changes(status=S.AWAITING_PAYMENT, hold_until=T0 - timedelta(hours=20))
        await uow.bookings.update(held)
        await uow.commit()
    async with uow:
        with pytest.raises(SeatBeingPaid):
            await cancel_session(uow, BEFORE, MENTOR_ID, ids[1], "closed")
