"""Busy calendars end to end below the chat, on SQLite and PostgreSQL: exported calendars served by a local HTTP
server, read by ``bot.calendar_sync`` (the guarded fetch, the worker thread), stored, and blocking the mentor's
free times in the use cases - the time picker and the slot check inside the booking transaction. Also conditional
GET, failures kept for a day then dropped (the mentor told once), the refresh rounds, the limit of three, and the
feed's use cases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.calendar_fetch import CalendarFetcher
from bot.calendar_sync import CalendarSync
from chat.i18n import use_locale
from chat.outgoing import Outgoing
from domain import busy
from domain.busy import Failure, Problem
from domain.clock import FixedClock
from domain.errors import InvalidInput, NotAllowed, SlotTaken
from domain.model import Offering, TimeRange, WeeklyRule
from domain.notifications import Notification, NotificationKind
from domain.usecases import calendars
from domain.usecases.booking import BookingRequest, book_slot, check_slot, free_times
from domain.usecases.overrides import preview_free_time
from handlers.notify import prepare
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, mentor_and_mentee

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "calendars"
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # Tuesday, 11:30 in Kolkata
IST = ZoneInfo("Asia/Kolkata")
ALL_TIMES = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]


def local(moment: datetime) -> str:
    return moment.astimezone(IST).strftime("%d %H:%M")


def ist(day: date, clock: str) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=IST).astimezone(UTC)


@dataclass
class CalendarServer:
    """Serves ``/cal.ics``: a fixture with an ETag (304 to a matching If-None-Match), or a chosen failure."""

    body: bytes = b""
    status: int = 200
    etag: str = '"v1"'
    requests: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(dict(request.headers))
        if self.status != 200:
            return web.Response(status=self.status)
        if request.headers.get("If-None-Match") == self.etag:
            return web.Response(status=304, headers={"ETag": self.etag})
        return web.Response(body=self.body, content_type="text/calendar", headers={"ETag": self.etag})


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serving(routes: dict[str, Handler]) -> AsyncIterator[str]:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@dataclass
class World:
    offering: Offering
    clock: FixedClock
    sync: CalendarSync
    factory: Callable[[], SqlUnitOfWork]

    async def add(self, url: str) -> int:
        async with self.factory() as uow:
            added = await calendars.add_calendar(uow, self.clock, MENTOR_ID, url)
            await uow.commit()
        assert added.id is not None
        return added.id

    async def times(self, day: date) -> list[str]:
        async with self.factory() as uow:
            _ctx, found = await free_times(uow, self.clock, self.offering.id or 0, MENTEE_ID, day, "Asia/Kolkata")
        return [moment.astimezone(IST).strftime("%H:%M") for moment in found]

    async def calendar(self, calendar_id: int) -> busy.BusyCalendar:
        async with self.factory() as uow:
            found = await uow.calendars.get(calendar_id)
        assert found is not None
        return found

    async def told(self) -> list[str]:
        async with self.factory() as uow:
            records = await uow.outbox.records()
        return [r.key for r in records if r.kind == NotificationKind.CALENDAR_FAILING.value]


@pytest.fixture
async def world(uow: SqlUnitOfWork, engine: AsyncEngine) -> AsyncIterator[World]:
    """A mentor in Kolkata with weekday hours 09:00-12:00 and a 30-minute offering (5-minute buffers, 24 h
    notice); a mentee; a clock on Tuesday 24 November 2026; a calendar reader that may reach loopback."""
    offering = await mentor_and_mentee(uow, buffer_before_minutes=5, buffer_after_minutes=5)
    async with uow:
        await uow.availability.replace_weekly(
            MENTOR_ID, [WeeklyRule(weekday, TimeRange(9 * 60, 12 * 60)) for weekday in range(5)]
        )
        await uow.commit()
    clock = FixedClock(NOW)

    def factory() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine)

    sync = CalendarSync(factory, clock, CalendarFetcher(allow_loopback=True, timeout=2.0), timedelta(minutes=15))
    try:
        yield World(offering, clock, sync, factory)
    finally:
        await sync.stop()


@asynccontextmanager
async def calendar_server(fixture: str) -> AsyncIterator[CalendarServer]:
    server = CalendarServer(body=(FIXTURES / fixture).read_bytes())
    async with serving({"/cal.ics": server.handle}) as base:
        server.url = f"{base}/cal.ics"
        yield server


async def test_a_google_export_blocks_its_times_but_not_its_exceptions(world: World) -> None:
    """Team stand-up 10:00-10:30 every weekday, except Thursday 26th (EXDATE), Friday 27th (moved to 15:00, after
    hours) and Monday 30th (that instance cancelled)."""
    before = {day: await world.times(date(2026, 11, day)) for day in (26, 27, 30)}
    assert await world.times(date(2026, 12, 1)) == ALL_TIMES
    async with calendar_server("google_recurring.ics") as server:
        calendar_id = await world.add(server.url)
        read = await world.sync.refresh(calendar_id)
    assert read is not None and read.failure is None and read.last_success_at == NOW
    # With 5-minute buffers the stand-up takes 09:30 (ends 10:00 + 5), 10:00 and 10:30 (starts 10:25)
    assert await world.times(date(2026, 12, 1)) == ["09:00", "11:00", "11:30"]
    assert await world.times(date(2026, 12, 2)) == ["09:00", "11:00", "11:30"]
    assert {day: await world.times(date(2026, 11, day)) for day in (26, 27, 30)} == before
    assert before[26] == ALL_TIMES
    # the mentor's next 7 days leave the stand-up out too
    async with world.factory() as uow:
        preview = await preview_free_time(uow, world.clock, MENTOR_ID)
    wednesday = next(day for day in preview.days if day.day == date(2026, 11, 25))
    assert [(local(low), local(high)) for low, high in wednesday.free] == [
        ("25 09:00", "25 10:00"),
        ("25 10:30", "25 12:00"),
    ]
    # the slot check inside the booking transaction refuses a blocked time, and books a free one
    async with world.factory() as uow:
        with pytest.raises(SlotTaken):
            await check_slot(uow, world.clock, world.offering.id or 0, MENTEE_ID, ist(date(2026, 12, 1), "10:00"))
    for clock_time, allowed in (("10:30", False), ("11:00", True)):
        async with world.factory() as uow:
            request = BookingRequest(world.offering.id or 0, MENTEE_ID, ist(date(2026, 12, 1), clock_time))
            if allowed:
                view = await book_slot(uow, world.clock, request)
                await uow.commit()
                assert view.booking.id is not None
            else:
                with pytest.raises(SlotTaken):
                    await book_slot(uow, world.clock, request)


async def test_an_outlook_export_with_windows_zones_and_an_icloud_one_with_all_day_events(world: World) -> None:
    async with calendar_server("outlook_windows_zones.ics") as outlook, calendar_server("all_day.ics") as icloud:
        for url in (outlook.url, icloud.url):
            assert (await world.sync.refresh(await world.add(url))).failure is None  # type: ignore[union-attr]
    async with world.factory() as uow:
        found = await uow.calendars.busy_for_mentor(MENTOR_ID, NOW, NOW + timedelta(days=9), NOW)
    spans = [(local(i.start), local(i.end)) for i in found]
    assert ("25 11:00", "25 12:00") in spans  # 21:30 "Pacific Standard Time" on the 24th
    assert ("25 14:00", "25 15:00") in spans  # 14:00 "India Standard Time"
    assert ("01 05:30", "01 06:30") in spans  # 09:00 "Tokyo Standard Time"
    assert ("27 00:00", "29 00:00") in spans  # the trip, all day on 27 and 28 November in the mentor's zone
    assert ("02 00:00", "03 00:00") in spans  # a holiday without DTEND: one day
    # the only time past the notice that Wednesday, 11:30, is inside 11:00-12:00 (the Pacific time call)
    assert await world.times(date(2026, 11, 25)) == []
    assert await world.times(date(2026, 11, 27)) == []
    assert await world.times(date(2026, 12, 2)) == []
    assert await world.times(date(2026, 12, 3)) == ALL_TIMES  # the birthday is free time (TRANSP:TRANSPARENT)


async def test_an_unchanged_calendar_is_asked_for_conditionally_until_its_busy_times_run_short(
    world: World,
) -> None:
    async with calendar_server("google_recurring.ics") as server:
        calendar_id = await world.add(server.url)
        await world.sync.refresh(calendar_id)
        world.clock.advance(timedelta(minutes=15))
        again = await world.sync.refresh(calendar_id)
        assert again is not None and again.last_success_at == world.clock.now()
        assert "If-None-Match" not in server.requests[0] and server.requests[1]["If-None-Match"] == '"v1"'
        assert await world.times(date(2026, 12, 1)) == ["09:00", "11:00", "11:30"]  # kept from the first read
        # a week later what was kept no longer reaches the end of the booking window: read it whole again
        world.clock.advance(busy.KEEP_MARGIN)
        await world.sync.refresh(calendar_id)
        assert "If-None-Match" not in server.requests[2]
    kept = await world.calendar(calendar_id)
    assert kept.busy_until is not None and kept.busy_until > busy.needed_until(world.clock.now(), 30)


async def test_a_failing_calendar_blocks_for_a_day_then_stops_and_the_mentor_is_told_once(world: World) -> None:
    async with calendar_server("google_recurring.ics") as server:
        calendar_id = await world.add(server.url)
        await world.sync.refresh(calendar_id)
        server.status = 500
        world.clock.advance(timedelta(hours=20))
        failed = await world.sync.refresh(calendar_id)
        assert failed is not None and failed.failure == Failure(Problem.HTTP, 500)
        assert await world.times(date(2026, 12, 1)) == ["09:00", "11:00", "11:30"]  # last good busy times hold
        assert await world.told() == []
        world.clock.advance(timedelta(hours=5))  # 25 hours since the last good read
        await world.sync.refresh(calendar_id)
        assert await world.times(date(2026, 12, 1)) == ALL_TIMES  # no longer blocking
        first_notice = await world.told()
        assert len(first_notice) == 1
        async with world.factory() as uow:  # the message, as the dispatcher would prepare it
            message = await prepare(
                uow,
                Notification(NotificationKind.CALENDAR_FAILING, MENTOR_ID, world.clock.now()),
                world.clock,
                "UTC",
            )
        assert isinstance(message, Outgoing) and message.chat_id == MENTOR_ID
        assert "stopped blocking" in message.text and "127.0.0.1/…/cal.ics" in message.text
        assert "the server answered with an error (HTTP 500)" in message.text
        world.clock.advance(timedelta(hours=1))
        await world.sync.refresh(calendar_id)
        assert await world.told() == first_notice  # once
        # it works again: blocking, and a later failure is a new one
        server.status = 200
        await world.sync.refresh(calendar_id)
        assert await world.times(date(2026, 12, 1)) == ["09:00", "11:00", "11:30"]
        async with world.factory() as uow:
            assert (
                await prepare(
                    uow, Notification(NotificationKind.CALENDAR_FAILING, MENTOR_ID, NOW), world.clock, "UTC"
                )
                is None
            )  # a message still waiting finds nothing to say
        server.status = 404
        await world.sync.refresh(calendar_id)
        world.clock.advance(timedelta(days=1, minutes=1))
        await world.sync.refresh(calendar_id)
        assert len(await world.told()) == 2


async def big(request: web.Request) -> web.StreamResponse:
    return web.Response(body=b"BEGIN:VCALENDAR\r\n" + b"X" * (5 * 1024 * 1024 + 1), content_type="text/calendar")


async def test_oversized_redirected_to_private_and_hanging_calendars_are_failures(world: World) -> None:
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(body=b"")

    async def to_metadata(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    world.sync.fetcher.timeout = 0.5
    routes: dict[str, Handler] = {"/big.ics": big, "/hang.ics": hang, "/redirect.ics": to_metadata}
    async with serving(routes) as base:
        try:
            found = {}
            for name in ("big", "redirect", "hang"):
                read = await world.sync.refresh(await world.add(f"{base}/{name}.ics"))
                assert read is not None
                found[name] = read.failure
        finally:
            release.set()
    assert found == {
        "big": Failure(Problem.TOO_LARGE),
        "redirect": Failure(Problem.ADDRESS),
        "hang": Failure(Problem.TIMEOUT),
    }
    assert await world.times(date(2026, 12, 1)) == ALL_TIMES


async def test_rounds_read_what_is_due_on_the_leader_only(world: World) -> None:
    async with calendar_server("google_recurring.ics") as server:
        ids = [await world.add(server.url) for _ in range(2)]
        world.sync.may_run = lambda: False  # another process leads
        assert await world.sync.refresh_due() == 0 and server.requests == []
        world.sync.may_run = lambda: True
        assert await world.sync.refresh_due() == 2 and len(server.requests) == 2
        assert await world.sync.refresh_due() == 0  # just read
        world.clock.advance(world.sync.every / 2)
        assert await world.sync.refresh_due() == 2
        for calendar_id in ids:
            assert (await world.calendar(calendar_id)).last_success_at == world.clock.now()


async def test_at_most_three_calendars_even_when_added_at_once(world: World) -> None:
    async def add(n: int) -> bool:
        try:
            await world.add(f"https://calendar.example.com/{n}.ics")
        except InvalidInput:
            return False
        return True

    added = await asyncio.gather(*(add(n) for n in range(6)))
    assert sum(added) == busy.MAX_CALENDARS
    async with world.factory() as uow:
        assert len(await uow.calendars.list_for_mentor(MENTOR_ID)) == busy.MAX_CALENDARS


async def test_only_its_mentor_may_remove_a_calendar(world: World) -> None:
    calendar_id = await world.add("webcal://p01-caldav.icloud.com/published/2/abc")
    assert (await world.calendar(calendar_id)).url == "https://p01-caldav.icloud.com/published/2/abc"
    async with world.factory() as uow:
        with pytest.raises(NotAllowed):
            await calendars.remove_calendar(uow, world.clock, MENTEE_ID, calendar_id)
    async with world.factory() as uow:
        left = await calendars.remove_calendar(uow, world.clock, MENTOR_ID, calendar_id)
        await uow.commit()
    assert left.calendars == []


async def test_a_feed_is_opened_by_its_token_only_and_versioned_in_whole_seconds(world: World) -> None:
    async with world.factory() as uow:
        link = await calendars.feed_link(uow, MENTOR_ID)
        assert await calendars.feed_link(uow, MENTOR_ID) == link  # made once
        await uow.commit()
    async with world.factory() as uow:
        for token in ("", "x" * 43, link.token[:-1] + ("A" if link.token[-1] != "A" else "B"), link.token_digest):
            assert await calendars.open_feed(uow, world.clock, token) is None
        feed = await calendars.open_feed(uow, world.clock, link.token)
        assert feed is not None and feed.owner.id == MENTOR_ID and feed.sessions == []
        world.clock.advance(timedelta(microseconds=300))
        first = await calendars.record_feed_version(uow, world.clock, feed, "a" * 64)
        await uow.commit()
    assert first == (NOW + timedelta(microseconds=300)).replace(microsecond=0)
    async with world.factory() as uow:
        feed = await calendars.open_feed(uow, world.clock, link.token)
        assert feed is not None
        assert await calendars.record_feed_version(uow, world.clock, feed, "a" * 64) == first  # unchanged
        second = await calendars.record_feed_version(uow, world.clock, feed, "b" * 64)  # same second
        await uow.commit()
    assert second == first + timedelta(seconds=1)
    async with world.factory() as uow:
        new = await calendars.reset_feed(uow, MENTOR_ID)
        await uow.commit()
    async with world.factory() as uow:
        assert await calendars.open_feed(uow, world.clock, link.token) is None
        assert await calendars.open_feed(uow, world.clock, new.token) is not None


def test_the_failure_words_are_in_every_language() -> None:
    from handlers.busy_calendars import failure_words

    for locale in ("en", "hi", "ru"):
        with use_locale(locale):
            words = {failure_words(Failure(p, 404 if p == Problem.HTTP else None)) for p in Problem}
        assert len(words) == len(Problem)
