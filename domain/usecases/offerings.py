"""A mentor's offerings: create, edit one field, publish/pause/resume/archive, duplicate, delete.

Every use case reloads the offering and checks that it belongs to the asker (``own_offering``): the ids come from
buttons and are not trusted. The rules (reading a typed field, a copy's title) are ``domain.offerings``. Times an
edit or going live again opens (a shorter session or buffer, more seats, a higher daily limit, a longer booking
window, resuming) go to the people waiting for them (``domain.waitlist``, rule 4), in the edit's transaction.
"""

from __future__ import annotations

from domain.availability import effective_availability
from domain.errors import InvalidInput, NotAllowed, NotFound
from domain.model import Offering, OfferingStatus
from domain.offerings import (
    HasBookings,
    NoAvailability,
    OfferingField,
    OfferingScreen,
    duplicate,
    edit,
    parse_stars,
)
from domain.ports import Clock, UnitOfWork
from domain.usecases.people import load_mentor
from domain.usecases.waitlist import free_starts, tell_opened
from domain.validation import parse_price, validate_duration, validate_title


async def own_offering(uow: UnitOfWork, mentor_id: int, offering_id: int) -> Offering:
    """The offering if it is the asker's: ``NotFound`` for none, ``NotAllowed`` for another mentor's."""
    offering = await uow.offerings.get(offering_id)
    if offering is None:
        raise NotFound("offering")
    if offering.mentor_id != mentor_id:
        raise NotAllowed("not your offering")
    return offering


async def create_offering(
    uow: UnitOfWork, mentor_id: int, title: str, price: str, duration: int, price_stars: str | None = None
) -> Offering:
    """The under-a-minute path: title, price (and its price in Stars when Stars payments are on) and duration;
    every other field takes the seed's default."""
    await load_mentor(uow, mentor_id)
    offering = Offering(
        mentor_id=mentor_id,
        title=validate_title(title),
        price=parse_price(price),
        duration_minutes=validate_duration(duration),
        price_stars=parse_stars(price_stars) if price_stars is not None else None,
    )
    return await uow.offerings.add(offering)


async def set_offering_status(
    uow: UnitOfWork, clock: Clock, mentor_id: int, offering_id: int, status: OfferingStatus
) -> Offering:
    """Publish, pause, resume or archive; going live needs weekly hours to book against. Going live again tells
    the people still waiting for it of its free times."""
    offering = await own_offering(uow, mentor_id, offering_id)
    if status == OfferingStatus.ACTIVE:
        availability = effective_availability(offering, await uow.availability.get(mentor_id))
        if availability is None or not availability.weekly:
            raise NoAvailability()
    if offering.status == status:
        return offering
    if offering.status == OfferingStatus.ARCHIVED and status != OfferingStatus.ARCHIVED:
        raise InvalidInput("status", "archived")
    if status != OfferingStatus.ACTIVE:
        return await uow.offerings.update(offering.with_changes(status=status))
    before = await free_starts(uow, clock, mentor_id, only=offering_id)
    updated = await uow.offerings.update(offering.with_changes(status=status))
    await tell_opened(uow, mentor_id, before, only=offering_id)
    return updated


async def list_my_offerings(uow: UnitOfWork, mentor_id: int) -> list[Offering]:
    await load_mentor(uow, mentor_id)
    return await uow.offerings.list_by_mentor(mentor_id)


# --- the offering's own screen ------------------------------------------------------------------------------


async def _screen(uow: UnitOfWork, offering: Offering) -> OfferingScreen:
    return OfferingScreen(offering, await uow.availability.get(offering.mentor_id))


async def manage(uow: UnitOfWork, mentor_id: int, offering_id: int) -> OfferingScreen:
    return await _screen(uow, await own_offering(uow, mentor_id, offering_id))


async def edit_offering(
    uow: UnitOfWork, clock: Clock, mentor_id: int, offering_id: int, field: OfferingField, value: str
) -> OfferingScreen:
    """Set one field. Whatever the field, the offering's free times before and after are compared (the slot
    rules decide which settings open times, so no list of them is kept here): times it opens are handed on."""
    offering = await own_offering(uow, mentor_id, offering_id)
    profile = await uow.availability.get(mentor_id)
    changed = edit(offering, field, value, profile.weekly if profile else ())
    before = await free_starts(uow, clock, mentor_id, only=offering_id)
    updated = await uow.offerings.update(changed)
    await tell_opened(uow, mentor_id, before, only=offering_id)
    return OfferingScreen(updated, profile)


async def change_status(
    uow: UnitOfWork, clock: Clock, mentor_id: int, offering_id: int, status: OfferingStatus
) -> OfferingScreen:
    return await _screen(uow, await set_offering_status(uow, clock, mentor_id, offering_id, status))


async def duplicate_offering(uow: UnitOfWork, mentor_id: int, offering_id: int, mark: str) -> OfferingScreen:
    await load_mentor(uow, mentor_id)
    original = await own_offering(uow, mentor_id, offering_id)
    return await _screen(uow, await uow.offerings.add(duplicate(original, mark)))


async def check_deletable(uow: UnitOfWork, mentor_id: int, offering_id: int) -> Offering:
    """The offering, if it may be deleted; ``HasBookings`` once any booking (of any status) refers to it."""
    offering = await own_offering(uow, mentor_id, offering_id)
    if await uow.offerings.has_bookings(offering_id):
        raise HasBookings()
    return offering


async def delete_offering(uow: UnitOfWork, mentor_id: int, offering_id: int) -> Offering:
    """Delete a never-booked offering. The mentor's row is locked first, as booking does, so a booking being made
    at the same moment either lands first (and the delete is refused) or finds the offering gone."""
    offering = await own_offering(uow, mentor_id, offering_id)
    await uow.lock_users(offering.mentor_id)
    offering = await check_deletable(uow, mentor_id, offering_id)
    await uow.offerings.delete(offering_id)
    return offering
