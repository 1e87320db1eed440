"""A weekly series of a UPI-paid offering, paid with ONE UPI payment, end to end on SQLite and PostgreSQL: every
week held while paying, one set of UPI details and one QR code for the sum of the stored prices, one "I have paid",
one Mark paid / Not received for the mentor, one ledger row per week, refunds per week that the mentor gives back
by UPI and marks, a hold that runs out for every week, and the mentee picking UPI or Stars where both are on
(or UPI where a card provider is on too).

The mentor works Mon-Fri 9-12 in Kolkata; "now" is Tue 24 Nov 06:00 UTC; the first free start is Wed 25 Nov
06:00 UTC; the offering costs ₹500 (⭐ 300 at the test rate).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from telegram.ext import Application

from chat.payments import qr_png
from domain.clock import FixedClock
from domain.model import BookingStatus, Currency, PaymentMode, PaymentStatus
from domain.payments import LedgerKind, sums_of, totals_from
from sandbox.botapi import ChatMessage, FakeBotApi, FakeUser
from tests.e2e.conftest import NOW, BotRunner
from tests.e2e.flows import LONDON, alert_on, answer_to, onboard, open_first_date, pick_time_and_skip_notes
from tests.e2e.payments.helpers import (
    HOLD,
    SESSION,
    at,
    bookings_of,
    ledger,
    mark_all_refunded,
    paid_offering,
    set_upi_id,
    settle,
    texts,
)

S = BookingStatus
P = PaymentStatus
UPI = (PaymentMode.UPI,)
LINK = "upi://pay?pa=asha.rao%40okicici&pn=Asha&am={amount}&cu=INR&tn=Resume%20Review%201%3A1%20%23{id}"
NOTHING = "There is nothing to mark on this booking; nothing was changed."


@pytest.fixture
def modes() -> tuple[PaymentMode, ...]:
    return UPI


async def plan_weeks(api: FakeBotApi, mentee: FakeUser, weeks: int) -> ChatMessage:
    """The first free time → 🔁 Repeat weekly → ``weeks`` weeks: the plan."""
    await onboard(api, mentee, LONDON)
    await open_first_date(api, mentee)
    await pick_time_and_skip_notes(api, mentee)
    await mentee.press("🔁 Repeat weekly")
    await mentee.wait_for("How many weeks in all?")
    await mentee.press(str(weeks))
    return await mentee.wait_for(lambda m: f"Week {weeks}:" in (m.text or ""))


async def hold_upi_series(api: FakeBotApi, mentee: FakeUser, weeks: int = 3) -> tuple[ChatMessage, ChatMessage]:
    """Book ``weeks`` weeks paying by UPI: the details (in place of the plan) and the QR code."""
    plan = await plan_weeks(api, mentee, weeks)
    assert "One UPI payment to the mentor for every free week" in plan.text
    assert "held for you for 15 minutes" in plan.text and "Refunds, week by week" in plan.text
    label = f"📲 Book {weeks} weeks and pay ₹{500 * weeks:,} by UPI"
    assert label in plan.buttons
    await mentee.press(label, message=plan)
    qr = await mentee.wait_for(lambda m: m.photo is not None)
    details = await mentee.wait_for(f"{weeks} weeks are held for you")
    await api.wait_idle()
    return details, qr


async def upi_series(api: FakeBotApi, weeks: int = 3) -> tuple[FakeUser, FakeUser, ChatMessage, ChatMessage]:
    """Asha's ₹500 offering paid by UPI, her UPI ID set; Ravi's ``weeks`` weeks held: the mentor, the mentee, the
    details and the QR code."""
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    await set_upi_id(api, mentor)
    details, qr = await hold_upi_series(api, mentee, weeks)
    return mentor, mentee, details, qr


async def claimed_and_paid(
    api: FakeBotApi, bot: Application, mentor: FakeUser, mentee: FakeUser, qr: ChatMessage
) -> ChatMessage:
    """Ravi taps I have paid, Asha Mark paid: returns her one request for the series."""
    await mentee.press("✅ I have paid", message=qr)
    claim = await mentor.wait_for("says they paid")
    await mentor.press("💰 Mark paid", message=claim)
    request = await mentor.wait_for("New booking request")
    await settle(api, bot)
    return request


async def test_one_upi_payment_pays_every_week_and_one_week_cancelled_is_refunded_by_the_mentor(
    api: FakeBotApi, bot: Application, clock: FixedClock, runner: BotRunner
) -> None:
    mentor, mentee, details, qr = await upi_series(api)
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_mode, b.amount) for b in booked] == [
        (S.AWAITING_PAYMENT, PaymentMode.UPI, Decimal(500))
    ] * 3
    assert len({b.payment_nonce for b in booked}) == 1 and len({b.hold_until for b in booked}) == 1
    # one payment: the sum of the stored prices, the series' number (its first week's booking) in the note
    link = LINK.format(amount="1500.00", id=booked[0].id)
    assert "Pay ₹1,500 for all of them by UPI to Asha, in one payment" in details.text
    assert (
        "UPI ID: asha.rao@okicici" in details.text
        and link in details.text
        and "Pay exactly ₹1,500" in details.text
    )
    assert "🔁 Week 3 of 3" in details.text
    assert details.buttons == ["✅ I have paid", "✖️ Let this time go"]
    assert qr.photo is not None and qr.photo.content == qr_png(link)
    assert "Scan to pay ₹1,500 to asha.rao@okicici" in qr.caption and qr.buttons == ["✅ I have paid"]
    assert len(api.calls_to("sendPhoto")) == 1 and api.calls_to("sendInvoice") == []
    assert texts(mentor, "Ravi") == []  # the mentor hears of held weeks once they are paid

    # a week's card sends the same one payment's details again
    await mentee.send("/mybookings")
    listing = await mentee.wait_for("My bookings")
    await mentee.press(lambda label: label.startswith("2. "), message=listing)
    card = await mentee.wait_for(lambda m: m.message_id == listing.message_id and "🔁 Week 2 of 3" in m.text)
    assert "📲 Pay for all 3 weeks by UPI" in card.buttons
    await mentee.press("📲 Pay for all 3 weeks by UPI", message=listing)
    again = await mentee.wait_for(lambda m: m.photo is not None and m.message_id > qr.message_id)
    assert again.photo is not None and again.photo.content == qr_png(link)

    await mentee.press("✅ I have paid", message=qr)
    await mentee.wait_for("has been asked to check that your UPI payment arrived")
    claim = await mentor.wait_for("says they paid ₹1,500 by UPI for 3 weekly sessions of this series")
    assert f"Resume Review 1:1 #{booked[0].id}" in claim.text and "🔁 Week 1 of 3" in claim.text
    assert claim.buttons[:2] == ["💰 Mark paid", "❌ Not received"]
    await settle(api, bot)
    assert len(texts(mentor, "says they paid")) == 1
    # the mentor is slow: the hold's own end passes, and every week stays held while they check
    await at(api, bot, clock, NOW + HOLD + timedelta(minutes=30))
    assert [b.status for b in await bookings_of(runner, bot, mentee.id)] == [S.AWAITING_PAYMENT] * 3
    assert texts(mentee, "ran out") == []

    mark = claim.button("💰 Mark paid").callback_data
    assert mark is not None
    await mentor.press("💰 Mark paid", message=claim)
    receipt = await mentee.wait_for("Asha received your UPI payment: ₹1,500")
    assert "3 weekly sessions (₹500 each)" in receipt.text and "The mentor will confirm it" in receipt.text
    request = await mentor.wait_for("New booking request")
    assert "Payment: paid · UPI to the mentor" in request.text and "✅ Confirm all weeks" in request.buttons
    await settle(api, bot)
    assert len(texts(mentor, "New booking request")) == 1 and len(texts(mentee, "received your UPI payment")) == 1
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_status, b.payment_claimed_at) for b in booked] == [(S.PENDING, P.PAID, None)] * 3
    entries = await ledger(runner)
    assert [(e.kind, e.amount, e.mode, e.booking_id) for e in entries] == [
        (LedgerKind.CHARGE, Decimal(500), PaymentMode.UPI, b.id) for b in booked
    ]
    # Mark paid pressed again (an old message): nothing more to mark, nothing recorded twice
    query = await mentor.press_data(claim, mark)
    answer = await answer_to(api, query)
    assert answer.show_alert and answer.text == NOTHING
    assert len(await ledger(runner)) == 3

    await mentor.press("✅ Confirm all weeks", message=request)
    await mentor.wait_for("Confirmed every week.")
    await settle(api, bot)
    assert [b.status for b in await bookings_of(runner, bot, mentee.id)] == [S.CONFIRMED] * 3

    # week 2 cancelled in good time: its share is owed, and the mentor sends it back by UPI and marks it
    await mentee.send("/mybookings")
    listing = await mentee.wait_for(lambda m: "My bookings" in m.text and m.message_id > listing.message_id)
    await mentee.press(lambda label: label.startswith("2. "), message=listing)
    card = await mentee.wait_for(lambda m: m.message_id == listing.message_id and "🔁 Week 2 of 3" in m.text)
    assert "One payment for the whole series; this week's share is ₹500" in card.text
    await mentee.press("❌ Cancel booking", message=listing)
    await mentee.wait_for("reason")
    await mentee.send("Travelling that week")
    await mentee.wait_for("Your booking is cancelled.")
    await settle(api, bot)
    due = await mentor.wait_for("Refund due: ₹500")
    assert "paid by UPI to you: send it back by UPI" in due.text and "↩️ Mark refunded" in due.buttons
    assert len(texts(mentor, "Refund due")) == 1
    booked = await bookings_of(runner, bot, mentee.id)
    assert [b.payment_status for b in booked] == [P.PAID, P.REFUND_DUE, P.PAID]
    await mentor.press("↩️ Mark refunded", message=due)
    await mentee.wait_for("Refunded: ₹500")
    await settle(api, bot)
    assert api.calls_to("refundStarPayment") == []
    kinds = [(e.kind, e.booking_id) for e in await ledger(runner)]
    assert kinds[3:] == [(LedgerKind.REFUND_DUE, booked[1].id), (LedgerKind.REFUND, booked[1].id)]
    totals = totals_from(sums_of(await ledger(runner)))[Currency.INR]
    assert (totals.paid, totals.refunded, totals.net, totals.owed) == (1500, 500, 1000, 0)


async def test_not_received_is_told_once_and_then_the_hold_runs_out_for_every_week(
    api: FakeBotApi, bot: Application, clock: FixedClock, runner: BotRunner
) -> None:
    mentor, mentee, details, _qr = await upi_series(api, weeks=2)
    await mentee.press("✅ I have paid", message=details)
    claim = await mentor.wait_for("says they paid ₹1,000 by UPI for 2 weekly sessions")
    missing = claim.button("❌ Not received").callback_data
    assert missing is not None
    await mentor.press("❌ Not received", message=claim)
    told = await mentee.wait_for("Asha has not received your UPI payment of ₹1,000.")
    assert "tap “I have paid” again" in told.text and "stays held for you until" in told.text
    assert "✅ I have paid" in told.buttons and "📲 Pay for all 2 weeks by UPI" in told.buttons
    await settle(api, bot)
    assert len(texts(mentee, "has not received")) == 1
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_claimed_at) for b in booked] == [(S.AWAITING_PAYMENT, None)] * 2
    # Not received pressed again: nothing waits for the mentor's answer
    query = await mentor.press_data(claim, missing)
    answer = await answer_to(api, query)
    assert answer.show_alert and answer.text == NOTHING

    await at(api, bot, clock, NOW + HOLD)
    await mentee.wait_for("ran out before you paid")
    await settle(api, bot)
    assert len(texts(mentee, "ran out before you paid")) == 1 and len(texts(mentor, "did not pay in time")) == 1
    assert [b.status for b in await bookings_of(runner, bot, mentee.id)] == [S.EXPIRED] * 2
    assert await ledger(runner) == []


async def test_a_payment_reported_after_the_hold_ran_out_is_owed_back_whole(
    api: FakeBotApi, bot: Application, clock: FixedClock, runner: BotRunner
) -> None:
    mentor, mentee, _details, qr = await upi_series(api, weeks=2)
    await at(api, bot, clock, NOW + HOLD)
    await mentee.wait_for("ran out before you paid")
    await settle(api, bot)
    assert [b.status for b in await bookings_of(runner, bot, mentee.id)] == [S.EXPIRED] * 2
    # the money left anyway: reported, found, and owed back as one payment
    await mentee.press("✅ I have paid", message=qr)
    claim = await mentor.wait_for("says they paid ₹1,000 by UPI")
    await mentor.press("💰 Mark paid", message=claim)
    late = await mentee.wait_for("Your payment of ₹1,000 arrived when this booking no longer waited for it")
    assert "The mentor has been asked to refund it" in late.text
    due = await mentor.wait_for("Refund due: ₹1,000")
    await settle(api, bot)
    assert len(texts(mentor, "Refund due")) == 1 and texts(mentor, "New booking request") == []
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_status) for b in booked] == [(S.EXPIRED, P.REFUND_DUE), (S.EXPIRED, P.PENDING)]
    await mentor.press("↩️ Mark refunded", message=due)
    await mentee.wait_for("Refunded: ₹1,000")
    entries = await ledger(runner)
    assert [(e.kind, e.amount, e.booking_id) for e in entries] == [
        (kind, Decimal(1000), booked[0].id)
        for kind in (LedgerKind.CHARGE, LedgerKind.REFUND_DUE, LedgerKind.REFUND)
    ]


async def test_cancelling_all_future_weeks_makes_every_share_due_in_one_message_marked_at_once(
    api: FakeBotApi, bot: Application, runner: BotRunner
) -> None:
    mentor, mentee, _details, qr = await upi_series(api, weeks=3)
    await claimed_and_paid(api, bot, mentor, mentee, qr)
    await mentee.send("/mybookings")
    listing = await mentee.wait_for("My bookings")
    await mentee.press(lambda label: label.startswith("1. "), message=listing)
    await mentee.wait_for(lambda m: m.message_id == listing.message_id and "🔁 Week 1 of 3" in m.text)
    await mentee.press("🚫 Cancel all future weeks", message=listing)
    await mentee.wait_for("Why are you cancelling all future weeks of this series?")
    await mentee.send("Found a full-time job")
    await mentee.wait_for("Cancelled every future week of the series.")
    await settle(api, bot)
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_status) for b in booked] == [(S.CANCELLED, P.REFUND_DUE)] * 3
    # one message for the mentor: the three weeks and the total, one Mark all refunded
    [due] = [m for m in mentor.bot_messages() if m.text and "Refund due" in m.text]
    assert "Refund due: ₹1,500 to Ravi for 3 weeks of the weekly series" in due.text
    assert "send it back by UPI" in due.text and due.text.count("· ₹500") == 3
    assert [f"🔁 Week {week} of 3" in due.text for week in (1, 2, 3)] == [True] * 3
    assert due.buttons == ["↩️ Mark all refunded"] and api.calls_to("refundStarPayment") == []
    # a single week's Mark refunded on its card still works: one week first
    await mentor.send("/bookings")
    inbox = await mentor.wait_for("Your bookings")
    await mentor.press("Cancelled (3)", message=inbox)
    await mentor.wait_for(lambda m: m.message_id == inbox.message_id and "Cancelled · page 1 of 1" in m.text)
    await mentor.press(lambda label: label.startswith("1. "), message=inbox)
    card = await mentor.wait_for(lambda m: m.message_id == inbox.message_id and "↩️ Mark refunded" in m.buttons)
    await mentor.press("↩️ Mark refunded", message=card)
    await mentor.wait_for(lambda m: m.message_id == inbox.message_id and "Payment: refunded" in m.text)
    await settle(api, bot)
    assert len(texts(mentee, "Refunded: ₹500")) == 1
    # then Mark all refunded marks the two weeks still owed, once; the mentee is told once, with their total
    data = due.button("↩️ Mark all refunded").callback_data
    assert data is not None
    await mark_all_refunded(api, bot, mentor, due)
    [refunded] = texts(mentee, "Refunded: ₹1,000")
    assert "2 weekly sessions" in refunded and refunded.count("· ₹500") == 2
    assert len(texts(mentee, "Refunded")) == 2
    query = await mentor.press_data(None, data)  # the stale button again: refused, nothing recorded
    answer = await answer_to(api, query)
    assert answer.show_alert and answer.text == NOTHING
    await settle(api, bot)
    booked = await bookings_of(runner, bot, mentee.id)
    assert [b.payment_status for b in booked] == [P.REFUNDED] * 3
    entries = await ledger(runner)
    assert sorted(e.kind for e in entries) == sorted(
        [LedgerKind.CHARGE, LedgerKind.REFUND_DUE, LedgerKind.REFUND] * 3
    )
    totals = totals_from(sums_of(entries))[Currency.INR]
    assert (totals.paid, totals.refunded, totals.owed) == (1500, 1500, 0)
    assert len(texts(mentor, "Refund due")) == 1 and len(texts(mentee, "Refunded")) == 2


async def test_the_mentor_declines_a_series_paid_by_upi_and_owes_every_share_in_one_message(
    api: FakeBotApi, bot: Application, runner: BotRunner
) -> None:
    mentor, mentee, _details, qr = await upi_series(api, weeks=2)
    request = await claimed_and_paid(api, bot, mentor, mentee, qr)
    await mentor.press("❌ Decline all weeks", message=request)
    await mentor.wait_for("reason")
    await mentor.send("Travelling all month")
    await mentor.wait_for("Declined every week that was waiting for your answer.")
    await settle(api, bot)
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_status) for b in booked] == [(S.DECLINED, P.REFUND_DUE)] * 2
    [due] = texts(mentor, "Refund due")
    assert "Refund due: ₹1,000" in due and "for 2 weeks" in due and api.calls_to("refundStarPayment") == []
    kinds = [(e.kind, e.booking_id) for e in await ledger(runner) if e.kind == LedgerKind.REFUND_DUE]
    assert sorted(booking_id for _kind, booking_id in kinds) == [b.id for b in booked]
    message = next(m for m in mentor.bot_messages() if m.text and "Refund due" in m.text)
    await mark_all_refunded(api, bot, mentor, message)
    [refunded] = texts(mentee, "Refunded")
    assert "Refunded: ₹1,000" in refunded and "2 weekly sessions" in refunded
    assert [b.payment_status for b in await bookings_of(runner, bot, mentee.id)] == [P.REFUNDED] * 2
    totals = totals_from(sums_of(await ledger(runner)))[Currency.INR]
    assert (totals.paid, totals.refunded, totals.owed) == (1000, 1000, 0)


async def test_a_series_paid_by_upi_left_unanswered_runs_out_with_one_refund_message(
    api: FakeBotApi, bot: Application, clock: FixedClock, runner: BotRunner
) -> None:
    mentor, mentee, _details, qr = await upi_series(api, weeks=3)
    await claimed_and_paid(api, bot, mentor, mentee, qr)
    await at(api, bot, clock, SESSION)  # the mentor never answers: the series runs out at its first week's start
    await settle(api, bot)
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_status) for b in booked] == [(S.EXPIRED, P.REFUND_DUE)] * 3
    [due] = [m for m in mentor.bot_messages() if m.text and "Refund due" in m.text]
    assert "Refund due: ₹1,500 to Ravi for 3 weeks of the weekly series" in due.text
    assert due.text.count("· ₹500") == 3 and due.buttons == ["↩️ Mark all refunded"]
    await mark_all_refunded(api, bot, mentor, due)
    [refunded] = texts(mentee, "Refunded")
    assert "Refunded: ₹1,500" in refunded and "3 weekly sessions" in refunded
    assert [b.payment_status for b in await bookings_of(runner, bot, mentee.id)] == [P.REFUNDED] * 3
    totals = totals_from(sums_of(await ledger(runner)))[Currency.INR]
    assert (totals.paid, totals.refunded, totals.owed) == (1500, 1500, 0)


async def test_only_the_mentee_reports_and_only_the_mentor_answers_for_the_series(
    api: FakeBotApi, bot: Application, runner: BotRunner
) -> None:
    mentor, mentee, _details, qr = await upi_series(api, weeks=2)
    stranger = api.user(303, "Meera")
    await onboard(api, stranger, LONDON)
    claim_data = qr.button("✅ I have paid").callback_data
    assert claim_data is not None

    assert await alert_on(api, stranger, claim_data) == "You are not allowed to do that."
    assert await alert_on(api, mentor, claim_data) == "You are not allowed to do that."
    booked = await bookings_of(runner, bot, mentee.id)
    second = claim_data.replace(f":{booked[0].id}:", f":{booked[1].id}:")  # the second week's own button data
    mark = second.replace(":c", ":m")
    assert await alert_on(api, mentor, mark) == NOTHING  # nothing reported yet
    await mentee.press("✅ I have paid", message=qr)
    await mentor.wait_for("says they paid")
    assert await alert_on(api, mentee, second) == NOTHING  # the series was reported once, for every week
    for who in (stranger, mentee):
        assert await alert_on(api, who, mark) == "You are not allowed to do that."
    # the second week's Mark paid answers for the whole series, as the first week's would
    query = await mentor.press_data(None, mark)
    answer = await answer_to(api, query)
    assert not answer.show_alert
    await settle(api, bot)
    assert [b.status for b in await bookings_of(runner, bot, mentee.id)] == [S.PENDING] * 2
    assert len(await ledger(runner)) == 2 and len(texts(mentee, "received your UPI payment")) == 1


@pytest.mark.parametrize("modes", [(PaymentMode.STARS, PaymentMode.UPI)], ids=["stars,upi"])
@pytest.mark.parametrize("pick", ["upi", "stars"])
async def test_the_mentee_picks_upi_or_stars_for_the_series(
    api: FakeBotApi, bot: Application, runner: BotRunner, pick: str
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    await set_upi_id(api, mentor)
    plan = await plan_weeks(api, mentee, 2)
    assert plan.buttons[:2] == [
        "⭐ Book 2 weeks and pay ⭐\u00a0600 in Stars",
        "📲 Book 2 weeks and pay ₹1,000 by UPI",
    ]
    assert "One invoice for every free week" in plan.text and "One UPI payment to the mentor" in plan.text
    if pick == "stars":
        await mentee.press(lambda label: label.startswith("⭐ Book"), message=plan)
        invoice = await mentee.wait_for(lambda m: m.invoice is not None)
        await api.wait_idle()
        assert (await mentee.pay(invoice)).ok
        await mentee.wait_for("Payment received")
        mode, amount = PaymentMode.STARS, Decimal(300)
    else:
        await mentee.press(lambda label: label.startswith("📲 Book"), message=plan)
        qr = await mentee.wait_for(lambda m: m.photo is not None)
        await api.wait_idle()
        assert api.calls_to("sendInvoice") == []
        await claimed_and_paid(api, bot, mentor, mentee, qr)
        mode, amount = PaymentMode.UPI, Decimal(500)
    await settle(api, bot)
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_status, b.payment_mode) for b in booked] == [(S.PENDING, P.PAID, mode)] * 2
    assert [(e.amount, e.mode) for e in await ledger(runner)] == [(amount, mode)] * 2


@pytest.mark.parametrize("modes", [(PaymentMode.PROVIDER, PaymentMode.UPI)], ids=["provider,upi"])
async def test_with_a_card_provider_on_too_one_upi_payment_pays_every_week(
    api: FakeBotApi, bot: Application, runner: BotRunner
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    await set_upi_id(api, mentor)
    plan = await plan_weeks(api, mentee, 3)
    assert plan.buttons[:2] == ["💳 Book 3 weeks and pay ₹1,500", "📲 Book 3 weeks and pay ₹1,500 by UPI"]
    assert "One invoice for every free week" in plan.text and "One UPI payment to the mentor" in plan.text
    await mentee.press("📲 Book 3 weeks and pay ₹1,500 by UPI", message=plan)
    qr = await mentee.wait_for(lambda m: m.photo is not None)
    details = await mentee.wait_for("3 weeks are held for you")
    await api.wait_idle()
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_mode) for b in booked] == [(S.AWAITING_PAYMENT, PaymentMode.UPI)] * 3
    assert "Pay ₹1,500 for all of them by UPI to Asha, in one payment" in details.text
    assert qr.photo is not None and qr.photo.content == qr_png(LINK.format(amount="1500.00", id=booked[0].id))
    assert len(api.calls_to("sendPhoto")) == 1 and api.calls_to("sendInvoice") == []
    # a week's card offers the series' one UPI payment, not the card provider
    await mentee.send("/mybookings")
    listing = await mentee.wait_for("My bookings")
    await mentee.press(lambda label: label.startswith("2. "), message=listing)
    card = await mentee.wait_for(lambda m: m.message_id == listing.message_id and "🔁 Week 2 of 3" in m.text)
    assert card.buttons[:2] == ["📲 Pay for all 3 weeks by UPI", "✅ I have paid"]

    await mentee.press("✅ I have paid", message=qr)
    claim = await mentor.wait_for("says they paid ₹1,500 by UPI for 3 weekly sessions of this series")
    await settle(api, bot)
    assert len(texts(mentor, "says they paid")) == 1
    await mentor.press("💰 Mark paid", message=claim)
    await mentee.wait_for("Asha received your UPI payment: ₹1,500")
    request = await mentor.wait_for("New booking request")
    assert "Payment: paid · UPI to the mentor" in request.text and "✅ Confirm all weeks" in request.buttons
    await settle(api, bot)
    assert len(texts(mentor, "New booking request")) == 1
    assert len(texts(mentee, "received your UPI payment")) == 1
    assert [(e.kind, e.amount, e.mode) for e in await ledger(runner)] == [
        (LedgerKind.CHARGE, Decimal(500), PaymentMode.UPI)
    ] * 3

    await mentor.press("✅ Confirm all weeks", message=request)
    await mentor.wait_for("Confirmed every week.")
    await settle(api, bot)
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_status, b.payment_mode) for b in booked] == [
        (S.CONFIRMED, P.PAID, PaymentMode.UPI)
    ] * 3
    assert api.calls_to("sendInvoice") == []


async def test_with_auto_confirm_mark_paid_confirms_every_week_at_once(
    api: FakeBotApi, bot: Application, runner: BotRunner
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    await mentor.press("✏️ Edit")
    await mentor.wait_for("tap what you want to change")
    await mentor.press("⚡ Confirm paid bookings automatically: off")
    await mentor.wait_for("Saved: Confirm paid bookings automatically")
    await set_upi_id(api, mentor)
    plan = await plan_weeks(api, mentee, 2)
    assert "Once paid, every week is confirmed at once." in plan.text
    await mentee.press("📲 Book 2 weeks and pay ₹1,000 by UPI", message=plan)
    qr = await mentee.wait_for(lambda m: m.photo is not None)
    await api.wait_idle()
    await mentee.press("✅ I have paid", message=qr)
    claim = await mentor.wait_for("says they paid ₹1,000 by UPI for 2 weekly sessions")
    await mentor.press("💰 Mark paid", message=claim)
    receipt = await mentee.wait_for("Asha received your UPI payment: ₹1,000")
    assert "All 2 weekly sessions are confirmed." in receipt.text and "Your session is" not in receipt.text
    booked = await mentor.wait_for("New booking")
    assert "✅ Confirm" not in booked.buttons and "✅ Confirm all weeks" not in booked.buttons
    await settle(api, bot)
    assert len(texts(mentor, "New booking")) == 1 and texts(mentee, "Your booking is confirmed") == []
    weeks = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_status) for b in weeks] == [(S.CONFIRMED, P.PAID)] * 2
    assert [(e.kind, e.amount) for e in await ledger(runner)] == [(LedgerKind.CHARGE, Decimal(500))] * 2


async def test_letting_the_time_go_frees_every_week_and_nothing_is_owed(
    api: FakeBotApi, bot: Application, runner: BotRunner
) -> None:
    mentor, mentee, details, _qr = await upi_series(api, weeks=2)
    await mentee.press("✖️ Let this time go", message=details)
    await mentee.wait_for("The time is free again; nothing was paid.")
    await settle(api, bot)
    assert [b.status for b in await bookings_of(runner, bot, mentee.id)] == [S.CANCELLED] * 2
    assert texts(mentor, "Ravi") == [] and await ledger(runner) == []
