"""Session-wide: Telegram's time periods as timedeltas, as in the bot (``bot.app.use_timedelta_periods``); the
migrated template databases of ``tests.dbutil`` are removed when the session ends (in each pytest-xdist worker, and
in a run without workers)."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import use_timedelta_periods
from tests.dbutil import drop_templates

# As every bot process does (``build_application``), from the session's start: each test, whichever ran before it
# in its worker, sees Telegram's time periods in one form.
use_timedelta_periods()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    asyncio.run(drop_templates())
