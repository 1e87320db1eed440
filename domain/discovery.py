"""Discover: how mentees find an offering (category, filters, text search, sort, pages) and what its card says.

What SQL does and what it cannot: category, free/paid and price range, duration and the text search (title,
description and the mentor's names, every word must match somewhere, case-insensitively) are ``WHERE`` clauses, and
sorting by rating, bookings or price is an ``ORDER BY`` with ``LIMIT``/``OFFSET``
(``ports.DiscoveryRepository.search``). "Has a free slot in the next 7 days" and "soonest free slot" depend on the
slot engine (availability, date exceptions, other bookings, notice, daily limits), so the use case
(``domain.usecases.discovery``) computes them with ``next_free_slot``:

- Without them, SQL returns exactly one page and the next free slot is computed only for the (at most
  ``PAGE_SIZE``) offerings on it.
- With either of them, SQL returns the candidates matching everything else, best rated first, at most
  ``CANDIDATE_LIMIT`` of them; the next free slot is computed once per candidate (each mentor's availability and
  bookings are loaded once and shared by their offerings; the search stops at the first free slot, a week at a
  time, never further than ``NEXT_SLOT_HORIZON_DAYS``); then the 7-day filter and the sort apply and the page is
  cut from that list. ``Listing.truncated`` says when more candidates existed than were looked at.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain import slots
from domain.errors import InvalidInput
from domain.model import ALLOWED_DURATIONS, Availability, Booking, BusyInterval, Category, Offering, User

PAGE_SIZE = 5
SOON_DAYS = 7  # "has a free slot in the next 7 days"
NEXT_SLOT_HORIZON_DAYS = 30  # how far ahead the next free slot is looked for
CANDIDATE_LIMIT = 100  # offerings looked at when the slot engine decides the filter or the order
SEARCH_MAX_BYTES = 40  # a search travels inside the buttons' callback data (64 bytes in all)
REVIEWS_SHOWN = 3

# --- the query ----------------------------------------------------------------------------------------------

CATEGORIES: tuple[Category, ...] = tuple(Category)  # button data carries the position + 1 (0 = all)


class PriceBand(StrEnum):
    ANY = "a"
    FREE = "f"
    PAID = "p"
    UP_TO_500 = "l"  # paid, at most ₹500
    UP_TO_1500 = "m"  # over ₹500, at most ₹1,500
    OVER_1500 = "h"


# Inclusive (lowest, highest) price of each band; None is unbounded. Prices have at most two decimals.
PRICE_BOUNDS: dict[PriceBand, tuple[Decimal | None, Decimal | None]] = {
    PriceBand.ANY: (None, None),
    PriceBand.FREE: (Decimal("0"), Decimal("0")),
    PriceBand.PAID: (Decimal("0.01"), None),
    PriceBand.UP_TO_500: (Decimal("0.01"), Decimal("500")),
    PriceBand.UP_TO_1500: (Decimal("500.01"), Decimal("1500")),
    PriceBand.OVER_1500: (Decimal("1500.01"), None),
}


class SortOrder(StrEnum):
    RATING = "r"  # best average rating first, unrated last; then most booked
    BOOKINGS = "b"  # most booked first; then best rated
    PRICE = "p"  # cheapest first; then best rated
    SOONEST = "s"  # earliest free slot first, none last; then best rated


@dataclass(frozen=True, slots=True)
class Filters:
    """What the mentee asked for; the default is every open offering, best rated first."""

    category: Category | None = None
    price: PriceBand = PriceBand.ANY
    minutes: int = 0  # 0: any duration
    soon: bool = False  # only offerings with a free slot in the next ``SOON_DAYS`` days
    sort: SortOrder = SortOrder.RATING
    text: str = ""  # normalized (``normalize_search``); "" for no search

    def __post_init__(self) -> None:
        if self.minutes and self.minutes not in ALLOWED_DURATIONS:
            raise InvalidInput("discover_filter", "duration")

    @property
    def needs_slots(self) -> bool:
        return self.soon or self.sort == SortOrder.SOONEST

    @property
    def terms(self) -> tuple[str, ...]:
        """The search words, lower-cased (SQL compares them with ``lower(column)``)."""
        return tuple(word.lower() for word in self.text.split())

    @property
    def is_narrowed(self) -> bool:
        """Whether anything but the sort order limits what is shown."""
        return bool(self.category or self.price != PriceBand.ANY or self.minutes or self.soon or self.text)

    def with_changes(self, **changes: Any) -> Filters:
        return replace(self, **changes)

    def cleared(self) -> Filters:
        """The same category, search and sort without the other filters."""
        return Filters(category=self.category, sort=self.sort, text=self.text)


def category_from_code(code: int) -> Category | None:
    """Button data → category: 0 is every category; anything out of range is refused."""
    if code == 0:
        return None
    if not 1 <= code <= len(CATEGORIES):
        raise InvalidInput("discover_filter", "category")
    return CATEGORIES[code - 1]


def category_code(category: Category | None) -> int:
    return 0 if category is None else CATEGORIES.index(category) + 1


def normalize_search(raw: str) -> str:
    """What a mentee typed → the search kept in the buttons: control characters and ``:`` dropped, spaces
    collapsed, cut at a word (or character) boundary to at most ``SEARCH_MAX_BYTES`` UTF-8 bytes.
    ``InvalidInput("search", "empty")`` when nothing searchable is left."""
    kept = "".join(" " if ch == ":" or unicodedata.category(ch).startswith("C") else ch for ch in raw)
    words = kept.split()
    text = ""
    for word in words:
        candidate = f"{text} {word}" if text else word
        if len(candidate.encode()) > SEARCH_MAX_BYTES:
            if not text:  # one very long word: keep as many whole characters as fit
                text = word.encode()[:SEARCH_MAX_BYTES].decode(errors="ignore")
            break
        text = candidate
    if not text:
        raise InvalidInput("search", "empty")
    return text


# --- what the list and the card show ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """An offering found by the repository, with its mentor and the name mentees see."""

    offering: Offering
    mentor: User
    profile_name: str | None = None  # the mentor profile's display name, if set
    headline: str = ""

    @property
    def mentor_name(self) -> str:
        return self.profile_name or self.mentor.display_name


@dataclass(frozen=True, slots=True)
class Listed:
    match: Match
    next_slot: datetime | None  # the earliest free start within ``NEXT_SLOT_HORIZON_DAYS``, or None


@dataclass(frozen=True, slots=True)
class Listing:
    filters: Filters
    page: int  # 0-based, within range (a page past the end is moved to the last one)
    pages: int
    total: int
    items: list[Listed]
    counts: dict[Category, int]  # open offerings per category under the other filters (not the 7-day one)
    truncated: bool = False  # the slot-based filter/sort looked at only ``CANDIDATE_LIMIT`` offerings
    asked_page: int = 0

    @property
    def moved(self) -> bool:
        """The page asked for does not exist (any more): ``page`` is the nearest one that does."""
        return self.asked_page != self.page


@dataclass(frozen=True, slots=True)
class Review:
    """One written review of a completed session: stars and the mentee's words (never their name)."""

    stars: int
    text: str
    at: datetime | None  # when it was written (the booking's last change)


@dataclass(frozen=True, slots=True)
class OfferingCard:
    match: Match
    next_slot: datetime | None
    own: bool  # the viewer is the offering's mentor: no Book button


def stars(rating: Decimal | int | None) -> str:
    """``★★★★☆`` for 4.2 (rounded to whole stars, half up); empty without ratings."""
    if rating is None:
        return ""
    full = int(min(max(rating, Decimal(0)), Decimal(5)) + Decimal("0.5"))
    return "★" * full + "☆" * (5 - full)


# --- the slot engine for many offerings ---------------------------------------------------------------------


def next_free_slot(
    offering: Offering,
    availability: Availability | None,
    busy: Sequence[Booking],
    now: datetime,
    horizon_days: int = NEXT_SLOT_HORIZON_DAYS,
    external: Sequence[BusyInterval] = (),
) -> datetime | None:
    """The earliest bookable start within ``horizon_days`` from ``now`` (and the offering's own window), looked
    for a week at a time so an offering with an early free slot costs one week of slot generation."""
    end = now + timedelta(days=horizon_days)
    low = now
    while low < end:
        high = min(low + timedelta(days=7), end)
        found = slots.generate_slots(offering, availability, busy, now, start=low, end=high, external=external)
        if found:
            return found[0]
        low = high
    return None
