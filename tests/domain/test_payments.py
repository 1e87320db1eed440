"""The payments rules: modes, prices, the hold, the invoice payload, the checkout, the refund policy, the ledger's
summaries, and what the outbox says and does about payments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain import booking as rules
from domain.model import Actor, Booking, BookingStatus, Currency, Offering, OfferingStatus, PaymentMode
from domain.model import PaymentStatus as P
from domain.notifications import Notification, NotificationKind, events_for, still_relevant, timed_for
from domain.payments import (
    CheckoutRefusal,
    LedgerEntry,
    LedgerKind,
    PaymentModeUnavailable,
    PaymentSettings,
    PaymentTerms,
    Refund,
    Totals,
    accepts_payment,
    after_payment,
    checkout_refusal,
    from_minor,
    invoice_payload,
    modes_for,
    month_start,
    payment_status_of,
    payment_terms,
    price_in,
    read_payload,
    refund_on_move,
    stars_price,
    suggested_stars,
    sums_of,
    to_minor,
    totals_from,
)

S = BookingStatus
K = NotificationKind
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
START = NOW + timedelta(days=2)
NONCE = "0123456789abcdef"
STARS = PaymentMode.STARS
PROVIDER = PaymentMode.PROVIDER
OFF = PaymentMode.OFF
BOTH = PaymentSettings(modes=(STARS, PROVIDER), stars_per_rupee=Decimal("0.6"))


def offering(price: str = "500", **changes: Any) -> Offering:
    return Offering(
        mentor_id=1, title="Resume Review", price=Decimal(price), duration_minutes=30, id=7,
        status=OfferingStatus.ACTIVE, cancellation_cutoff_hours=24, **changes,
    )  # fmt: skip


def held(mode: PaymentMode = STARS, settings: PaymentSettings = BOTH, **changes: Any) -> Booking:
    terms = payment_terms(offering(), mode, settings, START, NOW, NONCE)
    made, _delta = rules.new_booking(offering(), 2, START, "Europe/London", NOW, terms=terms)
    return made.with_changes(id=42, **changes)


# --- modes and prices -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "modes", "offered"),
    [
        ("0", (STARS, PROVIDER), ()),  # free offerings never pay
        ("0", (OFF,), ()),
        ("500", (OFF,), (OFF,)),  # paid outside the bot: today's flow
        ("500", (STARS,), (STARS,)),
        ("500", (PROVIDER, STARS), (PROVIDER, STARS)),  # in the configured order: the mentee picks
    ],
)
def test_the_ways_a_booking_may_be_paid(price: str, modes, offered) -> None:
    assert modes_for(offering(price), PaymentSettings(modes=modes)) == offered


@pytest.mark.parametrize(
    ("rupees", "rate", "stars"),
    [("500", "0.6", 300), ("499.50", "0.6", 300), ("1", "0.6", 1), ("0.01", "0.6", 1), ("100", "1", 100)],
)
def test_the_suggested_stars_price_rounds_up_to_a_whole_star(rupees: str, rate: str, stars: int) -> None:
    assert suggested_stars(Decimal(rupees), Decimal(rate)) == stars


def test_the_mentors_stars_price_wins_over_the_suggestion() -> None:
    assert stars_price(offering(), Decimal("0.6")) == 300
    assert stars_price(offering(price_stars=250), Decimal("0.6")) == 250
    assert price_in(offering(price_stars=250), STARS, Decimal("0.6")) == (Decimal(250), Currency.XTR)
    assert price_in(offering(price_stars=250), PROVIDER, Decimal("0.6")) == (Decimal(500), Currency.INR)


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        (Decimal("500"), Currency.INR, 50000),
        (Decimal("499.50"), Currency.INR, 49950),
        (Decimal(300), Currency.XTR, 300),
    ],
)
def test_amounts_go_to_telegram_in_the_smallest_unit(amount: Decimal, currency: Currency, units: int) -> None:
    assert to_minor(amount, currency) == units
    assert from_minor(units, currency) == amount
    with pytest.raises(ValueError, match="not a whole number of the smallest unit"):
        to_minor(Decimal("1.5"), Currency.XTR)


def test_the_terms_snapshot_the_price_and_hold_the_slot_until_the_hold_or_the_start() -> None:
    terms = payment_terms(offering(), None, BOTH, START, NOW, NONCE)
    assert terms == PaymentTerms(STARS, Decimal(300), Currency.XTR, NOW + timedelta(minutes=15), NONCE)
    soon = NOW + timedelta(minutes=5)  # an offering without notice: the hold ends at the start
    short = payment_terms(offering(), PROVIDER, BOTH, soon, NOW, NONCE)
    assert short is not None and short.hold_until == soon
    outside = payment_terms(offering(), None, PaymentSettings(), START, NOW, NONCE)
    assert outside == PaymentTerms(OFF, Decimal(500), Currency.INR, None, None)
    assert payment_terms(offering("0"), None, BOTH, START, NOW, NONCE) is None
    for refused in ((offering(), OFF, BOTH), (offering(), STARS, PaymentSettings()), (offering("0"), STARS, BOTH)):
        with pytest.raises(PaymentModeUnavailable):
            payment_terms(refused[0], refused[1], refused[2], START, NOW, NONCE)


def test_a_paid_booking_goes_to_the_mentor_unless_the_offering_confirms_it() -> None:
    assert after_payment(offering()) == S.PENDING
    assert after_payment(offering(auto_confirm_paid=True)) == S.CONFIRMED


# --- the invoice payload and the checkout ---------------------------------------------------------------------


def test_the_payload_carries_the_booking_and_its_nonce_only() -> None:
    booking = held()
    payload = invoice_payload(booking)
    assert payload == f"b42.{NONCE}" and len(payload.encode()) <= 128
    assert read_payload(payload) == (42, NONCE)
    forgeries = ("", "b42", f"b42.{NONCE}x", f"b0.{NONCE}", f"b-1.{NONCE}", "b42.0123456789ABCDEF", f"x42.{NONCE}")
    for forged in forgeries:
        assert read_payload(forged) is None, forged


HOLD_END = NOW + timedelta(minutes=15)


@pytest.mark.parametrize(
    ("changes", "nonce", "payer", "currency", "total", "now", "refusal"),
    [
        ({}, NONCE, 2, "XTR", 300, NOW, None),
        ({}, NONCE, 2, "XTR", 300, HOLD_END - timedelta(seconds=1), None),
        ({}, NONCE, 2, "XTR", 300, HOLD_END, CheckoutRefusal.HOLD_OVER),
        ({}, "f" * 16, 2, "XTR", 300, NOW, CheckoutRefusal.UNKNOWN),  # a guessed or replayed-elsewhere payload
        ({}, NONCE, 9, "XTR", 300, NOW, CheckoutRefusal.NOT_YOURS),  # another user's invoice
        ({}, NONCE, 2, "XTR", 299, NOW, CheckoutRefusal.MISMATCH),
        ({}, NONCE, 2, "INR", 300, NOW, CheckoutRefusal.MISMATCH),
        ({"status": S.PENDING}, NONCE, 2, "XTR", 300, NOW, CheckoutRefusal.NOT_AWAITING),  # paid already
        ({"status": S.EXPIRED}, NONCE, 2, "XTR", 300, NOW, CheckoutRefusal.NOT_AWAITING),
        ({"status": S.CANCELLED}, NONCE, 2, "XTR", 300, NOW, CheckoutRefusal.NOT_AWAITING),
    ],
)
def test_a_checkout_is_accepted_only_for_the_booking_as_stored(
    changes, nonce, payer, currency, total, now, refusal
) -> None:
    assert checkout_refusal(held(**changes), nonce, payer, currency, total, now) == refusal


def test_no_booking_is_an_unknown_checkout() -> None:
    assert checkout_refusal(None, NONCE, 2, "XTR", 300, NOW) == CheckoutRefusal.UNKNOWN


def test_a_payment_that_arrives_moves_the_booking_only_if_it_still_waits_for_exactly_it() -> None:
    assert accepts_payment(held(), NONCE, 2, "XTR", 300)
    late = held(hold_until=NOW - timedelta(minutes=1))  # accepted at checkout; the slot is still held
    assert accepts_payment(late, NONCE, 2, "XTR", 300)
    assert not accepts_payment(held(status=S.EXPIRED), NONCE, 2, "XTR", 300)
    assert not accepts_payment(held(status=S.PENDING), NONCE, 2, "XTR", 300)  # a second payment
    assert not accepts_payment(held(), NONCE, 2, "XTR", 301)
    assert not accepts_payment(held(), NONCE, 9, "XTR", 300)


# --- the refund policy ----------------------------------------------------------------------------------------

CUTOFF = START - timedelta(hours=24)


@pytest.mark.parametrize(
    ("source", "target", "actor", "now", "refund"),
    [
        (S.PENDING, S.DECLINED, Actor.MENTOR, NOW, Refund.FULL),
        (S.PENDING, S.CANCELLED, Actor.MENTOR, NOW, Refund.FULL),
        (S.CONFIRMED, S.CANCELLED, Actor.MENTOR, START - timedelta(minutes=5), Refund.FULL),  # the mentor's doing
        (S.PENDING, S.EXPIRED, Actor.SYSTEM, NOW, Refund.FULL),  # the request expired unanswered
        (S.PENDING, S.CANCELLED, Actor.MENTEE, START - timedelta(hours=1), Refund.FULL),  # never confirmed
        (S.CONFIRMED, S.CANCELLED, Actor.MENTEE, CUTOFF - timedelta(minutes=1), Refund.FULL),
        (S.CONFIRMED, S.CANCELLED, Actor.MENTEE, CUTOFF, Refund.FULL),
        (S.CONFIRMED, S.CANCELLED, Actor.MENTEE, CUTOFF + timedelta(minutes=1), Refund.NONE),
        (S.CONFIRMED, S.CANCELLED, Actor.SYSTEM, CUTOFF + timedelta(minutes=1), Refund.FULL),
        (S.PENDING, S.CONFIRMED, Actor.MENTOR, NOW, Refund.NONE),
        (S.CONFIRMED, S.COMPLETED, Actor.MENTOR, START, Refund.NONE),
        (S.CONFIRMED, S.NO_SHOW, Actor.MENTOR, START, Refund.NONE),
    ],
)
def test_the_refund_policy(source, target, actor, now, refund) -> None:
    assert refund_on_move(held(status=source), target, actor, offering(), now) == refund


# --- the ledger -----------------------------------------------------------------------------------------------


def entry(kind: LedgerKind, ref: str = "tg-1", amount: str = "300", at: datetime = NOW, **changes) -> LedgerEntry:
    values = dict(
        booking_id=42, mentor_id=1, payer_id=2, kind=kind, amount=Decimal(amount), currency=Currency.XTR,
        mode=STARS, charge_ref=ref, recorded_at=at,
    )  # fmt: skip
    return LedgerEntry(**{**values, **changes})


C, D, R = LedgerKind.CHARGE, LedgerKind.REFUND_DUE, LedgerKind.REFUND


@pytest.mark.parametrize(
    ("events", "before", "status"),
    [
        ([], P.PENDING, P.PENDING),
        ([], P.NOT_REQUIRED, P.NOT_REQUIRED),
        ([(C, "a")], P.PENDING, P.PAID),
        ([(C, "a"), (D, "a")], P.PAID, P.REFUND_DUE),
        ([(C, "a"), (D, "a"), (R, "a")], P.REFUND_DUE, P.REFUNDED),
        ([(C, "a"), (C, "b"), (D, "b")], P.PAID, P.REFUND_DUE),  # paid twice: the second being refunded
        ([(C, "a"), (C, "b"), (D, "b"), (R, "b")], P.REFUND_DUE, P.PAID),  # ... and refunded: the first is kept
        ([(C, "a"), (C, "b"), (D, "a"), (D, "b"), (R, "b")], P.REFUND_DUE, P.REFUND_DUE),
    ],
)
def test_a_bookings_payment_status_is_its_ledger_summed_up(events, before, status) -> None:
    assert payment_status_of([entry(kind, ref) for kind, ref in events], before) == status


def test_totals_per_currency_and_period() -> None:
    earlier = NOW - timedelta(days=40)
    entries = [
        entry(C, "a", "300", earlier), entry(D, "a", "300", earlier), entry(R, "a", "300", NOW),
        entry(C, "b", "200", NOW),
        entry(C, "m", "500", NOW, currency=Currency.INR, mode=OFF),
        entry(D, "m", "500", NOW, currency=Currency.INR, mode=OFF),
        entry(C, "p", "499.50", earlier, currency=Currency.INR, mode=PROVIDER),
    ]  # fmt: skip
    assert totals_from(sums_of(entries)) == {
        Currency.INR: Totals(Decimal("999.50"), Decimal(0), Decimal(500)),
        Currency.XTR: Totals(Decimal(500), Decimal(300), Decimal(0)),
    }
    this_month = totals_from(sums_of(entries, since=NOW - timedelta(days=1)))
    assert this_month[Currency.XTR] == Totals(Decimal(200), Decimal(300), Decimal(0))
    assert this_month[Currency.XTR].net == Decimal(-100)  # a refund this month of money paid before it
    assert this_month[Currency.INR].net == Decimal(500)


@pytest.mark.parametrize(
    ("now", "zone", "start"),
    [
        (NOW, "Asia/Kolkata", datetime(2026, 10, 31, 18, 30, tzinfo=UTC)),
        (datetime(2026, 11, 30, 20, 0, tzinfo=UTC), "Asia/Kolkata", datetime(2026, 11, 30, 18, 30, tzinfo=UTC)),
        (datetime(2026, 4, 1, 0, 30, tzinfo=UTC), "Europe/London", datetime(2026, 3, 31, 23, 0, tzinfo=UTC)),
    ],
)
def test_the_month_is_the_mentors_local_month(now: datetime, zone: str, start: datetime) -> None:
    assert month_start(now, zone) == start


# --- what the outbox says and does ----------------------------------------------------------------------------


def kinds(notifications: list[Notification]) -> list[tuple[NotificationKind, int]]:
    return [(n.kind, n.recipient_id) for n in notifications]


def test_a_held_slot_tells_nobody_and_runs_out_at_the_end_of_the_hold() -> None:
    booking = held()
    assert events_for(None, booking, Actor.MENTEE, NOW) == []  # the mentor hears of it once it is paid
    [expiry] = timed_for(booking, "Asia/Kolkata", NOW)
    assert (expiry.kind, expiry.due_at, expiry.recipient_id) == (K.HOLD_EXPIRE, NOW + timedelta(minutes=15), 2)
    assert still_relevant(expiry, booking)
    assert not still_relevant(expiry, booking.with_changes(status=S.PENDING))


@pytest.mark.parametrize(
    ("target", "actor", "said"),
    [
        (S.PENDING, Actor.SYSTEM, [(K.NEW_BOOKING, 1), (K.PAID, 2)]),
        (S.CONFIRMED, Actor.SYSTEM, [(K.NEW_BOOKING, 1), (K.PAID, 2)]),  # one receipt, not "confirmed" as well
        (S.EXPIRED, Actor.SYSTEM, [(K.HOLD_EXPIRED, 2), (K.HOLD_EXPIRED, 1)]),
        (S.CANCELLED, Actor.MENTEE, []),  # let go before paying: the mentor never had it to answer
    ],
)
def test_what_the_end_of_a_hold_says(target: BookingStatus, actor: Actor, said) -> None:
    before = held()
    after = before.with_changes(status=target)
    assert kinds(events_for(before, after, actor, NOW)) == said


def test_marking_paid_by_hand_sends_the_mentee_a_receipt() -> None:
    before = held(OFF, PaymentSettings(), status=S.CONFIRMED)
    after = before.with_changes(payment_status=P.PAID)
    assert kinds(events_for(before, after, Actor.MENTOR, NOW)) == [(K.PAID, 2)]


def test_a_refund_is_one_outbox_row_per_charge() -> None:
    first = Notification(K.REFUND, 2, NOW, 42, payment_id=7)
    again = Notification(K.REFUND, 2, NOW + timedelta(minutes=3), 42, payment_id=7)
    other = Notification(K.REFUND, 2, NOW, 42, payment_id=8)
    assert first.key == again.key == "refund:7" != other.key
    assert not K.REFUND.is_timed  # never withdrawn when the booking changes again
