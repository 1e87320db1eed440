"""The mentor answers a booking: Confirm, Decline (with a reason), Add or change the meeting link.

Every press re-loads the booking and re-checks that the presser is its mentor and that the move is still open;
a stale card is redrawn with the booking's current state.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from bot.i18n import _, use_locale
from domain import usecases
from domain.booking import allowed_moves
from domain.errors import InvalidTransition, NotAllowed
from domain.model import Actor, BookingStatus
from domain.usecases import BookingView
from handlers import dialog
from handlers.booking import send_quietly
from handlers.callbacks import ActOnBooking, BookingAction
from handlers.common import AppContext, on_button, say, show
from handlers.dialog import DialogState, text_step
from handlers.render import booking_card_for_mentee, booking_card_for_mentor, esc


def _mentor_card(context: AppContext, view: BookingView) -> tuple[str, InlineKeyboardMarkup | None]:
    return booking_card_for_mentor(view.booking, view.offering, view.mentee, context.zone)


async def _tell_mentee(context: AppContext, view: BookingView, headline_key: BookingStatus | str) -> None:
    mentee = view.mentee
    with use_locale(mentee.locale):
        if headline_key == BookingStatus.CONFIRMED:
            head = _("✅ Your booking is confirmed.")
        elif headline_key == BookingStatus.DECLINED:
            head = _("❌ The mentor declined your booking. Reason: {reason}").format(
                reason=esc(view.booking.cancellation_reason)
            )
        else:
            head = _("🔗 The mentor added a meeting link.")
        card, markup = booking_card_for_mentee(
            view.booking, view.offering, view.mentor, mentee.timezone or context.services.default_timezone
        )
        await send_quietly(context, mentee.id, f"{head}\n\n{card}", markup)


async def _load_as_mentor(context: AppContext, booking_id: int) -> BookingView:
    async with context.uow() as uow:
        view, actor = await usecases.booking_for(uow, booking_id, context.user.id)
    if actor != Actor.MENTOR:
        raise NotAllowed("only the mentor answers a booking")
    return view


@on_button(ActOnBooking)
async def act_on_booking(update: Update, context: AppContext, data: ActOnBooking) -> str | None:
    view = await _load_as_mentor(context, data.booking_id)
    now = context.clock.now()
    try:
        if data.action == BookingAction.CONFIRM:
            async with context.uow() as uow:
                view = await usecases.change_status(
                    uow, context.clock, context.user.id, data.booking_id, BookingStatus.CONFIRMED
                )
                await uow.commit()
            await show(update, *_mentor_card(context, view))
            await _tell_mentee(context, view, BookingStatus.CONFIRMED)
            return _("Confirmed. The mentee has been told.")
        if data.action == BookingAction.DECLINE:
            if BookingStatus.DECLINED not in allowed_moves(view.booking, Actor.MENTOR, now):
                raise InvalidTransition(view.booking.status, BookingStatus.DECLINED, Actor.MENTOR)
            await dialog.save(context, DialogState.DECLINE_REASON, {"booking_id": data.booking_id})
            prompt = _("Why are you declining booking #{id}? Type a short reason; the mentee will see it.")
            await say(update, prompt.format(id=data.booking_id))
            return None
        if data.action == BookingAction.LINK:
            if not view.booking.status.is_active:
                raise InvalidTransition(view.booking.status, view.booking.status, Actor.MENTOR)
            await dialog.save(context, DialogState.MEETING_LINK, {"booking_id": data.booking_id})
            prompt = _("Send the meeting link for booking #{id} (it must start with https:// or http://).")
            await say(update, prompt.format(id=data.booking_id))
            return None
        await show(update, *_mentor_card(context, view))
        return None
    except InvalidTransition:
        # the card was stale: show the booking as it is now, then explain
        await show(update, *_mentor_card(context, view))
        raise


@text_step(DialogState.DECLINE_REASON)
async def type_decline_reason(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    booking_id = int(data["booking_id"])
    async with context.uow() as uow:
        view = await usecases.change_status(
            uow, context.clock, context.user.id, booking_id, BookingStatus.DECLINED, text
        )
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    card, markup = _mentor_card(context, view)
    await say(update, _("Declined. The mentee has been told.") + "\n\n" + card, markup)
    await _tell_mentee(context, view, BookingStatus.DECLINED)


@text_step(DialogState.MEETING_LINK)
async def type_meeting_link(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    booking_id = int(data["booking_id"])
    async with context.uow() as uow:
        view = await usecases.add_meeting_link(uow, context.clock, context.user.id, booking_id, text)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    card, markup = _mentor_card(context, view)
    await say(update, _("Link saved. The mentee has been told.") + "\n\n" + card, markup)
    await _tell_mentee(context, view, "link")


def handlers() -> list[BaseHandler]:
    return [act_on_booking]

