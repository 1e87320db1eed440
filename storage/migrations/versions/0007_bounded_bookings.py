"""Bounded bookings: a booking's duration is one of the allowed ones and its buffers are 0-120 minutes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

Hand-written and frozen, like 0001. (Written as 0005 on a branch that forked before calendar sync and payments;
renumbered to follow them.) With these bounds a booking's blocked time lies within 120 minutes before and
90 + 120 minutes after its start, so the read of a mentor's bookings around a time (every booking step) can
narrow the index on ``(mentor_id, status, scheduled_at)`` to a range of start times instead of reading every
active booking of the mentor (``storage.repositories._active_overlapping``). Offerings get the same bounds on
their buffers (the bookings copy them); the bot never allowed more (``domain.offerings``).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("offerings") as table:
        for column in ("buffer_before_minutes", "buffer_after_minutes"):
            table.create_check_constraint(op.f(f"ck_offerings_{column}"), f"{column} BETWEEN 0 AND 120")
    with op.batch_alter_table("bookings") as table:
        table.create_check_constraint(
            op.f("ck_bookings_duration_minutes"), "duration_minutes IN (15, 30, 45, 60, 90)"
        )
        for column in ("buffer_before_minutes", "buffer_after_minutes"):
            table.create_check_constraint(op.f(f"ck_bookings_{column}"), f"{column} BETWEEN 0 AND 120")


def downgrade() -> None:
    with op.batch_alter_table("bookings") as table:
        table.drop_constraint(op.f("ck_bookings_buffer_after_minutes"), type_="check")
        table.drop_constraint(op.f("ck_bookings_buffer_before_minutes"), type_="check")
        table.drop_constraint(op.f("ck_bookings_duration_minutes"), type_="check")
    with op.batch_alter_table("offerings") as table:
        table.drop_constraint(op.f("ck_offerings_buffer_after_minutes"), type_="check")
        table.drop_constraint(op.f("ck_offerings_buffer_before_minutes"), type_="check")
