"""The waitlist's table on SQLite and PostgreSQL: entries in joining order, the candidates of a freed time (any
date, or the dates around it), counts, leaving only one's own entry, and booking ending one's entries."""

from __future__ import annotations

from datetime import date, timedelta

from domain.waitlist import WaitlistEntry
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, T0, offering, seed, user


async def test_entries_candidates_and_leaving(uow: SqlUnitOfWork) -> None:
    [o, other] = await seed(
        uow, user(MENTOR_ID, is_mentor=True), *(user(MENTEE_ID + n) for n in range(6)),
        offerings=(offering(), offering(title="Other")),
    )  # fmt: skip
    day = T0.date()
    async with uow:
        added = [
            await uow.waitlist.add(WaitlistEntry(o.id or 0, MENTEE_ID + n, when, "Asia/Kolkata", T0))
            for n, when in enumerate([None, day, day + timedelta(days=3), day - timedelta(days=5), None])
        ]
        await uow.waitlist.add(WaitlistEntry(other.id or 0, MENTEE_ID + 5, None, "UTC", T0))
        await uow.commit()
    assert [e.id for e in added] == sorted(e.id or 0 for e in added)
    async with uow:
        near = await uow.waitlist.candidates(o.id or 0, day - timedelta(days=1), day + timedelta(days=1), 10)
        capped = await uow.waitlist.candidates(o.id or 0, day - timedelta(days=1), day + timedelta(days=1), 2)
        count = await uow.waitlist.count_waiting(o.id or 0, day)
        mine = await uow.waitlist.for_mentee(MENTEE_ID + 1)
        assert await uow.waitlist.get(added[2].id or 0) == added[2]
    assert [e.id for e in near] == [added[0].id, added[1].id, added[4].id]  # any date, or that day; oldest first
    assert [e.id for e in capped] == [added[0].id, added[1].id]
    assert count == 4  # the entry of a passed date no longer counts
    assert mine == [added[1]]
    async with uow:
        assert not await uow.waitlist.remove(added[1].id or 0, MENTEE_ID)  # not theirs
        assert await uow.waitlist.remove(added[1].id or 0, MENTEE_ID + 1)
        await uow.waitlist.remove_for(o.id or 0, MENTEE_ID)  # booked the offering
        await uow.commit()
    async with uow:
        left = await uow.waitlist.candidates(o.id or 0, date.min, date.max, 10)
        others = await uow.waitlist.for_mentee(MENTEE_ID + 5)
    assert [e.id for e in left] == [added[2].id, added[3].id, added[4].id]
    assert len(others) == 1
