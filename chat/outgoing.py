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


@dataclass(frozen=True, slots=True)
class StarRefund:
    """Not a message: give a Telegram Stars payment back (``chat.payments.refund_stars``). The dispatcher "sends"
    it like a message - once, retried when Telegram cannot be reached - and records it when it went through."""

    user_id: int  # who paid
    telegram_charge_id: str

    @property
    def chat_id(self) -> int:
        return self.user_id
