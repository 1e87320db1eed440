"""A mentor's busy calendars: external iCalendar feeds (Google's "secret address in iCal format", an Outlook
published calendar, an iCloud public calendar) whose events block the mentor's free times.

1. **Which calendars.** At most ``MAX_CALENDARS`` per mentor, each an http(s) URL of at most ``URL_MAX``
   characters with a host and no user name or password (``check_url``; ``webcal://`` is read as ``https://``).
2. **What blocks** (``read_busy``): every occurrence of every ``VEVENT`` in the range read - recurrences expanded
   with their exceptions (``RRULE``, ``RDATE``, ``EXDATE``, moved instances) by ``recurring-ical-events`` - except
   events marked free (``TRANSP:TRANSPARENT``) and cancelled ones (``STATUS:CANCELLED``, a whole series or one
   instance). Times with a ``TZID`` are read in that zone (IANA names, and Windows names such as "India Standard
   Time" that Outlook writes); floating times and all-day dates in the calendar's zone (``X-WR-TIMEZONE``) or, if
   it names none, the mentor's; an all-day event blocks its whole local days. An event without length blocks
   nothing. The intervals are merged where they overlap or touch.
3. **What is kept** (``keep_range``): the busy intervals from a day before now to the end of the mentor's longest
   booking window (plus ``slots.NEIGHBOURHOOD``) and ``KEEP_MARGIN`` more. A calendar is read again every few
   minutes with a conditional GET; once what was kept no longer reaches the end of the window, without one
   (``needs_full_read``), since an unchanged file has new days to give.
4. **Freshness** (``blocks``): a calendar blocks while its last successful read is at most ``STALE_AFTER`` old. A
   calendar that fails keeps its last good busy times for that long, then stops blocking, and the mentor is told
   once (``should_tell_failing``); a success starts the count again.

Reading is pure but may take a while for a large file: callers run ``read_busy`` off the event loop.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
from icalendar.timezone import tzp

from domain.errors import InvalidInput
from domain.model import BusyInterval
from domain.slots import NEIGHBOURHOOD

MAX_CALENDARS = 3
URL_MAX = 2000
MAX_BYTES = 5 * 1024 * 1024  # a calendar file larger than this is refused
STALE_AFTER = timedelta(days=1)
LOOKBACK = timedelta(days=1)
KEEP_MARGIN = timedelta(days=7)
# Occurrences read from one calendar at most: a person's calendar has a few dozen a week; more than this in the
# coming window is a machine's feed (or a rule repeating every second) and is refused, not half read.
MAX_OCCURRENCES = 20_000
DEFAULT_WINDOW_DAYS = 30  # a mentor without offerings: the default booking window

# ``InvalidInput("calendar_url", ...)`` details
NOT_HTTP = "not_http"
TOO_LONG = "too_long"
TOO_MANY = "too_many"


class Problem(StrEnum):
    """Why reading a calendar failed (stored as its value; ``Failure.code`` adds an HTTP status)."""

    ADDRESS = "address"  # the host is on a private, loopback, link-local ... network
    DNS = "dns"  # the host's name was not found
    CONNECT = "connect"  # the server could not be reached
    TIMEOUT = "timeout"
    HTTP = "http"  # the server answered with an error status
    REDIRECTS = "redirects"  # too many redirects, or one to something that is not http(s)
    TOO_LARGE = "too_large"
    NOT_CALENDAR = "not_calendar"  # not an iCalendar file
    TOO_MANY_EVENTS = "too_many_events"


@dataclass(frozen=True, slots=True)
class Failure:
    problem: Problem
    status: int | None = None  # the HTTP status for ``Problem.HTTP``

    @property
    def code(self) -> str:
        return f"{self.problem.value}:{self.status}" if self.status is not None else self.problem.value

    @classmethod
    def from_code(cls, code: str) -> Failure:
        name, _sep, status = code.partition(":")
        try:
            problem = Problem(name)
        except ValueError:  # a code from a later version: the least specific words
            return cls(Problem.CONNECT)
        return cls(problem, int(status) if status.isdigit() else None)


class CalendarFailure(Exception):
    """Reading a calendar failed: ``failure`` says why, in terms the mentor can be told."""

    def __init__(self, failure: Failure, detail: str = "") -> None:
        super().__init__(f"{failure.code}{': ' + detail if detail else ''}")
        self.failure = failure


@dataclass(frozen=True, slots=True)
class BusyCalendar:
    mentor_id: int
    url: str
    created_at: datetime
    id: int | None = None
    etag: str | None = None  # what the server said last time, for a conditional GET
    last_modified: str | None = None
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    busy_until: datetime | None = None  # the end of the range last read: busy times are known up to here
    failure: Failure | None = None  # of the last attempt; None after a success
    failing_since: datetime | None = None  # the first failure after the last success
    failure_told: bool = False  # the mentor was told it stopped blocking (once per failure)

    def with_changes(self, **changes: Any) -> BusyCalendar:
        return replace(self, **changes)


# --- the address -----------------------------------------------------------------------------------------------


def check_url(text: str) -> str:
    """A calendar address as typed: an absolute http(s) URL (``webcal://`` becomes ``https://``) with a host, no
    user name or password, no spaces, at most ``URL_MAX`` characters. ``InvalidInput("calendar_url", ...)``."""
    url = text.strip()
    if len(url) > URL_MAX:
        raise InvalidInput("calendar_url", TOO_LONG)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise InvalidInput("calendar_url", NOT_HTTP) from None
    scheme = parts.scheme.lower()
    if scheme in ("webcal", "webcals"):
        scheme = "https"
    if (
        scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or any(ch.isspace() for ch in url)
    ):
        raise InvalidInput("calendar_url", NOT_HTTP)
    return urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, ""))


def check_room(calendars: Iterable[BusyCalendar]) -> None:
    """Before adding one more: ``InvalidInput("calendar_url", TOO_MANY)`` at ``MAX_CALENDARS``."""
    if sum(1 for _calendar in calendars) >= MAX_CALENDARS:
        raise InvalidInput("calendar_url", TOO_MANY)


# --- when to read, what to keep, when it blocks -----------------------------------------------------------------


def needed_until(now: datetime, advance_days: int) -> datetime:
    """Busy times must be known up to here: the end of the longest booking window and its neighbourhood."""
    return now + timedelta(days=advance_days) + NEIGHBOURHOOD


def keep_range(now: datetime, advance_days: int) -> tuple[datetime, datetime]:
    """The range whose busy intervals a successful read keeps."""
    return now - LOOKBACK, needed_until(now, advance_days) + KEEP_MARGIN


def needs_full_read(calendar: BusyCalendar, now: datetime, advance_days: int) -> bool:
    """Whether to read without a conditional GET: never read, or what was kept ends before what is needed."""
    return calendar.busy_until is None or calendar.busy_until < needed_until(now, advance_days)


def fresh_since(now: datetime) -> datetime:
    """Calendars read successfully at or after this instant block slots (rule 4)."""
    return now - STALE_AFTER


def blocks(calendar: BusyCalendar, now: datetime) -> bool:
    return calendar.last_success_at is not None and calendar.last_success_at >= fresh_since(now)


def read_ok(
    calendar: BusyCalendar, now: datetime, etag: str | None, last_modified: str | None, busy_until: datetime | None
) -> BusyCalendar:
    """After a successful read; ``busy_until`` None: not modified, the kept intervals stand."""
    return calendar.with_changes(
        etag=etag,
        last_modified=last_modified,
        last_attempt_at=now,
        last_success_at=now,
        busy_until=busy_until if busy_until is not None else calendar.busy_until,
        failure=None,
        failing_since=None,
        failure_told=False,
    )


def read_failed(calendar: BusyCalendar, now: datetime, failure: Failure) -> BusyCalendar:
    return calendar.with_changes(last_attempt_at=now, failure=failure, failing_since=calendar.failing_since or now)


def should_tell_failing(calendar: BusyCalendar, now: datetime) -> bool:
    """The calendar fails and has not blocked for ``STALE_AFTER`` (or never has, a day after it was added), and
    the mentor has not been told since it last worked."""
    if calendar.failure is None or calendar.failure_told:
        return False
    since = calendar.last_success_at or calendar.created_at
    return since < fresh_since(now)


# --- reading a calendar file ------------------------------------------------------------------------------------


def merge(intervals: Iterable[BusyInterval]) -> list[BusyInterval]:
    """Sorted, with overlapping and touching intervals joined."""
    merged: list[BusyInterval] = []
    for interval in sorted(intervals, key=lambda i: (i.start, i.end)):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = BusyInterval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def _zone(name: object) -> tzinfo | None:
    """The zone an ``X-WR-TIMEZONE`` names (IANA or Windows), or None."""
    if not isinstance(name, str) or not name.strip():
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return tzp.timezone(name.strip())


def _instant(value: date | datetime, zone: tzinfo) -> datetime:
    """A DTSTART/DTEND value as an aware UTC instant: a date is its local midnight, a floating time local."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0))
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _moment(prop: object) -> date | datetime:
    """The value of a DTSTART or DTEND property: a date or a date-time (anything else: the file is unreadable)."""
    value = getattr(prop, "dt", None)
    if not isinstance(value, date):  # a datetime is a date too
        raise ValueError(f"not a date or a date-time: {prop!r}")
    return value


def _end_value(event: icalendar.Component, start: date | datetime) -> date | datetime:
    end = event.get("DTEND")
    if end is not None:
        return _moment(end)
    duration = event.get("DURATION")
    if duration is not None and isinstance(duration.dt, timedelta):
        return start + duration.dt
    # RFC 5545 3.6.1: without DTEND or DURATION an all-day event lasts one day, a timed one takes no time
    return start + timedelta(days=1) if not isinstance(start, datetime) else start


def _blocks_time(event: icalendar.Event) -> bool:
    transparency = str(event.get("TRANSP", "OPAQUE")).strip().upper()
    status = str(event.get("STATUS", "")).strip().upper()
    return transparency != "TRANSPARENT" and status != "CANCELLED"


def _rules(event: icalendar.Component) -> list[object]:
    found = event.get("RRULE")
    return [] if found is None else found if isinstance(found, list) else [found]


def _outside(event: icalendar.Component, start: datetime, end: datetime, zone: tzinfo) -> bool:
    """A single event (no recurrence) that ends well before ``start`` or begins well after ``end``: a calendar
    exported with years of history is mostly these, and leaving them out keeps the expansion cheap."""
    if _rules(event) or "RDATE" in event or "RECURRENCE-ID" in event or "DTSTART" not in event:
        return False
    begins = _moment(event["DTSTART"])
    return _instant(_end_value(event, begins), zone) < start - _MARGIN or _instant(begins, zone) > end + _MARGIN


# How long one period of each frequency is, at least: what expanding a rule steps through.
_PERIOD = {
    "YEARLY": timedelta(days=365),
    "MONTHLY": timedelta(days=28),
    "WEEKLY": timedelta(days=7),
    "DAILY": timedelta(days=1),
    "HOURLY": timedelta(hours=1),
}
_BY_PARTS = (
    "BYMONTH",
    "BYWEEKNO",
    "BYYEARDAY",
    "BYMONTHDAY",
    "BYDAY",
    "BYHOUR",
    "BYMINUTE",
    "BYSECOND",
    "BYSETPOS",
)


def _first(rule: dict[str, object], key: str, default: object) -> object:
    values = rule.get(key) or [default]
    return values[0] if isinstance(values, list) else values


def expansion_work(calendar: icalendar.Calendar, end: datetime, zone: tzinfo) -> int:
    """An upper bound of the steps expanding every rule up to ``end`` takes: each rule is stepped through period
    by period from its first occurrence (a daily rule begun in 1990 steps through 13,000 days to reach 2026),
    times the occurrences a period can hold. A rule repeating every second or minute counts as endless."""
    work = 0
    for event in calendar.walk("VEVENT"):
        rules = _rules(event)
        if not rules or "DTSTART" not in event:
            continue
        begins = _instant(_moment(event["DTSTART"]), zone)
        for rule in rules:
            if not isinstance(rule, dict):
                continue
            frequency = str(_first(rule, "FREQ", "")).upper()
            if frequency not in _PERIOD:
                return MAX_WORK + 1  # SECONDLY, MINUTELY (or nothing readable)
            try:
                interval = max(1, int(str(_first(rule, "INTERVAL", 1))))
            except ValueError:
                interval = 1
            periods = max(0, (end - begins) // (_PERIOD[frequency] * interval)) + 1
            per_period = 1
            for part in _BY_PARTS:
                values = rule.get(part)
                per_period *= len(values) if isinstance(values, list) and values else 1
            work += periods * per_period
    return work


MAX_WORK = 300_000  # about two seconds of expansion
_MARGIN = timedelta(days=2)  # more than any UTC offset: a floating or all-day time read in another zone
# What the parsers raise for a file they cannot read (their own errors are ValueErrors); anything else is a bug
_UNREADABLE = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError)


def read_busy(data: bytes, start: datetime, end: datetime, fallback_zone: str) -> list[BusyInterval]:
    """The busy intervals of the iCalendar file ``data`` that overlap ``[start, end)``, clipped to it and merged
    (rule 2). ``fallback_zone``: the mentor's, for floating times and all-day dates when the calendar names none.
    ``CalendarFailure`` when ``data`` is not a calendar or has more than ``MAX_OCCURRENCES`` occurrences there."""
    try:
        with warnings.catch_warnings():  # icalendar warns about vendor-prefixed TZIDs it guesses; fine here
            warnings.simplefilter("ignore")
            calendar = icalendar.Calendar.from_ical(data)
            if calendar.name != "VCALENDAR":  # a file of a single event reads as that event
                raise ValueError("not a VCALENDAR")
            zone = _zone(calendar.get("X-WR-TIMEZONE")) or ZoneInfo(fallback_zone)
            calendar.subcomponents = [
                part
                for part in calendar.subcomponents
                if part.name != "VEVENT" or not _outside(part, start, end, zone)
            ]
            if expansion_work(calendar, end, zone) > MAX_WORK:
                raise CalendarFailure(Failure(Problem.TOO_MANY_EVENTS), "its rules repeat too often")
            occurrences = recurring_ical_events.of(calendar, skip_bad_series=True).between(start, end)
            if len(occurrences) > MAX_OCCURRENCES:
                raise CalendarFailure(Failure(Problem.TOO_MANY_EVENTS))
            found = []
            for event in occurrences:
                begins = event.get("DTSTART")
                if begins is None or not _blocks_time(event):
                    continue
                first = _instant(_moment(begins), zone)
                last = _instant(_end_value(event, _moment(begins)), zone)
                if last > first and last > start and first < end:
                    found.append(BusyInterval(max(first, start), min(last, end)))
    except _UNREADABLE as error:
        raise CalendarFailure(Failure(Problem.NOT_CALENDAR), repr(error)[:200]) from error
    return merge(found)
