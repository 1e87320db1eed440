"""The migrations produce exactly the schema the models describe, on both databases."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from storage.engine import create_engine
from storage.migrate import HEAD, alembic_config, current_revision, downgrade, upgrade_to_head
from storage.models import Base
from tests.dbutil import create_empty_database, drop_database

ROOT = Path(__file__).resolve().parents[2]


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _strip(default: str | None) -> str | None:
    """SQLite reflects ``DEFAULT ('')`` / ``'draft'`` / ``(CURRENT_TIMESTAMP)``; compare the bare value."""
    if default is None:
        return None
    value = default.strip()
    while value.startswith("(") and value.endswith(")"):
        value = value[1:-1].strip()
    return value.strip("'")


def _compare_default(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_default: str | None,
    metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool | None:
    if context.dialect.name == "sqlite":
        return _strip(inspected_default) != _strip(rendered_metadata_default)
    return None  # Alembic's own comparison


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": _compare_default}
    )
    return compare_metadata(context, Base.metadata)


def _snapshot(connection: Connection) -> dict[str, Any]:
    """Every table's index, foreign key and primary key names and CHECK constraints (name and SQL)."""
    inspector = inspect(connection)
    return {
        table: {
            "indexes": sorted(i["name"] for i in inspector.get_indexes(table)),
            "fks": sorted(fk["name"] for fk in inspector.get_foreign_keys(table)),
            "checks": sorted((c["name"], c["sqltext"]) for c in inspector.get_check_constraints(table)),
            "pk": inspector.get_pk_constraint(table)["name"],
        }
        for table in sorted(inspector.get_table_names())
        if table != "alembic_version"
    }


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
            migrated = await connection.run_sync(_snapshot)
    finally:
        await engine.dispose()

    # Constraint names and CHECKs are invisible to compare_metadata: build the models' schema and compare those.
    # (The CHECK bodies come back as the database normalized them - the same way for both schemas.)
    kind = "postgres" if db_url.startswith("postgresql") else "sqlite"
    scratch = await create_empty_database(kind)
    engine = create_engine(scratch)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        async with engine.connect() as connection:
            from_models = await connection.run_sync(_snapshot)
    finally:
        await engine.dispose()
        await drop_database(scratch)
    assert migrated == from_models
    assert set(migrated) == {t.name for t in Base.metadata.sorted_tables}
    if kind == "postgres":  # SQLite does not report primary key names
        assert migrated["bookings"]["pk"] == "pk_bookings"
    assert [name for name, _sql in migrated["bookings"]["checks"]] == [
        "ck_bookings_buffer_after_minutes", "ck_bookings_buffer_before_minutes", "ck_bookings_cancelled_by",
        "ck_bookings_currency", "ck_bookings_duration_minutes", "ck_bookings_mentee_rating",
        "ck_bookings_moved_by", "ck_bookings_payment_mode", "ck_bookings_payment_status",
        "ck_bookings_reschedules", "ck_bookings_status",
    ]  # fmt: skip


async def test_downgrade_to_base_and_back(db_url: str) -> None:
    await downgrade(db_url, "base")
    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        assert tables == ["alembic_version"]
        await upgrade_to_head(db_url)
        await upgrade_to_head(db_url)  # idempotent
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_concurrent_upgrades_take_turns(db_kind: str, tmp_path: Path) -> None:
    """Several bot processes starting at once on an empty database: one migrates, the others find it done."""
    url = await create_empty_database(db_kind, tmp_path)
    try:
        await asyncio.gather(*(upgrade_to_head(url) for _ in range(5)))
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                assert await connection.run_sync(_diff) == []
                version = await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
                assert version.scalars().all() == [_head()]
        finally:
            await engine.dispose()
    finally:
        await drop_database(url)


def _checked_values(connection: Connection, table: str, constraint: str) -> set[str]:
    """The quoted values in the CHECK ``constraint`` of ``table`` as the database holds it (``status IN ('a',
    'b')`` on SQLite; PostgreSQL normalizes it to ``status::text = ANY (ARRAY['a'::character varying, ...])``)."""
    checks = {c["name"]: c["sqltext"] for c in inspect(connection).get_check_constraints(table)}
    assert constraint in checks, f"no CHECK {constraint} on {table}"
    return set(re.findall(r"'([A-Za-z_]+)'", checks[constraint]))


async def test_check_constraints_at_head_allow_exactly_the_domain_values(db_url: str) -> None:
    """The migrations copy the enum values into CHECKs: fail when the domain grows a value without a migration
    that lets the database store it (or a migration changes a CHECK without the domain). Read from a database at
    the head revision, so a later migration that rewrites a CHECK is what counts."""
    from domain.model import Actor, BookingStatus, Currency, OfferingStatus, PaymentMode, PaymentStatus
    from domain.payments import LedgerKind

    expected = {
        ("offerings", "ck_offerings_status"): set(OfferingStatus),
        ("bookings", "ck_bookings_status"): set(BookingStatus),
        ("bookings", "ck_bookings_payment_status"): set(PaymentStatus),
        ("bookings", "ck_bookings_cancelled_by"): set(Actor),
        ("bookings", "ck_bookings_payment_mode"): set(PaymentMode),
        ("bookings", "ck_bookings_currency"): set(Currency),
        ("payments", "ck_payments_kind"): set(LedgerKind),
        ("payments", "ck_payments_mode"): set(PaymentMode),
        ("payments", "ck_payments_currency"): set(Currency),
    }
    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            version = await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            assert version.scalars().all() == [_head()]
            found = {key: await connection.run_sync(_checked_values, *key) for key in expected}
    finally:
        await engine.dispose()
    assert found == expected


def test_frozen_booking_bounds_match_the_domain() -> None:
    """Migration 0007 copied the durations and the buffers' bound: the bookings read relies on them."""
    from domain.model import ALLOWED_DURATIONS, MAX_BUFFER_MINUTES

    flat = " ".join((ROOT / "storage/migrations/versions/0007_bounded_bookings.py").read_text().split())
    durations = re.search(r'"duration_minutes IN \(([^)]*)\)"', flat)
    assert durations and tuple(int(d) for d in durations[1].split(",")) == ALLOWED_DURATIONS
    assert re.findall(r"BETWEEN 0 AND (\d+)", flat) == [str(MAX_BUFFER_MINUTES)] * 2


def test_head_names_the_newest_migration() -> None:
    assert _head() == HEAD, f"a new migration: set storage.migrate.HEAD to {_head()!r}"


# Run in a new interpreter: the bot's own imports, then a start-up on a database at head.
_START_AT_HEAD = """
import asyncio, sys
import bot.app
from storage.migrate import upgrade_to_head
asyncio.run(upgrade_to_head(sys.argv[1]))
print(sorted(name for name in sys.modules if name.split(".")[0] in ("alembic", "mako")))
"""


async def test_a_start_on_a_database_at_head_does_not_load_alembic(db_url: str) -> None:
    assert await current_revision(db_url) == HEAD
    run = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", _START_AT_HEAD, db_url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


async def test_a_new_database_has_no_revision_until_migrated(db_kind: str, tmp_path: Path) -> None:
    url = await create_empty_database(db_kind, tmp_path)
    try:
        assert await current_revision(url) is None
        await upgrade_to_head(url)
        assert await current_revision(url) == HEAD
    finally:
        await drop_database(url)


def test_alembic_command_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    alembic = Path(sys.executable).with_name("alembic")
    run = subprocess.run(
        [str(alembic), "-c", str(ROOT / "storage/alembic.ini"), "-x", f"url={url}", "upgrade", "head"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    current = subprocess.run(
        [str(alembic), "-c", str(ROOT / "storage/alembic.ini"), "-x", f"url={url}", "current"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert f"{_head()} (head)" in current.stdout, current.stdout + current.stderr


async def test_existing_bookings_keep_the_sequence_their_downloads_had(db_kind: str, tmp_path: Path) -> None:
    """0005 adds ``bookings.sequence``; before it the .ics download derived SEQUENCE from the timestamps (whole
    minutes from booking to the last change), so existing rows start there and a re-import is still newer."""
    from storage.migrate import upgrade

    url = await create_empty_database(db_kind, tmp_path)
    engine = create_engine(url)
    try:
        await upgrade(url, "0004")
        async with engine.begin() as connection:
            await connection.exec_driver_sql("INSERT INTO users (id, first_name) VALUES (1, 'Asha'), (2, 'Ravi')")
            await connection.exec_driver_sql(
                "INSERT INTO offerings (id, mentor_id, title, price, duration_minutes, buffer_before_minutes, "
                "buffer_after_minutes, max_bookings_per_day, advance_booking_days, min_notice_hours) "
                "VALUES (1, 1, 'Review', 0, 30, 5, 5, 5, 30, 24)"
            )
            row = (
                "1, 1, 2, '2030-03-04 10:00:00', '2030-03-04 10:30:00', '2030-03-04 09:55:00', "
                "'2030-03-04 10:35:00', 30, 5, 5, 'UTC', 0, 'not_required', 'confirmed'"
            )
            columns = (
                "offering_id, mentor_id, mentee_id, scheduled_at, ends_at, blocked_from, blocked_until, "
                "duration_minutes, buffer_before_minutes, buffer_after_minutes, timezone, amount, payment_status, "
                "status, created_at, updated_at"
            )
            for created, updated in (
                ("'2030-03-01 08:00:00'", "NULL"),
                ("'2030-03-01 08:00:00'", "'2030-03-01 09:30:59'"),
                ("'2030-03-01 08:00:00'", "'2030-03-03 08:00:00'"),
            ):
                await connection.exec_driver_sql(
                    f"INSERT INTO bookings ({columns}) VALUES ({row}, {created}, {updated})"
                )
        await upgrade_to_head(url)
        async with engine.connect() as connection:
            found = await connection.exec_driver_sql("SELECT sequence FROM bookings ORDER BY id")
            assert found.scalars().all() == [0, 90, 2 * 24 * 60]
    finally:
        await engine.dispose()
        await drop_database(url)
