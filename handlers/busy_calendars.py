"""Busy calendars (``/availability`` → 📆 Busy calendars): a mentor's external calendars whose events block their
free times. The list shows each calendar with its last successful read and, in plain words, what went wrong; a
calendar is added by typing its address (then read at once) and removed with its button.

Addresses are secret (Google calls its one "secret address"), so screens show only the host and the file name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from chat.i18n import _, format_moment, ngettext
from domain import busy
from domain.busy import BusyCalendar, Failure, Problem
from domain.schedule import PROFILE
from domain.usecases.calendars import Calendars, add_calendar, list_calendars, remove_calendar
from handlers.callbacks import OpenSchedule, RemoveCalendar, SchedulePage
from handlers.common import AppContext, on_button, say, show
from handlers.dialog import DialogState, text_step
from handlers.keyboards import stack
from handlers.render import esc

LABEL_MAX = 48


def calendar_label(url: str) -> str:
    """``calendar.google.com/…/basic.ics``: where it is, never the secret part of the address."""
    parts = urlsplit(url)
    name = parts.path.rstrip("/").rsplit("/", 1)[-1]
    label = f"{parts.hostname or ''}/…/{name}" if name else parts.hostname or url
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


def failure_words(failure: Failure) -> str:
    """Why a calendar could not be read, in words its mentor can act on."""
    status = failure.status
    match failure.problem:
        case Problem.ADDRESS:
            return _("the address leads to a private or local network, which the bot may not read")
        case Problem.DNS:
            return _("the server's name was not found: check the address")
        case Problem.CONNECT:
            return _("the server could not be reached")
        case Problem.TIMEOUT:
            return _("the server did not answer in time")
        case Problem.HTTP if status in (404, 410):
            return _("there is no calendar at this address any more (HTTP {status}): was it reset?").format(
                status=status
            )
        case Problem.HTTP if status in (401, 403):
            return _("the server refused to share the calendar (HTTP {status}): is it still public?").format(
                status=status
            )
        case Problem.HTTP:
            return _("the server answered with an error (HTTP {status})").format(status=status)
        case Problem.REDIRECTS:
            return _("the address sends the bot on too many redirects, or to something that is not a web page")
        case Problem.TOO_LARGE:
            return _("the calendar is larger than {size} MB").format(size=busy.MAX_BYTES // (1024 * 1024))
        case Problem.NOT_CALENDAR:
            return _("what is there is not a calendar in iCalendar format (.ics)")
        case Problem.TOO_MANY_EVENTS:
            return _("the calendar has too many events in the coming weeks")
    return _("the calendar could not be read")


def calendar_lines(number: int, calendar: BusyCalendar, found: Calendars) -> list[str]:
    zone = found.zone
    lines = [f"{number}. <code>{esc(calendar_label(calendar.url))}</code>"]
    read = calendar.last_success_at
    if calendar.failure is None and read is not None:
        lines.append(_("✅ Read {time}.").format(time=format_moment(read, zone)))
    elif calendar.failure is None:
        lines.append(_("⏳ Not read yet."))
    else:
        lines.append(_("⚠️ The last read failed: {reason}.").format(reason=esc(failure_words(calendar.failure))))
        if read is None:
            lines.append(_("It has never been read, so it blocks nothing yet."))
        elif found.blocks(calendar):
            lines.append(
                _("Last good read {time}: its busy times still block until {until}.").format(
                    time=format_moment(read, zone), until=format_moment(read + busy.STALE_AFTER, zone)
                )
            )
        else:
            lines.append(
                _("Last good read {time}, more than a day ago: it no longer blocks anything.").format(
                    time=format_moment(read, zone)
                )
            )
    return lines


def calendars_view(found: Calendars, refresh_minutes: int, note: str = "") -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        _("<b>📆 Busy calendars</b>"),
        ngettext(
            "Events in these calendars block your free times, with each offering's buffers, just like bookings. "
            "The bot reads them every {minutes} minute.",
            "Events in these calendars block your free times, with each offering's buffers, just like bookings. "
            "The bot reads them every {minutes} minutes.",
            refresh_minutes,
        ).format(minutes=refresh_minutes),
        "",
    ]
    for number, calendar in enumerate(found.calendars, start=1):
        lines += calendar_lines(number, calendar, found)
    if not found.calendars:
        lines.append(_("No calendars yet."))
    if note:
        lines += ["", note]
    removals = []
    for number, calendar in enumerate(found.calendars, start=1):
        assert calendar.id is not None, "a stored calendar"
        removals.append([(_("🗑 Remove {number}").format(number=number), RemoveCalendar(calendar.id))])
    if found.room:
        add = [(_("➕ Add a calendar"), OpenSchedule(PROFILE, SchedulePage.ADD_CALENDAR))]
    else:
        add = []
        lines += ["", _("That is the most: remove one to add another.")]
    return "\n".join(lines), stack(
        *removals, add, [(_("◀ Weekly hours"), OpenSchedule(PROFILE, SchedulePage.DAYS))]
    )


def ask_address_view() -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "Send the address of a calendar in iCalendar format (it ends in <code>.ics</code>, or starts with "
        "<code>webcal://</code>):\n"
        "• <b>Google Calendar</b>: Settings → your calendar → Integrate calendar → “Secret address in iCal "
        "format”.\n"
        "• <b>Outlook</b>: Settings → Calendar → Shared calendars → Publish a calendar → the ICS link.\n"
        "• <b>iCloud</b>: in Calendar, share the calendar as a Public Calendar and copy its link.\n"
        "Only busy times are used; titles and details are never shown to anyone. You may delete your message "
        "with the address afterwards."
    )
    return text, stack([(_("◀ Back"), OpenSchedule(PROFILE, SchedulePage.CALENDARS))])


def _refresh_minutes(context: AppContext) -> int:
    return context.services.calendar_refresh_minutes


async def open_calendars(update: Update, context: AppContext, page: SchedulePage) -> None:
    """The list of busy calendars, or the question for a new one's address."""
    async with context.uow() as uow:
        found = await list_calendars(uow, context.clock, context.user.id)
        if page == SchedulePage.ADD_CALENDAR and found.room:
            await uow.dialogs.set(context.user.id, DialogState.BUSY_CALENDAR_URL, {})
            view = ask_address_view()
        else:
            await uow.dialogs.clear(context.user.id)
            view = calendars_view(found, _refresh_minutes(context))
        await uow.commit()
    await show(update, *view)


@text_step(DialogState.BUSY_CALENDAR_URL)
async def type_address(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    async with context.uow() as uow:
        added = await add_calendar(uow, context.clock, context.user.id, text)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    await say(update, _("Added. Reading the calendar…"))
    reader = context.services.calendar_reader
    if reader is not None and added.id is not None:
        await reader.refresh(added.id)
    async with context.reader() as uow:
        found = await list_calendars(uow, context.clock, context.user.id)
    read = next((c for c in found.calendars if c.id == added.id), added)
    if read.failure is not None:
        note = _("It could not be read yet; the bot tries again every few minutes.")
    elif read.last_success_at is not None:
        note = _("Done: its busy times now block your free times.")
    else:
        note = ""
    await say(update, *calendars_view(found, _refresh_minutes(context), note))


@on_button(RemoveCalendar)
async def remove_busy_calendar(update: Update, context: AppContext, data: RemoveCalendar) -> str | None:
    async with context.uow() as uow:
        found = await remove_calendar(uow, context.clock, context.user.id, data.calendar_id)
        await uow.commit()
    await show(update, *calendars_view(found, _refresh_minutes(context)))
    return _("Removed: its busy times no longer block your free times.")


def stopped_text(calendars: list[BusyCalendar]) -> str:
    """The message that calendars failed for a day and stopped blocking (the outbox's ``CALENDAR_FAILING``)."""
    lines = [
        ngettext(
            "⚠️ <b>A busy calendar stopped blocking your free times.</b>",
            "⚠️ <b>{count} busy calendars stopped blocking your free times.</b>",
            len(calendars),
        ).format(count=len(calendars)),
        "",
    ]
    for calendar in calendars:
        reason = failure_words(calendar.failure) if calendar.failure else ""
        lines.append(f"• <code>{esc(calendar_label(calendar.url))}</code>: {esc(reason)}")
    lines += [
        "",
        _(
            "The bot could not read it for a day, so mentees can now book times it would have blocked. Check the "
            "address in 📆 Busy calendars; the bot keeps trying."
        ),
    ]
    return "\n".join(lines)


def stopped_buttons() -> InlineKeyboardMarkup:
    return stack([(_("📆 Busy calendars"), OpenSchedule(PROFILE, SchedulePage.CALENDARS))])


def handlers() -> list[BaseHandler]:
    return [remove_busy_calendar]
