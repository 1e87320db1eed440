"""A weekly series paid by UPI with one payment (``domain.payments``): when the series may be paid by UPI, when the
mentor's Mark paid moves the weeks on, and the ledger's charges - one per week at its stored price, or the whole
sum on the first week when the payment came too late."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from domain import booking as rules
from domain.model import Booking, BookingStatus, Currency, PaymentMode
from domain.payments import LedgerKind, PaymentSettings, payment_terms, upi_charge_ref, upi_charges, upi_moves_on
from domain.series import series_modes
from tests.domain.test_payments import NONCE, NOW, START, offering

S = BookingStatus
UPI = PaymentMode.UPI
STARS = PaymentMode.STARS
ONLY_UPI = PaymentSettings(modes=(UPI,))
STARS_AND_UPI = PaymentSettings(modes=(STARS, UPI), stars_per_rupee=Decimal("0.6"))


def weeks(count: int = 3, **changes: object) -> list[Booking]:
    """``count`` weeks of series 42 held for one UPI payment (₹500 each as stored), earliest first."""
    terms = payment_terms(offering(), UPI, ONLY_UPI, START, NOW, NONCE, "asha@okicici")
    first, _delta = rules.new_booking(offering(), 2, START, "Europe/London", NOW, terms=terms)
    return [
        first.with_changes(
            id=42 + week, series_id=42, series_week=week + 1, series_weeks=count,
            scheduled_at=first.scheduled_at + timedelta(weeks=week), **changes,
        )
        for week in range(count)
    ]  # fmt: skip


def test_a_series_is_paid_by_upi_only_when_the_mentor_has_a_upi_id() -> None:
    assert series_modes(offering(), ONLY_UPI, "asha@okicici") == (UPI,)
    assert series_modes(offering(), ONLY_UPI) == (PaymentMode.OFF,)  # without one: outside the bot
    assert series_modes(offering(), STARS_AND_UPI, "asha@okicici") == (STARS, UPI)  # the mentee picks
    assert series_modes(offering(), STARS_AND_UPI) == (STARS,)
    assert series_modes(offering(price="0"), STARS_AND_UPI, "asha@okicici") == ()


def test_held_weeks_store_the_rupee_price_and_one_nonce() -> None:
    series = weeks()
    assert {(b.status, b.payment_mode, b.amount, b.currency) for b in series} == {
        (S.AWAITING_PAYMENT, UPI, Decimal(500), Currency.INR)
    }
    assert len({b.payment_nonce for b in series}) == 1


def test_mark_paid_writes_one_charge_per_week_at_its_stored_price() -> None:
    series = weeks()
    series[1] = series[1].with_changes(amount=Decimal(450))  # a price stored earlier: never the offering's
    assert upi_moves_on(series)
    charges = upi_charges(series, NOW)
    assert [(c.booking_id, c.kind, c.amount, c.currency, c.mode, c.charge_ref) for c in charges] == [
        (b.id, LedgerKind.CHARGE, b.amount, Currency.INR, UPI, upi_charge_ref(b.id or 0)) for b in series
    ]
    assert {(c.payer_id, c.mentor_id, c.recorded_at) for c in charges} == {(2, 1, NOW)}
    assert len({c.charge_ref for c in charges}) == 3  # each week's refund is its own


@pytest.mark.parametrize("gone", [S.EXPIRED, S.CANCELLED])
def test_a_payment_the_series_no_longer_waited_for_is_one_charge_of_the_whole_sum(gone: BookingStatus) -> None:
    for changed in range(3):  # any week gone: the payment is owed back whole
        series = weeks()
        series[changed] = series[changed].with_changes(status=gone)
        assert not upi_moves_on(series)
        [charge] = upi_charges(series, NOW)
        assert (charge.booking_id, charge.amount, charge.charge_ref) == (42, Decimal(1500), upi_charge_ref(42))


def test_a_single_booking_is_the_series_of_one() -> None:
    [booking] = weeks(1)
    assert upi_moves_on([booking])
    [charge] = upi_charges([booking], NOW)
    assert (charge.amount, charge.charge_ref) == (Decimal(500), upi_charge_ref(42))
    assert upi_charges([], NOW) == [] and not upi_moves_on([])


def test_only_upi_weeks_move_on_by_a_upi_payment() -> None:
    series = weeks(2)
    series[1] = series[1].with_changes(payment_mode=STARS, currency=Currency.XTR)
    assert not upi_moves_on(series)
