"""Refunds of a weekly series made due or done by one action, through the real repositories on SQLite and
PostgreSQL: one message per person and action (not one per week), the ledger still one row per week and event,
Mark all refunded marking exactly that action's weeks still owed, once, even pressed twice at once.

The weeks are paid outside the bot and marked paid by the mentor (``off``): each week a charge of ₹500 in the
ledger, refunded by hand when the mentor cancels."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.notifications import Notification, NotificationKind
from domain.payments import LedgerKind, NothingToMark, sums_of, totals_from
from domain.usecases.payments import mark_paid, mark_refunded, mark_series_refunded, refunds_together
from domain.usecases.series import cancel_future, confirm_series
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID
from tests.storage.test_series_messages import CLOCK, NOW, four_weeks

K = NotificationKind
REFUND_KINDS = {
    k.value
    for k in (
        K.REFUND_DUE,
        K.REFUND_DUE_OPERATOR,
        K.REFUNDED,
        K.SERIES_REFUND_DUE,
        K.SERIES_REFUND_DUE_OPERATOR,
        K.SERIES_REFUNDED,
    )
}


async def paid_weeks(uow: SqlUnitOfWork) -> list[int]:
    """Four weeks confirmed at once and each marked paid (₹500 a week)."""
    ids = await four_weeks(uow)
    async with uow:
        await confirm_series(uow, CLOCK, MENTOR_ID, ids[0])
        for booking_id in ids:
            await mark_paid(uow, CLOCK, MENTOR_ID, booking_id)
        await uow.commit()
    return ids


async def refund_messages(uow: SqlUnitOfWork) -> list[tuple[str, int, int | None]]:
    async with uow:
        records = await uow.outbox.records()
    return [(r.kind, r.recipient_id, r.booking_id) for r in records if r.kind in REFUND_KINDS]


async def ledger(uow: SqlUnitOfWork, ids: list[int]) -> list:
    async with uow:
        return sorted([e for b in ids for e in await uow.payments.for_booking(b)], key=lambda e: e.id or 0)


async def cancelled_by_the_mentor(uow: SqlUnitOfWork) -> tuple[list[int], int]:
    """The four paid weeks, every one cancelled by the mentor at once: returns the weeks and the action's last
    refund-due row."""
    ids = await paid_weeks(uow)
    async with uow:
        await cancel_future(uow, CLOCK, MENTOR_ID, ids[0], "Moving abroad")
        await uow.commit()
    dues = [e for e in await ledger(uow, ids) if e.kind == LedgerKind.REFUND_DUE]
    assert [e.booking_id for e in dues] == ids  # still one row per week
    return ids, dues[-1].id or 0


async def test_cancelling_every_paid_week_tells_the_mentor_and_the_operator_once(uow: SqlUnitOfWork) -> None:
    ids, last = await cancelled_by_the_mentor(uow)
    assert await refund_messages(uow) == [
        (K.SERIES_REFUND_DUE.value, MENTOR_ID, ids[0]),
        (K.SERIES_REFUND_DUE_OPERATOR.value, MENTOR_ID, ids[0]),
    ]
    async with uow:
        found = await refunds_together(uow, ids[0], LedgerKind.REFUND_DUE, last)
        records = await uow.outbox.records(key=f"series_refund_due:{last}")
    assert found is not None and found.owed == 4
    assert [row.booking_id for row in found.rows] == ids and [w.booking.id for w in found.weeks] == ids
    assert sum(row.amount for row in found.rows) == Decimal(2000) and len(records) == 1


async def test_mark_all_refunded_marks_the_weeks_still_owed_once_and_tells_the_mentee_once(
    uow: SqlUnitOfWork,
) -> None:
    ids, last = await cancelled_by_the_mentor(uow)
    async with uow:  # one week's own Mark refunded first, on its card
        await mark_refunded(uow, CLOCK, MENTOR_ID, ids[1])
        await uow.commit()
    async with uow:
        marked = await mark_series_refunded(uow, CLOCK, MENTOR_ID, ids[0], last)
        await uow.commit()
    assert sorted(e.booking_id for e in marked) == [ids[0], ids[2], ids[3]]
    told = await refund_messages(uow)
    assert told[2:] == [(K.REFUNDED.value, MENTEE_ID, ids[1]), (K.SERIES_REFUNDED.value, MENTEE_ID, ids[0])]
    async with uow:
        found = await refunds_together(uow, ids[0], LedgerKind.REFUND, marked[-1].id or 0)
    assert found is not None and [row.booking_id for row in found.rows] == [ids[0], ids[2], ids[3]]
    async with uow:  # a second press: refused, nothing recorded
        with pytest.raises(NothingToMark):
            await mark_series_refunded(uow, CLOCK, MENTOR_ID, ids[0], last)
    entries = await ledger(uow, ids)
    assert [e.kind for e in entries].count(LedgerKind.REFUND) == 4 and len(entries) == 12
    totals = totals_from(sums_of(entries))
    assert [(t.paid, t.refunded, t.owed) for t in totals.values()] == [(2000, 2000, 0)]
    async with uow:  # someone else's press, or a row of no such action: refused
        with pytest.raises(NothingToMark):
            await mark_series_refunded(uow, CLOCK, MENTOR_ID, ids[0], entries[0].id or 0)


async def test_two_presses_of_mark_all_refunded_at_once_record_each_refund_once(
    engine: AsyncEngine, uow: SqlUnitOfWork
) -> None:
    """Two processes handling Mark all refunded at once: the weeks are locked in id order, so they take turns and
    the second finds nothing owed; one message for the mentee."""
    ids, last = await cancelled_by_the_mentor(uow)

    async def press() -> bool:
        async with SqlUnitOfWork(engine) as other:
            try:
                await mark_series_refunded(other, CLOCK, MENTOR_ID, ids[0], last)
            except NothingToMark:
                return False
            await other.commit()
        return True

    assert sorted(await asyncio.gather(press(), press())) == [False, True]
    entries = await ledger(uow, ids)
    assert [e.booking_id for e in entries if e.kind == LedgerKind.REFUND] == ids
    told = [m for m in await refund_messages(uow) if m[0] in (K.REFUNDED.value, K.SERIES_REFUNDED.value)]
    assert told == [(K.SERIES_REFUNDED.value, MENTEE_ID, ids[0])]


async def test_a_series_refund_message_is_stored_once_by_its_key(uow: SqlUnitOfWork) -> None:
    ids, last = await cancelled_by_the_mentor(uow)
    again = Notification(K.SERIES_REFUND_DUE, MENTOR_ID, NOW, ids[0], payment_id=last)
    async with uow:
        await uow.outbox.add([again])
        await uow.commit()
    assert [m[0] for m in await refund_messages(uow)].count(K.SERIES_REFUND_DUE.value) == 1
