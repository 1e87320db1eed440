"""Properties of the slot engine over random offerings, availability, busy calendars (bookings and the busy
intervals of external calendars) and zones (hypothesis).

The centrepiece is ``reference_slots``: the rules of ``domain.slots`` written out literally (every grid minute of
every local day, every busy booking for every candidate), compared with the fast engine. The other properties
check the rules geometrically, without sharing any code with the engine beyond ``domain.availability``.

Set ``DOMAIN_MAX_EXAMPLES`` to run more examples (the default keeps the domain suite fast).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.availability import (
    UTC,
    effective_availability,
    local_to_utc,
    open_intervals,
    range_to_utc,
)
from domain.model import (
    ALLOWED_DURATIONS,
    Availability,
    Booking,
    BookingStatus,
    BusyInterval,
    DateOverride,
    Offering,
    TimeRange,
    WeeklyRule,
)
from domain.slots import (
    booking_window,
    free_dates,
    generate_slots,
    is_bookable,
    seats_left,
    slot_step_minutes,
    slots_on,
)
from tests.domain.factories import OFFERING_ID, OTHER_OFFERING_ID, booking, offering

PROPERTIES = settings(
    max_examples=int(os.environ.get("DOMAIN_MAX_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ZONES = [
    "UTC",
    "Asia/Kolkata",
    "Asia/Kathmandu",  # +05:45
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
]

ACTIVE = [status for status in BookingStatus if status.is_active]

# Fixed instants; the windows that follow them cover DST transitions in London, New York and Lord Howe.
NOWS = [
    datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    datetime(2026, 3, 5, 13, 17, tzinfo=UTC),  # New York spring forward 03-08
    datetime(2026, 3, 26, 22, 45, tzinfo=UTC),  # London spring forward 03-29
    datetime(2026, 4, 2, 9, 0, tzinfo=UTC),  # Lord Howe fall back 04-05
    datetime(2026, 9, 30, 18, 5, tzinfo=UTC),  # Lord Howe spring forward 10-04
    datetime(2026, 10, 22, 0, 0, tzinfo=UTC),  # London fall back 10-25
    datetime(2026, 10, 29, 16, 30, tzinfo=UTC),  # New York fall back 11-01
]


@dataclass(frozen=True)
class Scenario:
    offering: Offering
    profile: Availability
    busy: list[Booking]
    now: datetime
    external: tuple[BusyInterval, ...] = ()

    @property
    def availability(self) -> Availability:
        effective = effective_availability(self.offering, self.profile)
        assert effective is not None
        return effective

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.profile.timezone)

    def slots(self) -> list[datetime]:
        return generate_slots(self.offering, self.profile, self.busy, self.now, external=self.external)


@st.composite
def time_ranges(draw: st.DrawFn) -> TimeRange:
    start = draw(st.integers(0, 1435 // 5)) * 5
    end = draw(st.integers(start // 5 + 1, 288)) * 5
    return TimeRange(start, end)


@st.composite
def weekly_rules(draw: st.DrawFn) -> tuple[WeeklyRule, ...]:
    rules = draw(st.lists(st.tuples(st.integers(0, 6), time_ranges()), max_size=8))
    return tuple(WeeklyRule(weekday, time_range) for weekday, time_range in rules)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    now = draw(st.sampled_from(NOWS))
    advance_days = draw(st.integers(1, 8))
    use_profile = draw(st.booleans())
    the_offering = offering(
        duration_minutes=draw(st.sampled_from(ALLOWED_DURATIONS)),
        buffer_before_minutes=draw(st.integers(0, 30)),
        buffer_after_minutes=draw(st.integers(0, 30)),
        max_bookings_per_day=draw(st.integers(1, 4)),
        capacity=draw(st.sampled_from([1, 1, 2, 3, 5])),
        min_notice_hours=draw(st.integers(0, 48)),
        advance_booking_days=advance_days,
        use_profile_availability=use_profile,
        weekly_rules=() if use_profile else draw(weekly_rules()),
    )
    overrides = draw(
        st.lists(
            st.builds(
                DateOverride,
                day=st.integers(-1, advance_days + 1).map(lambda k: now.date() + timedelta(days=k)),
                ranges=st.lists(time_ranges(), max_size=2).map(tuple),
            ),
            max_size=3,
        )
    )
    profile = Availability(
        timezone=draw(st.sampled_from(ZONES)), weekly=draw(weekly_rules()), overrides=tuple(overrides)
    )
    anchor = now.replace(minute=0)
    busy = draw(
        st.lists(
            st.builds(
                booking,
                st.integers(-24 * 12, (advance_days + 1) * 24 * 12).map(
                    lambda k: anchor + timedelta(minutes=5 * k)
                ),
                st.sampled_from(ALLOWED_DURATIONS),
                before=st.integers(0, 30),
                after=st.integers(0, 30),
                offering_id=st.sampled_from([OFFERING_ID, OTHER_OFFERING_ID]),
                status=st.one_of(st.sampled_from(ACTIVE), st.sampled_from(list(BookingStatus))),
            ),
            max_size=16,
        )
    )
    # Attendees who joined a session of the offering: more bookings at the start of one of its bookings (a group
    # session, full or with seats left; a 1:1 offering with two is data from before a capacity was lowered)
    ours = [b for b in busy if b.offering_id == OFFERING_ID]
    if ours:
        for _ in range(draw(st.integers(0, 4))):
            seat = draw(st.sampled_from(ours))
            busy.append(
                booking(
                    seat.scheduled_at,
                    seat.duration_minutes,
                    before=seat.buffer_before_minutes,
                    after=seat.buffer_after_minutes,
                    status=draw(st.sampled_from(list(BookingStatus))),
                    mentee_id=draw(st.integers(501, 520)),
                )
            )
    # External busy intervals on the 5-minute grid, 5 minutes to two days long (all-day events included)
    starts = st.integers(-24 * 12, (advance_days + 1) * 24 * 12)
    external = [
        BusyInterval(anchor + timedelta(minutes=5 * first), anchor + timedelta(minutes=5 * (first + length)))
        for first, length in draw(st.lists(st.tuples(starts, st.integers(1, 2 * 24 * 12)), max_size=6))
    ]
    return Scenario(the_offering, profile, busy, now, tuple(external))


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def attendees(scenario: Scenario, start: datetime) -> list[Booking]:
    """The active bookings of the offering's session at ``start`` (rule 6)."""
    o = scenario.offering
    return [b for b in scenario.busy if b.status.is_active and b.offering_id == o.id and b.scheduled_at == start]


def conflicts(scenario: Scenario, start: datetime, *, joining: bool = False) -> bool:
    """Rule 4 written out: does any active busy booking forbid a session starting at ``start``? ``joining``: the
    attendees of the offering's session at ``start`` do not (rule 6)."""
    o = scenario.offering
    end = start + timedelta(minutes=o.duration_minutes)
    widened = (start - timedelta(minutes=o.buffer_before_minutes), end + timedelta(minutes=o.buffer_after_minutes))
    seated = attendees(scenario, start) if joining else []
    return any(
        overlaps(start, end, b.blocked_from, b.blocked_until) or overlaps(b.scheduled_at, b.ends_at, *widened)
        for b in scenario.busy
        if b.status.is_active and b not in seated
    ) or any(overlaps(e.start, e.end, *widened) for e in scenario.external)


def reference_slots(scenario: Scenario) -> list[datetime]:
    """The slot rules applied literally, minute by minute and booking by booking."""
    o, availability, tz = scenario.offering, scenario.availability, scenario.tz
    earliest, latest = booking_window(o, scenario.now)
    duration = timedelta(minutes=o.duration_minutes)
    step = slot_step_minutes(o.duration_minutes)
    found: set[datetime] = set()
    day = earliest.astimezone(tz).date() - timedelta(days=2)
    while day <= latest.astimezone(tz).date() + timedelta(days=2):
        sessions = {
            b.scheduled_at
            for b in scenario.busy
            if b.status.is_active and b.offering_id == o.id and b.scheduled_at.astimezone(tz).date() == day
        }
        for time_range in availability.ranges_on(day):
            interval = range_to_utc(day, time_range, tz)
            for minute in range(0, 1440, step):
                if not time_range.start <= minute < time_range.end:
                    continue
                start = local_to_utc(day, minute, tz)
                if start is None or interval is None:
                    continue
                if not (interval[0] <= start and start + duration <= interval[1]):
                    continue
                if not earliest <= start <= latest:
                    continue
                seated = len(attendees(scenario, start))
                if seated >= o.capacity:
                    continue  # every seat taken
                if seated and conflicts(scenario, start, joining=True):
                    continue  # joining a session: anything but its own attendees blocks
                if not seated and (conflicts(scenario, start) or len(sessions) >= o.max_bookings_per_day):
                    continue
                found.add(start)
        day += timedelta(days=1)
    return sorted(found)


@PROPERTIES
@given(scenarios())
def test_engine_matches_the_literal_rules(scenario: Scenario) -> None:
    assert scenario.slots() == reference_slots(scenario)


@PROPERTIES
@given(scenarios())
def test_no_slot_overlaps_a_buffered_active_booking(scenario: Scenario) -> None:
    for slot in scenario.slots():  # a group session's start with seats left overlaps only its own attendees
        joining = len(attendees(scenario, slot)) < scenario.offering.capacity
        assert not conflicts(scenario, slot, joining=joining)


@PROPERTIES
@given(scenarios())
def test_every_slot_lies_inside_availability_and_the_window(scenario: Scenario) -> None:
    o, tz = scenario.offering, scenario.tz
    earliest, latest = booking_window(o, scenario.now)
    slots = scenario.slots()
    assert slots == sorted(set(slots))
    duration = timedelta(minutes=o.duration_minutes)
    intervals = open_intervals(scenario.availability, earliest - timedelta(days=1), latest + timedelta(days=1))
    for slot in slots:
        assert slot.tzinfo is UTC
        assert earliest <= slot <= latest
        assert any(a <= slot and slot + duration <= b for a, b in intervals)
        local = slot.astimezone(tz)
        minute = local.hour * 60 + local.minute
        assert local.second == 0 and minute % slot_step_minutes(o.duration_minutes) == 0
        assert local.fold == 0 and local_to_utc(local.date(), minute, tz) == slot  # exists; first occurrence
        assert any(r.start <= minute < r.end for r in scenario.availability.ranges_on(local.date()))


@PROPERTIES
@given(scenarios(), st.data())
def test_booking_slots_one_by_one_never_exceeds_the_daily_maximum_nor_the_seats(
    scenario: Scenario, data: st.DataObject
) -> None:
    o, tz = scenario.offering, scenario.tz

    def sessions_per_day(busy: list[Booking]) -> Counter[date]:
        return Counter(
            start.astimezone(tz).date()
            for start in {b.scheduled_at for b in busy if b.status.is_active and b.offering_id == o.id}
        )

    def seats(busy: list[Booking], start: datetime) -> int:
        return sum(1 for b in busy if b.status.is_active and b.offering_id == o.id and b.scheduled_at == start)

    before = sessions_per_day(scenario.busy)
    busy = list(scenario.busy)
    booked: list[Booking] = []
    for _ in range(12):
        slots = generate_slots(o, scenario.profile, busy, scenario.now, external=scenario.external)
        if not slots:
            break
        start = data.draw(st.sampled_from(slots))
        assert seats(busy, start) < o.capacity
        assert seats_left(o, busy, start) == o.capacity - seats(busy, start)
        new = booking(
            start,
            o.duration_minutes,
            before=o.buffer_before_minutes,
            after=o.buffer_after_minutes,
            status=BookingStatus.PENDING,
        )
        assert is_bookable(o, scenario.profile, busy, scenario.now, start, scenario.external)
        busy.append(new)
        booked.append(new)
        full = seats(busy, start) >= o.capacity
        assert is_bookable(o, scenario.profile, busy, scenario.now, start, scenario.external) == (not full)
        assert (seats_left(o, busy, start) == 0) == full
    after = sessions_per_day(busy)
    for new in booked:
        day = new.scheduled_at.astimezone(tz).date()
        assert after[day] <= max(o.max_bookings_per_day, before[day])
        assert seats(busy, new.scheduled_at) <= max(o.capacity, seats(scenario.busy, new.scheduled_at))
    # The sessions booked this way never crowd each other either (attendees of one session share its time).
    for i, first in enumerate(booked):
        for second in booked[i + 1 :]:
            if first.scheduled_at == second.scheduled_at:
                continue
            assert not overlaps(first.blocked_from, first.blocked_until, second.scheduled_at, second.ends_at)
            assert not overlaps(second.blocked_from, second.blocked_until, first.scheduled_at, first.ends_at)


@PROPERTIES
@given(scenarios(), st.lists(st.integers(-4 * 24, 10 * 24 * 4), max_size=40))
def test_is_bookable_agrees_with_generate_slots(scenario: Scenario, quarter_hours: list[int]) -> None:
    slots = scenario.slots()
    slot_set = set(slots)
    base = scenario.now.replace(minute=0)
    probes = [base + timedelta(minutes=15 * k) for k in quarter_hours]
    for slot in slots[:20]:
        probes += [slot, slot - timedelta(minutes=15), slot + timedelta(minutes=30), slot + timedelta(seconds=1)]
        probes.append(slot.astimezone(ZoneInfo("Asia/Tokyo")))
    for probe in probes:
        assert is_bookable(
            scenario.offering, scenario.profile, scenario.busy, scenario.now, probe, scenario.external
        ) == (probe in slot_set), probe


@PROPERTIES
@given(scenarios(), st.sampled_from(ZONES))
def test_free_dates_and_slots_on_partition_the_slots(scenario: Scenario, viewer_zone: str) -> None:
    viewer = ZoneInfo(viewer_zone)
    args = (scenario.offering, scenario.profile, scenario.busy, scenario.now)
    slots = scenario.slots()
    days = free_dates(*args, viewer, scenario.external)
    assert days == sorted({slot.astimezone(viewer).date() for slot in slots})
    assert [slot for day in days for slot in slots_on(*args, day, viewer, scenario.external)] == slots


@PROPERTIES
@given(scenarios())
def test_free_dates_in_the_mentors_own_zone(scenario: Scenario) -> None:
    """The viewer shares the mentor's zone: ``free_dates`` settles each day by its first slot (DST days too)."""
    slots = scenario.slots()
    days = free_dates(
        scenario.offering, scenario.profile, scenario.busy, scenario.now, scenario.tz, scenario.external
    )
    assert days == sorted({slot.astimezone(scenario.tz).date() for slot in slots})


@PROPERTIES
@given(scenarios(), st.integers(-48, 10 * 24), st.integers(0, 4 * 24))
def test_start_and_end_select_a_sub_range(scenario: Scenario, start_hours: int, length_hours: int) -> None:
    start = scenario.now + timedelta(hours=start_hours, minutes=30)
    end = start + timedelta(hours=length_hours)
    narrowed = generate_slots(
        scenario.offering, scenario.profile, scenario.busy, scenario.now, start, end, scenario.external
    )
    assert narrowed == [slot for slot in scenario.slots() if start <= slot < end]


@PROPERTIES
@given(scenarios(), st.sampled_from(ZONES), st.integers(-48, 10 * 24), st.integers(0, 4 * 24))
def test_free_dates_narrowed_are_the_dates_of_the_narrowed_slots(
    scenario: Scenario, viewer_zone: str, start_hours: int, length_hours: int
) -> None:
    """``free_dates(..., start, end)`` (the date picker's week, ``domain.usecases.date_page``)."""
    viewer = ZoneInfo(viewer_zone)
    start = scenario.now + timedelta(hours=start_hours, minutes=30)
    end = start + timedelta(hours=length_hours)
    args = (scenario.offering, scenario.profile, scenario.busy, scenario.now)
    days = free_dates(*args, viewer, scenario.external, start=start, end=end)
    narrowed = generate_slots(*args, start, end, scenario.external)
    assert days == sorted({slot.astimezone(viewer).date() for slot in narrowed})
