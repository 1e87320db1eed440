"""Managing a booked weekly series as a whole, through the real repositories, on SQLite and PostgreSQL: the mentor
declines every week still waiting for an answer at once (the mentee told once)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.clock import FixedClock
from domain.errors import InvalidTransition, NotAllowed
from domain.model import BookingStatus, OfferingStatus, TimeRange, WeeklyRule
from domain.notifications import NotificationKind
from domain.usecases.booking import BookingRequest, change_status
from domain.usecases.notifications import expire_request
from domain.usecases.series import book_series, decline_series, series_of
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, offering, seed, user

S = BookingStatus
K = NotificationKind
NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # Tuesday
FIRST = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # Monday 10:00 GMT
CLOCK = FixedClock(NOW)
PAID_HOUR: dict[str, Any] = {"status": OfferingStatus.ACTIVE, "duration_minutes": 60, "price": Decimal(500)}


async def _series(uow: SqlUnitOfWork, weeks: int) -> list[int]:
    [added] = await seed(
        uow,
        user(MENTOR_ID, is_mentor=True, timezone="Europe/London"),
        user(MENTEE_ID, timezone="Asia/Kolkata"),
        offerings=(offering(**PAID_HOUR),),
    )
    assert added.id is not None
    async with uow:
        await uow.availability.replace_weekly(MENTOR_ID, [WeeklyRule(0, TimeRange(9 * 60, 12 * 60))])
        views = await book_series(uow, CLOCK, BookingRequest(added.id, MENTEE_ID, FIRST), weeks)
        await uow.commit()
    return [v.booking.id or 0 for v in views]


async def test_declining_a_series_declines_every_waiting_week_and_tells_the_mentee_once(
    uow: SqlUnitOfWork,
) -> None:
    ids = await _series(uow, 4)
    async with uow:  # week 2 was confirmed on its own card before
        await change_status(uow, CLOCK, MENTOR_ID, ids[1], S.CONFIRMED)
        await uow.commit()
    async with uow:
        series = await decline_series(uow, CLOCK, MENTOR_ID, ids[2], "I am away that month")
        await uow.commit()
    assert [v.booking.status for v in series] == [S.DECLINED, S.CONFIRMED, S.DECLINED, S.DECLINED]
    assert {v.booking.cancellation_reason for v in series if v.booking.status == S.DECLINED} == {
        "I am away that month"
    }
    assert [v.booking.series_week for v in series] == [1, 2, 3, 4]
    async with uow:
        records = await uow.outbox.records()
        offering_row = await uow.offerings.get(series[0].offering.id or 0)
    told = [(r.kind, r.recipient_id, r.booking_id) for r in records if r.recipient_id == MENTEE_ID]
    assert (K.SERIES_DECLINED.value, MENTEE_ID, ids[0]) in told
    assert not any(kind == K.DECLINED.value for kind, _to, _b in told)  # not once per week
    assert sum(1 for kind, _to, _b in told if kind == K.SERIES_DECLINED.value) == 1
    pending_expiries = [r for r in records if r.kind == K.EXPIRE.value and r.status == "pending"]
    assert not pending_expiries  # the declined weeks no longer expire; the confirmed one never did
    assert offering_row is not None and offering_row.total_bookings == 4  # declining keeps the requests made
    async with uow:  # what the dispatcher reads for the message: the whole series as it is now
        weeks = await series_of(uow, ids[0])
    assert [v.booking.status for v in weeks] == [S.DECLINED, S.CONFIRMED, S.DECLINED, S.DECLINED]


async def test_a_series_request_runs_out_as_one(uow: SqlUnitOfWork) -> None:
    """The first week's request runs out (at its start, possibly before the others'): every week still waiting
    runs out with it, at once; a week the mentor confirmed stays."""
    ids = await _series(uow, 4)
    async with uow:
        await change_status(uow, CLOCK, MENTOR_ID, ids[2], S.CONFIRMED)
        await uow.commit()
    async with uow:
        assert await expire_request(uow, FixedClock(FIRST), ids[1]) is not None
        await uow.commit()
    async with uow:
        weeks = await series_of(uow, ids[0])
        records = await uow.outbox.records()
    assert [v.booking.status for v in weeks] == [S.EXPIRED, S.EXPIRED, S.CONFIRMED, S.EXPIRED]
    pending_expiries = [r.booking_id for r in records if r.kind == K.EXPIRE.value and r.status == "pending"]
    assert pending_expiries == []  # nothing left to run out later
    async with uow:  # the later expiry rows, had any fired, find nothing to do
        assert await expire_request(uow, FixedClock(FIRST), ids[3]) is None


async def test_only_the_mentor_declines_and_only_while_a_week_waits(uow: SqlUnitOfWork) -> None:
    ids = await _series(uow, 2)
    async with uow:
        with pytest.raises(NotAllowed):
            await decline_series(uow, CLOCK, MENTEE_ID, ids[0], "no")
    async with uow:
        for booking_id in ids:
            await change_status(uow, CLOCK, MENTOR_ID, booking_id, S.CONFIRMED)
        await uow.commit()
    async with uow:
        with pytest.raises(InvalidTransition):  # nothing waits for an answer any more: cancel instead
            await decline_series(uow, CLOCK, MENTOR_ID, ids[0], "too late")
