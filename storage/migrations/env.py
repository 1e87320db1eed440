"""Alembic environment for Mentor Desk (async engines; batch mode on SQLite).

Where the database URL comes from, first match wins:

1. ``config.attributes["connection"]``: an open (sync-facade) connection - ``storage.migrate`` passes one, and
   the migration then runs inside that connection's transaction;
2. ``config.attributes["url"]``;
3. ``alembic -x url=...`` on the command line;
4. ``sqlalchemy.url`` in the ini file;
5. the ``DATABASE_URL`` environment variable.

Normally run through ``storage.migrate.upgrade_to_head(url)``; the CLI works too:
``alembic -c storage/alembic.ini -x url=sqlite+aiosqlite:///data/bot.db upgrade head``.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection

from storage.engine import create_engine, normalize_url
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = (
        config.attributes.get("url")
        or context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("DATABASE_URL")
    )
    if not url:
        raise RuntimeError("no database URL: pass -x url=..., set sqlalchemy.url or DATABASE_URL")
    return normalize_url(url).render_as_string(hide_password=False)


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    url = _url()
    _configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    # SQLite: foreign keys off while migrating (batch mode copies and drops tables); BEGIN IMMEDIATE as always.
    engine = create_engine(_url(), foreign_keys=False, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
