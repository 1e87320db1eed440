"""The sandbox page in a real headless Chromium: a whole booking as a mentee, confirmed by the mentor in the other
chat, time moved to the reminder; typed text shown escaped; menus, files, a reply keyboard; a phone-sized window.

The booking test takes the README's screenshot to a temporary file; to replace ``docs/sandbox.png`` run
``SANDBOX_SCREENSHOT=docs/sandbox.png .venv/bin/python -m pytest tests/sandbox/test_browser.py -k booking``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from sandbox.runtime import Sandbox
from tests.sandbox.browser import Browser, require_chromium
from tests.sandbox.conftest import ANANYA, MAYA


@pytest.fixture
async def desktop() -> AsyncIterator[Browser]:
    require_chromium()
    browser = await Browser.open(1400, 900)
    try:
        yield browser
    finally:
        await browser.close()


@pytest.fixture
async def phone() -> AsyncIterator[Browser]:
    require_chromium()
    browser = await Browser.open(390, 844)
    try:
        yield browser
    finally:
        await browser.close()


def chat(person: int) -> str:
    return f'.pane[data-person="{person}"]'


def bubble(person: int) -> str:
    return f"{chat(person)} .msg.in .bubble"


# The button labelled ``label`` (or the first) of the bot's last message that contains ``text`` and has that
# button.
_BUTTON_UNDER = """
const [pane, text, label] = args;
const messages = [...document.querySelectorAll(pane + " .msg.in")].reverse();
for (const message of messages) {
  if (!message.querySelector(".bubble").textContent.includes(text)) continue;
  const buttons = [...message.querySelectorAll(".kb-button")];
  const button = label === null ? buttons[0] : buttons.find((b) => b.textContent.trim() === label);
  if (button) return button;
}
return null;
"""


async def click_in(browser: Browser, person: int, message_text: str, label: str | None = None) -> None:
    """Click the button ``label`` (default: the first) of the bot's last message with ``message_text`` that has it,
    once there is one."""
    what = f"button {label!r} under a message with {message_text!r}"
    await browser.click_found(_BUTTON_UNDER, chat(person), message_text, label, what=what)


async def test_a_whole_booking_in_the_browser_with_the_mentor_beside_and_the_reminder(
    sandbox: Sandbox, desktop: Browser, tmp_path: Path
) -> None:
    browser = desktop
    await browser.get(sandbox.api.url)
    await browser.wait('body[data-ready="yes"]')
    timing = await browser.js(
        """
        const navigation = performance.getEntriesByType("navigation")[0];
        return {
          ready: performance.getEntriesByName("sandbox-ready")[0].startTime,
          domContentLoaded: navigation.domContentLoadedEventEnd,
          load: navigation.loadEventEnd,
        };
        """
    )
    print(
        f"\nfirst page load: ready {timing['ready']:.0f} ms after navigation start "
        f"(DOMContentLoaded {timing['domContentLoaded']:.0f} ms, load {timing['load']:.0f} ms)"
    )
    assert timing["ready"] > 0, timing  # measured and printed (README, Sandbox), not a pass mark: load varies
    # the mentee and the mentor side by side, both chats empty
    await browser.wait(f"{chat(MAYA)} .pane-name", "Maya Iyer")
    await browser.wait(f"{chat(ANANYA)} .pane-name", "Ananya Rao")

    # Maya starts the bot; what she types is sent as text and shown as text
    await browser.click(f"{chat(MAYA)} .start-button", "START")
    await browser.wait(bubble(MAYA), "What would you like to do?")
    typed = "<img src=x onerror=\"document.title='pwned'\"> <b>not bold</b> & /book"
    await browser.type(f"{chat(MAYA)} textarea", typed + "\n")
    shown = await browser.wait(f"{chat(MAYA)} .msg.out .bubble", "<img src=x", read="innerText")
    assert shown.startswith(typed)
    assert await browser.js("return document.querySelectorAll('.messages img, .messages b').length") == 0
    assert await browser.js("return document.title") == "Mentor Desk · sandbox"

    # the "/" menu, then the offerings
    await browser.click(f"{chat(MAYA)} .menu-button")
    await browser.click(f"{chat(MAYA)} .command-menu .cmd", "/book")
    listing = await browser.wait(bubble(MAYA), "Open offerings", read="innerText")
    found = re.search(r"(\d+)\. Mock interview: system design", listing)
    assert found, listing
    number = found.group(1)
    await click_in(browser, MAYA, "Open offerings", f"📅 Book {number}")
    await click_in(browser, MAYA, "Choose a date.")
    await click_in(browser, MAYA, "Choose a time.")
    await click_in(browser, MAYA, "Anything the mentor should know", "Skip ▶")
    await click_in(browser, MAYA, "Please check your booking", "⭐ Confirm and pay ⭐\u00a01,500 in Stars")
    # the invoice, paid in the page: Telegram's Pay asks the bot's pre-checkout question, then the payment
    await browser.wait(f"{chat(MAYA)} .invoice-price", "⭐ 1,500")
    await click_in(browser, MAYA, "Test payment", "Pay ⭐ 1,500")
    await browser.wait(f"{chat(MAYA)} .toast", "Payment sent")
    await browser.wait(f"{chat(MAYA)} .msg.out .service", "You paid ⭐ 1,500.")
    await browser.wait(bubble(MAYA), "Payment received: ⭐\u00a01,500")

    # the request arrives live in Ananya's chat; she confirms it there
    await click_in(browser, ANANYA, "New booking request", "✅ Confirm")
    await browser.wait(bubble(ANANYA), "· confirmed")
    await browser.wait(bubble(MAYA), "Your booking is confirmed")

    # time travel to the reminder
    before = await browser.js("return document.getElementById('clock-time').textContent")
    await browser.click("[data-travel='next']")
    await browser.wait("#clock-note", "→ next reminder")
    await browser.wait(bubble(MAYA), "⏰ Reminder: Mock interview: system design")
    await browser.wait(bubble(ANANYA), "⏰ Reminder: Mock interview: system design")
    assert await browser.js("return document.getElementById('clock-time').textContent") != before
    shot = tmp_path / "sandbox.png"
    await browser.screenshot(shot)
    assert shot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("SANDBOX_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["SANDBOX_SCREENSHOT"])

    # a button's answer as a toast, and the calendar file as a document to download
    await browser.type(f"{chat(MAYA)} textarea", "/mybookings\n")
    await click_in(browser, MAYA, "My bookings")
    await click_in(browser, MAYA, "Status: confirmed", "📅 Add to calendar")
    await browser.wait(f"{chat(MAYA)} .toast", "Calendar file sent.")
    href = await browser.wait(f"{chat(MAYA)} a.document-name", ".ics", read="href")
    async with aiohttp.ClientSession() as session, session.get(href) as response:
        assert response.status == 200 and (await response.read()).startswith(b"BEGIN:VCALENDAR")

    # the mentor's menu has the mentor's commands
    await browser.click(f"{chat(ANANYA)} .menu-button")
    await browser.wait(f"{chat(ANANYA)} .command-menu .cmd", "/availability")


async def test_a_reply_keyboard_sends_its_label_and_an_alert_needs_ok(sandbox: Sandbox, desktop: Browser) -> None:
    browser = desktop
    await browser.get(f"{sandbox.api.url}/#chats={MAYA}")
    await browser.wait('body[data-ready="yes"]')
    send = f"{sandbox.api.base_url}{sandbox.api.token}/sendMessage"
    async with aiohttp.ClientSession() as session:  # as a bot sending these keyboards would
        for text, markup in (
            ("Shall we?", {"keyboard": [["Yes", "No"]], "one_time_keyboard": True}),
            ("An old screen", {"inline_keyboard": [[{"text": "Old button", "callback_data": "gone"}]]}),
        ):
            body = {"chat_id": MAYA, "text": text, "reply_markup": json.dumps(markup)}
            async with session.post(send, data=body) as response:
                assert response.status == 200, await response.text()
    await browser.click(f"{chat(MAYA)} .reply-button", "Yes")
    await browser.wait(f"{chat(MAYA)} .msg.out .bubble", "Yes")
    await browser.wait(f"{chat(MAYA)} .reply-keyboard[hidden]")  # one time: gone after use
    # the bot answers a button it does not know with an alert, which waits for OK
    await click_in(browser, MAYA, "An old screen", "Old button")
    await browser.wait("#alert-dialog[open] .alert-text", "This button is no longer valid.")
    await browser.click("#alert-dialog button", "OK")
    await browser.wait("#alert-dialog:not([open])")


async def test_a_phone_sized_window_shows_one_screen_at_a_time(sandbox: Sandbox, phone: Browser) -> None:
    browser = phone
    await browser.get(sandbox.api.url)
    await browser.wait('body[data-ready="yes"]')
    assert await browser.js("return document.querySelectorAll('.pane').length") == 0
    await browser.click(f'.person[data-person="{MAYA}"] .person-name', "Maya Iyer")
    await browser.wait("body.show-chat")
    await browser.click(f"{chat(MAYA)} .start-button", "START")
    await click_in(browser, MAYA, "What would you like to do?", "🔎 Book a session")
    await browser.wait(bubble(MAYA), "Open offerings")
    visible = await browser.js("return getComputedStyle(document.querySelector('.people')).display")
    assert visible == "none"
    await browser.click(f"{chat(MAYA)} .back")
    await browser.wait("body.show-list")
    assert await browser.js("return getComputedStyle(document.querySelector('.people')).display") != "none"
