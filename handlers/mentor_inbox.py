"""The mentor's bookings: the inbox (``/bookings``: quick stats, Pending / Upcoming / Past / Cancelled, paged) and
each booking's card with the moves open now - Confirm, Decline (reason), Add or change link, Mark completed,
Mark no-show, Cancel (reason), Private note.

Every press re-loads the booking and re-checks that the presser is its mentor and that the move is still open;
a stale card is redrawn with the booking's current state, and the alert says why nothing changed.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler

from chat.i18n import _
from domain import inbox
from domain.errors import DomainError, InvalidTransition
from domain.inbox import InboxTab, SessionNotStarted, tab_of
from domain.model import REASON_MAX, Actor, BookingStatus, BookingView
from domain.usecases.booking import add_meeting_link, change_status
from domain.usecases.inbox import (
    cancel_as_mentor,
    mark_session,
    mentor_booking,
    open_inbox,
    set_private_note,
    start_meeting_link,
    start_mentor_move,
)
from handlers.callbacks import ActOnBooking, BookingAction, CallbackData, OpenBookingCard, OpenInbox
from handlers.common import AppContext, on_button, say, show
from handlers.dialog import DialogState, text_step
from handlers.errors import explain
from handlers.inbox import inbox_screen
from handlers.render import booking_card_for_mentor, esc

S = BookingStatus


# --- the inbox ----------------------------------------------------------------------------------------------


async def show_inbox(update: Update, context: AppContext, tab: InboxTab = InboxTab.PENDING, page: int = 0) -> None:
    async with context.reader() as uow:
        found = await open_inbox(uow, context.clock, context.user.id, tab, page, context.zone)
    await show(update, *inbox_screen(found, context.zone, context.clock.now()))


async def bookings_command(update: Update, context: AppContext) -> None:
    try:
        await show_inbox(update, context)
    except DomainError as error:  # not a mentor
        await say(update, explain(error))


@on_button(OpenInbox)
async def open_inbox_page(update: Update, context: AppContext, data: OpenInbox) -> str | None:
    await show_inbox(update, context, data.tab, data.page)
    return None


# --- one booking's card -------------------------------------------------------------------------------------


def _mentor_card(
    context: AppContext, view: BookingView, back: CallbackData | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card with the moves open now and a way back to the list (the tab the booking is in, unless known)."""
    now = context.clock.now()
    back = back or OpenInbox(tab_of(view.booking, now), 0)
    max_moves = context.services.max_reschedules
    return booking_card_for_mentor(
        view.booking, view.offering, view.mentee, context.zone, now, back, max_moves=max_moves
    )


@on_button(OpenBookingCard)
async def open_booking_card(update: Update, context: AppContext, data: OpenBookingCard) -> str | None:
    async with context.reader() as uow:
        view = await mentor_booking(uow, context.user.id, data.booking_id)
    await show(update, *_mentor_card(context, view, OpenInbox(data.tab, data.page)))
    return None


async def _redraw(update: Update, context: AppContext, booking_id: int) -> None:
    """Show the booking as it is now, after a refused move (a card already current stays as it is: ``show``)."""
    async with context.reader() as uow:
        view = await mentor_booking(uow, context.user.id, booking_id)
    await show(update, *_mentor_card(context, view))


async def _ask(update: Update, context: AppContext, state: DialogState, booking_id: int, target: S | None) -> None:
    """Check the move is open (when there is one), then wait for the mentor's typed text."""
    async with context.uow() as uow:
        if target is None:
            await mentor_booking(uow, context.user.id, booking_id)
        else:
            await start_mentor_move(uow, context.clock, context.user.id, booking_id, target)
        await uow.dialogs.set(context.user.id, state, {"booking_id": booking_id})
        await uow.commit()


@on_button(ActOnBooking)
async def act_on_booking(update: Update, context: AppContext, data: ActOnBooking) -> str | None:
    try:
        return await _act(update, context, data)
    except (InvalidTransition, SessionNotStarted):
        await _redraw(update, context, data.booking_id)  # then the alert explains
        raise


async def _act(update: Update, context: AppContext, data: ActOnBooking) -> str | None:
    booking_id, me = data.booking_id, context.user.id
    match data.action:
        case BookingAction.CONFIRM:
            async with context.uow() as uow:
                view = await change_status(uow, context.clock, me, booking_id, S.CONFIRMED, only=Actor.MENTOR)
                await uow.commit()
            await show(update, *_mentor_card(context, view))
            return _("Confirmed. The mentee has been told.")
        case BookingAction.COMPLETE | BookingAction.NO_SHOW:
            target = S.COMPLETED if data.action == BookingAction.COMPLETE else S.NO_SHOW
            async with context.uow() as uow:
                view = await mark_session(uow, context.clock, me, booking_id, target)
                await uow.commit()
            await show(update, *_mentor_card(context, view))
            return _("Marked completed.") if target == S.COMPLETED else _("Marked as no-show.")
        case BookingAction.DECLINE:
            await _ask(update, context, DialogState.DECLINE_REASON, booking_id, S.DECLINED)
            prompt = _("Why are you declining booking #{id}? Type a short reason; the mentee will see it.")
            await say(update, prompt.format(id=booking_id))
            return None
        case BookingAction.CANCEL:
            await _ask(update, context, DialogState.MENTOR_CANCEL_REASON, booking_id, S.CANCELLED)
            prompt = _(
                "Why are you cancelling booking #{id}? Type a short reason (at most {limit} characters); "
                "the mentee will see it. Send /cancel to keep the booking."
            )
            await say(update, prompt.format(id=booking_id, limit=REASON_MAX))
            return None
        case BookingAction.LINK:
            async with context.uow() as uow:
                await start_meeting_link(uow, me, booking_id)
                await uow.dialogs.set(me, DialogState.MEETING_LINK, {"booking_id": booking_id})
                await uow.commit()
            prompt = _("Send the meeting link for booking #{id} (it must start with https:// or http://).")
            await say(update, prompt.format(id=booking_id))
            return None
        case BookingAction.NOTE:
            async with context.uow() as uow:
                view = await mentor_booking(uow, me, booking_id)
                await uow.dialogs.set(me, DialogState.PRIVATE_NOTE, {"booking_id": booking_id})
                await uow.commit()
            prompt = _(
                "Type your private note for booking #{id}. Only you will ever see it, never the mentee. "
                "At most {limit} characters. Your text replaces the note; start with + to add to it, "
                "or send - to delete it. /cancel leaves it as it is."
            ).format(id=booking_id, limit=inbox.PRIVATE_NOTE_MAX)
            if view.booking.mentor_notes:
                prompt += "\n\n" + _("Current note: {note}").format(note=esc(view.booking.mentor_notes))
            await say(update, prompt)
            return None
        case _:  # REFRESH
            await _redraw(update, context, booking_id)
            return None


# --- typed steps --------------------------------------------------------------------------------------------


@text_step(DialogState.DECLINE_REASON)
async def type_decline_reason(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    booking_id = int(data["booking_id"])
    async with context.uow() as uow:
        view = await change_status(
            uow, context.clock, context.user.id, booking_id, S.DECLINED, text, only=Actor.MENTOR
        )
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    card, markup = _mentor_card(context, view)
    await say(update, _("Declined. The mentee has been told.") + "\n\n" + card, markup)


@text_step(DialogState.MENTOR_CANCEL_REASON)
async def type_cancel_reason(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    booking_id = int(data["booking_id"])
    async with context.uow() as uow:
        view = await cancel_as_mentor(uow, context.clock, context.user.id, booking_id, text)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    card, markup = _mentor_card(context, view)
    await say(update, _("Cancelled. The mentee has been told.") + "\n\n" + card, markup)


@text_step(DialogState.MEETING_LINK)
async def type_meeting_link(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    booking_id = int(data["booking_id"])
    async with context.uow() as uow:
        view = await add_meeting_link(uow, context.clock, context.user.id, booking_id, text)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    card, markup = _mentor_card(context, view)
    await say(update, _("Link saved. The mentee has been told.") + "\n\n" + card, markup)


@text_step(DialogState.PRIVATE_NOTE)
async def type_private_note(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    booking_id = int(data["booking_id"])
    async with context.uow() as uow:
        view = await set_private_note(uow, context.user.id, booking_id, text)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    card, markup = _mentor_card(context, view)
    done = _("Private note saved.") if view.booking.mentor_notes else _("Private note deleted.")
    await say(update, done + "\n\n" + card, markup)


def handlers() -> list[BaseHandler]:
    return [CommandHandler("bookings", bookings_command), open_inbox_page, open_booking_card, act_on_booking]
