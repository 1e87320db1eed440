"""``chat.messages``: the raw send/edit calls carry exactly what PTB's own methods send, and fail the same way."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from telegram import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import AIORateLimiter, ApplicationBuilder, Defaults

from bot.http import telegram_requests
from chat.messages import edit_text, hide_raw_call_warnings, markup_json, send_text
from sandbox.botapi import FakeBotApi

KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Yes", callback_data="y"), InlineKeyboardButton("Docs", url="https://example.com")]]
)


def _build(api: FakeBotApi, defaults: Defaults | None) -> Any:
    request, updates_request = telegram_requests(4)
    builder = api.configure(ApplicationBuilder()).request(request).get_updates_request(updates_request)
    builder = builder.rate_limiter(AIORateLimiter())
    if defaults is not None:
        builder = builder.defaults(defaults)
    return builder.build()


def _params(api: FakeBotApi, method: str) -> list[dict[str, Any]]:
    """Each call's parameters, the text apart: two edits in a row must differ, or Telegram refuses the second."""
    return [{k: v for k, v in call.params.items() if k != "text"} for call in api.calls_to(method)]


@pytest.mark.parametrize("defaults", [Defaults(parse_mode=ParseMode.HTML), None], ids=["html-default", "none"])
async def test_the_calls_send_what_ptbs_methods_send(defaults: Defaults | None) -> None:
    async with FakeBotApi() as api:
        api.user(101, "Alice", started=True)
        async with _build(api, defaults) as app:
            with warnings.catch_warnings(record=True) as shown:
                warnings.simplefilter("always")
                hide_raw_call_warnings()  # as build_application does
                first = await app.bot.send_message(101, "<b>Pick</b>", reply_markup=KEYBOARD)
                await send_text(app.bot, 101, "<b>Pick</b>", KEYBOARD)
                await app.bot.edit_message_text("Done <i>1</i>", 101, first.message_id, reply_markup=KEYBOARD)
                await edit_text(app.bot, 101, first.message_id, "Done <i>2</i>", KEYBOARD)
                await app.bot.edit_message_text("Plain 1", 101, first.message_id)
                await edit_text(app.bot, 101, first.message_id, "Plain 2")
        api.assert_no_errors()

    texts = [call.params["text"] for call in api.calls if call.method in ("sendMessage", "editMessageText")]
    assert texts == ["<b>Pick</b>", "<b>Pick</b>", "Done <i>1</i>", "Done <i>2</i>", "Plain 1", "Plain 2"]

    ptb_send, ours_send = _params(api, "sendMessage")
    assert ours_send == ptb_send
    assert ("parse_mode" in ours_send) is (defaults is not None)
    ptb_edit, ours_edit, ptb_plain, ours_plain = _params(api, "editMessageText")
    assert ours_edit == ptb_edit and ours_plain == ptb_plain
    assert "reply_markup" not in ours_plain  # an edit without a keyboard removes it, as with PTB's method
    assert [str(w.message) for w in shown] == []  # do_api_request's "please use Bot.x" is not shown for these


async def test_without_the_filter_ptb_would_warn() -> None:
    """The filter matches PTB's wording; if a new PTB words it differently, this says so."""
    async with FakeBotApi() as api:
        api.user(101, "Alice", started=True)
        async with _build(api, None) as app:
            with pytest.warns(UserWarning, match="Please use 'Bot.sendMessage'"):
                await send_text(app.bot, 101, "hi")


async def test_errors_are_raised_as_by_ptbs_methods() -> None:
    async with FakeBotApi() as api:
        alice = api.user(101, "Alice", started=True)
        async with _build(api, Defaults(parse_mode=ParseMode.HTML)) as app:
            hide_raw_call_warnings()
            await send_text(app.bot, 101, "one")
            (message,) = alice.bot_messages()
            with pytest.raises(BadRequest, match="not modified"):
                await edit_text(app.bot, 101, message.message_id, "one")
            api.fail_next("sendMessage", 429, retry_after=3)
            with pytest.raises(RetryAfter):
                await send_text(app.bot, 101, "two")
            await alice.block(notify=False)
            with pytest.raises(Forbidden):
                await send_text(app.bot, 101, "three")


@pytest.mark.parametrize(
    "markup",
    [
        KEYBOARD,
        InlineKeyboardMarkup([]),
        InlineKeyboardMarkup([[InlineKeyboardButton("Ünïcode ✓ <b>", callback_data="k:1:2")]]),
        InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("Inline", switch_inline_query_current_chat="q")],
                [InlineKeyboardButton("App", web_app=WebAppInfo("https://example.com/app"))],
                [InlineKeyboardButton("Copy", copy_text=CopyTextButton("code")), InlineKeyboardButton("x", url="u")],
                [InlineKeyboardButton("Extra", callback_data="d", api_kwargs={"future_field": 1})],
            ]
        ),
    ],
    ids=["data-and-url", "empty", "escaping", "other-kinds"],
)
def test_markup_json_is_what_to_dict_gives(markup: InlineKeyboardMarkup) -> None:
    assert json.loads(markup_json(markup)) == markup.to_dict()
