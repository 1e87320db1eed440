"""A group session's roster (the mentor's): the attendees of one session together, with one meeting link for
everyone, each attendee marked completed or no-show, and cancelling the whole session. Opened from any attendee's
booking card (**👥 Session roster**); each attendee's own card (notes, private note, cancelling one attendee)
stays one tap away.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from chat.i18n import _
from domain.booking import allowed_moves
from domain.errors import InvalidTransition
from domain.inbox import SessionNotStarted, tab_of
from domain.model import REASON_MAX, Actor, BookingStatus
from domain.roster import Roster
from domain.usecases.roster import (
    cancel_session,
    mark_attendee,
    open_roster,
    set_session_link,
    start_session_cancel,
)
from handlers.callbacks import ActOnSession, OpenBookingCard, OpenInbox, SessionAction
from handlers.common import AppContext, on_button, say, show
from handlers.dialog import DialogState, text_step
from handlers.keyboards import button
from handlers.labels import booking_status_label
from handlers.render import esc, session_time

S = BookingStatus
_NAME_IN_BUTTON = 20  # characters of an attendee's name on a button


def _short(name: str) -> str:
    return name if len(name) <= _NAME_IN_BUTTON else name[: _NAME_IN_BUTTON - 1] + "…"


def roster_view(roster: Roster, zone: str, now: datetime) -> tuple[str, InlineKeyboardMarkup]:
    """The session's time, seats, link and attendees (numbered, with their status); the buttons open now."""
    offering = roster.offering
    lines = [
        _("👥 <b>Group session</b> · {title}").format(title=esc(offering.title)),
        _("When: {time}").format(time=session_time(roster.start, zone)),
        _("Seats taken: {taken} of {capacity}").format(taken=roster.seats_taken, capacity=offering.capacity),
        _("Meeting link: {link}").format(link=esc(roster.link)) if roster.link else _("No meeting link yet."),
        "",
    ]
    rows: list[list[InlineKeyboardButton]] = []
    for number, view in enumerate(roster.attendees, start=1):
        booking = view.booking
        assert booking.id is not None
        who = esc(view.mentee.display_name) + (f" (@{esc(view.mentee.username)})" if view.mentee.username else "")
        lines.append(
            _("{number}. {mentee} · {status}").format(
                number=number, mentee=who, status=booking_status_label(booking.status)
            )
        )
        name = _short(view.mentee.display_name)
        row = [
            button(
                _("{number}. {mentee}").format(number=number, mentee=name),
                OpenBookingCard(booking.id, tab_of(booking, now), 0),
            )
        ]
        if S.COMPLETED in allowed_moves(booking, Actor.MENTOR, now):
            row += [
                # TRANSLATORS: the attendee numbered {number} on the roster attended / did not come
                button(
                    _("✔️ {number} came").format(number=number), ActOnSession(booking.id, SessionAction.COMPLETE)
                ),
                button(
                    _("🙈 {number} no-show").format(number=number), ActOnSession(booking.id, SessionAction.NO_SHOW)
                ),
            ]
        rows.append(row)
    if not roster.attendees:
        lines.append(_("Nobody has booked this session."))
    anchor = roster.attendees[0].booking if roster.attendees else None
    if anchor is not None and anchor.id is not None:
        if roster.link_receivers:
            label = _("🔗 Change the link for everyone") if roster.link else _("🔗 Link for everyone")
            rows.append([button(label, ActOnSession(anchor.id, SessionAction.LINK))])
        if roster.cancellable:
            rows.append([button(_("🚫 Cancel the whole session"), ActOnSession(anchor.id, SessionAction.CANCEL))])
        rows.append([button(_("⬅ Back to list"), OpenInbox(tab_of(anchor, now), 0))])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def _view(context: AppContext, roster: Roster) -> tuple[str, InlineKeyboardMarkup]:
    return roster_view(roster, context.zone, context.clock.now())


async def _redraw(update: Update, context: AppContext, booking_id: int) -> None:
    async with context.reader() as uow:
        roster = await open_roster(uow, context.user.id, booking_id)
    await show(update, *_view(context, roster))


@on_button(ActOnSession)
async def act_on_session(update: Update, context: AppContext, data: ActOnSession) -> str | None:
    try:
        return await _act(update, context, data)
    except (InvalidTransition, SessionNotStarted):
        await _redraw(update, context, data.booking_id)  # then the alert explains
        raise


async def _act(update: Update, context: AppContext, data: ActOnSession) -> str | None:
    booking_id, me = data.booking_id, context.user.id
    match data.action:
        case SessionAction.COMPLETE | SessionAction.NO_SHOW:
            target = S.COMPLETED if data.action == SessionAction.COMPLETE else S.NO_SHOW
            async with context.uow() as uow:
                roster = await mark_attendee(uow, context.clock, me, booking_id, target)
                await uow.commit()
            await show(update, *_view(context, roster))
            return _("Marked completed.") if target == S.COMPLETED else _("Marked as no-show.")
        case SessionAction.LINK:
            async with context.uow() as uow:
                roster = await open_roster(uow, me, booking_id)
                if not roster.link_receivers:
                    raise InvalidTransition(S.CANCELLED, S.CANCELLED, Actor.MENTOR)
                await uow.dialogs.set(me, DialogState.SESSION_LINK, {"booking_id": booking_id})
                await uow.commit()
            prompt = _(
                "Send the meeting link for the whole session (it must start with https:// or http://). "
                "Every attendee will get it."
            )
            await say(update, prompt)
            return None
        case SessionAction.CANCEL:
            async with context.uow() as uow:
                await start_session_cancel(uow, me, booking_id)
                await uow.dialogs.set(me, DialogState.SESSION_CANCEL_REASON, {"booking_id": booking_id})
                await uow.commit()
            prompt = _(
                "Why are you cancelling the whole session? Type a short reason (at most {limit} characters); "
                "every attendee will see it. Send /cancel to keep the session."
            )
            await say(update, prompt.format(limit=REASON_MAX))
            return None
        case _:  # OPEN
            await _redraw(update, context, booking_id)
            return None


@text_step(DialogState.SESSION_LINK)
async def type_session_link(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    async with context.uow() as uow:
        roster = await set_session_link(uow, context.clock, context.user.id, int(data["booking_id"]), text)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    card, markup = _view(context, roster)
    await say(update, _("Link saved. Every attendee has been told.") + "\n\n" + card, markup)


@text_step(DialogState.SESSION_CANCEL_REASON)
async def type_session_cancel_reason(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    async with context.uow() as uow:
        roster = await cancel_session(uow, context.clock, context.user.id, int(data["booking_id"]), text)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    card, markup = _view(context, roster)
    await say(update, _("The whole session is cancelled. Every attendee has been told.") + "\n\n" + card, markup)


def handlers() -> list[BaseHandler]:
    return [act_on_session]
