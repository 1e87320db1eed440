"""People: registering on first contact, the settings everyone has, and becoming a mentor.

``load_user`` and ``load_mentor`` are the checks every other area starts with when the asker must exist (and be a
mentor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from domain.errors import InvalidInput, NotAllowed, NotFound
from domain.model import User
from domain.people import Profile, same_profile
from domain.ports import UnitOfWork
from domain.validation import validate_timezone


async def load_user(uow: UnitOfWork, user_id: int) -> User:
    """The user, or ``NotFound("user")``."""
    user = await uow.users.get(user_id)
    if user is None:
        raise NotFound("user")
    return user


async def load_mentor(uow: UnitOfWork, user_id: int) -> User:
    """The user if they are a mentor: ``NotFound("user")`` for nobody, ``NotAllowed`` for a mentee."""
    user = await load_user(uow, user_id)
    if not user.is_mentor:
        raise NotAllowed("not a mentor")
    return user


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


async def set_timezone(uow: UnitOfWork, user_id: int, zone: str) -> User:
    user = await load_user(uow, user_id)
    return await uow.users.update(replace(user, timezone=validate_timezone(zone)))


async def set_locale(uow: UnitOfWork, user_id: int, locale: str, supported: Sequence[str]) -> User:
    if locale not in supported:
        raise InvalidInput("locale", "unknown")
    user = await load_user(uow, user_id)
    return await uow.users.update(replace(user, locale=locale))


async def set_daily_agenda(uow: UnitOfWork, user_id: int, on: bool) -> User:
    """Mentors: whether the daily agenda is sent (it is checked when it falls due)."""
    user = await load_mentor(uow, user_id)
    return await uow.users.update(replace(user, daily_agenda=on))


async def become_mentor(uow: UnitOfWork, user_id: int) -> User:
    user = await load_user(uow, user_id)
    if user.is_mentor:
        return user
    return await uow.users.update(replace(user, is_mentor=True))
