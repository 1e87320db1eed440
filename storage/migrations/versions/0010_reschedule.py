"""Rescheduling: an offering's reschedule cut-off; a booking's new time asked for (held until the mentor answers)
and its moves (how many, the start it last left, who moved it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

Hand-written and frozen, like 0001. The actor values in the CHECK constraint are copied from ``domain.model`` as
they are at this revision. The index on ``(mentor_id, requested_start)`` serves every booking step's read of the
new times held for the mentor's bookings (``storage.repositories._REQUESTED_FOR_MENTOR``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTORS = "'mentor', 'mentee', 'system'"


def _utc() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("offerings") as table:
        table.add_column(sa.Column("reschedule_cutoff_hours", sa.Integer(), nullable=True))
    with op.batch_alter_table("bookings") as table:
        table.add_column(sa.Column("requested_start", _utc(), nullable=True))
        table.add_column(sa.Column("requested_at", _utc(), nullable=True))
        table.add_column(sa.Column("reschedules", sa.Integer(), server_default=sa.text("0"), nullable=False))
        table.add_column(sa.Column("moved_from", _utc(), nullable=True))
        table.add_column(sa.Column("moved_by", sa.String(length=16), nullable=True))
        table.create_check_constraint(op.f("ck_bookings_moved_by"), f"moved_by IS NULL OR moved_by IN ({_ACTORS})")
        table.create_check_constraint(op.f("ck_bookings_reschedules"), "reschedules >= 0")
        table.create_index(op.f("ix_bookings_mentor_id_requested_start"), ["mentor_id", "requested_start"])


def downgrade() -> None:
    with op.batch_alter_table("bookings") as table:
        table.drop_index(op.f("ix_bookings_mentor_id_requested_start"))
        table.drop_constraint(op.f("ck_bookings_reschedules"), type_="check")
        table.drop_constraint(op.f("ck_bookings_moved_by"), type_="check")
        for column in ("moved_by", "moved_from", "reschedules", "requested_at", "requested_start"):
            table.drop_column(column)
    with op.batch_alter_table("offerings") as table:
        table.drop_column("reschedule_cutoff_hours")
