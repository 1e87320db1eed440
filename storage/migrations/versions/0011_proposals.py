"""Proposed times: the new times a mentor proposes for a booking (the mentee picks one) and their message.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

Hand-written and frozen, like 0001. ``proposals`` is a JSON list of UTC ISO instants, NULL when none (no server
default: PostgreSQL cannot compare json values).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bookings") as table:
        table.add_column(sa.Column("proposals", sa.JSON(), nullable=True))
        table.add_column(sa.Column("proposal_message", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings") as table:
        table.drop_column("proposal_message")
        table.drop_column("proposals")
