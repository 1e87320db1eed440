"""The sandbox's clock: real time plus an offset that time travel moves forward (``domain.ports.Clock``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import SystemClock
from domain.ports import Clock


class SandboxClock:
    """``now()`` is the real time plus :attr:`offset`; :meth:`advance` moves it forward, never back (what was sent
    and recorded at a later time must stay in the past)."""

    def __init__(self, offset: timedelta = timedelta(0), source: Clock | None = None) -> None:
        if offset < timedelta(0):
            raise ValueError("the sandbox clock never runs behind the real time")
        self.offset = offset
        self._source = source or SystemClock()

    def now(self) -> datetime:
        return self._source.now() + self.offset

    def timestamp(self) -> float:
        """Unix seconds, for the dates of messages in the Bot API server."""
        return self.now().timestamp()

    def advance(self, delta: timedelta) -> datetime:
        if delta <= timedelta(0):
            raise ValueError("time travel only goes forward")
        self.offset += delta
        return self.now()
