"""The keyboard of the message whose button was pressed.

A button press carries the pressed message whole, its inline keyboard included, and PTB parses it with the
update; ``pressed_keyboard`` reads it for the handlers that need it (to tell whether a screen or a card already
shows its current buttons).
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update


def pressed_keyboard(update: Update) -> InlineKeyboardMarkup | None:
    """The keyboard of the message whose button was pressed (None for anything else, or for a message too old for
    Telegram to include its content)."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):  # no message, or an InaccessibleMessage
        return None
    return query.message.reply_markup
