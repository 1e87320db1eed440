"""Discover end to end: /book with categories, filters, sort, search and pages; the offering card; the mentor's
page with the latest reviews; stale and forged buttons."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from telegram.ext import Application

from domain.discovery import PriceBand, SortOrder
from domain.model import (
    Booking,
    BookingStatus,
    Category,
    MentorProfile,
    Offering,
    OfferingStatus,
    PaymentStatus,
    StatsDelta,
    TimeRange,
    User,
    WeeklyRule,
)
from handlers.callbacks import DiscoverList, ShowMentor, ShowOffering
from sandbox.botapi import FakeBotApi
from tests.e2e.conftest import NOW
from tests.e2e.flows import LONDON, clock, onboard

ASHA, BO, RAVI = 101, 102, 202
MORNINGS = [WeeklyRule(day, TimeRange(9 * 60, 12 * 60)) for day in range(5)]  # Mon-Fri 09:00-12:00


def numbered(text: str) -> list[str]:
    """The titles of a list's entries (``1. Title``), in order."""
    return re.findall(r"^\d+\. (.+)$", text, flags=re.MULTILINE)


def _offering(mentor: int, title: str, price: str, minutes: int, category: Category, **more: object) -> Offering:
    return Offering(
        mentor_id=mentor,
        title=title,
        price=Decimal(price),
        duration_minutes=minutes,
        category=category,
        status=OfferingStatus.ACTIVE,
        **more,  # type: ignore[arg-type]
    )


async def seed_catalogue(bot: Application) -> dict[str, int]:
    """Asha (Kolkata, weekday mornings) with four offerings, Bo (UTC, same hours) with three; Bo's "Deep dive"
    needs 10 days' notice, so it has no free time in the next 7 days."""
    async with bot.bot_data["services"].uow_factory() as uow:
        await uow.users.add(User(ASHA, "Asha", timezone="Asia/Kolkata", is_mentor=True))
        await uow.users.add(User(BO, "Bo", timezone="UTC", is_mentor=True))
        await uow.profiles.save(
            MentorProfile(
                ASHA,
                display_name="Asha Rao",
                headline="Staff engineer <b>@</b> fintech",
                bio="Ten years of backend work.",
                expertise=("Python", "SQL"),
                languages=("English", "हिन्दी"),
            )
        )
        await uow.profiles.save(MentorProfile(BO, display_name="Bodhi Sen"))
        for mentor in (ASHA, BO):
            await uow.availability.replace_weekly(mentor, MORNINGS)
        shops = [
            _offering(
                ASHA,
                "Resume review",
                "500",
                30,
                Category.RESUME_REVIEW,
                preparation_notes="Bring your CV <as PDF>",
                cancellation_policy="No refunds after that.",
                cancellation_cutoff_hours=12,
                description="A line-by-line read of your resume.",
            ),
            _offering(ASHA, "Mock interview", "1500", 60, Category.MOCK_INTERVIEW),
            _offering(ASHA, "Career chat", "0", 15, Category.CAREER_GUIDANCE),
            _offering(ASHA, "Python code review", "800", 45, Category.CODE_REVIEW),
            _offering(BO, "System design deep dive", "2500", 90, Category.SYSTEM_DESIGN, min_notice_hours=240),
            _offering(BO, "Quick resume pass", "0", 15, Category.RESUME_REVIEW),
            _offering(BO, "Portfolio review", "300", 30, Category.PORTFOLIO_REVIEW),
            _offering(BO, "Old paused one", "100", 30, Category.OTHER),
        ]
        ids = {}
        for shop in shops:
            added = await uow.offerings.add(shop)
            ids[shop.title] = added.id
        paused = await uow.offerings.get(ids["Old paused one"])
        await uow.offerings.update(paused.with_changes(status=OfferingStatus.PAUSED))
        # ratings and requests: Resume review 5.0 (1 rating, 3 requests), Mock interview 4.0 (2, 8 requests)
        await uow.offerings.apply_stats(ids["Resume review"], StatsDelta(bookings=3, rating_sum=5, rating_count=1))
        mock = StatsDelta(bookings=8, rating_sum=8, rating_count=2)
        await uow.offerings.apply_stats(ids["Mock interview"], mock)
        await uow.commit()
    return ids


async def add_reviews(bot: Application, offering_id: int) -> None:
    """Five completed sessions with Asha: four rated (three with words, one with stars only), one unrated."""
    async with bot.bot_data["services"].uow_factory() as uow:
        await uow.users.add(User(909, "Old mentee"))
        for day, stars, words in [
            (1, 5, "Great <b>advice</b> & clear"),
            (2, 2, "Too short"),
            (3, 4, None),
            (4, 3, "Middle"),
            (5, None, None),
            (6, 4, "Newest words"),
        ]:
            start = NOW - timedelta(days=30 - day)
            await uow.bookings.add(
                Booking(
                    offering_id,
                    ASHA,
                    909,
                    start,
                    30,
                    5,
                    5,
                    "UTC",
                    Decimal("500"),
                    PaymentStatus.PAID,
                    BookingStatus.COMPLETED,
                    start - timedelta(days=1),
                    mentee_rating=stars,
                    mentee_feedback=words,
                    updated_at=start + timedelta(days=1),
                )
            )
        await uow.commit()


async def test_book_lists_categories_pages_filters_sorts_and_searches(api: FakeBotApi, bot) -> None:
    await seed_catalogue(bot)
    ravi = api.user(RAVI, "Ravi")
    await onboard(api, ravi, LONDON)

    await ravi.send("/book")
    listing = await ravi.wait_for("Open offerings")
    assert "All categories · 7 found" in listing.text and "Page 1 of 2" in listing.text
    assert listing.buttons[:7] == [
        "✅ All (7)",
        "Resume review (2)",
        "Mock interview (1)",
        "Career guidance (1)",
        "Portfolio review (1)",
        "Code review (1)",
        "System design (1)",
    ]
    assert "Old paused one" not in listing.text
    # best rated first, then most booked: Resume review (5.0), Mock interview (4.0), then unrated
    assert listing.text.index("1. Resume review") < listing.text.index("2. Mock interview")
    assert "with Asha Rao" in listing.text
    assert "★ 5.0 (1 rating) · 3 requests made · 0 sessions held" in listing.text
    assert clock("🗓 Next free time: Wed, Nov 25, 6:00 AM") in listing.text  # London time
    assert [b.text for b in listing.keyboard[4]] == ["📅 Book 1", "ℹ️ Details 1"]
    await ravi.press("More ▶")
    page_two = await ravi.wait_for("Page 2 of 2")
    assert "6. " in page_two.text and "1. Resume review" not in page_two.text
    assert "◀ Back" in page_two.buttons and "More ▶" not in page_two.buttons

    await ravi.press("Resume review (2)")
    resume = await ravi.wait_for("Resume review · 2 found")
    assert "✅ Resume review (2)" in resume.buttons and "Quick resume pass" in resume.text
    assert "Mock interview" not in resume.text.split("\n\n", 1)[1]

    await ravi.press("⚙️ Filters")
    await ravi.wait_for("Tap a choice to apply it.")
    await ravi.press("Free only")
    free = await ravi.wait_for("Filters: Free only")
    assert "Resume review · 1 found" in free.text and "Quick resume pass" in free.text
    assert "🧹 Clear filters" in free.buttons
    await ravi.press("All (2)")  # the category goes, the price filter stays (counts follow it)
    free_all = await ravi.wait_for("All categories · 2 found")
    assert "Career chat" in free_all.text and "Quick resume pass" in free_all.text
    await ravi.press("🧹 Clear filters")
    await ravi.wait_for("All categories · 7 found")

    await ravi.press("⚙️ Filters")
    await ravi.wait_for("Tap a choice to apply it.")
    await ravi.press("🗓 Free time in the next 7 days")
    soon = await ravi.wait_for("Filters: Free time in the next 7 days")
    assert "6 found" in soon.text and "System design deep dive" not in soon.text

    await ravi.press("⚙️ Filters")
    await ravi.wait_for("Tap a choice to apply it.")
    await ravi.press("45 min")
    await ravi.wait_for("Filters: 45 min, Free time in the next 7 days")

    await ravi.press("🧹 Clear filters")
    await ravi.wait_for("All categories · 7 found")
    await ravi.press("↕️ Sort")
    await ravi.wait_for("Sort the offerings by")
    await ravi.press("💰 Lowest price")
    cheap = await ravi.wait_for("Sorted by: 💰 Lowest price")
    assert numbered(cheap.text) == [
        "Career chat",
        "Quick resume pass",
        "Portfolio review",
        "Resume review",
        "Python code review",
    ]
    await ravi.press("↕️ Sort")
    await ravi.wait_for("Sort the offerings by")
    await ravi.press("🔥 Most booked")
    booked = await ravi.wait_for("Sorted by: 🔥 Most booked")
    assert numbered(booked.text)[:2] == ["Mock interview", "Resume review"]
    await ravi.press("↕️ Sort")
    await ravi.wait_for("Sort the offerings by")
    await ravi.press("⏱ Soonest free time")
    soonest = await ravi.wait_for("Sorted by: ⏱ Soonest free time")
    # from Wednesday 06:00 UTC (24 h notice): Asha's 11:30-12:00 IST fits 15 and 30 minutes only (06:00 UTC,
    # best rated first among equals), Bo's 09:00 UTC comes next; Asha's longer sessions wait for Thursday 09:00 IST
    assert numbered(soonest.text) == [
        "Resume review",
        "Career chat",
        "Quick resume pass",
        "Portfolio review",
        "Mock interview",
    ]
    await ravi.press("More ▶")
    last = await ravi.wait_for("Page 2 of 2")
    assert numbered(last.text) == ["Python code review", "System design deep dive"]  # 10 days' notice: last

    # search: the button, then typed words (mentor names count); the sort is kept
    await ravi.press("🔎 Search")
    await ravi.wait_for("Type a word or two to search")
    await ravi.send(" ::: ")
    await ravi.wait_for("Type a word or two to search for, e.g. resume or Python.")  # still on the step
    await ravi.send("bodhi")
    found = await ravi.wait_for("🔎 Search: “bodhi”")
    assert "3 found" in found.text and "Sorted by: ⏱ Soonest free time" in found.text
    assert "Asha" not in found.text
    await ravi.press("✖️ Clear search")
    await ravi.wait_for(lambda m: m.message_id == found.message_id and "7 found" in m.text)

    await ravi.send("/book resume <b>")
    typed = await ravi.wait_for("🔎 Search: “resume <b>”")  # shown literally
    assert "0 found" in typed.text and "Nothing matches" in typed.text
    await ravi.send("/book RESUME")
    typed = await ravi.wait_for("🔎 Search: “RESUME”")
    assert "2 found" in typed.text  # title words, any case

    # text where a button is expected
    await ravi.send("next page please")
    await ravi.wait_for("I did not understand that")
    api.assert_no_errors()
    api.assert_callbacks_answered_once()


async def test_offering_card_and_the_mentor_page_with_reviews(api: FakeBotApi, bot) -> None:
    ids = await seed_catalogue(bot)
    await add_reviews(bot, ids["Resume review"])
    ravi = api.user(RAVI, "Ravi")
    await onboard(api, ravi, LONDON)
    await ravi.send("/book")
    await ravi.wait_for("Open offerings")
    await ravi.press("ℹ️ Details 1")
    card = await ravi.wait_for("A line-by-line read of your resume.")
    assert "with Asha Rao" in card.text and "Staff engineer <b>@</b> fintech" in card.text  # escaped
    assert "₹500 · 30 min · Resume review" in card.text
    assert "★★★★★ ★ 5.0 (1 rating) · 3 requests made · 0 sessions held" in card.text
    assert clock("🗓 Next free time: Wed, Nov 25, 6:00 AM (your time, Europe/London)") in card.text
    assert "📝 How to prepare: Bring your CV <as PDF>" in card.text
    assert "↩️ Cancellation: You can cancel until 12 hours before the start. No refunds after that." in card.text
    assert card.buttons == ["📅 Book", "👤 Mentor", "◀ All offerings"]

    await ravi.press("👤 Mentor", message=card)
    page = await ravi.wait_for(lambda m: m.message_id == card.message_id and "Latest reviews" in m.text)
    assert "Asha Rao" in page.text and "Ten years of backend work." in page.text
    assert "Expertise: Python, SQL" in page.text and "Speaks: English, हिन्दी" in page.text
    reviews = page.text.split("Latest reviews", 1)[1]
    # the newest three written ones (stars only and unrated sessions are not reviews), escaped, no names
    assert reviews.split("\n")[1:4] == ["★★★★☆ “Newest words”", "★★★☆☆ “Middle”", "★★☆☆☆ “Too short”"]
    assert "Great" not in reviews and "Old mentee" not in page.text
    assert page.buttons == ["📅 Book 1", "📅 Book 2", "📅 Book 3", "📅 Book 4", "◀ All offerings"]
    page_text = page.text
    await ravi.press("📅 Book 1", message=page)
    await ravi.wait_for("Choose a date.")

    # the mentor link shows the same card
    await ravi.send(f"/start m{ASHA}")
    linked = await ravi.wait_for(lambda m: "Latest reviews" in m.text and m.message_id != page.message_id)
    assert linked.text == page_text

    # the mentor's own card: no Book button; their preview shows the same reviews
    asha = api.user(ASHA, "Asha")
    await asha.send("/book")
    own_list = await asha.wait_for("Open offerings")
    assert "📅 Book 1" not in own_list.buttons and "ℹ️ Details 1" in own_list.buttons  # 1. is her own
    await asha.press("ℹ️ Details 1")
    own = await asha.wait_for("This is your own offering")
    assert own.buttons == ["👤 Mentor", "◀ All offerings"]
    await asha.send("/profile")
    await asha.wait_for("Your mentor profile")
    await asha.press("👁 Preview as a mentee")
    preview = await asha.wait_for("This is what mentees see")
    assert "★★★★☆ “Newest words”" in preview.text
    await api.wait_idle()
    api.assert_no_errors()
    api.assert_callbacks_answered_once()


async def test_stale_and_forged_discover_buttons_are_explained(api: FakeBotApi, bot) -> None:
    ids = await seed_catalogue(bot)
    ravi = api.user(RAVI, "Ravi")
    await onboard(api, ravi, LONDON)
    await ravi.send("/book")
    listing = await ravi.wait_for("Open offerings")

    forged = [
        ("dsl:99:a:0:0:r:0:", "That filter is not available. Here are all open offerings."),  # no such category
        (
            DiscoverList(0, PriceBand.ANY, 17, False, SortOrder.RATING, 0, "").pack(),
            "That filter is not available. Here are all open offerings.",
        ),
        (
            DiscoverList(0, PriceBand.ANY, 0, False, SortOrder.RATING, 40, "").pack(),
            "That page does not exist any more; here is page 2.",
        ),
        ("dsl:0:zz:0:0:r:0:", "This button is no longer valid."),
        ("dsl:0:a:0:0:r:0", "This button is no longer valid."),
        (ShowOffering(ids["Old paused one"]).pack(), "This offering is not taking bookings right now."),
        (ShowOffering(99999).pack(), "That is no longer available."),
        (ShowMentor(RAVI).pack(), "That is no longer available."),  # not a mentor
    ]
    for data, expected in forged:
        await ravi.send("/book")  # each on a fresh list (an edit to the same text would be "not modified")
        listing = await ravi.wait_for("Open offerings")
        await ravi.press_data(listing, data)
        await api.wait_idle()
        assert api.callback_answers[-1].text == expected, data
        shown = ravi.message(listing.message_id).text
        if "page" in expected:  # moved to the last page
            assert "Page 2 of 2" in shown and "6. " in shown
        elif "filter" in expected or data.startswith("dsc:"):  # explained, with the whole list again
            assert shown.startswith("⚠️ " + expected) and "All categories · 7 found" in shown
        else:  # refused: the list is left as it was
            assert shown.startswith("Open offerings")

    # an offering paused after the list was sent: Details and Book explain and show the list again
    await ravi.send("/book")
    fresh = await ravi.wait_for("Open offerings")
    async with bot.bot_data["services"].uow_factory() as uow:
        resume = await uow.offerings.get(ids["Resume review"])
        await uow.offerings.update(resume.with_changes(status=OfferingStatus.ARCHIVED))
        await uow.commit()
    await ravi.press("ℹ️ Details 1", message=fresh)
    explained = await ravi.wait_for("⚠️ This offering is not taking bookings right now.")
    assert "6 found" in explained.text and "1. Resume review" not in explained.text
    await api.wait_idle()
    assert api.callback_answers[-1].text == "This offering is not taking bookings right now."
    await ravi.press("📅 Book 1", message=ravi.message(listing.message_id))
    await api.wait_idle()
    assert api.callback_answers[-1].text == "This offering is not taking bookings right now."
    api.assert_no_errors()
    api.assert_callbacks_answered_once()
