"""The booking flow's polish over HTTP: dates a week at a time, times by part of the day (in the viewer's zone),
the summary's approval, preparation and cancellation lines, the limit per mentor, and stale or bad presses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from bot.config import ConfigError, load_settings
from domain.model import BookingStatus, DateOverride, OfferingStatus
from domain.usecases.booking import BookingRequest, book_slot, free_dates, free_times
from handlers.callbacks import BookOffering, BookWeek
from sandbox.botapi import FakeBotApi, FakeUser
from tests.e2e.conftest import BotRunner
from tests.e2e.flows import (
    KOLKATA,
    LONDON,
    BotData,
    clock,
    create_offering,
    last_answer,
    onboard,
    open_first_date,
    pick_time_and_skip_notes,
    set_hours,
)

S = BookingStatus


class Data(BotData):
    async def change_offering(self, offering_id: int, **changes: object) -> None:
        async with self.uow() as uow:
            found = await uow.offerings.get(offering_id)
            assert found is not None
            await uow.offerings.update(found.with_changes(**changes))
            await uow.commit()

    async def book_first_times(self, mentee_id: int, count: int, offering_id: int = 1) -> None:
        """``count`` bookings, each the first free time of the next working day."""
        async with self.uow() as uow:
            _ctx, days = await free_dates(uow, self.clock, offering_id, mentee_id, "UTC")
            for day in days[:count]:
                _ctx, times = await free_times(uow, self.clock, offering_id, mentee_id, day, "UTC")
                request = BookingRequest(offering_id, mentee_id, times[0])
                await book_slot(uow, self.clock, request)
            await uow.commit()

    async def active_count(self, mentee_id: int, mentor_id: int) -> int:
        async with self.uow() as uow:
            return await uow.bookings.count_open_with_mentor(mentee_id, mentor_id, self.clock.now())


@pytest.fixture
async def data(runner: BotRunner, bot) -> AsyncIterator[Data]:
    async with Data(runner) as found:
        yield found


async def mentor_with_hours(api: FakeBotApi, hours: list[str], price: str = "500") -> FakeUser:
    mentor = api.user(101, "Asha")
    await onboard(api, mentor, KOLKATA)
    await set_hours(api, mentor, ["Mon", "Tue", "Wed", "Thu", "Fri"], hours)
    await create_offering(api, mentor, "Resume Review 1:1", price, 30)
    return mentor


async def open_dates(mentee: FakeUser):
    await mentee.send("/book")
    await mentee.wait_for("Open offerings")
    await mentee.press("📅 Book 1")
    return await mentee.wait_for("Choose a date.")


def same(message_id: int, text: str):
    return lambda m: m.message_id == message_id and text in m.text


async def test_dates_come_a_week_at_a_time(api: FakeBotApi, data: Data) -> None:
    mentor = await mentor_with_hours(api, ["9:00 AM", "10:00 AM", "11:00 AM"])
    async with data.uow() as uow:  # the whole week of 30 Nov off
        for offset in range(7):
            day_off = DateOverride(date(2026, 11, 30) + timedelta(days=offset))
            await uow.availability.set_override(mentor.id, day_off)
        await uow.commit()
    mentee = api.user(202, "Ravi")
    await onboard(api, mentee)

    dates = await open_dates(mentee)
    assert "Week of Mon, Nov 23 – Sun, Nov 29" in dates.text
    assert dates.buttons == ["Wed, Nov 25", "Thu, Nov 26", "Fri, Nov 27", "Later week ▶", "◀ All offerings"]

    await mentee.press("Later week ▶")
    empty = await mentee.wait_for(same(dates.message_id, "Week of Mon, Nov 30 – Sun, Dec 6"))
    assert "No free times this week. Try another week." in empty.text
    assert empty.buttons == ["◀ Earlier week", "Later week ▶", "◀ All offerings"]

    await mentee.press("Later week ▶")
    third = await mentee.wait_for(same(dates.message_id, "Week of Mon, Dec 7 – Sun, Dec 13"))
    assert third.buttons[:5] == ["Mon, Dec 7", "Tue, Dec 8", "Wed, Dec 9", "Thu, Dec 10", "Fri, Dec 11"]

    # the window ends on Thu 24 Dec (30 days): its week is the last; a forged week further out shows that one
    await mentee.press_data(None, BookWeek(1, date(2027, 6, 7)).pack())
    last = await mentee.wait_for(same(dates.message_id, "Week of Mon, Dec 21 – Sun, Dec 27"))
    assert "Later week ▶" not in last.buttons and "◀ Earlier week" in last.buttons
    assert "Fri, Dec 25" not in last.buttons  # beyond the window

    # from a time screen, "◀ Dates" returns to that date's week
    await mentee.press("Tue, Dec 22")
    await mentee.wait_for(same(dates.message_id, "Choose a time."))
    await mentee.press("◀ Dates")
    await mentee.wait_for(same(dates.message_id, "Week of Mon, Dec 21 – Sun, Dec 27"))


async def test_times_are_grouped_by_part_of_the_day_in_the_viewers_zone(api: FakeBotApi, data: Data) -> None:
    await mentor_with_hours(api, ["9:00 AM", "2:00 PM", "6:00 PM"])
    ravi, emma = api.user(202, "Ravi"), api.user(203, "Emma")
    await onboard(api, ravi, KOLKATA)
    await onboard(api, emma, LONDON)

    await open_dates(ravi)
    await ravi.press("Thu, Nov 26")
    times = await ravi.wait_for("Choose a time.")
    assert clock("🌅 Morning: 9:00 AM – 9:30 AM") in times.text
    assert clock("☀️ Afternoon: 2:00 PM – 2:30 PM") in times.text
    assert clock("🌙 Evening: 6:00 PM – 6:30 PM") in times.text
    assert times.text.index("Morning") < times.text.index("Afternoon") < times.text.index("Evening")
    assert [[b.text for b in row] for row in times.keyboard] == [
        [clock("9:00 AM"), clock("9:30 AM")],
        [clock("2:00 PM"), clock("2:30 PM")],
        [clock("6:00 PM"), clock("6:30 PM")],
        ["◀ Dates"],
    ]

    # London: 9:00 and 14:00 in Kolkata are morning there, 18:00 is 12:30 (afternoon); both clocks on the buttons
    await open_dates(emma)
    await emma.press("Thu, Nov 26")
    times = await emma.wait_for("Choose a time.")
    assert "mentor's time (Asia/Kolkata)" in times.text
    assert clock("🌅 Morning: 3:30 AM – 9:00 AM") in times.text
    assert clock("☀️ Afternoon: 12:30 PM – 1:00 PM") in times.text
    assert "Evening" not in times.text
    assert [b.text for b in times.keyboard[0]] == [clock("3:30 AM (9:00 AM)"), clock("4:00 AM (9:30 AM)")]
    assert [b.text for b in times.keyboard[-2]] == [clock("12:30 PM (6:00 PM)"), clock("1:00 PM (6:30 PM)")]


async def test_the_summary_says_approval_preparation_and_cancellation(api: FakeBotApi, data: Data) -> None:
    await mentor_with_hours(api, ["9:00 AM", "10:00 AM", "11:00 AM"])
    await data.change_offering(
        1,
        preparation_notes="Bring your CV <b>as a PDF</b>",
        cancellation_policy="Full refund before the cut-off.",
        cancellation_cutoff_hours=12,
    )
    mentee = api.user(202, "Ravi")
    await onboard(api, mentee)
    await open_first_date(api, mentee)
    await pick_time_and_skip_notes(api, mentee)
    summary = mentee.last_bot_message()
    assert summary is not None
    assert "📝 How to prepare: Bring your CV <b>as a PDF</b>" in summary.text  # literally, not as HTML
    assert "↩️ Cancellation: You can cancel until 12 hours before the start. Full refund before the cut-off." in (
        summary.text
    )
    assert "⏳ Paid session: needs the mentor's approval." in summary.text
    assert summary.text.index("How to prepare") < summary.text.index("needs the mentor's approval")

    # a free offering says it is confirmed instantly
    await data.change_offering(1, price=0)
    await mentee.press("◀ Change time")
    await mentee.wait_for("Choose a time.")
    await pick_time_and_skip_notes(api, mentee)
    summary = mentee.last_bot_message()
    assert "⚡ Free session: confirmed instantly" in summary.text


async def test_a_date_that_filled_up_and_a_time_taken_meanwhile(api: FakeBotApi, data: Data) -> None:
    await mentor_with_hours(api, ["9:00 AM", "10:00 AM", "11:00 AM"])
    ravi, other = api.user(202, "Ravi"), api.user(203, "Sita")
    await onboard(api, ravi)
    await onboard(api, other)

    dates = await open_dates(ravi)
    assert dates.buttons[0] == "Wed, Nov 25"  # only 11:30 is far enough ahead on Wednesday
    await data.book_first_times(other.id, 1)  # Sita takes it
    await ravi.press("Wed, Nov 25")
    full = await ravi.wait_for(same(dates.message_id, "Wed, Nov 25 has no free times left"))
    assert full.buttons == ["🔔 Tell me when a time frees up", "◀ Dates"]
    await ravi.press("◀ Dates")
    week = await ravi.wait_for(same(dates.message_id, "Choose a date."))
    assert week.buttons[0] == "Thu, Nov 26"

    # a time taken between the summary and Confirm: explained, fresh times shown
    await ravi.press("Thu, Nov 26")
    await ravi.wait_for(same(dates.message_id, "Choose a time."))
    await pick_time_and_skip_notes(api, ravi, clock("9:00 AM"))
    await data.book_first_times(other.id, 1)  # Thursday 9:00 for Sita (Wednesday is taken, so Thursday is first)
    await ravi.press("✅ Confirm booking")
    fresh = await ravi.wait_for("This time was just taken. Here are the free times now.")
    assert clock("9:00 AM") not in fresh.buttons and clock("10:00 AM") in fresh.buttons
    assert await data.active_count(ravi.id, 101) == 0


async def test_the_limit_per_mentor_is_explained_at_confirmation(api: FakeBotApi, data: Data) -> None:
    mentor = await mentor_with_hours(api, ["9:00 AM", "10:00 AM", "11:00 AM"])
    mentee = api.user(202, "Ravi")
    await onboard(api, mentee)
    await data.book_first_times(mentee.id, 3)
    assert await data.active_count(mentee.id, mentor.id) == 3

    dates = await open_dates(mentee)
    await mentee.press(dates.keyboard[0][0].text)
    await mentee.wait_for("Choose a time.")
    await pick_time_and_skip_notes(api, mentee)
    await mentee.press("✅ Confirm booking")
    refused = await mentee.wait_for("You already have 3 pending or upcoming bookings with this mentor")
    assert await last_answer(api) == refused.text.removeprefix("⚠️ ")
    assert refused.buttons == ["🎟 My bookings"]
    assert await data.active_count(mentee.id, mentor.id) == 3
    await mentee.press("🎟 My bookings")
    await mentee.wait_for(lambda m: m.message_id == refused.message_id and "• Upcoming (3)" in m.buttons)


async def test_stale_and_bad_input_change_nothing(api: FakeBotApi, data: Data) -> None:
    mentor = await mentor_with_hours(api, ["9:00 AM", "10:00 AM", "11:00 AM"])
    mentee = api.user(202, "Ravi")
    await onboard(api, mentee)
    dates = await open_dates(mentee)

    # text where a button is expected
    await mentee.send("Thursday please")
    await mentee.wait_for("I did not understand that.")

    # paused, then archived: the old week buttons and forged ones explain it
    await data.change_offering(1, status=OfferingStatus.PAUSED)
    await mentee.press("Later week ▶", message=dates)
    assert await last_answer(api) == "This offering is not taking bookings right now."
    await data.change_offering(1, status=OfferingStatus.ARCHIVED)
    await mentee.press_data(None, BookOffering(1).pack())
    assert await last_answer(api) == "This offering is not taking bookings right now."
    await mentee.send("/help")  # a fresh message for the next forged press (the last one already explains it)
    await mentee.wait_for("/mybookings")
    await mentee.press_data(None, BookWeek(1, date(2026, 11, 30)).pack())
    assert await last_answer(api) == "This offering is not taking bookings right now."
    await data.change_offering(1, status=OfferingStatus.ACTIVE)

    # the mentor's own offering, even with a forged week button
    await mentor.press_data(None, BookWeek(1, date(2026, 11, 30)).pack())
    assert await last_answer(api) == "You cannot book your own offering."
    assert await data.active_count(mentee.id, mentor.id) == 0


def test_the_limit_is_a_setting() -> None:
    token = "123456:" + "a" * 30
    assert load_settings({"BOT_TOKEN": token}, env_file=None).max_active_bookings_per_mentor == 3
    five = load_settings({"BOT_TOKEN": token, "MAX_ACTIVE_BOOKINGS_PER_MENTOR": "5"}, env_file=None)
    assert five.max_active_bookings_per_mentor == 5
    for bad in ("0", "-1", "three", "2.5"):
        with pytest.raises(ConfigError, match="MAX_ACTIVE_BOOKINGS_PER_MENTOR"):
            load_settings({"BOT_TOKEN": token, "MAX_ACTIVE_BOOKINGS_PER_MENTOR": bad}, env_file=None)
