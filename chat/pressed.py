"""The keyboard of the message whose button was pressed.

``bot.updates.drop_pressed_keyboard`` keeps that keyboard out of PTB's parse of every press and leaves it, raw,
in ``message.api_kwargs[PRESSED_KEYBOARD]``; ``pressed_keyboard`` reads it back for the handlers that need it
(to tell whether a card already shows its current buttons).
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

# Where a press's keyboard is kept, unparsed: ``query.message.api_kwargs`` (``bot.updates.drop_pressed_keyboard``).
PRESSED_KEYBOARD = "pressed_keyboard"


def pressed_keyboard(update: Update) -> InlineKeyboardMarkup | None:
    """The keyboard of the message whose button was pressed (``drop_pressed_keyboard`` kept it raw)."""
    query = update.callback_query
    if query is None or query.message is None:
        return None
    if query.message.reply_markup is not None:  # an update parsed without drop_pressed_keyboard
        return query.message.reply_markup
    raw = query.message.api_kwargs.get(PRESSED_KEYBOARD)
    return InlineKeyboardMarkup.de_json(raw, query.get_bot()) if isinstance(raw, dict) else None
