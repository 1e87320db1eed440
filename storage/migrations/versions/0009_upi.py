"""UPI: the mentor's UPI ID on their profile, a booking's "the mentee says they paid" time, and ``upi`` as a way
of paying (bookings and the payments ledger).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

Hand-written and frozen, like 0001. The value lists in the CHECK constraints are copied from ``domain.model`` as
it is at this revision. On SQLite the ledger's CHECK can only change by rebuilding the table (batch mode), which
drops its append-only triggers: they are made again right after, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MODES = "'stars', 'provider', 'upi', 'off'"
_OLD_MODES = "'stars', 'provider', 'off'"
_MESSAGE = "the payments ledger is append-only"
_SQLITE_APPEND_ONLY = (
    f"CREATE TRIGGER payments_no_update BEFORE UPDATE ON payments BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
    f"CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
)


def _modes(modes: str) -> None:
    with op.batch_alter_table("bookings") as table:
        table.drop_constraint(op.f("ck_bookings_payment_mode"), type_="check")
        table.create_check_constraint(
            op.f("ck_bookings_payment_mode"), f"payment_mode IS NULL OR payment_mode IN ({modes})"
        )
    with op.batch_alter_table("payments") as table:
        table.drop_constraint(op.f("ck_payments_mode"), type_="check")
        table.create_check_constraint(op.f("ck_payments_mode"), f"mode IN ({modes})")
    if op.get_bind().dialect.name == "sqlite":  # the rebuilt table lost its triggers
        op.execute("DROP TRIGGER IF EXISTS payments_no_update")
        op.execute("DROP TRIGGER IF EXISTS payments_no_delete")
        for statement in _SQLITE_APPEND_ONLY:
            op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table("mentor_profiles") as table:
        table.add_column(sa.Column("upi_id", sa.String(length=100), nullable=True))
    with op.batch_alter_table("bookings") as table:
        table.add_column(sa.Column("payment_claimed_at", sa.DateTime(timezone=True), nullable=True))
    _modes(_MODES)


def downgrade() -> None:
    # UPI bookings and ledger rows cannot be told apart from the others any more: they become "paid outside the
    # bot" (the ledger is append-only, so its rows are rebuilt rather than updated)
    op.execute("UPDATE bookings SET payment_mode = 'off' WHERE payment_mode = 'upi'")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE payments DISABLE TRIGGER payments_append_only")
        op.execute("UPDATE payments SET mode = 'off' WHERE mode = 'upi'")
        op.execute("ALTER TABLE payments ENABLE TRIGGER payments_append_only")
    else:
        op.execute("DROP TRIGGER IF EXISTS payments_no_update")
        op.execute("UPDATE payments SET mode = 'off' WHERE mode = 'upi'")
    _modes(_OLD_MODES)
    with op.batch_alter_table("bookings") as table:
        table.drop_column("payment_claimed_at")
    with op.batch_alter_table("mentor_profiles") as table:
        table.drop_column("upi_id")
