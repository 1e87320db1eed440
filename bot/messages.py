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
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import Bot, InlineKeyboardMarkup
from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning


def hide_raw_call_warnings() -> None:
    """Silence ``do_api_request``'s "Please use 'Bot.sendMessage' instead" for the two calls made here on purpose."""
    warnings.filterwarnings(
        "ignore", message=r"Please use 'Bot\.(sendMessage|editMessageText)' instead", category=PTBUserWarning
    )


def _parameters(bot: Bot, text: str, markup: InlineKeyboardMarkup | None, **where: int) -> dict[str, Any]:
    parameters: dict[str, Any] = {**where, "text": text}
    defaults = bot.defaults if isinstance(bot, ExtBot) else None
    if defaults is not None and defaults.parse_mode is not None:
        parameters["parse_mode"] = defaults.parse_mode
    if markup is not None:
        parameters["reply_markup"] = markup
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
