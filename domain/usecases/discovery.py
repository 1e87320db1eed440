"""Discover: the filtered, sorted, paged list of open offerings, and one offering's card.

What SQL filters and sorts and what the slot engine decides is explained in ``domain.discovery``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from domain.discovery import (
    CANDIDATE_LIMIT,
    NEXT_SLOT_HORIZON_DAYS,
    PAGE_SIZE,
    SOON_DAYS,
    Filters,
    Listed,
    Listing,
    Match,
    OfferingCard,
    SortOrder,
    next_free_slot,
)
from domain.errors import NotFound, OfferingUnavailable
from domain.model import Availability, Booking, BusyInterval, OfferingStatus
from domain.ports import Clock, UnitOfWork
from domain.slots import NEIGHBOURHOOD
from domain.usecases.booking import busy_between


async def _next_slots(
    uow: UnitOfWork, matches: Sequence[Match], now: datetime, horizon_days: int
) -> list[datetime | None]:
    """The next free slot of each match; each mentor's availability, bookings and external busy intervals are
    loaded once."""
    loaded: dict[int, tuple[Availability | None, list[Booking], list[BusyInterval]]] = {}
    found = []
    start, end = now - NEIGHBOURHOOD, now + timedelta(days=horizon_days) + NEIGHBOURHOOD
    for match in matches:
        mentor_id = match.offering.mentor_id
        if mentor_id not in loaded:
            availability = await uow.availability.get(mentor_id)
            booked = await uow.bookings.active_for_mentor(mentor_id, start, end)
            loaded[mentor_id] = (availability, booked, await busy_between(uow, now, mentor_id, start, end))
        availability, booked, external = loaded[mentor_id]
        found.append(next_free_slot(match.offering, availability, booked, now, horizon_days, external))
    return found


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


async def discover(
    uow: UnitOfWork, clock: Clock, filters: Filters, page: int = 0, size: int = PAGE_SIZE
) -> Listing:
    """One page of the open offerings matching ``filters`` (``domain.discovery`` says who computes what)."""
    now = clock.now()
    asked = page
    page = max(page, 0)
    counts = await uow.discovery.category_counts(filters)
    if not filters.needs_slots:
        total = await uow.discovery.count(filters)
        pages = _pages(total, size)
        page = min(page, pages - 1)
        matches = await uow.discovery.search(filters, size, page * size)
        nexts = await _next_slots(uow, matches, now, NEXT_SLOT_HORIZON_DAYS)
        items = [Listed(m, s) for m, s in zip(matches, nexts, strict=True)]
        return Listing(filters, page, pages, total, items, counts, asked_page=asked)

    candidates = await uow.discovery.search(filters, CANDIDATE_LIMIT + 1, 0)
    truncated = len(candidates) > CANDIDATE_LIMIT
    candidates = candidates[:CANDIDATE_LIMIT]
    horizon = SOON_DAYS if filters.soon and filters.sort != SortOrder.SOONEST else NEXT_SLOT_HORIZON_DAYS
    nexts = await _next_slots(uow, candidates, now, horizon)
    listed = [Listed(m, s) for m, s in zip(candidates, nexts, strict=True)]
    if filters.soon:
        soon_end = now + timedelta(days=SOON_DAYS)
        listed = [item for item in listed if item.next_slot is not None and item.next_slot < soon_end]
    if filters.sort == SortOrder.SOONEST:  # stable: equal times keep the SQL order (best rated first)
        listed.sort(key=lambda item: (item.next_slot is None, item.next_slot or now))
    total = len(listed)
    pages = _pages(total, size)
    page = min(page, pages - 1)
    items = listed[page * size : (page + 1) * size]
    return Listing(filters, page, pages, total, items, counts, truncated, asked_page=asked)


async def offering_card(uow: UnitOfWork, clock: Clock, offering_id: int, viewer_id: int) -> OfferingCard:
    """An open offering as a mentee sees it; a paused, archived or draft one is ``OfferingUnavailable`` (the
    mentor's own included: it is not on the list either)."""
    offering = await uow.offerings.get(offering_id)
    if offering is None:
        raise NotFound("offering")
    if offering.status != OfferingStatus.ACTIVE:
        raise OfferingUnavailable(offering.status)
    mentor = await uow.users.get(offering.mentor_id)
    if mentor is None:
        raise NotFound("mentor")
    profile = await uow.profiles.get(mentor.id)
    match = Match(offering, mentor, profile.display_name if profile else None, profile.headline if profile else "")
    [next_slot] = await _next_slots(uow, [match], clock.now(), NEXT_SLOT_HORIZON_DAYS)
    return OfferingCard(match, next_slot, own=offering.mentor_id == viewer_id)
