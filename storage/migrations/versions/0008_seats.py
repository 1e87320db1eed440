"""Seats: an offering's capacity, the people one session of it seats (1: a 1:1 session).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

Hand-written and frozen, like 0001. Every existing offering keeps one seat. Each attendee of a group session has a
booking of their own at the session's start, so bookings need no new column (``domain.slots``, rule 6).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("offerings") as table:
        table.add_column(sa.Column("capacity", sa.Integer(), server_default=sa.text("1"), nullable=False))
        table.create_check_constraint(op.f("ck_offerings_capacity"), "capacity BETWEEN 1 AND 100")


def downgrade() -> None:
    with op.batch_alter_table("offerings") as table:
        table.drop_constraint(op.f("ck_offerings_capacity"), type_="check")
        table.drop_column("capacity")
