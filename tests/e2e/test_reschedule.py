"""Rescheduling over HTTP, on SQLite and PostgreSQL: the mentee moves a free session at once (reminders follow, the
mentor is told, SEQUENCE rises, the history shows on the mentor's card, the limit of moves); a paid, confirmed one
goes through the mentor (the new time held meanwhile, a restart between request and answer, approve keeps the
payment, decline keeps the time, a stale answer refused); an unanswered request expires; the cut-off; forged
presses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from domain.model import Actor, BookingStatus, PaymentStatus
from domain.usecases.booking import change_status
from domain.usecases.payments import mark_paid
from handlers.callbacks import (
    ActOnBooking,
    AnswerMove,
    BookingAction,
    ConfirmMove,
    DeclineProposals,
    PickProposal,
    ProposeTimes,
    Reschedule,
    SendProposals,
)
from sandbox.botapi import FakeBotApi, FakeUser
from storage.outbox import SqlOutboxRepository
from tests.e2e.conftest import BotRunner
from tests.e2e.flows import (
    BotData,
    book_first_time,
    last_answer,
    mentor_and_mentees,
)

S = BookingStatus
FIRST_START = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # Wed 11:30 in Kolkata, 6:00 in London
NOT_ALLOWED = "You are not allowed to do that."


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


class Data(BotData):
    async def confirm_and_mark_paid(self, mentor_id: int, booking_id: int) -> None:
        async with self.uow() as uow:
            await change_status(uow, self.clock, mentor_id, booking_id, S.CONFIRMED)
            await mark_paid(uow, self.clock, mentor_id, booking_id)
            await uow.commit()

    async def ledger(self, booking_id: int) -> list[str]:
        async with self.uow() as uow:
            return [entry.kind.value for entry in await uow.payments.for_booking(booking_id)]

    async def pending_timed(self, booking_id: int) -> dict[str, list[datetime]]:
        async with self.uow() as uow:
            assert isinstance(uow.outbox, SqlOutboxRepository)
            records = await uow.outbox.records(booking_id=booking_id)
        found: dict[str, list[datetime]] = {}
        for record in records:
            if record.status == "pending":
                found.setdefault(record.kind, []).append(record.due_at)
        return found


@pytest.fixture
async def data(runner: BotRunner) -> AsyncIterator[Data]:
    async with Data(runner) as found:
        yield found


async def open_card(api: FakeBotApi, mentee: FakeUser):
    await mentee.send("/mybookings")
    await mentee.wait_for("My bookings")
    await mentee.press(lambda label: label.startswith("1. "))
    card = await mentee.wait_for(lambda m: "Status:" in m.text and "◀ Back to my bookings" in m.buttons)
    await api.wait_idle()
    return card


async def pick_new_time(api: FakeBotApi, mentee: FakeUser, date_index: int = 0):
    """🔁 Reschedule → a date (by position) → the first time → the summary."""
    await mentee.press("🔁 Reschedule")
    dates = await mentee.wait_for("Moving your session")
    assert "Choose a date." in dates.text
    await mentee.press(dates.keyboard[0][date_index].text)
    times = await mentee.wait_for(lambda m: "Choose a time." in m.text and "Moving your session" in m.text)
    await mentee.press(times.keyboard[0][0].text)
    summary = await mentee.wait_for("Move your session?")
    await api.wait_idle()
    return summary


async def test_a_free_session_moves_at_once_until_the_moves_are_used_up(api: FakeBotApi, bot, data: Data) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await mentor_and_mentees(api, mentor, [mentee])
    await book_first_time(api, mentee)
    before = await data.get(1)
    assert before.scheduled_at == FIRST_START and before.status == S.CONFIRMED
    timed_before = await data.pending_timed(1)

    card = await open_card(api, mentee)
    assert "You can move it until Tue, Nov 24, 6:00\u202fAM (2 moves left)." in card.text  # the 24 h cut-off
    assert "🔁 Reschedule" in card.buttons
    summary = await pick_new_time(api, mentee)
    # Thu 26 Nov 9:00 in Kolkata = 3:30 in London: both clocks, old and new
    assert "From: Wed, Nov 25, 6:00\u202fAM (11:30\u202fAM for mentor)" in summary.text
    assert "To: Thu, Nov 26, 3:30\u202fAM (9:00\u202fAM for mentor)" in summary.text
    assert "It moves at once" in summary.text and "1 more time" in summary.text
    await mentee.press("✅ Confirm new time")
    done = await mentee.wait_for("Moved! Your session is now at Thu, Nov 26, 3:30\u202fAM")
    assert await last_answer(api) == "Moved. The mentor has been told."
    assert "Status: confirmed" in done.text
    told = await mentor.wait_for("The mentee moved this session")
    assert "Wed, Nov 25, 11:30\u202fAM → Thu, Nov 26, 9:00\u202fAM" in told.text  # the mentor's clock

    moved = await data.get(1)
    new_start = datetime(2026, 11, 26, 3, 30, tzinfo=UTC)
    assert moved.id == 1 and moved.scheduled_at == new_start and moved.status == S.CONFIRMED
    assert (moved.reschedules, moved.moved_from, moved.moved_by) == (1, FIRST_START, Actor.MENTEE)
    assert moved.sequence > before.sequence  # the calendar event (same UID) takes the new version
    timed = await data.pending_timed(1)
    assert timed["reminder"] and all(due < new_start for due in timed["reminder"])
    assert sorted(timed["reminder"]) != sorted(timed_before["reminder"])  # re-planned from the new start
    assert {due - new_start for due in timed["reminder"]} == {-timedelta(hours=24), -timedelta(hours=1)}
    assert timed["session_after"] == [new_start + timedelta(minutes=30)]  # the old start's went with it

    # the mentor's card keeps the history
    await mentor.send("/bookings")
    inbox = await mentor.wait_for("Your bookings")
    await mentor.press("Upcoming (1)")
    await mentor.wait_for(lambda m: m.message_id == inbox.message_id and "Upcoming ·" in m.text)
    await mentor.press(lambda label: label.startswith("1. ") or "Ravi" in label)
    mentor_card = await mentor.wait_for("Booking #1")
    assert "🔁 Moved 1 time; last from Wed, Nov 25, 11:30\u202fAM, by the mentee." in mentor_card.text

    # the second move is the last one allowed
    await open_card(api, mentee)
    await pick_new_time(api, mentee, date_index=2)
    await mentee.press("✅ Confirm new time")
    await mentee.wait_for("Moved! Your session is now at")
    assert (await data.get(1)).reschedules == 2
    last = await open_card(api, mentee)
    assert "This session was moved 2 times, the most allowed." in last.text
    assert "🔁 Reschedule" not in last.buttons
    # the Reschedule button of a card drawn earlier is refused
    await mentee.press_data(card.message_id, Reschedule(1).pack())
    assert await last_answer(api) == (
        "This session has been moved 2 times, the most allowed. You can still cancel it."
    )


async def test_a_paid_session_moves_when_the_mentor_approves_across_a_restart(
    api: FakeBotApi, runner: BotRunner, data: Data
) -> None:
    mentor, mentee, other = api.user(101, "Asha"), api.user(202, "Ravi"), api.user(303, "Meera")
    async with runner.running():
        await mentor_and_mentees(api, mentor, [mentee, other], "Resume Review 1:1", "500")
        await book_first_time(api, mentee, "Request sent")
        await data.confirm_and_mark_paid(mentor.id, 1)
        await api.wait_idle()
        ledger = await data.ledger(1)
        assert ledger == ["charge"]

        await open_card(api, mentee)
        summary = await pick_new_time(api, mentee)
        assert "The mentor approves the new time" in summary.text
        assert "Your payment moves with the session" in summary.text
        await mentee.press("✅ Confirm new time")
        await mentee.wait_for("I asked the mentor to move your session to Thu, Nov 26, 3:30\u202fAM")
        asked = await mentor.wait_for("New time requested")
        assert "from Wed, Nov 25, 11:30\u202fAM to Thu, Nov 26, 9:00\u202fAM" in asked.text
        assert "✅ Approve new time" in asked.buttons and "✖️ Keep original time" in asked.buttons
        booking = await data.get(1)
        new_start = datetime(2026, 11, 26, 3, 30, tzinfo=UTC)
        assert (booking.scheduled_at, booking.requested_start) == (FIRST_START, new_start)
        card = await open_card(api, mentee)
        assert "You asked to move it to Thu, Nov 26, 3:30\u202fAM; waiting for the mentor's answer." in card.text
        assert "🔁 Reschedule" not in card.buttons

        # the new time is held: another mentee is not offered it
        await other.send("/book")
        await other.wait_for("Open offerings")
        await other.press("📅 Book 1")
        await other.wait_for("Choose a date.")
        await other.press(lambda label: label.startswith("Thu"))
        times = await other.wait_for("Choose a time.")
        assert not any(label.startswith("3:30") for label in times.buttons)
        assert any(label.startswith("4:30") for label in times.buttons)  # 4:00 is in the buffer

    async with runner.running():  # a restart between the request and the answer
        await mentor.press("✅ Approve new time", message=asked)
        approved = await mentor.wait_for(lambda m: m.message_id == asked.message_id and "Moved 1 time" in m.text)
        assert await last_answer(api) == "Moved to the new time. The mentee has been told."
        assert "✅ Approve new time" not in approved.buttons
        told = await mentee.wait_for("The mentor approved your new time")
        assert "Wed, Nov 25, 6:00\u202fAM → Thu, Nov 26, 3:30\u202fAM" in told.text
        moved = await data.get(1)
        assert (moved.scheduled_at, moved.requested_start, moved.reschedules) == (new_start, None, 1)
        assert moved.payment_status == PaymentStatus.PAID and moved.status == S.CONFIRMED
        assert await data.ledger(1) == ledger  # no second charge, no refund
        # the answer pressed again (the card drawn before it) is stale
        await mentor.press_data(asked.message_id, AnswerMove(1, new_start, False).pack())
        assert await last_answer(api) == "This request for a new time is no longer open; nothing was changed."

        # the second request is declined: the booking keeps its time, the held time is free again
        await open_card(api, mentee)
        await pick_new_time(api, mentee, date_index=2)
        await mentee.press("✅ Confirm new time")
        await mentee.wait_for("I asked the mentor")
        second = await mentor.wait_for(
            lambda m: "New time requested" in m.text and m.message_id != asked.message_id
        )
        await mentor.press("✖️ Keep original time", message=second)
        assert await last_answer(api) == "Kept the original time. The mentee has been told."
        await mentee.wait_for("The mentor kept the original time: your session stays at Thu, Nov 26, 3:30\u202fAM")
        kept = await data.get(1)
        assert (kept.scheduled_at, kept.requested_start, kept.reschedules) == (new_start, None, 1)
        await mentor.press_data(
            second.message_id, AnswerMove(1, datetime(2026, 11, 27, 3, 30, tzinfo=UTC), True).pack()
        )
        assert await last_answer(api) == "This request for a new time is no longer open; nothing was changed."


async def test_an_unanswered_request_expires_keeping_the_time(api: FakeBotApi, bot, data: Data) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await mentor_and_mentees(api, mentor, [mentee], "Resume Review 1:1", "500")
    await book_first_time(api, mentee, "Request sent")
    await data.confirm_and_mark_paid(mentor.id, 1)
    await api.wait_idle()
    await open_card(api, mentee)
    await pick_new_time(api, mentee)
    await mentee.press("✅ Confirm new time")
    await mentee.wait_for("I asked the mentor")
    await mentor.wait_for("New time requested")
    expires = (await data.pending_timed(1))["move_expire"]
    assert expires == [FIRST_START]  # the original start comes before 48 hours

    data.clock.current = FIRST_START
    await bot.bot_data["dispatcher"].run_until_idle()
    await mentee.wait_for("The mentor did not answer your request for a new time in time")
    await mentor.wait_for("request for a new time expired unanswered")
    booking = await data.get(1)
    assert (booking.scheduled_at, booking.requested_start, booking.status) == (FIRST_START, None, S.CONFIRMED)


async def test_the_cut_off_and_forged_presses(api: FakeBotApi, bot, data: Data) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    stranger = api.user(404, "Kiran")
    await mentor_and_mentees(api, mentor, [mentee, stranger])
    await book_first_time(api, mentee)
    start = datetime(2026, 11, 26, 3, 30, tzinfo=UTC)

    # someone else's booking: refused, nothing moves
    await stranger.press_data(None, Reschedule(1).pack())
    assert await last_answer(api) == NOT_ALLOWED
    await stranger.press_data(None, ConfirmMove(1, start).pack())
    assert await last_answer(api) == NOT_ALLOWED
    await mentee.press_data(None, AnswerMove(1, start, True).pack())  # only the mentor answers
    assert await last_answer(api) == NOT_ALLOWED
    await mentee.press_data(None, ConfirmMove(1, FIRST_START).pack())  # its own time
    assert await last_answer(api) == "That is the session's current time. Choose another time."
    await mentee.press_data(None, ConfirmMove(1, datetime(2026, 11, 26, 0, 0, tzinfo=UTC)).pack())  # off hours
    assert await last_answer(api) == "This time was just taken. Please choose another time."
    assert (await data.get(1)).scheduled_at == FIRST_START

    early = await open_card(api, mentee)
    data.clock.advance(timedelta(hours=12))  # 12 h before the start: past the 24 h cut-off
    late = await open_card(api, mentee)
    assert "Moving closed 24 hours before the start." in late.text
    assert "🔁 Reschedule" not in late.buttons
    await mentee.press_data(early.message_id, Reschedule(1).pack())
    assert await last_answer(api) == (
        "It is too late to move this session: it can be moved until 24 hours before the start. "
        "Please message your mentor."
    )
    await mentee.press_data(None, ConfirmMove(1, start).pack())
    assert (await last_answer(api)).startswith("It is too late to move this session")
    assert (await data.get(1)).scheduled_at == FIRST_START


async def test_the_mentor_proposes_new_times_and_the_mentee_picks_one(api: FakeBotApi, bot, data: Data) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await mentor_and_mentees(api, mentor, [mentee])
    await book_first_time(api, mentee)
    new_booking = await mentor.wait_for("New booking")

    await mentor.press("🔁 Propose new times", message=new_booking)
    dates = await mentor.wait_for("Propose new times for booking #1")
    assert "Tick one to 3 free times" in dates.text
    await mentor.press(lambda label: label.startswith("Thu"))
    await mentor.wait_for(lambda m: "Choose a time." in m.text and "Propose new times" in m.text)
    await mentor.press("9:00\u202fAM")
    ticked = await mentor.wait_for(lambda m: "✅ 9:00\u202fAM" in m.buttons)
    assert "Ticked: Thu, Nov 26, 9:00\u202fAM" in ticked.text
    await mentor.press("9:30\u202fAM")
    await mentor.wait_for(lambda m: "✅ 9:30\u202fAM" in m.buttons and "📨 Send 2 times ▶" in m.buttons)
    await mentor.press("📨 Send 2 times ▶")
    await mentor.wait_for("Add a message for the mentee")
    await mentor.send("Sorry, <b>something</b> came up")
    sent = await mentor.wait_for("Sent. The mentee will pick one.")
    assert (
        "🔁 You proposed Thu, Nov 26, 9:00\u202fAM, Thu, Nov 26, 9:30\u202fAM; waiting for the mentee."
        in sent.text
    )
    assert (await data.get(1)).scheduled_at == FIRST_START  # nothing moves until the mentee picks

    offer = await mentee.wait_for("Asha proposes new times for")
    assert "Message: Sorry, <b>something</b> came up" in offer.text  # escaped: shown literally
    assert offer.buttons[:3] == [
        "Thu, Nov 26, 3:30\u202fAM",
        "Thu, Nov 26, 4:00\u202fAM",
        "🙅 None of these work",
    ]  # fmt: skip  (the mentee's zone)
    await mentee.press("Thu, Nov 26, 4:00\u202fAM", message=offer)
    await mentee.wait_for("Moved! Your session is now at Thu, Nov 26, 4:00\u202fAM")
    assert await last_answer(api) == "Moved. The mentor has been told."
    told = await mentor.wait_for("The mentee took one of your proposed times")
    assert "Wed, Nov 25, 11:30\u202fAM → Thu, Nov 26, 9:30\u202fAM" in told.text
    moved = await data.get(1)
    assert (moved.scheduled_at, moved.reschedules, moved.moved_by, moved.proposals) == (
        datetime(2026, 11, 26, 4, 0, tzinfo=UTC),
        1,
        Actor.MENTOR,
        (),
    )
    # the other proposed time, pressed afterwards, is refused: the booking moved once
    await mentee.press_data(offer.message_id, PickProposal(1, datetime(2026, 11, 26, 3, 30, tzinfo=UTC)).pack())
    assert await last_answer(api) == "That proposed time is no longer on offer; nothing was changed."
    assert (await data.get(1)).scheduled_at == datetime(2026, 11, 26, 4, 0, tzinfo=UTC)

    # a second proposal, without a message: none of these work
    await mentor.press("🔁 Propose new times", message=told)
    await mentor.wait_for("Propose new times for booking #1")
    await mentor.press(lambda label: label.startswith("Fri"))
    await mentor.wait_for(lambda m: "Choose a time." in m.text and "Propose new times" in m.text)
    await mentor.press("10:00\u202fAM")
    await mentor.wait_for(lambda m: "📨 Send 1 time ▶" in m.buttons)
    await mentor.press("📨 Send 1 time ▶")
    await mentor.wait_for("Add a message for the mentee")
    await mentor.press("📨 Send without a message")
    await mentor.wait_for("You proposed Fri, Nov 27, 10:00\u202fAM")
    second = await mentee.wait_for(lambda m: "proposes new times" in m.text and m.message_id != offer.message_id)
    assert "Message:" not in second.text
    card = await open_card(api, mentee)
    assert "The mentor proposes new times" in card.text and "Fri, Nov 27, 4:30\u202fAM" in card.buttons
    await mentee.press("🙅 None of these work", message=second)
    await mentee.wait_for("The mentor has been told none of these work.")
    await mentor.wait_for("None of the times you proposed works for the mentee")
    kept = await data.get(1)
    assert (kept.scheduled_at, kept.proposals, kept.reschedules) == (
        datetime(2026, 11, 26, 4, 0, tzinfo=UTC),
        (),
        1,
    )


async def test_proposal_buttons_only_for_their_people(api: FakeBotApi, bot, data: Data) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    stranger = api.user(404, "Kiran")
    await mentor_and_mentees(api, mentor, [mentee, stranger])
    await book_first_time(api, mentee)
    start = datetime(2026, 11, 26, 3, 30, tzinfo=UTC)
    await mentee.press_data(None, ProposeTimes(1).pack())  # only the mentor proposes
    assert await last_answer(api) == NOT_ALLOWED
    await stranger.press_data(None, ProposeTimes(1).pack())
    assert await last_answer(api) == NOT_ALLOWED
    await mentee.press_data(None, PickProposal(1, start).pack())  # nothing was proposed
    assert await last_answer(api) == "That proposed time is no longer on offer; nothing was changed."
    await stranger.press_data(None, DeclineProposals(1).pack())
    assert await last_answer(api) == NOT_ALLOWED
    await mentor.press_data(None, SendProposals(1, False).pack())  # no times ticked in this chat
    assert await last_answer(api) == "This button is no longer valid."
    assert (await data.get(1)).scheduled_at == FIRST_START


async def test_the_mentor_cannot_propose_past_max_reschedules(
    api: FakeBotApi, runner: BotRunner, data: Data
) -> None:
    """``MAX_RESCHEDULES=1``: after one move the mentor's cards (the message about the move, the inbox card) offer
    no 🔁 Propose new times, and the old button, pressed anyway, is refused with the reason."""
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    async with runner.running(max_reschedules=1):
        await mentor_and_mentees(api, mentor, [mentee])
        await book_first_time(api, mentee)
        new_booking = await mentor.wait_for("New booking")
        assert "🔁 Propose new times" in new_booking.buttons  # one move left

        card = await open_card(api, mentee)
        assert "(1 move left)" in card.text
        summary = await pick_new_time(api, mentee)
        assert "It moves at once" in summary.text
        await mentee.press("✅ Confirm new time")
        await mentee.wait_for("Moved! Your session is now at")
        told = await mentor.wait_for(lambda m: "moved" in m.text and m.message_id != new_booking.message_id)
        assert "🔁 Propose new times" not in told.buttons  # used up: MAX_RESCHEDULES, not the default of 2
        await mentor.press_data(None, ActOnBooking(1, BookingAction.REFRESH).pack())
        inbox_card = await mentor.wait_for(lambda m: "Booking #1" in m.text and "⬅ Back to list" in m.buttons)
        assert "🔁 Propose new times" not in inbox_card.buttons and "🚫 Cancel booking" in inbox_card.buttons
        mentee_card = await open_card(api, mentee)
        assert "🔁 Reschedule" not in mentee_card.buttons

        await mentor.press("🔁 Propose new times", message=new_booking)  # the stale button
        assert (
            await last_answer(api)
            == "This session has been moved 1 time, the most allowed. You can still cancel it."
        )
        assert (await data.get(1)).reschedules == 1


async def test_the_date_pickers_leave_out_a_day_whose_only_free_time_is_the_booking_s_own(
    api: FakeBotApi, bot, data: Data
) -> None:
    """Wednesday's only free time is 6:00 (London): booked there, neither the mentee's 🔁 Reschedule nor the
    mentor's 🔁 Propose new times lists Wednesday (its time picker would have nothing to show); once the booking
    moves away, Wednesday is back."""
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await mentor_and_mentees(api, mentor, [mentee])
    await mentee.send("/book")
    await mentee.wait_for("Open offerings")
    await mentee.press("📅 Book 1")
    booking_dates = await mentee.wait_for("Choose a date.")
    assert booking_dates.keyboard[0][0].text.startswith("Wed")  # free before it is booked
    await book_first_time(api, mentee)
    assert (await data.get(1)).scheduled_at == FIRST_START

    await open_card(api, mentee)
    await mentee.press("🔁 Reschedule")
    dates = await mentee.wait_for("Moving your session")
    days = [label for label in dates.buttons if "," in label]
    assert days and not any(label.startswith("Wed") for label in days)
    assert days[0].startswith("Thu")
    await mentee.press(days[0], message=dates)
    await mentee.wait_for(lambda m: "Choose a time." in m.text and "Moving your session" in m.text)

    new_booking = await mentor.wait_for("New booking")
    await mentor.press("🔁 Propose new times", message=new_booking)
    proposing = await mentor.wait_for("Propose new times for booking #1")
    mentor_days = [label for label in proposing.buttons if "," in label]
    assert mentor_days and not any(label.startswith("Wed") for label in mentor_days)

    # moved to Thursday: Wednesday is free again, and offered
    await open_card(api, mentee)
    summary = await pick_new_time(api, mentee)
    assert "To: Thu, Nov 26" in summary.text
    await mentee.press("✅ Confirm new time")
    await mentee.wait_for("Moved! Your session is now at")
    await open_card(api, mentee)
    await mentee.press("🔁 Reschedule")
    again = await mentee.wait_for(lambda m: "Moving your session" in m.text and "Choose a date." in m.text)
    assert again.keyboard[0][0].text.startswith("Wed")
