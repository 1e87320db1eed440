"""Mentor profiles: what a mentee sees about a mentor besides the offerings, and how the mentor edits it.

The use cases that load and save a profile are ``domain.usecases.profiles``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.discovery import Review
from domain.errors import InvalidInput
from domain.model import MentorProfile, Offering, User, average_rating
from domain.payments import parse_upi_id
from domain.validation import EMPTY, TOO_LONG, clean_text

NAME_MAX = 64
HEADLINE_MAX = 120
BIO_MAX = 1000
TAG_MAX = 30
TAGS_MAX = 10
LANGUAGES_MAX = 8

CLEAR = "-"  # typed instead of a value: empty the field
TOO_MANY = "too_many"
_LIST_SEPARATORS = re.compile(r"[,;\n]+")


class ProfileField(StrEnum):
    NAME = "name"
    HEADLINE = "headline"
    BIO = "bio"
    EXPERTISE = "expertise"
    LANGUAGES = "languages"
    UPI_ID = "upi_id"  # where mentees pay by UPI (``domain.payments.parse_upi_id``)


def parse_tags(value: str, *, field: str, limit: int) -> tuple[str, ...]:
    """``Python, system design; SQL`` → ``("Python", "system design", "SQL")``: trimmed, de-duplicated
    ignoring case, in the order typed; each at most ``TAG_MAX`` characters, at most ``limit`` of them."""
    tags: list[str] = []
    seen: set[str] = set()
    for raw in _LIST_SEPARATORS.split(clean_text(value, (TAG_MAX + 2) * (limit + 5), field=field)):
        tag = " ".join(raw.split())
        if not tag or tag.casefold() in seen:
            continue
        if len(tag) > TAG_MAX:
            raise InvalidInput(field, TOO_LONG)
        seen.add(tag.casefold())
        tags.append(tag)
    if len(tags) > limit:
        raise InvalidInput(field, TOO_MANY)
    return tuple(tags)


def edit_profile(profile: MentorProfile, field: ProfileField, value: str) -> MentorProfile:
    """The profile with ``field`` set from what the mentor typed; ``-`` clears it."""
    typed = value.strip()
    if typed == CLEAR:
        cleared: dict[ProfileField, object] = {
            ProfileField.NAME: None,
            ProfileField.HEADLINE: "",
            ProfileField.BIO: "",
            ProfileField.EXPERTISE: (),
            ProfileField.LANGUAGES: (),
            ProfileField.UPI_ID: None,
        }
        return profile.with_changes(**{_ATTRIBUTE[field]: cleared[field]})
    match field:
        case ProfileField.NAME:
            name = " ".join(clean_text(value, NAME_MAX * 2, field="display_name").split())
            if not name:
                raise InvalidInput("display_name", EMPTY)
            if len(name) > NAME_MAX:
                raise InvalidInput("display_name", TOO_LONG)
            return profile.with_changes(display_name=name)
        case ProfileField.HEADLINE:
            headline = " ".join(clean_text(value, HEADLINE_MAX * 2, field="headline").split())
            if len(headline) > HEADLINE_MAX:
                raise InvalidInput("headline", TOO_LONG)
            return profile.with_changes(headline=headline)
        case ProfileField.BIO:
            return profile.with_changes(bio=clean_text(value, BIO_MAX, field="bio"))
        case ProfileField.EXPERTISE:
            return profile.with_changes(expertise=parse_tags(value, field="expertise", limit=TAGS_MAX))
        case ProfileField.LANGUAGES:
            return profile.with_changes(languages=parse_tags(value, field="languages", limit=LANGUAGES_MAX))
        case ProfileField.UPI_ID:
            return profile.with_changes(upi_id=parse_upi_id(value))
    raise InvalidInput("field")  # pragma: no cover - every ProfileField is handled above


_ATTRIBUTE = {
    ProfileField.NAME: "display_name",
    ProfileField.HEADLINE: "headline",
    ProfileField.BIO: "bio",
    ProfileField.EXPERTISE: "expertise",
    ProfileField.LANGUAGES: "languages",
    ProfileField.UPI_ID: "upi_id",
}


@dataclass(frozen=True, slots=True)
class MentorStats:
    """A mentor's totals over all their offerings (each offering's counters are kept exact by the booking
    rules)."""

    bookings: int = 0
    completed: int = 0
    rating_sum: int = 0
    rating_count: int = 0

    @property
    def average_rating(self) -> Decimal | None:
        return average_rating(self.rating_sum, self.rating_count)


def mentor_stats(offerings: list[Offering]) -> MentorStats:
    return MentorStats(
        bookings=sum(o.total_bookings for o in offerings),
        completed=sum(o.total_completed for o in offerings),
        rating_sum=sum(o.rating_sum for o in offerings),
        rating_count=sum(o.rating_count for o in offerings),
    )


@dataclass(frozen=True, slots=True)
class MentorCard:
    """Everything the public profile shows: as a mentee sees it, and as the mentor previews it."""

    mentor: User
    profile: MentorProfile
    offerings: list[Offering]  # active ones only
    stats: MentorStats
    reviews: tuple[Review, ...] = ()  # the newest written reviews (``REVIEWS_SHOWN``), newest first

    @property
    def name(self) -> str:
        return self.profile.display_name or self.mentor.display_name
