"""Send and edit text messages without reading the Bot API's answer.

``sendMessage`` and ``editMessageText`` answer with the whole message, its inline keyboard included, and PTB's
``Bot.send_message``/``Bot.edit_message_text`` turn that answer into a ``telegram.Message``: one
``InlineKeyboardButton`` per button, each frozen and unfrozen attribute by attribute. The bot never looks at
that object (a screen is shown and forgotten; the next press brings the message back in its update), and
building it was about a sixth of the bot's CPU time per update in ``benchmarks.bench_flow``.

So these two calls go through ``Bot.do_api_request``, PTB's public way to make a raw call: the same request
backend, rate limiter and error mapping (``BadRequest``, ``Forbidden``, ``RetryAfter`` ... are raised as
before), and the JSON answer is returned as it came. What ``Bot.send_message`` would add from ``Defaults``
(here: ``parse_mode``) is added here. ``do_api_request`` warns when it is used for a method that ``Bot`` has;
:func:`hide_raw_call_warnings` (called by ``bot.app.build_application``) silences that warning for these two
methods only.

The keyboard goes as the JSON text the Bot API takes (:func:`markup_json`): PTB's generic ``to_dict`` walks
every attribute of every button through its class hierarchy, about 6 µs a button; the bot's buttons are text
with callback data or a URL, written directly in under 1 µs. Any other button still goes through ``to_dict``.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning


def hide_raw_call_warnings() -> None:
    """Silence ``do_api_request``'s "Please use 'Bot.sendMessage' instead" for the two calls made here on purpose."""
    warnings.filterwarnings(
        "ignore", message=r"Please use 'Bot\.(sendMessage|editMessageText)' instead", category=PTBUserWarning
    )


# every field of a button but the three written directly: when all are unset, the button is text + data or URL
_OTHER_FIELDS = tuple(
    name for name in InlineKeyboardButton.__slots__ if name not in ("text", "callback_data", "url")
)


def _button(button: InlineKeyboardButton) -> dict[str, Any]:
    if button.api_kwargs or any(getattr(button, name) is not None for name in _OTHER_FIELDS):
        return button.to_dict()
    if button.callback_data is not None:
        return {"text": button.text, "callback_data": button.callback_data}
    return {"text": button.text, "url": button.url}


def markup_json(markup: InlineKeyboardMarkup) -> str:
    """``reply_markup`` as JSON text, the same object ``markup.to_dict()`` gives."""
    if markup.api_kwargs or not markup.inline_keyboard:  # to_dict() leaves an empty keyboard out: "{}"
        return json.dumps(markup.to_dict())
    return json.dumps({"inline_keyboard": [[_button(button) for button in row] for row in markup.inline_keyboard]})


def _parameters(bot: Bot, text: str, markup: InlineKeyboardMarkup | None, **where: int) -> dict[str, Any]:
    parameters: dict[str, Any] = {**where, "text": text}
    defaults = bot.defaults if isinstance(bot, ExtBot) else None
    if defaults is not None and defaults.parse_mode is not None:
        parameters["parse_mode"] = defaults.parse_mode
    if markup is not None:
        parameters["reply_markup"] = markup_json(markup)
    return parameters


async def send_text(bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """``bot.send_message(chat_id, text, reply_markup=markup)``, not parsing the message it answers with."""
    await bot.do_api_request("sendMessage", api_kwargs=_parameters(bot, text, markup, chat_id=chat_id))


async def edit_text(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """``bot.edit_message_text(text, chat_id, message_id, reply_markup=markup)``, not parsing its answer."""
    await bot.do_api_request(
        "editMessageText", api_kwargs=_parameters(bot, text, markup, chat_id=chat_id, message_id=message_id)
    )
