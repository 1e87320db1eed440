"""Building inline keyboards from (label, callback data) pairs."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.callbacks import CallbackData


def button(label: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data.pack())


def rows(buttons: Sequence[tuple[str, CallbackData]], width: int) -> InlineKeyboardMarkup:
    """Lay buttons out ``width`` to a row, in order."""
    laid = [button(label, data) for label, data in buttons]
    return InlineKeyboardMarkup([laid[i : i + width] for i in range(0, len(laid), width)])


def stack(*keyboard_rows: Sequence[tuple[str, CallbackData]]) -> InlineKeyboardMarkup:
    """One row per argument; empty rows are dropped."""
    return InlineKeyboardMarkup([[button(label, data) for label, data in row] for row in keyboard_rows if row])
