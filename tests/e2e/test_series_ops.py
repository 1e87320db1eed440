"""A booked weekly series managed as a whole and week by week, through the real bot on SQLite and PostgreSQL: the
mentor declines a series request at once (the mentee told once, in their language); one week moves on its own,
by the mentee or on the mentor's proposal, keeping its place in the series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from telegram.ext import Application

from domain.model import BookingStatus
from domain.notifications import NotificationKind
from sandbox.botapi import FakeBotApi
from tests.e2e.flows import book_four_weeks, open_my_booking, series_of
from tests.e2e.flows import clock as wall

S = BookingStatus


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


async def test_the_mentor_declines_a_whole_series_and_the_mentee_is_told_once(
    api: FakeBotApi, bot: Application
) -> None:
    mentor, ravi = api.user(101, "Asha"), api.user(202, "Ravi")
    await book_four_weeks(api, mentor, ravi, "500", "Request sent for 4 weekly sessions.")
    request = await mentor.wait_for("New booking request", timeout=15)
    assert "✅ Confirm all weeks" in request.buttons and "❌ Decline all weeks" in request.buttons

    await mentor.press("❌ Decline all weeks", message=request)
    prompt = await mentor.wait_for("Why are you declining this weekly series?")
    assert prompt.text.count("· waiting for the mentor") == 4
    await mentor.send("I am <b>away</b> in December")
    done = await mentor.wait_for("Declined every week that was waiting for your answer.")
    assert done.text.count("· declined") == 4
    await api.wait_idle()
    booked = await series_of(bot, ravi.id)
    assert [b.status for b in booked] == [S.DECLINED] * 4
    assert {b.cancellation_reason for b in booked} == {"I am <b>away</b> in December"}

    notice = await ravi.wait_for("The mentor declined your weekly series", timeout=15)
    assert "Reason: I am <b>away</b> in December" in notice.text  # escaped: shown as typed
    assert notice.text.count("· declined") == 4 and "Week 4 of 4" in notice.text
    await api.wait_idle()
    declined = [m for m in ravi.bot_messages() if "declined" in (m.text or "") and "Reason" in (m.text or "")]
    assert len(declined) == 1  # once for the series, not once per week

    # the request's buttons are stale now: pressing Decline all again is refused and nothing changes
    query = await mentor.press("❌ Decline all weeks", message=request)
    await api.wait_idle()
    [answer] = api.callback_queries[query].answers
    assert answer.show_alert and answer.text
    assert [b.status for b in await series_of(bot, ravi.id)] == [S.DECLINED] * 4


async def series_bookings(bot: Application, booking_id: int) -> list:
    async with bot.bot_data["services"].uow_factory() as uow:
        return await uow.bookings.series_bookings(booking_id)


async def test_one_week_of_a_series_moves_on_its_own_and_keeps_its_place(
    api: FakeBotApi, bot: Application
) -> None:
    mentor, ravi = api.user(101, "Asha"), api.user(202, "Ravi")
    await book_four_weeks(api, mentor, ravi, "Free", "Booked! 4 weekly sessions are confirmed.")
    await mentor.wait_for("New booking", timeout=15)
    await api.wait_idle()
    before = await series_bookings(bot, 1)
    assert [(b.id, b.series_week) for b in before] == [(1, 1), (2, 2), (3, 3), (4, 4)]

    # the mentee moves week 2 (Thu 3 Dec) past week 3, to Fri 11 Dec, from its own card
    listing, card = await open_my_booking(ravi, 2, "🔁 Week 2 of 4")
    assert "🔁 Reschedule" in card.buttons and "(2 moves left)" in card.text
    await ravi.press("🔁 Reschedule", message=listing)
    dates = await ravi.wait_for(lambda m: "Moving your session" in m.text and "Choose a date." in m.text)
    assert "🔁 Week 2 of 4 of a weekly series: only this week moves." in dates.text
    for _week in range(2):
        await ravi.press("Later week ▶", message=listing)
        await api.wait_idle()
    await ravi.press(lambda label: label.startswith("Fri"), message=listing)
    await ravi.wait_for(lambda m: "Choose a time." in m.text and "Dec 11" in m.text)
    await ravi.press(wall("10:00 AM"), message=listing)
    summary = await ravi.wait_for("Move your session?")
    assert (
        "only this week moves. The other weeks keep their times, and this one stays week 2 of 4." in summary.text
    )
    assert wall("From: Thu, Dec 3, 9:00 AM") in summary.text and wall("To: Fri, Dec 11, 10:00 AM") in summary.text
    assert "It moves at once" in summary.text
    await ravi.press("✅ Confirm new time", message=listing)
    done = await ravi.wait_for(wall("Moved! Your session is now at Fri, Dec 11, 10:00 AM"))
    assert "🔁 Week 2 of 4" in done.text
    told = await mentor.wait_for("The mentee moved this session", timeout=15)
    assert "🔁 Week 2 of 4" in told.text and wall("Thu, Dec 3, 9:00 AM → Fri, Dec 11, 10:00 AM") in told.text
    await api.wait_idle()

    after = await series_bookings(bot, 1)
    assert [(b.id, b.series_week, b.series_weeks) for b in after] == [(1, 1, 4), (2, 2, 4), (3, 3, 4), (4, 4, 4)]
    assert [b.scheduled_at for b in after] == [
        before[0].scheduled_at, datetime(2026, 12, 11, 4, 30, tzinfo=UTC), before[2].scheduled_at,
        before[3].scheduled_at,
    ]  # fmt: skip
    assert after[1].reschedules == 1 and {b.reschedules for b in after[::2]} == {0}
    async with bot.bot_data["services"].uow_factory() as uow:
        reminders = [
            r for r in await uow.outbox.records(booking_id=2) if r.kind == NotificationKind.REMINDER.value
        ]
    assert {r.due_at for r in reminders if r.status == "pending" and r.recipient_id == ravi.id} == {
        after[1].scheduled_at - timedelta(hours=24),
        after[1].scheduled_at - timedelta(hours=1),
    }  # week 2's reminders follow it; the other weeks' stay

    # the mentor proposes new times for week 3 alone, from its card
    await mentor.send("/bookings")
    inbox = await mentor.wait_for("Your bookings")
    await mentor.press(lambda label: label.startswith("Upcoming"), message=inbox)
    await mentor.wait_for(lambda m: m.message_id == inbox.message_id and "Upcoming ·" in m.text)
    await mentor.press(lambda label: label.startswith("2. "), message=inbox)  # Thu 10 Dec: week 3
    week3 = await mentor.wait_for(lambda m: m.message_id == inbox.message_id and "Booking #3" in m.text)
    assert "🔁 Week 3 of 4" in week3.text and "🔁 Propose new times" in week3.buttons
    await mentor.press("🔁 Propose new times", message=inbox)
    proposing = await mentor.wait_for("Propose new times for booking #3")
    assert "🔁 Week 3 of 4 of a weekly series: only this week moves." in proposing.text
    await mentor.press(lambda label: label.startswith("Fri"), message=inbox)  # Fri 27 Nov
    await mentor.wait_for(lambda m: "Choose a time." in m.text and "Propose new times" in m.text)
    await mentor.press(wall("10:00 AM"), message=inbox)
    await mentor.wait_for(lambda m: "📨 Send 1 time ▶" in m.buttons)
    await mentor.press("📨 Send 1 time ▶", message=inbox)
    await mentor.wait_for("Add a message for the mentee")
    await mentor.press("📨 Send without a message")
    await mentor.wait_for(wall("You proposed Fri, Nov 27, 10:00 AM"))
    offer = await ravi.wait_for("proposes new times", timeout=15)
    assert "🔁 Week 3 of 4" in offer.text
    await ravi.press(wall("Fri, Nov 27, 10:00 AM"), message=offer)
    await ravi.wait_for(wall("Moved! Your session is now at Fri, Nov 27, 10:00 AM"))
    await mentor.wait_for("The mentee took one of your proposed times", timeout=15)
    await api.wait_idle()
    final = await series_bookings(bot, 1)
    assert [(b.id, b.series_week) for b in final] == [(1, 1), (2, 2), (3, 3), (4, 4)]
    assert final[2].scheduled_at == datetime(2026, 11, 27, 4, 30, tzinfo=UTC) and final[2].status == S.CONFIRMED
    assert [b.scheduled_at for b in final[:2] + final[3:]] == [b.scheduled_at for b in after[:2] + after[3:]]
