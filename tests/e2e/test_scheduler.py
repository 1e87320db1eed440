"""The scheduler in Telegram: reminders, the mentee's answer, the after-session question, rating prompts and the
follow-up, expiry of unanswered requests, the daily agenda, and a restart with messages due - over HTTP, with the
fixed clock moved forward the way time would pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram.ext import Application

from bot.config import Settings
from domain.clock import FixedClock
from sandbox.botapi import FakeBotApi, FakeUser
from tests.e2e.conftest import BotRunner
from tests.e2e.flows import (
    LONDON,
    become_mentor_with_offering,
    onboard,
    open_first_date,
    pick_time_and_skip_notes,
)
from tests.e2e.flows import (
    clock as clock_label,
)

# The mentor works Mon-Fri 9-12 in Kolkata; "now" is Tue 06:00 UTC, so the first free start is Wed 25 Nov
# 11:30 IST = 06:00 UTC (24 h notice). Reminders here: 20 h and 1 h before (configured, not the default).
SESSION = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
LEADS = (timedelta(hours=20), timedelta(hours=1))


class ScheduledRunner(BotRunner):
    def settings(self, **changes: Any) -> Settings:
        return super().settings(**changes).replace(reminder_leads=LEADS)


@pytest.fixture
def runner(api: FakeBotApi, database_url: str, clock: FixedClock) -> BotRunner:
    return ScheduledRunner(api, database_url, clock)


async def at(api: FakeBotApi, app: Application, clock: FixedClock, moment: datetime) -> None:
    """Let time pass until ``moment`` and let the dispatcher send whatever fell due."""
    clock.current = moment
    await app.bot_data["dispatcher"].run_until_idle()
    await api.wait_idle()


async def book_first_slot(
    api: FakeBotApi, mentor: FakeUser, mentee: FakeUser, price: str, cutoff_hours: str | None = None
) -> None:
    await become_mentor_with_offering(api, mentor, "Resume Review 1:1", price, 30)
    if cutoff_hours is not None:  # the offering's screen: Edit → Cancellation cut-off → typed hours
        await mentor.press("✏️ Edit")
        await mentor.wait_for("tap what you want to change")
        await mentor.press("✏️ Cancellation cut-off")
        await mentor.wait_for("Now:")
        await mentor.send(cutoff_hours)
        await mentor.wait_for("✅ Saved: Cancellation cut-off.")
    await onboard(api, mentee, LONDON)
    await open_first_date(api, mentee)
    await pick_time_and_skip_notes(api, mentee)
    await mentee.press("✅ Confirm booking")
    await mentee.wait_for("Booked!" if price == "Free" else "Request sent")
    await api.wait_idle()


def answer_to(api: FakeBotApi, query_id: str):
    [answer] = [a for a in api.callback_answers if a.query_id == query_id]
    return answer


def texts(user: FakeUser, needle: str) -> list[str]:
    return [m.text for m in user.bot_messages() if needle in m.text]


async def test_a_confirmed_session_from_reminders_to_rating(api: FakeBotApi, bot: Application, clock) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await book_first_slot(api, mentor, mentee, "Free")
    await mentor.wait_for("🔔 New booking")  # through the outbox, at once

    await at(api, bot, clock, SESSION - timedelta(hours=20))
    reminder = await mentee.wait_for("starts in 20 hours")
    assert clock_label("Wed, Nov 25, 6:00 AM") in reminder.text
    assert reminder.buttons == ["👍 I'll be there"]  # past the default 24 h cut-off: no "Can't make it"
    assert "starts in 20 hours" in (await mentor.wait_for("⏰ Reminder")).text
    query = await mentee.press("👍 I'll be there", message=reminder)
    await api.wait_idle()
    assert answer_to(api, query).text == "Great, see you there!"

    # 08:00 in Kolkata on the session's day: the mentor's agenda
    await at(api, bot, clock, datetime(2026, 11, 25, 2, 30, tzinfo=UTC))
    agenda = await mentor.wait_for("Your sessions today")
    assert clock_label("11:30 AM — Resume Review 1:1 with Ravi") in agenda.text

    await at(api, bot, clock, SESSION - timedelta(hours=1))
    assert "There is no meeting link yet" in (await mentor.wait_for("starts in 1 hour")).text
    last_hour = await mentee.wait_for("starts in 1 hour")
    assert last_hour.buttons == []  # only the day-before reminder asks; no link yet, so no Join

    await at(api, bot, clock, SESSION + timedelta(minutes=30))
    question = await mentor.wait_for("How did <b>Resume Review 1:1</b>".replace("<b>", "").replace("</b>", ""))
    assert "✔️ Mark completed" in question.buttons and "🙈 Mark no-show" in question.buttons
    await mentor.press("✔️ Mark completed", message=question)
    await api.wait_idle()  # completed at SESSION + 30 min
    await at(api, bot, clock, SESSION + timedelta(minutes=31))
    prompt = await mentee.wait_for("Tap the stars to rate it")
    assert prompt.buttons == ["⭐", "⭐⭐", "⭐⭐⭐", "⭐⭐⭐⭐", "⭐⭐⭐⭐⭐"]
    one_star = prompt.keyboard[0][0].data
    await mentee.press("⭐⭐⭐⭐⭐", message=prompt)
    await mentee.wait_for("Thank you! You rated")
    await mentee.send("Very helpful <b>really</b>")
    await mentee.wait_for("Thank you for your feedback!")
    # the prompt now shows the thanks; an old star button pressed again (its data replayed) is refused
    query = await mentee.press_data(prompt, one_star)
    await api.wait_idle()
    assert answer_to(api, query).text == "You have already rated this session. Thank you!"

    # rated: no follow-up a day later; the offering's average moved
    await at(api, bot, clock, SESSION + timedelta(days=2))
    assert texts(mentee, "A quick reminder") == []
    await mentor.send("/offerings")
    listing = await mentor.wait_for("Your offerings")
    assert "★ 5.0" in listing.text
    # every message went out once
    assert len(texts(mentee, "starts in 20 hours")) == len(texts(mentor, "starts in 20 hours")) == 1
    assert len(texts(mentor, "Your sessions today")) == 1


async def test_cant_make_it_cancels_and_the_remaining_reminders_are_withdrawn(
    api: FakeBotApi, bot: Application, clock
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await book_first_slot(api, mentor, mentee, "Free", cutoff_hours="12")
    await at(api, bot, clock, SESSION - timedelta(hours=20))
    reminder = await mentee.wait_for("starts in 20 hours")
    await mentee.press("🙁 Can't make it", message=reminder)
    await mentee.wait_for("Type a short reason for the mentor")
    await mentee.send("Exam moved")
    await mentee.wait_for("Your booking is cancelled")
    await at(api, bot, clock, SESSION - timedelta(hours=20) + timedelta(minutes=1))
    told = await mentor.wait_for("The mentee cancelled this booking")
    assert "Reason: Exam moved" in told.text

    await at(api, bot, clock, SESSION + timedelta(hours=2))
    assert texts(mentee, "starts in 1 hour") == texts(mentor, "starts in 1 hour") == []
    assert texts(mentor, "How did") == [] and texts(mentor, "Your sessions today") == []


async def test_the_cut_off_stops_a_late_cancellation(api: FakeBotApi, bot: Application, clock) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await book_first_slot(api, mentor, mentee, "Free", cutoff_hours="12")
    await at(api, bot, clock, SESSION - timedelta(hours=20))
    reminder = await mentee.wait_for("starts in 20 hours")
    clock.current = SESSION - timedelta(hours=2)  # the button was sent in time, pressed after the 12 h cut-off
    query = await mentee.press("🙁 Can't make it", message=reminder)
    await api.wait_idle()
    answer = answer_to(api, query)
    assert answer.show_alert and "too late to cancel" in answer.text and "12 hours" in answer.text
    assert texts(mentor, "cancelled") == []


async def test_past_the_cut_off_the_reminder_does_not_offer_to_cancel(
    api: FakeBotApi, bot: Application, clock
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await book_first_slot(api, mentor, mentee, "Free")  # the default cut-off: 24 h before the start
    await at(api, bot, clock, SESSION - timedelta(hours=20))
    reminder = await mentee.wait_for("starts in 20 hours")
    assert reminder.buttons == ["👍 I'll be there"]
    assert "The cancellation cut-off has passed" in reminder.text


async def test_an_unanswered_request_expires_and_both_are_told(api: FakeBotApi, bot: Application, clock) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await book_first_slot(api, mentor, mentee, "500")
    await mentor.wait_for("🔔 New booking request")
    await at(api, bot, clock, SESSION - timedelta(minutes=1))
    assert texts(mentee, "expired") == []
    # expiry: 48 h after the request or at the start, whichever is earlier (here the start, 24 h later)
    await at(api, bot, clock, SESSION)
    await mentee.wait_for("your request expired")
    await mentor.wait_for("This request expired")
    assert texts(mentee, "starts in") == []  # a pending request gets no reminders


async def test_an_unrated_session_gets_one_follow_up(api: FakeBotApi, bot: Application, clock) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await book_first_slot(api, mentor, mentee, "Free")
    await at(api, bot, clock, SESSION + timedelta(minutes=30))
    question = await mentor.wait_for("How did")
    await mentor.press("✔️ Mark completed", message=question)
    await api.wait_idle()  # completed at SESSION + 30 min
    await at(api, bot, clock, SESSION + timedelta(minutes=31))
    await mentee.wait_for("Tap the stars to rate it")
    await at(api, bot, clock, SESSION + timedelta(hours=24, minutes=30))
    follow_up = await mentee.wait_for("A quick reminder")
    assert follow_up.buttons[-1] == "⭐⭐⭐⭐⭐"
    await at(api, bot, clock, SESSION + timedelta(days=5))
    assert len(texts(mentee, "A quick reminder")) == 1


async def test_a_mentor_can_turn_the_agenda_off(api: FakeBotApi, bot: Application, clock) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await book_first_slot(api, mentor, mentee, "Free")
    await mentor.send("/settings")
    screen = await mentor.wait_for("Daily agenda at 08:00: on")
    await mentor.press("🔕 Turn the daily agenda off", message=screen)
    await mentor.wait_for(lambda m: m.message_id == screen.message_id and "Daily agenda at 08:00: off" in m.text)
    await at(api, bot, clock, datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    assert texts(mentor, "Your sessions today") == []
    # mentees have no agenda setting
    await mentee.send("/settings")
    assert "Daily agenda" not in (await mentee.wait_for("Settings")).text


async def test_messages_due_while_the_bot_was_down_go_out_once_after_a_restart(
    api: FakeBotApi, runner: BotRunner, clock: FixedClock
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    async with runner.running():
        await book_first_slot(api, mentor, mentee, "Free")
    clock.current = SESSION - timedelta(minutes=30)  # both reminders and the agenda fell due while it was down
    async with runner.running() as app:
        await app.bot_data["dispatcher"].run_until_idle()
        await api.wait_idle()
    async with runner.running() as app:  # and a second restart sends nothing again
        await app.bot_data["dispatcher"].run_until_idle()
        await api.wait_idle()
    for user in (mentor, mentee):
        assert len(texts(user, "starts in 20 hours")) == 1, user.transcript()
        assert len(texts(user, "starts in 1 hour")) == 1, user.transcript()
    assert len(texts(mentor, "Your sessions today")) == 1


async def test_reminders_carry_the_join_button_once_there_is_a_link(
    api: FakeBotApi, bot: Application, clock
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await book_first_slot(api, mentor, mentee, "Free")
    booked = await mentor.wait_for("🔔 New booking")
    await mentor.press("🔗 Add meeting link", message=booked)
    await mentor.wait_for("Send the meeting link")
    await mentor.send("https://meet.example.com/asha-ravi")
    await mentor.wait_for("Link saved")
    told = await mentee.wait_for("The mentor added a meeting link")
    assert "🎥 Join" in told.buttons
    await at(api, bot, clock, SESSION - timedelta(hours=1))
    reminder = await mentee.wait_for("starts in 1 hour")
    join = reminder.button("🎥 Join")
    assert join.raw["url"] == "https://meet.example.com/asha-ravi"
    assert "There is no meeting link yet" not in (await mentor.wait_for("starts in 1 hour")).text
