"""The mentee's "My bookings" over HTTP: tabs and pages, the card and its actions (Join, Add to calendar with the
.ics file parsed back, Cancel under the cut-off, Rate once), and refusals for forged or stale presses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from domain.calendar import booking_uid
from domain.mentee import MyTab
from domain.model import BookingStatus
from domain.usecases.booking import (
    BookingRequest,
    add_meeting_link,
    book_slot,
    change_status,
    free_dates,
    free_times,
)
from domain.usecases.inbox import mark_session
from handlers.callbacks import AddToCalendar, AskRating, CancelMine, OpenMyBooking, RateSession
from sandbox.botapi import FakeBotApi, FakeUser
from tests.e2e.conftest import BotRunner
from tests.e2e.flows import BotData, become_mentor_with_offering, book_first_time, last_answer, onboard

S = BookingStatus
NOT_ALLOWED = "You are not allowed to do that."
# Wed 25 Nov 11:30 in Kolkata: the first time 24 hours after "now" (Tue 24 Nov 06:00 UTC)
FIRST_START = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


class Data(BotData):
    """The bot's database, for moving bookings along as the mentor would and checking what did not change."""

    async def confirm_with_link(self, mentor_id: int, booking_id: int, link: str) -> None:
        async with self.uow() as uow:
            await change_status(uow, self.clock, mentor_id, booking_id, S.CONFIRMED)
            await add_meeting_link(uow, self.clock, mentor_id, booking_id, link)
            await uow.commit()

    async def complete(self, mentor_id: int, booking_id: int) -> None:
        async with self.uow() as uow:
            await mark_session(uow, self.clock, mentor_id, booking_id, S.COMPLETED)
            await uow.commit()


@pytest.fixture
async def data(runner: BotRunner, bot) -> AsyncIterator[Data]:
    async with Data(runner) as found:
        yield found


async def setup(api: FakeBotApi, data: Data) -> tuple[FakeUser, FakeUser]:
    """Asha's paid offering; Ravi (Kolkata) books the first time, Asha confirms it and adds a link."""
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor, "Resume Review 1:1", "500", 30)
    await onboard(api, mentee)
    await book_first_time(api, mentee, "Request sent")
    await data.confirm_with_link(mentor.id, 1, "https://meet.example.com/abc")
    # the outbox tells Ravi (with a Join button): wait for it, so that it cannot arrive in the middle of a test
    # and become the latest message with buttons
    await mentee.wait_for(lambda m: m.text.startswith("✅ Your booking is confirmed"))
    await api.wait_idle()
    return mentor, mentee


async def test_the_card_joins_adds_to_calendar_and_cancels(api: FakeBotApi, data: Data) -> None:
    mentor, mentee = await setup(api, data)

    await mentee.send("/mybookings")
    listing = await mentee.wait_for("My bookings")
    assert "Upcoming · page 1 of 1" in listing.text
    assert "1. Wed, Nov 25, 11:30\u202fAM · Resume Review 1:1 · Asha · confirmed" in listing.text
    assert listing.buttons == [
        "1. Wed, Nov 25, 11:30\u202fAM · Resume Review 1:1", "• Upcoming (1)", "Past (0)", "Cancelled (0)",
        "🔔 Waitlist",
    ]  # fmt: skip

    await mentee.press("1. Wed, Nov 25, 11:30\u202fAM · Resume Review 1:1")
    card = await mentee.wait_for(lambda m: m.message_id == listing.message_id and "Status: confirmed" in m.text)
    assert "Resume Review 1:1 with Asha" in card.text
    assert "You can cancel until Tue, Nov 24, 11:30\u202fAM" in card.text  # 24 hours before the start
    assert card.keyboard[0][0].text == "🎥 Join" and card.keyboard[0][0].url == "https://meet.example.com/abc"
    assert card.buttons[1:] == [
        "📅 Add to calendar", "🔁 Reschedule", "❌ Cancel booking", "◀ Back to my bookings"
    ]  # fmt: skip

    # Add to calendar: an .ics document, parsed back with the icalendar library
    await mentee.press("📅 Add to calendar")
    sent = await mentee.wait_for(lambda m: m.document is not None)
    assert await last_answer(api) == "Calendar file sent."
    assert sent.document is not None and sent.document.file_name == "booking-1.ics"
    assert "Resume Review 1:1" in sent.shown_text and "Wed, Nov 25, 11:30\u202fAM" in sent.shown_text
    content = api.file_content(sent.document.file_id)
    assert content is not None
    [event] = icalendar.Calendar.from_ical(content).walk("VEVENT")
    assert event.decoded("DTSTART") == FIRST_START
    assert event.decoded("DTEND") == FIRST_START + timedelta(minutes=30)
    assert str(event["UID"]) == booking_uid(1) and str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Resume Review 1:1 with Asha"
    assert str(event["URL"]) == "https://meet.example.com/abc"
    assert b"DTSTART:20261125T060000Z" in content  # UTC, as RFC 5545 writes it

    # Cancel: asks for a reason, the mentor is told
    await mentee.press("❌ Cancel booking", message=card)
    await mentee.wait_for("Type a short reason for the mentor")
    await mentee.send("Something came up")
    done = await mentee.wait_for("Your booking is cancelled. The mentor has been told.")
    assert "Status: cancelled" in done.text
    told = await mentor.wait_for("The mentee cancelled this booking")
    assert "Something came up" in told.text
    assert (await data.get(1)).status == S.CANCELLED

    await mentee.send("/mybookings")
    listing = await mentee.wait_for("My bookings")
    assert "No upcoming sessions." in listing.text and "Cancelled (1)" in listing.buttons
    await mentee.press("Cancelled (1)")
    cancelled = await mentee.wait_for(lambda m: m.message_id == listing.message_id and "Cancelled ·" in m.text)
    assert "Resume Review 1:1 · Asha · cancelled" in cancelled.text
    await mentee.press(lambda label: label.startswith("1. "))
    card = await mentee.wait_for(lambda m: m.message_id == listing.message_id and "Reason: Something" in m.text)
    assert card.buttons == ["◀ Back to my bookings"]  # nothing left to do
    await mentee.press("◀ Back to my bookings")
    await mentee.wait_for(lambda m: m.message_id == listing.message_id and "Cancelled · page 1 of 1" in m.text)


async def test_after_the_cut_off_cancel_is_not_offered_and_an_old_button_is_refused(
    api: FakeBotApi, data: Data
) -> None:
    _mentor, mentee = await setup(api, data)
    await mentee.send("/mybookings")
    await mentee.wait_for("My bookings")
    await mentee.press(lambda label: label.startswith("1. "))
    early = await mentee.wait_for("You can cancel until")
    assert "❌ Cancel booking" in early.buttons
    data.clock.advance(timedelta(hours=12))  # Tue 18:00 UTC: 12 hours before the start, the cut-off is 24

    await mentee.send("/mybookings")
    await mentee.wait_for("My bookings")
    await mentee.press(lambda label: label.startswith("1. "))
    card = await mentee.wait_for("Cancelling closed 24 hours before the start; please message your mentor.")
    assert "You can cancel until" not in card.text
    assert card.buttons == ["🎥 Join", "📅 Add to calendar", "◀ Back to my bookings"]
    # the card opened before the cut-off still has the button: pressed now, it is refused
    await mentee.press("❌ Cancel booking", message=early)
    assert await last_answer(api) == (
        "It is too late to cancel: this offering can be cancelled until 24 hours before the start. "
        "Please message your mentor."
    )
    assert (await data.get(1)).status == S.CONFIRMED
    await mentee.send("I want to cancel")  # no reason is being asked for
    await mentee.wait_for("I did not understand that.")
    assert (await data.get(1)).status == S.CONFIRMED


async def test_rating_a_completed_session_once(api: FakeBotApi, data: Data) -> None:
    mentor, mentee = await setup(api, data)
    # not completed yet: a forged "Rate" is refused
    await mentee.send("/mybookings")
    await mentee.wait_for("My bookings")
    await mentee.press_data(None, AskRating(1).pack())
    assert await last_answer(api) == "You can rate a session once the mentor marks it completed."

    data.clock.advance(timedelta(days=1, hours=1))  # the session is over
    await data.complete(mentor.id, 1)
    await api.wait_idle()

    await mentee.send("/mybookings")
    listing = await mentee.wait_for("My bookings")
    assert "Past (1)" in listing.buttons and "Upcoming (0)" not in listing.buttons  # the open tab has the dot
    await mentee.press("Past (1)")
    await mentee.wait_for(lambda m: m.message_id == listing.message_id and "Past · page 1 of 1" in m.text)
    await mentee.press(lambda label: label.startswith("1. "))
    card = await mentee.wait_for(lambda m: m.message_id == listing.message_id and "Status: completed" in m.text)
    assert card.buttons == ["⭐ Rate this session", "◀ Back to my bookings"]

    await mentee.press("⭐ Rate this session")
    stars = await mentee.wait_for(lambda m: m.message_id == listing.message_id and "How was" in m.text)
    assert stars.buttons == ["⭐", "⭐⭐", "⭐⭐⭐", "⭐⭐⭐⭐", "⭐⭐⭐⭐⭐", "◀ Back"]
    await mentee.press("⭐⭐⭐⭐")
    await mentee.wait_for("You rated")
    await mentee.press("Skip ▶")
    await mentee.wait_for("Thank you for rating your session!")

    async with data.uow() as uow:
        offering = await uow.offerings.get(1)
    assert offering is not None and (offering.rating_sum, offering.rating_count) == (4, 1)
    assert (await data.get(1)).mentee_rating == 4

    # once: the card no longer offers it, and old or forged buttons are refused
    await mentee.send("/mybookings")
    listing = await mentee.wait_for("My bookings")
    await mentee.press("Past (1)")
    await mentee.wait_for(lambda m: m.message_id == listing.message_id and "Past · page 1 of 1" in m.text)
    await mentee.press(lambda label: label.startswith("1. "))
    card = await mentee.wait_for("Your rating: ⭐⭐⭐⭐")
    assert card.buttons == ["◀ Back to my bookings"]
    await mentee.press_data(None, AskRating(1).pack())
    assert await last_answer(api) == "You have already rated this session. Thank you!"
    await mentee.press_data(None, RateSession(1, 5).pack())
    assert await last_answer(api) == "You have already rated this session. Thank you!"
    async with data.uow() as uow:
        offering = await uow.offerings.get(1)
    assert offering is not None and (offering.rating_sum, offering.rating_count) == (4, 1)


async def test_forged_presses_by_someone_else_change_nothing(api: FakeBotApi, data: Data) -> None:
    mentor, mentee = await setup(api, data)
    stranger = api.user(303, "Mallory")
    await onboard(api, stranger)
    before = await data.get(1)
    documents = len(api.calls_to("sendDocument"))

    for forged in (
        OpenMyBooking(1, MyTab.UPCOMING, 0),
        AddToCalendar(1),
        CancelMine(1),
        AskRating(1),
    ):
        for who in (stranger, mentor):  # the mentor is not the mentee either
            await who.press_data(None, forged.pack())
            assert await last_answer(api) == NOT_ALLOWED, (who, forged)
    await stranger.send("No reason")  # no cancellation was started
    await stranger.wait_for("I did not understand that.")

    assert await data.get(1) == before
    assert len(api.calls_to("sendDocument")) == documents
    await stranger.send("/mybookings")
    empty = await stranger.wait_for("My bookings")
    assert "No upcoming sessions. Book one with /book." in empty.text
    assert "Resume Review" not in empty.text
    assert mentee.id != stranger.id


async def test_main_menu_and_paging(api: FakeBotApi, data: Data) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor, "Career chat", "Free", 15)
    await onboard(api, mentee)
    # the first free time of each of the next ten working days; cancelled bookings do not count towards the limit
    times = []
    async with data.uow() as uow:
        _ctx, days = await free_dates(uow, data.clock, 1, mentee.id, "UTC")
        for day in days[:10]:
            _ctx, free = await free_times(uow, data.clock, 1, mentee.id, day, "UTC")
            times.append(free[0])
    for start in times[:7]:
        async with data.uow() as uow:
            view = await book_slot(uow, data.clock, BookingRequest(1, mentee.id, start))
            await uow.commit()
        if view.booking.id and view.booking.id <= 4:  # cancel four of them so that more may be booked
            async with data.uow() as uow:
                await change_status(uow, data.clock, mentee.id, view.booking.id, S.CANCELLED, "x")
                await uow.commit()
    await api.wait_idle()

    await mentee.send("/start")
    menu = await mentee.wait_for("What would you like to do?")
    assert "🎟 My bookings" in menu.buttons
    await mentee.press("🎟 My bookings", message=menu)
    listing = await mentee.wait_for(lambda m: m.message_id == menu.message_id and "My bookings" in m.text)
    assert "• Upcoming (3)" in listing.buttons and "Cancelled (4)" in listing.buttons
    await mentee.press("Cancelled (4)")
    await mentee.wait_for(lambda m: m.message_id == menu.message_id and "Cancelled · page 1 of 1" in m.text)

    # more than a page: the mentor's limit raised in the use case (the setting), then the pages run on
    async with data.uow() as uow:
        for start in times[7:10]:
            await book_slot(uow, data.clock, BookingRequest(1, mentee.id, start), 10)
        await uow.commit()
    await mentee.press("• Cancelled (4)")  # the same tab again: drawn afresh, with the new counts
    await mentee.wait_for(lambda m: m.message_id == menu.message_id and "Upcoming (6)" in m.buttons)
    await mentee.press("Upcoming (6)")
    page = await mentee.wait_for(lambda m: m.message_id == menu.message_id and "Upcoming · page 1 of 2" in m.text)
    assert "5. " in page.text and "6. " not in page.text
    await mentee.press("Next ▶")
    second = await mentee.wait_for(lambda m: m.message_id == menu.message_id and "page 2 of 2" in m.text)
    assert "6. " in second.text and "◀ Previous" in second.buttons
