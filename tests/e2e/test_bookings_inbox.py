"""The mentor's bookings inbox over HTTP: stats, tabs and pages, the booking card and every action on it, and
refusals for anyone else pressing its buttons (forged callback data)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from domain.inbox import InboxTab
from domain.model import Booking, BookingStatus
from domain.usecases.booking import BookingRequest, book_slot, change_status, free_dates, free_times
from domain.usecases.people import set_locale
from handlers.callbacks import ActOnBooking, BookingAction, OpenBookingCard, OpenInbox
from sandbox.botapi import ChatMessage, FakeBotApi, FakeUser
from tests.e2e.conftest import BotRunner
from tests.e2e.flows import BotData, become_mentor_with_offering, booking_number, onboard

NOT_ALLOWED = "You are not allowed to do that."
S = BookingStatus


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


class Data(BotData):
    """Direct access to the bot's database for setting up bookings (through the real use cases) and checking
    that refused presses changed nothing."""

    async def book(self, mentee_id: int, count: int, offering_id: int = 1) -> list[Booking]:
        """``count`` bookings by the mentee, each at the earliest free time, as if booked in the chat."""
        made = []
        for _ in range(count):
            async with self.uow() as uow:
                _ctx, days = await free_dates(uow, self.clock, offering_id, mentee_id, "UTC")
                _ctx, times = await free_times(uow, self.clock, offering_id, mentee_id, days[0], "UTC")
                request = BookingRequest(offering_id, mentee_id, times[0], "Prep for <b>interviews</b>")
                # one mentee with many bookings: set up past the per-mentor limit, which is not under test here
                view = await book_slot(uow, self.clock, request, max_active_per_mentor=100)
                made.append(view.booking)
                await uow.commit()
        return made

    async def move(self, user_id: int, booking_id: int, status: BookingStatus, reason: str | None = None) -> None:
        async with self.uow() as uow:
            await change_status(uow, self.clock, user_id, booking_id, status, reason)
            await uow.commit()

    async def offering_counters(self, offering_id: int = 1) -> tuple[int, int, int, int]:
        async with self.uow() as uow:
            o = await uow.offerings.get(offering_id)
        assert o is not None
        return (o.total_bookings, o.total_completed, o.rating_sum, o.rating_count)


@pytest.fixture
async def data(runner: BotRunner, bot) -> AsyncIterator[Data]:
    async with Data(runner) as found:
        yield found


async def cast(api: FakeBotApi) -> tuple[FakeUser, FakeUser]:
    mentor = api.user(101, "Asha", username="asha")
    mentee = api.user(202, "Ravi", username="ravi")
    await become_mentor_with_offering(api, mentor)  # ₹500, 30 min, Mon-Fri 9-12 Kolkata: offering 1
    await onboard(api, mentee)
    return mentor, mentee


async def open_card(api: FakeBotApi, mentor: FakeUser, booking_id: int, tab: InboxTab) -> ChatMessage:
    await mentor.send("/bookings")
    screen = await mentor.wait_for("Your bookings")
    if tab != InboxTab.PENDING:
        await mentor.press(lambda label: tab.value in label.lower(), message=screen)
        await api.wait_idle()
    data = OpenBookingCard(booking_id, tab, 0).pack()
    label = next(text for row in screen.reply_markup for text, d in row if d == data)
    await mentor.press(label, message=screen)
    return await mentor.wait_for(
        lambda m: m.message_id == screen.message_id and f"Booking #{booking_id}" in m.text
    )


async def test_stats_tabs_and_pages(api: FakeBotApi, data: Data) -> None:
    mentor, mentee = await cast(api)
    made = await data.book(mentee.id, 8)  # Wed 25 11:30, then the free hours on Thu and Fri, then Mon
    in_week = sum(b.scheduled_at < data.clock.now().replace(day=29, hour=18, minute=30) for b in made)
    assert in_week == 7

    await mentor.send("/bookings")
    screen = await mentor.wait_for("Your bookings")
    assert "Pending requests: 8" in screen.text
    assert f"Sessions this week: {in_week}" in screen.text
    assert "Completed: 0" in screen.text and "Average rating: no ratings yet" in screen.text
    assert "Pending · page 1 of 2" in screen.text
    assert "1. " in screen.text and "Resume Review 1:1 · Ravi" in screen.text
    buttons = screen.buttons
    assert buttons[-4:] == ["• Pending (8)", "Upcoming (0)", "Past (0)", "Cancelled (0)"]
    assert "Next ▶" in buttons and "◀ Previous" not in buttons
    assert len([b for b in buttons if re.match(r"\d+\. ", b)]) == 5

    await mentor.press("Next ▶", message=screen)
    second = await mentor.wait_for(lambda m: m.message_id == screen.message_id and "page 2 of 2" in m.text)
    assert next(b for b in second.buttons if re.match(r"\d+\. ", b)).startswith("6. ")
    assert "◀ Previous" in second.buttons and "Next ▶" not in second.buttons

    # open the sixth booking, confirm it: it moves to Upcoming, and Back leads there
    await mentor.press(lambda label: label.startswith("6. "), message=screen)
    card = await mentor.wait_for(lambda m: m.message_id == screen.message_id and "Booking #" in m.text)
    booking_id = booking_number(card.text)
    assert "Payment: not paid yet" in card.text and "Ravi (@ravi)" in card.text
    assert "Notes from the mentee: Prep for <b>interviews</b>" in card.text
    assert card.buttons == ["✅ Confirm", "❌ Decline", "🔗 Add meeting link", "📝 Private note", "⬅ Back to list"]
    await mentor.press("⬅ Back to list", message=card)
    await mentor.wait_for(lambda m: m.message_id == screen.message_id and "page 2 of 2" in m.text)
    await mentor.press(lambda label: label.startswith("6. "), message=screen)
    await mentor.wait_for(lambda m: m.message_id == screen.message_id and "Booking #" in m.text)
    await mentor.press("✅ Confirm", message=screen)
    await mentor.wait_for(lambda m: m.message_id == screen.message_id and "· confirmed" in m.text)
    assert (await data.get(booking_id)).status == S.CONFIRMED
    await mentee.wait_for("Your booking is confirmed")
    await mentor.press("⬅ Back to list", message=screen)
    upcoming = await mentor.wait_for(lambda m: m.message_id == screen.message_id and "Upcoming · page" in m.text)
    assert "Pending requests: 7" in upcoming.text
    assert upcoming.buttons[-4:] == ["Pending (7)", "• Upcoming (1)", "Past (0)", "Cancelled (0)"]

    # the main menu has the inbox too
    await mentor.send("/start")
    await mentor.wait_for("What would you like to do?")
    await mentor.press("📥 Bookings")
    await mentor.wait_for("Pending requests: 7")
    await api.wait_idle()


async def test_private_note_is_the_mentors_alone(api: FakeBotApi, data: Data) -> None:
    mentor, mentee = await cast(api)
    [booking] = await data.book(mentee.id, 1)
    card = await open_card(api, mentor, booking.id, InboxTab.PENDING)  # type: ignore[arg-type]

    await mentor.press("📝 Private note", message=card)
    await mentor.wait_for("Only you will ever see it")
    await mentor.send("x" * 1001)
    await mentor.wait_for("The private note is too long: at most 1000 characters in all.")
    await mentor.send("<b>Secret</b>: aiming for FAANG & co")  # still on the same step
    saved = await mentor.wait_for("Private note saved.")
    assert "🔒 Your private note: <b>Secret</b>: aiming for FAANG & co" in saved.text
    assert "📝 Edit private note" in saved.buttons
    await mentor.press("📝 Edit private note", message=saved)
    await mentor.wait_for("Current note: <b>Secret</b>")
    await mentor.send("+ weak on system design")
    saved = await mentor.wait_for("Private note saved.")
    assert "aiming for FAANG & co\nweak on system design" in saved.text
    stored = await data.get(booking.id)  # type: ignore[arg-type]
    assert stored.mentor_notes == "<b>Secret</b>: aiming for FAANG & co\nweak on system design"

    # everything the mentee is told about this booking leaves the note out
    await mentor.press("✅ Confirm", message=saved)
    await mentee.wait_for("Your booking is confirmed")
    await mentor.press("🔗 Add meeting link", message=saved)
    await mentor.wait_for("Send the meeting link")
    await mentor.send("https://meet.example.com/x")
    await mentee.wait_for("The mentor added a meeting link")
    await mentor.press("🚫 Cancel booking", message=mentor.last_keyboard_message())
    await mentor.wait_for("Why are you cancelling")
    await mentor.send("Unwell")
    await mentee.wait_for("The mentor cancelled your booking")
    await api.wait_idle()
    told = "\n".join(m.text for m in mentee.bot_messages())
    assert "Secret" not in told and "system design" not in told and "private note" not in told.lower()

    await mentor.press("📝 Edit private note", message=mentor.last_keyboard_message())
    await mentor.wait_for("Only you will ever see it")
    await mentor.send("-")
    deleted = await mentor.wait_for("Private note deleted.")
    assert "🔒" not in deleted.text and "📝 Private note" in deleted.buttons


async def test_cancel_with_a_reason_and_the_mentee_is_told_in_their_language(api: FakeBotApi, data: Data) -> None:
    mentor, mentee = await cast(api)
    async with data.uow() as uow:  # the mentee reads Hindi (as if chosen in /settings)
        await set_locale(uow, mentee.id, "hi", ["en", "hi"])
        await uow.commit()
    [booking] = await data.book(mentee.id, 1)
    await data.move(mentor.id, booking.id, S.CONFIRMED)  # type: ignore[arg-type]
    card = await open_card(api, mentor, booking.id, InboxTab.UPCOMING)  # type: ignore[arg-type]
    # paid outside the bot (PAYMENTS=off): the mentor may mark it paid once confirmed
    assert card.buttons == [
        "🔗 Add meeting link", "🔁 Propose new times", "🚫 Cancel booking", "💰 Mark paid", "📝 Private note",
        "⬅ Back to list",
    ]  # fmt: skip
    await mentor.press("🚫 Cancel booking", message=card)
    await mentor.wait_for("at most 500 characters")
    await mentor.send("   ")
    await mentor.wait_for("Please type a reason.")
    await mentor.send("Family <emergency> & travel")
    done = await mentor.wait_for("Cancelled. The mentee has been told.")
    assert "· cancelled" in done.text and "Reason: Family <emergency> & travel" in done.text
    assert done.buttons == ["📝 Private note", "⬅ Back to list"]
    told = await mentee.wait_for("Family <emergency> & travel")
    assert "समय:" in told.text  # the mentee's card, in Hindi
    assert (await data.get(booking.id)).cancelled_by == "mentor"  # type: ignore[arg-type]
    assert await data.offering_counters() == (1, 0, 0, 0)

    await mentor.press("⬅ Back to list", message=done)
    listing = await mentor.wait_for(lambda m: m.message_id == done.message_id and "Cancelled · page" in m.text)
    assert "• Cancelled (1)" in listing.buttons


async def test_marking_a_session_waits_for_its_start(api: FakeBotApi, data: Data, runner: BotRunner) -> None:
    mentor, mentee = await cast(api)
    first, second = await data.book(mentee.id, 2)
    for booking in (first, second):
        await data.move(mentor.id, booking.id, S.CONFIRMED)  # type: ignore[arg-type]
    card = await open_card(api, mentor, first.id, InboxTab.UPCOMING)  # type: ignore[arg-type]
    assert "✔️ Mark completed" not in card.buttons and "🙈 Mark no-show" not in card.buttons

    # a forged (or old) Mark completed before the start: refused, clearly, and the card shows the booking as it is
    for action in (BookingAction.COMPLETE, BookingAction.NO_SHOW):
        await mentor.press_data(card, ActOnBooking(first.id, action).pack())  # type: ignore[arg-type]
        await api.wait_idle()
        answer = api.callback_answers[-1]
        assert answer.show_alert and answer.text == (
            "This session has not started yet. Mark it completed or no-show once it has started."
        )
    assert (await data.get(first.id)).status == S.CONFIRMED  # type: ignore[arg-type]

    # ten minutes into the first session
    runner.clock.current = first.scheduled_at + timedelta(minutes=10)
    card = await open_card(api, mentor, first.id, InboxTab.UPCOMING)  # type: ignore[arg-type]
    assert card.buttons[1:3] == ["✔️ Mark completed", "🙈 Mark no-show"]
    await mentor.press("✔️ Mark completed", message=card)
    done = await mentor.wait_for(lambda m: m.message_id == card.message_id and "· completed" in m.text)
    await api.wait_idle()
    assert api.callback_answers[-1].text == "Marked completed."
    assert done.buttons == ["💰 Mark paid", "📝 Private note", "⬅ Back to list"]  # it may still be paid
    assert await data.offering_counters() == (2, 1, 0, 0)

    # after the second one ended it waits in Past, flagged; no-show there
    runner.clock.current = second.ends_at + timedelta(minutes=1)
    await mentor.send("/bookings")
    screen = await mentor.wait_for("Your bookings")
    assert "Completed: 1" in screen.text
    await mentor.press(lambda label: label.startswith("Past"), message=screen)
    past = await mentor.wait_for(lambda m: m.message_id == screen.message_id and "Past · page" in m.text)
    assert "⚠️ to mark" in past.text and "· completed" in past.text
    card = await open_card(api, mentor, second.id, InboxTab.PAST)  # type: ignore[arg-type]
    assert "This session has ended: mark it completed or no-show." in card.text
    await mentor.press("🙈 Mark no-show", message=card)
    await mentor.wait_for(lambda m: m.message_id == card.message_id and "· marked as no-show" in m.text)
    assert await data.offering_counters() == (2, 1, 0, 0)

    # a second press of the old button: nothing changes, and the alert says why
    edits = len(api.calls_to("editMessageText"))
    await mentor.press_data(card, ActOnBooking(second.id, BookingAction.COMPLETE).pack())  # type: ignore[arg-type]
    await api.wait_idle()
    assert api.callback_answers[-1].text == "This booking is already marked as no-show; nothing was changed."
    assert len(api.calls_to("editMessageText")) == edits  # the card already shows the current buttons
    assert await data.offering_counters() == (2, 1, 0, 0)


async def test_stale_card_is_redrawn_with_an_explanation(api: FakeBotApi, data: Data) -> None:
    mentor, mentee = await cast(api)
    [booking] = await data.book(mentee.id, 1)
    card = await open_card(api, mentor, booking.id, InboxTab.PENDING)  # type: ignore[arg-type]
    await data.move(mentee.id, booking.id, S.CANCELLED, "Found another mentor")  # type: ignore[arg-type]
    await mentor.press("❌ Decline", message=card)
    await api.wait_idle()
    assert api.callback_answers[-1].text == "This booking is already cancelled; nothing was changed."
    redrawn = mentor.message(card.message_id)
    assert "· cancelled" in redrawn.text and "Reason: Found another mentor" in redrawn.text
    assert "❌ Decline" not in redrawn.buttons


async def test_nobody_else_can_use_the_inbox_buttons(api: FakeBotApi, data: Data) -> None:
    mentor, mentee = await cast(api)
    other = api.user(303, "Mallory")
    await become_mentor_with_offering(api, other, "Other offering")
    [booking] = await data.book(mentee.id, 1)
    await data.move(mentor.id, booking.id, S.CONFIRMED)  # type: ignore[arg-type]
    data.clock.current = booking.scheduled_at + timedelta(hours=2)  # every move is open to the mentor now
    before = await data.get(booking.id)  # type: ignore[arg-type]
    counters = await data.offering_counters()
    assert booking.id is not None

    for presser in (other, mentee):
        for action in BookingAction:
            await presser.press_data(None, ActOnBooking(booking.id, action).pack())
            await api.wait_idle()
            answer = api.callback_answers[-1]
            assert (answer.text, answer.show_alert) == (NOT_ALLOWED, True), (presser, action)
        await presser.press_data(None, OpenBookingCard(booking.id, InboxTab.PAST, 0).pack())
        await api.wait_idle()
        assert api.callback_answers[-1].text == NOT_ALLOWED
        assert "Booking #" not in (presser.last_bot_message().text or "")
    # nor can a forged button start a typed step for them
    await other.send("I am typing a reason")
    await other.wait_for("I did not understand that")

    # the mentee has no inbox at all
    await mentee.press_data(None, OpenInbox(InboxTab.PENDING, 0).pack())
    await api.wait_idle()
    assert api.callback_answers[-1].text.startswith("The bookings inbox is for mentors.")
    await mentee.send("/bookings")
    await mentee.wait_for("The bookings inbox is for mentors.")
    # another mentor's inbox shows only their own (empty) bookings
    await other.press_data(None, OpenInbox(InboxTab.PAST, 0).pack())
    await api.wait_idle()
    assert "Past (0)" in " ".join(other.last_keyboard_message().buttons)
    # bookings that do not exist
    await mentor.press_data(None, OpenBookingCard(booking.id + 1000, InboxTab.PAST, 0).pack())
    await api.wait_idle()
    assert api.callback_answers[-1].text == "That is no longer available."

    assert await data.get(booking.id) == before
    assert await data.offering_counters() == counters
