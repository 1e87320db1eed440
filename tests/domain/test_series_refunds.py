"""The refunds one action on a weekly series records together (``domain.payments.recorded_together``): a message
names the action by its first week and its last ledger row, and finds exactly its rows, even beside another
action's rows written at the same moment (a fixed clock), before or after it; and their total."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.model import Currency, PaymentMode
from domain.payments import LedgerEntry, LedgerKind, recorded_together, total_of

AT = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
D = LedgerKind.REFUND_DUE


def row(row_id: int, booking_id: int, kind: LedgerKind = D, at: datetime = AT, amount: int = 500) -> LedgerEntry:
    return LedgerEntry(
        booking_id, 101, 202, kind, Decimal(amount), Currency.INR, PaymentMode.UPI, f"upi:{booking_id}", at,
        id=row_id,
    )  # fmt: skip


def actions() -> tuple[list[LedgerEntry], list[LedgerEntry]]:
    """Two actions at the same moment on one series: weeks 11 and 12 declined, then weeks 13 and 14 cancelled."""
    return [row(5, 11), row(6, 12)], [row(7, 13), row(8, 14)]


def test_each_action_finds_its_own_rows_among_others_at_the_same_moment() -> None:
    first, second = actions()
    earlier = [row(1, 11, LedgerKind.CHARGE), row(2, 12, LedgerKind.CHARGE), row(3, 13, at=AT - timedelta(days=1))]
    entries = [*earlier, *second, *first]  # in any order
    assert recorded_together(entries, D, 11, 6) == first
    assert recorded_together(entries, D, 13, 8) == second


def test_a_row_of_another_kind_or_a_first_week_after_it_finds_nothing() -> None:
    first, second = actions()
    entries = [*first, *second, row(9, 11, LedgerKind.REFUND)]
    assert recorded_together(entries, D, 11, 9) == []  # a refund done, asked for as a refund due
    assert recorded_together(entries, LedgerKind.REFUND, 11, 9) == [row(9, 11, LedgerKind.REFUND)]
    assert recorded_together(entries, D, 13, 6) == []  # week 13's row comes after the one named last
    assert recorded_together(entries, D, 11, 99) == []  # no such row


def test_the_total_is_the_rows_added_up_in_their_one_currency() -> None:
    first, _second = actions()
    assert total_of([*first, row(9, 15, amount=250)]) == (Decimal(1250), Currency.INR)
    with pytest.raises(ValueError, match="one currency"):
        total_of([])
