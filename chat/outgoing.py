"""One message the bot sends on its own: what ``handlers.notify`` renders and ``bot.dispatcher`` sends."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardMarkup


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send: HTML text (the bot's default parse mode) and an optional inline keyboard."""

    chat_id: int
    text: str
    reply_markup: InlineKeyboardMarkup | None = None
