"""What people do in the chat, as reusable steps (labels as the bot shows them in English)."""

from __future__ import annotations

import re
from collections.abc import Callable

from sandbox.botapi import ChatMessage, FakeBotApi, FakeUser

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


async def set_seats(api: FakeBotApi, mentor: FakeUser, seats: str, was: str = "1") -> None:
    """/offerings → the first offering → ✏️ Edit → ✏️ Seats (it had ``was``) → type ``seats``."""
    await mentor.send("/offerings")
    await mentor.wait_for("Your offerings")
    await mentor.press("1. ⚙️ Manage")
    await mentor.wait_for("Buffers:")
    await mentor.press("✏️ Edit")
    await mentor.wait_for("tap what you want to change")
    await mentor.press("✏️ Seats")
    question = await mentor.wait_for("How many people may book one session?")
    assert f"Now: {was}" in question.text
    await mentor.send(seats)
    await mentor.wait_for("✅ Saved: Seats.")
    await api.wait_idle()
