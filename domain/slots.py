"""The slot engine: which start times a mentee may book for an offering.

A *slot* is a UTC start instant ``s`` for a session of the offering's duration ``d``. ``s`` is offered when all of
these hold:

1. **Grid.** On the mentor's wall clock, ``s`` is a multiple of the step after local midnight: every 15 minutes for
   15-minute sessions, every 30 minutes (:00 and :30) for every other duration (``slot_step_minutes``).
   Nonexistent local times (DST gap) are never slots; an ambiguous local time (DST overlap) is offered once, at
   its first occurrence.
2. **Availability.** The wall-clock start lies in one availability range of that local date (the offering's
   effective availability: see ``domain.availability.effective_availability``), and the whole session
   ``[s, s + d)``, measured in absolute time, lies inside that range's UTC interval. A session never straddles
   two ranges.
3. **Booking window.** ``now + min_notice_hours <= s <= now + advance_booking_days`` (``booking_window``).
4. **No conflict.** For every active (pending or confirmed) booking ``B`` of the mentor, of *any* offering:
   the new session does not overlap ``B``'s blocked time ``[B.blocked_from, B.blocked_until)``, and ``B``'s
   session does not overlap the new session widened by this offering's buffers ``[s - before, s + d + after)``.
   So two sessions are separated by at least the larger of the two buffers that face each other; buffers may
   share the same free time. A busy interval ``E`` of the mentor's external calendars (``domain.busy``) blocks
   like a booking without buffers of its own: the new session widened by this offering's buffers does not
   overlap ``[E.start, E.end)``.
5. **Daily limit.** Fewer than ``max_bookings_per_day`` sessions *of this offering* start on the same
   mentor-local date as ``s``: a session is a start instant with active bookings of the offering, however many
   attendees it has. Slots are independent options, so they are not counted against each other.
6. **Seats.** An offering seats ``capacity`` people a session (1: a 1:1 session). A start ``s`` where the offering
   already has a session with fewer attendees (active bookings at exactly ``s``) than seats is offered when rules
   1-3 hold and rule 4 holds for everything else - its own attendees' bookings are not a conflict, and the daily
   limit does not apply since joining adds no session. A session whose seats are all taken is not offered (its
   bookings block it by rule 4). For the mentor's *other* offerings one seat taken blocks the time like any
   booking.

Inactive bookings in ``busy`` are ignored, and so is the offering's status (the use case checks that).

Implementation: busy bookings and external busy intervals are turned once into sorted, merged open intervals of
forbidden start instants (the starts of sessions with seats left, each checked once against everything else, are
the exceptions: rule 6) (rule 4 for one booking forbids exactly ``B.scheduled_at - d - max(B.before, after) < s <
B.ends_at + max(B.after, before)``, for an external interval ``E.start - d - after < s < E.end + before``), so
each candidate costs one binary search.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.availability import UTC, DayClock, effective_availability, local_dates, minutes
from domain.model import ALLOWED_DURATIONS, MAX_BUFFER_MINUTES, Availability, Booking, BusyInterval, Offering, User

_ONE_DAY = timedelta(days=1)

# Bookings (and external busy intervals) this far before or after a window can still block a slot in it: a whole
# local day either side covers the daily limit (counted on the mentor's local day) and any buffer. Load what is
# busy in a window widened by this much.
NEIGHBOURHOOD = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class SlotContext:
    """Everything slot generation needs for one offering, loaded once."""

    offering: Offering
    mentor: User
    availability: Availability | None
    busy: list[Booking]
    external: Sequence[BusyInterval] = ()  # the mentor's external calendars, around the same range


def slot_step_minutes(duration: int) -> int:
    """Spacing of the start-time grid: 15 minutes for 15-minute sessions, 30 minutes otherwise."""
    return 15 if duration == 15 else 30


def booking_window(offering: Offering, now: datetime) -> tuple[datetime, datetime]:
    """``(earliest, latest)`` start instants, both inclusive: minimum notice and how far ahead one may book."""
    now = now.astimezone(UTC)
    earliest = now + timedelta(hours=offering.min_notice_hours)
    latest = now + timedelta(days=offering.advance_booking_days)
    return earliest, latest


@dataclass(frozen=True, slots=True)
class _Rules:
    """The offering's slot rules in the form the engine checks them, computed once per call."""

    offering_id: int | None
    availability: Availability  # the effective availability
    tz: ZoneInfo
    duration: timedelta
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    step: int
    earliest: datetime
    latest: datetime
    max_per_day: int
    capacity: int

    @classmethod
    def of(cls, offering: Offering, availability: Availability | None, now: datetime) -> _Rules | None:
        effective = effective_availability(offering, availability)
        if effective is None:
            return None
        earliest, latest = booking_window(offering, now)
        return cls(
            offering_id=offering.id,
            availability=effective,
            tz=ZoneInfo(effective.timezone),
            duration=timedelta(minutes=offering.duration_minutes),
            duration_minutes=offering.duration_minutes,
            buffer_before_minutes=offering.buffer_before_minutes,
            buffer_after_minutes=offering.buffer_after_minutes,
            step=slot_step_minutes(offering.duration_minutes),
            earliest=earliest,
            latest=latest,
            max_per_day=offering.max_bookings_per_day,
            capacity=offering.capacity,
        )

    def in_window(self, start: datetime) -> bool:
        """Rule 3."""
        return self.earliest <= start <= self.latest

    def fits(self, start: datetime, interval: tuple[datetime, datetime]) -> bool:
        """Rule 2: the whole session starting at ``start`` lies inside the range's ``interval``."""
        return interval[0] <= start and start + self.duration <= interval[1]

    def forbidden_offsets(self, booking: Booking) -> tuple[tuple[int, int], ...]:
        """Rule 4 for one active booking: open intervals of forbidden starts, in minutes from its start.

        A new session starting ``s`` minutes after the booking's start, with duration ``d``, overlaps the
        booking's blocked time when ``-before(B) - d < s < duration(B) + after(B)``, and the booking's session
        overlaps the widened new session when ``-after - d < s < duration(B) + before``. With the usual
        non-negative buffers the two intervals overlap and come back as one.
        """
        d, length = self.duration_minutes, booking.duration_minutes
        low_1, high_1 = -booking.buffer_before_minutes - d, length + booking.buffer_after_minutes
        low_2, high_2 = -self.buffer_after_minutes - d, length + self.buffer_before_minutes
        if max(low_1, low_2) < min(high_1, high_2):
            return ((min(low_1, low_2), max(high_1, high_2)),)
        return tuple(piece for piece in ((low_1, high_1), (low_2, high_2)) if piece[0] < piece[1])

    def external_forbidden(self, interval: BusyInterval) -> tuple[datetime, datetime]:
        """Rule 4 for an external busy interval: the open interval of forbidden starts. The session widened by
        this offering's buffers, ``[s - before, s + d + after)``, overlaps ``[E.start, E.end)`` exactly when
        ``E.start - d - after < s < E.end + before``."""
        low = interval.start.astimezone(UTC) - self.duration - minutes(self.buffer_after_minutes)
        return low, interval.end.astimezone(UTC) + minutes(self.buffer_before_minutes)

    def conflicts(self, booking: Booking, start: datetime) -> bool:
        """Whether active ``booking`` forbids a session starting at ``start`` (rule 4, one booking)."""
        offset = start - booking.scheduled_at
        return any(minutes(low) < offset < minutes(high) for low, high in self.forbidden_offsets(booking))

    def counts_per_day(self, booking: Booking) -> bool:
        """Whether ``booking`` is an attendee of a session of this offering (rules 5 and 6)."""
        return booking.status.is_active and booking.offering_id == self.offering_id

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()


class _Calendar:
    """The mentor's busy bookings and external busy intervals prepared for many questions: forbidden starts
    sorted and merged, sessions per day, the sessions that still have seats.

    Forbidden starts are kept as disjoint open intervals sorted by their low end, so "is this start blocked?" is
    one binary search instead of a pass over every booking. The starts of this offering's sessions with seats
    left that nothing else blocks (rule 6) are a set, checked first.
    """

    __slots__ = ("_highs", "_lows", "_max_per_day", "_per_day", "joinable")

    def __init__(self, rules: _Rules, busy: Sequence[Booking], external: Sequence[BusyInterval] = ()) -> None:
        active = [booking for booking in busy if booking.status.is_active]
        sessions: dict[datetime, list[Booking]] = {}
        for booking in active:
            if booking.offering_id == rules.offering_id:  # an attendee of this offering (``counts_per_day``)
                sessions.setdefault(booking.scheduled_at.astimezone(UTC), []).append(booking)
        open_starts = {start for start, attendees in sessions.items() if len(attendees) < rules.capacity}
        seated = [b for start in sorted(open_starts) for b in sessions[start]]  # attendees of open sessions
        others = [b for b in active if not (b.offering_id == rules.offering_id and b.scheduled_at in open_starts)]
        blocking = _forbidden(rules, others) + [rules.external_forbidden(interval) for interval in external]
        self._lows, self._highs = _merged(blocking)
        self.joinable: frozenset[datetime] = frozenset()
        if open_starts:
            # a start with seats left is offered when nothing but its own attendees forbids it
            starts = [b.scheduled_at for b in seated]
            self.joinable = frozenset(
                start
                for start in open_starts
                if not self.is_blocked(start)
                and not any(
                    rules.conflicts(b, start) for b in _near(seated, starts, start) if b.scheduled_at != start
                )
            )
            self._lows, self._highs = _merged(blocking + _forbidden(rules, seated))
        self._per_day = Counter(rules.local_date(start) for start in sessions)
        self._max_per_day = rules.max_per_day

    def is_blocked(self, start: datetime) -> bool:
        index = bisect_left(self._lows, start) - 1  # the last interval whose low end is before ``start``
        return index >= 0 and start < self._highs[index]

    def is_free(self, start: datetime, day_full: bool) -> bool:
        """Whether ``start`` passes rules 4-6, given whether its local day already has its sessions."""
        if start in self.joinable:
            return True
        return not day_full and not self.is_blocked(start)

    def is_full(self, day: date) -> bool:
        return self._per_day[day] >= self._max_per_day


# A booking's blocked time lies within these bounds around its start (durations and buffers are bounded:
# ``domain.model``), so only bookings this near a start can forbid it.
_REACH = timedelta(minutes=2 * (max(ALLOWED_DURATIONS) + MAX_BUFFER_MINUTES))


def _near(bookings: Sequence[Booking], starts: Sequence[datetime], start: datetime) -> Sequence[Booking]:
    """The bookings of ``bookings`` (sorted by start; ``starts`` their starts) starting within ``_REACH`` of
    ``start``."""
    return bookings[bisect_left(starts, start - _REACH) : bisect_left(starts, start + _REACH)]


def _forbidden(rules: _Rules, bookings: Sequence[Booking]) -> list[tuple[datetime, datetime]]:
    """Rule 4 for ``bookings``: the open intervals of forbidden starts, computed once for bookings that block
    alike (a group session's attendees share their start, length and buffers), the offsets once per shape."""
    shapes: dict[tuple[int, int, int], tuple[tuple[timedelta, timedelta], ...]] = {}
    seen: set[tuple[datetime, tuple[int, int, int]]] = set()
    out: list[tuple[datetime, datetime]] = []
    for booking in bookings:
        anchor = booking.scheduled_at.astimezone(UTC)
        shape = (booking.duration_minutes, booking.buffer_before_minutes, booking.buffer_after_minutes)
        if (anchor, shape) in seen:
            continue
        seen.add((anchor, shape))
        offsets = shapes.get(shape)
        if offsets is None:
            offsets = shapes[shape] = tuple(
                (minutes(low), minutes(high)) for low, high in rules.forbidden_offsets(booking)
            )
        out += [(anchor + low, anchor + high) for low, high in offsets]
    return out


def _merged(intervals: list[tuple[datetime, datetime]]) -> tuple[list[datetime], list[datetime]]:
    """Open intervals of forbidden starts (rule 4) made disjoint, sorted by low ends (``lows``, ``highs``)."""
    intervals.sort()
    lows: list[datetime] = []
    highs: list[datetime] = []
    for low, high in intervals:
        if highs and low < highs[-1]:  # open intervals that merely touch stay apart
            highs[-1] = max(highs[-1], high)
        else:
            lows.append(low)
            highs.append(high)
    return lows, highs


def _starts_on_local_day(
    rules: _Rules, calendar: _Calendar, day: date, low: datetime, high: datetime
) -> Iterator[datetime]:
    """Starts in ``[low, high]`` on mentor-local ``day`` passing rules 1, 2, 4, 5 and 6, in order; may repeat."""
    full = calendar.is_full(day)
    if full and not calendar.joinable:
        return
    clock = DayClock(day, rules.tz)
    duration = rules.duration
    for time_range in rules.availability.ranges_on(day):
        interval = clock.range_to_utc(time_range)
        if interval is None:
            continue
        first = max(interval[0], low)
        last = min(interval[1] - duration, high)  # the last start whose session still fits (rule 2)
        if first > last:
            continue  # the range lies outside [low, high] (the spare days around a window), or is too short
        for start in clock.grid(time_range, rules.step):
            if start < first:
                continue
            if start > last:
                break  # starts only grow with the wall clock (first occurrences of existing times)
            if calendar.is_free(start, full):
                yield start


def generate_slots(
    offering: Offering,
    availability: Availability | None,
    busy: Sequence[Booking],
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    external: Sequence[BusyInterval] = (),
) -> list[datetime]:
    """Every bookable start instant for ``offering``, sorted, unique, timezone-aware UTC.

    ``availability`` is the mentor's profile availability (the offering's effective availability is derived from
    it; passing an already effective one is equivalent). ``busy`` are the mentor's bookings around the window, of
    every offering; inactive ones are ignored. ``external``: the busy intervals of the mentor's external calendars
    around the window. ``start`` (inclusive) and ``end`` (exclusive) narrow the booking window; they never widen
    it. Returns ``[]`` when ``availability`` is None.
    """
    rules = _Rules.of(offering, availability, now)
    if rules is None:
        return []
    end = None if end is None else end.astimezone(UTC)
    low = rules.earliest if start is None else max(rules.earliest, start.astimezone(UTC))
    high = rules.latest if end is None else min(rules.latest, end)
    if low > high:
        return []
    calendar = _Calendar(rules, busy, external)
    found = {
        slot
        for day in local_dates(low, high, rules.tz)
        for slot in _starts_on_local_day(rules, calendar, day, low, high)
        if end is None or slot < end
    }
    return sorted(found)


def is_bookable(
    offering: Offering,
    availability: Availability | None,
    busy: Sequence[Booking],
    now: datetime,
    start: datetime,
    external: Sequence[BusyInterval] = (),
) -> bool:
    """Exactly ``start in generate_slots(offering, availability, busy, now, external=external)``, but only looks
    at that local day.

    Meant for re-checking a chosen slot at booking time, inside the write transaction. Costs one pass over
    ``busy`` and ``external`` (no sorting) and the availability ranges of one date.
    """
    rules = _Rules.of(offering, availability, now)
    if rules is None or start.utcoffset() is None:
        return False
    start = start.astimezone(UTC)  # an ambiguous local time in another zone only compares reliably once in UTC
    if not rules.in_window(start):
        return False
    local = start.astimezone(rules.tz)
    if local.second or local.microsecond:
        return False
    day, minute = local.date(), local.hour * 60 + local.minute
    clock = DayClock(day, rules.tz)
    if minute % rules.step or clock.to_utc(minute) != start:
        return False  # off the grid, or the second occurrence of an ambiguous time
    in_a_range = any(
        time_range.start <= minute < time_range.end
        and (interval := clock.range_to_utc(time_range)) is not None
        and rules.fits(start, interval)
        for time_range in rules.availability.ranges_on(day)
    )
    if not in_a_range:
        return False
    active = [booking for booking in busy if booking.status.is_active]
    ours = [b for b in active if rules.counts_per_day(b)]  # this offering's attendees, of every session
    attendees = [b for b in ours if b.scheduled_at == start]
    if len(attendees) >= rules.capacity:
        return False  # rule 6: every seat taken (a 1:1 session's one seat included)
    if not attendees:  # a new session: the daily limit (rule 5); joining a session adds none
        sessions = {b.scheduled_at for b in ours if rules.local_date(b.scheduled_at) == day}
        if len(sessions) >= rules.max_per_day:
            return False
    if any(low < start < high for low, high in map(rules.external_forbidden, external)):
        return False
    return not any(rules.conflicts(b, start) for b in active if b not in attendees)


def seats_left(offering: Offering, busy: Sequence[Booking], start: datetime) -> int:
    """How many of the offering's seats at ``start`` are not taken by an active booking (rule 6); never below 0
    (a capacity lowered below a session's attendees leaves them all booked)."""
    taken = sum(1 for b in busy if b.status.is_active and b.offering_id == offering.id and b.scheduled_at == start)
    return max(offering.capacity - taken, 0)


def free_dates(
    offering: Offering,
    availability: Availability | None,
    busy: Sequence[Booking],
    now: datetime,
    tz: ZoneInfo,
    external: Sequence[BusyInterval] = (),
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    skip: datetime | None = None,
) -> list[date]:
    """The dates, in the viewer's zone ``tz``, that have at least one slot; sorted. ``skip``: a start that does not
    count (a booking being moved may not move to its own time, so a day whose only free time it is has none).

    Exactly ``{s.astimezone(tz).date() for s in generate_slots(..., start=start, end=end, external=external)}``:
    ``start`` and ``end`` narrow the booking window as there (``busy`` and ``external`` need only cover them).
    When the viewer's zone is the mentor's, a slot's date is the mentor-local day it was generated for, so one slot
    per day settles that day (the date picker runs this on every open; it need not build every slot of the days it
    looks at).
    """
    rules = _Rules.of(offering, availability, now)
    if rules is None:
        return []
    low = rules.earliest if start is None else max(rules.earliest, start.astimezone(UTC))
    high = rules.latest if end is None else min(rules.latest, end.astimezone(UTC) - timedelta(microseconds=1))
    if low > high:
        return []
    calendar = _Calendar(rules, busy, external)
    found: set[date] = set()
    same_clock = tz.key == rules.tz.key
    for day in local_dates(low, high, rules.tz):
        starts = (s for s in _starts_on_local_day(rules, calendar, day, low, high) if s != skip)
        if same_clock:
            if next(starts, None) is not None:
                found.add(day)
        else:
            found.update(start.astimezone(tz).date() for start in starts)
    return sorted(found)


def days_around(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants surely before local midnight starting ``first`` and after the one ending ``last`` in ``tz``: a
    day's margin either side covers any UTC offset and any clock jump. Every slot starting on those days lies in
    between (``slots_on`` looks only here); load what is busy in this range widened by ``NEIGHBOURHOOD``."""
    return _near_midnight(first, tz) - _ONE_DAY, _near_midnight(last + _ONE_DAY, tz) + _ONE_DAY


def slots_on(
    offering: Offering,
    availability: Availability | None,
    busy: Sequence[Booking],
    now: datetime,
    day: date,
    tz: ZoneInfo,
    external: Sequence[BusyInterval] = (),
) -> list[datetime]:
    """The slots whose start falls on ``day`` in the viewer's zone ``tz``; sorted UTC instants."""
    around_start, around_end = days_around(day, day, tz)  # with margins; the filter below is exact
    slots = generate_slots(
        offering, availability, busy, now, start=around_start, end=around_end, external=external
    )
    return [slot for slot in slots if slot.astimezone(tz).date() == day]


def _near_midnight(day: date, tz: ZoneInfo) -> datetime:
    """An instant within a few hours of local midnight starting ``day`` in ``tz`` (only used with margins)."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
