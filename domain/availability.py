"""Turning a mentor's wall-clock availability into absolute (UTC) time.

Availability is stored as wall-clock minutes after local midnight in the mentor's IANA zone (see
``domain.model.Availability``). Everything the booking engine compares is absolute time, so this module is the one
place that crosses from the mentor's clock to UTC. The rules for the awkward days:

* **Nonexistent local times** (a DST gap, e.g. 01:30 in London on 2026-03-29) have no instant:
  ``local_to_utc`` returns ``None`` and such a time is never a slot.
* **Ambiguous local times** (a DST overlap, e.g. 01:30 in London on 2026-10-25 happens twice) resolve
  deterministically to the *first* occurrence (``fold=0``).
* **A range endpoint inside a gap** moves forward to the first instant that exists after the gap (the moment of
  the transition), so a range 01:00-04:00 on a spring-forward day in London opens at 02:00 BST.

Nothing here reads the clock or does I/O; ``zoneinfo`` is the only source of zone rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.errors import InvalidInput
from domain.model import Availability, Offering, TimeRange, WeeklyRule

__all__ = [
    "UTC",
    "DayClock",
    "boundary_to_utc",
    "effective_availability",
    "local_dates",
    "local_to_utc",
    "minutes",
    "open_intervals",
    "range_to_utc",
    "replace_days",
    "weekly_rules",
]

_ONE_DAY = timedelta(days=1)
_MINUTE_DELTAS = tuple(timedelta(minutes=m) for m in range(-2 * 1440, 3 * 1440 + 1))


def minutes(count: int) -> timedelta:
    """``timedelta(minutes=count)``, from a table for the common sizes (the slot engine builds thousands)."""
    index = count + 2 * 1440
    if 0 <= index < len(_MINUTE_DELTAS):
        return _MINUTE_DELTAS[index]
    return timedelta(minutes=count)


def _wall_clock(day: date, minute: int) -> datetime:
    """The naive local wall-clock time ``minute`` minutes after midnight of ``day`` (1440 is next midnight)."""
    return datetime.combine(day, time()) + minutes(minute)


def local_to_utc(day: date, minute: int, tz: ZoneInfo) -> datetime | None:
    """The UTC instant at which the wall clock in ``tz`` shows ``day`` + ``minute`` minutes after midnight.

    ``minute`` may be 1440 (the following midnight). Returns ``None`` when that wall-clock time does not exist (it
    falls in a DST gap). An ambiguous wall-clock time (a DST overlap) resolves to its first occurrence.
    """
    wall = _wall_clock(day, minute)
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    instant = first.astimezone(UTC)
    if first.utcoffset() == second.utcoffset():
        return instant  # an ordinary time: exactly one occurrence
    # The two folds disagree: the time either happens twice (overlap) or never (gap). Only in an overlap does the
    # first occurrence read back as the same wall-clock time.
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return instant


def _first_instant_after_gap(wall: datetime, tz: ZoneInfo) -> datetime:
    """The transition instant ending the DST gap that contains the (nonexistent) naive wall time ``wall``.

    Both folds of ``wall`` bracket the transition: the instant read with the offset in force after the gap is
    before it, the one read with the offset before the gap is after it. A binary search over whole seconds finds
    the first instant whose local reading is past ``wall``; that is the first instant after the gap.
    """
    bounds = sorted(wall.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1))
    low = int(bounds[0].timestamp())  # local reading before the gap: <= wall
    high = int(bounds[1].timestamp()) + 1  # local reading after the gap: > wall
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(tz).replace(tzinfo=None) > wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def boundary_to_utc(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """Like ``local_to_utc`` but for a range endpoint: a time inside a DST gap moves to the end of the gap."""
    return DayClock(day, tz).boundary(minute)


def range_to_utc(day: date, time_range: TimeRange, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The absolute interval ``[start, end)`` covered by ``time_range`` on local ``day``; None if it is empty.

    A range can become empty when it lies entirely inside a DST gap (both endpoints move to the same instant).
    """
    return DayClock(day, tz).range_to_utc(time_range)


class DayClock:
    """The wall clock of one local date in one zone: converts its minutes to UTC, many at a time, cheaply.

    ``to_utc`` gives exactly the answers of ``local_to_utc``. It guesses with the offset in force at local
    midnight and checks the guess with one conversion back: if the guess reads as the requested wall time and is
    not the second occurrence of an ambiguous time, it is the answer. Only when that fails (a transition happens
    that day) does it fall back to the careful ``local_to_utc``.
    """

    __slots__ = ("_base", "_offset", "day", "tz")

    def __init__(self, day: date, tz: ZoneInfo) -> None:
        self.day = day
        self.tz = tz
        midnight = datetime.combine(day, time(), tz)
        self._offset = midnight.utcoffset()
        self._base = midnight.astimezone(UTC)  # == midnight wall - offset, even if midnight itself is in a gap

    def to_utc(self, minute: int) -> datetime | None:
        """``local_to_utc(self.day, minute, self.tz)``."""
        guess = self._base + minutes(minute)
        local = guess.astimezone(self.tz)
        if local.fold == 0 and local.utcoffset() == self._offset:
            return guess  # reads as midnight + minute, and it is the first (or only) time it does
        return local_to_utc(self.day, minute, self.tz)

    def grid(self, time_range: TimeRange, step: int) -> Iterator[datetime]:
        """The instants of the wall-clock times in ``time_range`` that are multiples of ``step`` after midnight.

        In increasing order; nonexistent times are skipped and ambiguous ones give their first occurrence (the
        same answers as ``to_utc`` for each minute, computed by stepping instead of one by one).
        """
        first = -(-time_range.start // step) * step  # round up to the grid
        guess = self._base + minutes(first)
        stride = minutes(step)
        tz, offset = self.tz, self._offset
        for minute in range(first, time_range.end, step):
            local = guess.astimezone(tz)
            if local.fold == 0 and local.utcoffset() == offset:
                yield guess
            else:
                instant = local_to_utc(self.day, minute, tz)
                if instant is not None:
                    yield instant
            guess += stride

    def boundary(self, minute: int) -> datetime:
        """The instant of a range endpoint at ``minute``; inside a DST gap, the first instant after the gap."""
        instant = self.to_utc(minute)
        if instant is None:
            instant = _first_instant_after_gap(_wall_clock(self.day, minute), self.tz)
        return instant

    def range_to_utc(self, time_range: TimeRange) -> tuple[datetime, datetime] | None:
        """``range_to_utc(self.day, time_range, self.tz)``."""
        start = self.boundary(time_range.start)
        end = self.boundary(time_range.end)
        return (start, end) if start < end else None


def local_dates(start: datetime, end: datetime, tz: ZoneInfo) -> Iterator[date]:
    """Every local date in ``tz`` whose day can touch the instants ``[start, end)``, in order.

    One spare date on each side keeps this exact even in zones whose transitions move the clock across midnight.
    """
    day = start.astimezone(tz).date() - _ONE_DAY
    last = end.astimezone(tz).date() + _ONE_DAY
    while day <= last:
        yield day
        day += _ONE_DAY


def effective_availability(offering: Offering, profile: Availability | None) -> Availability | None:
    """The availability that governs ``offering``'s slots.

    With ``use_profile_availability`` it is the mentor's profile availability. Otherwise it is the offering's own
    ``weekly_rules``, read in the profile's time zone, with the profile's date overrides still applied (a day off
    is a day off for every offering). ``None`` when the mentor has no profile availability (not even a zone).
    Applying it to an already effective availability returns an equal one.
    """
    if profile is None:
        return None
    if offering.use_profile_availability:
        return profile
    return Availability(timezone=profile.timezone, weekly=offering.weekly_rules, overrides=profile.overrides)


def open_intervals(availability: Availability, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The UTC intervals ``[a, b)`` inside ``[start, end)`` during which the mentor is available.

    Every local date (in the availability's zone) that touches the window contributes its ranges, converted with
    ``range_to_utc``, then clipped to the window. The result is sorted; overlapping or touching intervals (two
    ranges of a day that overlap, or a range ending at midnight followed by one starting at midnight) are merged,
    so it describes the set of available instants. Note that a *slot* must still fit inside a single range.
    """
    tz = ZoneInfo(availability.timezone)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    pieces: list[tuple[datetime, datetime]] = []
    for day in local_dates(start, end, tz):
        clock = DayClock(day, tz)
        for time_range in availability.ranges_on(day):
            interval = clock.range_to_utc(time_range)
            if interval is None:
                continue
            low, high = max(interval[0], start), min(interval[1], end)
            if low < high:
                pieces.append((low, high))
    pieces.sort()
    merged: list[tuple[datetime, datetime]] = []
    for low, high in pieces:
        if merged and low <= merged[-1][1]:
            if high > merged[-1][1]:
                merged[-1] = (merged[-1][0], high)
        else:
            merged.append((low, high))
    return merged


def replace_days(
    weekly: Iterable[WeeklyRule], days: Iterable[int], rules: Iterable[WeeklyRule]
) -> tuple[WeeklyRule, ...]:
    """The week with every rule of ``days`` replaced by ``rules``; the other days keep theirs.

    ``rules`` may only name weekdays in ``days`` (no rules for a day clears it). Sorted by weekday, then start.
    """
    chosen, rules = set(days), tuple(rules)
    if any(rule.weekday not in chosen for rule in rules):
        raise ValueError("a replacement rule names a day that is not being replaced")
    kept = [rule for rule in weekly if rule.weekday not in chosen]
    return tuple(sorted([*kept, *rules], key=lambda r: (r.weekday, r.range.start, r.range.end)))


def weekly_rules(days: Sequence[int], ranges: Sequence[TimeRange]) -> list[WeeklyRule]:
    """The same ranges on each chosen weekday. Overlaps are refused; touching ranges join (09-10 + 10-11 = 09-11),
    so a session may run across the seam."""
    merged: list[TimeRange] = []
    for current in sorted(ranges, key=lambda r: r.start):
        if merged and current.start < merged[-1].end:
            raise InvalidInput("ranges", "overlap")
        if merged and current.start == merged[-1].end:
            merged[-1] = TimeRange(merged[-1].start, current.end)
        else:
            merged.append(current)
    if any(not 0 <= day <= 6 for day in days):
        raise InvalidInput("days")
    return [WeeklyRule(day, r) for day in sorted(set(days)) for r in merged]
