"""Initial schema: users, mentor profiles, availability, offerings, bookings, dialogs.

Revision ID: 0001
Revises:
Create Date: 2025-11-24

Hand-written and frozen: later changes go into new revisions, never here. Value lists in CHECK constraints are
copied from ``domain.model`` as they were at this revision.

Types: ``TIMESTAMP WITH TIME ZONE`` holds UTC (on SQLite: naive UTC text, see ``storage.models.UTCDateTime``);
money is ``NUMERIC(p, s)`` on PostgreSQL and an integer count of hundredths on SQLite (``ExactDecimal``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def _money(precision: int, scale: int) -> sa.types.TypeEngine:
    return sa.Numeric(precision, scale).with_variant(sa.BigInteger(), "sqlite")


def _created_at() -> sa.Column:
    return sa.Column("created_at", _utc(), server_default=sa.func.now(), nullable=False)


def _updated_at() -> sa.Column:
    return sa.Column("updated_at", _utc(), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("first_name", sa.Text(), nullable=False),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("locale", sa.String(length=16), server_default="en", nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("is_mentor", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("unreachable", sa.Boolean(), server_default=sa.false(), nullable=False),
        _created_at(),
        _updated_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )

    op.create_table(
        "dialogs",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _updated_at(),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_dialogs")),
    )

    op.create_table(
        "mentor_profiles",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("headline", sa.Text(), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mentor_profiles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_mentor_profiles")),
    )

    op.create_table(
        "offerings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("category", sa.String(length=32), server_default="other", nullable=False),
        sa.Column("price", _money(10, 2), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("use_profile_availability", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer(), nullable=False),
        sa.Column("max_bookings_per_day", sa.Integer(), nullable=False),
        sa.Column("advance_booking_days", sa.Integer(), nullable=False),
        sa.Column("min_notice_hours", sa.Integer(), nullable=False),
        sa.Column("cancellation_policy", sa.Text(), server_default="", nullable=False),
        sa.Column("preparation_notes", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="draft", nullable=False),
        sa.Column("total_bookings", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("total_completed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rating_sum", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rating_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("average_rating", _money(3, 2), nullable=True),
        _created_at(),
        _updated_at(),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'paused', 'archived')", name=op.f("ck_offerings_status")
        ),
        sa.CheckConstraint("duration_minutes IN (15, 30, 45, 60, 90)", name=op.f("ck_offerings_duration_minutes")),
        sa.ForeignKeyConstraint(["mentor_id"], ["users.id"], name=op.f("fk_offerings_mentor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offerings")),
    )
    op.create_index(op.f("ix_offerings_status"), "offerings", ["status"])
    op.create_index(op.f("ix_offerings_mentor_id"), "offerings", ["mentor_id"])

    op.create_table(
        "availability_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.BigInteger(), nullable=False),
        sa.Column("offering_id", sa.Integer(), nullable=True),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_minute", sa.SmallInteger(), nullable=False),
        sa.Column("end_minute", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_availability_rules_weekday")),
        sa.CheckConstraint(
            "start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440",
            name=op.f("ck_availability_rules_range"),
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"], ["users.id"], name=op.f("fk_availability_rules_mentor_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["offering_id"],
            ["offerings.id"],
            name=op.f("fk_availability_rules_offering_id_offerings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_rules")),
    )
    op.create_index(
        op.f("ix_availability_rules_mentor_id_offering_id"), "availability_rules", ["mentor_id", "offering_id"]
    )

    op.create_table(
        "availability_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start_minute", sa.SmallInteger(), nullable=True),
        sa.Column("end_minute", sa.SmallInteger(), nullable=True),
        sa.CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR "
            "(start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440)",
            name=op.f("ck_availability_overrides_range"),
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"], ["users.id"], name=op.f("fk_availability_overrides_mentor_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_overrides")),
    )
    op.create_index(
        op.f("ix_availability_overrides_mentor_id_day"), "availability_overrides", ["mentor_id", "day"]
    )

    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.BigInteger(), nullable=False),
        sa.Column("mentee_id", sa.BigInteger(), nullable=False),
        sa.Column("scheduled_at", _utc(), nullable=False),
        sa.Column("ends_at", _utc(), nullable=False),
        sa.Column("blocked_from", _utc(), nullable=False),
        sa.Column("blocked_until", _utc(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("meeting_link", sa.Text(), nullable=True),
        sa.Column("meeting_notes", sa.Text(), nullable=True),
        sa.Column("amount", _money(10, 2), nullable=False),
        sa.Column("payment_status", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cancelled_by", sa.String(length=16), nullable=True),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.Column("mentee_rating", sa.SmallInteger(), nullable=True),
        sa.Column("mentee_feedback", sa.Text(), nullable=True),
        sa.Column("mentor_notes", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'declined', 'cancelled', 'expired', 'completed', 'no_show')",
            name=op.f("ck_bookings_status"),
        ),
        sa.CheckConstraint(
            "payment_status IN ('not_required', 'pending', 'paid', 'refunded')",
            name=op.f("ck_bookings_payment_status"),
        ),
        sa.CheckConstraint(
            "cancelled_by IS NULL OR cancelled_by IN ('mentor', 'mentee', 'system')",
            name=op.f("ck_bookings_cancelled_by"),
        ),
        sa.CheckConstraint(
            "mentee_rating IS NULL OR mentee_rating BETWEEN 1 AND 5", name=op.f("ck_bookings_mentee_rating")
        ),
        sa.ForeignKeyConstraint(["offering_id"], ["offerings.id"], name=op.f("fk_bookings_offering_id_offerings")),
        sa.ForeignKeyConstraint(["mentor_id"], ["users.id"], name=op.f("fk_bookings_mentor_id_users")),
        sa.ForeignKeyConstraint(["mentee_id"], ["users.id"], name=op.f("fk_bookings_mentee_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    op.create_index(
        op.f("ix_bookings_mentor_id_status_scheduled_at"), "bookings", ["mentor_id", "status", "scheduled_at"]
    )
    op.create_index(
        op.f("ix_bookings_mentee_id_status_scheduled_at"), "bookings", ["mentee_id", "status", "scheduled_at"]
    )
    op.create_index(op.f("ix_bookings_offering_id"), "bookings", ["offering_id"])


def downgrade() -> None:
    op.drop_table("bookings")  # drops its indexes too
    op.drop_table("availability_overrides")
    op.drop_table("availability_rules")
    op.drop_table("offerings")
    op.drop_table("mentor_profiles")
    op.drop_table("dialogs")
    op.drop_table("users")
