"""Weekly series: a booking's series (its first occurrence's booking id) and its week of the series' weeks.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

Hand-written and frozen, like 0001. (Written as 0009; renumbered to follow UPI and rescheduling.) Single
bookings keep NULLs (``domain.series``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bookings") as table:
        table.add_column(sa.Column("series_id", sa.Integer(), nullable=True))
        table.add_column(sa.Column("series_week", sa.SmallInteger(), nullable=True))
        table.add_column(sa.Column("series_weeks", sa.SmallInteger(), nullable=True))
        table.create_index(op.f("ix_bookings_series_id"), ["series_id"])


def downgrade() -> None:
    with op.batch_alter_table("bookings") as table:
        table.drop_index(op.f("ix_bookings_series_id"))
        table.drop_column("series_weeks")
        table.drop_column("series_week")
        table.drop_column("series_id")
