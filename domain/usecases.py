"""Use cases: one function per thing a person can do, over the ports in ``domain.ports``.

Each takes an open unit of work and a clock, checks who is asking and what they may do (nothing from the
caller is trusted: ids come from button data), applies the rules, and saves through repositories. Use cases
never commit: the caller commits the unit of work once, so a change and its side effects land together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain import booking as rules
from domain import slots
from domain.availability import effective_availability, replace_days
from domain.errors import (
    InvalidInput,
    MenteeOverlap,
    NotAllowed,
    NotFound,
    OfferingUnavailable,
    SelfBooking,
    SlotTaken,
    TooManyBookings,
)
from domain.notifications import record_change
from domain.model import (
    Actor,
    Availability,
    Booking,
    BookingStatus,
    Offering,
    OfferingStatus,
    TimeRange,
    User,
    WeeklyRule,
)
from domain.ports import Clock, UnitOfWork
from domain.validation import parse_price, validate_duration, validate_title

# How far around a slot to look for bookings that can affect it: a whole local day either side covers
# the daily limit (counted in the mentor's local day) and any buffer.
_NEIGHBOURHOOD = timedelta(days=2)


class NoAvailability(InvalidInput):
    """An offering cannot go live while the mentor has no weekly hours."""

    def __init__(self) -> None:
        super().__init__("availability", "empty")


def validate_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("timezone", "unknown") from None
    return name


# --- people -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Profile:
    """What Telegram tells us about a person on each update."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None


def same_profile(user: User, profile: Profile) -> bool:
    """Whether the stored names still match what Telegram says (else ``register_user`` refreshes them)."""
    return (user.first_name, user.last_name, user.username) == (
        profile.first_name, profile.last_name, profile.username
    )  # fmt: skip


async def register_user(uow: UnitOfWork, profile: Profile, locale: str) -> tuple[User, bool]:
    """Create the user on first contact, or refresh their name; returns ``(user, created)``."""
    user = await uow.users.get(profile.id)
    if user is None:
        user = User(profile.id, profile.first_name, profile.last_name, profile.username, locale=locale)
        return await uow.users.add(user), True
    if not same_profile(user, profile):
        user = await uow.users.update(
            replace(user, first_name=profile.first_name, last_name=profile.last_name, username=profile.username)
        )
    return user, False


async def _user(uow: UnitOfWork, user_id: int) -> User:
    user = await uow.users.get(user_id)
    if user is None:
        raise NotFound("user")
    return user


async def set_timezone(uow: UnitOfWork, user_id: int, zone: str) -> User:
    user = await _user(uow, user_id)
    return await uow.users.update(replace(user, timezone=validate_timezone(zone)))


async def set_locale(uow: UnitOfWork, user_id: int, locale: str, supported: Sequence[str]) -> User:
    if locale not in supported:
        raise InvalidInput("locale", "unknown")
    user = await _user(uow, user_id)
    return await uow.users.update(replace(user, locale=locale))


async def set_daily_agenda(uow: UnitOfWork, user_id: int, on: bool) -> User:
    """Mentors: whether the daily agenda is sent (it is checked when it falls due)."""
    user = await _mentor(uow, user_id)
    return await uow.users.update(replace(user, daily_agenda=on))


async def become_mentor(uow: UnitOfWork, user_id: int) -> User:
    user = await _user(uow, user_id)
    if user.is_mentor:
        return user
    return await uow.users.update(replace(user, is_mentor=True))


async def _mentor(uow: UnitOfWork, user_id: int) -> User:
    user = await _user(uow, user_id)
    if not user.is_mentor:
        raise NotAllowed("not a mentor")
    return user


# --- availability -------------------------------------------------------------------------------------------


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


async def set_weekly_availability(
    uow: UnitOfWork, mentor_id: int, days: Sequence[int], ranges: Sequence[TimeRange]
) -> list[WeeklyRule]:
    """Give each of ``days`` exactly ``ranges``; the other days keep their hours. Returns the whole week."""
    await _mentor(uow, mentor_id)
    saved = await uow.availability.get(mentor_id)
    week = replace_days(saved.weekly if saved else (), days, weekly_rules(days, ranges))
    await uow.availability.replace_weekly(mentor_id, week)
    return list(week)


async def get_availability(uow: UnitOfWork, mentor_id: int) -> Availability | None:
    return await uow.availability.get(mentor_id)


# --- offerings ----------------------------------------------------------------------------------------------


async def create_offering(uow: UnitOfWork, mentor_id: int, title: str, price: str, duration: int) -> Offering:
    """The under-a-minute path: title, price and duration; every other field takes the seed's default."""
    await _mentor(uow, mentor_id)
    offering = Offering(
        mentor_id=mentor_id,
        title=validate_title(title),
        price=parse_price(price),
        duration_minutes=validate_duration(duration),
    )
    return await uow.offerings.add(offering)


async def _own_offering(uow: UnitOfWork, mentor_id: int, offering_id: int) -> Offering:
    offering = await uow.offerings.get(offering_id)
    if offering is None:
        raise NotFound("offering")
    if offering.mentor_id != mentor_id:
        raise NotAllowed("not your offering")
    return offering


async def set_offering_status(
    uow: UnitOfWork, mentor_id: int, offering_id: int, status: OfferingStatus
) -> Offering:
    """Publish, pause, resume or archive; going live needs weekly hours to book against."""
    offering = await _own_offering(uow, mentor_id, offering_id)
    if status == OfferingStatus.ACTIVE:
        availability = effective_availability(offering, await uow.availability.get(mentor_id))
        if availability is None or not availability.weekly:
            raise NoAvailability()
    if offering.status == status:
        return offering
    if offering.status == OfferingStatus.ARCHIVED and status != OfferingStatus.ARCHIVED:
        raise InvalidInput("status", "archived")
    return await uow.offerings.update(offering.with_changes(status=status))


async def list_my_offerings(uow: UnitOfWork, mentor_id: int) -> list[Offering]:
    await _mentor(uow, mentor_id)
    return await uow.offerings.list_by_mentor(mentor_id)


# --- choosing a time ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlotContext:
    """Everything slot generation needs for one offering, loaded once."""

    offering: Offering
    mentor: User
    availability: Availability | None
    busy: list[Booking]


async def _bookable_offering(uow: UnitOfWork, offering_id: int, viewer_id: int) -> tuple[Offering, User]:
    found = await uow.offerings.get_with_mentor(offering_id)
    if found is None:
        raise NotFound("offering")
    offering, mentor = found
    if offering.status != OfferingStatus.ACTIVE:
        raise OfferingUnavailable(offering.status)
    if offering.mentor_id == viewer_id:
        raise SelfBooking()
    return offering, mentor


async def _slot_context(
    uow: UnitOfWork, offering_id: int, viewer_id: int, now: datetime, at: datetime | None = None
) -> SlotContext:
    """The offering, its mentor, their availability and the bookings that can affect the slot ``at``, or, without
    ``at``, any slot of the offering's booking window from ``now``. Loads each of them once."""
    offering, mentor = await _bookable_offering(uow, offering_id, viewer_id)
    start, end = (at, at) if at is not None else slots.booking_window(offering, now)
    availability = effective_availability(offering, await uow.availability.get(mentor.id))
    busy = await uow.bookings.active_for_mentor(mentor.id, start - _NEIGHBOURHOOD, end + _NEIGHBOURHOOD)
    return SlotContext(offering, mentor, availability, busy)


async def free_dates(
    uow: UnitOfWork, clock: Clock, offering_id: int, viewer_id: int, viewer_tz: str
) -> tuple[SlotContext, list[date]]:
    """Dates (in the viewer's zone) on which the offering has at least one free start time."""
    ctx = await _slot_context(uow, offering_id, viewer_id, clock.now())
    if ctx.availability is None:
        return ctx, []
    days = slots.free_dates(ctx.offering, ctx.availability, ctx.busy, clock.now(), ZoneInfo(viewer_tz))
    return ctx, days


async def free_times(
    uow: UnitOfWork, clock: Clock, offering_id: int, viewer_id: int, day: date, viewer_tz: str
) -> tuple[SlotContext, list[datetime]]:
    """Free start times on ``day`` in the viewer's zone."""
    ctx = await _slot_context(uow, offering_id, viewer_id, clock.now())
    if ctx.availability is None:
        return ctx, []
    times = slots.slots_on(ctx.offering, ctx.availability, ctx.busy, clock.now(), day, ZoneInfo(viewer_tz))
    return ctx, times


async def check_slot(uow: UnitOfWork, clock: Clock, offering_id: int, viewer_id: int, start: datetime) -> SlotContext:
    """Raise ``SlotTaken`` unless ``start`` is bookable now (used before asking for notes and at confirmation)."""
    ctx = await _slot_context(uow, offering_id, viewer_id, clock.now(), at=start)
    if ctx.availability is None or not slots.is_bookable(ctx.offering, ctx.availability, ctx.busy, clock.now(), start):
        raise SlotTaken()
    return ctx


# --- booking ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookingRequest:
    offering_id: int
    mentee_id: int
    start: datetime
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class BookingView:
    booking: Booking
    offering: Offering
    mentor: User
    mentee: User


# At most this many pending or upcoming bookings per mentee with one mentor (``MAX_ACTIVE_BOOKINGS_PER_MENTOR``).
DEFAULT_MAX_ACTIVE_PER_MENTOR = 3


async def book_slot(
    uow: UnitOfWork,
    clock: Clock,
    request: BookingRequest,
    max_active_per_mentor: int = DEFAULT_MAX_ACTIVE_PER_MENTOR,
) -> BookingView:
    """Book ``request.start`` for the mentee, re-checking everything inside the write transaction.

    Both people's rows are locked first (PostgreSQL; SQLite transactions are immediate), so two requests for
    the same mentor or by the same mentee run one after the other and the second sees the first's booking
    (the limit of ``max_active_per_mentor`` pending or upcoming bookings with one mentor included).
    """
    offering = await uow.offerings.get(request.offering_id)
    if offering is None:
        raise NotFound("offering")
    await uow.lock_users(*sorted({offering.mentor_id, request.mentee_id}))
    ctx = await check_slot(uow, clock, request.offering_id, request.mentee_id, request.start)
    mentee = await _user(uow, request.mentee_id)
    end = request.start + timedelta(minutes=ctx.offering.duration_minutes)
    if await uow.bookings.active_for_mentee(mentee.id, request.start, end):
        raise MenteeOverlap()
    if await uow.bookings.count_open_with_mentor(mentee.id, ctx.mentor.id, clock.now()) >= max_active_per_mentor:
        raise TooManyBookings(max_active_per_mentor)
    booking, delta = rules.new_booking(
        ctx.offering, mentee.id, request.start, mentee.timezone or "UTC", clock.now(), request.notes
    )
    booking = await uow.bookings.add(booking)
    await uow.offerings.apply_stats(ctx.offering.id, delta)  # type: ignore[arg-type]
    await record_change(uow, None, booking, Actor.MENTEE, ctx.mentor.timezone or "UTC", clock.now())
    return BookingView(booking, ctx.offering, ctx.mentor, mentee)


async def booking_views(
    uow: UnitOfWork, bookings: Sequence[Booking], known: Sequence[User] = ()
) -> list[BookingView]:
    """Each booking with its offering and both people, each row loaded once for the whole list (``known`` people
    are not loaded again); a booking whose offering or person is gone is left out."""
    people = {user.id: user for user in known}
    offerings: dict[int, Offering | None] = {}
    views = []
    for booking in bookings:
        for person_id in (booking.mentor_id, booking.mentee_id):
            if person_id not in people:
                found = await uow.users.get(person_id)
                if found is not None:
                    people[person_id] = found
        if booking.offering_id not in offerings:
            offerings[booking.offering_id] = await uow.offerings.get(booking.offering_id)
        offering, mentor, mentee = (
            offerings[booking.offering_id], people.get(booking.mentor_id), people.get(booking.mentee_id)
        )
        if offering is not None and mentor is not None and mentee is not None:
            views.append(BookingView(booking, offering, mentor, mentee))
    return views


async def booking_for(
    uow: UnitOfWork, booking_id: int, user_id: int, *, for_update: bool = False
) -> tuple[BookingView, Actor]:
    """The booking with both people and the asker's role in it; ``NotAllowed`` for anyone else.

    ``for_update`` when the booking is about to change: it stays locked until the unit of work ends, so two
    people changing it at once are served one after the other and the second sees the first's change
    (``BookingRepository.get``)."""
    booking = await uow.bookings.get(booking_id, for_update=for_update)
    if booking is None:
        raise NotFound("booking")
    if user_id == booking.mentor_id:
        actor = Actor.MENTOR
    elif user_id == booking.mentee_id:
        actor = Actor.MENTEE
    else:
        raise NotAllowed("not your booking")
    offering = await uow.offerings.get(booking.offering_id)
    if offering is None:
        raise NotFound("offering")
    mentor, mentee = await _user(uow, booking.mentor_id), await _user(uow, booking.mentee_id)
    return BookingView(booking, offering, mentor, mentee), actor


async def change_status(
    uow: UnitOfWork,
    clock: Clock,
    user_id: int,
    booking_id: int,
    target: BookingStatus,
    reason: str | None = None,
    *,
    only: Actor | None = None,
) -> BookingView:
    """Move a booking as the asking user (confirm, decline, cancel, complete, no-show); ``only``: refuse
    (``NotAllowed``) unless the asker has that role in the booking."""
    view, actor = await booking_for(uow, booking_id, user_id, for_update=True)
    if only is not None and actor != only:
        raise NotAllowed(f"only the {only.value}")
    return await move(uow, clock, view, actor, target, reason)


async def move(
    uow: UnitOfWork,
    clock: Clock,
    view: BookingView,
    actor: Actor,
    target: BookingStatus,
    reason: str | None = None,
) -> BookingView:
    """Move the booking of ``view`` - loaded ``for_update`` in this unit of work - as ``actor``: the new status,
    the notifications it brings and the offering's counters, all in this transaction."""
    updated, delta = rules.transition(view.booking, target, actor, clock.now(), reason)
    updated = await uow.bookings.update(updated)
    await record_change(uow, view.booking, updated, actor, view.mentor.timezone or "UTC", clock.now())
    if delta:
        await uow.offerings.apply_stats(view.offering.id, delta)  # type: ignore[arg-type]
    return BookingView(updated, view.offering, view.mentor, view.mentee)


async def add_meeting_link(uow: UnitOfWork, clock: Clock, user_id: int, booking_id: int, link: str) -> BookingView:
    view, actor = await booking_for(uow, booking_id, user_id, for_update=True)
    updated = await uow.bookings.update(rules.set_meeting_link(view.booking, actor, link, clock.now()))
    await record_change(uow, view.booking, updated, actor, view.mentor.timezone or "UTC", clock.now())
    return BookingView(updated, view.offering, view.mentor, view.mentee)
