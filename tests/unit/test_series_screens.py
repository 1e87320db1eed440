"""The weekly series' screens that are pure functions: moving one week says that only it moves and that it keeps
its place; a single booking's move says nothing of series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from chat.i18n import use_locale
from domain.model import Booking, BookingStatus, BookingView, Offering, OfferingStatus, PaymentStatus, User
from handlers.render import series_move_note
from handlers.reschedule import summary_text

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def view(**changes: object) -> BookingView:
    offering = Offering(1, "Weekly mentorship", Decimal(0), 60, id=7, status=OfferingStatus.ACTIVE)
    booking = Booking(
        offering_id=7, mentor_id=1, mentee_id=2, scheduled_at=NOW + timedelta(days=9), duration_minutes=60,
        buffer_before_minutes=0, buffer_after_minutes=0, timezone="Asia/Kolkata", amount=Decimal(0),
        payment_status=PaymentStatus.NOT_REQUIRED, status=BookingStatus.CONFIRMED, created_at=NOW, id=12,
    ).with_changes(**changes)  # fmt: skip
    return BookingView(booking, offering, User(1, "Asha", timezone="Asia/Kolkata"), User(2, "Ravi"))


def test_moving_one_week_of_a_series_says_only_it_moves_in_every_language() -> None:
    week = view(series_id=10, series_week=3, series_weeks=6)
    text = summary_text(week, NOW + timedelta(days=10), "Asia/Kolkata", 2)
    assert "🔁 Week 3 of 6 of a weekly series: only this week moves." in text
    assert "this one stays week 3 of 6" in text
    for locale in ("hi", "ru"):
        with use_locale(locale):
            note = series_move_note(week.booking)
        assert note is not None and "3" in note and "6" in note and "weekly series" not in note


def test_a_single_booking_moves_without_a_word_about_series() -> None:
    single = view()
    assert series_move_note(single.booking) is None
    assert "series" not in summary_text(single, NOW + timedelta(days=10), "Asia/Kolkata", 2)
