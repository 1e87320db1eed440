"""Weekly series: the same time every week, booked at once (``domain.usecases.series``).

A series starts at a chosen slot and repeats it every week on the **mentor's wall clock**: across a DST change
the session keeps its local time (and so moves by an hour in UTC). Each occurrence is checked by the usual slot
rules (``domain.slots``); the mentee books the free ones together, each occurrence a booking of its own carrying
the series' id (the first occurrence's booking id) and its place in it ("week 3 of 6"). A series counts as one
booking against the limit of open bookings with a mentor when it is booked.

A mentor may make an offering a **package** (``Offering.package_weeks``, ``parse_package``): it is then booked only
as that many weekly sessions (``check_package``), the weeks planned and booked like any series.

A paid series is paid as one (``series_modes``): one invoice (Stars or a provider), or one UPI payment, for every
occurrence, each holding its time awaiting payment until the series is paid (``domain.payments``, "a weekly series
paid as one").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain.availability import UTC, local_to_utc
from domain.errors import InvalidInput
from domain.model import Offering, PaymentMode
from domain.payments import PaymentSettings, modes_for
from domain.slots import booking_window

MIN_WEEKS = 2
MAX_WEEKS = 12


def occurrences(first: datetime, weeks: int, zone: str) -> list[datetime | None]:
    """The start of each week's session: ``first`` and the same wall-clock time in ``zone`` (the mentor's) on the
    same weekday of each following week, as UTC instants; None for a week whose local time does not exist (it
    falls in a DST gap). An ambiguous local time is its first occurrence, as slots are (``domain.slots``)."""
    tz = ZoneInfo(zone)
    local = first.astimezone(tz)
    minute = local.hour * 60 + local.minute
    return [local_to_utc(local.date() + timedelta(weeks=week), minute, tz) for week in range(weeks)]


def weeks_possible(offering: Offering, first: datetime, now: datetime, zone: str) -> int:
    """How many weeks, ``first``'s included, a series starting at ``first`` may have: at most ``MAX_WEEKS``, and
    none past the offering's booking window (a week whose time does not exist still counts as a week)."""
    _earliest, latest = booking_window(offering, now)
    count = 0
    for week, start in enumerate(occurrences(first, MAX_WEEKS, zone)):
        moment = start or first.astimezone(UTC) + timedelta(weeks=week)
        if moment > latest:
            break
        count += 1
    return count


def series_modes(
    offering: Offering, payments: PaymentSettings, upi_id: str | None = None
) -> tuple[PaymentMode, ...]:
    """How a series of ``offering`` may be paid, as a single booking may (``domain.payments.modes_for``): nothing
    when it is free; one payment for the whole series in each mode that is on - one invoice (Stars, a provider),
    or one UPI payment when the mentor has a UPI ID (``upi_id``); else outside the bot (``off``)."""
    return modes_for(offering, payments, upi_id)


def parse_package(text: str) -> int | None:
    """A package's number of weekly sessions as the mentor typed or tapped it: ``MIN_WEEKS``-``MAX_WEEKS``;
    ``0`` or ``-`` makes the offering bookable one session at a time again. ``InvalidInput`` otherwise."""
    typed = text.strip()
    if typed in ("-", "0"):
        return None
    if not re.fullmatch(r"\d{1,3}", typed) or not MIN_WEEKS <= int(typed) <= MAX_WEEKS:
        raise InvalidInput("package_weeks", "out_of_range")
    return int(typed)


class PackageOnly(InvalidInput):
    """A package is booked as its weekly sessions, never as one session or another number of weeks."""

    def __init__(self) -> None:
        super().__init__("package", "series_only")


def check_package(offering: Offering, weeks: int | None) -> None:
    """``PackageOnly`` unless a booking of ``weeks`` weekly sessions (None: a single session) fits ``offering``:
    a package takes exactly its number of weeks, any other offering a single session or any series."""
    if offering.package_weeks is not None and weeks != offering.package_weeks:
        raise PackageOnly()


def check_weeks(weeks: int, possible: int) -> int:
    """``weeks`` if a series may have that many (``MIN_WEEKS`` up to ``possible``); ``InvalidInput`` otherwise."""
    if not MIN_WEEKS <= weeks <= min(possible, MAX_WEEKS):
        raise InvalidInput("series_weeks", "out_of_range")
    return weeks


@dataclass(frozen=True, slots=True)
class Week:
    """One week of a planned series: its start (None: the mentor's local time does not exist that week) and
    whether it can be booked now."""

    number: int  # 1-based
    start: datetime | None
    free: bool


@dataclass(frozen=True, slots=True)
class SeriesPlan:
    offering: Offering
    weeks: tuple[Week, ...]

    @property
    def free(self) -> tuple[Week, ...]:
        return tuple(week for week in self.weeks if week.free)
