"""The messages of a weekly series' refunds made due or done by one action, without Telegram: the weeks with
their shares and the total from the ledger's rows (a share stored at another price shows, no button's figure),
one Mark all refunded naming the action, the operator's copy, the mentee's one message, the receipt of a series
confirmed with its payment; in Hindi and Russian too."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from chat.i18n import use_locale
from domain.model import BookingStatus, BookingView, Currency, PaymentMode
from domain.notifications import Notification, NotificationKind
from domain.payments import LedgerEntry, LedgerKind
from domain.usecases.payments import RefundsTogether
from handlers.callbacks import MarkSeriesRefunded
from handlers.notify import receipt_text, series_refund_due, series_refund_due_operator, series_refunded
from tests.unit.test_payments_screens import NOW
from tests.unit.test_upi_series_screens import series

K = NotificationKind


def rows(weeks: list[BookingView], kind: LedgerKind, mode: PaymentMode, first_id: int = 90) -> list[LedgerEntry]:
    """One ``kind`` row per week, for the week's stored price, ids from ``first_id``."""
    entries = []
    for place, w in enumerate(weeks):
        ref = f"tg-1:{w.booking.id}"
        booking_id, amount = w.booking.id or 0, w.booking.amount
        entries.append(
            LedgerEntry(
                booking_id, 1, 2, kind, amount, Currency.INR, mode, ref, NOW, "tg-1", "prov-1", first_id + place
            )
        )
    return entries


def test_the_mentor_is_told_once_with_the_weeks_the_total_and_one_button() -> None:
    weeks = series("500", "450", "500")
    found = RefundsTogether(rows(weeks, LedgerKind.REFUND_DUE, PaymentMode.PROVIDER), weeks, 3)
    assert (found.total, found.count) == ((Decimal(1450), Currency.INR), 3)
    told = series_refund_due(Notification(K.SERIES_REFUND_DUE, 1, NOW, 42, payment_id=92), found, "UTC")
    assert told.chat_id == 1
    assert "Refund due: ₹1,450</b> to Ravi for 3 weeks of the weekly series" in told.text
    assert told.text.count("🔁 Week") == 3 and "· ₹450" in told.text and told.text.count("· ₹500") == 2
    assert "provider's dashboard" in told.text and "prov-1" in told.text
    assert told.reply_markup is not None
    [[press]] = told.reply_markup.inline_keyboard
    assert press.text == "↩️ Mark all refunded"
    assert isinstance(press.callback_data, str)
    assert MarkSeriesRefunded.unpack(press.callback_data) == MarkSeriesRefunded(42, 92)
    upi = RefundsTogether(rows(weeks, LedgerKind.REFUND_DUE, PaymentMode.UPI), weeks, 3)
    upi_text = series_refund_due(Notification(K.SERIES_REFUND_DUE, 1, NOW, 42, payment_id=92), upi, "UTC").text
    assert "send it back by UPI" in upi_text and "prov-1" not in upi_text
    copy = series_refund_due_operator(found, -100, "UTC")
    assert copy.chat_id == -100 and "(operator copy): ₹1,450, 3 weeks of weekly series #42" in copy.text
    with use_locale("ru"):
        text = series_refund_due(Notification(K.SERIES_REFUND_DUE, 1, NOW, 42, payment_id=92), found, "UTC").text
        assert "за 3 недели еженедельной серии" in text and "Всё возвращено" in text
    with use_locale("hi"):
        text = series_refund_due(Notification(K.SERIES_REFUND_DUE, 1, NOW, 42, payment_id=92), found, "UTC").text
        assert "सब रिफ़ंड हो गया" in text


def test_the_mentee_is_told_once_of_the_weeks_refunded_together() -> None:
    weeks = series("500", "500")
    found = RefundsTogether(rows(weeks, LedgerKind.REFUND, PaymentMode.STARS), weeks, 0)
    told = series_refunded(found, "UTC")
    assert told.chat_id == 2 and told.text.startswith("↩️ Refunded: ₹1,000 for <b>")
    assert "2 weekly sessions:" in told.text and told.text.count("· ₹500") == 2
    with use_locale("ru"):
        assert "2 еженедельные сессии" in series_refunded(found, "UTC").text


def test_a_series_confirmed_with_its_payment_says_every_week_is() -> None:
    weeks = series("500", "500", "500")
    confirmed = [replace(w, booking=w.booking.with_changes(status=BookingStatus.CONFIRMED)) for w in weeks]
    together = [w.booking for w in confirmed]
    receipt = receipt_text(confirmed[0], together)
    assert receipt.endswith("All 3 weekly sessions are confirmed.") and "Your session is" not in receipt
    stars = replace(
        confirmed[0],
        booking=confirmed[0].booking.with_changes(payment_mode=PaymentMode.STARS, amount=Decimal(300)),
    )
    assert receipt_text(stars).endswith("All 3 weekly sessions are confirmed.")
    with use_locale("ru"):
        assert receipt_text(confirmed[0], together).endswith("Подтверждены все 3 еженедельные сессии.")
