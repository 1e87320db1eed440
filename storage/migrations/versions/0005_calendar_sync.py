"""Calendar sync: a booking's iCalendar SEQUENCE, the personal calendar feed, a mentor's busy calendars.

Revision ID: 0005_calendar
Revises: 0004
Create Date: 2026-11-26

Hand-written and frozen, like 0001.

``bookings.sequence`` rises with every change of a booking. Until now the ``.ics`` download derived SEQUENCE from
the booking's timestamps (whole minutes from booking to the last change); existing rows start from that value, so
a calendar that imported an older download still takes the next version.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_calendar"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


# Whole minutes from ``created_at`` to ``updated_at`` (SQLite keeps both as naive UTC text).
_MINUTES = {
    "sqlite": "CAST((julianday(updated_at) - julianday(created_at)) * 1440 AS INTEGER)",
    "postgresql": "CAST(floor(extract(epoch FROM updated_at - created_at) / 60) AS INTEGER)",
}


def upgrade() -> None:
    with op.batch_alter_table("bookings") as table:
        table.add_column(sa.Column("sequence", sa.Integer(), server_default=sa.text("0"), nullable=False))
    minutes = _MINUTES[op.get_bind().dialect.name]
    op.execute(
        f"UPDATE bookings SET sequence = CASE WHEN {minutes} > 0 THEN {minutes} ELSE 0 END "
        "WHERE updated_at IS NOT NULL"
    )

    op.create_table(
        "calendar_feeds",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=True),
        sa.Column("changed_at", _utc(), nullable=True),
        sa.Column("created_at", _utc(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calendar_feeds_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_calendar_feeds_token_digest")),
    )

    op.create_table(
        "busy_calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("last_attempt_at", _utc(), nullable=True),
        sa.Column("last_success_at", _utc(), nullable=True),
        sa.Column("busy_until", _utc(), nullable=True),
        sa.Column("last_error", sa.String(length=40), nullable=True),
        sa.Column("failing_since", _utc(), nullable=True),
        sa.Column("failure_told", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mentor_id"], ["users.id"], name=op.f("fk_busy_calendars_mentor_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_busy_calendars")),
    )
    op.create_index(op.f("ix_busy_calendars_mentor_id"), "busy_calendars", ["mentor_id"])
    op.create_index(op.f("ix_busy_calendars_last_attempt_at"), "busy_calendars", ["last_attempt_at"])

    op.create_table(
        "calendar_busy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", _utc(), nullable=False),
        sa.Column("ends_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["busy_calendars.id"],
            name=op.f("fk_calendar_busy_calendar_id_busy_calendars"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_busy")),
    )
    op.create_index(op.f("ix_calendar_busy_mentor_id_starts_at"), "calendar_busy", ["mentor_id", "starts_at"])
    op.create_index(op.f("ix_calendar_busy_calendar_id"), "calendar_busy", ["calendar_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_calendar_busy_calendar_id"), table_name="calendar_busy")
    op.drop_index(op.f("ix_calendar_busy_mentor_id_starts_at"), table_name="calendar_busy")
    op.drop_table("calendar_busy")
    op.drop_index(op.f("ix_busy_calendars_last_attempt_at"), table_name="busy_calendars")
    op.drop_index(op.f("ix_busy_calendars_mentor_id"), table_name="busy_calendars")
    op.drop_table("busy_calendars")
    op.drop_table("calendar_feeds")
    with op.batch_alter_table("bookings") as table:
        table.drop_column("sequence")
