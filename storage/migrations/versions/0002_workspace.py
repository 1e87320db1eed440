"""Mentor workspace: profile tags and languages, an offering's cancellation cut-off.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Hand-written and frozen, like 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mentor_profiles") as table:
        table.add_column(sa.Column("expertise", sa.JSON(), nullable=True))
        table.add_column(sa.Column("languages", sa.JSON(), nullable=True))
    with op.batch_alter_table("offerings") as table:
        table.add_column(
            sa.Column("cancellation_cutoff_hours", sa.Integer(), server_default=sa.text("24"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("offerings") as table:
        table.drop_column("cancellation_cutoff_hours")
    with op.batch_alter_table("mentor_profiles") as table:
        table.drop_column("languages")
        table.drop_column("expertise")
