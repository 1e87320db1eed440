"""Run the Alembic migrations from code: ``await upgrade_to_head(url)`` at start-up, no ``alembic.ini`` needed.

Alembic (with Mako, which it loads) is imported only when there is something to migrate: a bot whose database is
already at ``HEAD`` - every start but the first after an upgrade - reads one row and never loads them, which keeps
about 11 MB out of every bot process for its whole life (``docs/performance.md``, memory).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from storage.engine import create_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x6D656E746F72  # "mentor": the PostgreSQL advisory lock held while migrating
# The newest revision in storage/migrations/versions. A new migration changes it too:
# tests/storage/test_migrations.py fails, naming the new head, until it does.
HEAD = "0016"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` pointing at ``storage/migrations``, built in code.

    The URL travels in ``config.attributes`` (not ``sqlalchemy.url``), so passwords with ``%`` need no escaping.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.attributes["url"] = url
    return config


async def upgrade_to_head(url: str) -> None:
    """Bring the database at ``url`` to the newest revision, in one transaction (nothing to do, and Alembic not
    loaded, when it is at ``HEAD`` already)."""
    if await current_revision(url) == HEAD:
        return
    await upgrade(url, "head")


async def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at; None for a new database (no ``alembic_version`` yet)."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            try:
                return (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            except DBAPIError:  # no such table: never migrated
                return None
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str) -> None:
    from alembic import command

    await _run(url, command.upgrade, revision)


async def downgrade(url: str, revision: str) -> None:
    from alembic import command

    await _run(url, command.downgrade, revision)


def upgrade_to_head_sync(url: str) -> None:
    """``upgrade_to_head`` for code without a running event loop (scripts, CLI); it calls ``asyncio.run``."""
    asyncio.run(upgrade_to_head(url))


AlembicCommand = Callable[["Config", str], None]


async def _run(url: str, alembic_command: AlembicCommand, revision: str) -> None:
    # Foreign keys off on SQLite while migrating: batch operations copy, drop and rename tables.
    engine = create_engine(url, foreign_keys=False, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_sync, url, alembic_command, revision)
    finally:
        await engine.dispose()


def _run_sync(connection: Connection, url: str, alembic_command: AlembicCommand, revision: str) -> None:
    # Several processes may start at once. SQLite: the transaction is BEGIN IMMEDIATE, so they already take
    # turns. PostgreSQL: a transaction-scoped advisory lock makes them take turns; the later ones find the
    # schema at head and do nothing. Either lock is taken *before* the Alembic command starts, which matters
    # within one process too: Alembic's ``context`` is process-global, so two commands must never interleave.
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    config = alembic_config(url)
    config.attributes["connection"] = connection
    alembic_command(config, revision)
