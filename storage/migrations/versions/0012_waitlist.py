"""The waitlist: mentees waiting for a time of an offering to free up, and the outbox's waitlist notices.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

Hand-written and frozen, like 0001. Entries are read per offering in the order they joined (the index on
``offering_id, day, id``); a notice names its entry (NULL once the entry ends) and the start time that freed up.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "waitlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.Column("mentee_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["offering_id"], ["offerings.id"], name=op.f("fk_waitlist_offering_id_offerings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["mentee_id"], ["users.id"], name=op.f("fk_waitlist_mentee_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist")),
    )
    op.create_index(op.f("ix_waitlist_offering_id_day_id"), "waitlist", ["offering_id", "day", "id"])
    op.create_index(op.f("ix_waitlist_mentee_id"), "waitlist", ["mentee_id"])
    with op.batch_alter_table("notifications") as table:
        table.add_column(sa.Column("waitlist_id", sa.Integer(), nullable=True))
        table.add_column(sa.Column("slot_start", sa.DateTime(timezone=True), nullable=True))
        table.create_foreign_key(
            op.f("fk_notifications_waitlist_id_waitlist"), "waitlist", ["waitlist_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications") as table:
        table.drop_constraint(op.f("fk_notifications_waitlist_id_waitlist"), type_="foreignkey")
        table.drop_column("slot_start")
        table.drop_column("waitlist_id")
    op.drop_index(op.f("ix_waitlist_mentee_id"), table_name="waitlist")
    op.drop_index(op.f("ix_waitlist_offering_id_day_id"), table_name="waitlist")
    op.drop_table("waitlist")
