"""``bot.updates.drop_pressed_keyboard``: a button press's message keyboard is kept out of PTB's parse."""

from __future__ import annotations

import copy
import json

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.http import UpdatesRequest
from bot.updates import drop_pressed_keyboard
from chat.pressed import PRESSED_KEYBOARD, pressed_keyboard

BOT = Bot("123456:ABCdefGHIjklMNOpqrSTUvwxYZ")
KEYBOARD = {
    "inline_keyboard": [
        [{"text": "09:00", "callback_data": "bt:1:9"}, {"text": "10:00", "callback_data": "bt:1:10"}],
        [{"text": "Docs", "url": "https://example.com/docs"}],
    ]
}


def press(keyboard: dict | None = KEYBOARD) -> dict:
    message = {
        "message_id": 5, "date": 1_700_000_000, "chat": {"id": 7, "type": "private", "first_name": "Ravi"},
        "from": {"id": 1, "is_bot": True, "first_name": "Mentor Desk"}, "text": "Pick a time",
    }  # fmt: skip
    if keyboard is not None:
        message["reply_markup"] = copy.deepcopy(keyboard)
    sender = {"id": 7, "is_bot": False, "first_name": "Ravi"}
    return {
        "update_id": 11,
        "callback_query": {"id": "99", "from": sender, "chat_instance": "c", "data": "bt:1:9", "message": message},
    }


def test_the_keyboard_is_kept_raw_and_read_back_on_demand() -> None:
    plain = Update.de_json(press(), BOT)
    light = Update.de_json(drop_pressed_keyboard(press()), BOT)
    assert plain.callback_query.message.reply_markup is not None
    assert light.callback_query.message.reply_markup is None
    assert light.callback_query.message.api_kwargs[PRESSED_KEYBOARD] == KEYBOARD
    expected = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("09:00", callback_data="bt:1:9"),
                InlineKeyboardButton("10:00", callback_data="bt:1:10"),
            ],
            [InlineKeyboardButton("Docs", url="https://example.com/docs")],
        ]
    )
    assert pressed_keyboard(light) == expected == pressed_keyboard(plain)
    # everything else reads the same
    assert light.callback_query.data == plain.callback_query.data
    assert light.callback_query.message.text == plain.callback_query.message.text
    assert light.effective_user == plain.effective_user


def test_a_changed_keyboard_is_not_equal() -> None:
    light = Update.de_json(drop_pressed_keyboard(press()), BOT)
    other = InlineKeyboardMarkup([[InlineKeyboardButton("09:00", callback_data="bt:1:9")]])
    assert pressed_keyboard(light) != other


def test_updates_without_a_pressed_keyboard_pass_unchanged() -> None:
    message_update = {
        "update_id": 3,
        "message": {
            "message_id": 1, "date": 1, "chat": {"id": 7, "type": "private"}, "text": "hi",
            "reply_markup": KEYBOARD,
        },
    }  # fmt: skip
    for update in (press(keyboard=None), message_update, {"update_id": 4}, [], "x"):
        before = copy.deepcopy(update)
        assert drop_pressed_keyboard(update) == before
    assert pressed_keyboard(Update.de_json(press(keyboard=None), BOT)) is None
    assert pressed_keyboard(Update.de_json(message_update, BOT)) is None


def test_get_updates_answers_are_parsed_without_pressed_keyboards() -> None:
    payload = json.dumps({"ok": True, "result": [press(), press(keyboard=None)]}).encode()
    data = UpdatesRequest.parse_json_payload(payload)
    first, second = data["result"]
    assert "reply_markup" not in first["callback_query"]["message"]
    assert first["callback_query"]["message"][PRESSED_KEYBOARD] == KEYBOARD
    assert second == press(keyboard=None)
    error = {"ok": False, "error_code": 409, "description": "Conflict"}
    assert UpdatesRequest.parse_json_payload(json.dumps(error).encode()) == error
