"""Who was told of a freed time: the outbox's waitlist notices looked up by entry and start time.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

Hand-written and frozen, like 0001. A time that frees again goes to the next people waiting, not those told of it
already (``storage.waitlist``: the candidates of a freed start leave out entries with a notice for it); the index
keeps that look-up one probe per entry.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_notifications_waitlist_id_slot_start"), "notifications", ["waitlist_id", "slot_start"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_notifications_waitlist_id_slot_start"), table_name="notifications")
