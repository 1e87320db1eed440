"""Steps and facts the payment end-to-end modules share: the session's time, the hold, the test provider's token
and the operator's chat, letting time pass, the mentor's paid offering and UPI ID, the ledger and the bookings as
stored, Mark all refunded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from telegram.ext import Application

from domain.clock import FixedClock
from domain.model import BookingStatus
from sandbox.botapi import ChatMessage, FakeBotApi, FakeUser
from storage.engine import create_engine
from storage.uow import SqlUnitOfWork
from tests.e2e.conftest import BotRunner
from tests.e2e.flows import KOLKATA, onboard, set_hours

TOKEN = "284685063:TEST:sandbox-provider"
OPERATOR = 909  # the operator's chat: a person here, as the test server only has private chats
SESSION = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
HOLD = timedelta(minutes=15)
NOT_AWAITING = "This booking no longer waits for a payment (it is paid, cancelled or expired)."


async def at(api: FakeBotApi, app: Application, clock: FixedClock, moment: datetime) -> None:
    """Let time pass until ``moment`` and let the dispatcher do whatever fell due."""
    clock.current = moment
    await app.bot_data["dispatcher"].run_until_idle()
    await api.wait_idle()


async def settle(api: FakeBotApi, app: Application) -> None:
    """Let the dispatcher send (and refund) what is due now."""
    await app.bot_data["dispatcher"].run_until_idle()
    await api.wait_idle()


async def mark_all_refunded(api: FakeBotApi, app: Application, mentor: FakeUser, message: ChatMessage) -> None:
    """The mentor presses Mark all refunded on a series' refund message; its button goes, the payer is told."""
    await mentor.press("↩️ Mark all refunded", message=message)
    await mentor.wait_for(lambda m: m.message_id == message.message_id and m.buttons == [])
    await settle(api, app)


async def paid_offering(api: FakeBotApi, mentor: FakeUser, stars: str | None = None, price: str = "500") -> None:
    """A mentor with weekly hours and a live paid offering; in Stars mode the price in Stars step comes too."""
    await onboard(api, mentor, KOLKATA)
    await set_hours(api, mentor, ["Mon", "Tue", "Wed", "Thu", "Fri"], ["9:00 AM", "10:00 AM", "11:00 AM"])
    await mentor.send("/newoffering")
    await mentor.wait_for("step 1 of 3")
    await mentor.send("Resume Review 1:1")
    await mentor.wait_for("Step 2 of 3")
    await mentor.send(price)
    asked = await mentor.wait_for(lambda m: "Step 2 of 3, in Stars" in m.text or "Step 3 of 3" in m.text)
    if "in Stars" in asked.text:
        if stars is None:
            await mentor.press(lambda label: label.endswith("(suggested)"))
        else:
            await mentor.send(stars)
        await mentor.wait_for("Step 3 of 3")
    await mentor.press("30 min")
    await mentor.wait_for("Created as a draft")
    await mentor.press("🚀 Publish & Go Live")
    await mentor.wait_for("is live!")
    await api.wait_idle()


async def set_upi_id(api: FakeBotApi, mentor: FakeUser, typed: str = "Asha.Rao@okicici") -> ChatMessage:
    await mentor.send("/profile")
    await mentor.wait_for("Your mentor profile")
    await mentor.press("✏️ UPI ID")
    await mentor.wait_for("Type your UPI ID")
    await mentor.send(typed)
    saved = await mentor.wait_for("Saved.")
    await api.wait_idle()
    return saved


async def ledger(runner: BotRunner) -> list:
    engine = create_engine(runner.database_url)
    try:
        async with SqlUnitOfWork(engine) as uow:
            return await uow.payments.for_mentor(101)
    finally:
        await engine.dispose()


def texts(user: FakeUser, needle: str) -> list[str]:
    return [m.text for m in user.bot_messages() if m.text and needle in m.text]


async def bookings_of(runner: BotRunner, bot: Application, mentee_id: int) -> list:
    async with bot.bot_data["services"].uow_factory() as uow:
        booked = await uow.bookings.list_for_mentee(mentee_id, list(BookingStatus), 50)
    return sorted(booked, key=lambda b: b.scheduled_at)
