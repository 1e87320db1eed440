"""Storage fixtures: every test that asks for ``db_url`` (or anything built on it) runs on SQLite and PostgreSQL.

Each test gets its own freshly migrated database (``tests.dbutil.fresh_database``). PostgreSQL down: the
postgres variants fail when ``CI`` is set, and skip with the reason otherwise.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine
from storage.uow import SqlUnitOfWork
from tests.dbutil import drop_database, fresh_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def db_url(db_kind: str, tmp_path: Path) -> AsyncIterator[str]:
    url = await fresh_database(db_kind, tmp_path)
    try:
        yield url
    finally:
        await drop_database(url)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def uow(engine: AsyncEngine) -> SqlUnitOfWork:
    """A unit of work, not yet entered: ``async with uow: ...`` (sequential blocks are fine)."""
    return SqlUnitOfWork(engine)
