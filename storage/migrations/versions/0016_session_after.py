"""The mentor's after-session question becomes the session's: pending per-booking rows become one per session.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

Hand-written and frozen, like 0001. Until now each confirmed booking had its own ``after_session`` row (a group
session of five asked its mentor five times); the question is now one ``session_after`` row per session, keyed by
the mentor and the start (``domain.notifications.session_after_key``: ``session_after:<mentor>:<YYYYmmddHHMM>``,
UTC), planned when an attendee joins. A booking confirmed before this release has no such row, and its old row
would be dropped by its next change without a new one being planned; so every pending ``after_session`` row is
turned into its session's row here (one per session, however many attendees), due at the same moment. Rows already
sent, being sent or given up stay as they are. ``notifications.kind`` has no CHECK constraint (a row of a kind a
running version does not know is marked failed when claimed, ``storage.outbox``), so nothing else changes.

Downgrade leaves the rows as they are: an older version does not know ``session_after`` and marks such rows failed
when they fall due (its bookings' own rows are planned again on their next change).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        start = "to_char(b.scheduled_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MI')"
    else:  # SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS[.ffffff]'
        start = "strftime('%Y%m%d%H%M', b.scheduled_at)"
    op.execute(
        "INSERT INTO notifications (key, kind, recipient_id, booking_id, due_at, lead_minutes, status, attempts, "
        "slot_start, created_at) "
        f"SELECT 'session_after:' || n.recipient_id || ':' || {start}, 'session_after', n.recipient_id, "
        "n.booking_id, n.due_at, 0, 'pending', 0, b.scheduled_at, n.created_at "
        "FROM notifications n JOIN bookings b ON b.id = n.booking_id "
        "WHERE n.kind = 'after_session' AND n.status = 'pending' "
        "ON CONFLICT (key) DO NOTHING"
    )
    op.execute("DELETE FROM notifications WHERE kind = 'after_session' AND status = 'pending'")


def downgrade() -> None:
    pass
