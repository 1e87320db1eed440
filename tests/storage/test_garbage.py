"""The statements every booking step runs are built once: a statement built per call leaves its expressions in
reference cycles (``excluded`` aliases a whole table), which only the garbage collector frees - and the
collector's passes were a measurable share of the bot's time under load (``bot/__main__.py``)."""

from __future__ import annotations

import gc
from datetime import timedelta

from domain.model import StatsDelta
from domain.notifications import Notification, NotificationKind
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, T0, booking, mentor_and_mentee


async def _step(uow: SqlUnitOfWork, offering_id: int, booking_id: int, i: int) -> None:
    async with uow:
        await uow.dialogs.set(MENTEE_ID, "booking_notes", {"offering_id": offering_id, "n": i})
        await uow.offerings.apply_stats(offering_id, StatsDelta(bookings=1, rating_sum=4, rating_count=1))
        reminder = Notification(NotificationKind.REMINDER, MENTEE_ID, T0 - timedelta(hours=1), booking_id, 60)
        await uow.outbox.replace_timed(booking_id, [reminder])
        await uow.dialogs.clear(MENTEE_ID)
        await uow.commit()


async def test_the_write_path_of_a_booking_step_leaves_no_reference_cycles(uow: SqlUnitOfWork) -> None:
    offering = await mentor_and_mentee(uow)
    assert offering.id is not None
    async with uow:
        booked = await uow.bookings.add(booking(offering))
        await uow.commit()
    assert booked.id is not None
    await _step(uow, offering.id, booked.id, 0)  # first use: statements are built and cached
    gc.collect()
    gc.disable()
    try:
        for i in range(1, 21):
            await _step(uow, offering.id, booked.id, i)
        left = gc.collect()
    finally:
        gc.enable()
    # Built per call, the upsert, the stats update and the outbox's delete and insert left 330-370 objects in
    # cycles per step (6,620 on SQLite and 7,300 on PostgreSQL after 20); built once, none.
    assert left < 100, f"{left} objects in reference cycles after 20 steps"
