"""The inbox's queries agree with ``domain.inbox.tab_of`` and with a count done by hand, on both databases."""

from __future__ import annotations

import random
from datetime import timedelta

from domain.inbox import WEEK_STATUSES, InboxTab, MentorStats, tab_of, week_bounds
from domain.model import BookingStatus
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, T0, booking, offering, seed, user

S = BookingStatus
OTHER_MENTOR = 1002
H = timedelta(hours=1)


async def test_tabs_counts_pages_and_stats_match_the_definitions(uow: SqlUnitOfWork) -> None:
    mine, theirs = await seed(
        uow,
        user(MENTOR_ID, is_mentor=True, timezone="Asia/Kolkata"),
        user(OTHER_MENTOR, is_mentor=True),
        user(MENTEE_ID),
        offerings=(offering(), offering(OTHER_MENTOR)),
    )
    rng = random.Random(7)
    now = T0  # a Monday 10:00 UTC
    added = []
    async with uow:
        for _ in range(60):
            status = rng.choice(list(S))
            start = now + timedelta(minutes=30 * rng.randint(-400, 400))
            rating = rng.randint(1, 5) if status == S.COMPLETED and rng.random() < 0.7 else None
            added.append(await uow.bookings.add(booking(mine, start=start, status=status, mentee_rating=rating)))
            # the other mentor's bookings never show up in this mentor's inbox
            await uow.bookings.add(booking(theirs, start=start, status=status, mentee_rating=rating))
        # edges: a confirmed session ending exactly now is past; one ending a minute later is upcoming
        for minutes_ago in (30, 29):
            start = now - timedelta(minutes=minutes_ago)
            added.append(await uow.bookings.add(booking(mine, start=start, status=S.CONFIRMED)))
        await uow.commit()

    async with uow:
        counts = await uow.bookings.count_inbox_tabs(MENTOR_ID, now)
        expected = {tab: sum(tab_of(b, now) == tab for b in added) for tab in InboxTab}
        assert counts == expected
        assert sum(counts.values()) == len(added) and all(counts.values())

        for tab in InboxTab:
            want = sorted((b for b in added if tab_of(b, now) == tab), key=lambda b: (b.scheduled_at, b.id))
            if tab in (InboxTab.PAST, InboxTab.CANCELLED):
                want.reverse()  # latest first
            got = []
            for offset in range(0, len(want) + 5, 5):
                page = await uow.bookings.list_inbox_tab(MENTOR_ID, tab, now, 5, offset)
                assert len(page) <= 5
                got += page
            assert got == want, tab

        week_start, week_end = week_bounds(now, "Asia/Kolkata")
        stats = await uow.bookings.mentor_stats(MENTOR_ID, week_start, week_end)
        ratings = [b.mentee_rating for b in added if b.mentee_rating is not None]
        assert stats == MentorStats(
            pending=sum(b.status == S.PENDING for b in added),
            this_week=sum(b.status in WEEK_STATUSES and week_start <= b.scheduled_at < week_end for b in added),
            completed=sum(b.status == S.COMPLETED for b in added),
            rating_sum=sum(ratings),
            rating_count=len(ratings),
        )
        assert stats.this_week and stats.rating_count


async def test_a_mentor_without_bookings_has_zeros(uow: SqlUnitOfWork) -> None:
    await seed(uow, user(MENTOR_ID, is_mentor=True))
    async with uow:
        assert await uow.bookings.count_inbox_tabs(MENTOR_ID, T0) == dict.fromkeys(InboxTab, 0)
        assert await uow.bookings.list_inbox_tab(MENTOR_ID, InboxTab.PAST, T0, 5) == []
        assert await uow.bookings.mentor_stats(MENTOR_ID, T0, T0 + 7 * 24 * H) == MentorStats()
