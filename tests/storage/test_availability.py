from __future__ import annotations

from datetime import date

from domain.model import Availability, DateOverride, TimeRange, WeeklyRule
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTOR_ID, offering, seed, user

MON_MORNING = WeeklyRule(0, TimeRange(9 * 60, 12 * 60))
MON_EVENING = WeeklyRule(0, TimeRange(18 * 60, 20 * 60))
FRI_LATE = WeeklyRule(4, TimeRange(22 * 60, 24 * 60))


async def test_missing_mentor_or_never_set(uow: SqlUnitOfWork) -> None:
    await seed(uow, user(MENTOR_ID, is_mentor=True))  # no time zone, no rules
    async with uow:
        assert await uow.availability.get(404) is None
        assert await uow.availability.get(MENTOR_ID) is None


async def test_timezone_without_rules_is_an_empty_availability(uow: SqlUnitOfWork) -> None:
    await seed(uow, user(MENTOR_ID, timezone="America/New_York"))
    async with uow:
        assert await uow.availability.get(MENTOR_ID) == Availability("America/New_York")


async def test_weekly_rules_round_trip_in_the_mentor_zone(uow: SqlUnitOfWork) -> None:
    await seed(uow, user(MENTOR_ID, timezone="Asia/Kolkata"))
    async with uow:
        await uow.availability.replace_weekly(MENTOR_ID, [FRI_LATE, MON_EVENING, MON_MORNING])
        await uow.commit()
    async with uow:
        got = await uow.availability.get(MENTOR_ID)
    assert got == Availability("Asia/Kolkata", weekly=(MON_MORNING, MON_EVENING, FRI_LATE))

    async with uow:
        await uow.availability.replace_weekly(MENTOR_ID, [MON_EVENING])
        await uow.commit()
    async with uow:
        assert await uow.availability.get(MENTOR_ID) == Availability("Asia/Kolkata", weekly=(MON_EVENING,))
        await uow.availability.replace_weekly(MENTOR_ID, [])
        await uow.commit()
    async with uow:
        assert await uow.availability.get(MENTOR_ID) == Availability("Asia/Kolkata")


async def test_rules_without_timezone_fall_back_to_utc(uow: SqlUnitOfWork) -> None:
    await seed(uow, user(MENTOR_ID))
    async with uow:
        await uow.availability.replace_weekly(MENTOR_ID, [MON_MORNING])
        assert await uow.availability.get(MENTOR_ID) == Availability("UTC", weekly=(MON_MORNING,))


async def test_overrides_round_trip(uow: SqlUnitOfWork) -> None:
    await seed(uow, user(MENTOR_ID, timezone="Europe/London"))
    day_off = DateOverride(date(2030, 3, 4))
    other_hours = DateOverride(date(2030, 3, 5), (TimeRange(8 * 60, 9 * 60), TimeRange(13 * 60, 15 * 60)))
    async with uow:
        await uow.availability.replace_weekly(MENTOR_ID, [MON_MORNING])
        await uow.availability.set_override(MENTOR_ID, other_hours)
        await uow.availability.set_override(MENTOR_ID, day_off)
        await uow.commit()
    async with uow:
        got = await uow.availability.get(MENTOR_ID)
    assert got == Availability("Europe/London", weekly=(MON_MORNING,), overrides=(day_off, other_hours))
    assert got.ranges_on(date(2030, 3, 4)) == ()  # got is the Availability above

    replaced = DateOverride(date(2030, 3, 4), (TimeRange(0, 30),))
    async with uow:
        await uow.availability.set_override(MENTOR_ID, replaced)
        await uow.availability.clear_override(MENTOR_ID, date(2030, 3, 5))
        await uow.commit()
    async with uow:
        got = await uow.availability.get(MENTOR_ID)
    assert got == Availability("Europe/London", weekly=(MON_MORNING,), overrides=(replaced,))


async def test_overrides_alone_count_as_set(uow: SqlUnitOfWork) -> None:
    await seed(uow, user(MENTOR_ID))
    async with uow:
        await uow.availability.set_override(MENTOR_ID, DateOverride(date(2030, 1, 1)))
        expected = Availability("UTC", overrides=(DateOverride(date(2030, 1, 1)),))
        assert await uow.availability.get(MENTOR_ID) == expected


async def test_profile_and_offering_rules_stay_apart(uow: SqlUnitOfWork) -> None:
    own = (WeeklyRule(2, TimeRange(600, 660)),)
    [added] = await seed(
        uow,
        user(MENTOR_ID, timezone="UTC"),
        offerings=(offering(use_profile_availability=False, weekly_rules=own),),
    )
    async with uow:
        await uow.availability.replace_weekly(MENTOR_ID, [MON_MORNING])
        await uow.commit()
    async with uow:
        assert await uow.availability.get(MENTOR_ID) == Availability("UTC", weekly=(MON_MORNING,))
        stored = await uow.offerings.get(added.id or 0)
        assert stored is not None and stored.weekly_rules == own
        await uow.availability.replace_weekly(MENTOR_ID, [])  # must not touch the offering's rules
        await uow.commit()
    async with uow:
        stored = await uow.offerings.get(added.id or 0)
        assert stored is not None and stored.weekly_rules == own
