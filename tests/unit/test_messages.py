"""``handlers.common.show``/``say`` over ``chat.messages``: screens go out through PTB's own ``send_message`` and
``edit_message_text`` (with the application's ``Defaults``), on the project's request backend, to the test
Bot API server."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    Defaults,
    MessageHandler,
    filters,
)

from bot.http import telegram_requests
from handlers.common import say, show
from sandbox.botapi import FakeBotApi

KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Yes", callback_data="y"), InlineKeyboardButton("Again", callback_data="a")],
        [InlineKeyboardButton("New", callback_data="n"), InlineKeyboardButton("Docs", url="https://example.com")],
    ]
)
PICK = "<b>Pick</b> one"


async def open_screen(update: Update, context: Any) -> None:
    await show(update, PICK, KEYBOARD)  # not a press: a new message


async def pressed(update: Update, context: Any) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer()
    match update.callback_query.data:
        case "y":
            await show(update, "Done <i>yes</i>")  # no keyboard: the edit removes it
        case "a":
            await show(update, PICK, KEYBOARD)  # the screen it shows already: nothing to edit
        case "n":
            await say(update, "A new message", KEYBOARD)


def build(api: FakeBotApi, errors: list[BaseException]) -> Any:
    request, updates_request = telegram_requests(4)
    builder = api.configure(ApplicationBuilder()).request(request).get_updates_request(updates_request)
    builder = builder.rate_limiter(AIORateLimiter()).defaults(Defaults(parse_mode=ParseMode.HTML))
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, open_screen))
    application.add_handler(CallbackQueryHandler(pressed))

    async def record(update: object, context: Any) -> None:
        errors.append(context.error)

    application.add_error_handler(record)
    return application


async def test_a_message_gets_a_new_screen_and_a_press_edits_its_own() -> None:
    errors: list[BaseException] = []
    async with FakeBotApi() as api:
        alice = api.user(101, "Alice", started=True)
        async with api.running(build(api, errors)):
            await alice.send("hi")
            screen = await alice.wait_for("Pick one")
            assert screen.buttons == ["Yes", "Again", "New", "Docs"]
            assert screen.entities == [{"type": "bold", "offset": 0, "length": 4}]  # Defaults' parse mode

            await alice.press("Again", message=screen)
            await api.wait_idle()
            await alice.press("New", message=screen)
            fresh = await alice.wait_for("A new message")
            assert fresh.message_id != screen.message_id and fresh.buttons == screen.buttons

            await alice.press("Yes", message=screen)
            await alice.wait_for("Done yes")
            await api.wait_idle()
        api.assert_callbacks_answered_once()

    assert errors == []
    assert screen.text == "Done yes" and screen.buttons == []  # edited in place, keyboard removed
    sends = api.calls_to("sendMessage")
    assert [c.params["parse_mode"] for c in sends] == ["HTML", "HTML"]
    assert sends[0].params["reply_markup"] == KEYBOARD.to_dict()
    (edit,) = api.calls_to("editMessageText")  # "Again" showed the screen already shown: no call
    assert edit.ok and edit.params["message_id"] == screen.message_id and edit.params["parse_mode"] == "HTML"
    assert "reply_markup" not in edit.params


async def test_telegram_refusing_a_screen_is_an_error_unless_it_was_not_modified() -> None:
    """Two quick presses carry the message as it was before the first edit: Telegram's "message is not
    modified" for the second is no error. Any other refusal reaches the error handler."""
    errors: list[BaseException] = []
    async with FakeBotApi() as api:
        alice = api.user(101, "Alice", started=True)
        async with api.running(build(api, errors)):
            await alice.send("hi")
            screen = await alice.wait_for("Pick one")
            api.fail_next("editMessageText", 400, description="Bad Request: message is not modified")
            await alice.press("Yes", message=screen)
            await api.wait_idle()
            assert errors == []
            api.fail_next("editMessageText", 400, description="Bad Request: message to edit not found")
            await alice.press("Yes", message=screen)
            await api.wait_idle()
            api.fail_next("sendMessage", 403)
            await alice.press("New", message=screen)
            await api.wait_idle()

    assert [type(e).__name__ for e in errors] == ["BadRequest", "Forbidden"]
    assert str(errors[0]) == "Message to edit not found"
