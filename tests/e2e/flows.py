"""What people do in the chat, as reusable steps (labels as the bot shows them in English), and the bot's database
beside it (``BotData``) for what a test does as the mentor would, or checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Self

from telegram.ext import Application

from domain.clock import FixedClock
from domain.model import Booking, BookingStatus
from sandbox.botapi import CallbackAnswer, ChatMessage, FakeBotApi, FakeUser
from storage.engine import create_engine
from storage.uow import SqlUnitOfWork
from tests.e2e.conftest import BotRunner

NNBSP = "\u202f"  # CLDR puts a narrow no-break space before AM/PM


def clock(text: str) -> str:
    """``"9:00 AM"`` as Babel writes it for English (``9:00\u202fAM``)."""
    return text.replace(" AM", NNBSP + "AM").replace(" PM", NNBSP + "PM")


def ending_with(suffix: str) -> Callable[[str], bool]:
    """A button label test: the label ends with ``suffix`` (e.g. a day's name after its ✅ or ☐)."""
    return lambda label: label.endswith(suffix)


def with_button(label: str) -> Callable[[ChatMessage], bool]:
    """A ``wait_for`` test: the message has a button labelled ``label``."""
    return lambda message: label in message.buttons


def booking_number(text: str) -> int:
    """The number in "Booking #12" of a message's text; fails (with the text) if there is none."""
    found = re.search(r"Booking #(\d+)", text)
    assert found is not None, f"no booking number in {text!r}"
    return int(found.group(1))


KOLKATA = "Kolkata (UTC+5:30)"
LONDON = "London (UTC+0)"


async def onboard(api: FakeBotApi, user: FakeUser, zone_button: str = KOLKATA) -> None:
    await user.send("/start")
    await user.wait_for("Which time zone are you in?")
    await user.press(zone_button)
    await user.wait_for("What would you like to do?")
    await api.wait_idle()


async def set_hours(api: FakeBotApi, mentor: FakeUser, days: list[str], hours: list[str]) -> None:
    """/availability: toggle ``days`` (e.g. "Mon") and ``hours`` (e.g. "9:00 AM"), then save."""
    await mentor.send("/availability")
    await mentor.wait_for("Step 1 of 2")
    for day in days:
        await mentor.press(ending_with(day))
        await api.wait_idle()
    await mentor.press("Next: hours ▶")
    await mentor.wait_for("Step 2 of 2")
    for hour in hours:
        await mentor.press(clock(hour))
        await api.wait_idle()
    await mentor.press("💾 Save")
    await mentor.wait_for("Saved. Your weekly hours")
    await api.wait_idle()


async def create_offering(api: FakeBotApi, mentor: FakeUser, title: str, price: str, minutes: int) -> None:
    """/newoffering → title → price → duration → Publish & Go Live."""
    await mentor.send("/newoffering")
    await mentor.wait_for("step 1 of 3")
    await mentor.send(title)
    await mentor.wait_for("Step 2 of 3")
    if price == "Free":
        await mentor.press("Free")
    else:
        await mentor.send(price)
    await mentor.wait_for("Step 3 of 3")
    await mentor.press(f"{minutes} min")
    await mentor.wait_for("Created as a draft")
    await mentor.press("🚀 Publish & Go Live")
    await mentor.wait_for("is live!")
    await api.wait_idle()


async def become_mentor_with_offering(
    api: FakeBotApi, mentor: FakeUser, title: str = "Resume Review 1:1", price: str = "500", minutes: int = 30
) -> None:
    await onboard(api, mentor, KOLKATA)
    await set_hours(api, mentor, ["Mon", "Tue", "Wed", "Thu", "Fri"], ["9:00 AM", "10:00 AM", "11:00 AM"])
    await create_offering(api, mentor, title, price, minutes)


async def open_first_date(api: FakeBotApi, mentee: FakeUser, offering_button: str = "📅 Book 1") -> None:
    await mentee.send("/book")
    await mentee.wait_for("Open offerings")
    await mentee.press(offering_button)
    await mentee.wait_for("Choose a date.")
    first_date = mentee.last_keyboard_message().keyboard[0][0].text
    await mentee.press(first_date)
    await mentee.wait_for("Choose a time.")
    await api.wait_idle()


async def pick_time_and_skip_notes(api: FakeBotApi, mentee: FakeUser, time_label: str | None = None) -> str:
    """Press ``time_label`` (default: the first time offered) and Skip; returns the label pressed."""
    label = time_label or mentee.last_keyboard_message().keyboard[0][0].text
    await mentee.press(label)
    await mentee.wait_for("Anything the mentor should know")
    await mentee.press("Skip ▶")
    await mentee.wait_for("Please check your booking")
    await api.wait_idle()
    return label


async def open_manage(mentor: FakeUser) -> ChatMessage:
    """/offerings → the first offering's ⚙️ Manage: its screen. Buttons are pressed on the screens they are on, so a
    notice that arrives meanwhile (a new booking's) is not pressed instead."""
    await mentor.send("/offerings")
    listing = await mentor.wait_for("Your offerings")
    await mentor.press("1. ⚙️ Manage", message=listing)
    return await mentor.wait_for("Buffers:")


async def set_seats(api: FakeBotApi, mentor: FakeUser, seats: str, was: str = "1", press: bool = False) -> None:
    """/offerings → the first offering → ✏️ Edit → ✏️ Seats (it had ``was``) → type ``seats`` (``press``: its
    button)."""
    manage = await open_manage(mentor)
    await mentor.press("✏️ Edit", message=manage)
    fields = await mentor.wait_for("tap what you want to change")
    await mentor.press("✏️ Seats", message=fields)
    question = await mentor.wait_for("How many people may book one session?")
    assert f"Now: {was}" in question.text
    if press:
        await mentor.press(seats, message=question)
    else:
        await mentor.send(seats)
    await mentor.wait_for("✅ Saved: Seats.")
    await api.wait_idle()


async def mentor_and_mentees(
    api: FakeBotApi,
    mentor: FakeUser,
    mentees: Sequence[FakeUser],
    title: str = "Career Chat",
    price: str = "Free",
    zone: str = LONDON,
) -> None:
    """The mentor's live 30-minute offering (Kolkata, weekdays 9:00-12:00), and the ``mentees`` started in
    ``zone``."""
    await become_mentor_with_offering(api, mentor, title, price, 30)
    for mentee in mentees:
        await onboard(api, mentee, zone)


async def open_my_booking(mentee: FakeUser, position: int, shows: str) -> tuple[ChatMessage, ChatMessage]:
    """/mybookings → the booking at ``position`` on the list: (the list's message, the card that ``shows``)."""
    await mentee.send("/mybookings")
    listing = await mentee.wait_for("My bookings")
    await mentee.press(lambda label: label.startswith(f"{position}. "), message=listing)
    card = await mentee.wait_for(lambda m: m.message_id == listing.message_id and shows in m.text)
    return listing, card


async def ask_to_add_calendar(mentor: FakeUser) -> None:
    """/availability → 📆 Busy calendars → ➕ Add a calendar: the bot asks for the address."""
    await mentor.send("/availability")
    await mentor.wait_for("Step 1 of 2")
    await mentor.press("📆 Busy calendars")
    await mentor.wait_for("Busy calendars")
    await mentor.press("➕ Add a calendar")
    await mentor.wait_for("Secret address in iCal format")


async def answer_to(api: FakeBotApi, query: str) -> CallbackAnswer:
    """The one answer the bot gave to the press ``query``, once it is idle."""
    await api.wait_idle()
    [answer] = [a for a in api.callback_answers if a.query_id == query]
    return answer


async def alert_on(api: FakeBotApi, who: FakeUser, data: str) -> str | None:
    """``who`` presses a button carrying ``data``: the text of the alert the press was answered with."""
    answer = await answer_to(api, await who.press_data(None, data))
    assert answer.show_alert
    return answer.text


async def last_answer(api: FakeBotApi) -> str:
    """The text of the last answer to a button press, once the bot is idle."""
    await api.wait_idle()
    return api.callback_answers[-1].text


async def confirm_booking(api: FakeBotApi, mentee: FakeUser, done: str = "Booked!") -> ChatMessage:
    """On the summary: ✅ Confirm booking, and the answer ``done`` (a request: "Request sent")."""
    await mentee.press("✅ Confirm booking")
    answer = await mentee.wait_for(done)
    await api.wait_idle()
    return answer


async def book_first_time(api: FakeBotApi, mentee: FakeUser, done: str = "Booked!") -> ChatMessage:
    """/book → the first offering's first date and time → Skip → Confirm: the answer ``done``."""
    await open_first_date(api, mentee)
    await pick_time_and_skip_notes(api, mentee)
    return await confirm_booking(api, mentee, done)


async def book_from_notice(api: FakeBotApi, mentee: FakeUser, notice: ChatMessage) -> None:
    """A waitlist notice's 📅 Book it → Skip → Confirm: booked."""
    await mentee.press("📅 Book it", message=notice)
    await mentee.wait_for("Anything the mentor should know")
    await mentee.press("Skip ▶")
    await mentee.wait_for("Please check your booking")
    await confirm_booking(api, mentee)


# --- group sessions and weekly series: Thursday 26 November (weekday hours; "now" is Tuesday) --------------------

THURSDAY = "Thu, Nov 26"


async def open_times(api: FakeBotApi, mentee: FakeUser, words: str, day: str = THURSDAY) -> ChatMessage:
    """``/book <words>`` → the one offering found → ``day`` → its times."""
    await mentee.send(f"/book {words}")
    await mentee.wait_for("Open offerings")
    await mentee.press("📅 Book 1")
    await mentee.wait_for("Choose a date.")
    await mentee.press(day)
    times = await mentee.wait_for("Choose a time.")
    await api.wait_idle()
    return times


async def book_time(api: FakeBotApi, mentee: FakeUser, label: str) -> str:
    """Press ``label``, Skip, check the summary, Confirm; returns the summary's text."""
    await mentee.press(label)
    await mentee.wait_for("Anything the mentor should know")
    await mentee.press("Skip ▶")
    summary = (await mentee.wait_for("Please check your booking")).text
    await confirm_booking(api, mentee, "Booked! Your session is confirmed.")
    return summary


async def book_seats(api: FakeBotApi, mentees: Sequence[FakeUser], seats: int, words: str = "cohort") -> None:
    """Each of ``mentees`` in turn books Thursday 9:00 (Kolkata) of the group offering found by ``words``, which
    has ``seats`` seats, all free at first ("9:00 AM · 3 left", then 2 ...)."""
    for taken, mentee in enumerate(mentees):
        await open_times(api, mentee, words)
        await book_time(api, mentee, clock(f"9:00 AM · {seats - taken} left"))


async def repeat_four_weeks(api: FakeBotApi, mentee: FakeUser) -> ChatMessage:
    """Thursday 26 Nov 9:00 (Kolkata) of the "mentorship" offering → Skip → 🔁 Repeat weekly → 4 weeks: the
    plan."""
    await open_times(api, mentee, "mentorship")
    await mentee.press(clock("9:00 AM"))
    await mentee.wait_for("Anything the mentor should know")
    await mentee.press("Skip ▶")
    summary = await mentee.wait_for("Please check your booking")
    assert "🔁 Repeat weekly" in summary.buttons
    await mentee.press("🔁 Repeat weekly")
    picker = await mentee.wait_for("How many weeks in all?")
    # the 30-day window holds Thursdays 26 Nov to 24 Dec: five weeks
    assert picker.buttons == ["2", "3", "4", "5", "◀ Back"]
    await mentee.press("4")
    plan = await mentee.wait_for(lambda m: "weeks:" in (m.text or "") and "Week 4" in (m.text or ""))
    await api.wait_idle()
    return plan


async def book_four_weeks(
    api: FakeBotApi, mentor: FakeUser, mentee: FakeUser, price: str, done: str
) -> ChatMessage:
    """The mentor's "Weekly mentorship" (``price``, 60 minutes) and the mentee (Kolkata), who books Thursdays 9:00
    for four weeks as one series; returns the mentee's answer ``done``."""
    await become_mentor_with_offering(api, mentor, "Weekly mentorship", price, 60)
    await onboard(api, mentee)
    plan = await repeat_four_weeks(api, mentee)
    await mentee.press("✅ Book 4 weekly sessions", message=plan)
    return await mentee.wait_for(done)


async def series_of(bot: Application, mentee_id: int) -> list[Booking]:
    """The mentee's bookings (any status), earliest first."""
    async with bot.bot_data["services"].uow_factory() as uow:
        booked = await uow.bookings.list_for_mentee(mentee_id, list(BookingStatus), 50)
    return sorted(booked, key=lambda b: b.scheduled_at)


# --- the bot's database beside the chat -----------------------------------------------------------------------


class BotData:
    """The bot's database through an engine of its own, on the bot's clock: a test's module adds what it does
    as the mentor would (through the real use cases) and what it checks. ``async with``: the engine is let go
    after."""

    def __init__(self, runner: BotRunner) -> None:
        self.engine = create_engine(runner.database_url)
        self.clock: FixedClock = runner.clock

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.engine.dispose()

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

    async def get(self, booking_id: int) -> Booking:
        async with self.uow() as uow:
            found = await uow.bookings.get(booking_id)
        assert found is not None
        return found
