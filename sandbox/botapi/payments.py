"""Payments on the test server: ``sendInvoice``, ``answerPreCheckoutQuery`` and ``refundStarPayment``, checked as
Telegram checks them, and the payer's side - a person tapping Pay on an invoice.

* ``sendInvoice``: title 1-32 characters, description 1-255, payload 1-128 bytes, a currency, and prices in the
  smallest unit (whole positive numbers). Stars (``XTR``): exactly one price and no provider token; any other
  currency: a provider token. The invoice is a message in the chat (``ChatMessage.invoice``).
* Paying (:meth:`PaymentDesk.pay`, or ``FakeUser.pay``): the ``pre_checkout_query`` update goes to the bot, which
  must answer once, within 10 seconds (:attr:`Checkout.answer_seconds` records how long it took); on ``ok`` the
  ``successful_payment`` service message follows with new charge ids. :meth:`PaymentDesk.deliver` sends the same
  ``successful_payment`` a second time, as Telegram may; :meth:`PaymentDesk.checkout` asks with any payload.
* ``refundStarPayment``: a Stars charge of that user, refunded once; again answers ``CHARGE_ALREADY_REFUNDED`` as
  Telegram does.

Error descriptions Telegram documents are used as they are; for the others the server writes its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
from collections.abc import Callable
from typing import Any

from sandbox.botapi.errors import QUERY_TOO_OLD, bad_request
from sandbox.botapi.records import ChatMessage, Upload
from sandbox.botapi.state import BotApiState, Person
from sandbox.botapi.validation import as_bool, as_int, validate_markup

__all__ = ["CHECKOUT_TIMEOUT", "Charge", "Checkout", "PaymentDesk"]

CHECKOUT_TIMEOUT = 10.0  # seconds Telegram waits for the answer to a pre-checkout query
STARS = "XTR"
ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"


@dataclasses.dataclass
class Charge:
    """Money Telegram took: what a ``successful_payment`` reports."""

    user_id: int
    currency: str
    total_amount: int
    invoice_payload: str
    telegram_payment_charge_id: str
    provider_payment_charge_id: str
    refunded: bool = False

    def to_api(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "total_amount": self.total_amount,
            "invoice_payload": self.invoice_payload,
            "telegram_payment_charge_id": self.telegram_payment_charge_id,
            "provider_payment_charge_id": self.provider_payment_charge_id,
        }


@dataclasses.dataclass
class Checkout:
    """One tap on Pay: the pre-checkout query, the bot's answer and, if it said yes, the charge."""

    id: str
    user_id: int
    invoice: ChatMessage | None  # None: a query made up by the test (a forged payload)
    currency: str
    total_amount: int
    invoice_payload: str
    asked_at: float  # loop time
    answers: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    rejected_answers: int = 0
    answer_seconds: float | None = None
    charge: Charge | None = None

    @property
    def answered(self) -> bool:
        return bool(self.answers)

    @property
    def ok(self) -> bool:
        return self.answered and bool(self.answers[0]["ok"])

    @property
    def error_message(self) -> str | None:
        return self.answers[0].get("error_message") if self.answered else None


class PaymentDesk:
    """The payment methods over one :class:`BotApiState`, and the payer's side. ``require_chat`` checks a chat the
    bot sends to (the method handlers' own check)."""

    def __init__(self, state: BotApiState, require_chat: Callable[[dict[str, Any]], Person]) -> None:
        self.state = state
        self.require_chat = require_chat
        self.checkouts: dict[str, Checkout] = {}
        self.charges: dict[str, Charge] = {}  # by telegram_payment_charge_id
        self.refunds: list[Charge] = []  # in the order they were made
        self._ids = itertools.count(1)
        self.handlers = {
            "sendinvoice": self.send_invoice,
            "answerprecheckoutquery": self.answer_pre_checkout_query,
            "refundstarpayment": self.refund_star_payment,
        }

    # -- the bot's calls -------------------------------------------------------------------------------------

    async def send_invoice(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        user = self.require_chat(params)
        title, description = str(params.get("title") or ""), str(params.get("description") or "")
        payload, currency = str(params.get("payload") or ""), str(params.get("currency") or "")
        if not 1 <= len(title) <= 32:
            raise bad_request("invoice title must be 1-32 characters")
        if not 1 <= len(description) <= 255:
            raise bad_request("invoice description must be 1-255 characters")
        if not 1 <= len(payload.encode()) <= 128:
            raise bad_request("INVOICE_PAYLOAD_INVALID")
        if len(currency) != 3 or not currency.isupper():
            raise bad_request("CURRENCY_INVALID")
        prices = params.get("prices")
        if isinstance(prices, str):
            prices = json.loads(prices)
        if not isinstance(prices, list) or not prices:
            raise bad_request("can't parse prices JSON object")
        amounts = []
        for price in prices:
            amount = price.get("amount") if isinstance(price, dict) else None
            if not isinstance(price, dict) or not price.get("label") or not isinstance(amount, int) or amount <= 0:
                raise bad_request("can't parse LabeledPrice JSON object")
            amounts.append(amount)
        token = str(params.get("provider_token") or "")
        if currency == STARS:
            if token:
                raise bad_request("provider_token must be empty for payments in Telegram Stars")
            if len(prices) != 1:
                raise bad_request("exactly one price is needed for payments in Telegram Stars")
        elif not token:
            raise bad_request("PAYMENT_PROVIDER_INVALID")
        invoice = {
            "title": title,
            "description": description,
            "start_parameter": str(params.get("start_parameter") or ""),
            "currency": currency,
            "total_amount": sum(amounts),
        }
        message = self.state.new_message(
            user.id,
            from_bot=True,
            sender=self.state.bot_user(),
            invoice=invoice,
            invoice_payload=payload,
            raw_reply_markup=validate_markup(params.get("reply_markup")),
        )
        self.state.record_event("sent", message)
        return message.to_api()

    async def answer_pre_checkout_query(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        checkout = self.checkouts.get(str(params.get("pre_checkout_query_id")))
        if checkout is None:
            raise bad_request(QUERY_TOO_OLD)
        late = asyncio.get_running_loop().time() - checkout.asked_at > CHECKOUT_TIMEOUT
        if checkout.answered or late:
            checkout.rejected_answers += 1
            raise bad_request(QUERY_TOO_OLD)
        ok = as_bool(params.get("ok", False))
        message = params.get("error_message")
        if not ok and not message:
            raise bad_request("error_message is required when ok is false")
        checkout.answers.append({"ok": ok, "error_message": message})
        checkout.answer_seconds = asyncio.get_running_loop().time() - checkout.asked_at
        self.state.notify()
        return True

    async def refund_star_payment(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        user_id = as_int(params.get("user_id"), "user_id")
        charge = self.charges.get(str(params.get("telegram_payment_charge_id") or ""))
        if charge is None or charge.user_id != user_id or charge.currency != STARS:
            raise bad_request("CHARGE_NOT_FOUND")
        if charge.refunded:
            raise bad_request(ALREADY_REFUNDED)
        charge.refunded = True
        self.refunds.append(charge)
        self.state.notify()
        return True

    # -- the payer's side ------------------------------------------------------------------------------------

    async def checkout(
        self,
        payer: Person,
        payload: str,
        currency: str,
        total_amount: int,
        *,
        invoice: ChatMessage | None = None,
        timeout: float = CHECKOUT_TIMEOUT,
    ) -> Checkout:
        """Send the bot a ``pre_checkout_query`` as Telegram would for ``payer`` paying ``total_amount`` of
        ``currency`` with ``payload`` (forged values included), and wait at most ``timeout`` seconds (Telegram's 10
        at most) for its answer. Returns the checkout, answered or not."""
        loop = asyncio.get_running_loop()
        checkout = Checkout(
            id=str(next(self._ids) + 7_000_000_000_000_000_000),
            user_id=payer.id,
            invoice=invoice,
            currency=currency,
            total_amount=total_amount,
            invoice_payload=payload,
            asked_at=loop.time(),
        )
        self.checkouts[checkout.id] = checkout
        self.state.mark_action()
        query = {
            "id": checkout.id,
            "from": payer.to_api(),
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
        }
        self.state.enqueue_update({"pre_checkout_query": query})
        await self.state.wait_until(
            lambda: checkout.answered, min(timeout, CHECKOUT_TIMEOUT), lambda: "", raise_on_timeout=False
        )
        return checkout

    async def pay(
        self, payer: Person, invoice: ChatMessage, *, complete: bool = True, timeout: float = CHECKOUT_TIMEOUT
    ) -> Checkout:
        """``payer`` taps Pay on ``invoice``: the pre-checkout query, the bot's answer and, on yes, a new charge
        and its ``successful_payment`` message (``complete=False`` holds the message back: :meth:`deliver` sends it
        later, as when Telegram is slow to report a payment)."""
        if invoice.invoice is None or invoice.invoice_payload is None:
            raise AssertionError(f"message {invoice.message_id} is not an invoice")
        checkout = await self.checkout(
            payer, invoice.invoice_payload, invoice.invoice["currency"], invoice.invoice["total_amount"],
            invoice=invoice, timeout=timeout,
        )  # fmt: skip
        if checkout.ok:
            number = next(self._ids)
            stars = checkout.currency == STARS
            checkout.charge = Charge(
                user_id=payer.id,
                currency=checkout.currency,
                total_amount=checkout.total_amount,
                invoice_payload=checkout.invoice_payload,
                telegram_payment_charge_id=f"{'stxTEST' if stars else 'tgTEST'}{number:010d}",
                provider_payment_charge_id="" if stars else f"prov_TEST_{number:08d}",
            )
            self.charges[checkout.charge.telegram_payment_charge_id] = checkout.charge
            if complete:
                self.deliver(checkout.charge, payer)
        return checkout

    def deliver(self, charge: Charge, payer: Person) -> ChatMessage:
        """The ``successful_payment`` service message for ``charge`` (call it again for a second delivery of the
        same payment, as Telegram may make)."""
        message = self.state.new_message(
            payer.id, from_bot=False, sender=payer.to_api(), successful_payment=charge.to_api()
        )
        self.state.record_event("user", message)
        self.state.enqueue_update({"message": message.to_api()})
        return message
