"""``python -m tests.e2e.shifted_bot OFFSET_SECONDS``: ``python -m bot`` on a clock moved by ``OFFSET_SECONDS``.

For tests that run the bot as whole processes: the times the bot offers depend on "now" (minimum notice, today's
hours), so a test that presses the offered times needs a known "now" to be repeatable at any hour. The clock still
ticks, so leases, due times and waits behave as on the real one; processes given the same offset share one clock.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.__main__ import main


@dataclass(frozen=True)
class ShiftedClock:
    offset: timedelta

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def offset_to(moment: datetime) -> float:
    """The offset, in seconds, that makes a shifted clock read ``moment`` now."""
    return (moment - datetime.now(UTC)).total_seconds()


if __name__ == "__main__":
    sys.exit(main(clock=ShiftedClock(timedelta(seconds=float(sys.argv[1])))))
