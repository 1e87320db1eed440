"""The real clock, for production wiring (``domain/`` only ever sees the ``Clock`` port)."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
