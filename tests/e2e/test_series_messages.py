"""How many messages a weekly series and a group session send, through the real bot on SQLite and PostgreSQL: a
series confirmed, cancelled or run out as a whole tells each person once (every week listed, on both clocks when
the zones differ), and a group session asks its mentor once after it ends, with a pair of buttons per attendee,
while each attendee still gets their own rating prompt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from telegram.ext import Application

from domain.clock import FixedClock
from domain.model import BookingStatus
from domain.usecases.inbox import mark_session
from sandbox.botapi import ChatMessage, FakeBotApi, FakeUser
from tests.e2e.conftest import BotRunner
from tests.e2e.flows import (
    LONDON,
    become_mentor_with_offering,
    book_four_weeks,
    book_seats,
    onboard,
    open_times,
    series_of,
    set_seats,
)
from tests.e2e.flows import clock as wall
from tests.e2e.test_scheduler import at

S = BookingStatus
FIRST_WEEK = datetime(2026, 11, 26, 3, 30, tzinfo=UTC)  # Thursday 9:00 in Kolkata, 3:30 in London


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


def said(user: FakeUser, words: str) -> list[ChatMessage]:
    return [m for m in user.bot_messages() if words in (m.text or "")]


async def request_four_weeks_from_london(api: FakeBotApi, mentor: FakeUser, ravi: FakeUser) -> ChatMessage:
    """Ravi (London) asks for four weeks of Asha's paid weekly mentorship (Kolkata); the mentor's request."""
    await become_mentor_with_offering(api, mentor, "Weekly mentorship", "500", 60)
    await onboard(api, ravi, LONDON)
    await open_times(api, ravi, "mentorship")
    await ravi.press(wall("3:30 AM (9:00 AM)"))  # 9:00 in Kolkata
    await ravi.wait_for("Anything the mentor should know")
    await ravi.press("Skip ▶")
    await ravi.wait_for("Please check your booking")
    await ravi.press("🔁 Repeat weekly")
    await ravi.wait_for("How many weeks in all?")
    await ravi.press("4")
    plan = await ravi.wait_for(lambda m: "weeks:" in (m.text or "") and "Week 4" in (m.text or ""))
    await ravi.press("✅ Book 4 weekly sessions", message=plan)
    await ravi.wait_for("Request sent for 4 weekly sessions.")
    return await mentor.wait_for("New booking request", timeout=15)


async def test_confirm_all_weeks_tells_the_mentee_once_on_both_clocks(api: FakeBotApi, bot: Application) -> None:
    mentor, ravi = api.user(101, "Asha"), api.user(202, "Ravi")
    request = await request_four_weeks_from_london(api, mentor, ravi)
    await mentor.press("✅ Confirm all weeks", message=request)
    await mentor.wait_for("Confirmed every week. The mentee has been told.")
    told = await ravi.wait_for("Asha confirmed your weekly series", timeout=15)
    await api.wait_idle()
    assert told.text.count("· confirmed") == 4
    # the mentee's clock, and the mentor's beside it (their zones differ)
    assert wall("Week 1 of 4: Thu, Nov 26, 3:30 AM (9:00 AM for mentor) · confirmed") in told.text
    assert wall("Week 4 of 4: Thu, Dec 17, 3:30 AM (9:00 AM for mentor) · confirmed") in told.text
    assert "🎟 My bookings" in told.buttons
    assert said(ravi, "confirmed your weekly series") == [told]
    assert said(ravi, "Your booking is confirmed") == []  # not once per week

    # the request's button is stale now: a second press is refused with an alert and tells nobody again
    query = await mentor.press("✅ Confirm all weeks", message=request)
    await api.wait_idle()
    [answer] = api.callback_queries[query].answers
    assert answer.show_alert and answer.text
    assert said(ravi, "confirmed your weekly series") == [told]
    assert [b.status for b in await series_of(bot, ravi.id)] == [S.CONFIRMED] * 4


async def test_the_mentor_cancels_all_future_weeks_and_the_mentee_is_told_once(
    api: FakeBotApi, bot: Application
) -> None:
    mentor, ravi = api.user(101, "Asha"), api.user(202, "Ravi")
    await book_four_weeks(api, mentor, ravi, "Free", "Booked! 4 weekly sessions are confirmed.")
    news = await mentor.wait_for("New booking", timeout=15)
    await mentor.press("🚫 Cancel all future weeks", message=news)
    await mentor.wait_for("Why are you cancelling all future weeks of this series?")
    await mentor.send("A <i>conference</i> & travel")
    await mentor.wait_for("Cancelled every future week of the series.")
    told = await ravi.wait_for("Asha cancelled every future week of your weekly series", timeout=15)
    await api.wait_idle()
    assert "Reason: A <i>conference</i> & travel" in told.text  # escaped: shown as typed
    assert told.text.count("· cancelled") == 4 and "Week 4 of 4" in told.text
    assert said(ravi, "Reason: A <i>conference</i>") == [told]  # once, not once per week
    assert said(ravi, "The mentor cancelled your booking") == []
    assert [b.status for b in await series_of(bot, ravi.id)] == [S.CANCELLED] * 4
    assert said(mentor, "cancelled every future week") == []  # the one who cancelled is not told again


async def test_an_unanswered_series_request_runs_out_once_for_each_person(
    api: FakeBotApi, bot: Application, clock: FixedClock
) -> None:
    mentor, ravi = api.user(101, "Asha"), api.user(202, "Ravi")
    await request_four_weeks_from_london(api, mentor, ravi)
    await api.wait_idle()
    await at(api, bot, clock, FIRST_WEEK)  # the first week's request runs out at its start: the series with it
    assert [b.status for b in await series_of(bot, ravi.id)] == [S.EXPIRED] * 4
    [mentee_told] = said(ravi, "did not answer your weekly series request in time")
    [mentor_told] = said(mentor, "The weekly series request from Ravi expired")
    assert mentee_told.text.count("· expired") == 4
    assert wall("Week 2 of 4: Thu, Dec 3, 3:30 AM (9:00 AM for mentor) · expired") in mentee_told.text
    assert wall("Week 2 of 4: Thu, Dec 3, 9:00 AM (3:30 AM for mentee) · expired") in mentor_told.text
    assert "📥 Bookings" in mentor_told.buttons
    assert said(ravi, "your request expired") == [] and said(mentor, "This request expired") == []
    await at(api, bot, clock, FIRST_WEEK + timedelta(days=2))  # when the later weeks would have run out
    assert len(said(ravi, "expired")) == 1 and len(said(mentor, "expired")) == 1


async def test_a_group_session_asks_its_mentor_once_with_a_pair_of_buttons_per_attendee(
    api: FakeBotApi, bot: Application, clock: FixedClock
) -> None:
    mentor = api.user(101, "Asha")
    await become_mentor_with_offering(api, mentor, "Mock interview cohort", "Free", 60)
    await set_seats(api, mentor, "5")
    ravi, kiran, dev = (api.user(200 + n, name) for n, name in enumerate(["Ravi", "Kiran", "Dev"]))
    for mentee in (ravi, kiran, dev):
        await onboard(api, mentee)
    await book_seats(api, [ravi, kiran, dev], 5)

    await at(api, bot, clock, FIRST_WEEK + timedelta(minutes=60))  # the session ends
    [asked] = said(mentor, "has ended. Who came?")  # once for the session, not once per attendee
    assert said(mentor, "How did") == []
    assert "Mock interview cohort" in asked.text and wall("(9:00 AM)") in asked.text
    assert "1. Ravi" in asked.text and "2. Kiran" in asked.text and "3. Dev" in asked.text
    for number in (1, 2, 3):
        assert f"✔️ {number} came" in asked.buttons and f"🙈 {number} no-show" in asked.buttons

    # Dev was marked from his own card meanwhile: that pair of buttons is stale, refused with an alert
    async with bot.bot_data["services"].uow_factory() as uow:
        [devs] = await uow.bookings.list_for_mentee(dev.id, [S.CONFIRMED], 5)
        await mark_session(uow, clock, mentor.id, devs.id or 0, S.COMPLETED)
        await uow.commit()
    await api.wait_idle()
    query = await mentor.press("🙈 3 no-show", message=asked)
    await api.wait_idle()
    [answer] = api.callback_queries[query].answers
    assert answer.show_alert and answer.text

    await mentor.press("✔️ 1 came", message=asked)  # the question becomes the roster, Ravi marked
    roster = await mentor.wait_for(lambda m: m.message_id == asked.message_id and "✔️ 1 came" not in m.buttons)
    assert "🙈 2 no-show" in roster.buttons
    await mentor.press("🙈 2 no-show", message=asked)
    await mentor.wait_for(lambda m: m.message_id == asked.message_id and "🙈 2 no-show" not in m.buttons)
    await api.wait_idle()
    # each attendee who came gets their own rating prompt, once; the one who did not, none
    assert len(said(ravi, "Tap the stars to rate it")) == 1 and len(said(dev, "Tap the stars to rate it")) == 1
    assert said(kiran, "Tap the stars to rate it") == []
    sent = len(mentor.bot_messages())
    await at(api, bot, clock, FIRST_WEEK + timedelta(hours=3))
    assert len(mentor.bot_messages()) == sent  # asked once, never again


async def test_a_group_sessions_question_planned_before_a_restart_is_asked_once_after_it(
    api: FakeBotApi, runner: BotRunner, clock: FixedClock
) -> None:
    mentor = api.user(101, "Asha")
    ravi, kiran = api.user(201, "Ravi"), api.user(202, "Kiran")
    async with runner.running():
        await become_mentor_with_offering(api, mentor, "Mock interview cohort", "Free", 60)
        await set_seats(api, mentor, "5")
        for mentee in (ravi, kiran):
            await onboard(api, mentee)
        await book_seats(api, [ravi, kiran], 5)
    async with runner.running() as again:  # a new process on the same database
        await at(api, again, clock, FIRST_WEEK + timedelta(minutes=60))
        [asked] = said(mentor, "has ended. Who came?")
        assert "1. Ravi" in asked.text and "2. Kiran" in asked.text
        await mentor.press("✔️ 2 came", message=asked)
        await kiran.wait_for("Tap the stars to rate it", timeout=15)
        await at(api, again, clock, FIRST_WEEK + timedelta(hours=3))
    assert said(mentor, "How did") == [] and len(said(kiran, "Tap the stars to rate it")) == 1
    assert said(ravi, "Tap the stars to rate it") == []  # not marked yet
