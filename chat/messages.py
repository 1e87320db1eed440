"""Sending and editing the bot's text screens, through PTB's own ``Bot.send_message`` and
``Bot.edit_message_text``.

The handlers (``handlers.common.show``/``say``) and the scheduler (``bot.dispatcher``) send every text screen
through these two functions, so how a screen goes out is said once: HTML text (the parse mode comes from the
application's ``Defaults``), an optional inline keyboard, and Telegram's answer left unused. PTB still parses that
answer into a ``telegram.Message``, as it parses every press with the pressed message and its keyboard: the cost
of its public API, measured in the README ("Performance").
"""

from __future__ import annotations

from telegram import Bot, InlineKeyboardMarkup


async def send_text(bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """A new message in ``chat_id``."""
    await bot.send_message(chat_id, text, reply_markup=markup)


async def edit_text(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the text and keyboard of a message the bot sent (no ``markup``: the keyboard goes)."""
    await bot.edit_message_text(text, chat_id, message_id, reply_markup=markup)
