"""The booking state machine: every (status, target, actor) combination, reasons, stats and timing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import product

import pytest

from domain import booking as rules
from domain.errors import InvalidInput, InvalidTransition, NotAllowed, ReasonRequired
from domain.model import (
    Actor,
    Booking,
    BookingStatus,
    Currency,
    Offering,
    OfferingStatus,
    PaymentMode,
    PaymentStatus,
    StatsDelta,
)
from domain.payments import PaymentTerms

S = BookingStatus
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
START = NOW + timedelta(days=2)


def offering(price: str = "500") -> Offering:
    return Offering(
        mentor_id=1,
        title="Resume Review",
        price=Decimal(price),
        duration_minutes=30,
        id=7,
        status=OfferingStatus.ACTIVE,
    )


def booking(status: BookingStatus, **changes: object) -> Booking:
    made, _delta = rules.new_booking(offering(), 2, START, "Europe/London", NOW)
    return made.with_changes(status=status, id=3, **changes)


# the whole table, written out independently of TRANSITIONS
EXPECTED = {
    (S.AWAITING_PAYMENT, S.PENDING): {Actor.SYSTEM},
    (S.AWAITING_PAYMENT, S.CONFIRMED): {Actor.SYSTEM},
    (S.AWAITING_PAYMENT, S.EXPIRED): {Actor.SYSTEM},
    (S.AWAITING_PAYMENT, S.CANCELLED): {Actor.MENTEE},
    (S.PENDING, S.CONFIRMED): {Actor.MENTOR},
    (S.PENDING, S.DECLINED): {Actor.MENTOR},
    (S.PENDING, S.CANCELLED): {Actor.MENTOR, Actor.MENTEE, Actor.SYSTEM},
    (S.PENDING, S.EXPIRED): {Actor.SYSTEM},
    (S.CONFIRMED, S.COMPLETED): {Actor.MENTOR},
    (S.CONFIRMED, S.NO_SHOW): {Actor.MENTOR},
    (S.CONFIRMED, S.CANCELLED): {Actor.MENTOR, Actor.MENTEE, Actor.SYSTEM},
}


@pytest.mark.parametrize(("source", "target", "actor"), list(product(S, S, Actor)))
def test_every_move_is_allowed_exactly_when_the_table_says(source, target, actor):
    after_start = START + timedelta(minutes=1)
    allowed = actor in EXPECTED.get((source, target), set())
    try:
        moved, delta = rules.transition(booking(source), target, actor, after_start, reason="because")
    except (InvalidTransition, NotAllowed):
        assert not allowed
    else:
        assert allowed
        assert moved.status == target
        assert delta == (StatsDelta(completed=1) if target == S.COMPLETED else StatsDelta())


def test_a_role_that_never_makes_a_move_is_refused_as_not_allowed():
    with pytest.raises(NotAllowed):
        rules.transition(booking(S.PENDING), S.CONFIRMED, Actor.MENTEE, NOW)
    with pytest.raises(NotAllowed):
        rules.transition(booking(S.CONFIRMED), S.EXPIRED, Actor.MENTOR, NOW)


def test_a_handled_booking_cannot_be_confirmed_again():
    with pytest.raises(InvalidTransition) as caught:
        rules.transition(booking(S.CONFIRMED), S.CONFIRMED, Actor.MENTOR, NOW)
    assert caught.value.current == S.CONFIRMED


@pytest.mark.parametrize("target", [S.DECLINED, S.CANCELLED])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_decline_and_cancel_need_a_reason(target, reason):
    with pytest.raises(ReasonRequired):
        rules.transition(booking(S.PENDING), target, Actor.MENTOR, NOW, reason=reason)


def test_reason_and_who_are_recorded():
    moved, _ = rules.transition(booking(S.CONFIRMED), S.CANCELLED, Actor.MENTEE, NOW, reason="  sick  ")
    assert (moved.cancelled_by, moved.cancellation_reason, moved.updated_at) == (Actor.MENTEE, "sick", NOW)


def test_too_long_reason_is_refused():
    with pytest.raises(InvalidInput):
        rules.transition(booking(S.PENDING), S.DECLINED, Actor.MENTOR, NOW, reason="x" * 501)


@pytest.mark.parametrize("target", [S.COMPLETED, S.NO_SHOW])
def test_completed_and_no_show_only_after_the_start(target):
    with pytest.raises(InvalidTransition):
        rules.transition(booking(S.CONFIRMED), target, Actor.MENTOR, START - timedelta(minutes=1))
    moved, _ = rules.transition(booking(S.CONFIRMED), target, Actor.MENTOR, START)
    assert moved.status == target


def test_allowed_moves_match_the_buttons_a_mentor_should_see():
    assert rules.allowed_moves(booking(S.PENDING), Actor.MENTOR, NOW) == [S.CONFIRMED, S.DECLINED, S.CANCELLED]
    assert rules.allowed_moves(booking(S.CONFIRMED), Actor.MENTOR, NOW) == [S.CANCELLED]
    assert rules.allowed_moves(booking(S.CONFIRMED), Actor.MENTOR, START) == [S.COMPLETED, S.NO_SHOW, S.CANCELLED]
    assert rules.allowed_moves(booking(S.COMPLETED), Actor.MENTEE, START) == []


def test_free_bookings_are_confirmed_at_once_and_paid_ones_wait():
    free, delta = rules.new_booking(offering("0"), 2, START, "Asia/Kolkata", NOW, notes="  hi  ")
    assert (free.status, free.payment_status, free.meeting_notes, delta) == (
        S.CONFIRMED,
        PaymentStatus.NOT_REQUIRED,
        "hi",
        StatsDelta(bookings=1),
    )
    paid, _ = rules.new_booking(offering("500"), 2, START, "Asia/Kolkata", NOW)
    assert (paid.status, paid.payment_status, paid.amount) == (S.PENDING, PaymentStatus.PENDING, Decimal("500"))
    assert (paid.payment_mode, paid.currency) == (PaymentMode.OFF, Currency.INR)  # paid outside the bot
    assert (paid.buffer_before_minutes, paid.buffer_after_minutes) == (5, 5)


def test_a_move_leaves_the_money_to_the_payments_rules():
    """The state machine moves the status; what a move refunds is ``domain.payments.refund_on_move`` (the ledger
    changes the payment status when the refund is due and when it is done)."""
    paid = booking(S.CONFIRMED, payment_status=PaymentStatus.PAID)
    moved, _ = rules.transition(paid, S.CANCELLED, Actor.MENTOR, NOW, reason="ill")
    assert moved.payment_status == PaymentStatus.PAID


def test_a_slot_held_for_a_payment_is_let_go_without_a_reason():
    moved, delta = rules.transition(booking(S.AWAITING_PAYMENT), S.CANCELLED, Actor.MENTEE, NOW)
    assert (moved.status, moved.cancelled_by, moved.cancellation_reason, delta) == (
        S.CANCELLED,
        Actor.MENTEE,
        None,
        StatsDelta(),
    )


def test_paid_bookings_in_the_bot_are_held_with_their_terms():
    hold = NOW + timedelta(minutes=15)
    terms = PaymentTerms(PaymentMode.STARS, Decimal(60), Currency.XTR, hold, "0123456789abcdef")
    held, delta = rules.new_booking(offering("500"), 2, START, "Asia/Kolkata", NOW, terms=terms)
    assert (held.status, held.payment_status, held.amount, held.currency, held.payment_mode) == (
        S.AWAITING_PAYMENT,
        PaymentStatus.PENDING,
        Decimal(60),
        Currency.XTR,
        PaymentMode.STARS,
    )
    assert (held.hold_until, held.payment_nonce, delta) == (hold, "0123456789abcdef", StatsDelta(bookings=1))
    outside = PaymentTerms(PaymentMode.OFF, Decimal(500), Currency.INR, None, None)
    waiting, _ = rules.new_booking(offering("500"), 2, START, "Asia/Kolkata", NOW, terms=outside)
    assert (waiting.status, waiting.payment_mode, waiting.hold_until) == (S.PENDING, PaymentMode.OFF, None)
    with pytest.raises(ValueError, match="a free offering has no payment terms"):
        rules.new_booking(offering("0"), 2, START, "Asia/Kolkata", NOW, terms=terms)


def test_a_held_slot_has_no_meeting_link_yet():
    with pytest.raises(InvalidTransition):
        rules.set_meeting_link(booking(S.AWAITING_PAYMENT), Actor.MENTOR, "https://meet.example/x", NOW)


def test_meeting_link_only_by_the_mentor_on_an_active_booking():
    linked = rules.set_meeting_link(booking(S.PENDING), Actor.MENTOR, " https://meet.example/x ", NOW)
    assert linked.meeting_link == "https://meet.example/x"
    with pytest.raises(NotAllowed):
        rules.set_meeting_link(booking(S.PENDING), Actor.MENTEE, "https://meet.example/x", NOW)
    with pytest.raises(InvalidTransition):
        rules.set_meeting_link(booking(S.DECLINED), Actor.MENTOR, "https://meet.example/x", NOW)
    with pytest.raises(InvalidInput):
        rules.set_meeting_link(booking(S.PENDING), Actor.MENTOR, "javascript:alert(1)", NOW)


def test_rating_once_after_completion():
    rated, delta = rules.rate(booking(S.COMPLETED), Actor.MENTEE, 4, "great", NOW)
    assert (rated.mentee_rating, delta) == (4, StatsDelta(rating_sum=4, rating_count=1))
    for bad in (booking(S.CONFIRMED), rated):
        with pytest.raises(InvalidTransition):
            rules.rate(bad, Actor.MENTEE, 5, None, NOW)
    with pytest.raises(InvalidInput):
        rules.rate(booking(S.COMPLETED), Actor.MENTEE, 6, None, NOW)
    with pytest.raises(NotAllowed):
        rules.rate(booking(S.COMPLETED), Actor.MENTOR, 5, None, NOW)
