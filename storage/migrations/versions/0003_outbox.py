"""Scheduler: the notifications outbox; a mentor's daily agenda switch.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

Hand-written and frozen, like 0001. The status values are copied from ``storage.models.NOTIFICATION_STATUSES``
as they were at this revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("daily_agenda", sa.Boolean(), server_default=sa.true(), nullable=False))

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient_id", sa.BigInteger(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("due_at", _utc(), nullable=False),
        sa.Column("lead_minutes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("locked_until", _utc(), nullable=True),
        sa.Column("sent_at", _utc(), nullable=True),
        sa.Column("created_at", _utc(), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'skipped', 'failed')", name=op.f("ck_notifications_status")
        ),
        sa.ForeignKeyConstraint(["recipient_id"], ["users.id"], name=op.f("fk_notifications_recipient_id_users")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_notifications_booking_id_bookings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("key", name=op.f("uq_notifications_key")),
    )
    op.create_index(op.f("ix_notifications_status_due_at"), "notifications", ["status", "due_at"])
    op.create_index(op.f("ix_notifications_booking_id"), "notifications", ["booking_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notifications_booking_id"), table_name="notifications")
    op.drop_index(op.f("ix_notifications_status_due_at"), table_name="notifications")
    op.drop_table("notifications")
    with op.batch_alter_table("users") as table:
        table.drop_column("daily_agenda")
