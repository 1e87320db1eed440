"""Scale: an index on ``availability_rules.offering_id``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

Hand-written and frozen, like 0001. Every read of an offering (``SqlOfferingRepository._rules_for``: each booking
step, Discover, the offerings list) loads the offering's own weekly rules with ``WHERE offering_id IN (...)``.
The only index there led with ``mentor_id``, so that read scanned every rule of every mentor (SQLite
``SCAN availability_rules``; PostgreSQL a full index or sequential scan): 43,500 rows with 5,000 mentors.
The index also serves the ``ON DELETE CASCADE`` from ``offerings``.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_availability_rules_offering_id"), "availability_rules", ["offering_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_availability_rules_offering_id"), table_name="availability_rules")
