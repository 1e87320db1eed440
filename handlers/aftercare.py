"""The mentee after booking: answering a reminder, cancelling under the offering's policy, rating the session."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from chat.i18n import _
from domain.model import BookingStatus, BookingView
from domain.usecases.aftercare import leave_feedback, rate_session
from domain.usecases.my_bookings import cancel_as_mentee, mentee_booking, start_mentee_cancellation
from handlers.callbacks import Attendance, CancelMine, RateSession, SkipFeedback
from handlers.common import AppContext, on_button, say, show, show_keyboard
from handlers.dialog import DialogState, text_step
from handlers.keyboards import button, rows
from handlers.render import booking_card_for_mentee, esc, session_time


def stars_keyboard(booking_id: int) -> InlineKeyboardMarkup:
    return rows([("⭐" * stars, RateSession(booking_id, stars)) for stars in range(1, 6)], width=5)


def attendance_buttons(booking_id: int, may_cancel: bool = True) -> list[InlineKeyboardButton]:
    """The day-before reminder's question; "Can't make it" only while the mentee may still cancel."""
    buttons = [button(_("👍 I'll be there"), Attendance(booking_id, True))]
    if may_cancel:
        buttons.append(button(_("🙁 Can't make it"), Attendance(booking_id, False)))
    return buttons


def join_row(view: BookingView) -> list[list[InlineKeyboardButton]]:
    link = view.booking.meeting_link
    if link and view.booking.status == BookingStatus.CONFIRMED:
        return [[InlineKeyboardButton(_("🎥 Join"), url=link)]]
    return []


async def _ask_cancel_reason(update: Update, context: AppContext, booking_id: int) -> None:
    async with context.uow() as uow:
        view = await start_mentee_cancellation(uow, context.clock, context.user.id, booking_id)
        await uow.dialogs.set(context.user.id, DialogState.MENTEE_CANCEL_REASON, {"booking_id": booking_id})
        await uow.commit()
    await say(
        update,
        _(
            "You are cancelling <b>{title}</b> on {time}. Type a short reason for the mentor, "
            "or /cancel to keep the booking."
        ).format(title=esc(view.offering.title), time=session_time(view.booking.scheduled_at, context.zone)),
    )


@on_button(Attendance)
async def answer_reminder(update: Update, context: AppContext, data: Attendance) -> str | None:
    if not data.coming:
        await _ask_cancel_reason(update, context, data.booking_id)
        return None
    async with context.reader() as uow:
        view = await mentee_booking(uow, context.user.id, data.booking_id)
    await show_keyboard(update, InlineKeyboardMarkup(join_row(view)) if join_row(view) else None)
    return _("Great, see you there!")


@on_button(CancelMine)
async def cancel_mine(update: Update, context: AppContext, data: CancelMine) -> str | None:
    await _ask_cancel_reason(update, context, data.booking_id)
    return None


@text_step(DialogState.MENTEE_CANCEL_REASON)
async def type_cancel_reason(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    booking_id = int(data["booking_id"])
    async with context.uow() as uow:
        view = await cancel_as_mentee(uow, context.clock, context.user.id, booking_id, text)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    card, markup = booking_card_for_mentee(view.booking, view.offering, view.mentor, context.zone)
    await say(update, _("Your booking is cancelled. The mentor has been told.") + "\n\n" + card, markup)


@on_button(RateSession)
async def rate(update: Update, context: AppContext, data: RateSession) -> str | None:
    async with context.uow() as uow:
        view = await rate_session(uow, context.clock, context.user.id, data.booking_id, data.stars)
        await uow.dialogs.set(context.user.id, DialogState.RATING_FEEDBACK, {"booking_id": data.booking_id})
        await uow.commit()
    text = _(
        "Thank you! You rated <b>{title}</b> {stars}.\n"
        "Want to add a few words for the mentor? Type them now, or tap Skip."
    ).format(title=esc(view.offering.title), stars="⭐" * data.stars)
    await show(update, text, rows([(_("Skip ▶"), SkipFeedback(data.booking_id))], width=1))
    return _("Rating saved.")


@on_button(SkipFeedback)
async def skip_feedback(update: Update, context: AppContext, data: SkipFeedback) -> str | None:
    async with context.uow() as uow:
        await mentee_booking(uow, context.user.id, data.booking_id)
        found = await uow.dialogs.get(context.user.id)
        if found and found[0] == DialogState.RATING_FEEDBACK:
            await uow.dialogs.clear(context.user.id)
        await uow.commit()
    await show(update, _("Thank you for rating your session!"))
    return None


@text_step(DialogState.RATING_FEEDBACK)
async def type_feedback(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    async with context.uow() as uow:
        await leave_feedback(uow, context.clock, context.user.id, int(data["booking_id"]), text)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    await say(update, _("Thank you for your feedback!"))


def handlers() -> list[BaseHandler]:
    return [answer_reminder, cancel_mine, rate, skip_feedback]
