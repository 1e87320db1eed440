"""Mentees book: offerings → date → time → notes (or Skip) → summary → Confirm (for a slot paid in the bot: one
"Confirm and pay" button per way of paying, then the invoice - ``handlers.payments``).

Dates and times are in the mentee's zone (the mentor's clock alongside when it differs). Every step re-reads
the offering and re-checks the slot, so a paused offering or a time taken meanwhile is explained, not booked.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler

from chat.i18n import N_, _, format_clock, format_day, format_money, format_price, ngettext
from domain.errors import NotFound, OfferingUnavailable, SlotTaken, TooManyBookings
from domain.mentee import DayPart, MyTab, WeekPage, group_times, monday_of, week_page, window_days
from domain.model import NOTES_MAX, BookingStatus, Offering, PaymentMode
from domain.payments import HELD, ONLINE, modes_for, price_in
from domain.series import MIN_WEEKS, weeks_possible
from domain.sessions import cutoff_before
from domain.slots import SlotContext, seats_left
from domain.usecases.booking import (
    BookingRequest,
    book_slot,
    check_slot,
    date_page,
    free_times,
    upi_id_for,
)
from domain.validation import clean_text
from handlers import dialog, discover, payments
from handlers.callbacks import (
    BookDate,
    BookOffering,
    BookTime,
    BookWeek,
    Browse,
    CallbackData,
    ConfirmBooking,
    ConfirmPaid,
    JoinWaitlist,
    OpenMyBookings,
    PlanSeries,
    RepeatWeekly,
    SkipNotes,
)
from handlers.common import AppContext, ButtonCallback, C, on_button, show
from handlers.dialog import DialogState, text_step
from handlers.errors import explain
from handlers.keyboards import button, rows
from handlers.render import (
    booking_card_for_mentee,
    cancellation_terms,
    esc,
    group_size,
    offering_summary,
    package_line,
    refund_terms,
    seats_left_line,
    session_time,
)

log = logging.getLogger(__name__)


# --- browsing -----------------------------------------------------------------------------------------------


async def browse(update: Update, context: AppContext, page: int = 0, lead: str = "") -> None:
    """The open offerings (``handlers.discover``); ``lead`` explains why the list is shown instead of something
    else."""
    await discover.open_discover(update, context, page, lead)


book_command = discover.book_command  # ``/book``, ``/book <words>``: the Discover list (``handlers.discover``)
browse_page = discover.browse_page  # ``Browse``: the unfiltered list, e.g. the date picker's "◀ All offerings"


def offering_may_be_gone(fn: ButtonCallback[C]) -> ButtonCallback[C]:
    """A paused, archived or deleted offering mid-booking: say so and show what is open now."""

    @functools.wraps(fn)
    async def guarded(update: Update, context: AppContext, data: C) -> str | None:
        try:
            return await fn(update, context, data)
        except (OfferingUnavailable, NotFound) as error:
            await browse(update, context, lead="⚠️ " + explain(error) + "\n\n")
            return explain(error)

    return guarded


# --- date and time ------------------------------------------------------------------------------------------


def _zones_note(ctx: SlotContext, zone: str) -> str:
    mentor_zone = ctx.mentor.timezone
    if mentor_zone and mentor_zone != zone:
        return _("Times are in your zone ({mine}); the mentor's time ({theirs}) is in brackets.").format(
            mine=esc(zone), theirs=esc(mentor_zone)
        )
    return _("Times are in your zone ({mine}).").format(mine=esc(zone))


def _week_heading(page: WeekPage) -> str:
    return _("Week of {first} – {last}").format(first=format_day(page.monday), last=format_day(page.sunday))


@dataclass(frozen=True, slots=True)
class Picker:
    """The buttons of the date and time steps: a week, a date, a time, and the way back from the dates. The booking
    flow's (``booking_picker``) by default; moving a booking has its own (``handlers.reschedule``)."""

    week: Callable[[date], CallbackData]
    day: Callable[[date], CallbackData]
    time: Callable[[datetime], CallbackData]
    back: Callable[[], InlineKeyboardButton]
    ticked: frozenset[datetime] = frozenset()  # times shown ticked (the mentor proposing new times)
    wait: Callable[[date, bool], CallbackData] | None = None  # 🔔 the waitlist: a full date, or any date


def booking_picker(offering_id: int) -> Picker:
    return Picker(
        week=functools.partial(BookWeek, offering_id),
        day=functools.partial(BookDate, offering_id),
        time=functools.partial(BookTime, offering_id),
        back=lambda: button(_("◀ All offerings"), Browse(0)),
        wait=functools.partial(JoinWaitlist, offering_id),
    )


def dates_view(
    ctx: SlotContext,
    days: list[date],
    zone: str,
    now: datetime | None = None,
    monday: date | None = None,
    picker: Picker | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """One week (Monday to Sunday, the mentee's zone) of the dates with free times, ◀ ▶ to the other weeks of the
    booking window; without ``monday``, the week of the first free date. Without ``now`` only the weeks holding
    free dates are reachable."""
    offering = ctx.offering
    assert offering.id is not None
    picker = picker or booking_picker(offering.id)
    back = [picker.back()]
    if not days:
        text = _("{summary}\n\nNo free times in the next {days} days. Please check again later.").format(
            summary=offering_summary(offering, ctx.mentor), days=offering.advance_booking_days
        )
        if picker.wait is None or now is None:
            return text, InlineKeyboardMarkup([back])
        first_day = window_days(offering, now, zone)[0]
        wait = button(_("🔔 Tell me when a time frees up"), picker.wait(first_day, True))
        return text, InlineKeyboardMarkup([[wait], back])
    window = window_days(offering, now, zone) if now is not None else (days[0], days[-1])
    page = week_page(days, window, monday)
    text = _("{summary}\n\n<b>Choose a date.</b> {zones}").format(
        summary=offering_summary(offering, ctx.mentor), zones=_zones_note(ctx, zone)
    )
    text += "\n\n<b>" + _week_heading(page) + "</b>"
    if not page.days:
        text += "\n" + _("No free times this week. Try another week.")
    markup = rows([(format_day(day), picker.day(day)) for day in page.days], width=3)
    nav = []
    if page.has_previous:
        nav.append(button(_("◀ Earlier week"), picker.week(page.monday - timedelta(days=7))))
    if page.has_next:
        nav.append(button(_("Later week ▶"), picker.week(page.monday + timedelta(days=7))))
    return text, InlineKeyboardMarkup([*markup.inline_keyboard, *([nav] if nav else []), back])


_DAY_PARTS = {
    DayPart.MORNING: N_("🌅 Morning"),
    DayPart.AFTERNOON: N_("☀️ Afternoon"),
    DayPart.EVENING: N_("🌙 Evening"),
}


def times_view(
    ctx: SlotContext, day: date, times: list[datetime], zone: str, lead: str = "", picker: Picker | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """The free times of ``day`` grouped by part of the day on the mentee's clock: each group named in the text
    (with its first and last time) and starting a new row of buttons, in the same order. A group offering's
    buttons say how many seats each time has left."""
    offering = ctx.offering
    assert offering.id is not None
    picker = picker or booking_picker(offering.id)
    mentor_zone = ctx.mentor.timezone
    dual = bool(mentor_zone and mentor_zone != zone)

    def label(moment: datetime) -> str:
        mine = format_clock(moment, zone)
        shown = f"{mine} ({format_clock(moment, mentor_zone)})" if dual and mentor_zone else mine
        if offering.is_group:
            # TRANSLATORS: a time button of a group session: the time, then how many seats are still free
            return _("{time} · {left} left").format(time=shown, left=seats_left(offering, ctx.busy, moment))
        return shown

    back = [button(_("◀ Dates"), picker.week(monday_of(day)))]
    if not times:
        text = lead + _("{day} has no free times left. Please pick another date.").format(day=format_day(day))
        if picker.wait is None:
            return text, InlineKeyboardMarkup([back])
        wait = button(_("🔔 Tell me when a time frees up"), picker.wait(day, False))
        return text, InlineKeyboardMarkup([[wait], back])
    lines = [
        lead
        + _("<b>{title}</b> on {day}. <b>Choose a time.</b> {zones}").format(
            title=esc(offering.title), day=format_day(day), zones=_zones_note(ctx, zone)
        )
    ]
    if offering.is_group:
        lines.append(group_size(offering.capacity))
    if offering.package_weeks is not None:
        lines.append(package_line(offering.package_weeks))
    keyboard: list[Sequence[InlineKeyboardButton]] = []
    for part, moments in group_times(times, zone):
        span = format_clock(moments[0], zone)
        if len(moments) > 1:
            span += " – " + format_clock(moments[-1], zone)
        lines.append(_("{part}: {times}").format(part=_(_DAY_PARTS[part]), times=span))
        width = 2 if dual or offering.is_group else 3
        labels = [(("✅ " if t in picker.ticked else "") + label(t), picker.time(t)) for t in moments]
        markup = rows(labels, width=width)
        keyboard += markup.inline_keyboard
    return "\n".join(lines), InlineKeyboardMarkup([*keyboard, back])


@on_button(BookOffering)
@offering_may_be_gone
async def choose_offering(update: Update, context: AppContext, data: BookOffering) -> str | None:
    async with context.reader() as uow:
        ctx, days = await date_page(uow, context.clock, data.offering_id, context.user.id, context.zone)
    await show(update, *dates_view(ctx, days, context.zone, context.clock.now()))
    return None


@on_button(BookWeek)
@offering_may_be_gone
async def choose_week(update: Update, context: AppContext, data: BookWeek) -> str | None:
    async with context.reader() as uow:
        ctx, days = await date_page(
            uow, context.clock, data.offering_id, context.user.id, context.zone, data.monday
        )
    await show(update, *dates_view(ctx, days, context.zone, context.clock.now(), data.monday))
    return None


@on_button(BookDate)
@offering_may_be_gone
async def choose_date(update: Update, context: AppContext, data: BookDate) -> str | None:
    async with context.reader() as uow:
        ctx, times = await free_times(
            uow, context.clock, data.offering_id, context.user.id, data.day, context.zone
        )
    await show(update, *times_view(ctx, data.day, times, context.zone))
    return None


async def _show_fresh_times(update: Update, context: AppContext, offering_id: int, start: datetime) -> None:
    """After a slot was lost: explain, and show what is free on that day now."""
    day = start.astimezone(_zone(context)).date()
    async with context.reader() as uow:
        ctx, times = await free_times(uow, context.clock, offering_id, context.user.id, day, context.zone)
    lead = _("⚠️ This time was just taken. Here are the free times now.") + "\n\n"
    await show(update, *times_view(ctx, day, times, context.zone, lead))


def _zone(context: AppContext) -> ZoneInfo:
    return ZoneInfo(context.zone)


def _notes_step(offering_id: int, start: datetime) -> dict[str, Any]:
    """What the notes step stores: which booking is being made (typed notes are added to it)."""
    return {"offering_id": offering_id, "start": start.isoformat()}


@on_button(BookTime)
@offering_may_be_gone
async def choose_time(update: Update, context: AppContext, data: BookTime) -> str | None:
    try:
        # a read: confirming re-checks the slot inside its own write transaction anyway
        async with context.reader() as uow:
            await check_slot(uow, context.clock, data.offering_id, context.user.id, data.start)
    except SlotTaken:
        await _show_fresh_times(update, context, data.offering_id, data.start)
        return _("This time was just taken. Please choose another time.")
    await dialog.save(context, DialogState.BOOKING_NOTES, _notes_step(data.offering_id, data.start))
    text = _(
        "Anything the mentor should know before the session? Type a short note (up to {limit} characters), "
        "or tap Skip."
    ).format(limit=NOTES_MAX)
    markup = InlineKeyboardMarkup(
        [
            [button(_("Skip ▶"), SkipNotes(data.offering_id, data.start))],
            [button(_("◀ Times"), BookDate(data.offering_id, data.start.astimezone(_zone(context)).date()))],
        ]
    )
    await show(update, text, markup)
    return None


# --- notes and summary --------------------------------------------------------------------------------------


def _policy_lines(offering: Offering) -> list[str]:
    """What to prepare and when cancelling closes, said before the mentee confirms."""
    lines = []
    if offering.preparation_notes:
        lines.append(_("📝 How to prepare: {notes}").format(notes=esc(offering.preparation_notes)))
    lines.append(cancellation_terms(offering))
    return lines


async def _summary(
    update: Update, context: AppContext, offering_id: int, start: datetime, notes: str | None
) -> None:
    settings = context.services.payments
    async with context.reader() as uow:
        ctx = await check_slot(uow, context.clock, offering_id, context.user.id, start)
        upi_id = await upi_id_for(uow, ctx.offering, settings)
    offering = ctx.offering
    assert offering.id is not None
    modes = modes_for(offering, settings, upi_id)
    online = [mode for mode in modes if mode in HELD]  # paid now, while the time is held
    prices = [price_in(offering, mode, settings.stars_per_rupee) for mode in online]
    shown = " · ".join(dict.fromkeys(format_price(amount, currency) for amount, currency in prices))
    seats = []
    if offering.is_group:
        seats = [seats_left_line(seats_left(offering, ctx.busy, start), offering.capacity)]
    lines = [
        _("<b>Please check your booking</b>"),
        offering_summary(offering, ctx.mentor),
        _("When: {time}").format(time=session_time(start, context.zone, ctx.mentor.timezone, _("mentor"))),
        *seats,
        _("Price: {price}").format(price=shown or format_money(offering.price)),
        _("Your notes: {notes}").format(notes=esc(notes)) if notes else _("No notes."),
        *_policy_lines(offering),
    ]
    if not offering.is_free:
        lines.append(refund_terms(cutoff_before(start, offering), context.zone))
    lines.append("")
    if offering.is_free:
        lines.append(_("⚡ Free session: confirmed instantly when you tap Confirm."))
    elif not online:
        lines.append(_("⏳ Paid session: needs the mentor's approval. I will message you when they answer."))
    else:
        minutes = int(settings.hold.total_seconds() // 60)
        if any(mode in ONLINE for mode in online):
            held = ngettext(
                "💳 Paid in Telegram: after you confirm, the time is held for you for {minutes} minute while "
                "you pay.",
                "💳 Paid in Telegram: after you confirm, the time is held for you for {minutes} minutes while "
                "you pay.",
                minutes,
            )
        else:
            held = ngettext(
                "📲 Paid by UPI to the mentor: after you confirm, the time is held for you for {minutes} minute "
                "while you pay.",
                "📲 Paid by UPI to the mentor: after you confirm, the time is held for you for {minutes} minutes "
                "while you pay.",
                minutes,
            )
        lines.append(held.format(minutes=minutes))
        if PaymentMode.UPI in online:
            lines.append(
                _("📲 By UPI: once you tap “I have paid”, the time stays held until the mentor has checked.")
            )
        lines.append(
            _("Once paid, your session is confirmed at once.")
            if offering.auto_confirm_paid
            else _("Once paid, the mentor confirms it; I will message you.")
        )
    keyboard = [[button(_("✅ Confirm booking"), ConfirmBooking(offering.id, start))]]
    if online:
        keyboard = [
            [button(_confirm_and_pay(mode, amount, currency), ConfirmPaid(offering.id, start, mode))]
            for mode, (amount, currency) in zip(online, prices, strict=True)
        ]
    zone = ctx.availability.timezone if ctx.availability is not None else "UTC"
    possible = weeks_possible(offering, start, context.clock.now(), zone)
    if offering.package_weeks is not None:  # booked only as its weeks: on to them (``handlers.series``)
        weeks = offering.package_weeks
        del lines[len(lines) - lines[::-1].index("") :]  # how a single session is confirmed does not apply
        lines.append(
            ngettext(
                "📦 Next: this time every week for {count} week, which weeks are free, then one confirmation "
                "(and one payment) for them.",
                "📦 Next: this time every week for {count} weeks, which weeks are free, then one confirmation "
                "(and one payment) for them all.",
                weeks,
            ).format(count=weeks)
        )
        if possible >= weeks:
            label = ngettext("📦 On to the {count} week ▶", "📦 On to the {count} weeks ▶", weeks)
            keyboard = [[button(label.format(count=weeks), PlanSeries(offering.id, start, weeks))]]
        else:
            lines.append(
                "⚠️ "
                + _("The booking window ends before the last week of this package: please choose an earlier time.")
            )
            keyboard = []
    elif possible >= MIN_WEEKS:
        keyboard.append([button(_("🔁 Repeat weekly"), RepeatWeekly(offering.id, start))])
    keyboard.append([button(_("◀ Change time"), BookDate(offering.id, start.astimezone(_zone(context)).date()))])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(keyboard))


def _confirm_and_pay(mode: PaymentMode, amount: Decimal, currency: str) -> str:
    price = format_price(amount, currency)
    if mode == PaymentMode.STARS:
        return _("⭐ Confirm and pay {price} in Stars").format(price=price)
    if mode == PaymentMode.UPI:
        return _("📲 Confirm and pay {price} by UPI").format(price=price)
    return _("💳 Confirm and pay {price}").format(price=price)


@text_step(DialogState.BOOKING_NOTES)
async def type_notes(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    notes = clean_text(text, NOTES_MAX, field="notes")
    start = datetime.fromisoformat(data["start"])
    await dialog.save(context, DialogState.BOOKING_NOTES, {**data, "notes": notes})
    try:
        await _summary(update, context, int(data["offering_id"]), start, notes or None)
    except SlotTaken:
        await _show_fresh_times(update, context, int(data["offering_id"]), start)
    except (OfferingUnavailable, NotFound) as error:
        await browse(update, context, lead="⚠️ " + explain(error) + "\n\n")


@on_button(SkipNotes)
@offering_may_be_gone
async def skip_notes(update: Update, context: AppContext, data: SkipNotes) -> str | None:
    step = _notes_step(data.offering_id, data.start)
    if await dialog.load(context) != (DialogState.BOOKING_NOTES, step):  # usually saved so by choose_time
        await dialog.save(context, DialogState.BOOKING_NOTES, step)
    try:
        await _summary(update, context, data.offering_id, data.start, None)
    except SlotTaken:
        await _show_fresh_times(update, context, data.offering_id, data.start)
        return _("This time was just taken. Please choose another time.")
    return None


async def notes_for(context: AppContext, offering_id: int, start: datetime) -> str | None:
    """The notes typed in this booking conversation, if it is still the one being confirmed."""
    found = await dialog.load(context)
    if found is None or found[0] != DialogState.BOOKING_NOTES:
        return None
    data = found[1]
    if data.get("offering_id") == offering_id and data.get("start") == start.isoformat():
        return data.get("notes") or None
    return None


@on_button(ConfirmBooking)
@offering_may_be_gone
async def confirm_booking(update: Update, context: AppContext, data: ConfirmBooking) -> str | None:
    return await _confirm(update, context, data.offering_id, data.start, None)


@on_button(ConfirmPaid)
@offering_may_be_gone
async def confirm_and_pay(update: Update, context: AppContext, data: ConfirmPaid) -> str | None:
    return await _confirm(update, context, data.offering_id, data.start, data.mode)


async def _confirm(
    update: Update, context: AppContext, offering_id: int, start: datetime, mode: PaymentMode | None
) -> str | None:
    """Book the slot (held awaiting payment when it is paid in the bot: then the invoice follows)."""
    notes = await notes_for(context, offering_id, start)
    request = BookingRequest(offering_id, context.user.id, start, notes, mode)
    limit, settings = context.services.max_active_per_mentor, context.services.payments
    try:
        async with context.uow() as uow:
            view = await book_slot(uow, context.clock, request, max_active_per_mentor=limit, payments=settings)
            await uow.dialogs.clear(context.user.id)
            await uow.commit()
    except SlotTaken:
        await _show_fresh_times(update, context, offering_id, start)
        return _("This time was just taken. Please choose another time.")
    except TooManyBookings as error:
        to_bookings = InlineKeyboardMarkup([[button(_("🎟 My bookings"), OpenMyBookings(MyTab.UPCOMING, 0))]])
        await show(update, "⚠️ " + explain(error), to_bookings)
        return explain(error)
    if view.booking.status == BookingStatus.AWAITING_PAYMENT:
        await payments.show_held_booking(update, context, view)
        return None
    card, markup = booking_card_for_mentee(view.booking, view.offering, view.mentor, context.zone)
    if view.booking.status == BookingStatus.CONFIRMED:
        head = _("🎉 Booked! Your session is confirmed.")
    else:
        head = _("📨 Request sent. The mentor will confirm it; I will message you.")
    await show(update, f"{head}\n\n{card}", markup)
    return None


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("book", book_command),
        browse_page,
        choose_offering,
        choose_week,
        choose_date,
        choose_time,
        skip_notes,
        confirm_booking,
        confirm_and_pay,
    ]
