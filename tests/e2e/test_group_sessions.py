"""Group sessions end to end: a mentor gives an offering seats, mentees book the same time until the seats are
taken, each with a booking of their own; the time is busy for the mentor's other offerings once one seat is."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from telegram.ext import Application

from domain.model import BookingStatus
from sandbox.botapi import FakeBotApi, FakeUser
from tests.e2e.conftest import NOW
from tests.e2e.flows import (
    become_mentor_with_offering,
    book_seats,
    book_time,
    clock,
    create_offering,
    onboard,
    open_my_booking,
    open_times,
    set_seats,
)


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
    await book_seats(api, [ravi, meena], 3)

    # down to one seat (its button): the session is full, and both attendees keep their bookings
    await set_seats(api, mentor, "1", was="3", press=True)
    times = await open_times(api, dev, "cohort")
    assert clock("9:00 AM") not in times.buttons and times.buttons[0] == clock("10:30 AM")
    async with bot.bot_data["services"].uow_factory() as uow:
        booked = await uow.bookings.active_for_mentor(mentor.id, NOW, NOW + timedelta(days=7))
    assert sorted(b.mentee_id for b in booked) == [ravi.id, meena.id]


async def book_three(api: FakeBotApi, mentor: FakeUser) -> list[FakeUser]:
    """A three-seat cohort (free, 60 minutes) booked by three mentees for Thursday 9:00 Kolkata."""
    await become_mentor_with_offering(api, mentor, "Mock interview cohort", "Free", 60)
    await set_seats(api, mentor, "3")
    mentees = [api.user(200 + n, name, username=name.lower()) for n, name in enumerate(["Ravi", "Meena", "Kiran"])]
    for mentee in mentees:
        await onboard(api, mentee)
    await book_seats(api, mentees, 3)
    return mentees


async def open_roster(api: FakeBotApi, mentor: FakeUser, tab: str = "Upcoming"):
    """/bookings → ``tab`` → its first booking's card → 👥 Session roster."""
    await mentor.send("/bookings")
    inbox = await mentor.wait_for("Your bookings")
    await mentor.press(lambda label: label.lstrip("• ").startswith(tab), message=inbox)
    await mentor.wait_for(lambda m: m.message_id == inbox.message_id and f"{tab} ·" in m.text and "1. " in m.text)
    await mentor.press(lambda label: label.startswith("1. "), message=inbox)
    card = await mentor.wait_for(lambda m: m.message_id == inbox.message_id and "Booking #" in m.text)
    assert "👥 Group session for up to 3 people" in card.text
    assert card.buttons[0] == "👥 Session roster"
    await mentor.press("👥 Session roster", message=inbox)
    roster = await mentor.wait_for(lambda m: m.message_id == inbox.message_id and "Group session" in m.text)
    await api.wait_idle()
    return roster


async def test_the_roster_gives_everyone_one_link_and_cancels_the_whole_session(
    api: FakeBotApi, bot: Application
) -> None:
    mentor = api.user(101, "Asha")
    ravi, meena, kiran = await book_three(api, mentor)

    roster = await open_roster(api, mentor)
    text = roster.text
    assert "Seats taken: 3 of 3" in text and "No meeting link yet." in text
    assert "1. Ravi (@ravi) · confirmed" in text and "3. Kiran (@kiran) · confirmed" in text
    assert roster.buttons == [
        "1. Ravi", "2. Meena", "3. Kiran", "🔗 Link for everyone", "🚫 Cancel the whole session", "⬅ Back to list"
    ]  # fmt: skip

    # one link, set once, every attendee told
    await mentor.press("🔗 Link for everyone", message=roster)
    await mentor.wait_for("Send the meeting link for the whole session")
    await mentor.send("not a link")
    await mentor.wait_for("That is not a web link")
    await mentor.send("https://meet.example.com/cohort")
    saved = await mentor.wait_for("Link saved. Every attendee has been told.")
    assert "Meeting link: https://meet.example.com/cohort" in saved.text
    for mentee in (ravi, meena, kiran):
        told = await mentee.wait_for("The mentor added a meeting link", timeout=15)  # sent by the dispatcher
        assert "https://meet.example.com/cohort" in told.text

    # one attendee cancels on their own; the rest of the session goes on
    await api.wait_idle()
    listing, _card = await open_my_booking(meena, 1, "Status: confirmed")
    await meena.press(lambda label: "Cancel" in label, message=listing)
    await meena.wait_for("reason")
    await meena.send("Something came up")
    await meena.wait_for("cancelled")
    await api.wait_idle()

    # the whole session: a reason once, every remaining attendee told
    roster = await open_roster(api, mentor)
    assert "Seats taken: 2 of 3" in roster.text and "2. Meena (@meena) · cancelled" in roster.text
    await mentor.press("🚫 Cancel the whole session", message=roster)
    await mentor.wait_for("Why are you cancelling the whole session?")
    await mentor.send("The venue is closed")
    done = await mentor.wait_for("The whole session is cancelled. Every attendee has been told.")
    assert done.text.count("· cancelled") == 3 and "Seats taken: 0 of 3" in done.text
    for mentee in (ravi, kiran):
        told = await mentee.wait_for(lambda m: "The venue is closed" in (m.text or ""), timeout=15)
        assert "cancel" in told.text.lower()
    async with bot.bot_data["services"].uow_factory() as uow:
        offering = (await uow.offerings.list_by_mentor(mentor.id))[0]
    assert offering.total_bookings == 3


async def test_a_group_session_through_to_ratings(api: FakeBotApi, bot: Application, clock) -> None:
    mentor = api.user(101, "Asha")
    ravi, meena, kiran = await book_three(api, mentor)
    clock.advance(timedelta(days=2, hours=6))  # Thursday 12:00 UTC: the session is over

    roster = await open_roster(api, mentor, "Past")
    assert roster.buttons[:9] == [
        "1. Ravi", "✔️ 1 came", "🙈 1 no-show", "2. Meena", "✔️ 2 came", "🙈 2 no-show",
        "3. Kiran", "✔️ 3 came", "🙈 3 no-show",
    ]  # fmt: skip
    await mentor.press("✔️ 1 came", message=roster)
    await mentor.wait_for(lambda m: m.message_id == roster.message_id and "1. Ravi (@ravi) · completed" in m.text)
    await mentor.press("🙈 2 no-show", message=roster)
    await mentor.wait_for(
        lambda m: m.message_id == roster.message_id and "2. Meena (@meena) · marked as no-show" in m.text
    )
    await mentor.press("✔️ 3 came", message=roster)
    marked = await mentor.wait_for(
        lambda m: m.message_id == roster.message_id and "3. Kiran (@kiran) · completed" in m.text
    )
    assert not [label for label in marked.buttons if "came" in label or "no-show" in label]
    assert "Seats taken: 3 of 3" in marked.text

    for mentee, stars in ((ravi, "⭐⭐⭐⭐⭐"), (kiran, "⭐⭐⭐")):
        # the dispatcher's wake after a commit can be missed under load; its 5-second round sends it then
        prompt = await mentee.wait_for("How was", timeout=15)
        await mentee.press(stars, message=prompt)
        await mentee.wait_for("You rated")
    await api.wait_idle()
    assert not [m for m in meena.bot_messages() if "How was" in (m.text or "")]  # a no-show is not asked
    async with bot.bot_data["services"].uow_factory() as uow:
        offering = (await uow.offerings.list_by_mentor(mentor.id))[0]
    # requests and sessions held count attendees; the rating averages the attendees' ratings
    assert (offering.total_bookings, offering.total_completed) == (3, 2)
    assert (offering.rating_sum, offering.rating_count, offering.average_rating) == (8, 2, Decimal("4.00"))
