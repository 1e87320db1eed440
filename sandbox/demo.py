"""Demo data for a new sandbox, made through the project's own use cases (as if people had used the bot).

A few mentors in different zones and languages with profiles, weekly hours and live offerings (free and paid),
a few mentees, and reviews: past sessions booked, confirmed, completed, rated and reviewed on a clock set back in
time. What those past changes would have told people is skipped in the outbox: it is history, not news.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.clock import FixedClock
from domain.model import BookingStatus, OfferingStatus, TimeRange
from domain.offerings import OfferingField
from domain.people import Profile
from domain.ports import UnitOfWork
from domain.profiles import ProfileField
from domain.usecases import aftercare, availability, booking, offerings, profiles
from domain.usecases.people import become_mentor, register_user, set_timezone
from sandbox.store import PersonRecord

EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
WEEKDAYS = (0, 1, 2, 3, 4)


@dataclass(frozen=True, slots=True)
class DemoOffering:
    title: str
    price: str  # as a mentor types it
    minutes: int
    category: str  # a ``Category`` value
    description: str
    min_notice_hours: int


@dataclass(frozen=True, slots=True)
class DemoPerson:
    id: int
    first_name: str
    last_name: str
    locale: str
    zone: str


@dataclass(frozen=True, slots=True)
class DemoMentor:
    person: DemoPerson
    headline: str
    bio: str
    expertise: str
    languages: str
    days: tuple[int, ...]
    hours: tuple[tuple[int, int], ...]  # local (start, end) hours
    offerings: tuple[DemoOffering, ...]
    upi_id: str = ""  # where mentees pay by UPI (made up: the sandbox moves no money)


@dataclass(frozen=True, slots=True)
class DemoReview:
    mentee_id: int
    offering: str  # its title
    stars: int
    text: str
    days_ago: int  # the session was booked this many days before the sandbox started


MENTEES = (
    DemoPerson(7201, "Maya", "Iyer", "en", "Asia/Kolkata"),
    DemoPerson(7202, "Arjun", "Singh", "hi", "Asia/Kolkata"),
    DemoPerson(7203, "Sofia", "Rossi", "en", "Europe/Berlin"),
)

MENTORS = (
    DemoMentor(
        DemoPerson(7101, "Ananya", "Rao", "en", "Asia/Kolkata"),
        headline="Staff engineer · interviews and system design",
        bio="Twelve years of backend work at two payment companies. I have sat on both sides of a few hundred "
        "interviews and like to make them less scary.",
        expertise="System design, Python, Interviews",
        languages="English, Hindi",
        days=(0, 1, 2, 3, 4, 5),
        hours=((9, 12), (17, 21)),
        offerings=(
            DemoOffering(
                "Resume review",
                "Free",
                30,
                "resume_review",
                "Send your resume beforehand; we go through it line by line.",
                2,
            ),
            DemoOffering(
                "Mock interview: system design",
                "1500",
                60,
                "mock_interview",
                "A full system design round with written feedback afterwards.",
                12,
            ),
        ),
        upi_id="ananya.rao@okicici",
    ),
    DemoMentor(
        DemoPerson(7102, "Rahul", "Verma", "hi", "Asia/Kolkata"),
        headline="डेटा साइंटिस्ट · करियर सलाह हिंदी में",
        bio="मैंने इंजीनियरिंग से डेटा साइंस में करियर बदला। आपके सवालों के जवाब हिंदी या अंग्रेज़ी में।",
        expertise="Data science, SQL, Career change",
        languages="Hindi, English",
        days=EVERY_DAY,
        hours=((18, 22),),
        offerings=(
            DemoOffering(
                "करियर मार्गदर्शन (career guidance)",
                "500",
                45,
                "career_guidance",
                "आपके अगले कदम की योजना: कौशल, प्रोजेक्ट और नौकरी की तैयारी।",
                4,
            ),
            DemoOffering(
                "Quick career chat",
                "Free",
                15,
                "career_guidance",
                "Fifteen minutes for one question that has been on your mind.",
                1,
            ),
        ),
        upi_id="rahul.verma@ybl",
    ),
    DemoMentor(
        DemoPerson(7103, "Emma", "Clarke", "en", "Europe/London"),
        headline="Product designer · portfolio reviews",
        bio="Design lead in London. I review portfolios the way hiring managers read them: fast, then deep.",
        expertise="Product design, Portfolios, UX research",
        languages="English",
        days=WEEKDAYS,
        hours=((8, 12), (14, 17)),
        offerings=(
            DemoOffering(
                "Portfolio review",
                "2000",
                60,
                "portfolio_review",
                "Bring two case studies; leave with a list of concrete changes.",
                24,
            ),
            DemoOffering(
                "Frontend code review",
                "800",
                30,
                "code_review",
                "A pull request or a small repository, reviewed together.",
                6,
            ),
        ),
    ),
    DemoMentor(
        DemoPerson(7104, "Diego", "Alvarez", "en", "America/New_York"),
        headline="Engineering manager · first-time managers",
        bio="I coach new engineering managers through their first year: one-on-ones, feedback, hiring.",
        expertise="Management, Hiring, Feedback",
        languages="English, Spanish",
        days=WEEKDAYS,
        hours=((7, 11), (19, 22)),
        offerings=(
            DemoOffering(
                "New manager 1:1",
                "1000",
                45,
                "career_guidance",
                "Bring a situation from this week; we work out what to do next.",
                3,
            ),
        ),
    ),
    DemoMentor(
        DemoPerson(7105, "Olga", "Smirnova", "ru", "Europe/Moscow"),
        headline="Аналитик данных · резюме и собеседования",
        bio="Восемь лет в аналитике, из них три года нанимаю аналитиков. Помогаю подготовиться к собеседованию.",
        expertise="SQL, Python, Analytics",
        languages="Russian, English",
        days=WEEKDAYS,
        hours=((10, 13), (18, 21)),
        offerings=(
            DemoOffering(
                "Разбор резюме аналитика",
                "Free",
                30,
                "resume_review",
                "Пришлите резюме заранее: разберём его по строчкам.",
                3,
            ),
        ),
    ),
)

REVIEWS = (
    DemoReview(7202, "Resume review", 5, "Clear, practical advice: my resume is shorter and much better.", 9),
    DemoReview(7203, "Mock interview: system design", 5, "Felt like the real thing. Great feedback.", 6),
    DemoReview(7202, "Quick career chat", 4, "बहुत उपयोगी बातचीत, धन्यवाद!", 5),
    DemoReview(7201, "Portfolio review", 5, "Emma spotted exactly what my case studies were missing.", 8),
    DemoReview(7203, "New manager 1:1", 4, "Good frameworks for my first one-on-ones.", 4),
)


def people() -> list[PersonRecord]:
    """Everyone the demo brings, mentors first."""
    everyone = [m.person for m in MENTORS] + list(MENTEES)
    return [PersonRecord(p.id, p.first_name, p.locale, p.last_name) for p in everyone]


async def seed(uow_factory: Callable[[], UnitOfWork], now: datetime) -> None:
    """Fill an empty database with the demo, as of ``now``."""
    for person in (*(m.person for m in MENTORS), *MENTEES):
        async with uow_factory() as uow:
            profile = Profile(person.id, person.first_name, person.last_name)
            await register_user(uow, profile, person.locale)
            await set_timezone(uow, person.id, person.zone)
            await uow.commit()
    offerings: dict[str, tuple[int, int]] = {}  # title -> (offering id, mentor id)
    for mentor in MENTORS:
        offerings.update(await _mentor(uow_factory, mentor, FixedClock(now)))
    for review in REVIEWS:
        offering_id, mentor_id = offerings[review.offering]
        await _past_session(uow_factory, now - timedelta(days=review.days_ago), offering_id, mentor_id, review)
    await _skip_history(uow_factory, now)


async def _mentor(
    uow_factory: Callable[[], UnitOfWork], mentor: DemoMentor, clock: FixedClock
) -> dict[str, tuple[int, int]]:
    mentor_id = mentor.person.id
    async with uow_factory() as uow:
        await become_mentor(uow, mentor_id)
        ranges = [TimeRange(start * 60, end * 60) for start, end in mentor.hours]
        await availability.set_weekly_availability(uow, mentor_id, mentor.days, ranges)
        for field, value in (
            (ProfileField.HEADLINE, mentor.headline),
            (ProfileField.BIO, mentor.bio),
            (ProfileField.EXPERTISE, mentor.expertise),
            (ProfileField.LANGUAGES, mentor.languages),
            (ProfileField.UPI_ID, mentor.upi_id or "-"),
        ):
            await profiles.update_profile(uow, mentor_id, field, value)
        made = {}
        for demo in mentor.offerings:
            offering = await offerings.create_offering(uow, mentor_id, demo.title, demo.price, demo.minutes)
            assert offering.id is not None
            for edit, value in (
                (OfferingField.CATEGORY, demo.category),
                (OfferingField.DESCRIPTION, demo.description),
                (OfferingField.MIN_NOTICE, str(demo.min_notice_hours)),
            ):
                await offerings.edit_offering(uow, clock, mentor_id, offering.id, edit, value)
            await offerings.set_offering_status(uow, clock, mentor_id, offering.id, OfferingStatus.ACTIVE)
            made[demo.title] = (offering.id, mentor_id)
        await uow.commit()
    return made


async def _past_session(
    uow_factory: Callable[[], UnitOfWork], then: datetime, offering_id: int, mentor_id: int, review: DemoReview
) -> None:
    """Book the first free time after ``then`` as the mentee, confirm it, complete it, rate and review it."""
    clock = FixedClock(then)
    zone = next(p.zone for p in MENTEES if p.id == review.mentee_id)
    async with uow_factory() as uow:
        _ctx, days = await booking.free_dates(uow, clock, offering_id, review.mentee_id, zone)
        _ctx, times = await booking.free_times(uow, clock, offering_id, review.mentee_id, days[0], zone)
        request = booking.BookingRequest(offering_id, review.mentee_id, times[0])
        view = await booking.book_slot(uow, clock, request)
        await uow.commit()
    booking_id = view.booking.id
    assert booking_id is not None
    if view.booking.status == BookingStatus.PENDING:
        async with uow_factory() as uow:
            await booking.change_status(uow, clock, mentor_id, booking_id, BookingStatus.CONFIRMED)
            await uow.commit()
    clock.current = view.booking.ends_at + timedelta(minutes=5)
    async with uow_factory() as uow:
        await booking.change_status(uow, clock, mentor_id, booking_id, BookingStatus.COMPLETED)
        await uow.commit()
    clock.advance(timedelta(hours=2))
    async with uow_factory() as uow:
        await aftercare.rate_session(uow, clock, review.mentee_id, booking_id, review.stars)
        await aftercare.leave_feedback(uow, clock, review.mentee_id, booking_id, review.text)
        await uow.commit()


async def _skip_history(uow_factory: Callable[[], UnitOfWork], now: datetime) -> None:
    """The messages the past sessions would have sent are history: take them from the outbox unsent."""
    while True:
        async with uow_factory() as uow:
            claims = await uow.outbox.claim(now, 100, timedelta(minutes=1))
            for claim in claims:
                await uow.outbox.skip(claim, "sandbox demo history")
            await uow.commit()
        if not claims:
            return
