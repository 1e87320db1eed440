"""The web chat's server side over HTTP: the page, acting as people, live events, people, time travel, guards."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import aiohttp
from icalendar import Calendar

from sandbox import store
from sandbox.runtime import Sandbox
from tests.sandbox.conftest import ANANYA, ARJUN, MAYA, NOW, RAHUL, EventStream, Page

STATIC = Path(__file__).resolve().parents[2] / "sandbox" / "static"


async def book_paid_session(page: Page, events: EventStream, pay_with: str = "⭐ Confirm and pay") -> dict:
    """Maya books the first time of Ananya's paid mock interview and pays it in Stars with the invoice's test Pay;
    Ananya confirms it. Returns the invoice's message."""
    await page.send(MAYA, "/book")
    listing = await events.bot_message(MAYA, "Open offerings")
    found = re.search(r"(\d+)\. Mock interview: system design", listing["text"])
    assert found, listing["text"]
    number = found.group(1)
    await page.press(MAYA, f"📅 Book {number}")
    await events.bot_message(MAYA, "Choose a date.")
    await page.press(MAYA, (await page.buttons(MAYA))[0])
    await events.bot_message(MAYA, "Choose a time.")
    await page.press(MAYA, (await page.buttons(MAYA))[0])
    await events.bot_message(MAYA, "Anything the mentor should know")
    await page.press(MAYA, "Skip ▶")
    await events.bot_message(MAYA, "Please check your booking")
    labels = await page.buttons(MAYA)
    assert [label for label in labels if "Confirm and pay" in label] == [
        "⭐ Confirm and pay ⭐\u00a01,500 in Stars", "📲 Confirm and pay ₹1,500 by UPI",
    ]  # the sandbox pays in Stars and by UPI  # fmt: skip
    await page.press(MAYA, next(label for label in labels if label.startswith(pay_with)))
    sent = await events.next(lambda e: e["type"] == "message" and e["message"].get("kind") == "invoice")
    invoice = sent["message"]
    assert invoice["invoice"]["price"] == "⭐ 1,500"
    assert invoice["invoice"]["title"] == "Mock interview: system design"
    assert [[b["kind"] for b in row] for row in invoice["inline_keyboard"]] == [["pay"]]
    assert await page.post(f"/api/chats/{MAYA}/pay", {"message_id": invoice["id"]}) == {"ok": True, "error": None}
    await events.bot_message(MAYA, "Payment received")
    paid = [m for m in (await page.chat(MAYA))["messages"] if m["kind"] == "payment"]
    assert [m["text"] for m in paid] == ["⭐ 1,500"] and not paid[0]["from_bot"]
    await events.bot_message(ANANYA, "New booking request")
    await page.press(ANANYA, "✅ Confirm")
    await events.bot_message(MAYA, "Your booking is confirmed")
    return invoice


async def test_the_page_and_its_files_come_from_the_package_and_fetch_nothing_else(page: Page) -> None:
    async with page.session.get(page.url + "/") as response:
        html = await response.text()
        assert response.status == 200 and response.content_type == "text/html"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert '<script src="/static/app.js"' in html
    for name, kind in (("app.js", "text/javascript"), ("app.css", "text/css"), ("icon.svg", "image/svg+xml")):
        async with page.session.get(f"{page.url}/static/{name}") as response:
            assert response.status == 200 and response.content_type == kind
            assert await response.read() == (STATIC / name).read_bytes()
    async with page.session.get(page.url + "/static/..%2Fweb.py") as response:
        assert response.status == 404
    for path in STATIC.iterdir():  # no CDN, no web fonts: only this server is ever asked
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']?(https?:)?//|@import|url\(["']?(https?:)?//""", text), path.name


async def test_the_demo_has_mentors_in_several_zones_and_languages_with_free_and_paid_offerings(
    page: Page, events: EventStream
) -> None:
    state = await page.get("/api/state")
    mentors = [p for p in state["people"] if p["mentor"]]
    assert len(mentors) >= 3
    assert len({m["zone"] for m in mentors}) >= 3 and len({m["language"] for m in mentors}) >= 2
    assert {p["id"] for p in state["people"] if not p["mentor"]} >= {MAYA}
    await page.send(MAYA, "/book")
    listing = await events.bot_message(MAYA, "Open offerings")
    assert "Free ·" in listing["text"] and "₹1,500 ·" in listing["text"]
    assert "★ 5.0 (1 rating)" in listing["text"]  # reviews from past sessions


async def test_sending_text_shows_it_as_typed_and_the_bot_answers_live(page: Page, events: EventStream) -> None:
    typed = '<b>not bold</b> & <script>alert("x")</script>'
    await page.send(MAYA, typed)
    mine = await events.next(lambda e: e["type"] == "message" and e["event"] == "user")
    assert mine["message"]["text"] == typed and mine["message"]["entities"] == []  # plain text, never markup
    await page.send(MAYA, "/start")
    command = await events.next(lambda e: e["type"] == "message" and e["event"] == "user")
    assert command["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    await events.bot_message(MAYA, "What would you like to do?")
    chat = await page.chat(MAYA)
    assert [m["text"] for m in chat["messages"] if not m["from_bot"]] == [typed, "/start"]
    assert {"command": "book", "description": "Browse offerings and book a session"} in chat["commands"]
    await page.post(f"/api/chats/{MAYA}/messages", {"text": "   "}, status=400)
    await page.post(f"/api/chats/{MAYA}/messages", {"text": "x" * 4097}, status=400)
    await page.post("/api/chats/999/messages", {"text": "hi"}, status=404)


async def test_a_press_is_answered_and_the_message_edited_in_place(
    sandbox: Sandbox, page: Page, events: EventStream
) -> None:
    await page.send(MAYA, "/start")
    menu = await events.bot_message(MAYA, "What would you like to do?")
    query_id = await page.press(MAYA, "🔎 Book a session")
    edited = await events.next(lambda e: e["type"] == "message" and e["event"] == "edited")
    assert edited["message"]["id"] == menu["id"] and "Open offerings" in edited["message"]["text"]
    await events.next(lambda e: e["type"] == "answer" and e["query_id"] == query_id and e["chat_id"] == MAYA)
    assert sandbox.api.callback_queries[query_id].answered
    # a button that is not on the message (any more) is refused, as Telegram does
    await page.post(f"/api/chats/{MAYA}/press", {"message_id": menu["id"], "data": "m:book"}, status=400)
    await page.post(f"/api/chats/{MAYA}/press", {"message_id": 999, "data": "m:book"}, status=400)


async def test_the_mentor_sees_the_mentor_menu_in_their_language(sandbox: Sandbox, page: Page) -> None:
    ananya = await page.chat(ANANYA)
    assert "availability" in [c["command"] for c in ananya["commands"]]
    rahul = await page.chat(RAHUL)  # a Hindi-speaking mentor
    assert "availability" in [c["command"] for c in rahul["commands"]]
    assert rahul["commands"] != ananya["commands"]  # the same commands, described in Hindi
    maya = await page.chat(MAYA)
    for _ in range(2):  # looking at a chat changes nothing about the person
        arjun = await page.chat(ARJUN)  # a Hindi-speaking mentee: the default menu in Hindi
        assert [c["command"] for c in arjun["commands"]] == [c["command"] for c in maya["commands"]]
        assert arjun["commands"] != maya["commands"]
        assert sandbox.api.people[ARJUN].language_code == "hi"  # what his updates say, as his app would


async def test_adding_a_person_who_the_bot_knows_by_zone_and_language(page: Page, events: EventStream) -> None:
    added = await page.post("/api/people", {"name": "  Priya   S ", "language": "hi", "zone": "Europe/London"})
    await events.next(lambda e: e["type"] == "people")
    state = await page.get("/api/state")
    person = next(p for p in state["people"] if p["id"] == added["id"])
    assert person == {
        "id": added["id"],
        "name": "Priya S",
        "language": "hi",
        "zone": "Europe/London",
        "mentor": False,
    }
    assert (await page.chat(added["id"]))["messages"] == []
    await page.send(added["id"], "/start")
    welcome = await events.bot_message(added["id"], "Mentor Desk")
    assert "Which time zone" not in welcome["text"]  # the zone is known already
    for body in (
        {"name": "", "language": "en", "zone": "Asia/Kolkata"},
        {"name": "X", "language": "xx", "zone": "Asia/Kolkata"},
        {"name": "X", "language": "en", "zone": "Mars/Olympus"},
        {"name": "X" * 65, "language": "en", "zone": "Asia/Kolkata"},
        {"name": "X", "language": "en"},
    ):
        await page.post("/api/people", body, status=400)


async def test_time_travel_moves_the_bot_clock_and_the_reminder_arrives(
    sandbox: Sandbox, page: Page, events: EventStream, tmp_path: Path
) -> None:
    assert (await page.travel("next"))["note"] == "Nothing is scheduled."
    moved = await page.travel("hour")
    assert moved["clock"]["offset_seconds"] == 3600
    assert (await events.next(lambda e: e["type"] == "clock"))["clock"] == moved["clock"]
    assert sandbox.clock.now() == NOW + timedelta(hours=1)
    await page.travel("day")
    assert sandbox.clock.now() == NOW + timedelta(days=1, hours=1)
    record = store.load(tmp_path / "data" / "sandbox.json")
    assert record is not None and record.clock_offset_seconds == 25 * 3600
    await page.post("/api/clock", {"by": "back"}, status=400)

    await book_paid_session(page, events)
    result = await page.travel("next")
    assert result["note"] == "reminder"
    reminder = await events.bot_message(MAYA, "⏰ Reminder")
    assert "Mock interview: system design" in reminder["text"]
    await events.bot_message(ANANYA, "⏰ Reminder")


async def test_the_calendar_file_downloads(page: Page, events: EventStream) -> None:
    await book_paid_session(page, events)
    await page.send(MAYA, "/mybookings")
    await events.bot_message(MAYA, "My bookings")
    await page.press(MAYA, next(label for label in await page.buttons(MAYA) if "Mock interview" in label))
    await events.bot_message(MAYA, "Status: confirmed")
    query_id = await page.press(MAYA, "📅 Add to calendar")
    sent = await events.next(lambda e: e["type"] == "message" and e["message"].get("kind") == "document")
    document = sent["message"]["document"]
    assert document["name"].endswith(".ics")
    async with page.session.get(page.url + document["url"]) as response:
        assert response.status == 200
        assert response.headers["Content-Disposition"] == f'attachment; filename="{document["name"]}"'
        calendar = Calendar.from_ical(await response.read())
    assert [c.name for c in calendar.walk("VEVENT")] == ["VEVENT"]
    answer = await events.next(lambda e: e["type"] == "answer" and e["query_id"] == query_id)
    assert (answer["text"], answer["alert"]) == ("Calendar file sent.", False)
    async with page.session.get(page.url + "/api/files/nope") as response:
        assert response.status == 404


async def test_an_invoice_paid_once_and_the_checkout_refuses_it_again(
    sandbox: Sandbox, page: Page, events: EventStream
) -> None:
    invoice = await book_paid_session(page, events)
    again = await page.post(f"/api/chats/{MAYA}/pay", {"message_id": invoice["id"]})
    assert again["ok"] is False and "no longer waits for a payment" in again["error"]  # the bot's own answer
    assert [c.ok for c in sandbox.api.payments.checkouts.values()] == [True, False]
    menu = (await page.chat(MAYA))["messages"][0]
    await page.post(f"/api/chats/{MAYA}/pay", {"message_id": menu["id"]}, status=400)  # not an invoice
    await page.post(f"/api/chats/{ARJUN}/pay", {"message_id": invoice["id"]}, status=400)  # not in Arjun's chat


async def test_upi_shows_the_link_and_the_qr_code_and_the_mentor_marks_it_paid(
    page: Page, events: EventStream
) -> None:
    await page.send(MAYA, "/book")
    listing = await events.bot_message(MAYA, "Open offerings")
    found = re.search(r"(\d+)\. Mock interview: system design", listing["text"])
    assert found, listing["text"]
    await page.press(MAYA, f"📅 Book {found.group(1)}")
    await events.bot_message(MAYA, "Choose a date.")
    await page.press(MAYA, (await page.buttons(MAYA))[0])
    await events.bot_message(MAYA, "Choose a time.")
    await page.press(MAYA, (await page.buttons(MAYA))[0])
    await events.bot_message(MAYA, "Anything the mentor should know")
    await page.press(MAYA, "Skip ▶")
    await events.bot_message(MAYA, "Please check your booking")
    await page.press(MAYA, "📲 Confirm and pay ₹1,500 by UPI")
    sent = await events.next(lambda e: e["type"] == "message" and e["message"].get("kind") == "photo")
    photo = sent["message"]
    assert "Scan to pay ₹1,500 to ananya.rao@okicici" in photo["text"]
    async with page.session.get(page.url + photo["photo"]["url"]) as response:
        assert response.status == 200 and response.content_type == "image/png"
        assert response.headers["Content-Disposition"].startswith("inline")
        assert (await response.read()).startswith(b"\x89PNG")
    details = [m for m in (await page.chat(MAYA))["messages"] if "UPI ID: ananya.rao@okicici" in m["text"]]
    assert details and "upi://pay?pa=ananya.rao%40okicici&pn=Ananya%20Rao&am=1500.00&cu=INR" in details[0]["text"]
    await page.press(MAYA, "✅ I have paid")
    await events.bot_message(ANANYA, "says they paid ₹1,500 by UPI")
    await page.press(ANANYA, "💰 Mark paid")
    await events.bot_message(MAYA, "Ananya Rao received your UPI payment: ₹1,500")
    await events.bot_message(ANANYA, "New booking request")


async def test_requests_from_elsewhere_are_refused(page: Page) -> None:
    form = aiohttp.FormData({"text": "hi"})
    async with page.session.post(f"{page.url}/api/chats/{MAYA}/messages", data=form) as response:
        assert response.status == 415  # a form on another site cannot send JSON
    headers = {"Origin": "http://evil.example"}
    async with page.session.post(f"{page.url}/api/clock", json={"by": "day"}, headers=headers) as response:
        assert response.status == 403
    async with page.session.get(f"{page.url}/api/state", headers={"Host": "evil.example"}) as response:
        assert response.status == 403  # DNS rebinding
    async with page.session.post(
        f"{page.url}/api/chats/{MAYA}/messages",
        data=json.dumps(["x"]),
        headers={"Content-Type": "application/json"},
    ) as response:
        assert response.status == 400
