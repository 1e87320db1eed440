"""Packages: an offering booked only as N weekly sessions (``domain.series``); NULL: one session at a time.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

Hand-written and frozen, like 0001. (Written as 0014; renumbered to follow the waitlist's.) Every existing
offering stays bookable one session at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("offerings") as table:
        table.add_column(sa.Column("package_weeks", sa.SmallInteger(), nullable=True))
        table.create_check_constraint(op.f("ck_offerings_package_weeks"), "package_weeks BETWEEN 2 AND 12")


def downgrade() -> None:
    with op.batch_alter_table("offerings") as table:
        table.drop_constraint(op.f("ck_offerings_package_weeks"), type_="check")
        table.drop_column("package_weeks")
