"""The waitlist (``domain.waitlist`` holds the rules): joining for an offering or a date, one's entries,
leaving, and the dispatcher's side - what a notice of a freed time says, if it still holds. Telling the people
waiting when a time frees is ``notifications.tell_waitlist``, in the transaction of the change that frees it; when
an edit opens times (the mentor's hours, an offering's settings or its going live again, a busy calendar removed or
read with less in it), ``free_starts`` before the edit and ``tell_opened`` after it (rule 4), in the edit's
transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain import waitlist as rules
from domain.errors import NotFound, OfferingUnavailable, SelfBooking, SlotTaken
from domain.model import Offering, OfferingStatus, User
from domain.notifications import Notification
from domain.ports import Clock, UnitOfWork
from domain.usecases.booking import check_slot, open_starts
from domain.usecases.notifications import tell_freed
from domain.waitlist import WaitlistEntry


async def join_waitlist(
    uow: UnitOfWork, clock: Clock, mentee_id: int, offering_id: int, day: date | None, zone: str
) -> tuple[WaitlistEntry, Offering]:
    """Wait for the offering (``day`` None: any date) or one date of it in ``zone``; joining again keeps the
    entry (and its place)."""
    found = await uow.offerings.get_with_mentor(offering_id)
    if found is None:
        raise NotFound("offering")
    offering, mentor = found
    if offering.status != OfferingStatus.ACTIVE:
        raise OfferingUnavailable(offering.status)
    if mentor.id == mentee_id:
        raise SelfBooking()
    await uow.lock_users(mentee_id)
    for entry in await uow.waitlist.for_mentee(mentee_id):
        if entry.offering_id == offering_id and entry.day == day:
            return entry, offering
    entry = await uow.waitlist.add(rules.new_entry(offering_id, mentee_id, day, zone, clock.now()))
    return entry, offering


async def my_waitlist(uow: UnitOfWork, clock: Clock, mentee_id: int) -> list[tuple[WaitlistEntry, Offering]]:
    """The mentee's entries that have not ended, with their offerings, in the order they joined."""
    out = []
    for entry in await uow.waitlist.for_mentee(mentee_id):
        offering = await uow.offerings.get(entry.offering_id)
        if offering is not None and not entry.ended(clock.now()):
            out.append((entry, offering))
    return out


async def leave_waitlist(uow: UnitOfWork, mentee_id: int, entry_id: int) -> None:
    """``NotFound`` when the entry is not the asker's (or is gone)."""
    if not await uow.waitlist.remove(entry_id, mentee_id):
        raise NotFound("waitlist")


async def waiting_for(uow: UnitOfWork, clock: Clock, offering_id: int, zone: str) -> int:
    """How many wait for the offering (its mentor's screen)."""
    return await uow.waitlist.count_waiting(offering_id, clock.now().astimezone(ZoneInfo(zone)).date())


@dataclass(frozen=True, slots=True)
class FreedTime:
    """A waitlist notice as it is sent: the entry, its offering and mentor, the freed start, the mentee."""

    entry: WaitlistEntry
    offering: Offering
    mentor: User
    mentee: User


async def waitlist_notice(uow: UnitOfWork, clock: Clock, n: Notification) -> FreedTime | None:
    """The dispatcher's side: None when the entry ended (left, booked, its date passed) or the time is no longer
    bookable by its mentee (taken meanwhile) - nothing to say."""
    if n.waitlist_id is None or n.slot is None:
        return None
    entry = await uow.waitlist.get(n.waitlist_id)
    mentee = await uow.users.get(n.recipient_id)
    if entry is None or mentee is None or entry.ended(clock.now()):
        return None
    try:
        ctx = await check_slot(uow, clock, entry.offering_id, entry.mentee_id, n.slot)
    except (SlotTaken, NotFound, OfferingUnavailable, SelfBooking):
        return None
    return FreedTime(entry, ctx.offering, ctx.mentor, mentee)


# --- times an edit opens (``domain.waitlist``, rule 4) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FreeStarts:
    """The free start times of a mentor's offerings that someone waits for, at one moment: taken before an edit and
    again, at the same moment, after it (so the booking window does not move between the two). An offering not
    live (paused, a draft) that someone waits for has none."""

    now: datetime
    by_offering: Mapping[int, frozenset[datetime]]


async def free_starts(uow: UnitOfWork, clock: Clock, mentor_id: int, only: int | None = None) -> FreeStarts:
    """Taken before an edit that may open times (of the mentor's hours, an offering, a busy calendar); ``only``:
    of that one offering (an edit of one offering opens no other's times). Reads slots only for the offerings
    someone waits for: an edit no one waits on costs nothing more."""
    return await _free_starts_at(uow, clock.now(), mentor_id, only)


async def _free_starts_at(uow: UnitOfWork, now: datetime, mentor_id: int, only: int | None) -> FreeStarts:
    mentor = await uow.users.get(mentor_id)
    if mentor is None:
        return FreeStarts(now, {})
    if only is not None:
        offering = await uow.offerings.get(only)
        offerings = [offering] if offering is not None and offering.mentor_id == mentor_id else []
    else:
        offerings = await uow.offerings.list_by_mentor(mentor_id)
    profile = None
    found: dict[int, frozenset[datetime]] = {}
    for offering in offerings:
        if offering.id is None or offering.status == OfferingStatus.ARCHIVED:
            continue
        if not await uow.waitlist.count_waiting(offering.id, (now - timedelta(days=1)).date()):
            continue  # (a day back: the entry's date is in its own zone)
        if offering.status != OfferingStatus.ACTIVE:
            found[offering.id] = frozenset()  # nothing bookable until it is live again
            continue
        profile = profile or await uow.availability.get(mentor_id)
        found[offering.id] = frozenset(await open_starts(uow, now, offering, mentor, profile))
    return FreeStarts(now, found)


async def tell_opened(uow: UnitOfWork, mentor_id: int, before: FreeStarts, only: int | None = None) -> None:
    """After the edit: the times it opened (free now, not in ``before``, at ``before``'s moment) go to the people
    waiting for them, each person told of one time at most (their earliest), each time to one wave."""
    now = before.now
    after = await _free_starts_at(uow, now, mentor_id, only)
    for offering_id, starts in after.by_offering.items():
        told: frozenset[int] = frozenset()
        for start in rules.opened_starts(before.by_offering.get(offering_id, starts), starts):
            told |= frozenset(await tell_freed(uow, offering_id, start, now, told_already=told))
