"""A mentor's public profile: the card anyone may see, the mentor's own preview, and editing one field."""

from __future__ import annotations

from domain.discovery import REVIEWS_SHOWN
from domain.errors import NotFound
from domain.model import MentorProfile, OfferingStatus, User
from domain.ports import UnitOfWork
from domain.profiles import MentorCard, ProfileField, edit_profile, mentor_stats
from domain.usecases.people import load_mentor


async def my_profile(uow: UnitOfWork, mentor_id: int) -> MentorCard:
    """The mentor's own profile (all offerings count towards the stats; the card lists the live ones)."""
    return await _card(uow, await load_mentor(uow, mentor_id))


async def mentor_card(uow: UnitOfWork, mentor_id: int) -> MentorCard:
    """A mentor's public card for anyone; ``NotFound`` for an unknown id or someone who is not a mentor."""
    mentor = await uow.users.get(mentor_id)
    if mentor is None or not mentor.is_mentor:
        raise NotFound("mentor")
    return await _card(uow, mentor)


async def _card(uow: UnitOfWork, mentor: User) -> MentorCard:
    profile = await uow.profiles.get(mentor.id) or MentorProfile(mentor.id)
    offerings = await uow.offerings.list_by_mentor(mentor.id)
    live = [o for o in offerings if o.status == OfferingStatus.ACTIVE]
    reviews = tuple(await uow.discovery.latest_reviews(mentor.id, REVIEWS_SHOWN))
    return MentorCard(mentor, profile, live, mentor_stats(offerings), reviews)


async def update_profile(uow: UnitOfWork, mentor_id: int, field: ProfileField, value: str) -> MentorCard:
    mentor = await load_mentor(uow, mentor_id)
    profile = await uow.profiles.get(mentor_id) or MentorProfile(mentor_id)
    await uow.profiles.save(edit_profile(profile, field, value))
    return await _card(uow, mentor)
