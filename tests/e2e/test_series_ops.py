"""A booked weekly series managed as a whole and week by week, through the real bot on SQLite and PostgreSQL: the
mentor declines a series request at once (the mentee told once, in their language)."""

from __future__ import annotations

import pytest
from telegram.ext import Application

from domain.model import BookingStatus
from sandbox.botapi import FakeBotApi
from tests.e2e.flows import become_mentor_with_offering, onboard
from tests.e2e.test_weekly_series import repeat_four_weeks, series_of

S = BookingStatus


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


async def test_the_mentor_declines_a_whole_series_and_the_mentee_is_told_once(
    api: FakeBotApi, bot: Application
) -> None:
    mentor, ravi = api.user(101, "Asha"), api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor, "Weekly mentorship", "500", 60)
    await onboard(api, ravi)
    plan = await repeat_four_weeks(api, ravi)
    await ravi.press("✅ Book 4 weekly sessions", message=plan)
    await ravi.wait_for("Request sent for 4 weekly sessions.")
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
