"""The screens of a weekly series paid with one UPI payment, without Telegram: the details with the stored prices
added up (a changed stored price shows, a button's figure never), the link and QR caption for that sum, the
mentor's one question and the mentee's receipt and "not received" for the series, in Hindi and Russian too."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

from chat.i18n import use_locale
from domain.model import BookingView, Currency, PaymentMode
from handlers.payments import qr_caption, upi_claim_head, upi_missing_head, upi_receipt_head, upi_screen
from tests.unit.test_payments_screens import view

UPI_ID = "asha@okicici"


def series(*amounts: str) -> list[BookingView]:
    """The weeks of series 42 held for one UPI payment, with these stored prices."""
    first = view(Currency.INR, amounts[0], PaymentMode.UPI)
    weeks = []
    for place, amount in enumerate(amounts):
        booking = first.booking.with_changes(
            id=42 + place, series_id=42, series_week=place + 1, series_weeks=len(amounts), amount=Decimal(amount),
            scheduled_at=first.booking.scheduled_at + timedelta(weeks=place),
        )  # fmt: skip
        weeks.append(BookingView(booking, first.offering, first.mentor, first.mentee))
    return weeks


def test_the_details_ask_for_the_stored_prices_added_up() -> None:
    weeks = series("500", "450", "500")  # one week's price stored earlier
    text, markup, link = upi_screen(weeks, UPI_ID, "Asia/Kolkata")
    values = dict(parse_qsl(urlsplit(link).query))
    assert (values["pa"], values["am"], values["cu"]) == (UPI_ID, "1450.00", "INR")
    # the series' number (its first week's booking) is kept whole, however long the title
    assert values["tn"] == "A very long offering title that Telegram would #42"
    assert "3 weeks are held for you. Pay ₹1,450 for all of them by UPI to Asha, in one payment" in text
    assert "Pay exactly ₹1,450" in text and "🔁 Week 3 of 3" in text
    assert [b.text for row in markup.inline_keyboard for b in row] == ["✅ I have paid", "✖️ Let this time go"]
    assert [b.callback_data for row in markup.inline_keyboard for b in row] == ["pa:42:c", "pa:42:r"]
    assert "Scan to pay ₹1,450" in qr_caption(weeks, UPI_ID)


def test_a_single_booking_keeps_its_own_screen() -> None:
    single = [view(Currency.INR, "500", PaymentMode.UPI)]
    text, _markup, link = upi_screen(single, UPI_ID, "Asia/Kolkata")
    assert text.startswith("🕒 This time is held for you. Pay ₹500 by UPI to Asha:") and "am=500.00" in link
    assert "Week" not in text


def test_the_people_are_told_of_the_whole_series_once() -> None:
    weeks = series("500", "500")
    bookings = [w.booking for w in weeks]
    claim = upi_claim_head(weeks[0], bookings)
    assert "Ravi says they paid ₹1,000 by UPI for 2 weekly sessions of this series" in claim
    assert "once for the whole series" in claim and "#42" in claim
    assert "₹1,000 for <b>" in upi_receipt_head(weeks[0], bookings)
    assert "2 weekly sessions (₹500 each)" in upi_receipt_head(weeks[0], bookings)
    assert "has not received your UPI payment of ₹1,000" in upi_missing_head(weeks[0], bookings)
    single = view(Currency.INR, "500", PaymentMode.UPI)
    assert "for this booking" in upi_claim_head(single, [single.booking])
    with use_locale("ru"):
        assert "2 еженедельных занятия" in upi_claim_head(weeks[0], bookings)
        text, _markup, _link = upi_screen(weeks, UPI_ID, "Asia/Kolkata")
        assert "2 недели держатся за вами" in text
    with use_locale("hi"):
        assert "साप्ताहिक सत्रों" in upi_receipt_head(weeks[0], bookings)
