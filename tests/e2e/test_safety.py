"""Races, forged buttons, leaving and restarting: the bot stays correct and always answers."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import TimeoutError as SqlTimeoutError

from domain.model import OfferingStatus
from handlers.callbacks import ActOnBooking, BookingAction, ConfirmBooking, SetOfferingStatus
from sandbox.botapi import FakeBotApi
from storage.repositories import SqlUserRepository
from tests.e2e.conftest import BotRunner
from tests.e2e.flows import (
    become_mentor_with_offering,
    book_first_time,
    booking_number,
    onboard,
    open_first_date,
    pick_time_and_skip_notes,
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


async def test_two_mentees_race_for_one_slot_and_one_wins(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    first, second = api.user(202, "Ravi"), api.user(303, "Meera")
    await become_mentor_with_offering(api, mentor)
    for mentee in (first, second):
        await onboard(api, mentee)
        await open_first_date(api, mentee)
        await pick_time_and_skip_notes(api, mentee)

    # both press Confirm on the same slot at the same moment
    await asyncio.gather(first.press("✅ Confirm booking"), second.press("✅ Confirm booking"))
    await api.wait_idle()

    outcomes = [m.last_bot_message().text for m in (first, second)]
    winners = [t for t in outcomes if t.startswith("📨 Request sent")]
    losers = [t for t in outcomes if "This time was just taken" in t]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    assert len([m for m in mentor.bot_messages() if "New booking request" in m.text]) == 1
    # the loser sees fresh times, and the taken one is not among them
    loser = first if "just taken" in first.last_bot_message().text else second
    assert "11:30" not in " ".join(loser.last_bot_message().buttons)


async def test_nobody_else_can_act_on_a_booking_even_with_forged_buttons(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    mentee = api.user(202, "Ravi")
    intruder = api.user(909, "Mallory")
    await become_mentor_with_offering(api, mentor)
    await onboard(api, mentee)
    await onboard(api, intruder)
    await book_first_time(api, mentee, "Request sent")
    request = await mentor.wait_for("New booking request")
    booking_id = booking_number(request.text)
    buttons = [data for m in mentor.bot_messages() for row in m.reply_markup for _label, data in row]
    pause = next(data for data in buttons if data and data.startswith("os:"))
    offering_id = SetOfferingStatus.unpack(pause).offering_id

    forged = [
        (intruder, ActOnBooking(booking_id, BookingAction.CONFIRM).pack(), "You are not allowed to do that."),
        (intruder, ActOnBooking(booking_id, BookingAction.DECLINE).pack(), "You are not allowed to do that."),
        (intruder, ActOnBooking(booking_id, BookingAction.LINK).pack(), "You are not allowed to do that."),
        (mentee, ActOnBooking(booking_id, BookingAction.CONFIRM).pack(), "You are not allowed to do that."),
        (
            intruder,
            SetOfferingStatus(offering_id, OfferingStatus.PAUSED).pack(),
            "You are not allowed to do that.",
        ),
        (intruder, ActOnBooking(booking_id + 1000, BookingAction.CONFIRM).pack(), "That is no longer available."),
        (intruder, "ba:1:zz", "This button is no longer valid."),
        (intruder, "totally-made-up", "This button is no longer valid."),
    ]
    for user, data, expected in forged:
        await user.press_data(None, data)
        await api.wait_idle()
        assert api.callback_answers[-1].text == expected, data
        assert api.callback_answers[-1].show_alert

    # nothing changed: the mentor can still confirm, and the offering is still live
    await mentor.press("✅ Confirm", message=request)
    await mentor.wait_for(lambda m: m.message_id == request.message_id and "· confirmed" in m.text)
    await intruder.send("/book")
    listing = await intruder.wait_for("Open offerings")
    assert "Resume Review 1:1" in listing.text


async def test_a_mentor_cannot_book_their_own_offering(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    await become_mentor_with_offering(api, mentor)
    await mentor.send("/book")
    listing = await mentor.wait_for("Open offerings")
    assert not any(label.startswith("📅 Book") for label in listing.buttons)
    from datetime import UTC, datetime

    await mentor.press_data(None, ConfirmBooking(1, datetime(2026, 11, 25, 6, 0, tzinfo=UTC)).pack())
    await api.wait_idle()
    assert api.callback_answers[-1].text == "You cannot book your own offering."


async def test_cancel_leaves_any_conversation(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    await onboard(api, mentor)
    await mentor.send("/newoffering")
    await mentor.wait_for("step 1 of 3")
    await mentor.send("/cancel")
    await mentor.wait_for("Cancelled. Nothing was changed.")
    await mentor.send("Resume Review")  # no longer taken as a title
    await mentor.wait_for("I did not understand that")
    await mentor.send("/offerings")
    await mentor.wait_for("You have no offerings yet.")
    await mentor.send("/cancel")
    await mentor.wait_for("There was nothing to cancel.")


async def test_bad_input_is_explained_and_the_step_is_kept(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    await onboard(api, mentor)
    await mentor.send("/newoffering")
    await mentor.send("x" * 101)
    await mentor.wait_for("The title is too long: at most 100 characters.")
    await mentor.send("<i>Mock</i> interview")
    await mentor.wait_for("Step 2 of 3")
    refusals = [("abc", "That is not a price"), ("-10", "cannot be negative"), ("10.555", "two decimal")]
    for typed, answer in refusals:
        await mentor.send(typed)
        await mentor.wait_for(answer)
    await mentor.send("1,500")
    await mentor.wait_for("Step 3 of 3")
    await mentor.send("45 minutes please")
    await mentor.wait_for("Choose one of the durations on the buttons")
    await mentor.press("45 min")
    created = await mentor.wait_for("Created as a draft")
    assert "<i>Mock</i> interview" in created.text and "₹1,500 · 45 min" in created.text
    assert "Set your weekly hours before going live." in created.text
    await mentor.press("🚀 Publish & Go Live")
    await api.wait_idle()
    assert api.callback_answers[-1].text == "Set your weekly availability first, so mentees have times to book."


async def test_restart_in_the_middle_of_booking_keeps_progress(api: FakeBotApi, runner: BotRunner) -> None:
    mentor = api.user(101, "Asha")
    mentee = api.user(202, "Ravi")
    async with runner.running():
        await become_mentor_with_offering(api, mentor)
        await onboard(api, mentee)
        await open_first_date(api, mentee)
        await mentee.press(mentee.last_keyboard_message().keyboard[0][0].text)
        await mentee.wait_for("Anything the mentor should know")
    # the bot process is gone; the mentee keeps typing, then the bot comes back
    await mentee.send("I would like feedback on my resume")
    async with runner.running():
        summary = await mentee.wait_for("Please check your booking")
        assert "Your notes: I would like feedback on my resume" in summary.text
        await mentee.press("✅ Confirm booking")
        await mentee.wait_for("Request sent")
        request = await mentor.wait_for("New booking request")
        assert "I would like feedback on my resume" in request.text


async def test_hindi_speaker_gets_hindi(api: FakeBotApi, bot) -> None:
    user = api.user(404, "Priya", language_code="hi")
    await user.send("/start")
    welcome = await user.wait_for(lambda m: "Mentor Desk" in m.text)
    assert "मेंटर" in welcome.text or "सत्र" in welcome.text, welcome.text


async def test_offering_paused_mid_booking_is_explained_with_what_is_open_now(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    mentee = api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor)
    await onboard(api, mentee)
    await open_first_date(api, mentee)
    await mentor.press("⏸ Pause")
    await mentor.wait_for("is now paused")
    await mentee.press(mentee.last_keyboard_message().keyboard[0][0].text)
    shown = await mentee.wait_for("This offering is not taking bookings right now.")
    assert "No offerings are open for booking yet" in shown.text
    await api.wait_idle()
    assert api.callback_answers[-1].text == "This offering is not taking bookings right now."


async def test_a_sender_that_cannot_be_loaded_gets_one_answer_and_the_update_goes_no_further(
    api: FakeBotApi, bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The database gives no connection in time (its pool exhausted under load): each update is answered once as
    failed and logged once; no handler runs on without its sender (which failed again before: a second error)."""
    mentee = api.user(202, "Ravi")
    await onboard(api, mentee)
    menu = mentee.last_keyboard_message()
    assert menu is not None
    original = SqlUserRepository.get

    async def no_connection(self: SqlUserRepository, user_id: int) -> object:
        raise SqlTimeoutError(
            "QueuePool limit of size 10 overflow 10 reached, connection timed out, timeout 30.00"
        )

    monkeypatch.setattr(SqlUserRepository, "get", no_connection)
    caplog.clear()
    shown = len(mentee.bot_messages())
    await mentee.send("/book")
    await api.wait_idle()
    query_id = await mentee.press_button(menu, menu.keyboard[0][0])
    await api.wait_idle()
    assert [m.text for m in mentee.bot_messages()[shown:]] == ["Something went wrong. Please try again."]
    pressed = api.callback_queries[query_id]
    assert [a.text for a in pressed.answers] == ["Something went wrong. Please try again."]
    assert pressed.answers[0].show_alert and pressed.rejected_answers == 0
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    failed = "could not load the sender of an update; it is answered as failed and goes no further"
    assert [r.getMessage() for r in errors] == [failed, failed]  # once for each update, nothing after it

    monkeypatch.setattr(SqlUserRepository, "get", original)  # the database is back: so is the bot
    await mentee.send("/book")
    await mentee.wait_for("No offerings are open for booking yet")
