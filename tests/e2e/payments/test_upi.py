"""UPI, end to end: the mentor's UPI ID, the held booking with the amount, the ``upi://pay`` link and its QR code,
"I have paid", the mentor's Mark paid / Not received, and refunds the mentor marks - on SQLite and PostgreSQL.

The mentor works Mon-Fri 9-12 in Kolkata; "now" is Tue 24 Nov 06:00 UTC, so the first free start is Wed 25 Nov
11:30 IST (06:00 UTC). The offering costs ₹500.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from telegram.ext import Application

from chat.payments import qr_png
from domain.clock import FixedClock
from domain.model import BookingStatus, PaymentMode, PaymentStatus
from domain.payments import LedgerKind
from sandbox.botapi import ChatMessage, FakeBotApi, FakeUser
from storage.engine import create_engine
from storage.uow import SqlUnitOfWork
from tests.e2e.conftest import NOW, BotRunner
from tests.e2e.flows import LONDON, alert_on, answer_to, onboard, open_first_date, pick_time_and_skip_notes
from tests.e2e.payments.helpers import (
    HOLD,
    OPERATOR,
    at,
    ledger,
    paid_offering,
    set_upi_id,
    settle,
    texts,
)

UPI = (PaymentMode.UPI,)
LINK = "upi://pay?pa=asha.rao%40okicici&pn=Asha&am=500.00&cu=INR&tn=Resume%20Review%201%3A1%20%23{id}"


@pytest.fixture
def modes() -> tuple[PaymentMode, ...]:
    return UPI


async def hold_by_upi(api: FakeBotApi, mentee: FakeUser) -> tuple[ChatMessage, ChatMessage]:
    """Book the first free time paying by UPI: the details (edited in place of the summary) and the QR code."""
    await onboard(api, mentee, LONDON)
    await open_first_date(api, mentee)
    await pick_time_and_skip_notes(api, mentee)
    await mentee.press(lambda label: label.startswith("📲 Confirm and pay ₹500 by UPI"))
    qr = await mentee.wait_for(lambda m: m.photo is not None)
    details = await mentee.wait_for("Pay ₹500 by UPI to Asha")
    await api.wait_idle()
    return details, qr


async def booking(runner: BotRunner, booking_id: int):
    engine = create_engine(runner.database_url)
    try:
        async with SqlUnitOfWork(engine) as uow:
            return await uow.bookings.get(booking_id)
    finally:
        await engine.dispose()


async def test_a_upi_payment_marked_paid_moves_the_booking_on_like_a_telegram_payment(
    api: FakeBotApi, bot: Application, clock: FixedClock, runner
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    await mentor.send("/profile")
    await mentor.wait_for("Your mentor profile")
    await mentor.press("✏️ UPI ID")
    last = (await mentor.wait_for("Type your UPI ID")).message_id
    for bad in ("asha", "asha@", "@okicici", "asha@ok icici", "a" * 70 + "@okicici", "asha@1bank"):
        await mentor.send(bad)
        refused = await mentor.wait_for("That is not a UPI ID")  # after this message was sent
        assert refused.message_id > last  # a new message, not an earlier one edited
        last = refused.message_id
    await mentor.send("Asha.Rao@okicici")
    saved = await mentor.wait_for("Saved.")
    assert "UPI ID (mentees pay you here): asha.rao@okicici" in saved.text
    await api.wait_idle()

    details, qr = await hold_by_upi(api, mentee)
    found = re.search(r"tn=Resume%20Review%201%3A1%20%23([0-9]+)", details.text)
    assert found is not None
    booking_id = int(found.group(1))
    link = LINK.format(id=booking_id)
    assert "UPI ID: asha.rao@okicici" in details.text and link in details.text
    assert "Pay exactly ₹500" in details.text and "Pay by" in details.text
    assert details.buttons == ["✅ I have paid", "✖️ Let this time go"]
    assert qr.photo is not None and qr.photo.content == qr_png(link)  # the QR code is of exactly that link
    assert qr.photo.width == qr.photo.height and qr.photo.width is not None and qr.photo.width > 200
    assert "Scan to pay ₹500 to asha.rao@okicici" in qr.caption and qr.buttons == ["✅ I have paid"]
    [call] = api.calls_to("sendPhoto")
    assert call.files  # uploaded from bytes (multipart), not a URL
    assert api.calls_to("sendInvoice") == []
    assert texts(mentor, "Ravi") == []  # the mentor hears of a held slot once it is paid

    await mentee.press("✅ I have paid", message=qr)
    asked = await mentee.wait_for("has been asked to check that your UPI payment arrived")
    assert "the mentor is checking" in asked.text
    claim = await mentor.wait_for("says they paid ₹500 by UPI")
    assert f"Resume Review 1:1 #{booking_id}" in claim.text
    assert claim.buttons[:2] == ["💰 Mark paid", "❌ Not received"]
    # the mentor is slow: the hold's own end passes, and the time stays held while they check
    await at(api, bot, clock, NOW + HOLD + timedelta(minutes=30))
    assert texts(mentee, "ran out") == []
    assert (await booking(runner, booking_id)).status == BookingStatus.AWAITING_PAYMENT

    mark = claim.button("💰 Mark paid").callback_data
    assert mark is not None
    await mentor.press("💰 Mark paid", message=claim)
    receipt = await mentee.wait_for("Asha received your UPI payment: ₹500")
    assert "The mentor will confirm it" in receipt.text
    request = await mentor.wait_for("New booking request")
    assert "Payment: paid · UPI to the mentor" in request.text
    [charge] = await ledger(runner)
    assert (charge.kind, charge.amount, charge.currency, charge.mode, charge.payer_id) == (
        LedgerKind.CHARGE,
        Decimal(500),
        "INR",
        PaymentMode.UPI,
        202,
    )
    # the claim pressed again (an old message): nothing more to mark, nothing recorded twice
    query = await mentor.press_data(claim, mark)
    answer = await answer_to(api, query)
    assert answer.show_alert and answer.text == "There is nothing to mark on this booking; nothing was changed."
    assert len(await ledger(runner)) == 1
    await mentor.press("✅ Confirm", message=request)
    await mentee.wait_for("Your booking is confirmed")


async def test_not_received_tells_the_mentee_and_the_hold_keeps_its_own_end(
    api: FakeBotApi, bot: Application, clock: FixedClock, runner
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    await set_upi_id(api, mentor)
    details, qr = await hold_by_upi(api, mentee)
    await mentee.press("✅ I have paid", message=details)
    claim = await mentor.wait_for("says they paid ₹500 by UPI")
    await mentor.press("❌ Not received", message=claim)
    told = await mentee.wait_for("Asha has not received your UPI payment of ₹500.")
    assert "tap “I have paid” again" in told.text and "stays held for you until" in told.text
    assert "✅ I have paid" in told.buttons
    assert "📲 Pay ₹500 by UPI" in told.buttons
    card = await mentor.wait_for(lambda m: "Booking #" in m.text and "💰 Mark paid" not in m.buttons)
    assert "Not received" not in card.buttons
    # paying again shows the same details and QR code
    await mentee.press("📲 Pay ₹500 by UPI", message=told)
    await mentee.wait_for(lambda m: m.photo is not None and m.message_id > qr.message_id)
    # reported again, and again not received - now after the hold's end: the time is freed
    await mentee.press("✅ I have paid", message=told)
    claim = await mentor.wait_for(lambda m: "says they paid" in m.text and m.message_id > claim.message_id)
    clock.current = NOW + HOLD + timedelta(minutes=1)
    await mentor.press("❌ Not received", message=claim)
    late = await mentee.wait_for(lambda m: "has not received" in m.text and m.message_id > told.message_id)
    assert "no longer held" in late.text and "✅ I have paid" not in late.buttons
    await settle(api, bot)
    await mentee.wait_for("ran out before you paid")
    await mentor.wait_for("did not pay in time")
    assert await ledger(runner) == []


async def test_a_declined_upi_booking_is_refunded_by_the_mentor(api: FakeBotApi, bot: Application, runner) -> None:
    mentor, mentee, operator = api.user(101, "Asha"), api.user(202, "Ravi"), api.user(OPERATOR, "Ops")
    await onboard(api, operator, LONDON)
    await paid_offering(api, mentor)
    await set_upi_id(api, mentor)
    details, _qr = await hold_by_upi(api, mentee)
    await mentee.press("✅ I have paid", message=details)
    await mentor.press("💰 Mark paid", message=await mentor.wait_for("says they paid"))
    request = await mentor.wait_for("New booking request")
    await mentor.press("❌ Decline", message=request)
    await mentor.wait_for("Why are you declining")
    await mentor.send("Travelling that week")
    await mentor.wait_for("Declined. The mentee has been told.")
    due = await mentor.wait_for("Refund due: ₹500")
    assert "paid by UPI to you: send it back by UPI" in due.text and "↩️ Mark refunded" in due.buttons
    await settle(api, bot)
    assert texts(operator, "operator copy") == []  # UPI went to the mentor's own account
    assert api.calls_to("refundStarPayment") == []
    declined = await mentee.wait_for("The mentor declined your booking")
    assert "The mentor owes you a refund." in declined.text
    await mentor.press("↩️ Mark refunded", message=due)
    await mentee.wait_for("Refunded: ₹500")
    entries = await ledger(runner)
    assert [(e.kind, e.mode) for e in entries] == [
        (LedgerKind.CHARGE, PaymentMode.UPI), (LedgerKind.REFUND_DUE, PaymentMode.UPI),
        (LedgerKind.REFUND, PaymentMode.UPI),
    ]  # fmt: skip
    assert (await booking(runner, entries[0].booking_id)).payment_status == PaymentStatus.REFUNDED


@pytest.mark.parametrize("modes", [(PaymentMode.STARS, PaymentMode.UPI)], ids=["stars,upi"])
async def test_the_mentee_picks_upi_or_stars_and_upi_needs_the_mentors_id(
    api: FakeBotApi, bot: Application, runner
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    await onboard(api, mentee, LONDON)
    await open_first_date(api, mentee)
    await pick_time_and_skip_notes(api, mentee)
    summary = mentee.last_keyboard_message()
    assert summary is not None
    assert [b for b in summary.buttons if "Confirm and pay" in b] == ["⭐ Confirm and pay ⭐\u00a0300 in Stars"]
    await set_upi_id(api, mentor)
    await open_first_date(api, mentee)
    await pick_time_and_skip_notes(api, mentee)
    summary = mentee.last_keyboard_message()
    assert summary is not None
    assert [b for b in summary.buttons if "Confirm and pay" in b] == [
        "⭐ Confirm and pay ⭐\u00a0300 in Stars", "📲 Confirm and pay ₹500 by UPI",
    ]  # fmt: skip
    assert "once you tap “I have paid”, the time stays held" in summary.text
    await mentee.press("📲 Confirm and pay ₹500 by UPI")
    await mentee.wait_for(lambda m: m.photo is not None)
    await api.wait_idle()
    assert api.calls_to("sendInvoice") == []


async def test_upi_buttons_work_only_for_their_person(api: FakeBotApi, bot: Application, runner) -> None:
    mentor, mentee, stranger = api.user(101, "Asha"), api.user(202, "Ravi"), api.user(303, "Meera")
    other_mentor = api.user(404, "Kiran")
    await paid_offering(api, mentor)
    await set_upi_id(api, mentor)
    _details, qr = await hold_by_upi(api, mentee)
    claim_data = qr.button("✅ I have paid").callback_data
    assert claim_data is not None
    await onboard(api, stranger, LONDON)
    await onboard(api, other_mentor, LONDON)

    assert await alert_on(api, stranger, claim_data) == "You are not allowed to do that."
    # only the payer reports it
    assert await alert_on(api, mentor, claim_data) == "You are not allowed to do that."
    mark, missing = claim_data.replace(":c", ":m"), claim_data.replace(":c", ":n")
    # before any report there is nothing for the mentor to check
    assert await alert_on(api, mentor, mark) == "There is nothing to mark on this booking; nothing was changed."
    await mentee.press("✅ I have paid", message=qr)
    await mentor.wait_for("says they paid")
    for who in (stranger, other_mentor, mentee):
        assert await alert_on(api, who, mark) == "You are not allowed to do that."
        assert await alert_on(api, who, missing) == "You are not allowed to do that."
    nothing = "There is nothing to mark on this booking; nothing was changed."
    assert await alert_on(api, mentee, claim_data) == nothing
    assert await ledger(runner) == []
    assert texts(mentee, "has not received") == [] and texts(mentee, "received your UPI payment") == []
