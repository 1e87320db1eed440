"""The sandbox's parts on their own: its clock, the demo data, what the page gets about a message, the menus."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from domain.clock import FixedClock
from domain.model import BookingStatus
from domain.usecases.booking import free_dates
from domain.usecases.profiles import mentor_card
from sandbox import demo
from sandbox.botapi import ChatMessage, FakeBotApi, SentDocument
from sandbox.clock import SandboxClock
from sandbox.runtime import Paths, create_demo_database
from sandbox.views import message_view
from storage.engine import create_engine
from storage.uow import SqlUnitOfWork
from tests.sandbox.conftest import NOW


def test_the_clock_only_moves_forward() -> None:
    clock = SandboxClock(source=FixedClock(NOW))
    assert clock.now() == NOW
    assert clock.advance(timedelta(hours=1)) == NOW + timedelta(hours=1)
    assert clock.timestamp() == (NOW + timedelta(hours=1)).timestamp()
    for backwards in (timedelta(0), timedelta(minutes=-1)):
        with pytest.raises(ValueError, match="time travel only goes forward"):
            clock.advance(backwards)
    with pytest.raises(ValueError, match="never runs behind the real time"):
        SandboxClock(timedelta(seconds=-1))


async def test_the_demo_is_made_through_the_use_cases_and_leaves_no_old_news(tmp_path: Path) -> None:
    paths = Paths.in_directory(tmp_path)
    await create_demo_database(paths, NOW)
    engine = create_engine(paths.database_url)
    try:
        uow = SqlUnitOfWork(engine)
        async with uow:
            cards = [await mentor_card(uow, mentor.person.id) for mentor in demo.MENTORS]
            counts = await uow.outbox.counts()
            maya = await uow.users.get(7201)
            past = await uow.bookings.list_for_mentee(7201, list(BookingStatus), 10)
        assert set(counts) == {"skipped"} and counts["skipped"] > 0  # history: nothing left to send
        prices = [offering.is_free for card in cards for offering in card.offerings]
        assert True in prices and False in prices  # free and paid
        assert all(card.offerings and card.profile.headline for card in cards)
        assert len({card.mentor.timezone for card in cards}) >= 3
        assert len({card.mentor.locale for card in cards}) >= 2
        assert sum(len(card.reviews) for card in cards) == len(demo.REVIEWS)
        assert maya is not None and maya.timezone == "Asia/Kolkata" and not maya.is_mentor
        assert [b.status for b in past] == [BookingStatus.COMPLETED]
        async with uow:  # a mentee can book at once
            offering = cards[0].offerings[0]
            assert offering.id is not None
            _ctx, days = await free_dates(uow, FixedClock(NOW), offering.id, 7201, "Asia/Kolkata")
        assert days and days[0] <= (NOW + timedelta(days=2)).date()
    finally:
        await engine.dispose()


def _message(**fields: object) -> ChatMessage:
    return ChatMessage(1, 5, from_bot=True, date=1_700_000_000, **fields)  # type: ignore[arg-type]


def test_the_page_gets_text_entities_keyboards_and_files_never_html() -> None:
    text = _message(
        text="Hi <you>", entities=[{"type": "bold", "offset": 0, "length": 2}], source="<b>Hi</b> &lt;you&gt;",
        parse_mode="HTML",
        raw_reply_markup={"inline_keyboard": [[
            {"text": "Go", "callback_data": "g"}, {"text": "Site", "url": "https://example.org"},
            {"text": "Play", "callback_game": {}},
        ]]},
    )  # fmt: skip
    view = message_view(text)
    assert view["kind"] == "text" and view["text"] == "Hi <you>" and "source" not in view
    assert view["inline_keyboard"] == [[
        {"kind": "callback", "text": "Go", "data": "g"},
        {"kind": "url", "text": "Site", "url": "https://example.org"},
        {"kind": "unsupported", "text": "Play"},
    ]]  # fmt: skip
    document = SentDocument("F1", "U1", "a.ics", "text/calendar", b"BEGIN:VCALENDAR")
    view = message_view(_message(document=document, caption="Open it"))
    assert view["kind"] == "document" and view["text"] == "Open it"
    assert view["document"] == {"name": "a.ics", "mime_type": "text/calendar", "size": 15, "url": "/api/files/F1"}
    by_url = SentDocument("F2", "U2", "b.pdf", None, None, url="https://example.org/b.pdf")
    assert message_view(_message(document=by_url))["document"]["url"] is None  # nothing to serve
    reply = _message(text="?", raw_reply_markup={"keyboard": [["Yes", {"text": "No"}]], "one_time_keyboard": True})
    assert message_view(reply)["reply_keyboard"] == {"rows": [["Yes", "No"]], "one_time": True, "placeholder": ""}
    assert message_view(_message(text="ok", raw_reply_markup={"remove_keyboard": True}))["remove_keyboard"] is True


def test_a_person_sees_the_most_specific_menu() -> None:
    api = FakeBotApi()
    lists = {
        ("default", ""): [{"command": "a", "description": "default"}],
        ("default", "hi"): [{"command": "a", "description": "hindi"}],
        ("chat", ""): [{"command": "b", "description": "chat"}],
    }
    assert api.commands_for_chat(7, "hi") == []
    for (kind, language), commands in lists.items():
        scope = {"type": "chat", "chat_id": 7} if kind == "chat" else {"type": "default"}
        api.command_lists[api.commands_key(scope, language)] = commands
    assert api.commands_for_chat(7, "hi") == lists[("chat", "")]
    assert api.commands_for_chat(8, "hi") == lists[("default", "hi")]
    assert api.commands_for_chat(8, "en") == lists[("default", "")]
    assert api.commands_for_chat(8, None) == lists[("default", "")]
