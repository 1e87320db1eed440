"""The waitlist over HTTP, on SQLite and PostgreSQL: a mentee finds a date full, taps 🔔, is told when the time
frees (a cancellation), books it from the notice and leaves the list by booking; My bookings → Waitlist lists and
leaves; a stale Leave and someone else's entry are refused. A time freed twice goes to the next wave, not the first
one again; the mentor removing a day off or adding hours (on a date, or weekly), giving a group session more seats,
resuming a paused offering or removing a busy calendar tells the people waiting. And the
fan-out: a thousand people wait for one offering, one time frees, and exactly the first five are told, each once,
through the dispatcher at the send rate."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from domain.model import BookingStatus, User
from domain.usecases.my_bookings import cancel_as_mentee
from domain.waitlist import WAVE, WaitlistEntry
from handlers.callbacks import JoinWaitlist, LeaveWaitlist, ManageOffering
from sandbox.botapi import FakeBotApi
from storage.outbox import SqlOutboxRepository
from tests.e2e.conftest import BotRunner
from tests.e2e.flows import (
    BotData,
    ask_to_add_calendar,
    book_first_time,
    book_from_notice,
    clock,
    last_answer,
    mentor_and_mentees,
    open_manage,
    set_seats,
)
from tests.e2e.test_calendar_sync import calendar_server

S = BookingStatus
WEDNESDAY = date(2026, 11, 25)  # in London; its only free time is 6:00 (11:30 in Kolkata)
FIRST_START = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
THURSDAY = date(2026, 11, 26)
NOT_ALLOWED = "You are not allowed to do that."


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


class Data(BotData):
    async def entries(self, mentee_id: int) -> list[WaitlistEntry]:
        async with self.uow() as uow:
            return await uow.waitlist.for_mentee(mentee_id)


@pytest.fixture
async def data(runner: BotRunner) -> AsyncIterator[Data]:
    async with Data(runner) as found:
        yield found


async def test_a_full_date_a_freed_time_and_booking_it_from_the_notice(api: FakeBotApi, bot, data: Data) -> None:
    mentor, ravi, meera = api.user(101, "Asha"), api.user(202, "Ravi"), api.user(303, "Meera")
    stranger = api.user(404, "Kiran")
    await mentor_and_mentees(api, mentor, [ravi, meera, stranger])

    # Meera has Wednesday on her screen; Ravi books its only time first
    await meera.send("/book")
    await meera.wait_for("Open offerings")
    await meera.press("📅 Book 1")
    dates = await meera.wait_for("Choose a date.")
    await book_first_time(api, ravi)
    await meera.press(lambda label: label.startswith("Wed"), message=dates)
    full = await meera.wait_for("has no free times left")
    await meera.press("🔔 Tell me when a time frees up", message=full)
    joined = await meera.wait_for("I will message you when a time of Career Chat on Wed, Nov 25 frees up.")
    assert await last_answer(api) == "You are on the waitlist."
    await meera.press_data(full.message_id, JoinWaitlist(1, WEDNESDAY, False).pack())  # twice: still one entry
    await api.wait_idle()
    [entry] = await data.entries(meera.id)
    assert (entry.offering_id, entry.day, entry.zone) == (1, WEDNESDAY, "Europe/London")

    # someone else's entry cannot be left
    await stranger.press_data(None, LeaveWaitlist(entry.id or 0).pack())
    assert await last_answer(api) == "That is no longer available."
    assert len(await data.entries(meera.id)) == 1
    await stranger.press_data(None, JoinWaitlist(1, WEDNESDAY, False).pack())  # Kiran waits too, after Meera
    await stranger.wait_for("I will message you when a time of Career Chat on Wed, Nov 25 frees up.")

    # Ravi cancels: Meera is told, once, and books it from the notice
    async with data.uow() as uow:
        await cancel_as_mentee(uow, data.clock, ravi.id, 1, "Something came up")
        await uow.commit()
    await bot.bot_data["dispatcher"].run_until_idle()
    notice = await meera.wait_for("A time freed up")
    assert "Career Chat with Asha, Wed, Nov 25, 6:00\u202fAM" in notice.text
    assert notice.buttons == ["📅 Book it", "🔕 Leave the waitlist"]
    await book_from_notice(api, meera, notice)
    assert await data.entries(meera.id) == []  # booked the offering: no longer waiting
    # Kiran was told too, later: the time is taken now, and Kiran stays on the list
    late = await stranger.wait_for("A time freed up")
    await stranger.press("📅 Book it", message=late)
    await stranger.wait_for("This time was just taken. Here are the free times now.")
    assert await last_answer(api) == "This time was just taken. Please choose another time."
    assert len(await data.entries(stranger.id)) == 1
    assert joined.message_id != notice.message_id  # the notice was a new message (now the booking flow's)
    async with data.uow() as uow:
        assert isinstance(uow.outbox, SqlOutboxRepository)
        notices = [r for r in await uow.outbox.records() if r.kind == "waitlist"]
    assert [(r.recipient_id, r.status) for r in notices] == [(meera.id, "sent"), (stranger.id, "sent")]  # once


async def test_my_waitlist_lists_and_leaves(api: FakeBotApi, bot, data: Data) -> None:
    mentor, meera = api.user(101, "Asha"), api.user(303, "Meera")
    await mentor_and_mentees(api, mentor, [meera])
    await meera.send("/help")  # /help tells where the waitlist is
    shown = await meera.wait_for("Mentor Desk")
    assert "Tap “🔔 Tell me when a time frees up”" in shown.text
    assert "/mybookings → 🔔 Waitlist shows what you wait for." in shown.text
    await meera.press_data(None, JoinWaitlist(1, WEDNESDAY, True).pack())  # any date
    await meera.wait_for("I will message you when a time of Career Chat frees up.")
    await meera.press_data(None, JoinWaitlist(1, date(2026, 11, 1), False).pack())  # a past date
    assert await last_answer(api) == "That date has already passed. Choose today or a later date."
    await mentor.press_data(None, ManageOffering(1).pack())  # the mentor sees how many wait
    await mentor.wait_for("1 mentee is waiting for a time of this offering to free up.")
    await meera.send("/mybookings")
    await meera.wait_for("My bookings")
    await meera.press("🔔 Waitlist")
    listing = await meera.wait_for("Your waitlist")
    assert "1. Career Chat · any date" in listing.text
    assert listing.buttons == ["🔕 Leave 1. Career Chat", "◀ Back to my bookings"]
    await meera.press("🔕 Leave 1. Career Chat", message=listing)
    await meera.wait_for(lambda m: m.message_id == listing.message_id and "You are not waiting" in m.text)
    assert await last_answer(api) == "You left the waitlist."
    assert await data.entries(meera.id) == []
    await meera.press_data(listing.message_id, LeaveWaitlist(1).pack())  # stale
    assert await last_answer(api) == "That is no longer available."


async def notices_to(data: Data) -> list[int]:
    """Who the waitlist notices were written for, in order."""
    async with data.uow() as uow:
        assert isinstance(uow.outbox, SqlOutboxRepository)
        return [r.recipient_id for r in await uow.outbox.records() if r.kind == "waitlist"]


async def test_a_time_freed_twice_goes_to_the_next_wave(api: FakeBotApi, bot, data: Data) -> None:
    mentor, ravi = api.user(101, "Asha"), api.user(202, "Ravi")
    await mentor_and_mentees(api, mentor, [ravi])
    await book_first_time(api, ravi)
    people = [5000 + n for n in range(8)]
    chats = {person: api.user(person, f"Waiting {person}", started=True) for person in people}
    async with data.uow() as uow:
        for person in people:
            await uow.users.add(User(person, f"Waiting {person}", timezone="Europe/London"))
            await uow.waitlist.add(WaitlistEntry(1, person, WEDNESDAY, "Europe/London", data.clock.now()))
        await uow.commit()

    async with data.uow() as uow:  # Ravi cancels: the first five are told
        await cancel_as_mentee(uow, data.clock, ravi.id, 1, "Something came up")
        await uow.commit()
    await bot.bot_data["dispatcher"].run_until_idle()
    first = chats[people[0]]
    notice = await first.wait_for("A time freed up")
    assert await notices_to(data) == people[:WAVE]
    await book_from_notice(api, first, notice)  # the first one books it, then cancels it too
    async with data.uow() as uow:
        await cancel_as_mentee(uow, data.clock, people[0], 2, "Plans changed")
        await uow.commit()
    await bot.bot_data["dispatcher"].run_until_idle()
    await chats[people[5]].wait_for("A time freed up")
    await chats[people[7]].wait_for("A time freed up")
    # the same time, freed again: the next ones in order, not those told already (nor the one who freed it)
    assert await notices_to(data) == people[:WAVE] + people[WAVE:]
    await api.wait_idle()
    for person in people[1:]:
        said = [m for m in chats[person].bot_messages() if "A time freed up" in m.text]
        assert len(said) == 1, person  # once each


async def test_the_mentor_opening_hours_tells_the_people_waiting(api: FakeBotApi, bot, data: Data) -> None:
    mentor, ravi, meera, kiran = (api.user(i, name) for i, name in ((101, "Asha"), (202, "Ravi"), (303, "Meera"),
                                                                    (404, "Kiran")))  # fmt: skip
    await mentor_and_mentees(api, mentor, [ravi, meera, kiran])  # Kolkata, weekdays 9:00-12:00
    await mentor.send("/availability")
    await mentor.wait_for("Step 1 of 2")
    await mentor.press("📅 Date exceptions")
    await mentor.wait_for("Date exceptions")
    await mentor.press("🌴 Day off")
    await mentor.wait_for("Day off. Which date?")
    await mentor.press("Thu, Nov 26")
    listed = await mentor.wait_for("Saved: Thu, Nov 26 is a day off.")
    await kiran.press_data(None, JoinWaitlist(1, date(2026, 11, 26), False).pack())  # Kiran waits for Thursday
    await kiran.wait_for("I will message you when a time of Career Chat on Thu, Nov 26 frees up.")
    await book_first_time(api, ravi)  # Ravi takes Wednesday's only time; Meera waits for Wednesday
    await meera.press_data(None, JoinWaitlist(1, WEDNESDAY, False).pack())
    await meera.wait_for("I will message you when a time of Career Chat on Wed, Nov 25 frees up.")

    # the day off removed: Thursday's times open, and Kiran hears of the first one (once, not of each)
    await mentor.press("🗑 Remove Thu, Nov 26", message=listed)
    assert await last_answer(api) == "Removed: back to your weekly hours."
    told = await kiran.wait_for("A time freed up")
    assert "Career Chat with Asha, Thu, Nov 26, 3:30\u202fAM" in told.text  # 9:00 in Kolkata
    await api.wait_idle()
    assert await notices_to(data) == [kiran.id]

    # other hours on Wednesday (11:00-13:00 instead of 9:00-12:00): 12:30 opens (12:00 is within the buffer after
    # Ravi's 11:30); Meera books it from the notice
    await mentor.press("🕘 Other hours", message=listed)
    picker = await mentor.wait_for("Other hours on a date. Which date?")
    await mentor.press("Wed, Nov 25", message=picker)
    await mentor.wait_for("Type your hours for Wed, Nov 25")
    await mentor.send("11:00-13:00")
    await mentor.wait_for("Saved: other hours on Wed, Nov 25.")
    offered = await meera.wait_for("A time freed up")
    assert "Career Chat with Asha, Wed, Nov 25, 7:00\u202fAM" in offered.text  # 12:30 in Kolkata
    await api.wait_idle()
    assert await notices_to(data) == [kiran.id, meera.id]
    await book_from_notice(api, meera, offered)

    # Thursday's weekly hours get 14:00-15:00 too: Kiran hears of 14:00 (another time; 9:00 was told already)
    await mentor.send("/availability")
    week = await mentor.wait_for("Step 1 of 2")
    await mentor.press(lambda label: label.endswith("Thu"), message=week)
    await api.wait_idle()
    await mentor.press("Next: hours ▶", message=week)
    grid = await mentor.wait_for("Step 2 of 2")
    await mentor.press(clock("2:00 PM"), message=grid)
    await mentor.wait_for(lambda m: clock("✅ 2:00 PM") in m.buttons)
    await mentor.press("💾 Save", message=grid)
    await mentor.wait_for("Saved. Your weekly hours")
    later = await kiran.wait_for(lambda m: "A time freed up" in m.text and m.message_id != told.message_id)
    assert "Thu, Nov 26, 8:30\u202fAM" in later.text  # 14:00 in Kolkata
    await api.wait_idle()
    assert await notices_to(data) == [kiran.id, meera.id, kiran.id]  # Meera booked: no longer waiting


async def test_more_seats_and_an_offering_live_again_tell_the_people_waiting(
    api: FakeBotApi, bot, data: Data
) -> None:
    mentor, ravi, meera, kiran = (api.user(i, name) for i, name in ((101, "Asha"), (202, "Ravi"), (303, "Meera"),
                                                                    (404, "Kiran")))  # fmt: skip
    await mentor_and_mentees(api, mentor, [ravi, meera, kiran])  # Kolkata, weekdays 9:00-12:00
    await book_first_time(api, ravi)  # Ravi takes Wednesday's only time; Meera waits for Wednesday
    await meera.press_data(None, JoinWaitlist(1, WEDNESDAY, False).pack())
    await meera.wait_for("I will message you when a time of Career Chat on Wed, Nov 25 frees up.")

    # a second seat: Wednesday's session has room again; Meera is told and books it from the notice
    await set_seats(api, mentor, "2")
    offered = await meera.wait_for("A time freed up")
    assert "Career Chat with Asha, Wed, Nov 25, 6:00\u202fAM" in offered.text
    await api.wait_idle()
    assert await notices_to(data) == [meera.id]
    await book_from_notice(api, meera, offered)

    # Kiran waits for any date; pausing tells no one, resuming tells Kiran of its first free time: Thursday 9:00 in
    # Kolkata (Wednesday's session is full now)
    await kiran.press_data(None, JoinWaitlist(1, WEDNESDAY, True).pack())
    await kiran.wait_for("I will message you when a time of Career Chat frees up.")
    manage = await open_manage(mentor)  # (the notice of Meera's booking may arrive meanwhile)
    await mentor.press("⏸ Pause", message=manage)
    paused = await mentor.wait_for("is now paused")
    await api.wait_idle()
    assert await notices_to(data) == [meera.id]
    await mentor.press("▶️ Resume", message=paused)
    await mentor.wait_for("is live!")
    told = await kiran.wait_for("A time freed up")
    assert "Career Chat with Asha, Thu, Nov 26, 3:30\u202fAM" in told.text
    await api.wait_idle()
    assert await notices_to(data) == [meera.id, kiran.id]  # once each


async def test_a_busy_calendar_removed_tells_the_people_waiting(
    api: FakeBotApi, runner: BotRunner, data: Data
) -> None:
    mentor, meera = api.user(101, "Asha"), api.user(303, "Meera")
    async with calendar_server() as base, runner.running(calendar_allow_loopback=True):
        await mentor_and_mentees(api, mentor, [meera])
        await ask_to_add_calendar(mentor)
        await mentor.send(f"{base}/work.ics")  # a meeting on Thursday, 9:30-10:30 in Kolkata
        listed = await mentor.wait_for("Done: its busy times now block your free times.")
        await meera.press_data(None, JoinWaitlist(1, THURSDAY, False).pack())
        await meera.wait_for("I will message you when a time of Career Chat on Thu, Nov 26 frees up.")
        await api.wait_idle()
        assert await notices_to(data) == []

        # removed: Thursday 9:00 to 10:30 are free again; Meera hears of the first of them, once
        await mentor.press("🗑 Remove 1", message=listed)
        await mentor.wait_for(lambda m: m.message_id == listed.message_id and "work.ics" not in m.text)
        told = await meera.wait_for("A time freed up")
        assert "Career Chat with Asha, Thu, Nov 26, 3:30\u202fAM" in told.text  # 9:00 in Kolkata
        await api.wait_idle()
        assert await notices_to(data) == [meera.id]


WAITING = 1000


async def test_a_thousand_waiting_one_freed_time_tells_the_first_five_once(
    api: FakeBotApi, runner: BotRunner, data: Data, request: pytest.FixtureRequest
) -> None:
    mentor, ravi = api.user(101, "Asha"), api.user(202, "Ravi")
    async with runner.running(send_rate_per_second=30.0) as app:
        await mentor_and_mentees(api, mentor, [ravi])
        await book_first_time(api, ravi)
        people = [5000 + n for n in range(WAITING)]
        chats = {person: api.user(person, f"Waiting {person}", started=True) for person in people}
        async with data.uow() as uow:
            for person in people:
                await uow.users.add(User(person, f"Waiting {person}", timezone="Europe/London"))
                day = None if person % 2 else WEDNESDAY  # half for any date, half for that day
                await uow.waitlist.add(WaitlistEntry(1, person, day, "Europe/London", data.clock.now()))
            await uow.commit()

        started = time.perf_counter()
        async with data.uow() as uow:
            await cancel_as_mentee(uow, data.clock, ravi.id, 1, "Something came up")
            await uow.commit()
        cancel_seconds = time.perf_counter() - started
        started = time.perf_counter()
        await app.bot_data["dispatcher"].run_until_idle()
        await api.wait_idle()
        send_seconds = time.perf_counter() - started

        async with data.uow() as uow:
            assert isinstance(uow.outbox, SqlOutboxRepository)
            rows = [r for r in await uow.outbox.records() if r.kind == "waitlist"]
        assert sorted(r.recipient_id for r in rows) == people[:WAVE]  # the first five to join, no one else
        assert all(r.status == "sent" for r in rows)
        told = {
            person: [m for m in chat.bot_messages() if "A time freed up" in m.text]
            for person, chat in chats.items()
        }
        assert [person for person, said in told.items() if said] == people[:WAVE]  # exactly them
        assert all(len(told[person]) == 1 for person in people[:WAVE])  # once each
        request.node.user_properties.append(("cancel_seconds", round(cancel_seconds, 3)))
        print(
            f"\nWAITLIST {request.node.name}: cancel with {WAITING} waiting {cancel_seconds:.3f}s, "
            f"{len(rows)} notices sent in {send_seconds:.3f}s"
        )
