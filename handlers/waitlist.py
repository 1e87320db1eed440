"""The waitlist: 🔔 Tell me when a time frees up (from a full booking window or a full date), My bookings →
Waitlist with 🔕 Leave buttons, and the notice of a freed time (``handlers.notify``) with 📅 Book it.

The rules are ``domain.waitlist``; who may leave an entry is re-checked (only its mentee)."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from chat.i18n import _, format_day, format_moment
from domain.mentee import MyTab
from domain.usecases.waitlist import FreedTime, join_waitlist, leave_waitlist, my_waitlist
from handlers.callbacks import BookTime, JoinWaitlist, LeaveWaitlist, OpenMyBookings, OpenWaitlist
from handlers.common import AppContext, on_button, show
from handlers.keyboards import button
from handlers.render import esc

_TITLE_IN_BUTTON = 24


@on_button(JoinWaitlist)
async def join(update: Update, context: AppContext, data: JoinWaitlist) -> str | None:
    day = None if data.any_day else data.day
    async with context.uow() as uow:
        _entry, offering = await join_waitlist(
            uow, context.clock, context.user.id, data.offering_id, day, context.zone
        )
        await uow.commit()
    if day is None:
        text = _("🔔 Done: I will message you when a time of <b>{title}</b> frees up.").format(
            title=esc(offering.title)
        )
    else:
        text = _("🔔 Done: I will message you when a time of <b>{title}</b> on {day} frees up.").format(
            title=esc(offering.title), day=format_day(day)
        )
    text += "\n" + _("The first to confirm gets a freed time. Leave the list any time in My bookings → Waitlist.")
    markup = InlineKeyboardMarkup([[button(_("🔔 My waitlist"), OpenWaitlist())]])
    await show(update, text, markup)
    return _("You are on the waitlist.")


async def _list(update: Update, context: AppContext, lead: str = "") -> None:
    async with context.reader() as uow:
        entries = await my_waitlist(uow, context.clock, context.user.id)
    lines = [lead + _("🔔 <b>Your waitlist</b>")]
    rows: list[list[InlineKeyboardButton]] = []
    if not entries:
        lines.append(
            _(
                "You are not waiting for any time. When a date or an offering is full, tap “🔔 Tell me when a "
                "time frees up”."
            )
        )
    for number, (entry, offering) in enumerate(entries, start=1):
        when = format_day(entry.day) if entry.day is not None else _("any date")
        lines.append(_("{number}. {title} · {when}").format(number=number, title=esc(offering.title), when=when))
        title = (
            offering.title
            if len(offering.title) <= _TITLE_IN_BUTTON
            else offering.title[: _TITLE_IN_BUTTON - 1] + "…"
        )
        assert entry.id is not None
        rows.append(
            [button(_("🔕 Leave {number}. {title}").format(number=number, title=title), LeaveWaitlist(entry.id))]
        )
    rows.append([button(_("◀ Back to my bookings"), OpenMyBookings(MyTab.UPCOMING, 0))])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


@on_button(OpenWaitlist)
async def open_waitlist(update: Update, context: AppContext, data: OpenWaitlist) -> str | None:
    await _list(update, context)
    return None


@on_button(LeaveWaitlist)
async def leave(update: Update, context: AppContext, data: LeaveWaitlist) -> str | None:
    async with context.uow() as uow:
        await leave_waitlist(uow, context.user.id, data.entry_id)
        await uow.commit()
    await _list(update, context)
    return _("You left the waitlist.")


def notice(freed: FreedTime, zone: str, slot: datetime) -> tuple[str, InlineKeyboardMarkup]:
    """The notice of a freed time to one person waiting: the time in their zone, Book it, Leave."""
    assert freed.offering.id is not None and freed.entry.id is not None
    text = _(
        "🔔 A time freed up: <b>{title}</b> with {mentor}, {time}. Tap Book it to take it: the first to confirm "
        "gets it."
    ).format(
        title=esc(freed.offering.title), mentor=esc(freed.mentor.display_name), time=format_moment(slot, zone)
    )
    markup = InlineKeyboardMarkup(
        [
            [button(_("📅 Book it"), BookTime(freed.offering.id, slot))],
            [button(_("🔕 Leave the waitlist"), LeaveWaitlist(freed.entry.id))],
        ]
    )
    return text, markup


def handlers() -> list[BaseHandler]:
    return [join, open_waitlist, leave]
