"""Weekly availability on a phone: tap the days, tap the hours, save (or type exact hours); or one day at a time
(see its hours, change them, copy them to other days, clear it).

The same editor serves the mentor's own hours (scope 0) and an offering's own hours (scope = the offering's id,
from ``EditHours``). The several-days editor keeps its draft (scope, days, hours) in the dialog; every other
button carries its scope, and every press reloads the hours through a use case that checks who is asking.
Date exceptions and the free-time preview live in ``handlers.overrides``.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler

from chat.i18n import _, format_wall
from domain import schedule
from domain.errors import InvalidInput
from domain.model import TimeRange, WeeklyRule
from domain.ports import UnitOfWork
from domain.schedule import PROFILE, Week
from domain.usecases import people
from domain.usecases.availability import clear_day, copy_day_to, load_week, set_days
from domain.validation import merge_hours, parse_time_ranges
from handlers import busy_calendars, overrides
from handlers.callbacks import (
    ActOnDay,
    ApplyCopy,
    AvailabilityGo,
    AvailabilityStep,
    CallbackData,
    CopyDay,
    DayAction,
    EditDay,
    EditHours,
    Menu,
    MenuItem,
    OpenSchedule,
    SchedulePage,
    ToggleDay,
    ToggleHour,
)
from handlers.common import AppContext, on_button, say, show
from handlers.dialog import DialogState, text_step
from handlers.keyboards import stack
from handlers.labels import weekday_name
from handlers.render import describe_ranges, esc

FIRST_HOUR, LAST_HOUR = 6, 22  # the hour grid offers 06:00 to 23:00; typed hours reach any time
_DRAFT_STATES = (DialogState.AVAILABILITY, DialogState.AVAILABILITY_TYPED)


# --- rendering ----------------------------------------------------------------------------------------------


def describe_weekly(rules: tuple[WeeklyRule, ...] | list[WeeklyRule]) -> str:
    """``Mon, Tue: 09:00–12:00, 14:00–18:00`` lines, days with the same hours grouped."""
    if not rules:
        return _("No weekly hours yet.")
    by_day: dict[int, list[TimeRange]] = {}
    for rule in rules:
        by_day.setdefault(rule.weekday, []).append(rule.range)
    pairs = [(day, tuple(sorted(ranges, key=lambda r: (r.start, r.end)))) for day, ranges in by_day.items()]
    pairs.sort(key=lambda pair: ([(r.start, r.end) for r in pair[1]], pair[0]))  # same hours side by side
    groups = [(ranges, [day for day, _r in group]) for ranges, group in groupby(pairs, key=lambda pair: pair[1])]
    groups.sort(key=lambda group: group[1][0])  # in the order of the week
    lines = [f"{', '.join(weekday_name(d) for d in days)}: {describe_ranges(ranges)}" for ranges, days in groups]
    return "\n".join(lines)


def heading(week: Week) -> str:
    """Whose hours these are, and in which zone."""
    if week.offering is None:
        return _("<b>Your weekly hours</b> (time zone {zone})").format(zone=esc(week.timezone))
    return _("<b>Weekly hours for {title}</b> (time zone {zone})").format(
        title=esc(week.offering.title), zone=esc(week.timezone)
    )


def new_draft(scope: int, days: list[int] | None = None, hours: list[int] | None = None) -> dict[str, Any]:
    return {"scope": scope, "days": days or [], "hours": hours or []}


def hours_covered(week: Week, days: Iterable[int]) -> list[int]:
    """The whole hours the saved ranges of ``days`` touch: what the hour grid starts from."""
    chosen = set(days)
    ranges = [rule.range for rule in week.weekly if rule.weekday in chosen]
    return sorted({hour for r in ranges for hour in range(r.start // 60, (r.end + 59) // 60)})


def days_view(draft: dict[str, Any], week: Week) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join(
        [
            heading(week),
            esc(describe_weekly(week.weekly)),
            "",
            _("<b>Step 1 of 2:</b> tap the days to give the same hours. Days you leave out keep their hours."),
        ]
    )
    chosen = set(draft["days"])
    day_buttons = [((("✅ " if d in chosen else "▫️ ") + weekday_name(d)), ToggleDay(d)) for d in range(7)]
    profile_only = week.scope == PROFILE
    markup = stack(
        day_buttons[:4],
        day_buttons[4:],
        [(_("Next: hours ▶"), AvailabilityGo(AvailabilityStep.HOURS))],
        [(_("✏️ Edit one day"), OpenSchedule(week.scope, SchedulePage.WEEK))],
        [
            (_("📅 Date exceptions"), OpenSchedule(PROFILE, SchedulePage.EXCEPTIONS)),
            (_("👀 Next 7 days"), OpenSchedule(PROFILE, SchedulePage.PREVIEW)),
        ]
        if profile_only
        else [],
        [(_("📆 Busy calendars"), OpenSchedule(PROFILE, SchedulePage.CALENDARS))] if profile_only else [],
    )
    return text, markup


def hours_view(draft: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    days = ", ".join(weekday_name(d) for d in draft["days"]) or "—"
    text = _(
        "<b>Step 2 of 2:</b> tap the hours you are free on {days}. Each button is one hour starting then.\n"
        "Need half hours? Tap “Type exact hours”."
    ).format(days=esc(days))
    chosen = set(draft["hours"])
    hour_buttons = [
        ((("✅ " if h in chosen else "") + format_wall(h * 60)), ToggleHour(h))
        for h in range(FIRST_HOUR, LAST_HOUR + 1)
    ]
    grid = [hour_buttons[i : i + 4] for i in range(0, len(hour_buttons), 4)]
    scope, single = draft.get("scope", PROFILE), draft.get("single")
    back: tuple[str, CallbackData]
    if single:
        back = (_("◀ Back"), EditDay(scope, draft["days"][0]))
    else:
        back = (_("◀ Days"), AvailabilityGo(AvailabilityStep.DAYS))
    markup = stack(
        *grid,
        [back, (_("✍️ Type exact hours"), AvailabilityGo(AvailabilityStep.TYPE))],
        [(_("💾 Save"), AvailabilityGo(AvailabilityStep.SAVE))],
    )
    return text, markup


def typed_view(draft: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "Type your hours for {days} in 24-hour time, separated by commas, "
        "e.g. <code>09:30-12:00, 14:00-18:30</code>."
    ).format(days=esc(", ".join(weekday_name(d) for d in draft["days"])))
    scope = draft.get("scope", PROFILE)
    back = EditDay(scope, draft["days"][0]) if draft.get("single") else AvailabilityGo(AvailabilityStep.HOURS)
    return text, stack([(_("◀ Back"), back)])


def saved_view(week: Week) -> tuple[str, InlineKeyboardMarkup]:
    hours = esc(describe_weekly(week.weekly))
    if week.offering is None:
        text = _("Saved. Your weekly hours ({zone}):\n{hours}").format(zone=esc(week.timezone), hours=hours)
        return text, stack(
            [
                (_("➕ New offering"), Menu(MenuItem.NEW_OFFERING)),
                (_("📋 My offerings"), Menu(MenuItem.MY_OFFERINGS)),
            ],
            [(_("🗓 Edit hours again"), Menu(MenuItem.AVAILABILITY))],
        )
    text = _("Saved. Weekly hours for {title} ({zone}):\n{hours}").format(
        title=esc(week.offering.title), zone=esc(week.timezone), hours=hours
    )
    return text, stack(
        [(_("🗓 Edit hours again"), OpenSchedule(week.scope, SchedulePage.DAYS))],
        [(_("📋 My offerings"), Menu(MenuItem.MY_OFFERINGS))],
    )


def week_view(week: Week) -> tuple[str, InlineKeyboardMarkup]:
    hint = _("Tap a day to see its hours, change them, copy them or clear the day.")
    text = "\n".join([heading(week), "", hint])
    hours = [describe_ranges(schedule.ranges_of_day(week.weekly, d)) or "—" for d in range(7)]
    days = [[(f"{weekday_name(d)}: {hours[d]}", EditDay(week.scope, d))] for d in range(7)]
    return text, stack(*days, [(_("◀ Back"), OpenSchedule(week.scope, SchedulePage.DAYS))])


def day_view(week: Week, weekday: int) -> tuple[str, InlineKeyboardMarkup]:
    ranges = schedule.ranges_of_day(week.weekly, weekday)
    hours = esc(describe_ranges(ranges)) if ranges else _("no hours")
    text = "\n".join([heading(week), "", f"<b>{esc(weekday_name(weekday, 'wide'))}</b>: {hours}"])
    scope = week.scope
    return text, stack(
        [
            (_("🕘 Pick hours"), ActOnDay(scope, weekday, DayAction.GRID)),
            (_("✍️ Type hours"), ActOnDay(scope, weekday, DayAction.TYPE)),
        ],
        [(_("📋 Copy to other days"), CopyDay(scope, weekday, 0))] if ranges else [],
        [(_("🧹 Clear this day"), ActOnDay(scope, weekday, DayAction.CLEAR))] if ranges else [],
        [(_("◀ All days"), OpenSchedule(scope, SchedulePage.WEEK))],
    )


def copy_view(week: Week, source: int, targets: int) -> tuple[str, InlineKeyboardMarkup]:
    ranges = describe_ranges(schedule.ranges_of_day(week.weekly, source))
    text = "\n".join(
        [
            heading(week),
            "",
            _("Copy the hours of {day} ({hours}) to which days? Their own hours will be replaced.").format(
                day=esc(weekday_name(source, "wide")), hours=esc(ranges)
            ),
        ]
    )
    toggles = [
        (("✅ " if targets >> d & 1 else "▫️ ") + weekday_name(d), CopyDay(week.scope, source, targets ^ (1 << d)))
        for d in range(7)
        if d != source
    ]
    return text, stack(
        toggles[:3],
        toggles[3:],
        [(_("📋 Copy"), ApplyCopy(week.scope, source, targets))],
        [(_("◀ Back"), EditDay(week.scope, source))],
    )


# --- the several-days editor (its draft lives in the dialog) ------------------------------------------------


async def _draft_in(uow: UnitOfWork, user_id: int) -> tuple[dict[str, Any], Week]:
    """The editor's draft (a new one for the mentor's own hours if none is open) and the hours it edits."""
    found = await uow.dialogs.get(user_id)
    if found and found[0] in _DRAFT_STATES:
        data = found[1]
        draft = new_draft(int(data.get("scope", PROFILE)), list(data.get("days", [])), list(data.get("hours", [])))
        draft["single"] = bool(data.get("single"))
    else:
        draft = new_draft(PROFILE)
    return draft, await load_week(uow, user_id, draft["scope"])


async def open_editor(update: Update, context: AppContext, scope: int = PROFILE) -> None:
    """The "Step 1 of 2" screen of ``scope``, with no days ticked (only ticked days change)."""
    async with context.uow() as uow:
        if scope == PROFILE:
            context.me = await people.become_mentor(uow, context.user.id)
        week = await load_week(uow, context.user.id, scope)
        draft = new_draft(scope)
        await uow.dialogs.set(context.user.id, DialogState.AVAILABILITY, draft)
        await uow.commit()
    await show(update, *days_view(draft, week))


async def availability_command(update: Update, context: AppContext) -> None:
    await open_editor(update, context)


@on_button(EditHours)
async def edit_hours(update: Update, context: AppContext, data: EditHours) -> str | None:
    await open_editor(update, context, data.offering_id)
    return None


@on_button(ToggleDay)
async def toggle_day(update: Update, context: AppContext, data: ToggleDay) -> str | None:
    if not 0 <= data.weekday <= 6:
        raise InvalidInput("days")
    async with context.uow() as uow:
        draft, week = await _draft_in(uow, context.user.id)
        draft["days"] = sorted(set(draft["days"]) ^ {data.weekday})
        draft["single"] = False
        await uow.dialogs.set(context.user.id, DialogState.AVAILABILITY, draft)
        await uow.commit()
    await show(update, *days_view(draft, week))
    return None


@on_button(ToggleHour)
async def toggle_hour(update: Update, context: AppContext, data: ToggleHour) -> str | None:
    if not FIRST_HOUR <= data.hour <= LAST_HOUR:
        raise InvalidInput("hours")
    async with context.uow() as uow:
        draft, _week = await _draft_in(uow, context.user.id)
        if not draft["days"]:
            raise InvalidInput("days")
        draft["hours"] = sorted(set(draft["hours"]) ^ {data.hour})
        await uow.dialogs.set(context.user.id, DialogState.AVAILABILITY, draft)
        await uow.commit()
    await show(update, *hours_view(draft))
    return None


async def _save(update: Update, context: AppContext, draft: dict[str, Any], ranges: list[TimeRange]) -> None:
    async with context.uow() as uow:
        week = await set_days(uow, context.clock, context.user.id, draft["scope"], draft["days"], ranges)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    await show(update, *saved_view(week))


@on_button(AvailabilityGo)
async def availability_step(update: Update, context: AppContext, data: AvailabilityGo) -> str | None:
    async with context.uow() as uow:
        draft, week = await _draft_in(uow, context.user.id)
        if data.step == AvailabilityStep.DAYS:
            state, view = DialogState.AVAILABILITY, days_view(draft, week)
        elif not draft["days"]:
            raise InvalidInput("days")
        elif data.step == AvailabilityStep.HOURS:
            if not draft["hours"]:
                draft["hours"] = [h for h in hours_covered(week, draft["days"]) if FIRST_HOUR <= h <= LAST_HOUR]
            state, view = DialogState.AVAILABILITY, hours_view(draft)
        elif data.step == AvailabilityStep.TYPE:
            state, view = DialogState.AVAILABILITY_TYPED, typed_view(draft)
        else:
            state, view = None, None
        if state is not None:
            await uow.dialogs.set(context.user.id, state, draft)
            await uow.commit()
    if view is None:
        await _save(update, context, draft, merge_hours(draft["hours"]))
        return _("Saved.")
    await show(update, *view)
    return None


@text_step(DialogState.AVAILABILITY_TYPED)
async def type_hours(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    draft = new_draft(int(data.get("scope", PROFILE)), list(data.get("days", [])))
    await _save(update, context, draft, parse_time_ranges(text))


@text_step(DialogState.AVAILABILITY)
async def hours_expected(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    await say(update, _("Please use the buttons above, or tap “Type exact hours” to type them."))


# --- one day at a time --------------------------------------------------------------------------------------


def _weekday(value: int) -> int:
    if not 0 <= value <= 6:
        raise InvalidInput("days")
    return value


@on_button(OpenSchedule)
async def open_schedule(update: Update, context: AppContext, data: OpenSchedule) -> str | None:
    if data.page == SchedulePage.DAYS:
        await open_editor(update, context, data.scope)
    elif data.page == SchedulePage.WEEK:
        async with context.uow() as uow:
            week = await load_week(uow, context.user.id, data.scope)
            await uow.dialogs.clear(context.user.id)  # whatever was being typed is dropped
            await uow.commit()
        await show(update, *week_view(week))
    elif data.page in (SchedulePage.CALENDARS, SchedulePage.ADD_CALENDAR):
        await busy_calendars.open_calendars(update, context, data.page)
    else:
        await overrides.open_page(update, context, data.page)
    return None


@on_button(EditDay)
async def edit_day(update: Update, context: AppContext, data: EditDay) -> str | None:
    weekday = _weekday(data.weekday)
    async with context.uow() as uow:
        week = await load_week(uow, context.user.id, data.scope)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    await show(update, *day_view(week, weekday))
    return None


@on_button(ActOnDay)
async def act_on_day(update: Update, context: AppContext, data: ActOnDay) -> str | None:
    weekday = _weekday(data.weekday)
    async with context.uow() as uow:
        if data.action == DayAction.CLEAR:
            week = await clear_day(uow, context.clock, context.user.id, data.scope, weekday)
            await uow.dialogs.clear(context.user.id)
            view, toast = day_view(week, weekday), _("Cleared.")
        else:
            week = await load_week(uow, context.user.id, data.scope)
            draft = new_draft(data.scope, [weekday], hours_covered(week, [weekday]))
            draft["single"] = True
            if data.action == DayAction.GRID:
                draft["hours"] = [h for h in draft["hours"] if FIRST_HOUR <= h <= LAST_HOUR]
                state, view = DialogState.AVAILABILITY, hours_view(draft)
            else:
                state, view = DialogState.AVAILABILITY_TYPED, typed_view(draft)
            await uow.dialogs.set(context.user.id, state, draft)
            toast = None
        await uow.commit()
    await show(update, *view)
    return toast


def _targets(mask: int) -> list[int]:
    if not 0 <= mask < 1 << 7:
        raise InvalidInput("days")
    return [d for d in range(7) if mask >> d & 1]


@on_button(CopyDay)
async def choose_copy_targets(update: Update, context: AppContext, data: CopyDay) -> str | None:
    source = _weekday(data.source)
    _targets(data.targets)
    async with context.reader() as uow:
        week = await load_week(uow, context.user.id, data.scope)
    if not schedule.ranges_of_day(week.weekly, source):
        raise InvalidInput("copy", schedule.EMPTY)
    await show(update, *copy_view(week, source, data.targets & ~(1 << source)))
    return None


@on_button(ApplyCopy)
async def apply_copy(update: Update, context: AppContext, data: ApplyCopy) -> str | None:
    source = _weekday(data.source)
    async with context.uow() as uow:
        week = await copy_day_to(uow, context.clock, context.user.id, data.scope, source, _targets(data.targets))
        await uow.commit()
    await show(update, *week_view(week))
    return _("Copied.")


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("availability", availability_command),
        toggle_day,
        toggle_hour,
        availability_step,
        edit_hours,
        open_schedule,
        edit_day,
        act_on_day,
        choose_copy_targets,
        apply_copy,
        *overrides.handlers(),
        *busy_calendars.handlers(),
    ]
