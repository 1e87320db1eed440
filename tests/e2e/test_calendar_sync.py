"""Calendar sync in the chat, against the real bot over HTTP:

* a mentor adds a busy calendar in /availability and the mentee's time picker no longer offers the times it
  blocks (the calendar is served by a local HTTP server; the bot runs with loopback allowed, the tests' setting);
* the feed address from /settings serves the person's sessions, from the bot's own HTTP server - in polling mode
  (as ``python -m bot`` runs it with PUBLIC_URL) and in webhook mode: a strictly valid calendar, ETag and
  Last-Modified with 304s, the next version after the mentor confirms (same UID and SEQUENCE as the .ics
  download), a new address that makes the old one 404, unknown tokens limited per client address.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
import icalendar
import pytest
from aiohttp import web

from bot.app import build_application
from bot.lifecycle import run_polling
from bot.web import create_runner, run_webhook
from domain.calendar import booking_uid
from sandbox.botapi import FakeBotApi, FakeUser
from tests.domain.test_calendar import strictly_valid
from tests.e2e.conftest import BotRunner
from tests.e2e.flows import (
    LONDON,
    ask_to_add_calendar,
    become_mentor_with_offering,
    clock,
    onboard,
    open_first_date,
)
from tests.e2e.webhooks import free_port, wait_until_healthy

# Thursday 26 November, 09:30-10:30 in Kolkata (04:00-05:00 UTC): a meeting in the mentor's other calendar
BUSY_CALENDAR = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Work//EN\r\nX-WR-TIMEZONE:Asia/Kolkata\r\n"
    b"BEGIN:VEVENT\r\nUID:meeting-1@example.com\r\nDTSTAMP:20261120T000000Z\r\n"
    b"DTSTART;TZID=Asia/Kolkata:20261126T093000\r\nDTEND;TZID=Asia/Kolkata:20261126T103000\r\n"
    b"SUMMARY:Planning\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
THURSDAY = "Thu, Nov 26"
# The mentee is in London: 09:00 in Kolkata is 03:30 on their clock
ALL_THURSDAY = [clock(t) for t in ("3:30 AM (9:00 AM)", "4:00 AM (9:30 AM)", "4:30 AM (10:00 AM)",
                                   "5:00 AM (10:30 AM)", "5:30 AM (11:00 AM)", "6:00 AM (11:30 AM)")]  # fmt: skip


@asynccontextmanager
async def calendar_server() -> AsyncIterator[str]:
    """``/work.ics`` (the calendar above) and ``/gone.ics`` (404), on loopback; yields the base URL."""

    async def work(request: web.Request) -> web.StreamResponse:
        return web.Response(body=BUSY_CALENDAR, content_type="text/calendar")

    async def gone(request: web.Request) -> web.StreamResponse:
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/work.ics", work)
    app.router.add_get("/gone.ics", gone)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def thursday_times(api: FakeBotApi, mentee: FakeUser) -> list[str]:
    await mentee.send("/book")
    await mentee.wait_for("Open offerings")
    await mentee.press("📅 Book 1")
    await mentee.wait_for("Choose a date.")
    await mentee.press(THURSDAY)
    times = await mentee.wait_for("Choose a time.")
    await api.wait_idle()
    return [label for label in times.buttons if re.match(r"\d", label)]


async def test_a_mentors_busy_calendar_blocks_the_times_the_mentee_can_pick(
    api: FakeBotApi, runner: BotRunner
) -> None:
    mentor = api.user(101, "Asha")
    mentee = api.user(202, "Ravi")
    async with calendar_server() as base, runner.running(calendar_allow_loopback=True):
        await become_mentor_with_offering(api, mentor)
        await onboard(api, mentee, LONDON)
        assert await thursday_times(api, mentee) == ALL_THURSDAY

        await mentor.send("/availability")
        await mentor.wait_for("Step 1 of 2")
        await mentor.press("📆 Busy calendars")
        empty = await mentor.wait_for("Busy calendars")
        assert "No calendars yet." in empty.text and "every 15 minutes" in empty.text
        await mentor.press("➕ Add a calendar")
        await mentor.wait_for("Secret address in iCal format")
        await mentor.send(f"{base}/work.ics")
        listed = await mentor.wait_for("Done: its busy times now block your free times.")
        assert "1. 127.0.0.1/…/work.ics" in listed.text and "✅ Read Tue, Nov 24" in listed.text
        assert listed.buttons == ["🗑 Remove 1", "➕ Add a calendar", "◀ Weekly hours"]

        # 09:30-10:30 plus the offering's 5-minute buffers: 09:00, 09:30, 10:00 and 10:30 are gone
        assert await thursday_times(api, mentee) == ALL_THURSDAY[-2:]

        # a calendar that cannot be read says why in plain words and blocks nothing
        await mentor.press("➕ Add a calendar", message=listed)
        await mentor.wait_for("Secret address in iCal format")
        await mentor.send(f"{base}/gone.ics")
        failing = await mentor.wait_for("It could not be read yet")
        assert "2. 127.0.0.1/…/gone.ics" in failing.text
        assert "there is no calendar at this address any more (HTTP 404)" in failing.text
        assert "never been read, so it blocks nothing yet" in failing.text

        # removing the first one frees the times again
        await mentor.press("🗑 Remove 1", message=failing)
        removed = await mentor.wait_for(lambda m: m.message_id == failing.message_id and "work.ics" not in m.text)
        assert "1. 127.0.0.1/…/gone.ics" in removed.text
        assert await thursday_times(api, mentee) == ALL_THURSDAY


async def test_a_mentor_cannot_remove_someone_elses_calendar(api: FakeBotApi, runner: BotRunner) -> None:
    mentor, other = api.user(101, "Asha"), api.user(303, "Meera")
    async with runner.running():
        await become_mentor_with_offering(api, mentor)
        await become_mentor_with_offering(api, other, "Mock interview")
        await ask_to_add_calendar(mentor)
        await mentor.send("ftp://calendar.example.com/x.ics")
        await mentor.wait_for("That is not a calendar address")
        await mentor.send("https://10.1.2.3/work.ics")  # still on the same step; refused, never connected to
        listed = await mentor.wait_for(lambda m: "🗑 Remove 1" in m.buttons)
        assert "leads to a private or local network" in listed.text
        data = listed.button("🗑 Remove 1").data
        await other.send("/availability")
        screen = await other.wait_for("Step 1 of 2")
        await other.press_data(screen, data)
        await api.wait_idle()
        assert api.callback_answers[-1].text == "You are not allowed to do that."
        assert "10.1.2.3/…/work.ics" in mentor.message(listed.message_id).text  # still there, unchanged


# --- the personal feed ----------------------------------------------------------------------------------------


FEED = re.compile(r"(http://127\.0\.0\.1:\d+/calendar/[A-Za-z0-9_-]{43}\.ics)")


@dataclass
class Served:
    base: str  # PUBLIC_URL: where the bot's HTTP server listens


@asynccontextmanager
async def polling_with_feeds(runner: BotRunner) -> AsyncIterator[Served]:
    """The bot as ``python -m bot`` runs it without WEBHOOK_URL but with PUBLIC_URL: long polling, plus the HTTP
    server for the feeds on PORT."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = runner.settings(public_url=base, port=port, webhook_listen="127.0.0.1")
    application = build_application(settings, clock=runner.clock, rate_limit=False)
    runner.api.attach(application)
    stop = asyncio.Event()
    serving = asyncio.create_task(run_polling(application, settings, stop, create_runner(application, settings)))
    try:
        await wait_until_healthy(base)
        yield Served(base)
        await runner.api.wait_idle()
    finally:
        stop.set()
        await asyncio.wait_for(serving, 30)
        runner.api.detach(application)


async def feed_address(user: FakeUser) -> str:
    await user.send("/settings")
    await user.wait_for("Settings")
    await user.press("📆 Calendar feed")
    screen = await user.wait_for("Calendar feed")
    found = FEED.search(screen.text)
    assert found is not None, screen.text
    return found.group(1)


@dataclass
class Got:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes


async def get(url: str, **headers: str) -> Got:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        return Got(response.status, response.headers.copy(), await response.read())


def only_event(body: bytes) -> icalendar.Event:
    [event] = strictly_valid(body).events
    return event


async def test_the_feed_address_from_settings_serves_the_persons_sessions(
    api: FakeBotApi, runner: BotRunner
) -> None:
    mentor = api.user(101, "Asha", username="asha")
    mentee = api.user(202, "Ravi", username="ravi")
    async with polling_with_feeds(runner):
        await become_mentor_with_offering(api, mentor)
        await onboard(api, mentee, LONDON)
        await open_first_date(api, mentee)
        first_time = mentee.last_keyboard_message().keyboard[0][0].text
        await mentee.press(first_time)
        await mentee.wait_for("Anything the mentor should know")
        await mentee.press("Skip ▶")
        await mentee.wait_for("Please check your booking")
        await mentee.press("✅ Confirm booking")
        await mentee.wait_for("Request sent")
        request = await mentor.wait_for("New booking request")

        await mentee.send("/help")
        assert "/settings → 📆 Calendar feed" in (await mentee.wait_for("Mentor Desk")).text  # feeds are served

        url = await feed_address(mentee)
        screen = mentee.last_keyboard_message()
        assert url.replace("http://", "webcal://") in screen.text
        assert "Google Calendar" in screen.text and "Apple Calendar" in screen.text and "Outlook" in screen.text
        assert screen.buttons == ["🔄 New address", "◀ Settings"]
        assert await feed_address(mentee) == url  # the same address every time

        got = await get(url)
        assert got.status == 200 and got.headers["Content-Type"].startswith("text/calendar")
        event = only_event(got.body)
        starts = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # Wednesday 11:30 in Kolkata
        assert event.decoded("DTSTART") == starts and event.decoded("DTEND") == starts + timedelta(minutes=30)
        assert (str(event["UID"]), event.decoded("SEQUENCE")) == (booking_uid(1), 0)
        assert str(event["STATUS"]) == "TENTATIVE"
        assert str(event["SUMMARY"]) == "Resume Review 1:1 with Asha"
        assert "You are the mentee." in str(event["DESCRIPTION"])
        etag, modified = got.headers["ETag"], got.headers["Last-Modified"]

        # unchanged: 304 to either validator, and the same bytes again
        for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}, {"If-None-Match": f"W/{etag}"}):
            not_modified = await get(url, **headers)
            assert (not_modified.status, not_modified.body) == (304, b""), headers
            assert not_modified.headers["ETag"] == etag
        assert (await get(url, **{"If-None-Match": '"something-else"'})).status == 200
        assert (await get(url)).body == got.body
        async with aiohttp.ClientSession() as http, http.head(url) as head:
            assert head.status == 200 and head.headers["ETag"] == etag

        # the mentor's own feed shows the same session from their side
        mentor_event = only_event((await get(await feed_address(mentor))).body)
        assert mentor_event["UID"] == event["UID"]
        assert str(mentor_event["SUMMARY"]) == "Resume Review 1:1 with Ravi"
        assert "You are the mentor." in str(mentor_event["DESCRIPTION"])

        # the mentor confirms: a new version, with a later SEQUENCE and Last-Modified
        await mentor.press("✅ Confirm", message=request)
        await mentee.wait_for("Your booking is confirmed")
        changed = await get(url, **{"If-None-Match": etag, "If-Modified-Since": modified})
        assert changed.status == 200 and changed.headers["ETag"] != etag
        assert changed.headers["Last-Modified"] != modified
        confirmed = only_event(changed.body)
        assert (str(confirmed["STATUS"]), confirmed.decoded("SEQUENCE")) == ("CONFIRMED", 1)
        assert (await get(url, **{"If-Modified-Since": modified})).status == 200

        # the .ics download of My bookings describes it with the same UID and SEQUENCE
        await mentee.send("/mybookings")
        await mentee.wait_for("My bookings")
        await mentee.press(lambda label: label.startswith("1."))
        await mentee.wait_for(lambda m: "📅 Add to calendar" in m.buttons)
        await mentee.press("📅 Add to calendar")
        sent = await mentee.wait_for(lambda m: m.document is not None)
        downloaded = only_event(api.file_content(sent.document.file_id))  # type: ignore[union-attr, arg-type]
        assert (downloaded["UID"], downloaded.decoded("SEQUENCE")) == (confirmed["UID"], 1)

        # a new address: the old one is gone
        await feed_address(mentee)
        await mentee.press("🔄 New address")
        await mentee.wait_for("The old one stops working at once")
        await mentee.press("🔄 Yes, make a new address")
        renewed = await mentee.wait_for("New address made.")
        new_url = FEED.search(renewed.text).group(1)  # type: ignore[union-attr]
        assert new_url != url
        assert (await get(url)).status == 404
        assert only_event((await get(new_url)).body)["UID"] == event["UID"]

        # unknown tokens: 404 and, past ten from one address, 429 for every feed from it for a while
        statuses = [(await get(f"{new_url[:-47]}{'x' * 43}.ics")).status for _ in range(9)]
        assert statuses == [404] * 9  # 10 misses with the old address above
        limited = await get(f"{new_url[:-47]}{'y' * 43}.ics")
        assert limited.status == 429 and int(limited.headers["Retry-After"]) > 0
        assert (await get(new_url)).status == 429


async def test_the_webhook_server_serves_the_feeds_too(api: FakeBotApi, runner: BotRunner) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = runner.settings(
        webhook_url="https://bot.example.test/tg/hook", public_url=base, port=port, webhook_listen="127.0.0.1"
    )
    application = build_application(settings, clock=runner.clock, rate_limit=False)
    api.attach(application)
    stop = asyncio.Event()
    serving = asyncio.create_task(run_webhook(application, settings, stop))
    try:
        await wait_until_healthy(base)
        await api.wait_until(lambda: api.webhook is not None, 5, lambda: "setWebhook was never called")
        api.webhook_target = base
        user = api.user(404, "Zoya")
        await onboard(api, user)
        url = await feed_address(user)
        got = await get(url)
        feed = strictly_valid(got.body)
        assert got.status == 200 and list(feed.walk("VEVENT")) == [] and "ETag" in got.headers
        assert (await get(url, **{"If-None-Match": got.headers["ETag"]})).status == 304
        await api.wait_idle()
    finally:
        stop.set()
        await asyncio.wait_for(serving, 30)
        api.detach(application)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param
