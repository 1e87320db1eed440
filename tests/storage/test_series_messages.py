"""What a weekly series and a group session write to the outbox, through the real repositories on SQLite and
PostgreSQL: a series confirmed, cancelled or run out as a whole is one message per person (not one per week), two
dispatchers expiring two weeks of one series at once write it once; a session's after-session question is one row
for all its attendees, withdrawn by the last one leaving, moved with a moved session."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.errors import InvalidTransition
from domain.model import BookingStatus, OfferingStatus, TimeRange, WeeklyRule
from domain.notifications import Notification, NotificationKind, session_after_key, timed_for
from domain.usecases.booking import BookingRequest, book_slot, change_status
from domain.usecases.notifications import expire_request
from domain.usecases.reschedule import reschedule
from domain.usecases.series import book_series, cancel_future, confirm_series, series_of
from storage.outbox import OutboxRecord
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, offering, seed, user

S = BookingStatus
K = NotificationKind
NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # Tuesday
FIRST = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # Monday 10:00 GMT
CLOCK = FixedClock(NOW)
HOUR = timedelta(hours=1)
NEXT_WEEK = FIRST + timedelta(weeks=1)
OTHERS = [7200 + n for n in range(8)]
SERIES_KINDS = {k.value for k in (K.SERIES_CONFIRMED, K.SERIES_DECLINED, K.SERIES_CANCELLED, K.SERIES_EXPIRED)}


async def _seed(uow: SqlUnitOfWork, price: Decimal, capacity: int = 1) -> int:
    [added] = await seed(
        uow,
        user(MENTOR_ID, is_mentor=True, timezone="Europe/London"),
        user(MENTEE_ID, timezone="Asia/Kolkata"),
        *map(user, OTHERS),
        offerings=(offering(status=OfferingStatus.ACTIVE, duration_minutes=60, price=price, capacity=capacity),),
    )
    assert added.id is not None
    async with uow:  # Mondays 09:00-12:00 London
        await uow.availability.replace_weekly(MENTOR_ID, [WeeklyRule(0, TimeRange(9 * 60, 12 * 60))])
        await uow.commit()
    return added.id


async def four_weeks(uow: SqlUnitOfWork, price: Decimal = Decimal(500)) -> list[int]:
    """Four weekly sessions from Monday 16 March, 10:00 London (paid: requests waiting for the mentor)."""
    offering_id = await _seed(uow, price)
    async with uow:
        views = await book_series(uow, CLOCK, BookingRequest(offering_id, MENTEE_ID, FIRST), 4)
        await uow.commit()
    return [v.booking.id or 0 for v in views]


async def told(uow: SqlUnitOfWork, ids: list[int]) -> list[tuple[str, int, int | None]]:
    """The messages (not the timed rows) about these bookings, each as (kind, recipient, booking), oldest first;
    the mentor's first request left out."""
    async with uow:
        records = await uow.outbox.records()
    return [
        (r.kind, r.recipient_id, r.booking_id)
        for r in records
        if r.booking_id in ids and not K(r.kind).is_timed and r.kind != K.NEW_BOOKING.value
    ]


async def test_confirm_all_weeks_tells_the_mentee_once_and_a_second_press_is_refused(uow: SqlUnitOfWork) -> None:
    ids = await four_weeks(uow)
    async with uow:
        weeks = await confirm_series(uow, CLOCK, MENTOR_ID, ids[2])
        await uow.commit()
    assert [v.booking.status for v in weeks] == [S.CONFIRMED] * 4
    assert await told(uow, ids) == [(K.SERIES_CONFIRMED.value, MENTEE_ID, ids[0])]
    async with uow:
        records = await uow.outbox.records()
    reminded = {r.booking_id for r in records if r.kind == K.REMINDER.value and r.status == "pending"}
    assert reminded == set(ids)  # each week still has its own reminders
    asked = [r.key for r in records if r.kind == K.SESSION_AFTER.value]
    assert asked == [session_after_key(MENTOR_ID, v.booking.scheduled_at) for v in weeks]  # one per week's session
    async with uow:
        with pytest.raises(InvalidTransition):
            await confirm_series(uow, CLOCK, MENTOR_ID, ids[0])
    assert len(await told(uow, ids)) == 1


@pytest.mark.parametrize("who", ["mentee", "mentor"])
async def test_cancelling_all_future_weeks_tells_the_other_person_once(uow: SqlUnitOfWork, who: str) -> None:
    ids = await four_weeks(uow, Decimal(0))  # free: confirmed at once
    canceller, other = (MENTEE_ID, MENTOR_ID) if who == "mentee" else (MENTOR_ID, MENTEE_ID)
    async with uow:
        weeks, kept = await cancel_future(uow, CLOCK, canceller, ids[1], "moving cities")
        await uow.commit()
    assert [v.booking.status for v in weeks] == [S.CANCELLED] * 4 and kept == []
    assert await told(uow, ids) == [(K.SERIES_CANCELLED.value, other, ids[0])]
    async with uow:
        records = await uow.outbox.records()
    left = [r for r in records if r.status == "pending" and K(r.kind).is_timed and r.kind != K.AGENDA.value]
    assert left == []  # nothing left to remind of or to ask about (the agenda is built when it is due)


async def test_a_series_running_out_tells_each_person_once(uow: SqlUnitOfWork) -> None:
    ids = await four_weeks(uow)
    async with uow:  # the first week's request runs out at its start
        assert await expire_request(uow, FixedClock(FIRST), ids[0]) is not None
        await uow.commit()
    async with uow:
        assert [v.booking.status for v in await series_of(uow, ids[0])] == [S.EXPIRED] * 4
    assert sorted(await told(uow, ids)) == [
        (K.SERIES_EXPIRED.value, MENTOR_ID, ids[0]),
        (K.SERIES_EXPIRED.value, MENTEE_ID, ids[0]),
    ]


async def test_one_week_left_waiting_runs_out_as_a_booking(uow: SqlUnitOfWork) -> None:
    ids = await four_weeks(uow)
    async with uow:  # the mentor answered three weeks on their own cards
        for booking_id in ids[1:]:
            await change_status(uow, CLOCK, MENTOR_ID, booking_id, S.CONFIRMED)
        await uow.commit()
    async with uow:
        assert await expire_request(uow, FixedClock(FIRST), ids[0]) is not None
        await uow.commit()
    messages = await told(uow, ids)
    assert not SERIES_KINDS & {kind for kind, _to, _b in messages}
    assert sorted(m for m in messages if m[0] == K.EXPIRED.value) == sorted(
        [(K.EXPIRED.value, MENTOR_ID, ids[0]), (K.EXPIRED.value, MENTEE_ID, ids[0])]
    )


async def test_two_dispatchers_expiring_two_weeks_of_a_series_at_once_expire_it_once(
    engine: AsyncEngine, uow: SqlUnitOfWork
) -> None:
    """Weeks 2-4 run out together (48 hours after the request); each has its own expiry row, so two dispatchers
    (processes) may expire two of them at once. The weeks are locked in the order of their ids, so they take turns:
    one of them expires the series and tells each person once."""
    ids = await four_weeks(uow)
    due = FixedClock(NOW + timedelta(hours=48))
    async with uow:  # week 1 confirmed: only weeks 2-4 are waiting, and they run out together
        await change_status(uow, CLOCK, MENTOR_ID, ids[0], S.CONFIRMED)
        await uow.commit()

    async def expire(booking_id: int) -> bool:
        async with SqlUnitOfWork(engine) as other:
            expired = await expire_request(other, due, booking_id)
            await other.commit()
        return expired is not None

    results = await asyncio.gather(expire(ids[3]), expire(ids[1]), expire(ids[2]))
    assert sorted(results) == [False, False, True]
    async with uow:
        assert [v.booking.status for v in await series_of(uow, ids[0])] == [S.CONFIRMED] + [S.EXPIRED] * 3
    series_told = [m for m in await told(uow, ids) if m[0] in SERIES_KINDS]
    assert sorted(series_told) == [
        (K.SERIES_EXPIRED.value, MENTOR_ID, ids[1]),
        (K.SERIES_EXPIRED.value, MENTEE_ID, ids[1]),
    ]
    assert not {K.EXPIRED.value} & {kind for kind, _to, _b in await told(uow, ids)}


# --- the after-session question, per session ------------------------------------------------------------------


async def _book(engine: AsyncEngine, offering_id: int, mentee_id: int, start: datetime = FIRST) -> int:
    async with SqlUnitOfWork(engine) as uow:
        view = await book_slot(uow, CLOCK, BookingRequest(offering_id, mentee_id, start))
        await uow.commit()
    assert view.booking.id is not None
    return view.booking.id


async def asked(uow: SqlUnitOfWork) -> list[OutboxRecord]:
    async with uow:
        records = await uow.outbox.records()
    return [r for r in records if r.kind == K.SESSION_AFTER.value and r.status == "pending"]


async def test_a_group_session_has_one_after_session_question_until_its_last_attendee_leaves(
    engine: AsyncEngine, uow: SqlUnitOfWork
) -> None:
    group = await _seed(uow, Decimal(0), capacity=8)
    booked = await asyncio.gather(*(_book(engine, group, mentee) for mentee in OTHERS[:6]))  # six at once
    [question] = await asked(uow)
    assert (question.key, question.recipient_id, question.due_at) == (
        session_after_key(MENTOR_ID, FIRST),
        MENTOR_ID,
        FIRST + HOUR,
    )
    for mentee, booking_id in zip(OTHERS[:5], booked[:5], strict=True):
        async with SqlUnitOfWork(engine) as leaving:
            await change_status(leaving, CLOCK, mentee, booking_id, S.CANCELLED, "cannot come")
            await leaving.commit()
    assert [r.key for r in await asked(uow)] == [question.key]  # one attendee still comes
    async with SqlUnitOfWork(engine) as leaving:
        await change_status(leaving, CLOCK, OTHERS[5], booked[5], S.CANCELLED, "cannot come")
        await leaving.commit()
    assert await asked(uow) == []  # nobody to ask about


async def test_a_moved_one_to_one_session_takes_its_after_session_question_along(
    engine: AsyncEngine, uow: SqlUnitOfWork
) -> None:
    one = await _seed(uow, Decimal(0))
    booking_id = await _book(engine, one, OTHERS[0])
    async with SqlUnitOfWork(engine) as moving:
        await reschedule(moving, CLOCK, OTHERS[0], booking_id, FIRST + HOUR, max_moves=2)
        await moving.commit()
    [question] = await asked(uow)
    assert (question.key, question.due_at) == (session_after_key(MENTOR_ID, FIRST + HOUR), FIRST + 2 * HOUR)


async def test_questions_planned_per_booking_before_become_one_per_session(
    db_url: str, engine: AsyncEngine, uow: SqlUnitOfWork
) -> None:
    """0016: a booking confirmed by an earlier version has its own pending ``after_session`` row and no session
    row; upgrading turns those into one row per session, due at the same moment (sent rows stay as they were)."""
    from storage.migrate import downgrade, upgrade_to_head

    group = await _seed(uow, Decimal(0), capacity=8)
    booked = [await _book(engine, group, mentee) for mentee in OTHERS[:3]]
    later = await _book(engine, group, OTHERS[3], NEXT_WEEK)
    async with uow:  # as an earlier version planned them: one question per booking, none per session
        await uow.outbox.drop_pending(
            [r.key for r in await uow.outbox.records() if r.kind == K.SESSION_AFTER.value]
        )
        for booking_id in [*booked, later]:
            found = await uow.bookings.get(booking_id)
            assert found is not None
            old = Notification(K.AFTER_SESSION, MENTOR_ID, found.ends_at, booking_id)
            await uow.outbox.replace_timed(booking_id, [*timed_for(found, "Europe/London", NOW), old])
        await uow.commit()
    async with uow:  # one of them went out already
        claims = await uow.outbox.claim(FIRST + HOUR, 100, timedelta(minutes=5))
        [sent] = [c for c in claims if c.notification.key == f"after_session:{MENTOR_ID}:{booked[0]}"]
        assert await uow.outbox.mark_sent(sent, FIRST + HOUR)
        await uow.outbox.release([c for c in claims if c is not sent])
        await uow.commit()
    await downgrade(db_url, "0015")
    await upgrade_to_head(db_url)
    async with uow:
        records = await uow.outbox.records()
    questions = [(r.kind, r.key, r.due_at, r.status) for r in records if "after" in r.kind]
    assert sorted(questions) == sorted(
        [
            (K.AFTER_SESSION.value, f"after_session:{MENTOR_ID}:{booked[0]}", FIRST + HOUR, "sent"),
            (K.SESSION_AFTER.value, session_after_key(MENTOR_ID, FIRST), FIRST + HOUR, "pending"),
            (K.SESSION_AFTER.value, session_after_key(MENTOR_ID, NEXT_WEEK), NEXT_WEEK + HOUR, "pending"),
        ]
    )
    [first] = [r for r in records if r.key == session_after_key(MENTOR_ID, FIRST)]
    assert first.recipient_id == MENTOR_ID and first.booking_id in booked
