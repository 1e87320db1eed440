"""The outbox repository (``storage.outbox``) on SQLite and PostgreSQL: store once, replace timed rows, claim,
record outcomes, and never hand one row to two claimers."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.model import BookingStatus
from domain.notifications import Notification, NotificationKind, timed_for
from storage.engine import create_engine
from storage.models import Base, BookingRow, NotificationRow
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, T0, booking, offering, seed, user

NOW = T0 - timedelta(days=2)
LEASE = timedelta(minutes=5)
K = NotificationKind


def event(kind: NotificationKind, to: int = MENTEE_ID, booking_id: int | None = None, due=NOW) -> Notification:
    return Notification(kind, to, due, booking_id)


def reminder(booking_id: int, to: int = MENTEE_ID, lead: int = 60, start=T0) -> Notification:
    return Notification(K.REMINDER, to, start - timedelta(minutes=lead), booking_id, lead)


async def _booking(uow: SqlUnitOfWork, start=T0, status=BookingStatus.CONFIRMED) -> int:
    async with uow:
        o = await uow.offerings.get(1)
        assert o is not None
        b = await uow.bookings.add(booking(o, start=start, status=status))
        await uow.commit()
    assert b.id is not None
    return b.id


@pytest.fixture
async def booking_id(uow: SqlUnitOfWork) -> int:
    await seed(uow, user(MENTOR_ID, is_mentor=True), user(MENTEE_ID), offerings=(offering(),))
    return await _booking(uow)


async def _records(uow: SqlUnitOfWork, **filters):
    async with uow:
        return await uow.outbox.records(**filters)


async def _claim(uow: SqlUnitOfWork, now=NOW, limit=100, lease=LEASE):
    async with uow:
        claimed = await uow.outbox.claim(now, limit, lease)
        await uow.commit()
    return claimed


# -- storing ---------------------------------------------------------------------------------------------------


async def test_a_key_is_stored_once_and_events_each_get_their_own(uow: SqlUnitOfWork, booking_id: int) -> None:
    r = reminder(booking_id)
    async with uow:
        await uow.outbox.add([r, event(K.LINK, booking_id=booking_id), event(K.LINK, booking_id=booking_id)])
        await uow.outbox.add([r])  # the same key again: nothing happens
        await uow.outbox.add([])
        await uow.commit()
    rows = await _records(uow)
    assert sorted(x.kind for x in rows) == ["link", "link", "reminder"]
    assert len({x.key for x in rows}) == 3
    assert [x.key for x in rows if x.kind == "reminder"] == [r.key]
    assert all(x.status == "pending" and x.attempts == 0 for x in rows)


async def test_replace_timed_withdraws_stale_pending_rows_and_never_touches_sent_ones(
    uow: SqlUnitOfWork, booking_id: int
) -> None:
    async with uow:
        b = await uow.bookings.get(booking_id)
        assert b is not None
        planned = timed_for(b, "Asia/Kolkata", NOW)
        await uow.outbox.replace_timed(booking_id, planned)
        await uow.outbox.add([event(K.CONFIRMED, booking_id=booking_id)])
        await uow.commit()
    kinds = sorted(r.kind for r in await _records(uow, booking_id=booking_id))
    assert kinds == ["confirmed", "reminder", "reminder"]  # the mentor's reminders and question are the session's

    # the 24 h reminders go out ...
    day_before = T0 - timedelta(hours=24)
    claimed = await _claim(uow, now=day_before)
    assert sorted((c.notification.kind, c.notification.lead_minutes) for c in claimed) == [
        (K.CONFIRMED, 0), (K.REMINDER, 24 * 60)
    ]  # fmt: skip
    async with uow:
        for c in claimed:
            assert await uow.outbox.mark_sent(c, day_before)
        await uow.commit()

    # ... then the session moves two hours later: new reminders, the sent ones stay sent and are not repeated
    async with uow:
        b = await uow.bookings.get(booking_id)
        assert b is not None
        moved = await uow.bookings.update(replace(b, scheduled_at=T0 + timedelta(hours=2)))
        await uow.outbox.replace_timed(booking_id, timed_for(moved, "Asia/Kolkata", day_before))
        await uow.commit()
    rows = await _records(uow, booking_id=booking_id)
    sent = [r for r in rows if r.status == "sent"]
    pending = [r for r in rows if r.status == "pending"]
    assert sorted(r.kind for r in sent) == ["confirmed", "reminder"]
    assert sorted((r.kind, r.due_at) for r in pending) == [
        ("reminder", T0 + timedelta(hours=2) - timedelta(hours=24)),
        ("reminder", T0 + timedelta(hours=1)),
    ]

    # cancelled: every pending timed row goes, the event rows and sent rows stay
    async with uow:
        await uow.outbox.replace_timed(booking_id, [])
        await uow.commit()
    rows = await _records(uow, booking_id=booking_id)
    assert sorted((r.kind, r.status) for r in rows) == [("confirmed", "sent"), ("reminder", "sent")]


async def test_replace_timed_leaves_other_bookings_alone_and_refuses_events(
    uow: SqlUnitOfWork, booking_id: int
) -> None:
    other = await _booking(uow, start=T0 + timedelta(days=1))
    async with uow:
        await uow.outbox.add([reminder(other), reminder(booking_id)])
        await uow.outbox.replace_timed(booking_id, [])
        with pytest.raises(ValueError, match="not a timed notification of booking"):
            await uow.outbox.replace_timed(booking_id, [event(K.LINK, booking_id=booking_id)])
        with pytest.raises(ValueError, match="not a timed notification of booking"):
            await uow.outbox.replace_timed(booking_id, [reminder(other)])
        await uow.commit()
    assert [r.booking_id for r in await _records(uow)] == [other]


async def test_rows_go_with_their_booking(uow: SqlUnitOfWork, booking_id: int) -> None:
    async with uow:
        await uow.outbox.add([reminder(booking_id), Notification(K.AGENDA, MENTOR_ID, NOW)])
        bookings = Base.metadata.tables[BookingRow.__tablename__]
        await uow.db.execute(delete(bookings).where(BookingRow.id == booking_id))
        await uow.commit()
    assert [r.kind for r in await _records(uow)] == ["agenda"]


# -- claiming and outcomes -------------------------------------------------------------------------------------


async def test_claim_takes_due_rows_oldest_first_and_holds_them_for_the_lease(
    uow: SqlUnitOfWork, booking_id: int
) -> None:
    async with uow:
        await uow.outbox.add(
            [
                event(K.CONFIRMED, booking_id=booking_id, due=NOW - timedelta(minutes=1)),
                event(K.LINK, booking_id=booking_id, due=NOW - timedelta(minutes=5)),
                event(K.NEW_BOOKING, to=MENTOR_ID, booking_id=booking_id, due=NOW),
                reminder(booking_id),  # due later
            ]
        )
        await uow.commit()
    first = await _claim(uow, limit=2)
    assert [c.notification.kind for c in first] == [K.LINK, K.CONFIRMED]
    assert all(c.attempts == 1 and c.locked_until == NOW + LEASE for c in first)
    second = await _claim(uow)
    assert [c.notification.kind for c in second] == [K.NEW_BOOKING]
    assert second[0].notification.recipient_id == MENTOR_ID and second[0].notification.booking_id == booking_id
    assert await _claim(uow, now=NOW + LEASE - timedelta(seconds=1)) == []  # held, and the reminder not due
    async with uow:
        assert await uow.outbox.counts() == {"pending": 1, "sending": 3}
        assert await uow.outbox.next_due() == NOW + LEASE  # the first lease to run out

    # a crashed dispatcher: after the lease another claim gets the rows again, with one more attempt
    again = await _claim(uow, now=NOW + LEASE)
    assert sorted(c.outbox_id for c in again) == sorted(c.outbox_id for c in first + second)
    assert all(c.attempts == 2 for c in again)
    # the old claims no longer hold the rows: their outcome changes nothing
    async with uow:
        assert not await uow.outbox.mark_sent(first[0], NOW)
        assert not await uow.outbox.give_up(first[1], "late")
        assert await uow.outbox.mark_sent(again[0], NOW + LEASE)
        await uow.commit()
    rows = {r.key: r for r in await _records(uow)}
    assert rows[again[0].notification.key].status == "sent"
    assert rows[again[0].notification.key].sent_at == NOW + LEASE
    assert rows[first[1].notification.key].status == "sending"


async def test_outcomes(uow: SqlUnitOfWork, booking_id: int) -> None:
    notes = [event(K.LINK, booking_id=booking_id, due=NOW - timedelta(seconds=i)) for i in range(5)]
    async with uow:
        await uow.outbox.add(notes)
        await uow.commit()
    a, b, c, d, e = await _claim(uow)
    later = NOW + timedelta(minutes=1)
    async with uow:
        assert await uow.outbox.retry_at(a, later, "NetworkError: 502")
        assert await uow.outbox.retry_at(b, later, "RetryAfter", count_attempt=False)
        assert await uow.outbox.give_up(c, "BadRequest: chat not found" + "!" * 2000)
        assert await uow.outbox.skip(d, "unreachable")
        await uow.outbox.release([e])
        assert not await uow.outbox.mark_sent(e, NOW)  # released: no longer held
        await uow.commit()
    rows = {r.key: r for r in await _records(uow)}
    view = {
        name: (rows[x.notification.key].status, rows[x.notification.key].attempts)
        for name, x in zip("abcde", (a, b, c, d, e), strict=True)
    }
    assert view == {
        "a": ("pending", 1), "b": ("pending", 0), "c": ("failed", 1), "d": ("skipped", 1), "e": ("pending", 0)
    }  # fmt: skip
    assert rows[a.notification.key].due_at == later and rows[a.notification.key].last_error == "NetworkError: 502"
    assert len(rows[c.notification.key].last_error or "") == 1000
    async with uow:
        assert await uow.outbox.next_due() == e.notification.due_at
    assert sorted(x.notification.key for x in await _claim(uow)) == sorted([e.notification.key])
    assert sorted(x.notification.key for x in await _claim(uow, now=later)) == sorted(
        [a.notification.key, b.notification.key]
    )


async def test_a_row_of_an_unknown_kind_fails_instead_of_blocking(uow: SqlUnitOfWork, booking_id: int) -> None:
    async with uow:
        await uow.outbox.add([event(K.LINK, booking_id=booking_id)])
        await uow.db.execute(
            insert(Base.metadata.tables[NotificationRow.__tablename__]).values(
                key="from-the-future", kind="telepathy", recipient_id=MENTEE_ID, due_at=NOW
            )
        )
        await uow.commit()
    assert [c.notification.kind for c in await _claim(uow)] == [K.LINK]
    assert {r.key: r.status for r in await _records(uow)}["from-the-future"] == "failed"


async def test_next_due_is_none_when_nothing_waits(uow: SqlUnitOfWork, booking_id: int) -> None:
    async with uow:
        assert await uow.outbox.next_due() is None
        assert await uow.outbox.counts() == {}


# -- reachability and the agenda switch ------------------------------------------------------------------------


async def test_unreachable_users(uow: SqlUnitOfWork, booking_id: int) -> None:
    async with uow:
        assert not await uow.users.is_unreachable(MENTEE_ID)
        await uow.users.mark_unreachable(MENTEE_ID)
        await uow.commit()
    async with uow:
        assert await uow.users.is_unreachable(MENTEE_ID)
        assert not await uow.users.is_unreachable(MENTOR_ID)
        assert not await uow.users.is_unreachable(424242)  # no such user
        await uow.users.mark_reachable(MENTEE_ID)
        await uow.commit()
    async with uow:
        assert not await uow.users.is_unreachable(MENTEE_ID)


async def test_mark_reachable_after_get_as_every_update_does(uow: SqlUnitOfWork, booking_id: int) -> None:
    """``remember_user``: get, then mark_reachable - a reachable user costs no write, a blocked one is
    reachable again, also when the block happened earlier in the same session."""
    async with uow:
        await uow.users.mark_unreachable(MENTEE_ID)
        await uow.commit()
    async with uow:
        assert await uow.users.get(MENTEE_ID) is not None  # loads the row: unreachable
        await uow.users.mark_reachable(MENTEE_ID)
        await uow.commit()
    async with uow:
        assert not await uow.users.is_unreachable(MENTEE_ID)
        assert await uow.users.get(MENTEE_ID) is not None  # loaded as reachable ...
        await uow.users.mark_unreachable(MENTEE_ID)  # ... then blocked in the same session
        await uow.users.mark_reachable(MENTEE_ID)
        await uow.commit()
    async with uow:
        assert not await uow.users.is_unreachable(MENTEE_ID)


async def test_daily_agenda_switch_round_trips(uow: SqlUnitOfWork, booking_id: int) -> None:
    async with uow:
        mentor = await uow.users.get(MENTOR_ID)
        assert mentor is not None and mentor.daily_agenda is True
        await uow.users.update(replace(mentor, daily_agenda=False))
        await uow.commit()
    async with uow:
        mentor = await uow.users.get(MENTOR_ID)
        assert mentor is not None and mentor.daily_agenda is False


# -- concurrent claimers -----------------------------------------------------------------------------------------


ROWS = 400
CLAIMERS = 6


async def test_concurrent_claimers_never_get_the_same_row(
    db_url: str, uow: SqlUnitOfWork, booking_id: int
) -> None:
    """Six claimers, each on its own engine (as if in its own process), drain 400 due rows in batches of 7."""
    async with uow:
        await uow.outbox.add(
            [event(K.LINK, booking_id=booking_id, due=NOW - timedelta(seconds=i % 50)) for i in range(ROWS)]
        )
        await uow.commit()
    engines = [create_engine(db_url) for _ in range(CLAIMERS)]
    try:
        factories = list(engines)
        start = asyncio.Event()

        async def drain(factory: AsyncEngine) -> list[int]:
            got: list[int] = []
            await start.wait()
            while True:
                async with SqlUnitOfWork(factory) as claimer:
                    batch = await claimer.outbox.claim(NOW, 7, LEASE)
                    await asyncio.sleep(0)  # let the others run into the locked rows
                    for c in batch:
                        await claimer.outbox.mark_sent(c, NOW)
                    await claimer.commit()
                if not batch:
                    return got
                got.extend(c.outbox_id for c in batch)

        tasks = [asyncio.create_task(drain(f)) for f in factories]
        await asyncio.sleep(0.05)
        start.set()
        results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
    finally:
        for e in engines:
            await e.dispose()
    every = [i for r in results for i in r]
    assert len(every) == ROWS and len(set(every)) == ROWS
    assert sum(1 for r in results if r) >= 2  # the work really was shared
    async with uow:
        assert await uow.outbox.counts() == {"sent": ROWS}
