"""Calendar sync in storage, on SQLite and PostgreSQL: feeds found by their token's digest and versioned, busy
calendars and their intervals, which of them still block, which are due, and a person's bookings for the feed."""

from __future__ import annotations

from datetime import timedelta

from domain import busy
from domain.busy import BusyCalendar, Failure, Problem
from domain.calendar import FeedLink, new_feed, token_digest
from domain.model import BookingStatus, BusyInterval
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, T0, booking, mentor_and_mentee, offering, seed, user

H = timedelta(hours=1)


def interval(start_hours: float, end_hours: float) -> BusyInterval:
    return BusyInterval(T0 + start_hours * H, T0 + end_hours * H)


async def test_a_feed_is_found_by_its_tokens_digest_and_replaced_by_a_new_token(uow: SqlUnitOfWork) -> None:
    await seed(uow, user(MENTOR_ID))
    first = new_feed(MENTOR_ID)
    async with uow:
        assert await uow.feeds.get(MENTOR_ID) is None
        await uow.feeds.save(first)
        await uow.commit()
    async with uow:
        assert await uow.feeds.get(MENTOR_ID) == first
        assert await uow.feeds.find(token_digest(first.token)) == first
        assert await uow.feeds.find(first.token) is None  # never by the token itself
        await uow.feeds.set_version(MENTOR_ID, "a" * 64, T0)
        await uow.commit()
    second = new_feed(MENTOR_ID)
    async with uow:
        versioned = FeedLink(MENTOR_ID, first.token, first.token_digest, "a" * 64, T0)
        assert await uow.feeds.get(MENTOR_ID) == versioned
        await uow.feeds.save(second)  # reset: the old token is gone, and so is the version
        await uow.commit()
    async with uow:
        assert await uow.feeds.find(first.token_digest) is None
        assert await uow.feeds.find(second.token_digest) == second


async def test_a_feed_version_changes_only_with_its_content(uow: SqlUnitOfWork) -> None:
    await seed(uow, user(MENTOR_ID))
    feed = new_feed(MENTOR_ID)
    async with uow:
        await uow.feeds.save(feed)
        await uow.feeds.set_version(MENTOR_ID, "a" * 64, T0)
        await uow.feeds.set_version(MENTOR_ID, "a" * 64, T0 + H)  # the same content served again
        await uow.commit()
    async with uow:
        assert (await uow.feeds.get(MENTOR_ID)).changed_at == T0  # type: ignore[union-attr]
        await uow.feeds.set_version(MENTOR_ID, "b" * 64, T0 + 2 * H)
        await uow.commit()
    async with uow:
        found = await uow.feeds.get(MENTOR_ID)
    assert found is not None and (found.content_digest, found.changed_at) == ("b" * 64, T0 + 2 * H)


async def test_busy_calendars_round_trip_with_their_state(uow: SqlUnitOfWork) -> None:
    await seed(uow, user(MENTOR_ID))
    added_at = T0 - 3 * H
    async with uow:
        one = await uow.calendars.add(BusyCalendar(MENTOR_ID, "https://example.com/one.ics", added_at))
        two = await uow.calendars.add(BusyCalendar(MENTOR_ID, "https://example.com/two.ics", added_at))
        await uow.commit()
    assert one.id is not None and two.id is not None and one.id != two.id
    read = busy.read_ok(one, T0, 'W/"v1"', "Tue, 24 Nov 2026 10:00:00 GMT", T0 + 40 * 24 * H)
    failed = busy.read_failed(two, T0, Failure(Problem.HTTP, 404)).with_changes(failure_told=True)
    async with uow:
        assert await uow.calendars.save(read) and await uow.calendars.save(failed)
        assert not await uow.calendars.save(read.with_changes(id=9999))
        await uow.commit()
    async with uow:
        assert await uow.calendars.list_for_mentor(MENTOR_ID) == [read, failed]
        assert await uow.calendars.get(two.id) == failed
        assert await uow.calendars.list_for_mentor(MENTEE_ID) == []


async def test_busy_intervals_block_while_their_calendar_is_fresh(uow: SqlUnitOfWork) -> None:
    await seed(uow, user(MENTOR_ID), user(MENTEE_ID))
    async with uow:
        fresh = await uow.calendars.add(BusyCalendar(MENTOR_ID, "https://example.com/a.ics", T0))
        stale = await uow.calendars.add(BusyCalendar(MENTOR_ID, "https://example.com/b.ics", T0))
        other = await uow.calendars.add(BusyCalendar(MENTEE_ID, "https://example.com/c.ics", T0))
        fresh = busy.read_ok(fresh, T0, None, None, T0 + 100 * H)
        stale = busy.read_ok(stale, T0 - 2 * busy.STALE_AFTER, None, None, T0 + 100 * H)
        other = busy.read_ok(other, T0, None, None, T0 + 100 * H)
        for calendar in (fresh, stale, other):
            await uow.calendars.save(calendar)
        await uow.calendars.replace_busy(fresh, [interval(1, 2), interval(5, 6), interval(30, 31)])
        await uow.calendars.replace_busy(stale, [interval(1.5, 3)])
        await uow.calendars.replace_busy(other, [interval(1, 2)])
        await uow.commit()
    async with uow:
        found = await uow.calendars.busy_for_mentor(MENTOR_ID, T0 + 2 * H, T0 + 10 * H, busy.fresh_since(T0))
        # touching the range counts only when overlapping: [1, 2) ends where the range begins
        assert found == [interval(5, 6)]
        wider = await uow.calendars.busy_for_mentor(MENTOR_ID, T0, T0 + 48 * H, busy.fresh_since(T0))
        assert wider == [interval(1, 2), interval(5, 6), interval(30, 31)]
        with_stale = await uow.calendars.busy_for_mentor(MENTOR_ID, T0, T0 + 48 * H, T0 - 3 * busy.STALE_AFTER)
        assert with_stale == [interval(1, 2), interval(1.5, 3), interval(5, 6), interval(30, 31)]
        await uow.calendars.replace_busy(fresh, [interval(7, 8)])  # a new read replaces the intervals
        await uow.commit()
    async with uow:
        assert await uow.calendars.busy_for_mentor(MENTOR_ID, T0, T0 + 48 * H, T0) == [interval(7, 8)]
        await uow.calendars.remove(fresh.id or 0)
        await uow.commit()
    async with uow:
        assert await uow.calendars.busy_for_mentor(MENTOR_ID, T0, T0 + 48 * H, T0 - 3 * busy.STALE_AFTER) == [
            interval(1.5, 3)
        ]
        assert [c.id for c in await uow.calendars.list_for_mentor(MENTOR_ID)] == [stale.id]


async def test_calendars_due_for_a_read_longest_waiting_first(uow: SqlUnitOfWork) -> None:
    await seed(uow, user(MENTOR_ID))
    async with uow:
        ids = []
        for tried in (T0 - 2 * H, None, T0 - 5 * H, T0):
            calendar = await uow.calendars.add(BusyCalendar(MENTOR_ID, "https://example.com/a.ics", T0 - 9 * H))
            await uow.calendars.save(calendar.with_changes(last_attempt_at=tried))
            ids.append(calendar.id)
        await uow.commit()
    async with uow:
        assert await uow.calendars.due(T0 - H, 10) == [ids[1], ids[2], ids[0]]
        assert await uow.calendars.due(T0 - H, 2) == [ids[1], ids[2]]
        assert await uow.calendars.due(T0, 10) == [ids[1], ids[2], ids[0], ids[3]]


async def test_a_persons_bookings_for_the_feed_in_both_roles_and_every_status(uow: SqlUnitOfWork) -> None:
    o = await mentor_and_mentee(uow)
    third = 3001
    [theirs] = await seed(uow, user(third), offerings=(offering(mentor_id=third),))
    async with uow:
        old = await uow.bookings.add(booking(o, start=T0 - 31 * 24 * H))
        mine = [
            await uow.bookings.add(booking(o, start=T0 + k * 24 * H, status=status))
            for k, status in enumerate(BookingStatus)
        ]
        as_mentee = await uow.bookings.add(booking(theirs, mentee_id=MENTOR_ID, start=T0 + 2.5 * H))
        elsewhere = await uow.bookings.add(booking(theirs, mentee_id=MENTEE_ID, start=T0 + 3 * H))
        await uow.commit()
    async with uow:
        found = await uow.bookings.for_feed(MENTOR_ID, T0 - 30 * 24 * H, 100)
        assert [b.id for b in found] == [mine[0].id, as_mentee.id, *(b.id for b in mine[1:])]
        assert old.id not in {b.id for b in found} and elsewhere.id not in {b.id for b in found}
        assert [b.id for b in await uow.bookings.for_feed(MENTOR_ID, T0 - 30 * 24 * H, 2)] == [
            mine[0].id,
            as_mentee.id,
        ]
        assert {b.id for b in await uow.bookings.for_feed(MENTEE_ID, T0, 100)} == {
            *(b.id for b in mine),
            elsewhere.id,
        }
