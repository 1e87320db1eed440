"""Weekly availability on a phone: tap the days, tap the hours, save (or type exact hours)."""

from __future__ import annotations

import html
from itertools import groupby
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler

from bot.i18n import _, format_wall
from domain import usecases
from domain.errors import InvalidInput
from domain.model import Availability, TimeRange, WeeklyRule
from domain.ports import UnitOfWork
from domain.validation import merge_hours, parse_time_ranges
from handlers import dialog
from handlers.callbacks import AvailabilityGo, AvailabilityStep, Menu, MenuItem, ToggleDay, ToggleHour
from handlers.common import AppContext, on_button, say, show
from handlers.dialog import DialogState, text_step
from handlers.keyboards import stack
from handlers.labels import weekday_name

FIRST_HOUR, LAST_HOUR = 6, 22  # the hour grid offers 06:00 to 23:00; typed hours reach any time


def describe_weekly(rules: tuple[WeeklyRule, ...] | list[WeeklyRule]) -> str:
    """``Mon, Tue: 09:00–12:00, 14:00–18:00`` lines, days with the same hours grouped."""
    if not rules:
        return _("No weekly hours yet.")
    by_day: dict[int, list[TimeRange]] = {}
    for rule in rules:
        by_day.setdefault(rule.weekday, []).append(rule.range)
    lines = []
    pairs = sorted((day, tuple(sorted(r, key=lambda x: x.start))) for day, r in by_day.items())
    for ranges, group in groupby(sorted(pairs, key=lambda p: (p[1], p[0])), key=lambda p: p[1]):
        days = ", ".join(weekday_name(day) for day, _r in sorted(group))
        hours = ", ".join(f"{format_wall(r.start)}–{format_wall(r.end)}" for r in ranges)
        lines.append(f"{days}: {hours}")
    return "\n".join(lines)


def draft_from(availability: Availability | None) -> dict[str, Any]:
    """Start the editor from what is saved: its days, and the whole hours its ranges cover."""
    rules = availability.weekly if availability else ()
    days = sorted({r.weekday for r in rules})
    hours = sorted({h for r in rules for h in range(r.range.start // 60, (r.range.end + 59) // 60)})
    return {"days": days, "hours": hours}


def days_view(draft: dict[str, Any], saved: str, zone: str) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "<b>Your weekly hours</b> (time zone {zone})\n{saved}\n\n<b>Step 1 of 2:</b> tap the days you mentor on."
    ).format(zone=html.escape(zone), saved=html.escape(saved))
    chosen = set(draft["days"])
    day_buttons = [((("✅ " if d in chosen else "▫️ ") + weekday_name(d)), ToggleDay(d)) for d in range(7)]
    markup = stack(
        day_buttons[:4],
        day_buttons[4:],
        [(_("Next: hours ▶"), AvailabilityGo(AvailabilityStep.HOURS))],
    )
    return text, markup


def hours_view(draft: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    days = ", ".join(weekday_name(d) for d in draft["days"]) or "—"
    text = _(
        "<b>Step 2 of 2:</b> tap the hours you are free on {days}. Each button is one hour starting then.\n"
        "Need half hours? Tap “Type exact hours”."
    ).format(days=html.escape(days))
    chosen = set(draft["hours"])
    hour_buttons = [
        ((("✅ " if h in chosen else "") + format_wall(h * 60)), ToggleHour(h)) for h in range(FIRST_HOUR, LAST_HOUR + 1)
    ]
    grid = [hour_buttons[i : i + 4] for i in range(0, len(hour_buttons), 4)]
    markup = stack(
        *grid,
        [
            (_("◀ Days"), AvailabilityGo(AvailabilityStep.DAYS)),
            (_("✍️ Type exact hours"), AvailabilityGo(AvailabilityStep.TYPE)),
        ],
        [(_("💾 Save"), AvailabilityGo(AvailabilityStep.SAVE))],
    )
    return text, markup


async def _draft_in(uow: UnitOfWork, user_id: int) -> tuple[dict[str, Any], Availability | None]:
    """The editor's draft (the stored one, or one made from the saved hours) and the saved hours."""
    saved = await usecases.get_availability(uow, user_id)
    found = await uow.dialogs.get(user_id)
    if found and found[0] == DialogState.AVAILABILITY:
        return {"days": list(found[1].get("days", [])), "hours": list(found[1].get("hours", []))}, saved
    return draft_from(saved), saved


async def _toggle(context: AppContext, key: str, value: int) -> tuple[dict[str, Any], Availability | None]:
    """Flip one day or hour in the draft, in one transaction."""
    async with context.uow() as uow:
        draft, saved = await _draft_in(uow, context.user.id)
        draft[key] = sorted(set(draft[key]) ^ {value})
        await uow.dialogs.set(context.user.id, DialogState.AVAILABILITY, draft)
        await uow.commit()
    return draft, saved


async def _ensure_mentor(context: AppContext) -> None:
    async with context.uow() as uow:
        context.me = await usecases.become_mentor(uow, context.user.id)
        await uow.commit()


async def open_editor(update: Update, context: AppContext) -> None:
    await _ensure_mentor(context)
    async with context.uow() as uow:
        saved = await usecases.get_availability(uow, context.user.id)
        draft = draft_from(saved)
        await uow.dialogs.set(context.user.id, DialogState.AVAILABILITY, draft)
        await uow.commit()
    text, markup = days_view(draft, describe_weekly(saved.weekly if saved else ()), context.zone)
    await show(update, text, markup)


async def availability_command(update: Update, context: AppContext) -> None:
    await open_editor(update, context)


@on_button(ToggleDay)
async def toggle_day(update: Update, context: AppContext, data: ToggleDay) -> str | None:
    if not 0 <= data.weekday <= 6:
        raise InvalidInput("days")
    draft, saved = await _toggle(context, "days", data.weekday)
    text, markup = days_view(draft, describe_weekly(saved.weekly if saved else ()), context.zone)
    await show(update, text, markup)
    return None


@on_button(ToggleHour)
async def toggle_hour(update: Update, context: AppContext, data: ToggleHour) -> str | None:
    if not FIRST_HOUR <= data.hour <= LAST_HOUR:
        raise InvalidInput("hours")
    draft, _saved = await _toggle(context, "hours", data.hour)
    text, markup = hours_view(draft)
    await show(update, text, markup)
    return None


async def _save(update: Update, context: AppContext, days: list[int], ranges: list[TimeRange]) -> None:
    if not days:
        raise InvalidInput("days")
    if not ranges:
        raise InvalidInput("hours")
    async with context.uow() as uow:
        rules = await usecases.set_weekly_availability(uow, context.user.id, days, ranges)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    await show(
        update,
        _("Saved. Your weekly hours ({zone}):\n{hours}").format(
            zone=html.escape(context.zone), hours=html.escape(describe_weekly(rules))
        ),
        stack(
            [(_("➕ New offering"), Menu(MenuItem.NEW_OFFERING)), (_("📋 My offerings"), Menu(MenuItem.MY_OFFERINGS))],
            [(_("🗓 Edit hours again"), Menu(MenuItem.AVAILABILITY))],
        ),
    )


@on_button(AvailabilityGo)
async def availability_step(update: Update, context: AppContext, data: AvailabilityGo) -> str | None:
    async with context.uow() as uow:
        draft, saved = await _draft_in(uow, context.user.id)
    if data.step == AvailabilityStep.DAYS:
        text, markup = days_view(draft, describe_weekly(saved.weekly if saved else ()), context.zone)
    elif data.step == AvailabilityStep.HOURS:
        if not draft["days"]:
            raise InvalidInput("days")
        await dialog.save(context, DialogState.AVAILABILITY, draft)
        text, markup = hours_view(draft)
    elif data.step == AvailabilityStep.TYPE:
        if not draft["days"]:
            raise InvalidInput("days")
        await dialog.save(context, DialogState.AVAILABILITY_TYPED, draft)
        text = _(
            "Type your hours for {days} in 24-hour time, separated by commas, e.g. <code>09:30-12:00, 14:00-18:30</code>."
        ).format(days=html.escape(", ".join(weekday_name(d) for d in draft["days"])))
        markup = stack([(_("◀ Back"), AvailabilityGo(AvailabilityStep.HOURS))])
    else:
        await _save(update, context, draft["days"], merge_hours(draft["hours"]))
        return _("Saved.")
    await show(update, text, markup)
    return None


@text_step(DialogState.AVAILABILITY_TYPED)
async def type_hours(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    await _save(update, context, list(data.get("days", [])), parse_time_ranges(text))


@text_step(DialogState.AVAILABILITY)
async def hours_expected(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    await say(update, _("Please use the buttons above, or tap “Type exact hours” to type them."))


def handlers() -> list[BaseHandler]:
    return [CommandHandler("availability", availability_command), toggle_day, toggle_hour, availability_step]

