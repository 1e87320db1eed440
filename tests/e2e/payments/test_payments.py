"""Payments in Telegram, end to end: the real bot over HTTP against the test server's invoices, checkouts,
payments and Stars refunds, with people paying as Telegram users do - on SQLite and PostgreSQL.

The mentor works Mon-Fri 9-12 in Kolkata; "now" is Tue 24 Nov 06:00 UTC, so the first free start is Wed 25 Nov
11:30 IST (06:00 UTC). The offering costs ₹500, or ⭐ 300 at the test rate of 0.6 Stars per rupee.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from telegram.ext import Application

from domain.clock import FixedClock
from domain.model import PaymentMode
from domain.payments import LedgerKind, sums_of, totals_from
from sandbox.botapi import ChatMessage, FakeBotApi, FakeUser
from tests.e2e.conftest import NOW, BotRunner
from tests.e2e.flows import (
    LONDON,
    alert_on,
    answer_to,
    onboard,
    open_first_date,
    pick_time_and_skip_notes,
)
from tests.e2e.payments.helpers import (
    HOLD,
    NOT_AWAITING,
    OPERATOR,
    SESSION,
    TOKEN,
    at,
    ledger,
    paid_offering,
    settle,
    texts,
)

# --- steps ----------------------------------------------------------------------------------------------------


async def decline_first_request(mentor: FakeUser) -> None:
    """The mentor opens the first booking of /bookings, waiting for them, and declines it ("Busy")."""
    await mentor.send("/bookings")
    await mentor.wait_for("Your bookings")
    await mentor.press(lambda label: label.startswith("1."))
    await mentor.wait_for("· waiting for the mentor")
    await mentor.press("❌ Decline")
    await mentor.wait_for("Why are you declining")
    await mentor.send("Busy")


async def hold_slot(api: FakeBotApi, mentee: FakeUser, pay_with: str, onboard_first: bool = True) -> ChatMessage:
    """Book the first free time and confirm paying ``pay_with`` (the start of the button's label); returns the
    invoice that follows."""
    if onboard_first:
        await onboard(api, mentee, LONDON)
    await open_first_date(api, mentee)
    await pick_time_and_skip_notes(api, mentee)
    await mentee.press(lambda label: label.startswith(pay_with))
    invoice = await mentee.wait_for(lambda m: m.invoice is not None)
    await api.wait_idle()
    return invoice


# --- paying in Stars and with a provider ----------------------------------------------------------------------


async def test_pay_in_stars_then_the_mentor_confirms(api: FakeBotApi, bot: Application, runner) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    await onboard(api, mentee, LONDON)
    await open_first_date(api, mentee)
    await pick_time_and_skip_notes(api, mentee)
    summary = mentee.last_keyboard_message()
    assert summary is not None
    assert "Price: ⭐\u00a0300 · ₹500" in summary.text
    assert "Refunds: in full if the mentor declines or cancels" in summary.text
    assert "held for you for 15 minutes" in summary.text
    assert summary.buttons[:2] == ["⭐ Confirm and pay ⭐\u00a0300 in Stars", "💳 Confirm and pay ₹500"]
    await mentee.press("⭐ Confirm and pay ⭐\u00a0300 in Stars")
    invoice = await mentee.wait_for(lambda m: m.invoice is not None)
    assert invoice.invoice is not None and invoice.invoice_payload is not None
    assert invoice.invoice == {
        "title": "Resume Review 1:1", "description": invoice.invoice["description"], "start_parameter": "",
        "currency": "XTR", "total_amount": 300,
    }  # fmt: skip
    assert "30-minute session with Asha" in invoice.invoice["description"]
    [call] = api.calls_to("sendInvoice")
    assert call.params.get("provider_token", "") == "" and "Ravi" not in invoice.invoice_payload
    held = await mentee.wait_for("This time is held for you")
    assert "Pay by" in held.text and "waiting for payment" in held.text
    assert held.buttons == ["💳 Pay ⭐\u00a0300", "✖️ Let this time go"]
    await api.wait_idle()
    # The press was answered before the invoice went out: a quick payer's pre-checkout question, which waits for
    # their earlier updates, does not wait for that answer too.
    methods = [call.method for call in api.calls]
    last_answer = max(i for i, method in enumerate(methods) if method == "answerCallbackQuery")
    assert last_answer < methods.index("sendInvoice")

    checkout = await mentee.pay(invoice)
    assert checkout.ok and checkout.answer_seconds is not None and checkout.answer_seconds < 10
    receipt = await mentee.wait_for("Payment received")
    assert "⭐\u00a0300" in receipt.text and "The mentor will confirm it" in receipt.text
    request = await mentor.wait_for("New booking request")
    assert "Payment: paid · Telegram Stars" in request.text
    await mentor.press("✅ Confirm", message=request)
    await mentee.wait_for("Your booking is confirmed")
    await api.wait_idle()
    [charge] = await ledger(runner)
    assert checkout.charge is not None
    assert (charge.kind, charge.amount, charge.currency, charge.telegram_charge_id) == (
        LedgerKind.CHARGE,
        Decimal(300),
        "XTR",
        checkout.charge.telegram_payment_charge_id,
    )
    assert texts(mentor, "held this time") == []  # the mentor heard of it once, when it was paid


@pytest.mark.parametrize("modes", [(PaymentMode.PROVIDER,)], ids=["provider"])
async def test_pay_with_a_provider_and_the_offering_confirms_at_once(api: FakeBotApi, bot: Application) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    await mentor.press("✏️ Edit")
    menu = await mentor.wait_for("tap what you want to change")
    assert "✏️ Price in Stars" not in menu.buttons  # Stars are not on here
    await mentor.press("⚡ Confirm paid bookings automatically: off")
    saved = await mentor.wait_for("Saved: Confirm paid bookings automatically")
    assert "Paid bookings: confirmed automatically once paid" in saved.text
    await api.wait_idle()

    invoice = await hold_slot(api, mentee, "💳 Confirm and pay ₹500")
    assert invoice.invoice is not None
    assert (invoice.invoice["currency"], invoice.invoice["total_amount"]) == ("INR", 50000)  # paise
    [call] = api.calls_to("sendInvoice")
    assert call.params["provider_token"] == TOKEN
    checkout = await mentee.pay(invoice)
    assert checkout.ok
    receipt = await mentee.wait_for("Payment received")
    assert "₹500" in receipt.text and "Your session is confirmed." in receipt.text
    assert texts(mentee, "Your booking is confirmed") == []  # one message: the receipt says it
    booked = await mentor.wait_for("New booking")
    assert "confirmed" in booked.text and "✅ Confirm" not in booked.buttons
    assert "Payment: paid · card via Telegram" in booked.text


async def test_the_hold_runs_out_and_a_late_payment_is_refunded(
    api: FakeBotApi, bot: Application, clock: FixedClock, runner
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    invoice = await hold_slot(api, mentee, "⭐ Confirm and pay")
    # the mentee pays just before the hold ends, and Telegram reports the payment only after it has ended
    clock.current = NOW + HOLD - timedelta(seconds=30)
    checkout = await api.payments.pay(mentee, invoice, complete=False)
    assert checkout.ok and checkout.charge is not None
    await at(api, bot, clock, NOW + HOLD)
    told = await mentee.wait_for("ran out before you paid")
    assert "free again" in told.text
    await mentor.wait_for("did not pay in time")
    api.payments.deliver(checkout.charge, mentee)
    late = await mentee.wait_for("arrived when this booking no longer waited for it")
    assert "⭐\u00a0300" in late.text and "refunded in full" in late.text
    await settle(api, bot)  # the dispatcher makes the refund
    refunded_charges = [r.telegram_payment_charge_id for r in api.payments.refunds]
    assert refunded_charges == [checkout.charge.telegram_payment_charge_id]
    refunded = await mentee.wait_for("Refunded:")
    assert "⭐\u00a0300" in refunded.text
    assert [e.kind for e in await ledger(runner)] == [LedgerKind.CHARGE, LedgerKind.REFUND_DUE, LedgerKind.REFUND]
    # the slot is free again: someone else can hold it
    other = api.user(303, "Meera")
    await hold_slot(api, other, "⭐ Confirm and pay")
    # and the first invoice, paid again now, is refused at checkout
    again = await mentee.pay(invoice)
    assert not again.ok and again.error_message == NOT_AWAITING
    await settle(api, bot)
    assert len(api.payments.refunds) == 1


async def test_a_declined_request_is_refunded_once(api: FakeBotApi, bot: Application, runner) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor, stars="250")
    invoice = await hold_slot(api, mentee, "⭐ Confirm and pay")
    assert invoice.invoice is not None
    assert invoice.invoice["total_amount"] == 250  # the mentor's own Stars price
    await mentee.pay(invoice)
    request = await mentor.wait_for("New booking request")
    await mentor.press("❌ Decline", message=request)
    await mentor.wait_for("Why are you declining")
    await mentor.send("Travelling that week")
    card = await mentor.wait_for("Declined. The mentee has been told.")
    assert "Payment: refund due · Telegram Stars" in card.text
    assert "A refund is due: the bot is giving the Stars back." in card.text
    declined = await mentee.wait_for("The mentor declined your booking")
    assert "refund due" in declined.text
    await settle(api, bot)
    [refund] = api.payments.refunds
    assert refund.user_id == 202 and refund.total_amount == 250
    await mentee.wait_for("Refunded: ⭐\u00a0250")
    kinds = [e.kind for e in await ledger(runner)]
    assert kinds == [LedgerKind.CHARGE, LedgerKind.REFUND_DUE, LedgerKind.REFUND]
    # the refund row was sent once: a second pass of the dispatcher refunds nothing more
    await settle(api, bot)
    assert len(api.payments.refunds) == 1 and not [c for c in api.calls_to("refundStarPayment") if not c.ok]


async def test_a_mentee_cancels_before_the_cut_off_for_a_refund_and_not_after(
    api: FakeBotApi, bot: Application, clock: FixedClock, runner
) -> None:
    mentor, mentee, other = api.user(101, "Asha"), api.user(202, "Ravi"), api.user(303, "Meera")
    await paid_offering(api, mentor)
    # the first booking: paid, confirmed, cancelled in good time
    invoice = await hold_slot(api, mentee, "⭐ Confirm and pay")
    await mentee.pay(invoice)
    await mentor.press("✅ Confirm", message=await mentor.wait_for("New booking request"))
    await mentee.wait_for("Your booking is confirmed")
    await api.wait_idle()
    await mentee.send("/mybookings")
    await mentee.wait_for("My bookings")
    await mentee.press(lambda label: label.startswith("1."))
    card = await mentee.wait_for("You can cancel until")
    assert "Refunds: in full if the mentor declines or cancels" in card.text
    await mentee.press("❌ Cancel booking")
    await mentee.wait_for("Type a short reason")
    await mentee.send("Exam moved")
    await mentee.wait_for("Your booking is cancelled")
    await settle(api, bot)
    assert len(api.payments.refunds) == 1
    await mentee.wait_for("Refunded: ⭐\u00a0300")

    # the second booking: paid and confirmed, then the cut-off passes (24 h before the start)
    invoice = await hold_slot(api, other, "⭐ Confirm and pay")
    await other.pay(invoice)
    second = await mentor.wait_for(lambda m: "New booking request" in m.text and "Meera" in m.text)
    await mentor.press("✅ Confirm", message=second)
    await other.wait_for("Your booking is confirmed")
    await at(api, bot, clock, SESSION - timedelta(hours=23))
    await other.send("/mybookings")
    await other.wait_for("My bookings")
    await other.press(lambda label: label.startswith("1."))
    late = await other.wait_for("Cancelling closed")
    assert "❌ Cancel booking" not in late.buttons
    await settle(api, bot)
    assert len(api.payments.refunds) == 1  # nothing more refunded
    charges = [e for e in await ledger(runner) if e.kind == LedgerKind.CHARGE]
    assert len(charges) == 2


async def test_the_same_payment_delivered_twice_is_recorded_once(
    api: FakeBotApi, bot: Application, runner
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    invoice = await hold_slot(api, mentee, "⭐ Confirm and pay")
    checkout = await mentee.pay(invoice)
    await mentee.wait_for("Payment received")
    assert checkout.charge is not None
    api.payments.deliver(checkout.charge, mentee)  # Telegram delivers the same payment again
    await settle(api, bot)
    assert len(texts(mentee, "Payment received")) == 1
    assert len(texts(mentor, "New booking request")) == 1
    assert [e.kind for e in await ledger(runner)] == [LedgerKind.CHARGE]
    assert api.payments.refunds == []


async def test_a_restart_between_the_invoice_and_the_payment_loses_nothing(
    api: FakeBotApi, runner: BotRunner
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    async with runner.running():
        await paid_offering(api, mentor)
        invoice = await hold_slot(api, mentee, "⭐ Confirm and pay")
    async with runner.running():  # a new process on the same database
        checkout = await mentee.pay(invoice)
        assert checkout.ok
        await mentee.wait_for("Payment received")
        await mentor.wait_for("New booking request")


async def test_two_mentees_racing_for_one_paid_slot_get_one_hold(api: FakeBotApi, bot: Application) -> None:
    mentor, first, second = api.user(101, "Asha"), api.user(202, "Ravi"), api.user(303, "Meera")
    await paid_offering(api, mentor)
    for mentee in (first, second):
        await onboard(api, mentee, LONDON)
        await open_first_date(api, mentee)
        await pick_time_and_skip_notes(api, mentee)
    await first.press(lambda label: label.startswith("⭐ Confirm and pay"))
    await second.press(lambda label: label.startswith("⭐ Confirm and pay"))
    await api.wait_idle()
    held = [u for u in (first, second) if any(m.invoice is not None for m in u.bot_messages())]
    lost = [u for u in (first, second) if u not in held]
    assert len(held) == 1 and len(lost) == 1
    assert any("This time was just taken" in (m.text or "") for m in lost[0].bot_messages())
    assert len(api.calls_to("sendInvoice")) == 1


async def test_a_provider_refund_is_owed_by_hand_and_marked_by_the_mentor(
    api: FakeBotApi, bot: Application, runner
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    operator = api.user(OPERATOR, "Ops", started=True)
    await paid_offering(api, mentor)
    invoice = await hold_slot(api, mentee, "💳 Confirm and pay ₹500")
    checkout = await mentee.pay(invoice)
    assert checkout.charge is not None
    request = await mentor.wait_for("New booking request")
    await mentor.press("✅ Confirm", message=request)
    await mentee.wait_for("Your booking is confirmed")
    await api.wait_idle()
    await mentor.send("/bookings")
    await mentor.wait_for("Your bookings")
    await mentor.press(lambda label: label.startswith("Upcoming"))
    await mentor.wait_for("Upcoming")
    await mentor.press(lambda label: label.startswith("1."))
    await mentor.wait_for("Booking #1")
    await mentor.press("🚫 Cancel booking")
    await mentor.wait_for("Why are you cancelling")
    await mentor.send("Sick")
    await mentor.wait_for("Cancelled. The mentee has been told.")
    due = await mentor.wait_for("Refund due: ₹500")
    assert checkout.charge.provider_payment_charge_id in due.text
    assert checkout.charge.telegram_payment_charge_id in due.text
    assert "↩️ Mark refunded" in due.buttons
    copy = await operator.wait_for("operator copy")
    assert checkout.charge.provider_payment_charge_id in copy.text and "Asha" in copy.text
    await mentee.wait_for("The mentor cancelled your booking")
    assert api.calls_to("refundStarPayment") == []  # the Bot API cannot refund a provider's payment
    mark = due.button("↩️ Mark refunded").callback_data
    assert mark is not None
    await mentor.press("↩️ Mark refunded", message=due)
    await mentee.wait_for("Refunded: ₹500")
    await api.wait_idle()
    assert [e.kind for e in await ledger(runner)] == [LedgerKind.CHARGE, LedgerKind.REFUND_DUE, LedgerKind.REFUND]
    # pressed again (an old card): nothing more to mark
    query = await mentor.press_data(due, mark)
    answer = await answer_to(api, query)
    assert answer.text == "There is nothing to mark on this booking; nothing was changed."
    assert len([e for e in await ledger(runner) if e.kind == LedgerKind.REFUND]) == 1


@pytest.mark.parametrize("modes", [(PaymentMode.OFF,)], ids=["off"])
async def test_paid_outside_the_bot_the_mentor_marks_it_paid(api: FakeBotApi, bot: Application, runner) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    await onboard(api, mentee, LONDON)
    await open_first_date(api, mentee)
    await pick_time_and_skip_notes(api, mentee)
    await mentee.press("✅ Confirm booking")
    await mentee.wait_for("Request sent")
    request = await mentor.wait_for("New booking request")
    assert "Payment: not paid yet · paid to the mentor directly" in request.text
    await mentor.press("✅ Confirm", message=request)
    await mentee.wait_for("Your booking is confirmed")
    await api.wait_idle()
    confirmed = mentor.last_keyboard_message()
    assert "💰 Mark paid" in confirmed.buttons
    await mentor.press("💰 Mark paid", message=confirmed)
    marked = await mentor.wait_for("Payment: paid · paid to the mentor directly")
    assert "💰 Mark paid" not in marked.buttons
    receipt = await mentee.wait_for("marked your booking as paid")
    assert "₹500" in receipt.text
    [charge] = await ledger(runner)
    assert (charge.mode, charge.amount, charge.charge_ref) == (PaymentMode.OFF, Decimal(500), "manual:1")
    assert api.calls_to("sendInvoice") == []


async def test_earnings_agree_with_the_ledger(api: FakeBotApi, bot: Application, runner) -> None:
    mentor, mentee, other = api.user(101, "Asha"), api.user(202, "Ravi"), api.user(303, "Meera")
    await paid_offering(api, mentor)
    invoice = await hold_slot(api, mentee, "⭐ Confirm and pay")
    await mentee.pay(invoice)
    request = await mentor.wait_for("New booking request")
    await mentor.press("❌ Decline", message=request)
    await mentor.wait_for("Why are you declining")
    await mentor.send("Busy")
    await mentee.wait_for("The mentor declined")
    await settle(api, bot)
    invoice = await hold_slot(api, other, "💳 Confirm and pay")
    await other.pay(invoice)
    await other.wait_for("Payment received")
    await api.wait_idle()

    entries = await ledger(runner)
    totals = totals_from(sums_of(entries))
    assert totals == totals_from(sums_of(entries, NOW - timedelta(days=1)))  # all of it this month
    await mentor.send("/earnings")
    screen = await mentor.wait_for("Your earnings")
    stars, rupees = totals[next(c for c in totals if c == "XTR")], totals[next(c for c in totals if c == "INR")]
    assert (stars.paid, stars.refunded, stars.net) == (Decimal(300), Decimal(300), Decimal(0))
    assert (rupees.paid, rupees.refunded, rupees.net) == (Decimal(500), Decimal(0), Decimal(500))
    month = screen.text.split("All time")[0]
    assert "⭐ Telegram Stars: paid ⭐\u00a0300 · refunded ⭐\u00a0300 · net ⭐\u00a00" in month
    assert "₹ Rupees: paid ₹500 · refunded ₹0 · net ₹500" in month
    await mentor.press("⬇️ Download CSV")
    document = await mentor.wait_for(lambda m: m.document is not None)
    assert document.document is not None and document.document.content is not None
    rows = list(csv.DictReader(io.StringIO(document.document.content.decode("utf-8-sig"))))
    assert [(r["event"], Decimal(r["amount"]), r["currency"]) for r in rows] == [
        (e.kind.value, e.amount, e.currency.value) for e in entries
    ]
    # a mentee has no earnings
    await mentee.send("/earnings")
    await mentee.wait_for("Earnings are for mentors")


async def test_forged_replayed_and_other_peoples_payloads_are_refused_at_checkout(
    api: FakeBotApi, bot: Application, clock: FixedClock, runner
) -> None:
    mentor, mentee, stranger = api.user(101, "Asha"), api.user(202, "Ravi"), api.user(303, "Meera")
    await paid_offering(api, mentor)
    invoice = await hold_slot(api, mentee, "⭐ Confirm and pay")
    await onboard(api, stranger, LONDON)
    payload = invoice.invoice_payload
    assert payload is not None
    refused = {
        "someone else's invoice": await api.payments.pay(stranger, invoice),
        "a guessed nonce": await api.payments.checkout(mentee, payload[:-4] + "beef", "XTR", 300),
        "another booking": await api.payments.checkout(mentee, "b999." + payload.split(".")[1], "XTR", 300),
        "not a payload of ours": await api.payments.checkout(mentee, "book 1 please", "XTR", 300),
        "a lower amount": await api.payments.checkout(mentee, payload, "XTR", 1),
        "another currency": await api.payments.checkout(mentee, payload, "INR", 300),
    }
    for what, checkout in refused.items():
        assert checkout.answered and not checkout.ok, what
    assert refused["someone else's invoice"].error_message == "This invoice is for someone else's booking."
    assert str(refused["a lower amount"].error_message).startswith("This invoice does not match the booking")
    paid = await mentee.pay(invoice)
    assert paid.ok
    replayed = await mentee.pay(invoice)  # the same invoice again, once paid
    assert not replayed.ok
    assert replayed.error_message == NOT_AWAITING
    await api.wait_idle()
    assert len([e for e in await ledger(runner) if e.kind == LedgerKind.CHARGE]) == 1


async def test_a_lost_invoice_is_sent_again_and_the_time_can_be_let_go(
    api: FakeBotApi, bot: Application, clock: FixedClock
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    await hold_slot(api, mentee, "⭐ Confirm and pay")
    held = await mentee.wait_for("This time is held for you", since=0)
    await mentee.press("💳 Pay ⭐\u00a0300", message=held)
    again = await mentee.wait_for(lambda m: m.invoice is not None)
    assert again.invoice_payload == next(iter(api.calls_to("sendInvoice"))).params["payload"]
    await mentee.send("/mybookings")
    listing = await mentee.wait_for("My bookings")
    assert "waiting for payment" in listing.text
    await mentee.press(lambda label: label.startswith("1."))
    card = await mentee.wait_for("Pay by")
    assert card.buttons[:2] == ["💳 Pay ⭐\u00a0300", "✖️ Let this time go"]
    assert "📅 Add to calendar" not in card.buttons and "❌ Cancel booking" not in card.buttons
    await mentee.press("✖️ Let this time go", message=card)
    await mentee.wait_for("The time is free again; nothing was paid.")
    # the hold's invoice is dead now, and the mentor never heard of it
    checkout = await mentee.pay(again)
    assert not checkout.ok
    await at(api, bot, clock, NOW + HOLD + timedelta(minutes=1))
    assert texts(mentor, "held this time") == [] and texts(mentor, "New booking") == []
    # the hold's end after the release changes nothing: the Pay button of the old card is refused
    query = await mentee.press("💳 Pay ⭐\u00a0300", message=held)
    answer = await answer_to(api, query)
    assert answer.show_alert and "no longer waits for a payment" in (answer.text or "")


async def test_a_stars_refund_is_retried_and_an_earlier_refund_counts(
    api: FakeBotApi, bot: Application, clock: FixedClock, runner
) -> None:
    mentor, first, second = api.user(101, "Asha"), api.user(202, "Ravi"), api.user(303, "Meera")
    await paid_offering(api, mentor)
    for mentee in (first, second):
        invoice = await hold_slot(api, mentee, "⭐ Confirm and pay")
        await mentee.pay(invoice)
        await mentee.wait_for("Payment received")
    await api.wait_idle()
    # Telegram is down for the first refund: the outbox tries again later, and the refund is made once
    api.fail_next("refundStarPayment", 502)
    await decline_first_request(mentor)
    await first.wait_for("The mentor declined")
    await settle(api, bot)
    assert api.payments.refunds == [] and texts(first, "Refunded:") == []
    await at(api, bot, clock, clock.now() + timedelta(minutes=2))  # past the retry's back-off
    assert [r.user_id for r in api.payments.refunds] == [202]
    await first.wait_for("Refunded: ⭐\u00a0300")
    # the second refund: Telegram answers that it was refunded already (a first answer got lost) - that is done
    api.fail_next("refundStarPayment", 400, "Bad Request: CHARGE_ALREADY_REFUNDED")
    await decline_first_request(mentor)
    await second.wait_for("The mentor declined")
    await settle(api, bot)
    await second.wait_for("Refunded: ⭐\u00a0300")
    kinds = [e.kind for e in await ledger(runner)]
    assert kinds.count(LedgerKind.REFUND) == 2 and kinds.count(LedgerKind.CHARGE) == 2


async def test_a_refused_checkout_speaks_the_payers_language(api: FakeBotApi, bot: Application) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    stranger = api.user(303, "Маша", language_code="ru")
    await paid_offering(api, mentor)
    invoice = await hold_slot(api, mentee, "⭐ Confirm and pay")
    refused = await api.payments.pay(stranger, invoice)
    assert not refused.ok and refused.error_message == "Этот счёт выставлен за чужую запись."
    # someone who uses the bot in Hindi is answered in Hindi, whatever their Telegram app's language is now
    anil = api.user(304, "Anil", language_code="hi")
    await anil.send("/start")  # registered in Hindi
    await anil.wait_for("आप किस टाइम ज़ोन में हैं?")
    anil.language_code = "en"
    refused = await api.payments.pay(anil, invoice)
    assert not refused.ok and refused.error_message == "यह इनवॉइस किसी और की बुकिंग का है।"


async def test_a_paid_request_that_expires_unanswered_is_refunded(
    api: FakeBotApi, bot: Application, clock: FixedClock, runner
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    invoice = await hold_slot(api, mentee, "⭐ Confirm and pay")
    await mentee.pay(invoice)
    await mentor.wait_for("New booking request")
    await at(api, bot, clock, SESSION)  # the mentor never answered: the request expires at the start
    expired = await mentee.wait_for("your request expired")
    assert "Payment: refund due · Telegram Stars" in expired.text
    await settle(api, bot)
    await mentee.wait_for("Refunded: ⭐\u00a0300")
    assert [r.user_id for r in api.payments.refunds] == [202]
    assert [e.kind for e in await ledger(runner)] == [LedgerKind.CHARGE, LedgerKind.REFUND_DUE, LedgerKind.REFUND]


async def test_payment_buttons_work_only_for_their_person(api: FakeBotApi, bot: Application, runner) -> None:
    mentor, mentee, stranger = api.user(101, "Asha"), api.user(202, "Ravi"), api.user(303, "Meera")
    await paid_offering(api, mentor)
    await hold_slot(api, mentee, "⭐ Confirm and pay")
    held = await mentee.wait_for("This time is held for you", since=0)
    pay, release = (held.button(label).callback_data for label in ("💳 Pay ⭐\u00a0300", "✖️ Let this time go"))
    assert pay is not None and release is not None
    await onboard(api, stranger, LONDON)

    assert await alert_on(api, stranger, pay) == "You are not allowed to do that."
    assert await alert_on(api, stranger, release) == "You are not allowed to do that."
    assert await alert_on(api, mentor, release) == "You are not allowed to do that."  # the mentor neither
    assert await alert_on(api, mentee, pay.replace(":p", ":m")) == "You are not allowed to do that."  # Mark paid
    assert await alert_on(api, mentee, "pa:99999999999:p") == "That is no longer available."
    assert await alert_on(api, mentee, "pa:1:zz") == "This button is no longer valid."
    assert len(api.calls_to("sendInvoice")) == 1  # nothing was sent again, nothing changed
    await mentee.send("/mybookings")
    assert "waiting for payment" in (await mentee.wait_for("My bookings")).text
