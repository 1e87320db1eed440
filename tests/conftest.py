"""Session-wide: the migrated template databases of ``tests.dbutil`` are removed when the session ends (in each
pytest-xdist worker, and in a run without workers)."""

from __future__ import annotations

import asyncio

import pytest

from tests.dbutil import drop_templates


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    asyncio.run(drop_templates())
