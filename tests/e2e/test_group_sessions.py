"""Group sessions end to end: a mentor gives an offering seats, mentees book the same time until the seats are
taken, each with a booking of their own; the time is busy for the mentor's other offerings once one seat is."""

from __future__ import annotations

from datetime import timedelta

from telegram.ext import Application

from domain.model import BookingStatus
from tests.e2e.conftest import NOW
from tests.e2e.flows import (
    become_mentor_with_offering,
    clock,
    create_offering,
    onboard,
)
from sandbox.botapi import FakeBotApi, FakeUser

THURSDAY = "Thu, Nov 26"


async def open_times(api: FakeBotApi, mentee: FakeUser, words: str, day: str = THURSDAY):
    """``/book <words>`` → the one offering found → ``day`` → its times."""
    await mentee.send(f"/book {words}")
    await mentee.wait_for("Open offerings")
    await mentee.press("📅 Book 1")
    await mentee.wait_for("Choose a date.")
    await mentee.press(day)
    times = await mentee.wait_for("Choose a time.")
    await api.wait_idle()
    return times


async def book_time(api: FakeBotApi, mentee: FakeUser, label: str) -> str:
    """Press ``label``, Skip, check the summary, Confirm; returns the summary's text."""
    await mentee.press(label)
    await mentee.wait_for("Anything the mentor should know")
    await mentee.press("Skip ▶")
    summary = (await mentee.wait_for("Please check your booking")).text
    await mentee.press("✅ Confirm booking")
    await mentee.wait_for("Booked! Your session is confirmed.")
    await api.wait_idle()
    return summary


async def set_seats(api: FakeBotApi, mentor: FakeUser, seats: str) -> None:
    await mentor.send("/offerings")
    await mentor.wait_for("Your offerings")
    await mentor.press("1. ⚙️ Manage")
    await mentor.wait_for("Buffers:")
    await mentor.press("✏️ Edit")
    await mentor.wait_for("tap what you want to change")
    await mentor.press("✏️ Seats")
    question = await mentor.wait_for("How many people may book one session?")
    assert "Now: 1" in question.text
    await mentor.send(seats)
    await mentor.wait_for("✅ Saved: Seats.")
    await api.wait_idle()


async def test_three_seats_are_booked_by_three_mentees_and_then_the_time_is_gone(
    api: FakeBotApi, bot: Application
) -> None:
    mentor = api.user(101, "Asha")
    await become_mentor_with_offering(api, mentor, "Mock interview cohort", "Free", 60)
    await set_seats(api, mentor, "3")
    await create_offering(api, mentor, "Resume review", "Free", 30)

    ravi, meena, kiran, dev = (api.user(200 + n, name) for n, name in enumerate(["Ravi", "Meena", "Kiran", "Dev"]))
    for mentee in (ravi, meena, kiran, dev):
        await onboard(api, mentee)

    # Thursday 9-12 Kolkata, 60-minute sessions every 30 minutes; every seat free
    await ravi.send("/book")
    listing = await ravi.wait_for("Open offerings")
    assert "Mock interview cohort" in listing.text and "👥 Group session for up to 3 people" in listing.text
    assert listing.text.count("👥") == 1  # the 1:1 offering says nothing of seats
    times = await open_times(api, ravi, "cohort")
    assert "👥 Group session for up to 3 people" in times.text
    starts = ("9:00 AM", "9:30 AM", "10:00 AM", "10:30 AM", "11:00 AM")
    assert times.buttons[:5] == [clock(f"{t} · 3 left") for t in starts]
    summary = await book_time(api, ravi, clock("9:00 AM · 3 left"))
    assert "👥 3 of 3 seats left" in summary

    # 9:00 stays open with a seat fewer; the times overlapping the session (and its buffers) are gone
    times = await open_times(api, meena, "cohort")
    assert times.buttons[:3] == [clock("9:00 AM · 2 left"), clock("10:30 AM · 3 left"), clock("11:00 AM · 3 left")]
    summary = await book_time(api, meena, clock("9:00 AM · 2 left"))
    assert "👥 2 of 3 seats left" in summary
    times = await open_times(api, kiran, "cohort")
    await book_time(api, kiran, clock("9:00 AM · 1 left"))

    # every seat taken: the fourth mentee does not see 9:00 any more
    times = await open_times(api, dev, "cohort")
    assert times.buttons[:2] == [clock("10:30 AM · 3 left"), clock("11:00 AM · 3 left")]
    # and the mentor's 1:1 offering had the time busy from the first seat on
    times = await open_times(api, dev, "Resume")
    assert clock("9:00 AM") not in times.buttons and clock("9:30 AM") not in times.buttons
    assert times.buttons[0] == clock("10:30 AM")

    # each attendee has a booking of their own, at the same start; the offering counts three bookings
    async with bot.bot_data["services"].uow_factory() as uow:
        booked = await uow.bookings.active_for_mentor(mentor.id, NOW, NOW + timedelta(days=7))
        [cohort, _resume] = await uow.offerings.list_by_mentor(mentor.id)
    assert sorted(b.mentee_id for b in booked) == [ravi.id, meena.id, kiran.id]
    assert len({b.scheduled_at for b in booked}) == 1
    assert {b.status for b in booked} == {BookingStatus.CONFIRMED}
    assert (cohort.capacity, cohort.total_bookings) == (3, 3)
    for mentee in (ravi, meena, kiran):
        await mentee.wait_for("Booked! Your session is confirmed.")


async def test_lowering_the_seats_keeps_everyone_booked(api: FakeBotApi, bot: Application) -> None:
    mentor = api.user(101, "Asha")
    await become_mentor_with_offering(api, mentor, "Mock interview cohort", "Free", 60)
    await set_seats(api, mentor, "3")
    ravi, meena, dev = api.user(200, "Ravi"), api.user(201, "Meena"), api.user(202, "Dev")
    for mentee in (ravi, meena, dev):
        await onboard(api, mentee)
    await open_times(api, ravi, "cohort")
    await book_time(api, ravi, clock("9:00 AM · 3 left"))
    await open_times(api, meena, "cohort")
    await book_time(api, meena, clock("9:00 AM · 2 left"))

    # down to one seat: the session is full, and both attendees keep their bookings
    await mentor.send("/offerings")
    await mentor.wait_for("Your offerings")
    await mentor.press("1. ⚙️ Manage")
    await mentor.wait_for("Buffers:")
    await mentor.press("✏️ Edit")
    await mentor.wait_for("tap what you want to change")
    await mentor.press("✏️ Seats")
    question = await mentor.wait_for("How many people may book one session?")
    assert "Now: 3" in question.text
    await mentor.press("1", message=question)
    await mentor.wait_for("✅ Saved: Seats.")
    times = await open_times(api, dev, "cohort")
    assert clock("9:00 AM") not in times.buttons and times.buttons[0] == clock("10:30 AM")
    async with bot.bot_data["services"].uow_factory() as uow:
        booked = await uow.bookings.active_for_mentor(mentor.id, NOW, NOW + timedelta(days=7))
    assert sorted(b.mentee_id for b in booked) == [ravi.id, meena.id]
