"""Weekly series end to end: after choosing a time the mentee repeats it weekly, sees which weeks are free, books
the free ones as one series; cards say "week N of M"; one occurrence is cancelled, then all future ones; a paid
series is confirmed by the mentor at once."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram.ext import Application

from domain.clock import FixedClock
from domain.model import BookingStatus
from domain.notifications import NotificationKind
from domain.usecases.booking import BookingRequest, book_slot
from sandbox.botapi import FakeBotApi
from tests.e2e.flows import (
    become_mentor_with_offering,
    book_four_weeks,
    onboard,
    open_my_booking,
    repeat_four_weeks,
    series_of,
)
from tests.e2e.flows import clock as wall

S = BookingStatus


async def test_a_series_with_a_busy_week_then_one_week_and_all_future_weeks_cancelled(
    api: FakeBotApi, bot: Application, clock: FixedClock
) -> None:
    mentor, ravi, dev = api.user(101, "Asha"), api.user(202, "Ravi"), api.user(303, "Dev")
    await become_mentor_with_offering(api, mentor, "Weekly mentorship", "Free", 60)
    await onboard(api, ravi)
    await onboard(api, dev)
    async with bot.bot_data["services"].uow_factory() as uow:  # Dev holds Thursday 10 Dec, 9:00 Kolkata
        await book_slot(uow, clock, BookingRequest(1, dev.id, datetime(2026, 12, 10, 3, 30, tzinfo=UTC)))
        await uow.commit()

    plan = await repeat_four_weeks(api, ravi)
    text = plan.text
    assert wall("Week 1: Thu, Nov 26, 9:00 AM ✅ free") in text
    assert wall("Week 2: Thu, Dec 3, 9:00 AM ✅ free") in text
    assert wall("Week 3: Thu, Dec 10, 9:00 AM ❌ not free") in text
    assert wall("Week 4: Thu, Dec 17, 9:00 AM ✅ free") in text
    assert "3 weeks are free" in text
    await ravi.press("✅ Book 3 weekly sessions", message=plan)
    done = await ravi.wait_for("Booked! 3 weekly sessions are confirmed.")
    assert wall("🔁 Week 3 of 3: Thu, Dec 17, 9:00 AM") in done.text
    await api.wait_idle()

    booked = await series_of(bot, ravi.id)
    assert [(b.series_week, b.series_weeks, b.status) for b in booked] == [(1, 3, S.CONFIRMED)] * 1 + [
        (2, 3, S.CONFIRMED), (3, 3, S.CONFIRMED)
    ]  # fmt: skip
    assert len({b.series_id for b in booked}) == 1 and booked[0].series_id == booked[0].id
    # the mentor hears of the series once; every week has its own reminders
    await mentor.wait_for(lambda m: "New booking" in (m.text or "") and "Ravi" in (m.text or ""), timeout=15)
    await api.wait_idle()  # nothing more arrives: the later weeks send no request of their own
    news = [m for m in mentor.bot_messages() if "New booking" in (m.text or "") and "Ravi" in (m.text or "")]
    assert len(news) == 1 and "🔁 Week 1 of 3" in news[0].text
    async with bot.bot_data["services"].uow_factory() as uow:
        records = await uow.outbox.records()
    reminders = [r for r in records if r.kind == NotificationKind.REMINDER.value]
    ours = {b.id for b in booked}
    requests = [r for r in records if r.kind == NotificationKind.NEW_BOOKING.value and r.booking_id in ours]
    assert [r.booking_id for r in requests] == [booked[0].id]
    assert {r.booking_id for r in reminders if r.recipient_id == ravi.id} == {b.id for b in booked}

    # cancel one occurrence (week 2) on its own card
    listing, card = await open_my_booking(ravi, 2, "🔁 Week 2 of 3")
    assert "❌ Cancel booking" in card.buttons and "🚫 Cancel all future weeks" in card.buttons
    await ravi.press("❌ Cancel booking", message=listing)
    await ravi.wait_for("reason")
    await ravi.send("Travelling that week")
    await ravi.wait_for("Your booking is cancelled.")
    await api.wait_idle()
    assert [b.status for b in await series_of(bot, ravi.id)] == [S.CONFIRMED, S.CANCELLED, S.CONFIRMED]

    # then all future weeks at once, from week 1's card
    listing, _card = await open_my_booking(ravi, 1, "🔁 Week 1 of 3")
    await ravi.press("🚫 Cancel all future weeks", message=listing)
    await ravi.wait_for("Why are you cancelling all future weeks of this series?")
    await ravi.send("Found a full-time job")
    over = await ravi.wait_for("Cancelled every future week of the series.")
    assert over.text.count("· cancelled") == 3
    await api.wait_idle()
    assert [b.status for b in await series_of(bot, ravi.id)] == [S.CANCELLED] * 3

    def told() -> list:
        return [m for m in mentor.bot_messages() if "Found a full-time job" in (m.text or "")]

    await api.wait_until(lambda: len(told()) >= 1, 15, lambda: f"the mentor was told {len(told())} times")
    await api.wait_idle()
    [notice] = told()  # once for weeks 1 and 3 (week 2 was cancelled before), not once per week
    assert "Ravi cancelled every future week of the weekly series" in notice.text
    assert notice.text.count("· cancelled") == 3 and "Week 3 of 3" in notice.text
    assert [m for m in mentor.bot_messages() if "The mentee cancelled this booking" in (m.text or "")] == [
        m for m in mentor.bot_messages() if "Travelling that week" in (m.text or "")
    ]  # only week 2's own cancellation came as a booking's message
    async with bot.bot_data["services"].uow_factory() as uow:
        offering = await uow.offerings.get(1)
    assert offering is not None and offering.total_bookings == 4  # Dev's and Ravi's three


async def test_a_paid_series_is_one_request_the_mentor_confirms_at_once(api: FakeBotApi, bot: Application) -> None:
    mentor, ravi = api.user(101, "Asha"), api.user(202, "Ravi")
    await book_four_weeks(
        api, mentor, ravi, "500", "Request sent for 4 weekly sessions. The mentor confirms the series"
    )
    request = await mentor.wait_for("New booking request", timeout=15)  # sent by the dispatcher
    assert "🔁 Week 1 of 4" in request.text
    assert "✅ Confirm all weeks" in request.buttons and "🚫 Cancel all future weeks" in request.buttons
    await api.wait_idle()
    assert len([m for m in mentor.bot_messages() if "New booking request" in (m.text or "")]) == 1

    await mentor.press("✅ Confirm all weeks", message=request)
    confirmed = await mentor.wait_for("Confirmed every week. The mentee has been told.")
    assert confirmed.text.count("· confirmed") == 4
    await api.wait_idle()
    assert [b.status for b in await series_of(bot, ravi.id)] == [S.CONFIRMED] * 4

    told = await ravi.wait_for("Asha confirmed your weekly series", timeout=15)
    await api.wait_idle()
    assert told.text.count("· confirmed") == 4 and "Week 4 of 4" in told.text  # every week, each with its time
    assert [m for m in ravi.bot_messages() if "confirmed" in (m.text or "").lower()] == [
        told
    ]  # once, not per week
