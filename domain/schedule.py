"""The mentor's schedule workspace: a week edited day by day, date exceptions, and the free time ahead.

The rules: reading a typed date, which dates may carry an exception, grouping exceptions for a list, the free
time of the coming days. The use cases are ``domain.usecases.availability`` (the week) and
``domain.usecases.overrides`` (date exceptions and the preview). A *scope* names which weekly hours are
edited: ``PROFILE`` (0) for the mentor's own hours, otherwise the id of one of their offerings whose own rules
apply when it does not use the profile's hours. Date exceptions always belong to the mentor (they apply to every
offering), and are dates on the mentor's wall clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.availability import UTC, DayClock, open_intervals, replace_days, weekly_rules
from domain.errors import InvalidInput
from domain.model import Availability, Booking, BusyInterval, DateOverride, Offering, TimeRange, WeeklyRule

PROFILE = 0  # the scope of the mentor's own weekly hours
FALLBACK_ZONE = "UTC"  # the zone of a mentor who never picked one (storage reads their rules in UTC too)

VACATION_MAX_DAYS = 60
OVERRIDE_HORIZON_DAYS = 365  # how far ahead an exception may be set
PREVIEW_DAYS = 7

# ``InvalidInput`` details for the field ``date`` (and ``vacation``, ``copy``)
UNREADABLE = "unreadable"
PAST = "past"
TOO_FAR = "too_far"
ORDER = "order"
TOO_LONG = "too_long"
EMPTY = "empty"
NO_TARGETS = "no_targets"

_ONE_DAY = timedelta(days=1)
# Month names people type, in the bot's languages: English, and Russian as named and as written after a day
# ("25 декабря"); any prefix of three letters or more counts ("dec", "дек", "нояб").
_MONTHS = (
    ("january", "январь", "января"), ("february", "февраль", "февраля"), ("march", "март", "марта"),
    ("april", "апрель", "апреля"), ("may", "май", "мая"), ("june", "июнь", "июня"), ("july", "июль", "июля"),
    ("august", "август", "августа"), ("september", "сентябрь", "сентября"), ("october", "октябрь", "октября"),
    ("november", "ноябрь", "ноября"), ("december", "декабрь", "декабря"),
)  # fmt: skip
_DAYS_FROM_TODAY = {"today": 0, "tomorrow": 1, "сегодня": 0, "завтра": 1}
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})")
_DAY_MONTH = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-zа-яё]{3,9})\.?(?:,?\s+(\d{4}))?")
_MONTH_DAY = re.compile(r"([a-zа-яё]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?")


# --- reading and checking dates -----------------------------------------------------------------------------


def local_today(now: datetime, zone: str) -> date:
    """The date on the wall clock of ``zone`` at the instant ``now``."""
    return now.astimezone(ZoneInfo(zone)).date()


def _month(word: str) -> int | None:
    """``Dec``, ``dec.``, ``December``, ``дек`` or ``декабря`` → 12; a word that is not a month name → None."""
    word = word.lower()
    for number, names in enumerate(_MONTHS, start=1):
        if len(word) >= 3 and any(name.startswith(word) for name in names):
            return number
    return None


def parse_date(text: str, today: date) -> date:
    """A typed date: ``2026-12-25``, ``25.12.2026`` (or ``25/12/2026``), ``25 Dec``, ``Dec 25``, ``25 December
    2026``, ``25 декабря``, ``today``, ``tomorrow`` (``сегодня``, ``завтра``). Without a year it is the next such
    date from ``today`` on. Anything else, or a date that does not exist (``2026-02-30``), is
    ``InvalidInput("date", UNREADABLE)``."""
    typed = " ".join(text.strip().lower().split())
    if typed in _DAYS_FROM_TODAY:
        return today + _DAYS_FROM_TODAY[typed] * _ONE_DAY
    year: int | None
    if match := _ISO.fullmatch(typed):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DAY_FIRST.fullmatch(typed):
        day, month, year = (int(g) for g in match.groups())
    elif (match := _DAY_MONTH.fullmatch(typed)) and (found := _month(match[2])):
        day, month, year = int(match[1]), found, int(match[3]) if match[3] else None
    elif (match := _MONTH_DAY.fullmatch(typed)) and (found := _month(match[1])):
        day, month, year = int(match[2]), found, int(match[3]) if match[3] else None
    else:
        raise InvalidInput("date", UNREADABLE)
    try:
        if year is not None:
            return date(year, month, day)
        this_year = date(today.year, month, day) if (month, day) != (2, 29) else None
        if this_year is not None and this_year >= today:
            return this_year
        for ahead in range(1, 9):  # the next year that has this date (29 Feb needs a leap year)
            try:
                return date(today.year + ahead, month, day)
            except ValueError:
                continue
    except ValueError:
        pass
    raise InvalidInput("date", UNREADABLE)


def check_override_date(day: date, today: date) -> date:
    """An exception may be set from ``today`` (the mentor's) up to a year ahead."""
    if day < today:
        raise InvalidInput("date", PAST)
    if day > today + timedelta(days=OVERRIDE_HORIZON_DAYS):
        raise InvalidInput("date", TOO_FAR)
    return day


def vacation_dates(first: date, last: date, today: date) -> list[date]:
    """Every date from ``first`` to ``last``: not in the past, ending on or after it starts, at most 60 days."""
    check_override_date(first, today)
    if last < first:
        raise InvalidInput("vacation", ORDER)
    count = (last - first).days + 1
    if count > VACATION_MAX_DAYS:
        raise InvalidInput("vacation", TOO_LONG)
    check_override_date(last, today)
    return [first + timedelta(days=n) for n in range(count)]


def date_ranges(ranges: Sequence[TimeRange]) -> tuple[TimeRange, ...]:
    """Other hours on a date: at least one range, none overlapping; touching ranges join. Sorted."""
    if not ranges:
        raise InvalidInput("ranges", EMPTY)
    return tuple(rule.range for rule in weekly_rules([0], ranges))


# --- the week, day by day -----------------------------------------------------------------------------------


def ranges_of_day(weekly: Iterable[WeeklyRule], weekday: int) -> tuple[TimeRange, ...]:
    return tuple(sorted((rule.range for rule in weekly if rule.weekday == weekday), key=lambda r: r.start))


def copy_day(weekly: Sequence[WeeklyRule], source: int, targets: Iterable[int]) -> tuple[WeeklyRule, ...]:
    """The week with each target day given exactly ``source``'s ranges; the other days are kept."""
    days = sorted(set(targets) - {source})
    if any(not 0 <= day <= 6 for day in [source, *days]):
        raise InvalidInput("days")
    if not days:
        raise InvalidInput("copy", NO_TARGETS)
    ranges = ranges_of_day(weekly, source)
    if not ranges:
        raise InvalidInput("copy", EMPTY)
    return replace_days(weekly, days, weekly_rules(days, ranges))


# --- listing exceptions -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OverrideSpan:
    """Consecutive dates with the same exception (a vacation reads as one line): ``first`` to ``last``."""

    first: date
    last: date
    ranges: tuple[TimeRange, ...]

    @property
    def is_day_off(self) -> bool:
        return not self.ranges

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def group_overrides(overrides: Iterable[DateOverride]) -> list[OverrideSpan]:
    """Sorted spans; days off on consecutive dates join, dates with other hours stay one per line."""
    spans: list[OverrideSpan] = []
    for override in sorted(overrides, key=lambda o: o.day):
        ranges = tuple(sorted(override.ranges, key=lambda r: r.start))
        previous = spans[-1] if spans else None
        if previous and not ranges and previous.is_day_off and previous.last + _ONE_DAY == override.day:
            spans[-1] = OverrideSpan(previous.first, override.day, ())
        else:
            spans.append(OverrideSpan(override.day, override.day, ranges))
    return spans


# --- free time ahead ----------------------------------------------------------------------------------------


Interval = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class FreeDay:
    """One local date of the preview: its open hours (after exceptions) and what is left of them (UTC)."""

    day: date
    open: tuple[Interval, ...]
    free: tuple[Interval, ...]
    is_exception: bool


def _subtract(intervals: Iterable[Interval], holes: Sequence[Interval]) -> list[Interval]:
    """``intervals`` minus every hole; all half-open, holes in any order."""
    result: list[Interval] = []
    for low, high in intervals:
        pieces = [(low, high)]
        for hole_low, hole_high in holes:
            pieces = [
                piece
                for start, end in pieces
                for piece in ((start, min(end, hole_low)), (max(start, hole_high), end))
                if piece[0] < piece[1]
            ]
        result.extend(pieces)
    return result


def free_time(
    availability: Availability,
    busy: Sequence[Booking],
    now: datetime,
    days: int = PREVIEW_DAYS,
    external: Sequence[BusyInterval] = (),
) -> list[FreeDay]:
    """Per local date in the availability's zone, from today for ``days`` dates: the open hours after exceptions,
    and those hours minus the time active bookings hold (session plus buffers), minus the busy times of the
    mentor's external calendars and minus what is already past."""
    tz = ZoneInfo(availability.timezone)
    now = now.astimezone(UTC)
    today = now.astimezone(tz).date()
    holes = sorted(
        [
            (booking.blocked_from.astimezone(UTC), booking.blocked_until.astimezone(UTC))
            for booking in busy
            if booking.status.is_active
        ]
        + [(interval.start.astimezone(UTC), interval.end.astimezone(UTC)) for interval in external]
    )
    overridden = {override.day for override in availability.overrides}
    preview = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        start, end = DayClock(day, tz).boundary(0), DayClock(day + _ONE_DAY, tz).boundary(0)
        opened = open_intervals(availability, start, end)
        free = _subtract(((max(low, now), high) for low, high in opened if high > now), holes)
        preview.append(FreeDay(day, tuple(opened), tuple(free), day in overridden))
    return preview


def preview_window(availability: Availability, now: datetime, days: int = PREVIEW_DAYS) -> Interval:
    """The UTC instants the preview covers (bookings touching it are the ones to load)."""
    tz = ZoneInfo(availability.timezone)
    today = now.astimezone(tz).date()
    return DayClock(today, tz).boundary(0), DayClock(today + timedelta(days=days), tz).boundary(0)


# --- what the use cases return -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Week:
    """The weekly hours being edited: the profile's (``offering`` None) or one offering's own."""

    scope: int
    timezone: str
    weekly: tuple[WeeklyRule, ...]
    offering: Offering | None = None


@dataclass(frozen=True, slots=True)
class Exceptions:
    """The mentor's exceptions from today on, and the active bookings on the dates just changed (kept as they
    are: a day off does not cancel anyone's session)."""

    timezone: str
    today: date
    spans: list[OverrideSpan]
    bookings_kept: int = 0


@dataclass(frozen=True, slots=True)
class Preview:
    timezone: str
    days: list[FreeDay]
