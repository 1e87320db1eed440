"""A weekly series paid with one invoice, end to end on SQLite and PostgreSQL: the weeks held while paying, one
Stars payment for all of them (one charge row per week), the mentor confirming all at once, one week cancelled
(its share owed back by hand: Telegram refunds Stars payments whole), the whole series cancelled before the
cut-off or declined by the mentor (the whole payment refunded once), a hold that runs out expiring every week,
and a package (an offering sold only as N weekly sessions) set in the editor and booked from Discover.

The mentor works Mon-Fri 9-12 in Kolkata; "now" is Tue 24 Nov 06:00 UTC; the first free start is Wed 25 Nov
06:00 UTC; the offering costs ₹500, ⭐ 300 at the test rate.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from telegram.ext import Application

from domain.clock import FixedClock
from domain.errors import InvalidInput
from domain.model import BookingStatus, Currency, PaymentStatus
from domain.payments import LedgerKind, sums_of, totals_from
from domain.usecases.booking import BookingRequest, book_slot
from sandbox.botapi import ChatMessage, FakeBotApi, FakeUser
from sandbox.botapi.payments import Checkout
from tests.e2e.conftest import NOW, BotRunner
from tests.e2e.flows import LONDON, answer_to, onboard, open_first_date, pick_time_and_skip_notes
from tests.e2e.payments.helpers import (
    HOLD,
    NOT_AWAITING,
    OPERATOR,
    SESSION,
    at,
    bookings_of,
    ledger,
    mark_all_refunded,
    paid_offering,
    settle,
    texts,
)

S = BookingStatus
STARS = "⭐\u00a0"


async def hold_series(api: FakeBotApi, mentee: FakeUser, weeks: int = 3) -> ChatMessage:
    """The first free time → 🔁 Repeat weekly → ``weeks`` weeks → pay in Stars: the invoice."""
    await onboard(api, mentee, LONDON)
    await open_first_date(api, mentee)
    await pick_time_and_skip_notes(api, mentee)
    await mentee.press("🔁 Repeat weekly")
    await mentee.wait_for("How many weeks in all?")
    await mentee.press(str(weeks))
    plan = await mentee.wait_for(lambda m: f"Week {weeks}:" in (m.text or ""))
    assert "One invoice for every free week" in plan.text and "held for you for 15 minutes" in plan.text
    assert "Refunds, week by week" in plan.text and "Telegram refunds a Stars payment only in full" in plan.text
    total = 300 * weeks
    assert plan.buttons[:2] == [
        f"⭐ Book {weeks} weeks and pay {STARS}{total:,} in Stars",
        f"💳 Book {weeks} weeks and pay ₹{500 * weeks:,}",
    ]
    await mentee.press(lambda label: label.startswith("⭐ Book"), message=plan)
    invoice = await mentee.wait_for(lambda m: m.invoice is not None)
    assert invoice.invoice is not None
    assert (invoice.invoice["currency"], invoice.invoice["total_amount"]) == ("XTR", total)
    assert f"{weeks} weekly 30-minute sessions with Asha" in invoice.invoice["description"]
    held = await mentee.wait_for(f"{weeks} weeks are held for you")
    assert f"Pay {STARS}{total:,} for all of them" in held.text and f"🔁 Week {weeks} of {weeks}" in held.text
    assert held.buttons == [f"💳 Pay {STARS}{total:,}", "✖️ Let this time go"]
    await api.wait_idle()
    return invoice


async def paid_series(api: FakeBotApi, bot: Application) -> tuple[FakeUser, FakeUser, Checkout]:
    """Asha's paid offering, Ravi's three weeks of it held and paid in Stars (the receipt seen, the dispatcher
    idle); returns the mentor, the mentee and the checkout."""
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    invoice = await hold_series(api, mentee)
    checkout = await mentee.pay(invoice)
    await mentee.wait_for("Payment received")
    await settle(api, bot)
    return mentor, mentee, checkout


async def test_a_series_paid_in_stars_then_one_week_cancelled_is_settled_by_hand(
    api: FakeBotApi, bot: Application, runner: BotRunner
) -> None:
    mentor, mentee, operator = (
        api.user(101, "Asha"),
        api.user(202, "Ravi"),
        api.user(OPERATOR, "Ops", started=True),
    )
    await paid_offering(api, mentor)
    invoice = await hold_series(api, mentee)
    assert [b.status for b in await bookings_of(runner, bot, mentee.id)] == [S.AWAITING_PAYMENT] * 3
    checkout = await mentee.pay(invoice)
    assert checkout.ok and checkout.charge is not None
    receipt = await mentee.wait_for("Payment received")
    assert f"3 weekly sessions: {STARS}300 each" in receipt.text
    request = await mentor.wait_for("New booking request")
    assert "🔁 Week 1 of 3" in request.text and "✅ Confirm all weeks" in request.buttons
    await settle(api, bot)
    assert len(texts(mentor, "New booking request")) == 1 and len(texts(mentee, "Payment received")) == 1
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_status) for b in booked] == [(S.PENDING, PaymentStatus.PAID)] * 3
    entries = await ledger(runner)
    assert [(e.kind, e.amount, e.booking_id) for e in entries] == [
        (LedgerKind.CHARGE, Decimal(300), b.id) for b in booked
    ]
    assert {e.telegram_charge_id for e in entries} == {checkout.charge.telegram_payment_charge_id}
    # the same payment delivered again records nothing
    api.payments.deliver(checkout.charge, mentee)
    await settle(api, bot)
    assert len(await ledger(runner)) == 3 and len(texts(mentee, "Payment received")) == 1

    await mentor.press("✅ Confirm all weeks", message=request)
    await mentor.wait_for("Confirmed every week.")
    await settle(api, bot)

    # week 2 alone, cancelled in good time: its share is owed, settled by hand (no Stars refund call)
    await mentee.send("/mybookings")
    listing = await mentee.wait_for("My bookings")
    await mentee.press(lambda label: label.startswith("2. "), message=listing)
    card = await mentee.wait_for(lambda m: m.message_id == listing.message_id and "🔁 Week 2 of 3" in m.text)
    assert "One payment for the whole series; this week's share is ⭐\u00a0300" in card.text
    await mentee.press("❌ Cancel booking", message=listing)
    await mentee.wait_for("reason")
    await mentee.send("Travelling that week")
    await mentee.wait_for("Your booking is cancelled.")
    await settle(api, bot)
    assert api.payments.refunds == []
    due = await mentor.wait_for("Refund due: ⭐\u00a0300")
    assert "Telegram refunds a Stars payment only in full" in due.text and "↩️ Mark refunded" in due.buttons
    booked = await bookings_of(runner, bot, mentee.id)
    assert [b.payment_status for b in booked] == [PaymentStatus.PAID, PaymentStatus.REFUND_DUE, PaymentStatus.PAID]
    copy = await operator.wait_for("Refund due</b> (operator copy)".replace("</b>", ""))
    assert checkout.charge.telegram_payment_charge_id in copy.text
    await mentor.press("↩️ Mark refunded", message=due)
    await mentor.wait_for(lambda m: m.message_id == due.message_id and "Payment: refunded" in m.text)
    await mentee.wait_for("Refunded: ⭐\u00a0300")
    await settle(api, bot)
    assert api.payments.refunds == []
    kinds = [(e.kind, e.booking_id) for e in await ledger(runner)]
    assert kinds[3:] == [(LedgerKind.REFUND_DUE, booked[1].id), (LedgerKind.REFUND, booked[1].id)]
    totals = totals_from(sums_of(await ledger(runner)))
    assert (totals[Currency.XTR].paid, totals[Currency.XTR].refunded, totals[Currency.XTR].net) == (900, 300, 600)
    await mentor.send("/earnings")
    earnings = await mentor.wait_for("Your earnings")
    assert f"paid {STARS}900 · refunded {STARS}300 · net {STARS}600" in earnings.text

    # then the mentor cancels the other two weeks: a share was settled by hand, so Telegram cannot refund the
    # payment whole any more; the two shares are one message for the mentor (and one operator copy)
    await mentor.press("🚫 Cancel all future weeks", message=request)
    await mentor.wait_for("Why are you cancelling all future weeks of this series?")
    await mentor.send("Moving abroad")
    await mentor.wait_for("Cancelled every future week of the series.")
    await settle(api, bot)
    assert api.payments.refunds == []
    [both] = [m for m in mentor.bot_messages() if m.text and f"Refund due: {STARS}600" in m.text]
    assert "for 2 weeks of the weekly series" in both.text and both.text.count(f"· {STARS}300") == 2
    assert "🔁 Week 1 of 3" in both.text and "🔁 Week 3 of 3" in both.text and "Week 2 of 3" not in both.text
    assert both.buttons == ["↩️ Mark all refunded"] and texts(mentor, f"Refund due: {STARS}300") == []
    [copied] = texts(operator, f"{STARS}600")
    assert "2 weeks of weekly series" in copied and checkout.charge.telegram_payment_charge_id in copied
    assert len(texts(operator, "Refund due")) == 2
    await mark_all_refunded(api, bot, mentor, both)
    [refunded] = texts(mentee, f"Refunded: {STARS}600")
    assert "2 weekly sessions" in refunded and len(texts(mentee, "Refunded")) == 2
    assert api.payments.refunds == []
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_status) for b in booked] == [(S.CANCELLED, PaymentStatus.REFUNDED)] * 3
    stars = totals_from(sums_of(await ledger(runner)))[Currency.XTR]
    assert (stars.paid, stars.refunded, stars.owed) == (900, 900, 0)


async def test_a_series_cancelled_whole_before_the_cut_off_is_refunded_once(
    api: FakeBotApi, bot: Application, runner: BotRunner
) -> None:
    mentor, mentee, checkout = await paid_series(api, bot)
    assert checkout.charge is not None
    await mentee.send("/mybookings")
    listing = await mentee.wait_for("My bookings")
    await mentee.press(lambda label: label.startswith("1. "), message=listing)
    await mentee.wait_for(lambda m: m.message_id == listing.message_id and "🔁 Week 1 of 3" in m.text)
    await mentee.press("🚫 Cancel all future weeks", message=listing)
    await mentee.wait_for("Why are you cancelling all future weeks of this series?")
    await mentee.send("Found a full-time job")
    await mentee.wait_for("Cancelled every future week of the series.")
    await settle(api, bot)
    [refund] = api.payments.refunds  # the whole payment, once
    assert refund.telegram_payment_charge_id == checkout.charge.telegram_payment_charge_id
    assert refund.total_amount == 900
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_status) for b in booked] == [(S.CANCELLED, PaymentStatus.REFUNDED)] * 3
    refunds = [e for e in await ledger(runner) if e.kind == LedgerKind.REFUND]
    assert sorted(e.booking_id for e in refunds) == [b.id for b in booked]
    assert texts(mentor, "Refund due") == []
    [refunded] = texts(mentee, "Refunded")  # one message for the three weeks refunded together
    assert f"Refunded: {STARS}900" in refunded and "3 weekly sessions" in refunded
    assert refunded.count(f"· {STARS}300") == 3
    await settle(api, bot)
    assert len(api.payments.refunds) == 1
    totals = totals_from(sums_of(await ledger(runner)))
    assert (totals[Currency.XTR].paid, totals[Currency.XTR].refunded, totals[Currency.XTR].owed) == (900, 900, 0)


async def test_a_series_request_left_unanswered_runs_out_whole_and_is_refunded_once(
    api: FakeBotApi, bot: Application, clock: FixedClock, runner: BotRunner
) -> None:
    mentor, mentee, checkout = await paid_series(api, bot)
    assert checkout.charge is not None
    # The mentor never answers. The first week's request runs out at its start, a day before the other weeks'
    # would: the whole series runs out with it, and the one Stars payment is refunded whole, once.
    await at(api, bot, clock, SESSION)
    await settle(api, bot)
    [refund] = api.payments.refunds
    assert refund.telegram_payment_charge_id == checkout.charge.telegram_payment_charge_id
    assert refund.total_amount == 900
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_status) for b in booked] == [(S.EXPIRED, PaymentStatus.REFUNDED)] * 3
    assert texts(mentor, "Refund due") == []  # nothing left for the mentor to settle by hand
    [refunded] = texts(mentee, "Refunded")
    assert f"Refunded: {STARS}900" in refunded and "3 weekly sessions" in refunded
    await at(api, bot, clock, SESSION + timedelta(days=2))  # when the later weeks would have run out
    await settle(api, bot)
    assert len(api.payments.refunds) == 1


async def test_the_hold_runs_out_for_every_week_of_the_series(
    api: FakeBotApi, bot: Application, clock: FixedClock, runner: BotRunner
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    invoice = await hold_series(api, mentee, weeks=2)
    # a week's card in My bookings sends the series' one invoice again
    await mentee.send("/mybookings")
    listing = await mentee.wait_for("My bookings")
    await mentee.press(lambda label: label.startswith("2. "), message=listing)
    card = await mentee.wait_for(lambda m: m.message_id == listing.message_id and "🔁 Week 2 of 2" in m.text)
    assert "💳 Pay for all 2 weeks" in card.buttons
    await mentee.press("💳 Pay for all 2 weeks", message=listing)
    again = await mentee.wait_for(lambda m: m.invoice is not None and m.message_id != invoice.message_id)
    assert again.invoice is not None
    assert again.invoice["total_amount"] == 600 and again.invoice_payload == invoice.invoice_payload
    await at(api, bot, clock, NOW + HOLD)
    await mentee.wait_for("ran out before you paid")
    await settle(api, bot)
    assert len(texts(mentee, "ran out before you paid")) == 1 and len(texts(mentor, "did not pay in time")) == 1
    assert [b.status for b in await bookings_of(runner, bot, mentee.id)] == [S.EXPIRED] * 2
    late = await mentee.pay(invoice)
    assert not late.ok and late.error_message == NOT_AWAITING
    assert await ledger(runner) == []


async def test_a_package_is_booked_from_discover_as_its_weeks_and_paid_at_once(
    api: FakeBotApi, bot: Application, clock: FixedClock, runner: BotRunner
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    await mentor.press("✏️ Edit")
    await mentor.wait_for("tap what you want to change")
    await mentor.press("✏️ Package")
    asked = await mentor.wait_for("Sell this offering only as a package of weekly sessions?")
    assert asked.buttons[:6] == ["2 weeks", "4 weeks", "6 weeks", "8 weeks", "12 weeks", "One session at a time"]
    await mentor.send("13")
    await mentor.wait_for("Type a number of weekly sessions from 2 to 12")
    await mentor.press("4 weeks", message=asked)
    saved = await mentor.wait_for("Saved: Package.")
    assert "📦 Package: 4 weekly sessions, booked together" in saved.text
    await api.wait_idle()

    await onboard(api, mentee, LONDON)
    await mentee.send("/book")
    listing = await mentee.wait_for("Open offerings")
    assert "📦 Package: 4 weekly sessions, booked together" in listing.text
    await mentee.press("ℹ️ Details 1")
    details = await mentee.wait_for(
        lambda m: "📦 Package: 4 weekly sessions" in (m.text or "") and "📅 Book" in m.buttons
    )
    await mentee.press("📅 Book", message=details)
    await mentee.wait_for("Choose a date.")
    await mentee.press(mentee.last_keyboard_message().keyboard[0][0].text)
    await mentee.wait_for("Choose a time.")
    await pick_time_and_skip_notes(api, mentee)
    summary = mentee.last_keyboard_message()
    assert "Next: this time every week for 4 weeks" in summary.text
    assert summary.buttons[0] == "📦 On to the 4 weeks ▶"
    assert not [b for b in summary.buttons if "Confirm" in b or "Repeat weekly" in b]  # never a single session
    await mentee.press("📦 On to the 4 weeks ▶", message=summary)
    plan = await mentee.wait_for(lambda m: "Week 4:" in (m.text or ""))
    assert "◀ Other number of weeks" not in plan.buttons
    await mentee.press(f"⭐ Book 4 weeks and pay {STARS}1,200 in Stars", message=plan)
    invoice = await mentee.wait_for(lambda m: m.invoice is not None)
    assert invoice.invoice is not None
    assert invoice.invoice["total_amount"] == 1200
    await api.wait_idle()
    assert (await mentee.pay(invoice)).ok
    await mentee.wait_for("4 weekly sessions: ⭐\u00a0300 each")
    await settle(api, bot)
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.series_week, b.status, b.payment_status) for b in booked] == [
        (week, S.PENDING, PaymentStatus.PAID) for week in (1, 2, 3, 4)
    ]
    # one session of a package is never booked on its own, whatever a button says
    request = BookingRequest(1, mentee.id, booked[-1].scheduled_at + timedelta(weeks=1))
    async with bot.bot_data["services"].uow_factory() as uow:
        with pytest.raises(InvalidInput, match="package"):
            await book_slot(uow, clock, request)


async def test_the_mentor_declines_a_series_paid_in_stars_and_the_payment_is_refunded_once(
    api: FakeBotApi, bot: Application, runner: BotRunner
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await paid_offering(api, mentor)
    invoice = await hold_series(api, mentee, weeks=2)
    checkout = await mentee.pay(invoice)
    assert checkout.charge is not None
    request = await mentor.wait_for("New booking request")
    await mentor.press("❌ Decline all weeks", message=request)
    await mentor.wait_for("reason")
    await mentor.send("Travelling all month")
    await mentor.wait_for("Declined every week that was waiting for your answer.")
    await settle(api, bot)
    [refund] = api.payments.refunds
    assert refund.telegram_payment_charge_id == checkout.charge.telegram_payment_charge_id
    assert refund.total_amount == 600
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_status) for b in booked] == [(S.DECLINED, PaymentStatus.REFUNDED)] * 2
    assert texts(mentor, "Refund due") == []
    [refunded] = texts(mentee, "Refunded")
    assert f"Refunded: {STARS}600" in refunded and "2 weekly sessions" in refunded


async def test_a_series_paid_through_the_provider_and_declined_is_one_refund_message_marked_at_once(
    api: FakeBotApi, bot: Application, runner: BotRunner
) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    operator = api.user(OPERATOR, "Ops", started=True)
    await paid_offering(api, mentor)
    await onboard(api, mentee, LONDON)
    await open_first_date(api, mentee)
    await pick_time_and_skip_notes(api, mentee)
    await mentee.press("🔁 Repeat weekly")
    await mentee.wait_for("How many weeks in all?")
    await mentee.press("3")
    plan = await mentee.wait_for(lambda m: "Week 3:" in (m.text or ""))
    await mentee.press("💳 Book 3 weeks and pay ₹1,500", message=plan)
    invoice = await mentee.wait_for(lambda m: m.invoice is not None)
    assert invoice.invoice is not None and invoice.invoice["currency"] == "INR"
    await api.wait_idle()
    checkout = await mentee.pay(invoice)
    assert checkout.ok and checkout.charge is not None
    request = await mentor.wait_for("New booking request")
    await settle(api, bot)
    await mentor.press("❌ Decline all weeks", message=request)
    await mentor.wait_for("reason")
    await mentor.send("Travelling all month")
    await mentor.wait_for("Declined every week that was waiting for your answer.")
    await settle(api, bot)
    # one message for the mentor, one for the operator: the weeks, the total, the provider's charge id
    [due] = [m for m in mentor.bot_messages() if m.text and "Refund due" in m.text]
    assert "Refund due: ₹1,500 to Ravi for 3 weeks of the weekly series" in due.text
    assert due.text.count("· ₹500") == 3 and "provider's dashboard" in due.text
    assert checkout.charge.provider_payment_charge_id in due.text and due.buttons == ["↩️ Mark all refunded"]
    [copy] = texts(operator, "Refund due")
    assert "₹1,500, 3 weeks of weekly series" in copy and checkout.charge.provider_payment_charge_id in copy
    booked = await bookings_of(runner, bot, mentee.id)
    assert [(b.status, b.payment_status) for b in booked] == [(S.DECLINED, PaymentStatus.REFUND_DUE)] * 3
    data = due.button("↩️ Mark all refunded").callback_data
    assert data is not None
    await mark_all_refunded(api, bot, mentor, due)
    [refunded] = texts(mentee, "Refunded")
    assert "Refunded: ₹1,500" in refunded and "3 weekly sessions" in refunded
    query = await mentor.press_data(None, data)  # pressed again: refused, nothing more recorded or sent
    answer = await answer_to(api, query)
    assert answer.show_alert and answer.text == "There is nothing to mark on this booking; nothing was changed."
    await settle(api, bot)
    assert len(texts(mentee, "Refunded")) == 1 and len(texts(mentor, "Refund due")) == 1
    booked = await bookings_of(runner, bot, mentee.id)
    assert [b.payment_status for b in booked] == [PaymentStatus.REFUNDED] * 3
    entries = await ledger(runner)
    assert [e.kind for e in entries].count(LedgerKind.REFUND) == 3 and len(entries) == 9
    totals = totals_from(sums_of(entries))[Currency.INR]
    assert (totals.paid, totals.refunded, totals.owed) == (1500, 1500, 0)
