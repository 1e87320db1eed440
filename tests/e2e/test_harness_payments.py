"""Self-test of the test server's payments (``sandbox.botapi.payments``): invoices checked as Telegram checks them,
a pre-checkout query answered once and in time, the payment that follows, and Stars refunds once per charge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, LabeledPrice, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from sandbox.botapi import FakeBotApi

PRICE = [LabeledPrice("Session", 300)]


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url) as raw_bot:
        yield raw_bot


async def on_checkout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.pre_checkout_query
    assert query is not None
    if query.invoice_payload == "slow":
        await context.bot_data["gate"].wait()
    if query.invoice_payload == "twice":
        await query.answer(ok=True)
        with pytest.raises(BadRequest, match="Query is too old"):
            await query.answer(ok=True)
        return
    if query.invoice_payload == "no":
        await query.answer(ok=False, error_message="Sold out")
    else:
        await query.answer(ok=True)


async def on_paid(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    context.bot_data.setdefault("paid", []).append(update.effective_message.successful_payment)


@pytest.fixture
async def app(api: FakeBotApi) -> AsyncIterator[Application]:
    application = api.configure(ApplicationBuilder()).build()
    application.add_handler(PreCheckoutQueryHandler(on_checkout))
    application.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, on_paid))
    application.bot_data["gate"] = asyncio.Event()
    async with api.running(application):
        yield application


async def test_invoices_are_checked_as_telegram_checks_them(api: FakeBotApi, bot: Bot) -> None:
    payer = api.user(202, started=True)
    stars = await bot.send_invoice(payer.id, "Session", "30 minutes", "b1.x", "XTR", PRICE)
    assert (stars.invoice.currency, stars.invoice.total_amount) == ("XTR", 300)  # type: ignore[union-attr]
    card = await bot.send_invoice(payer.id, "Session", "30 minutes", "b1.x", "INR", [LabeledPrice("S", 50000)],
                                  provider_token="284685063:TEST:x")  # fmt: skip
    assert card.invoice is not None and card.invoice.total_amount == 50000
    refused = [
        dict(currency="XTR", prices=PRICE, provider_token="284685063:TEST:x"),  # Stars take no token
        dict(currency="XTR", prices=[*PRICE, LabeledPrice("Tip", 10)]),  # Stars take one price
        dict(currency="INR", prices=[LabeledPrice("S", 50000)]),  # a provider's currency needs its token
        dict(currency="XTR", prices=[LabeledPrice("S", 0)]),
        dict(currency="XTR", prices=PRICE, title="x" * 33),
        dict(currency="XTR", prices=PRICE, payload="p" * 129),
    ]
    for case in refused:
        values = {"title": "Session", "payload": "b1.x", **case}
        with pytest.raises(BadRequest):
            await bot.send_invoice(payer.id, description="30 minutes", **values)  # type: ignore[arg-type]
    assert [m.invoice is not None for m in payer.bot_messages()] == [True, True]


async def test_paying_asks_the_bot_then_reports_the_payment(api: FakeBotApi, app: Application) -> None:
    payer = api.user(202, started=True)
    await app.bot.send_invoice(payer.id, "Session", "30 minutes", "b1.ok", "XTR", PRICE)
    invoice = await payer.wait_for("Session")
    checkout = await payer.pay(invoice)
    assert checkout.ok and checkout.answer_seconds is not None and checkout.answer_seconds < 10
    await api.wait_idle()
    [paid] = app.bot_data["paid"]
    assert checkout.charge is not None
    assert (paid.currency, paid.total_amount, paid.invoice_payload) == ("XTR", 300, "b1.ok")
    assert paid.telegram_payment_charge_id == checkout.charge.telegram_payment_charge_id
    api.payments.deliver(checkout.charge, payer)  # Telegram may report one payment twice
    await api.wait_idle()
    assert [p.telegram_payment_charge_id for p in app.bot_data["paid"]] == [paid.telegram_payment_charge_id] * 2


async def test_a_refused_checkout_charges_nothing(api: FakeBotApi, app: Application) -> None:
    payer = api.user(202, started=True)
    await app.bot.send_invoice(payer.id, "Session", "30 minutes", "no", "XTR", PRICE)
    checkout = await payer.pay(await payer.wait_for("Session"))
    await api.wait_idle()
    assert (checkout.ok, checkout.error_message, checkout.charge) == (False, "Sold out", None)
    assert "paid" not in app.bot_data and api.payments.charges == {}


async def test_a_checkout_is_answered_once_and_in_time(api: FakeBotApi, app: Application) -> None:
    payer = api.user(202, started=True)
    twice = await api.payments.checkout(payer, "twice", "XTR", 300)
    await api.wait_idle()
    assert twice.ok and twice.rejected_answers == 1
    # a bot that takes too long: Telegram gives up after 10 s (here the wait is cut short, then the clock moved)
    slow = await api.payments.checkout(payer, "slow", "XTR", 300, timeout=0.2)
    assert not slow.answered
    slow.asked_at -= 11
    app.bot_data["gate"].set()
    await api.wait_idle()
    assert slow.rejected_answers == 1 and not slow.answered  # too late: refused like Telegram


async def test_stars_are_refunded_once_per_charge(api: FakeBotApi, app: Application) -> None:
    payer, other = api.user(202, started=True), api.user(303, started=True)
    await app.bot.send_invoice(payer.id, "Session", "30 minutes", "b1.ok", "XTR", PRICE)
    checkout = await payer.pay(await payer.wait_for("Session"))
    await api.wait_idle()
    assert checkout.charge is not None
    charge = checkout.charge.telegram_payment_charge_id
    with pytest.raises(BadRequest):
        await app.bot.refund_star_payment(other.id, charge)  # not their payment
    assert await app.bot.refund_star_payment(payer.id, charge)
    with pytest.raises(BadRequest, match=r"(?i)charge_already_refunded"):
        await app.bot.refund_star_payment(payer.id, charge)
    with pytest.raises(BadRequest):
        await app.bot.refund_star_payment(payer.id, "stxUNKNOWN")
    assert [r.telegram_payment_charge_id for r in api.payments.refunds] == [charge]
