"""A weekly series paid as one (``domain.payments``, "a weekly series paid as one"): the amount from the stored
prices, the series' invoice payload, the checkout and the payment over every week, the shares in the ledger and
how a Stars share is refunded (Telegram refunds a Stars payment only whole)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from domain.model import Booking, BookingStatus, Currency, PaymentMode
from domain.payments import (
    CheckoutRefusal,
    LedgerEntry,
    LedgerKind,
    StarsRefundWay,
    paid_together,
    read_payload,
    read_series_payload,
    series_accepts_payment,
    series_amount,
    series_checkout_refusal,
    series_payload,
    share_charge_ref,
    shares_of,
    stars_refund_way,
)
from tests.domain.test_payments import NONCE, NOW, held

S = BookingStatus
TG = "stxABC"


def weeks(count: int = 3, **changes: object) -> list[Booking]:
    """``count`` held weeks of series 42, one nonce, prices as stored (⭐ 300 each unless changed)."""
    return [
        held().with_changes(id=42 + week, series_id=42, series_week=week + 1, series_weeks=count, **changes)
        .with_changes(scheduled_at=held().scheduled_at + timedelta(weeks=week))
        for week in range(count)
    ]  # fmt: skip


def test_the_amount_is_the_stored_prices_added_up() -> None:
    series = weeks()
    assert series_amount(series) == (Decimal(900), Currency.XTR)
    cheaper = [series[0].with_changes(amount=Decimal(250)), *series[1:]]  # a price snapshotted earlier
    assert series_amount(cheaper) == (Decimal(850), Currency.XTR)
    with pytest.raises(ValueError, match="one currency"):
        series_amount([series[0], series[1].with_changes(currency=Currency.INR)])
    with pytest.raises(ValueError, match="one currency"):
        series_amount([])


def test_the_series_payload_is_not_a_booking_payload() -> None:
    payload = series_payload(42, NONCE)
    assert payload == f"s42.{NONCE}" and read_series_payload(payload) == (42, NONCE)
    assert read_payload(payload) is None and read_series_payload(f"b42.{NONCE}") is None
    assert read_series_payload("s42.xyz") is None and read_series_payload("s0." + NONCE) is None


def test_one_invoice_pays_the_weeks_booked_with_its_nonce() -> None:
    series = weeks()
    other = series[2].with_changes(id=99, payment_nonce="f" * 16)
    assert [b.id for b in paid_together([series[1], other, series[0]], NONCE)] == [42, 43]


@pytest.mark.parametrize(
    ("change", "payer", "total", "refusal"),
    [
        ({}, 2, 900, None),
        ({}, 2, 300, CheckoutRefusal.MISMATCH),  # one week's price
        ({}, 3, 900, CheckoutRefusal.NOT_YOURS),
        ({"status": S.EXPIRED}, 2, 900, CheckoutRefusal.NOT_AWAITING),
        ({"hold_until": NOW}, 2, 900, CheckoutRefusal.HOLD_OVER),
        ({"payment_mode": PaymentMode.UPI}, 2, 900, CheckoutRefusal.UNKNOWN),
    ],
)
def test_the_checkout_checks_every_week(change: dict, payer: int, total: int, refusal) -> None:
    series = weeks()
    series[-1] = series[-1].with_changes(**change)  # the last week only
    assert series_checkout_refusal(series, payer, "XTR", total, NOW) == refusal
    assert series_accepts_payment(series, payer, "XTR", total) == (
        refusal is None or refusal == CheckoutRefusal.HOLD_OVER  # arrived: the hold's end no longer matters
    )


def test_nothing_to_pay_is_refused() -> None:
    assert series_checkout_refusal([], 2, "XTR", 0, NOW) == CheckoutRefusal.UNKNOWN
    assert not series_accepts_payment([], 2, "XTR", 0)
    assert series_checkout_refusal(weeks(), 2, "INR", 900, NOW) == CheckoutRefusal.MISMATCH


def charge(booking_id: int, ref: str, telegram: str, id: int) -> LedgerEntry:
    xtr, stars = Currency.XTR, PaymentMode.STARS
    return LedgerEntry(booking_id, 1, 2, LedgerKind.CHARGE, Decimal(300), xtr, stars, ref, NOW, telegram, id=id)


def shares(count: int = 3) -> list[LedgerEntry]:
    return [
        charge(42 + week, share_charge_ref(TG, weeks()[week], first=week == 0), TG, week + 1)
        for week in range(count)
    ]


def event(charge: LedgerEntry, kind: LedgerKind, minutes: int, id: int) -> LedgerEntry:
    return replace(charge.event(kind, NOW + timedelta(minutes=minutes)), id=id)


def test_each_week_has_its_own_share_of_one_payment() -> None:
    charges = shares()
    assert [c.charge_ref for c in charges] == [TG, f"{TG}:43", f"{TG}:44"]
    assert shares_of(charges[1], charges) == charges
    single = charge(7, "x", "x", 9)
    assert shares_of(single, [single, *charges]) == [single]


def test_one_week_owed_back_is_settled_by_hand() -> None:
    charges = shares()
    ledger = [*charges, event(charges[1], LedgerKind.REFUND_DUE, 1, 10)]
    assert stars_refund_way(charges[1], ledger) == StarsRefundWay.BY_HAND
    assert stars_refund_way(charges[0], ledger) == StarsRefundWay.NONE  # kept: nothing owed
    done = [*ledger, event(charges[1], LedgerKind.REFUND, 2, 11)]
    assert stars_refund_way(charges[1], done) == StarsRefundWay.NONE
    # the other weeks cancelled after that one was settled by hand: Telegram cannot refund part of the payment
    rest = [
        *done,
        event(charges[0], LedgerKind.REFUND_DUE, 3, 12),
        event(charges[2], LedgerKind.REFUND_DUE, 3, 13),
    ]
    assert stars_refund_way(charges[0], rest) == StarsRefundWay.BY_HAND
    assert stars_refund_way(charges[2], rest) == StarsRefundWay.BY_HAND


def test_every_week_owed_back_refunds_the_whole_payment_once() -> None:
    charges = shares()
    ledger = [*charges, *(event(c, LedgerKind.REFUND_DUE, 1, 10 + i) for i, c in enumerate(charges))]
    ways = [stars_refund_way(c, ledger) for c in charges]
    assert ways == [StarsRefundWay.NONE, StarsRefundWay.NONE, StarsRefundWay.WHOLE]  # the last made due
    # a week still owed by hand when the rest is cancelled: the whole payment comes back, that week's share too
    later = [*charges, event(charges[1], LedgerKind.REFUND_DUE, 1, 10)]
    later += [event(charges[0], LedgerKind.REFUND_DUE, 5, 11), event(charges[2], LedgerKind.REFUND_DUE, 5, 12)]
    assert [stars_refund_way(c, later) for c in charges].count(StarsRefundWay.WHOLE) == 1


def test_a_single_bookings_stars_payment_is_refunded_whole() -> None:
    single = LedgerEntry(
        7, 1, 2, LedgerKind.CHARGE, Decimal(300), Currency.XTR, PaymentMode.STARS, "x", NOW, "x", id=1
    )
    assert stars_refund_way(single, [single, event(single, LedgerKind.REFUND_DUE, 1, 2)]) == StarsRefundWay.WHOLE
