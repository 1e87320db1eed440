"""Conversation progress that survives restarts: the step a user is on lives in the database, not in memory.

Buttons carry their own state in ``callback_data``; only steps that wait for typed text are stored here.
A flow registers a text step with ``@text_step(DialogState.X)``; ``route_text`` sends each typed message to
the step its sender is on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from telegram import Update
from telegram.ext import MessageHandler, filters

from chat.i18n import _
from domain.errors import DomainError
from handlers.common import AppContext, say
from handlers.errors import explain


class DialogState(StrEnum):
    """Stored in ``dialogs.state``: values are explicit and must never be renamed."""

    ZONE_SEARCH = "zone_search"
    OFFER_TITLE = "offer_title"
    OFFER_PRICE = "offer_price"
    OFFER_DURATION = "offer_duration"
    AVAILABILITY = "availability"
    AVAILABILITY_TYPED = "availability_typed"
    BOOKING_NOTES = "booking_notes"
    DECLINE_REASON = "decline_reason"
    MEETING_LINK = "meeting_link"
    PROFILE_FIELD = "profile_field"
    RATING_FEEDBACK = "rating_feedback"
    MENTEE_CANCEL_REASON = "mentee_cancel_reason"
    EXCEPTION_DATE = "exception_date"  # availability: the date (or vacation day) of a date exception
    EXCEPTION_HOURS = "exception_hours"  # availability: other hours on that date
    MENTOR_CANCEL_REASON = "mentor_cancel_reason"  # bookings inbox: why the mentor cancels
    PRIVATE_NOTE = "private_note"  # bookings inbox: the mentor's private note on a booking
    OFFER_EDIT = "offer_edit"  # offerings: a new value for one field of an offering
    DISCOVER_SEARCH = "discover_search"  # discover: the words to search offerings for
    OFFER_STARS = "offer_stars"  # a new offering's price in Telegram Stars (when Stars payments are on)
    BUSY_CALENDAR_URL = "busy_calendar_url"  # availability: the address of a busy calendar to add
    PROPOSE_TIMES = "propose_times"  # the mentor ticks new times for a booking (buttons only)
    PROPOSE_MESSAGE = "propose_message"  # then an optional message for the mentee
    SESSION_LINK = "session_link"  # a group session's roster: one meeting link for every attendee
    SESSION_CANCEL_REASON = "session_cancel_reason"  # a group session's roster: why the whole session is cancelled
    SERIES_CANCEL_REASON = "series_cancel_reason"  # a weekly series: why all its future weeks are cancelled
    SERIES_DECLINE_REASON = "series_decline_reason"  # a weekly series: why the mentor declines all its weeks


TextStep = Callable[[Update, AppContext, str, dict[str, Any]], Awaitable[None]]
_STEPS: dict[DialogState, TextStep] = {}


def text_step(state: DialogState) -> Callable[[TextStep], TextStep]:
    def register(fn: TextStep) -> TextStep:
        _STEPS[state] = fn
        return fn

    return register


async def load(context: AppContext) -> tuple[DialogState, dict[str, Any]] | None:
    async with context.reader() as uow:
        found = await uow.dialogs.get(context.user.id)
    if found is None:
        return None
    state, data = found
    try:
        return DialogState(state), data
    except ValueError:  # a state from an older version: treat as no conversation
        return None


async def save(context: AppContext, state: DialogState, data: dict[str, Any] | None = None) -> None:
    async with context.uow() as uow:
        await uow.dialogs.set(context.user.id, state, data or {})
        await uow.commit()


async def clear(context: AppContext) -> None:
    async with context.uow() as uow:
        await uow.dialogs.clear(context.user.id)
        await uow.commit()


async def route_text(update: Update, context: AppContext) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    found = await load(context)
    step = _STEPS.get(found[0]) if found else None
    if found is None or step is None:
        await say(update, _("I did not understand that. Use the menu or /help to see what I can do."))
        return
    try:
        await step(update, context, message.text, found[1])
    except DomainError as error:
        # the user stays on the same step and can simply try again
        await say(update, explain(error))


def text_handler() -> MessageHandler:
    return MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, route_text)
