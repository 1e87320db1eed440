"""UPI, the rules: the UPI ID's shape, the ``upi://pay`` link, when UPI is offered, the hold while the mentor
checks a reported payment, who may report and check it, and what the outbox says about it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest

from domain.errors import InvalidInput
from domain.model import Actor, Booking, BookingStatus, Currency, PaymentMode
from domain.model import PaymentStatus as P
from domain.notifications import NotificationKind, events_for, still_relevant, timed_for
from domain.payments import (
    UPI_ID_MAX,
    CheckoutRefusal,
    PaymentModeUnavailable,
    PaymentSettings,
    accepts_payment,
    checkout_refusal,
    may_check_upi,
    may_claim_upi,
    may_mark_refunded,
    modes_for,
    parse_upi_id,
    payment_terms,
    upi_link,
)
from tests.domain.test_payments import NONCE, NOW, START, offering

S = BookingStatus
K = NotificationKind
UPI = PaymentMode.UPI
STARS = PaymentMode.STARS
ON = PaymentSettings(modes=(STARS, UPI), stars_per_rupee=Decimal("0.6"))
ONLY_UPI = PaymentSettings(modes=(UPI,))


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("ananya@okicici", "ananya@okicici"),
        ("  Ananya.Rao@OKICICI ", "ananya.rao@okicici"),
        ("9876543210@ybl", "9876543210@ybl"),
        ("rahul_v-1@paytm", "rahul_v-1@paytm"),
        ("a1@axl", "a1@axl"),
    ],
)
def test_a_upi_id_is_kept_lower_cased(typed: str, kept: str) -> None:
    assert parse_upi_id(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "", "ananya", "ananya@", "@okicici", "a@okicici", "ananya@o", "ananya@1bank", "ananya@ok icici",
        "anan ya@okicici", "ananya@@okicici", "ananya@ok.icici", ".ananya@okicici", "ananya@okicici&am=1",
        "a" * 65 + "@okicici", "ananya@" + "b" * 37, "<b>x</b>@okicici", "anan\nya@okicici",
        "आनन्या@okicici",
    ],
)  # fmt: skip
def test_anything_else_is_not_a_upi_id(typed: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_upi_id(typed)
    assert error.value.field == "upi_id"


def test_a_upi_id_is_bounded() -> None:
    longest = "a" * 64 + "@" + "b" * 35  # 100 characters
    assert len(longest) == UPI_ID_MAX and parse_upi_id(longest) == longest


def test_the_upi_link_encodes_every_value() -> None:
    link = upi_link("asha.rao@okicici", "Asha & Co", Decimal("499.5"), Currency.INR, "Mock #12 & am=1")
    assert link == (
        "upi://pay?pa=asha.rao%40okicici&pn=Asha%20%26%20Co&am=499.50&cu=INR&tn=Mock%20%2312%20%26%20am%3D1"
    )
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc) == ("upi", "pay")
    assert parse_qsl(parts.query) == [
        ("pa", "asha.rao@okicici"), ("pn", "Asha & Co"), ("am", "499.50"), ("cu", "INR"),
        ("tn", "Mock #12 & am=1"),
    ]  # fmt: skip


def test_the_upi_link_cuts_a_long_note_and_takes_rupees_only() -> None:
    link = upi_link("a1@axl", "राहुल", Decimal(500), Currency.INR, "न" * 80)
    assert dict(parse_qsl(urlsplit(link).query))["tn"] == "न" * 50
    assert "pn=%E0%A4%B0" in link
    with pytest.raises(ValueError, match="UPI pays rupees only"):
        upi_link("a1@axl", "Asha", Decimal(300), Currency.XTR, "x")


def test_upi_is_offered_only_when_on_and_the_mentor_has_an_id() -> None:
    paid, free = offering(), offering("0")
    assert modes_for(paid, ON, "asha@okicici") == (STARS, UPI)
    assert modes_for(paid, ON) == (STARS,)
    assert modes_for(paid, ONLY_UPI) == (PaymentMode.OFF,)  # no UPI ID: paid outside the bot, as before
    assert modes_for(paid, ONLY_UPI, "asha@okicici") == (UPI,)
    assert modes_for(free, ON, "asha@okicici") == ()  # free offerings never pay
    assert modes_for(paid, PaymentSettings(), "asha@okicici") == (PaymentMode.OFF,)  # UPI not on


def test_a_upi_booking_is_held_for_the_rupee_price() -> None:
    terms = payment_terms(offering(), UPI, ON, START, NOW, NONCE, "asha@okicici")
    assert terms is not None
    assert (terms.mode, terms.amount, terms.currency) == (UPI, Decimal(500), Currency.INR)
    assert terms.hold_until == NOW + timedelta(minutes=15)
    with pytest.raises(PaymentModeUnavailable):
        payment_terms(offering(), UPI, ON, START, NOW, NONCE)  # the mentor has no UPI ID
    with pytest.raises(PaymentModeUnavailable):
        payment_terms(offering("0"), UPI, ON, START, NOW, NONCE, "asha@okicici")


def held(**changes: object) -> Booking:
    values: dict[str, object] = dict(
        id=5, offering_id=7, mentor_id=1, mentee_id=2, scheduled_at=START, duration_minutes=30,
        buffer_before_minutes=0, buffer_after_minutes=0, timezone="Asia/Kolkata", amount=Decimal(500),
        payment_status=P.PENDING, status=S.AWAITING_PAYMENT, created_at=NOW, currency=Currency.INR,
        payment_mode=UPI, hold_until=NOW + timedelta(minutes=15), payment_nonce=NONCE,
    )  # fmt: skip
    return Booking(**{**values, **changes})  # type: ignore[arg-type]


def test_a_reported_payment_keeps_the_slot_until_the_start() -> None:
    booking = held()
    assert booking.held_until == booking.hold_until
    claimed = booking.with_changes(payment_claimed_at=NOW + timedelta(minutes=5))
    assert claimed.held_until == START
    [expiry] = timed_for(claimed, "Asia/Kolkata", NOW)
    assert (expiry.kind, expiry.due_at) == (K.HOLD_EXPIRE, START)
    [expiry] = timed_for(booking, "Asia/Kolkata", NOW)
    assert expiry.due_at == booking.hold_until


def test_who_may_report_and_check_a_upi_payment() -> None:
    booking = held()
    claimed = booking.with_changes(payment_claimed_at=NOW)
    assert may_claim_upi(booking) and not may_check_upi(booking)
    assert may_check_upi(claimed) and not may_claim_upi(claimed)  # reported once, until the mentor answers
    # the hold ran out or was let go: the money may have left anyway, so it can still be reported
    assert may_claim_upi(booking.with_changes(status=S.EXPIRED))
    assert may_claim_upi(booking.with_changes(status=S.CANCELLED))
    assert not may_claim_upi(booking.with_changes(payment_status=P.PAID, status=S.PENDING))
    assert not may_claim_upi(booking.with_changes(payment_mode=STARS, currency=Currency.XTR))
    assert not may_check_upi(claimed.with_changes(payment_status=P.PAID))
    assert may_mark_refunded(booking.with_changes(payment_status=P.REFUND_DUE, status=S.DECLINED))


def test_a_upi_booking_is_never_paid_with_an_invoice() -> None:
    booking = held()
    assert checkout_refusal(booking, NONCE, 2, "INR", 50000, NOW) == CheckoutRefusal.UNKNOWN
    assert not accepts_payment(booking, NONCE, 2, "INR", 50000)


def test_the_outbox_tells_the_mentor_of_a_report_and_the_mentee_of_money_not_found() -> None:
    booking = held()
    claimed = booking.with_changes(payment_claimed_at=NOW)
    [told] = events_for(booking, claimed, Actor.MENTEE, NOW)
    assert (told.kind, told.recipient_id) == (K.UPI_CLAIM, 1)
    assert still_relevant(told, claimed) and not still_relevant(told, booking)
    [told] = events_for(claimed, booking, Actor.MENTOR, NOW)
    assert (told.kind, told.recipient_id) == (K.UPI_NOT_RECEIVED, 2)
