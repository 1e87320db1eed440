from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domain.errors import NotFound
from domain.model import Actor, Booking, BookingStatus, Offering, PaymentStatus
from storage.models import BookingRow
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, T0, booking, mentor_and_mentee, offering, seed, user

M = timedelta(minutes=1)
IST = timezone(timedelta(hours=5, minutes=30))


def full_booking(o: Offering) -> Booking:
    return booking(
        o,
        start=datetime(2030, 3, 4, 15, 30, 0, 123456, tzinfo=IST),  # = 10:00:00.123456 UTC
        amount=Decimal("1234.56"),
        payment_status=PaymentStatus.REFUNDED,
        status=BookingStatus.CANCELLED,
        created_at=datetime(2030, 3, 1, 8, 0, 0, 1, tzinfo=UTC),
        updated_at=datetime(2030, 3, 2, 9, 0, 0, 999999, tzinfo=UTC),
        meeting_link="https://meet.example.com/abc?x=1&y=2",
        meeting_notes="Please look at my CV — section «Projects»",
        cancelled_by=Actor.MENTEE,
        cancellation_reason="Got sick 🤒",
        mentee_rating=None,
        mentee_feedback="n/a",
        mentor_notes="private",
        timezone="America/Argentina/Buenos_Aires",
    )


async def test_booking_round_trip(uow: SqlUnitOfWork) -> None:
    o = await mentor_and_mentee(uow, buffer_before_minutes=10, buffer_after_minutes=15)
    original = full_booking(o)
    minimal = booking(o, start=T0 + timedelta(days=1))
    async with uow:
        added = await uow.bookings.add(original)
        added_minimal = await uow.bookings.add(minimal)
        await uow.commit()
    assert added.id is not None and added_minimal.id is not None
    async with uow:
        got = await uow.bookings.get(added.id)
        assert got == original.with_changes(id=added.id)
        assert got is not None
        assert got.scheduled_at.tzinfo is UTC and got.created_at.tzinfo is UTC
        assert got.scheduled_at == datetime(2030, 3, 4, 10, 0, 0, 123456, tzinfo=UTC)
        assert got.amount == Decimal("1234.56") and str(got.amount) == "1234.56"
        assert await uow.bookings.get(added_minimal.id) == minimal.with_changes(id=added_minimal.id)
        assert await uow.bookings.get(404) is None

        row = (await uow.db.execute(select(BookingRow.__table__).where(BookingRow.id == added.id))).one()
        assert row.ends_at == got.ends_at == datetime(2030, 3, 4, 10, 30, 0, 123456, tzinfo=UTC)
        assert row.blocked_from == got.blocked_from == datetime(2030, 3, 4, 9, 50, 0, 123456, tzinfo=UTC)
        assert row.blocked_until == got.blocked_until == datetime(2030, 3, 4, 10, 45, 0, 123456, tzinfo=UTC)


async def test_every_status_round_trips(uow: SqlUnitOfWork) -> None:
    o = await mentor_and_mentee(uow)
    async with uow:
        for i, status in enumerate(BookingStatus):
            for j, payment in enumerate(PaymentStatus):
                b = booking(o, start=T0 + timedelta(days=i, hours=j), status=status, payment_status=payment)
                added = await uow.bookings.add(b)
                assert await uow.bookings.get(added.id or 0) == added


async def test_update_saves_everything_and_moves_the_blocked_range(uow: SqlUnitOfWork) -> None:
    o = await mentor_and_mentee(uow)
    async with uow:
        added = await uow.bookings.add(booking(o))
        await uow.commit()
    moved = added.with_changes(
        scheduled_at=T0 + timedelta(hours=3),
        status=BookingStatus.COMPLETED,
        payment_status=PaymentStatus.PAID,
        meeting_link="https://meet.example.com/x",
        mentee_rating=5,
        mentee_feedback="great",
        mentor_notes="follow up",
        updated_at=T0 + timedelta(hours=4),
    )
    async with uow:
        assert await uow.bookings.update(moved) == moved.with_changes(sequence=1)
        await uow.commit()
    async with uow:
        assert await uow.bookings.get(added.id or 0) == moved.with_changes(sequence=1)
        row = (await uow.db.execute(select(BookingRow.__table__).where(BookingRow.id == added.id))).one()
        assert (row.blocked_from, row.blocked_until) == (moved.blocked_from, moved.blocked_until)
        with pytest.raises(NotFound):
            await uow.bookings.update(moved.with_changes(id=404))


async def test_every_change_raises_the_sequence_by_one(uow: SqlUnitOfWork) -> None:
    """The iCalendar SEQUENCE: storage adds one on each update, whatever sequence the caller passes."""
    o = await mentor_and_mentee(uow)
    async with uow:
        added = await uow.bookings.add(booking(o))
        await uow.commit()
    assert added.sequence == 0
    seen = []
    for link in ("https://a.example", "https://b.example", "https://c.example"):
        async with uow:
            current = await uow.bookings.get(added.id or 0, for_update=True)
            assert current is not None
            changed = await uow.bookings.update(current.with_changes(meeting_link=link))
            await uow.commit()
        seen.append(changed.sequence)
    async with uow:
        stale = await uow.bookings.update(added.with_changes(meeting_link="https://d.example"))  # sequence 0
        await uow.commit()
    async with uow:
        stored = await uow.bookings.get(added.id or 0)
    assert seen == [1, 2, 3] and stale.sequence == 4 and stored is not None and stored.sequence == 4


@pytest.mark.parametrize("rating", [0, 6, -1])
async def test_rating_check(uow: SqlUnitOfWork, rating: int) -> None:
    o = await mentor_and_mentee(uow)
    async with uow:
        with pytest.raises(IntegrityError):
            await uow.bookings.add(booking(o, mentee_rating=rating))


async def test_foreign_keys_are_enforced(uow: SqlUnitOfWork) -> None:
    o = await mentor_and_mentee(uow)
    async with uow:
        with pytest.raises(IntegrityError):
            await uow.bookings.add(booking(o, mentee_id=404))


async def test_naive_datetimes_are_refused(uow: SqlUnitOfWork) -> None:
    o = await mentor_and_mentee(uow)
    async with uow:
        with pytest.raises(Exception, match="naive datetime"):
            await uow.bookings.add(booking(o, start=datetime(2030, 1, 1, 10, 0)))  # noqa: DTZ001 - refused
    async with uow:
        naive = datetime(2030, 1, 1), datetime(2030, 1, 2)  # noqa: DTZ001 - what storage refuses
        with pytest.raises(Exception, match="naive datetime"):
            await uow.bookings.active_for_mentor(MENTOR_ID, *naive)


# Booking at T0 for 30 minutes with 5-minute buffers: session [10:00, 10:30), blocked [09:55, 10:35).
@pytest.mark.parametrize(
    ("start", "end", "hit"),
    [
        (T0 + 35 * M, T0 + 60 * M, False),  # starts when the buffer ends
        (T0 + 34 * M, T0 + 60 * M, True),
        (T0 - 60 * M, T0 - 5 * M, False),  # ends when the buffer starts
        (T0 - 60 * M, T0 - 4 * M, True),
        (T0 + 10 * M, T0 + 11 * M, True),  # inside
        (T0 - 1440 * M, T0 + 1440 * M, True),  # around
    ],
)
async def test_active_for_mentor_uses_the_buffered_range(
    uow: SqlUnitOfWork, start: datetime, end: datetime, hit: bool
) -> None:
    o = await mentor_and_mentee(uow)
    async with uow:
        added = await uow.bookings.add(booking(o))
        assert await uow.bookings.active_for_mentor(MENTOR_ID, start, end) == ([added] if hit else [])


@pytest.mark.parametrize(
    ("start", "end", "hit"),
    [
        (T0 + 30 * M, T0 + 60 * M, False),  # buffers do not matter to the mentee
        (T0 + 29 * M, T0 + 60 * M, True),
        (T0 - 60 * M, T0, False),
        (T0 - 60 * M, T0 + 1 * M, True),
        (T0 + 10 * M, T0 + 11 * M, True),
    ],
)
async def test_active_for_mentee_uses_the_session_range(
    uow: SqlUnitOfWork, start: datetime, end: datetime, hit: bool
) -> None:
    o = await mentor_and_mentee(uow)
    async with uow:
        added = await uow.bookings.add(booking(o))
        assert await uow.bookings.active_for_mentee(MENTEE_ID, start, end) == ([added] if hit else [])


async def test_active_queries_filter_status_and_person_and_span_offerings(uow: SqlUnitOfWork) -> None:
    other_mentor, other_mentee = 1002, 2002
    o1, o2, theirs = await seed(
        uow,
        user(MENTOR_ID, is_mentor=True),
        user(other_mentor, is_mentor=True),
        user(MENTEE_ID),
        user(other_mentee),
        offerings=(offering(), offering(title="second"), offering(other_mentor)),
    )
    async with uow:
        active = [
            await uow.bookings.add(booking(o1, start=T0)),
            await uow.bookings.add(booking(o2, start=T0 + 60 * M, status=BookingStatus.CONFIRMED)),
        ]
        for i, status in enumerate(s for s in BookingStatus if not s.is_active):
            await uow.bookings.add(booking(o1, start=T0 + (120 + i * 40) * M, status=status))
        mentees_other = await uow.bookings.add(booking(theirs, start=T0 + 30 * M))
        other_mentees = await uow.bookings.add(booking(o1, mentee_id=other_mentee, start=T0 + 300 * M))
        await uow.bookings.add(booking(o1, start=T0 + 700 * M))  # outside the window
        await uow.commit()
    day = (T0 - 600 * M, T0 + 600 * M)  # [00:00, 20:00)
    async with uow:
        assert await uow.bookings.active_for_mentor(MENTOR_ID, *day) == [*active, other_mentees]
        assert await uow.bookings.active_for_mentor(other_mentor, *day) == [mentees_other]
        assert await uow.bookings.active_for_mentee(MENTEE_ID, *day) == [active[0], mentees_other, active[1]]
        assert await uow.bookings.active_for_mentee(other_mentee, *day) == [other_mentees]


async def test_lists_filter_by_status_in_time_order_with_paging(uow: SqlUnitOfWork) -> None:
    o = await mentor_and_mentee(uow)
    statuses = [BookingStatus.CONFIRMED, BookingStatus.PENDING, BookingStatus.COMPLETED, BookingStatus.PENDING]
    async with uow:
        added = [
            await uow.bookings.add(booking(o, start=T0 + timedelta(days=3 - i), status=s))
            for i, s in enumerate(statuses)
        ]
        await uow.commit()
    upcoming = [BookingStatus.PENDING, BookingStatus.CONFIRMED]
    in_time_order = [added[3], added[1], added[0]]
    async with uow:
        assert await uow.bookings.list_for_mentor(MENTOR_ID, upcoming, limit=10) == in_time_order
        assert await uow.bookings.list_for_mentee(MENTEE_ID, upcoming, limit=10) == in_time_order
        assert await uow.bookings.list_for_mentor(MENTOR_ID, upcoming, limit=2, offset=1) == in_time_order[1:]
        assert await uow.bookings.list_for_mentee(MENTEE_ID, [BookingStatus.COMPLETED], limit=10) == [added[2]]
        assert await uow.bookings.list_for_mentee(MENTOR_ID, upcoming, limit=10) == []
        assert await uow.bookings.list_for_mentor(MENTOR_ID, [], limit=10) == []
