"""Throw-away databases for tests (storage and end-to-end suites).

    url = await fresh_database("sqlite")     # or "postgres"
    ...                                       # migrated to head, empty
    await drop_database(url)

or ``async with temporary_database("postgres") as url: ...``.

* ``sqlite``: a new file in a new temporary directory (or under ``directory``).
* ``postgres``: a new database ``md_test_<pid>_<random>`` on the server named by ``TEST_POSTGRES_URL``
  (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``; the role needs CREATEDB). A database per test
  keeps concurrent runs (other suites, other checkouts, other pytest-xdist workers) from ever seeing each other's
  tables; ``drop_database`` removes it with ``WITH (FORCE)``, so leftover connections cannot block the cleanup.

Migrating takes ~0.5 s a database, so each process migrates one template per kind the first time it needs one
(an SQLite file; a PostgreSQL database ``md_test_<pid>_template_<random>``) and ``fresh_database`` copies it
(``CREATE DATABASE ... TEMPLATE``, SQLite's backup). ``drop_templates()`` removes them at the end of the session
(``tests/conftest.py``). The migrations themselves, from an empty database, are tested in
``tests/storage/test_migrations.py``.

PostgreSQL being down is a failure on CI and a skip elsewhere: call ``require_postgres()`` (from a test or
fixture) to get that behaviour.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path

import pytest
from sqlalchemy import pool, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.engine import normalize_url
from storage.migrate import upgrade_to_head

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
KINDS = ("sqlite", "postgres")
_DB_PREFIX = "md_test_"


def postgres_server_url() -> URL:
    return normalize_url(os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL)


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


_postgres_problem: str | None = None
_postgres_checked = False


async def postgres_unavailable_reason() -> str | None:
    """None if the test PostgreSQL server answers (checked once per process), else why not."""
    global _postgres_checked, _postgres_problem
    if not _postgres_checked:
        engine = create_async_engine(postgres_server_url(), poolclass=pool.NullPool, connect_args={"timeout": 5})
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
            _postgres_problem = (
                f"PostgreSQL at {postgres_server_url().render_as_string()} is unreachable "
                f"({type(exc).__name__}: {exc}); set TEST_POSTGRES_URL"
            )
        finally:
            await engine.dispose()
        _postgres_checked = True
    return _postgres_problem


async def require_postgres() -> None:
    """Fail (on CI, ``CI`` set) or skip (locally) the calling test when PostgreSQL is unreachable."""
    reason = await postgres_unavailable_reason()
    if reason is None:
        return
    if on_ci():
        pytest.fail(f"{reason} - required on CI", pytrace=False)
    pytest.skip(f"{reason} - skipped locally; on CI (CI=true) this fails")


@asynccontextmanager
async def _admin_connection() -> AsyncIterator:
    engine = create_async_engine(postgres_server_url(), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


def _new_sqlite_url(directory: Path | None) -> str:
    base = Path(tempfile.mkdtemp(prefix="md-test-", dir=directory))
    return f"sqlite+aiosqlite:///{base / 'db' / 'mentor_desk.sqlite3'}"  # parent dir made by create_engine


def _new_postgres_name(role: str = "") -> str:
    return f"{_DB_PREFIX}{os.getpid()}_{role}{uuid.uuid4().hex[:12]}"


def _postgres_url(name: str) -> str:
    return postgres_server_url().set(database=name).render_as_string(hide_password=False)


async def create_empty_database(kind: str, directory: Path | None = None) -> str:
    """A URL to a new, empty database (no tables) of ``kind`` ("sqlite" or "postgres")."""
    if kind == "sqlite":
        return _new_sqlite_url(directory)
    if kind == "postgres":
        await require_postgres()
        name = _new_postgres_name()
        async with _admin_connection() as connection:
            await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return _postgres_url(name)
    raise ValueError(f"unknown database kind {kind!r}; expected one of {KINDS}")


#: kind -> URL of this process's database migrated to head, which ``fresh_database`` copies
_templates: dict[str, str] = {}


async def _template(kind: str) -> str:
    """This process's migrated template of ``kind``, made on first use."""
    if kind not in _templates:
        if kind == "sqlite":
            url = _new_sqlite_url(None)
        else:
            await require_postgres()
            url = _postgres_url(_new_postgres_name("template_"))
            async with _admin_connection() as connection:
                await connection.exec_driver_sql(f'CREATE DATABASE "{make_url(url).database}"')
        try:
            await upgrade_to_head(url)  # its engine is disposed: nobody stays connected to the template
        except BaseException:
            await drop_database(url)
            raise
        _templates[kind] = url
    return _templates[kind]


async def fresh_database(kind: str, directory: Path | None = None) -> str:
    """A URL to a new database of ``kind`` migrated to the head revision (drop it with ``drop_database``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown database kind {kind!r}; expected one of {KINDS}")
    template = make_url(await _template(kind))
    if kind == "sqlite":
        url = _new_sqlite_url(directory)
        path = Path(make_url(url).database or "")
        path.parent.mkdir()
        with closing(sqlite3.connect(template.database or "")) as source, closing(sqlite3.connect(path)) as copy:
            source.backup(copy)  # a consistent copy, whatever is still in the template's WAL file
        return url
    name = _new_postgres_name()
    async with _admin_connection() as connection:
        await connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template.database}"')
    return _postgres_url(name)


async def drop_templates() -> None:
    """Remove this process's templates (the end of a test session)."""
    while _templates:
        await drop_database(_templates.popitem()[1])


async def drop_database(url: str) -> None:
    """Remove a database made by ``fresh_database``/``create_empty_database`` (idempotent)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if path.parent.name == "db" and path.parent.parent.name.startswith("md-test-"):
            shutil.rmtree(path.parent.parent, ignore_errors=True)
        else:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = parsed.database or ""
    if not name.startswith(_DB_PREFIX):
        raise ValueError(f"refusing to drop {name!r}: not a test database")
    async with _admin_connection() as connection:
        await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def temporary_database(kind: str, directory: Path | None = None) -> AsyncIterator[str]:
    """``fresh_database`` for the duration of a ``async with`` block."""
    url = await fresh_database(kind, directory)
    try:
        yield url
    finally:
        await drop_database(url)
