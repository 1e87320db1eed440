"""The mentor's reminders of a group session through the real bot, on SQLite and PostgreSQL: one reminder per
session and lead listing the attendees (the seats taken), each attendee still reminded on their own; a session
whose attendees all cancelled reminds nobody; a 1:1 session's reminder is the booking's card, as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from telegram.ext import Application

from domain.clock import FixedClock
from domain.model import BookingStatus
from domain.notifications import NotificationKind
from domain.usecases.booking import change_status
from sandbox.botapi import FakeBotApi, FakeUser
from tests.e2e.flows import become_mentor_with_offering, book_time, onboard, open_times, set_seats
from tests.e2e.flows import clock as wall
from tests.e2e.test_scheduler import at

SESSION = datetime(2026, 11, 26, 3, 30, tzinfo=UTC)  # Thursday 9:00 in Kolkata


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


def reminders(user: FakeUser) -> list[str]:
    return [m.text for m in user.bot_messages() if "⏰ Reminder" in (m.text or "")]


async def cancel_first_booking(api: FakeBotApi, mentee: FakeUser) -> None:
    await mentee.send("/mybookings")
    listing = await mentee.wait_for("My bookings")
    await mentee.press(lambda label: label.startswith("1. "), message=listing)
    await mentee.wait_for(lambda m: m.message_id == listing.message_id and "❌ Cancel booking" in m.buttons)
    await mentee.press("❌ Cancel booking", message=listing)
    await mentee.wait_for("reason")
    await mentee.send("Something came up")
    await mentee.wait_for("Your booking is cancelled.")
    await api.wait_idle()


async def test_a_group_session_reminds_its_mentor_once_with_the_attendees(
    api: FakeBotApi, bot: Application, clock: FixedClock
) -> None:
    mentor = api.user(101, "Asha")
    await become_mentor_with_offering(api, mentor, "Mock interview cohort", "Free", 60)
    await set_seats(api, mentor, "5")
    ravi, meena, kiran, dev = (api.user(200 + n, name) for n, name in enumerate(["Ravi", "Meena", "Kiran", "Dev"]))
    for mentee in (ravi, meena, kiran, dev):
        await onboard(api, mentee)
    for left, mentee in zip((5, 4, 3, 2), (ravi, meena, kiran, dev), strict=True):
        await open_times(api, mentee, "cohort")
        await book_time(api, mentee, wall(f"9:00 AM · {left} left"))
    await cancel_first_booking(api, meena)  # three attendees stay
    # Dev also books 11:00 alone (cancelled later: then nobody attends that session)
    await open_times(api, dev, "cohort")
    await book_time(api, dev, wall("11:00 AM · 5 left"))
    async with bot.bot_data["services"].uow_factory() as uow:
        records = await uow.outbox.records()
    sessions = [r for r in records if r.kind == NotificationKind.SESSION_REMINDER.value and r.status == "pending"]
    assert {r.key for r in sessions} == {
        f"session_reminder:{mentor.id}:{start}:{lead}"
        for start in ("202611260330", "202611260530")
        for lead in (60, 1440)
    }  # one per session and lead: four attendees (one gone) at 9:00, one at 11:00
    mentee_reminders = [r for r in records if r.kind == NotificationKind.REMINDER.value and r.status == "pending"]
    assert mentor.id not in {r.recipient_id for r in mentee_reminders}

    await at(api, bot, clock, SESSION - timedelta(hours=24))
    told = await mentor.wait_for("⏰ Reminder")
    await api.wait_idle()
    assert len(reminders(mentor)) == 1  # one for the session, not one per attendee
    assert "Mock interview cohort" in told.text and "starts in 24 hours" in told.text
    assert "👥 3 of 5 seats taken:" in told.text
    assert (
        "1. Ravi" in told.text and "2. Kiran" in told.text and "3. Dev" in told.text and "Meena" not in told.text
    )
    assert told.buttons == ["👥 Session roster"]
    for mentee in (ravi, kiran, dev):
        assert len(reminders(mentee)) == 1 and "starts in 24 hours" in reminders(mentee)[0]
    assert reminders(meena) == []
    await mentor.press("👥 Session roster", message=told)  # the reminder becomes the roster
    roster = await mentor.wait_for(lambda m: m.message_id == told.message_id and "Kiran" in m.text)
    assert "Ravi" in roster.text and "Dev" in roster.text

    # the 11:00 session loses its only attendee before its first reminder: the mentor's reminders of it go
    async with bot.bot_data["services"].uow_factory() as uow:
        mine = await uow.bookings.list_for_mentee(dev.id, [BookingStatus.CONFIRMED], 10)
    [later] = [b for b in mine if b.scheduled_at != SESSION]
    async with bot.bot_data["services"].uow_factory() as uow:
        await change_status(uow, clock, dev.id, later.id or 0, BookingStatus.CANCELLED, "double booked")
        await uow.commit()
    async with bot.bot_data["services"].uow_factory() as uow:
        records = await uow.outbox.records()
    pending = {
        r.key for r in records if r.kind == NotificationKind.SESSION_REMINDER.value and r.status == "pending"
    }
    assert pending == {f"session_reminder:{mentor.id}:202611260330:60"}  # 9:00's last one; none for 11:00

    await at(api, bot, clock, SESSION - timedelta(hours=1))
    last = await mentor.wait_for(lambda m: "starts in 1 hour" in (m.text or ""))
    assert "👥 3 of 5 seats taken:" in last.text
    assert "There is no meeting link yet: add one for everyone from the roster." in last.text
    await at(api, bot, clock, later.scheduled_at)
    assert reminders(mentor) == [last.text]  # the 24-hour one became the roster; nothing for 11:00
    assert [m for m in dev.bot_messages() if "11:00" in (m.text or "") and "⏰" in (m.text or "")] == []
