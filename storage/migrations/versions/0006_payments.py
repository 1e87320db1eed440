"""Payments: a booking held awaiting payment, what it costs and how it is paid; an offering's price in Stars and
its "confirm paid bookings automatically"; the append-only payments ledger; the charge an outbox row is about.

Revision ID: 0006
Revises: 0005_calendar
Create Date: 2026-11-26

Hand-written and frozen, like 0001. The value lists in the CHECK constraints are copied from ``domain.model`` and
``domain.payments`` as they are at this revision. Paid bookings made before it were paid outside the bot: their
``payment_mode`` becomes ``off``, so their mentor can mark them paid.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005_calendar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = (
    "'awaiting_payment', 'pending', 'confirmed', 'declined', 'cancelled', 'expired', 'completed', 'no_show'"
)
_OLD_STATUSES = "'pending', 'confirmed', 'declined', 'cancelled', 'expired', 'completed', 'no_show'"
_PAYMENT_STATUSES = "'not_required', 'pending', 'paid', 'refund_due', 'refunded'"
_OLD_PAYMENT_STATUSES = "'not_required', 'pending', 'paid', 'refunded'"
_MODES = "'stars', 'provider', 'off'"
_CURRENCIES = "'INR', 'XTR'"
_MESSAGE = "the payments ledger is append-only"

_APPEND_ONLY = {
    "postgresql": (
        "CREATE FUNCTION payments_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$",
        "CREATE TRIGGER payments_append_only BEFORE UPDATE OR DELETE ON payments "
        "FOR EACH ROW EXECUTE FUNCTION payments_append_only()",
    ),
    "sqlite": (
        "CREATE TRIGGER payments_no_update BEFORE UPDATE ON payments "
        f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
        "CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments "
        f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
    ),
}


def _utc() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def _money(precision: int, scale: int) -> sa.types.TypeEngine:
    return sa.Numeric(precision, scale).with_variant(sa.BigInteger(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("offerings") as table:
        table.add_column(sa.Column("price_stars", sa.Integer(), nullable=True))
        table.add_column(sa.Column("auto_confirm_paid", sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table("bookings") as table:
        table.add_column(sa.Column("currency", sa.String(length=3), server_default="INR", nullable=False))
        table.add_column(sa.Column("payment_mode", sa.String(length=16), nullable=True))
        table.add_column(sa.Column("hold_until", _utc(), nullable=True))
        table.add_column(sa.Column("payment_nonce", sa.String(length=32), nullable=True))
        table.drop_constraint(op.f("ck_bookings_status"), type_="check")
        table.drop_constraint(op.f("ck_bookings_payment_status"), type_="check")
        table.create_check_constraint(op.f("ck_bookings_status"), f"status IN ({_STATUSES})")
        table.create_check_constraint(
            op.f("ck_bookings_payment_status"), f"payment_status IN ({_PAYMENT_STATUSES})"
        )
        table.create_check_constraint(op.f("ck_bookings_currency"), f"currency IN ({_CURRENCIES})")
        table.create_check_constraint(
            op.f("ck_bookings_payment_mode"), f"payment_mode IS NULL OR payment_mode IN ({_MODES})"
        )
    op.execute("UPDATE bookings SET payment_mode = 'off' WHERE payment_status <> 'not_required'")

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.BigInteger(), nullable=False),
        sa.Column("payer_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", _money(12, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("charge_ref", sa.String(length=255), nullable=False),
        sa.Column("telegram_payment_charge_id", sa.String(length=255), nullable=True),
        sa.Column("provider_payment_charge_id", sa.String(length=255), nullable=True),
        sa.Column("recorded_at", _utc(), nullable=False),
        sa.Column("created_at", _utc(), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("kind IN ('charge', 'refund_due', 'refund')", name=op.f("ck_payments_kind")),
        sa.CheckConstraint(f"currency IN ({_CURRENCIES})", name=op.f("ck_payments_currency")),
        sa.CheckConstraint(f"mode IN ({_MODES})", name=op.f("ck_payments_mode")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount")),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], name=op.f("fk_payments_booking_id_bookings")),
        sa.ForeignKeyConstraint(["mentor_id"], ["users.id"], name=op.f("fk_payments_mentor_id_users")),
        sa.ForeignKeyConstraint(["payer_id"], ["users.id"], name=op.f("fk_payments_payer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("charge_ref", "kind", name=op.f("uq_payments_charge_ref_kind")),
    )
    op.create_index(op.f("ix_payments_booking_id"), "payments", ["booking_id"])
    op.create_index(op.f("ix_payments_mentor_id_recorded_at"), "payments", ["mentor_id", "recorded_at"])
    for statement in _APPEND_ONLY.get(op.get_bind().dialect.name, ()):
        op.execute(statement)

    with op.batch_alter_table("notifications") as table:
        table.add_column(sa.Column("payment_id", sa.Integer(), nullable=True))
        table.create_foreign_key(op.f("fk_notifications_payment_id_payments"), "payments", ["payment_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("notifications") as table:
        table.drop_constraint(op.f("fk_notifications_payment_id_payments"), type_="foreignkey")
        table.drop_column("payment_id")
    op.drop_index(op.f("ix_payments_mentor_id_recorded_at"), table_name="payments")
    op.drop_index(op.f("ix_payments_booking_id"), table_name="payments")
    op.drop_table("payments")  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION payments_append_only()")

    op.execute("UPDATE bookings SET payment_status = 'paid' WHERE payment_status = 'refund_due'")
    held = "SELECT id FROM bookings WHERE status = 'awaiting_payment'"
    op.execute(f"DELETE FROM notifications WHERE booking_id IN ({held})")
    op.execute("DELETE FROM bookings WHERE status = 'awaiting_payment'")
    with op.batch_alter_table("bookings") as table:
        table.drop_constraint(op.f("ck_bookings_payment_mode"), type_="check")
        table.drop_constraint(op.f("ck_bookings_currency"), type_="check")
        table.drop_constraint(op.f("ck_bookings_payment_status"), type_="check")
        table.drop_constraint(op.f("ck_bookings_status"), type_="check")
        table.create_check_constraint(op.f("ck_bookings_status"), f"status IN ({_OLD_STATUSES})")
        table.create_check_constraint(
            op.f("ck_bookings_payment_status"), f"payment_status IN ({_OLD_PAYMENT_STATUSES})"
        )
        table.drop_column("payment_nonce")
        table.drop_column("hold_until")
        table.drop_column("payment_mode")
        table.drop_column("currency")

    with op.batch_alter_table("offerings") as table:
        table.drop_column("auto_confirm_paid")
        table.drop_column("price_stars")
