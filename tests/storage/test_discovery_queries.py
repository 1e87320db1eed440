"""Discover's queries (``SqlDiscoveryRepository``) on SQLite and PostgreSQL: filters, search, sorts, pages, counts
per category, and the latest written reviews."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from domain.discovery import Filters, PriceBand, SortOrder
from domain.model import Booking, BookingStatus, Category, MentorProfile, Offering, OfferingStatus, StatsDelta
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, T0, booking, offering, seed, user

ASHA, BO = 1001, 1002


async def _catalogue(uow: SqlUnitOfWork) -> dict[str, int]:
    """Six offerings of two mentors (one paused); ratings and bookings set through ``apply_stats``."""
    added = await seed(
        uow,
        user(ASHA, first_name="Asha", last_name="Rao", is_mentor=True, timezone="Asia/Kolkata"),
        user(BO, first_name="Bo", username="bo_codes", is_mentor=True, timezone="UTC"),
        user(MENTEE_ID),
        offerings=(
            offering(ASHA, title="Resume review", price=Decimal("500"), category=Category.RESUME_REVIEW),
            offering(
                ASHA,
                title="Mock interview",
                price=Decimal("1500"),
                duration_minutes=60,
                category=Category.MOCK_INTERVIEW,
                description="System design and SQL rounds",
            ),
            offering(
                ASHA,
                title="Career chat",
                price=Decimal("0"),
                duration_minutes=15,
                category=Category.CAREER_GUIDANCE,
            ),
            offering(
                BO,
                title="Code review 100%_done",
                price=Decimal("2000"),
                duration_minutes=45,
                category=Category.CODE_REVIEW,
            ),
            offering(BO, title="Quick résumé pass", price=Decimal("499.99"), category=Category.RESUME_REVIEW),
            offering(
                BO,
                title="Paused resume session",
                price=Decimal("100"),
                category=Category.RESUME_REVIEW,
                status=OfferingStatus.PAUSED,
            ),
        ),
    )
    ids = {o.title.split()[0].lower(): o.id for o in added if o.id is not None}  # all of them: stored
    async with uow:
        await uow.profiles.save(MentorProfile(BO, display_name="Bodhi Sen", headline="Staff engineer"))
        # ratings: resume 5.0 (1), mock 4.0 (2), code 4.5 (2), career and quick unrated; bookings vary
        await uow.offerings.apply_stats(ids["resume"], StatsDelta(bookings=2, rating_sum=5, rating_count=1))
        await uow.offerings.apply_stats(ids["mock"], StatsDelta(bookings=7, rating_sum=8, rating_count=2))
        await uow.offerings.apply_stats(ids["code"], StatsDelta(bookings=3, rating_sum=9, rating_count=2))
        await uow.offerings.apply_stats(ids["career"], StatsDelta(bookings=9))
        await uow.commit()
    return ids


async def _titles(uow: SqlUnitOfWork, filters: Filters, limit: int = 50, offset: int = 0) -> list[str]:
    async with uow:
        return [m.offering.title for m in await uow.discovery.search(filters, limit, offset)]


async def test_sorts_and_pages(uow: SqlUnitOfWork) -> None:
    await _catalogue(uow)
    by_rating = ["Resume review", "Code review 100%_done", "Mock interview", "Career chat", "Quick résumé pass"]
    assert await _titles(uow, Filters()) == by_rating  # the paused one never shows
    assert await _titles(uow, Filters(), limit=2, offset=2) == by_rating[2:4]
    assert await _titles(uow, Filters(sort=SortOrder.BOOKINGS)) == [
        "Career chat",
        "Mock interview",
        "Code review 100%_done",
        "Resume review",
        "Quick résumé pass",
    ]
    assert await _titles(uow, Filters(sort=SortOrder.PRICE)) == [
        "Career chat",
        "Quick résumé pass",
        "Resume review",
        "Mock interview",
        "Code review 100%_done",
    ]
    assert await _titles(uow, Filters(sort=SortOrder.SOONEST)) == by_rating  # the base order for the slot engine
    async with uow:
        assert await uow.discovery.count(Filters()) == 5


async def test_category_price_and_duration_filters(uow: SqlUnitOfWork) -> None:
    await _catalogue(uow)
    assert await _titles(uow, Filters(category=Category.RESUME_REVIEW)) == ["Resume review", "Quick résumé pass"]
    assert await _titles(uow, Filters(price=PriceBand.FREE)) == ["Career chat"]
    assert len(await _titles(uow, Filters(price=PriceBand.PAID))) == 4
    assert await _titles(uow, Filters(price=PriceBand.UP_TO_500, sort=SortOrder.PRICE)) == [
        "Quick résumé pass",
        "Resume review",
    ]
    assert await _titles(uow, Filters(price=PriceBand.UP_TO_1500)) == ["Mock interview"]
    assert await _titles(uow, Filters(price=PriceBand.OVER_1500)) == ["Code review 100%_done"]
    assert await _titles(uow, Filters(minutes=45)) == ["Code review 100%_done"]
    assert await _titles(uow, Filters(minutes=90)) == []
    async with uow:
        assert await uow.discovery.count(Filters(category=Category.RESUME_REVIEW, price=PriceBand.UP_TO_500)) == 2
        counts = await uow.discovery.category_counts(Filters(category=Category.CODE_REVIEW))  # category ignored
        assert counts == {
            Category.RESUME_REVIEW: 2,
            Category.MOCK_INTERVIEW: 1,
            Category.CAREER_GUIDANCE: 1,
            Category.CODE_REVIEW: 1,
        }
        assert await uow.discovery.category_counts(Filters(price=PriceBand.FREE)) == {Category.CAREER_GUIDANCE: 1}


async def test_search_over_title_description_and_mentor_names(uow: SqlUnitOfWork) -> None:
    await _catalogue(uow)
    assert await _titles(uow, Filters(text="RESUME")) == ["Resume review"]  # case-insensitive; paused excluded
    assert await _titles(uow, Filters(text="sql")) == ["Mock interview"]  # description
    assert await _titles(uow, Filters(text="rao", sort=SortOrder.PRICE)) == [
        "Career chat",
        "Resume review",
        "Mock interview",
    ]  # the mentor's Telegram last name
    assert len(await _titles(uow, Filters(text="bodhi"))) == 2  # the profile's display name
    assert len(await _titles(uow, Filters(text="bo_codes"))) == 2  # the username
    assert await _titles(uow, Filters(text="asha mock")) == ["Mock interview"]  # every word somewhere
    assert await _titles(uow, Filters(text="asha code")) == []
    assert await _titles(uow, Filters(text="100%_")) == ["Code review 100%_done"]
    assert await _titles(uow, Filters(text="%")) == ["Code review 100%_done"]  # wildcards are literal
    assert await _titles(uow, Filters(text="review_")) == []  # as a wildcard "_" would match "review 100"
    assert await _titles(uow, Filters(text="0%_d")) == ["Code review 100%_done"]
    assert await _titles(uow, Filters(text="résumé")) == ["Quick résumé pass"]
    async with uow:
        [found] = await uow.discovery.search(Filters(text="quick"), 5)
        assert found.mentor.id == BO and found.mentor_name == "Bodhi Sen" and found.headline == "Staff engineer"
        assert await uow.discovery.count(Filters(text="rao")) == 3


async def test_latest_reviews_are_the_newest_written_ones_of_completed_sessions(uow: SqlUnitOfWork) -> None:
    ids = await _catalogue(uow)
    async with uow:
        resume = await uow.offerings.get(ids["resume"])
        code = await uow.offerings.get(ids["code"])
        assert resume is not None and code is not None
        done = BookingStatus.COMPLETED

        def rated(day: int, stars: int, text: str | None, shop: Offering = resume) -> Booking:
            start = T0 + timedelta(days=day)
            return booking(
                shop,
                start=start,
                status=done,
                mentee_rating=stars,
                mentee_feedback=text,
                updated_at=start + timedelta(hours=2),
            )

        for b in (
            rated(1, 5, "Great <b>advice</b>"),
            rated(2, 4, "Helpful"),
            rated(3, 3, None),  # stars only: not a written review
            rated(4, 2, "   "),  # blank text: not one either
            rated(5, 1, "Too short"),
            rated(6, 5, "Newest"),
            rated(7, 4, "Another mentor", shop=code),
            booking(resume, start=T0 + timedelta(days=8), status=BookingStatus.CONFIRMED),
        ):
            await uow.bookings.add(b)
        await uow.commit()
    async with uow:
        reviews = await uow.discovery.latest_reviews(ASHA, 3)
        assert [(r.stars, r.text) for r in reviews] == [(5, "Newest"), (1, "Too short"), (4, "Helpful")]
        assert reviews[0].at == T0 + timedelta(days=6, hours=2)
        assert [r.text for r in await uow.discovery.latest_reviews(BO, 3)] == ["Another mentor"]
        assert await uow.discovery.latest_reviews(MENTEE_ID, 3) == []
