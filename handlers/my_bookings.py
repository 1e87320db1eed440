"""The mentee's bookings (``/mybookings``): Upcoming / Past / Cancelled, paged, and each booking's card with what
can be done now - 🎥 Join, 📅 Add to calendar (an ``.ics`` file), ❌ Cancel (``handlers.aftercare``), ⭐ Rate.

Every press re-loads the booking and re-checks that the presser is its mentee; ids from buttons are never trusted.
"""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import BaseHandler, CommandHandler

from chat.i18n import N_, _, format_moment, ngettext
from domain import mentee, reschedule
from domain.calendar import booking_ics
from domain.mentee import PAGE_SIZE, MyBookings, MyTab, mentee_actions
from domain.model import BookingStatus, BookingView
from domain.sessions import cancellation_deadline
from domain.usecases.aftercare import booking_to_rate
from domain.usecases.my_bookings import my_booking, open_my_bookings
from handlers.aftercare import stars_keyboard
from handlers.calendar_feed import event_texts
from handlers.callbacks import (
    ActOnSeries,
    AddToCalendar,
    AskRating,
    CancelMine,
    OpenMyBooking,
    OpenMyBookings,
    OpenWaitlist,
    Reschedule,
    SeriesAction,
)
from handlers.common import AppContext, on_button, show
from handlers.keyboards import button
from handlers.labels import booking_status_label
from handlers.payments import pay_buttons
from handlers.render import booking_card_for_mentee, esc, proposal_buttons

_TAB_NAMES = {
    MyTab.UPCOMING: N_("Upcoming"),
    MyTab.PAST: N_("Past"),
    MyTab.CANCELLED: N_("Cancelled"),
}
_TITLE_IN_BUTTON = 24  # characters of the offering's title on an entry's button


def tab_name(tab: MyTab) -> str:
    return _(_TAB_NAMES[tab])


def _empty_text(tab: MyTab) -> str:
    match tab:
        case MyTab.UPCOMING:
            return _("No upcoming sessions. Book one with /book.")
        case MyTab.PAST:
            return _("No past sessions yet.")
        case MyTab.CANCELLED:
            return _("Nothing was cancelled.")


def entry_line(number: int, view: BookingView, zone: str) -> str:
    return _("{number}. {time} · {title} · {mentor} · {status}").format(
        number=number,
        time=format_moment(view.booking.scheduled_at, zone),
        title=esc(view.offering.title),
        mentor=esc(view.mentor.display_name),
        status=booking_status_label(view.booking.status),
    )


def list_screen(found: MyBookings, zone: str) -> tuple[str, InlineKeyboardMarkup]:
    """One page of one tab: a line and a button per booking, paging, the tabs with their counts."""
    lines = [
        _("📋 <b>My bookings</b>"),
        _("<b>{tab}</b> · page {page} of {pages}").format(
            tab=tab_name(found.tab), page=found.page + 1, pages=found.pages
        ),
    ]
    first = found.page * PAGE_SIZE + 1  # numbering runs on across pages
    if not found.entries:
        lines.append(_empty_text(found.tab))
    rows: list[list[InlineKeyboardButton]] = []
    for number, view in enumerate(found.entries, start=first):
        assert view.booking.id is not None
        lines.append(entry_line(number, view, zone))
        title = view.offering.title
        if len(title) > _TITLE_IN_BUTTON:
            title = title[: _TITLE_IN_BUTTON - 1] + "…"
        label = _("{number}. {time} · {title}").format(
            number=number, time=format_moment(view.booking.scheduled_at, zone), title=title
        )
        rows.append([button(label, OpenMyBooking(view.booking.id, found.tab, found.page))])
    paging = []
    if found.has_previous:
        paging.append(button(_("◀ Previous"), OpenMyBookings(found.tab, found.page - 1)))
    if found.has_next:
        paging.append(button(_("Next ▶"), OpenMyBookings(found.tab, found.page + 1)))
    if paging:
        rows.append(paging)
    rows.append(
        [
            button(
                ("• " if tab == found.tab else "")
                + _("{tab} ({count})").format(tab=tab_name(tab), count=found.counts[tab]),
                OpenMyBookings(tab, 0),
            )
            for tab in MyTab
        ]
    )
    rows.append([button(_("🔔 Waitlist"), OpenWaitlist())])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def move_lines(view: BookingView, zone: str, now: datetime, max_moves: int) -> list[str]:
    """Until when the session can be moved and how many moves are left, a request waiting for the mentor, or why
    it can no longer be moved (``domain.reschedule``)."""
    booking, offering = view.booking, view.offering
    if booking.proposals and booking.status.is_active:
        return [_("🔁 The mentor proposes new times: tap one below to move your session there.")]
    if booking.requested_start is not None and booking.status.is_active:
        return [
            _("⏳ You asked to move it to {time}; waiting for the mentor's answer.").format(
                time=format_moment(booking.requested_start, zone)
            )
        ]
    if booking.status not in reschedule.MOVABLE or booking.scheduled_at <= now or max_moves == 0:
        return []
    if reschedule.moves_left(booking, max_moves) == 0:
        return [
            ngettext(
                "This session was moved {count} time, the most allowed.",
                "This session was moved {count} times, the most allowed.",
                booking.reschedules,
            ).format(count=booking.reschedules)
        ]
    if not reschedule.may_reschedule(booking, offering, now, max_moves):
        hours = reschedule.reschedule_cutoff_hours(offering)
        return [
            ngettext(
                "Moving closed {hours} hour before the start.",
                "Moving closed {hours} hours before the start.",
                hours,
            ).format(hours=hours)
        ]
    left = reschedule.moves_left(booking, max_moves)
    deadline = format_moment(reschedule.reschedule_deadline(booking, offering), zone)
    return [
        ngettext(
            "You can move it until {time} ({count} move left).",
            "You can move it until {time} ({count} moves left).",
            left,
        ).format(time=deadline, count=left)
    ]


def card_screen(
    view: BookingView,
    zone: str,
    now: datetime,
    back: OpenMyBookings,
    max_moves: int,
) -> tuple[str, InlineKeyboardMarkup]:
    """The mentee's card (never the mentor's private note) with the actions open now."""
    booking, offering = view.booking, view.offering
    assert booking.id is not None
    text, _join = booking_card_for_mentee(booking, offering, view.mentor, zone)
    lines = [text]
    if booking.meeting_notes:
        lines.append(_("Your notes: {notes}").format(notes=esc(booking.meeting_notes)))
    if booking.cancellation_reason and booking.status in (BookingStatus.CANCELLED, BookingStatus.DECLINED):
        lines.append(_("Reason: {reason}").format(reason=esc(booking.cancellation_reason)))
    if booking.mentee_rating is not None:
        lines.append(_("Your rating: {stars}").format(stars="⭐" * booking.mentee_rating))
    actions = mentee_actions(booking, offering, now)
    if actions.cancel:
        deadline = format_moment(cancellation_deadline(booking, offering), zone)
        lines.append(_("You can cancel until {time}.").format(time=deadline))
    elif actions.cancel_closed:
        lines.append(
            ngettext(
                "Cancelling closed {hours} hour before the start; please message your mentor.",
                "Cancelling closed {hours} hours before the start; please message your mentor.",
                offering.cancellation_cutoff_hours,
            ).format(hours=offering.cancellation_cutoff_hours)
        )
    lines += move_lines(view, zone, now, max_moves)
    rows: list[list[InlineKeyboardButton]] = []
    if actions.release:  # awaiting payment: once the hold is over only letting it go is left (it expires too)
        rows += pay_buttons(booking, pay=actions.pay)
    if actions.join and booking.meeting_link:
        rows.append([InlineKeyboardButton(_("🎥 Join"), url=booking.meeting_link)])
    if actions.calendar:
        rows.append([button(_("📅 Add to calendar"), AddToCalendar(booking.id))])
    if booking.status.is_active:
        rows += proposal_buttons(booking, zone)
    if reschedule.may_reschedule(booking, offering, now, max_moves):
        rows.append([button(_("🔁 Reschedule"), Reschedule(booking.id))])
    if actions.cancel:
        rows.append([button(_("❌ Cancel booking"), CancelMine(booking.id))])
    if booking.series_id is not None and booking.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED):
        rows.append([button(_("🚫 Cancel all future weeks"), ActOnSeries(booking.id, SeriesAction.CANCEL_FUTURE))])
    if actions.rate:
        rows.append([button(_("⭐ Rate this session"), AskRating(booking.id))])
    rows.append([button(_("◀ Back to my bookings"), back)])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def calendar_file(view: BookingView, now: datetime) -> bytes:
    """The ``.ics`` for the booking, described as in the mentee's calendar feed (same UID and SEQUENCE)."""
    return booking_ics(view.booking, *event_texts(view, as_mentor=False), now)


# --- handlers -----------------------------------------------------------------------------------------------


async def show_my_bookings(
    update: Update, context: AppContext, tab: MyTab = MyTab.UPCOMING, page: int = 0
) -> None:
    async with context.reader() as uow:
        found = await open_my_bookings(uow, context.clock, context.user.id, tab, page)
    await show(update, *list_screen(found, context.zone))


async def my_bookings_command(update: Update, context: AppContext) -> None:
    await show_my_bookings(update, context)


@on_button(OpenMyBookings)
async def open_my_bookings_page(update: Update, context: AppContext, data: OpenMyBookings) -> str | None:
    await show_my_bookings(update, context, data.tab, data.page)
    return None


@on_button(OpenMyBooking)
async def open_my_booking(update: Update, context: AppContext, data: OpenMyBooking) -> str | None:
    async with context.reader() as uow:
        view = await my_booking(uow, context.user.id, data.booking_id)
    back = OpenMyBookings(data.tab, data.page)
    max_moves = context.services.max_reschedules
    await show(update, *card_screen(view, context.zone, context.clock.now(), back, max_moves))
    return None


@on_button(AddToCalendar)
async def add_to_calendar(update: Update, context: AppContext, data: AddToCalendar) -> str | None:
    async with context.reader() as uow:
        view = await my_booking(uow, context.user.id, data.booking_id)
    now = context.clock.now()
    if not mentee.mentee_actions(view.booking, view.offering, now).calendar:
        return _("This session is no longer upcoming, so there is nothing to add to your calendar.")
    name = f"booking-{data.booking_id}.ics"
    caption = _("📅 Open this file to add <b>{title}</b> on {time} to your calendar.").format(
        title=esc(view.offering.title), time=format_moment(view.booking.scheduled_at, context.zone)
    )
    chat = update.effective_chat
    if chat is not None:
        document = InputFile(calendar_file(view, now), filename=name, attach=True)
        await context.bot.send_document(chat.id, document, filename=name, caption=caption)
    return _("Calendar file sent.")


@on_button(AskRating)
async def ask_rating(update: Update, context: AppContext, data: AskRating) -> str | None:
    async with context.reader() as uow:
        view = await booking_to_rate(uow, context.user.id, data.booking_id)
    text = _("How was <b>{title}</b> with {mentor}? Tap the stars (5 is best).").format(
        title=esc(view.offering.title), mentor=esc(view.mentor.display_name)
    )
    back = button(_("◀ Back"), OpenMyBooking(data.booking_id, MyTab.PAST, 0))
    await show(update, text, InlineKeyboardMarkup([*stars_keyboard(data.booking_id).inline_keyboard, [back]]))
    return None


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("mybookings", my_bookings_command),
        open_my_bookings_page,
        open_my_booking,
        add_to_calendar,
        ask_rating,
    ]
