"""The payments flow's pure parts: the invoice built from the stored booking, the ledger's CSV, the earnings
screen, and recording a payment again while the database is away."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chat.i18n import use_locale
from domain.model import (
    Booking,
    BookingStatus,
    BookingView,
    Currency,
    Offering,
    OfferingStatus,
    PaymentMode,
    PaymentStatus,
    User,
)
from domain.payments import Earnings, LedgerEntry, LedgerKind, Totals
from handlers.payments import earnings_screen, invoice_for, ledger_csv, with_retries

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def view(currency: Currency, amount: str, mode: PaymentMode) -> BookingView:
    offering = Offering(1, "A very long offering title that Telegram would refuse", Decimal(500), 30, id=7,
                        status=OfferingStatus.ACTIVE)  # fmt: skip
    booking = Booking(
        offering_id=7, mentor_id=1, mentee_id=2, scheduled_at=NOW + timedelta(days=1), duration_minutes=30,
        buffer_before_minutes=5, buffer_after_minutes=5, timezone="Asia/Kolkata", amount=Decimal(amount),
        payment_status=PaymentStatus.PENDING, status=BookingStatus.AWAITING_PAYMENT, created_at=NOW, id=42,
        currency=currency, payment_mode=mode, hold_until=NOW + timedelta(minutes=15), payment_nonce="0" * 16,
    )  # fmt: skip
    return BookingView(booking, offering, User(1, "Asha", timezone="Asia/Kolkata"), User(2, "Ravi"))


def test_the_invoice_is_the_stored_booking() -> None:
    stars = invoice_for(view(Currency.XTR, "300", PaymentMode.STARS), "Europe/London", "284685063:TEST:x")
    assert (stars.currency, stars.amount, stars.provider_token) == ("XTR", 300, "")
    assert stars.payload == f"b42.{'0' * 16}"
    assert stars.chat_id == 2 and "30-minute session with Asha" in stars.description
    rupees = invoice_for(view(Currency.INR, "499.50", PaymentMode.PROVIDER), "Europe/London", "284685063:TEST:x")
    assert (rupees.currency, rupees.amount, rupees.provider_token) == ("INR", 49950, "284685063:TEST:x")


def test_the_ledger_downloads_as_csv() -> None:
    charge = LedgerEntry(
        42, 1, 2, LedgerKind.CHARGE, Decimal("499.50"), Currency.INR, PaymentMode.PROVIDER, "tg-1", NOW,
        "tg-1", "prov-1",
    )  # fmt: skip
    entries = [charge, charge.event(LedgerKind.REFUND_DUE, NOW + timedelta(hours=1))]
    data = ledger_csv(entries)
    assert data.startswith(b"\xef\xbb\xbf")  # a byte order mark: spreadsheets read it as UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == {
        "recorded_at_utc": "2026-11-24T06:00:00+00:00", "booking_id": "42", "event": "charge", "amount": "499.50",
        "currency": "INR", "mode": "provider", "telegram_payment_charge_id": "tg-1",
        "provider_payment_charge_id": "prov-1",
    }  # fmt: skip
    assert [r["event"] for r in rows] == ["charge", "refund_due"]
    assert ledger_csv([]).decode("utf-8-sig").strip() == ",".join(csv.DictReader(io.StringIO(data.decode(
        "utf-8-sig"))).fieldnames or ())  # fmt: skip


def test_the_earnings_screen_per_currency_in_the_readers_language() -> None:
    earnings = Earnings(
        datetime(2026, 10, 31, 18, 30, tzinfo=UTC),
        month={Currency.XTR: Totals(Decimal(200), Decimal(300), Decimal(0))},
        all_time={
            Currency.XTR: Totals(Decimal(500), Decimal(300), Decimal(0)),
            Currency.INR: Totals(Decimal(1500), Decimal(0), Decimal(500)),
        },
    )
    text, markup = earnings_screen(earnings, "Asia/Kolkata")
    month, all_time = text.split("All time")
    assert "(since Sun, Nov 1)" in month  # the mentor's month, in their zone
    assert "⭐ Telegram Stars: paid ⭐\u00a0200 · refunded ⭐\u00a0300 · net −⭐\u00a0100" in month
    assert "₹ Rupees: paid ₹1,500 · refunded ₹0 · net ₹1,500 · refunds still owed ₹500" in all_time
    assert all_time.index("₹ Rupees") < all_time.index("Telegram Stars")
    assert markup.inline_keyboard[0][0].text == "⬇️ Download CSV"
    with use_locale("ru"):
        russian, _markup = earnings_screen(earnings, "Asia/Kolkata")
    assert "(с вс, 1 нояб.)" in russian
    assert "₹ Рупии: получено 1\u00a0500\u00a0₹ · возвращено 0\u00a0₹ · итого 1\u00a0500\u00a0₹" in russian


async def test_recording_a_payment_is_tried_again_while_the_database_is_away() -> None:
    calls, pauses = [], []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("database away")
        return "recorded"

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    assert await with_retries(flaky, (0.5, 2.0, 5.0), sleep) == "recorded"
    assert (len(calls), pauses) == (3, [0.5, 2.0])

    async def down() -> str:
        calls.append(1)
        raise ConnectionError("database away")

    calls.clear()
    pauses.clear()
    with pytest.raises(ConnectionError):
        await with_retries(down, (0.5, 2.0), sleep)
    assert (len(calls), pauses) == (3, [0.5, 2.0])
