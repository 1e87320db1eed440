"""Date exceptions (a day off, other hours on a date, a vacation) and the free time of the next 7 days.

Dates are the mentor's: typed (``2026-12-25``, ``25.12.2026``, ``25 Dec``) or tapped from the next two weeks.
Each date button carries what it is for, so a press needs no stored state; a typed date goes to the step stored
in the dialog. The use cases in ``domain.usecases.overrides`` refuse a date in the past (on the mentor's clock).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from chat.i18n import _, format_clock, format_day, ngettext
from domain.schedule import PROFILE, Exceptions, OverrideSpan, Preview
from domain.usecases.overrides import (
    check_exception_date,
    list_exceptions,
    preview_free_time,
    read_exception_date,
    remove_exceptions,
    set_date_hours,
    set_day_off,
    set_vacation,
)
from domain.validation import parse_time_ranges
from handlers.callbacks import CallbackData, DateStep, OpenSchedule, PickDate, RemoveException, SchedulePage
from handlers.common import AppContext, on_button, show
from handlers.dialog import DialogState, text_step
from handlers.keyboards import stack
from handlers.render import describe_ranges, esc

PICKER_DAYS = 14

_FIRST_STEP = {
    SchedulePage.DAY_OFF: DateStep.DAY_OFF,
    SchedulePage.DATE_HOURS: DateStep.DATE_HOURS,
    SchedulePage.VACATION: DateStep.VACATION_FROM,
}


# --- rendering ----------------------------------------------------------------------------------------------


def span_label(span: OverrideSpan) -> str:
    if span.first == span.last:
        return format_day(span.first)
    return _("{first} – {last}").format(first=format_day(span.first), last=format_day(span.last))


def span_line(span: OverrideSpan) -> str:
    if span.is_day_off and span.days > 1:
        what = ngettext("{count} day off", "{count} days off", span.days).format(count=span.days)
    elif span.is_day_off:
        what = _("day off")
    else:
        what = describe_ranges(span.ranges)
    return f"• {esc(span_label(span))}: {esc(what)}"


def exceptions_view(found: Exceptions, note: str = "") -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        _("<b>Date exceptions</b> (time zone {zone})").format(zone=esc(found.timezone)),
        _("On these dates your weekly hours do not apply, for every offering."),
        "",
    ]
    lines += [span_line(span) for span in found.spans] or [_("No exceptions ahead.")]
    if note:
        lines += ["", note]
    if found.bookings_kept:
        lines.append(
            ngettext(
                "You have {count} booking on these dates. It is kept: cancel it from /bookings if you need to.",
                "You have {count} bookings on these dates. They are kept: "
                "cancel them from /bookings if you need to.",
                found.bookings_kept,
            ).format(count=found.bookings_kept)
        )
    removals = [
        [(_("🗑 Remove {date}").format(date=span_label(span)), RemoveException(span.first, span.last))]
        for span in found.spans
    ]
    return "\n".join(lines), stack(
        *removals,
        [
            (_("🌴 Day off"), OpenSchedule(PROFILE, SchedulePage.DAY_OFF)),
            (_("🕘 Other hours"), OpenSchedule(PROFILE, SchedulePage.DATE_HOURS)),
            (_("✈️ Vacation"), OpenSchedule(PROFILE, SchedulePage.VACATION)),
        ],
        [(_("👀 Next 7 days"), OpenSchedule(PROFILE, SchedulePage.PREVIEW))],
        [(_("◀ Weekly hours"), OpenSchedule(PROFILE, SchedulePage.DAYS))],
    )


def date_picker(step: DateStep, start: date, first: date | None = None) -> list[list[tuple[str, CallbackData]]]:
    """Two weeks of date buttons from ``start``, three to a row."""
    days = [start + timedelta(days=n) for n in range(PICKER_DAYS)]
    buttons: list[tuple[str, CallbackData]] = [
        (format_day(day), PickDate(step, day, first or day)) for day in days
    ]
    return [buttons[i : i + 3] for i in range(0, len(buttons), 3)]


def ask_date_view(step: DateStep, today: date, first: date | None = None) -> tuple[str, InlineKeyboardMarkup]:
    typing_hint = _("Type a date such as <code>{example}</code> or <code>25 Dec</code>, or tap one.").format(
        example=(today + timedelta(days=30)).isoformat()
    )
    prompts = {
        DateStep.DAY_OFF: _("<b>Day off.</b> Which date?"),
        DateStep.DATE_HOURS: _("<b>Other hours on a date.</b> Which date?"),
        DateStep.VACATION_FROM: _("<b>Vacation.</b> The first day off?"),
        DateStep.VACATION_TO: _("<b>Vacation from {first}.</b> The last day off?").format(
            first=format_day(first or today)
        ),
    }
    back = [(_("◀ Back"), OpenSchedule(PROFILE, SchedulePage.EXCEPTIONS))]
    return f"{prompts[step]}\n{typing_hint}", stack(*date_picker(step, first or today, first), back)


def ask_hours_view(day: date) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "Type your hours for {day} in 24-hour time, separated by commas, "
        "e.g. <code>10:00-13:00, 15:00-17:00</code>."
    ).format(day=format_day(day))
    return text, stack([(_("◀ Back"), OpenSchedule(PROFILE, SchedulePage.EXCEPTIONS))])


def preview_view(preview: Preview) -> tuple[str, InlineKeyboardMarkup]:
    zone = preview.timezone
    lines = [
        _("<b>Your free time in the next 7 days</b> (time zone {zone})").format(zone=esc(zone)),
        _(
            "Your hours after date exceptions, minus booked sessions with their buffers and the busy times "
            "of your calendars."
        ),
        "",
    ]
    for day in preview.days:
        if day.free:
            what = ", ".join(f"{format_clock(low, zone)}–{format_clock(high, zone)}" for low, high in day.free)
        elif day.open:
            what = _("no free time left")
        elif day.is_exception:
            what = _("day off")
        else:
            what = _("no hours")
        lines.append(f"<b>{esc(format_day(day.day))}</b>: {esc(what)}")
    return "\n".join(lines), stack(
        [(_("📅 Date exceptions"), OpenSchedule(PROFILE, SchedulePage.EXCEPTIONS))],
        [(_("◀ Weekly hours"), OpenSchedule(PROFILE, SchedulePage.DAYS))],
    )


# --- steps --------------------------------------------------------------------------------------------------


async def open_page(update: Update, context: AppContext, page: SchedulePage) -> None:
    """The exceptions list, the preview, or the first step of a new exception (its date)."""
    async with context.uow() as uow:
        if page == SchedulePage.PREVIEW:
            view = preview_view(await preview_free_time(uow, context.clock, context.user.id))
            await uow.dialogs.clear(context.user.id)
        elif page in _FIRST_STEP:
            found = await list_exceptions(uow, context.clock, context.user.id)
            step = _FIRST_STEP[page]
            view = ask_date_view(step, found.today)
            await uow.dialogs.set(context.user.id, DialogState.EXCEPTION_DATE, {"step": step.value})
        else:
            view = exceptions_view(await list_exceptions(uow, context.clock, context.user.id))
            await uow.dialogs.clear(context.user.id)
        await uow.commit()
    await show(update, *view)


async def take_date(
    update: Update,
    context: AppContext,
    step: DateStep,
    day: date | None,
    typed: str = "",
    first: date | None = None,
) -> str | None:
    """The date of ``step`` (tapped ``day``, or ``typed``): save a day off or a vacation, or ask for more."""
    mentor, clock = context.user.id, context.clock
    async with context.uow() as uow:
        if day is None:
            day = await read_exception_date(uow, clock, mentor, typed)
        note, toast = "", None
        if step == DateStep.DAY_OFF:
            found = await set_day_off(uow, clock, mentor, day)
            note, view = _("Saved: {day} is a day off.").format(day=format_day(day)), None
        elif step == DateStep.DATE_HOURS:
            await check_exception_date(uow, clock, mentor, day)
            await uow.dialogs.set(mentor, DialogState.EXCEPTION_HOURS, {"day": day.isoformat()})
            view = ask_hours_view(day)
        elif step == DateStep.VACATION_FROM:
            await check_exception_date(uow, clock, mentor, day)
            data = {"step": DateStep.VACATION_TO.value, "first": day.isoformat()}
            await uow.dialogs.set(mentor, DialogState.EXCEPTION_DATE, data)
            view = ask_date_view(DateStep.VACATION_TO, day, first=day)
        else:
            assert first is not None
            found = await set_vacation(uow, clock, mentor, first, day)
            note = _("Saved: {first} – {last} are days off.").format(first=format_day(first), last=format_day(day))
            view = None
        if view is None:
            await uow.dialogs.clear(mentor)
            view, toast = exceptions_view(found, note), _("Saved.")
        await uow.commit()
    await show(update, *view)
    return toast


@on_button(PickDate)
async def pick_date(update: Update, context: AppContext, data: PickDate) -> str | None:
    first = data.first if data.step == DateStep.VACATION_TO else None
    return await take_date(update, context, data.step, data.day, first=first)


@text_step(DialogState.EXCEPTION_DATE)
async def type_date(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    step = DateStep(data.get("step", DateStep.DAY_OFF.value))
    first = date.fromisoformat(data["first"]) if step == DateStep.VACATION_TO else None
    await take_date(update, context, step, None, typed=text, first=first)


@text_step(DialogState.EXCEPTION_HOURS)
async def type_date_hours(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    day = date.fromisoformat(data["day"])
    ranges = parse_time_ranges(text)
    async with context.uow() as uow:
        found = await set_date_hours(uow, context.clock, context.user.id, day, ranges)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    note = _("Saved: other hours on {day}.").format(day=format_day(day))
    await show(update, *exceptions_view(found, note))


@on_button(RemoveException)
async def remove_exception(update: Update, context: AppContext, data: RemoveException) -> str | None:
    async with context.uow() as uow:
        found = await remove_exceptions(uow, context.clock, context.user.id, data.first, data.last)
        await uow.commit()
    await show(update, *exceptions_view(found))
    return _("Removed: back to your weekly hours.")


def handlers() -> list[BaseHandler]:
    return [pick_date, remove_exception]
