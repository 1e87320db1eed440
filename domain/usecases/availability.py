"""Weekly hours: the mentor's own, or one offering's own (a *scope*: ``schedule.PROFILE`` or the offering's id).

The rules (joining ranges, replacing and copying days) are ``domain.availability`` and ``domain.schedule``; date
exceptions and the free-time preview are ``domain.usecases.overrides``. Times an edit opens go to the people
waiting for them (``domain.waitlist``, rule 4), in the edit's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from domain.availability import replace_days, weekly_rules
from domain.errors import InvalidInput
from domain.model import Availability, TimeRange, WeeklyRule
from domain.ports import Clock, UnitOfWork
from domain.schedule import FALLBACK_ZONE, PROFILE, Week, copy_day
from domain.usecases.offerings import own_offering
from domain.usecases.people import load_mentor
from domain.usecases.waitlist import free_starts, tell_opened


async def set_weekly_availability(
    uow: UnitOfWork, mentor_id: int, days: Sequence[int], ranges: Sequence[TimeRange]
) -> list[WeeklyRule]:
    """Give each of ``days`` exactly ``ranges``; the other days keep their hours. Returns the whole week."""
    await load_mentor(uow, mentor_id)
    saved = await uow.availability.get(mentor_id)
    week = replace_days(saved.weekly if saved else (), days, weekly_rules(days, ranges))
    await uow.availability.replace_weekly(mentor_id, week)
    return list(week)


async def get_availability(uow: UnitOfWork, mentor_id: int) -> Availability | None:
    return await uow.availability.get(mentor_id)


# --- the week editor, by scope ------------------------------------------------------------------------------


async def load_week(uow: UnitOfWork, mentor_id: int, scope: int) -> Week:
    """The hours of ``scope``; another mentor's offering is ``NotAllowed``, a missing one ``NotFound``."""
    await load_mentor(uow, mentor_id)
    saved = await uow.availability.get(mentor_id)
    zone = saved.timezone if saved else FALLBACK_ZONE
    if scope == PROFILE:
        return Week(PROFILE, zone, saved.weekly if saved else ())
    offering = await own_offering(uow, mentor_id, scope)
    return Week(scope, zone, offering.weekly_rules, offering)


async def _save_week(
    uow: UnitOfWork, clock: Clock, mentor_id: int, week: Week, rules: tuple[WeeklyRule, ...]
) -> Week:
    before = await free_starts(uow, clock, mentor_id)
    if week.offering is None:
        await uow.availability.replace_weekly(mentor_id, rules)
        saved = Week(PROFILE, week.timezone, rules)
    else:
        offering = await uow.offerings.update(week.offering.with_changes(weekly_rules=rules))
        saved = Week(week.scope, week.timezone, offering.weekly_rules, offering)
    await tell_opened(uow, mentor_id, before)
    return saved


async def set_days(
    uow: UnitOfWork, clock: Clock, mentor_id: int, scope: int, days: Sequence[int], ranges: Sequence[TimeRange]
) -> Week:
    """Give each of ``days`` exactly ``ranges`` (at least one day and one range); other days keep theirs."""
    if not days:
        raise InvalidInput("days")
    if not ranges:
        raise InvalidInput("hours")
    week = await load_week(uow, mentor_id, scope)
    return await _save_week(
        uow, clock, mentor_id, week, replace_days(week.weekly, days, weekly_rules(days, ranges))
    )


async def clear_day(uow: UnitOfWork, clock: Clock, mentor_id: int, scope: int, weekday: int) -> Week:
    if not 0 <= weekday <= 6:
        raise InvalidInput("days")
    week = await load_week(uow, mentor_id, scope)
    return await _save_week(uow, clock, mentor_id, week, replace_days(week.weekly, [weekday], ()))


async def copy_day_to(
    uow: UnitOfWork, clock: Clock, mentor_id: int, scope: int, source: int, targets: Iterable[int]
) -> Week:
    week = await load_week(uow, mentor_id, scope)
    return await _save_week(uow, clock, mentor_id, week, copy_day(week.weekly, source, targets))
