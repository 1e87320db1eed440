"""People: what Telegram tells us about a person, and when the stored user needs refreshing."""

from __future__ import annotations

from dataclasses import dataclass

from domain.model import User


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
