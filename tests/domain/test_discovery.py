"""Discover: the query's rules, the next free slot, and the use case's split between SQL and the slot engine."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain import busy, discovery
from domain.clock import FixedClock
from domain.discovery import (
    CATEGORIES,
    Filters,
    Match,
    PriceBand,
    SortOrder,
    category_code,
    category_from_code,
    next_free_slot,
    normalize_search,
    stars,
)
from domain.errors import InvalidInput, NotFound, OfferingUnavailable
from domain.model import Availability, Booking, BusyInterval, Category, Offering, OfferingStatus, User
from domain.usecases.discovery import discover, offering_card
from tests.domain.factories import NOW, TUESDAY, WEDNESDAY, booking, every_day, offering, utc, weekly

# --- the query ----------------------------------------------------------------------------------------------


def test_search_words_are_cleaned_and_fit_the_button_data() -> None:
    assert normalize_search("  resume\treview  ") == "resume review"
    assert normalize_search("a:b") == "a b"  # ":" separates callback fields
    long = normalize_search("python " * 20)
    assert len(long.encode()) <= discovery.SEARCH_MAX_BYTES and long.endswith("python")  # cut at a word
    hindi = normalize_search("रिज़्यूमे" * 10)  # one long word: whole characters only
    assert len(hindi.encode()) <= discovery.SEARCH_MAX_BYTES and hindi and "रिज़्यूमे".startswith(hindi[:3])
    for empty in ("", "   ", "\x00\x07", ":::"):
        with pytest.raises(InvalidInput) as error:
            normalize_search(empty)
        assert error.value.field == "search"


def test_search_terms_are_lower_case_words() -> None:
    assert Filters(text="Resume SQL").terms == ("resume", "sql")
    assert Filters().terms == ()


def test_category_codes_round_trip_and_refuse_anything_else() -> None:
    assert category_from_code(0) is None
    for category in CATEGORIES:
        assert category_from_code(category_code(category)) == category
    for bad in (-1, len(CATEGORIES) + 1, 99):
        with pytest.raises(InvalidInput):
            category_from_code(bad)


def test_only_offered_durations_are_a_filter() -> None:
    assert Filters(minutes=45).minutes == 45
    with pytest.raises(InvalidInput):
        Filters(minutes=17)


def test_price_bands_do_not_overlap_and_cover_every_price() -> None:
    bands = [b for b in PriceBand if b not in (PriceBand.ANY, PriceBand.PAID)]
    for price in map(Decimal, ("0", "0.01", "500", "500.01", "1500", "9999")):
        inside = [b for b in bands if _within(price, *discovery.PRICE_BOUNDS[b])]
        assert len(inside) == 1, price


def test_narrowed_and_cleared() -> None:
    assert not Filters(sort=SortOrder.PRICE).is_narrowed
    wide = Filters(Category.CODE_REVIEW, PriceBand.FREE, 30, True, SortOrder.PRICE, "sql")
    assert wide.is_narrowed and wide.needs_slots
    assert wide.cleared() == Filters(category=Category.CODE_REVIEW, sort=SortOrder.PRICE, text="sql")


def test_stars() -> None:
    assert stars(None) == ""
    assert stars(Decimal("4.49")) == "★★★★☆"
    assert stars(Decimal("4.5")) == "★★★★★"
    assert stars(1) == "★☆☆☆☆"


# --- the next free slot -------------------------------------------------------------------------------------


def test_next_free_slot_is_the_first_bookable_start() -> None:
    shop = offering(min_notice_hours=24)
    hours = every_day("UTC", "09:00", "12:00")
    assert next_free_slot(shop, hours, [], NOW) == utc(TUESDAY, "09:00")
    busy = [booking(utc(TUESDAY, "09:00"))]
    assert next_free_slot(shop, hours, busy, NOW) == utc(TUESDAY, "10:00")


def test_next_free_slot_looks_week_by_week_up_to_the_horizon() -> None:
    far = weekly("UTC", (2, "09:00", "10:00"))  # Wednesdays only
    shop = offering(min_notice_hours=24 * 9)  # the first Wednesday is too soon: the one after
    assert next_free_slot(shop, far, [], NOW) == utc(WEDNESDAY + timedelta(days=7), "09:00")
    assert next_free_slot(shop, far, [], NOW, horizon_days=7) is None
    assert next_free_slot(shop, None, [], NOW) is None


# --- the use case, over fakes -------------------------------------------------------------------------------

MENTOR_A, MENTOR_B, VIEWER = 1, 2, 3


class FakeDiscovery:
    """Plays the SQL part: filters all but the slot filter and sorts by rating (the repository's contract)."""

    def __init__(self, matches: list[Match]) -> None:
        self.matches = matches
        self.searches: list[tuple[int, int]] = []

    def _found(self, filters: Filters) -> list[Match]:
        found = [m for m in self.matches if m.offering.status == OfferingStatus.ACTIVE]
        if filters.category:
            found = [m for m in found if m.offering.category == filters.category]
        if filters.minutes:
            found = [m for m in found if m.offering.duration_minutes == filters.minutes]
        return sorted(found, key=lambda m: -(m.offering.average_rating or 0))

    async def search(self, filters: Filters, limit: int, offset: int = 0) -> list[Match]:
        self.searches.append((limit, offset))
        return self._found(filters)[offset : offset + limit]

    async def count(self, filters: Filters) -> int:
        return len(self._found(filters))

    async def category_counts(self, filters: Filters) -> dict[Category, int]:
        counts: dict[Category, int] = {}
        for m in self._found(filters.with_changes(category=None)):
            counts[m.offering.category] = counts.get(m.offering.category, 0) + 1
        return counts

    async def latest_reviews(self, mentor_id: int, limit: int) -> list[object]:
        return []


class FakeAvailability:
    def __init__(self, by_mentor: dict[int, Availability]) -> None:
        self.by_mentor = by_mentor
        self.loads: list[int] = []

    async def get(self, mentor_id: int) -> Availability | None:
        self.loads.append(mentor_id)
        return self.by_mentor.get(mentor_id)


class FakeBookings:
    def __init__(self, busy: list[Booking]) -> None:
        self.busy = busy

    async def active_for_mentor(self, mentor_id: int, start: datetime, end: datetime) -> list[Booking]:
        return [b for b in self.busy if b.mentor_id == mentor_id]

    async def requested_for_mentor(self, mentor_id: int, start: datetime, end: datetime) -> list[Booking]:
        return [b for b in self.busy if b.mentor_id == mentor_id and b.requested_start is not None]

    async def blocking_for_mentor(
        self, mentor_id: int, start: datetime, end: datetime
    ) -> tuple[list[Booking], list[Booking]]:
        return (
            await self.active_for_mentor(mentor_id, start, end),
            await self.requested_for_mentor(mentor_id, start, end),
        )


class FakeCalendars:
    """The busy intervals of the mentors' external calendars that still block, and the freshness asked for."""

    def __init__(self) -> None:
        self.by_mentor: dict[int, list[BusyInterval]] = {}
        self.asked: list[tuple[int, datetime]] = []

    async def busy_for_mentor(
        self, mentor_id: int, start: datetime, end: datetime, fresh_since: datetime
    ) -> list[BusyInterval]:
        self.asked.append((mentor_id, fresh_since))
        return [i for i in self.by_mentor.get(mentor_id, []) if i.start < end and i.end > start]


class FakeUsers:
    async def get(self, user_id: int) -> User | None:
        names = {MENTOR_A: "Asha", MENTOR_B: "Bo"}
        return User(user_id, names[user_id], is_mentor=True) if user_id in names else None


class FakeProfiles:
    async def get(self, user_id: int) -> None:
        return None


class FakeOfferings:
    def __init__(self, matches: list[Match]) -> None:
        self.by_id = {m.offering.id: m.offering for m in matches}

    async def get(self, offering_id: int) -> Offering | None:
        return self.by_id.get(offering_id)


class FakeUow:
    def __init__(self, matches: list[Match], hours: dict[int, Availability]) -> None:
        self.discovery = FakeDiscovery(matches)
        self.availability = FakeAvailability(hours)
        self.bookings = FakeBookings([])
        self.calendars = FakeCalendars()
        self.users = FakeUsers()
        self.profiles = FakeProfiles()
        self.offerings = FakeOfferings(matches)


def _match(offering_id: int, mentor_id: int, rating_sum: int = 0, **changes: object) -> Match:
    rated = 1 if rating_sum else 0
    shop = offering(id=offering_id, mentor_id=mentor_id, rating_sum=rating_sum, rating_count=rated)
    return Match(shop.with_changes(**changes), User(mentor_id, f"M{mentor_id}", is_mentor=True))


def _within(price: Decimal, low: Decimal | None, high: Decimal | None) -> bool:
    return (low is None or price >= low) and (high is None or price <= high)


def fake_uow() -> Any:
    """A world the use cases take for a unit of work (it has only the repositories ``discover`` reads)."""
    return _world()


def _world() -> FakeUow:
    # A (best rated) works Mondays only: its first slot, Monday 9 March 09:00, is 7 days and 1 hour after NOW.
    # B's two offerings are free from Tuesday 09:00; D (unrated, mentor 9) from Wednesday 09:00.
    matches = [
        _match(1, MENTOR_A, rating_sum=5),
        _match(2, MENTOR_B, rating_sum=4),
        _match(3, MENTOR_B, rating_sum=3, category=Category.CODE_REVIEW),
        _match(4, 9),
    ]
    hours = {
        MENTOR_A: weekly("UTC", (0, "09:00", "12:00")),
        MENTOR_B: every_day("UTC", "09:00", "12:00"),
        9: weekly("UTC", (2, "09:00", "12:00")),
    }
    return FakeUow(matches, hours)


async def test_without_slot_filters_sql_cuts_the_page_and_slots_are_computed_for_it_only() -> None:
    uow = _world()
    listing = await discover(uow, FixedClock(NOW), Filters(), page=1, size=2)  # type: ignore[arg-type]
    assert [i.match.offering.id for i in listing.items] == [3, 4]
    assert (listing.page, listing.pages, listing.total) == (1, 2, 4)
    assert uow.discovery.searches == [(2, 2)]
    assert uow.availability.loads == [MENTOR_B, 9]  # only the page's mentors, each once
    assert listing.items[1].next_slot == utc(WEDNESDAY, "09:00")
    assert listing.counts == {Category.OTHER: 3, Category.CODE_REVIEW: 1}


async def test_a_page_past_the_end_moves_to_the_last_page() -> None:
    uow: Any = _world()
    listing = await discover(uow, FixedClock(NOW), Filters(), page=7, size=3)
    assert (listing.page, listing.asked_page, listing.moved) == (1, 7, True)
    assert [i.match.offering.id for i in listing.items] == [4]
    empty = await discover(fake_uow(), FixedClock(NOW), Filters(minutes=90), page=3)
    assert (empty.page, empty.pages, empty.total, empty.items) == (0, 1, 0, [])


async def test_free_slot_in_seven_days_drops_the_offerings_without_one() -> None:
    uow = _world()
    listing = await discover(uow, FixedClock(NOW), Filters(soon=True))  # type: ignore[arg-type]
    assert [i.match.offering.id for i in listing.items] == [2, 3, 4]
    assert (listing.total, listing.pages, listing.truncated) == (3, 1, False)
    assert uow.discovery.searches == [(discovery.CANDIDATE_LIMIT + 1, 0)]  # candidates, not a page
    # two hours later Monday 9 March 09:00 is within 7 days: A is back, still first (best rated)
    later = await discover(fake_uow(), FixedClock(NOW + timedelta(hours=2)), Filters(soon=True))
    assert [i.match.offering.id for i in later.items] == [1, 2, 3, 4]
    # without the filter A is listed with its next free time
    everything = await discover(_world(), FixedClock(NOW), Filters())  # type: ignore[arg-type]
    assert everything.items[0].match.offering.id == 1
    assert everything.items[0].next_slot == utc(WEDNESDAY + timedelta(days=5), "09:00")


async def test_soonest_sort_orders_by_next_free_slot_and_puts_none_last() -> None:
    uow = _world()
    uow.availability.by_mentor[9] = Availability("UTC")  # D: no hours, no free time
    soonest = Filters(sort=SortOrder.SOONEST)
    listing = await discover(uow, FixedClock(NOW), soonest)  # type: ignore[arg-type]
    # B's two offerings (Tuesday 09:00; equal times keep the best rated first), then A (Monday), then D (none)
    assert [i.match.offering.id for i in listing.items] == [2, 3, 1, 4]
    assert [i.next_slot for i in listing.items][-1] is None
    assert uow.availability.loads == [MENTOR_A, MENTOR_B, 9]  # B loaded once for both of its offerings


async def test_the_next_free_time_leaves_out_what_the_mentors_calendars_say_is_busy() -> None:
    uow = _world()
    uow.calendars.by_mentor[MENTOR_B] = [BusyInterval(utc(TUESDAY, "08:00"), utc(WEDNESDAY, "10:00"))]
    listing = await discover(uow, FixedClock(NOW), Filters(sort=SortOrder.SOONEST))  # type: ignore[arg-type]
    by_id = {item.match.offering.id: item.next_slot for item in listing.items}
    assert by_id[2] == by_id[3] == utc(WEDNESDAY, "10:00")  # was Tuesday 09:00
    assert [i.match.offering.id for i in listing.items] == [4, 2, 3, 1]  # D (Wednesday 09:00) is now first
    assert {mentor for mentor, _fresh in uow.calendars.asked} == {MENTOR_A, MENTOR_B, 9}
    assert {fresh for _mentor, fresh in uow.calendars.asked} == {NOW - busy.STALE_AFTER}
    card = await offering_card(uow, FixedClock(NOW), 2, VIEWER)  # type: ignore[arg-type]
    assert card.next_slot == utc(WEDNESDAY, "10:00")


async def test_more_candidates_than_the_limit_are_flagged() -> None:
    uow = FakeUow(
        [_match(i, MENTOR_B) for i in range(1, discovery.CANDIDATE_LIMIT + 3)],
        {MENTOR_B: every_day("UTC", "09:00", "12:00")},
    )
    listing = await discover(uow, FixedClock(NOW), Filters(soon=True))  # type: ignore[arg-type]
    assert listing.truncated and listing.total == discovery.CANDIDATE_LIMIT


async def test_the_card_refuses_paused_and_unknown_offerings_and_knows_the_owner() -> None:
    uow = _world()
    card = await offering_card(uow, FixedClock(NOW), 2, VIEWER)  # type: ignore[arg-type]
    assert card.next_slot == utc(TUESDAY, "09:00") and not card.own and card.match.mentor_name == "Bo"
    own = await offering_card(uow, FixedClock(NOW), 2, MENTOR_B)  # type: ignore[arg-type]
    assert own.own
    uow.offerings.by_id[2] = uow.offerings.by_id[2].with_changes(status=OfferingStatus.PAUSED)
    with pytest.raises(OfferingUnavailable):
        await offering_card(uow, FixedClock(NOW), 2, VIEWER)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await offering_card(uow, FixedClock(NOW), 999, VIEWER)  # type: ignore[arg-type]
