"""``chat.pressed.pressed_keyboard``: the keyboard of the pressed message, as PTB parsed it with the update."""

from __future__ import annotations

import copy

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update

from chat.pressed import pressed_keyboard

BOT = Bot("123456:ABCdefGHIjklMNOpqrSTUvwxYZ")
KEYBOARD = {
    "inline_keyboard": [
        [{"text": "09:00", "callback_data": "bt:1:9"}, {"text": "10:00", "callback_data": "bt:1:10"}],
        [{"text": "Docs", "url": "https://example.com/docs"}],
    ]
}


def press(keyboard: dict | None = KEYBOARD, *, date: int = 1_700_000_000) -> dict:
    message = {
        "message_id": 5, "date": date, "chat": {"id": 7, "type": "private", "first_name": "Ravi"},
        "from": {"id": 1, "is_bot": True, "first_name": "Mentor Desk"}, "text": "Pick a time",
    }  # fmt: skip
    if keyboard is not None:
        message["reply_markup"] = copy.deepcopy(keyboard)
    sender = {"id": 7, "is_bot": False, "first_name": "Ravi"}
    return {
        "update_id": 11,
        "callback_query": {"id": "99", "from": sender, "chat_instance": "c", "data": "bt:1:9", "message": message},
    }


def test_the_pressed_keyboard_is_the_one_the_message_carried() -> None:
    expected = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("09:00", callback_data="bt:1:9"),
                InlineKeyboardButton("10:00", callback_data="bt:1:10"),
            ],
            [InlineKeyboardButton("Docs", url="https://example.com/docs")],
        ]
    )
    assert pressed_keyboard(Update.de_json(press(), BOT)) == expected


def test_a_changed_keyboard_is_not_equal() -> None:
    other = InlineKeyboardMarkup([[InlineKeyboardButton("09:00", callback_data="bt:1:9")]])
    assert pressed_keyboard(Update.de_json(press(), BOT)) != other


def test_no_keyboard_for_anything_but_a_press_of_a_message_with_one() -> None:
    message_update = {
        "update_id": 3,
        "message": {
            "message_id": 1, "date": 1, "chat": {"id": 7, "type": "private"}, "text": "hi",
            "reply_markup": KEYBOARD,
        },
    }  # fmt: skip
    assert pressed_keyboard(Update.de_json(press(keyboard=None), BOT)) is None
    assert pressed_keyboard(Update.de_json(message_update, BOT)) is None
    # a message too old for Telegram to send its content (date 0: chat and id only): no keyboard to read
    inaccessible = press(keyboard=None, date=0)
    del inaccessible["callback_query"]["message"]["text"], inaccessible["callback_query"]["message"]["from"]
    assert pressed_keyboard(Update.de_json(inaccessible, BOT)) is None
