"""``handlers.shown.as_shown`` reduces the bot's HTML to what Telegram shows (compared with the test server's
parser, which follows Telegram's rules), and ``already_shown`` tells a screen that would not change."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update

from chat.i18n import LOCALES_DIR
from handlers.common import already_shown
from handlers.shown import as_shown
from sandbox.botapi.html import parse_html, trim_entities

FORMATTING = {"bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre", "text_link", "blockquote"}


def telegram(source: str) -> tuple[str, frozenset]:
    text, entities = trim_entities(*parse_html(source))
    return text, frozenset(
        (e["type"], e["offset"], e["length"], e.get("url")) for e in entities if e["type"] in FORMATTING
    )


def catalog_texts() -> list[str]:
    texts: list[str] = []
    for po in sorted(LOCALES_DIR.glob("*/LC_MESSAGES/messages.po")):
        with po.open("rb") as file:
            for message in read_po(file):
                if not message.id:  # the catalog's header
                    continue
                for text in (message.id, message.string):
                    texts += [t for t in (text if isinstance(text, tuple | list) else (text,)) if t]
    return texts


SAMPLES = [
    "plain",
    "  <b>Step 1 of 2:</b> tap the days \n",
    "<b>Resume &lt;Review&gt; &amp; more</b>\n<i>with</i> Asha &#8377;500 &#x1F600;",
    "😀 <b>bold 😀 <i>both</i></b> <code>09:30-12:00</code>",
    '<a href="https://example.com/?a=1&amp;b=2">link</a> and <s>gone</s> <u>under</u>',
    "<b></b>empty tag then text",
    "<b> \n</b>",
]


@pytest.mark.parametrize("source", SAMPLES)
def test_the_text_and_formatting_are_what_telegram_shows(source: str) -> None:
    assert as_shown(source) == telegram(source)


def test_every_catalog_text_reads_as_telegram_shows_it() -> None:
    texts = catalog_texts()
    assert len(texts) > 500
    assert [t for t in texts if as_shown(t) != telegram(t)] == []


BOT = Bot("123456:ABCdefGHIjklMNOpqrSTUvwxYZ")
MARKUP = InlineKeyboardMarkup([[InlineKeyboardButton("• Upcoming (0)", callback_data="myl:up:0")]])


def press(source: str, markup: InlineKeyboardMarkup | None = MARKUP) -> Update:
    text, entities = trim_entities(*parse_html(source))
    message = {
        "message_id": 5, "date": 1_700_000_000, "chat": {"id": 7, "type": "private", "first_name": "Ravi"},
        "from": {"id": 1, "is_bot": True, "first_name": "Mentor Desk"}, "text": text,
        # Telegram adds entities of its own (here a command): they are not part of the screen
        "entities": [*entities, {"type": "bot_command", "offset": 0, "length": 0}],
    }  # fmt: skip
    if markup is not None:
        message["reply_markup"] = markup.to_dict()
    query = {"id": "9", "from": {"id": 7, "is_bot": False, "first_name": "R"}, "chat_instance": "c", "data": "x"}
    update = {"update_id": 1, "callback_query": {**query, "message": message}}
    return Update.de_json(update, BOT)  # as PTB parses every update


def test_a_screen_is_already_shown_only_when_text_formatting_and_keyboard_match() -> None:
    screen = "📋 <b>My bookings</b>\n<b>Upcoming</b> · page 1 of 1\nNo upcoming sessions. Book one with /book."
    update = press(screen)
    assert already_shown(update, screen, MARKUP)
    assert not already_shown(update, screen.replace("page 1", "page 2"), MARKUP)  # text
    assert not already_shown(update, screen.replace("<b>Upcoming</b>", "Upcoming"), MARKUP)  # formatting only
    other = InlineKeyboardMarkup([[InlineKeyboardButton("Upcoming (0)", callback_data="myl:up:0")]])
    assert not already_shown(update, screen, other)  # keyboard
    assert not already_shown(update, screen, None)
    assert already_shown(press(screen, None), screen, None)
    assert already_shown(press(screen, None), screen, InlineKeyboardMarkup([]))  # an empty keyboard is none
    plain = Update.de_json({"update_id": 2, "message": {
        "message_id": 6, "date": 1, "chat": {"id": 7, "type": "private"}, "text": "No upcoming sessions.",
    }}, BOT)  # fmt: skip
    assert not already_shown(plain, "No upcoming sessions.", None)  # not a press: nothing to compare with
