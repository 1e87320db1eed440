"""``benchmarks.seed`` makes data the app can use: every constraint holds, counters add up, ids stay free."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.seed import FREE_IDS_FROM, Seeded, seed, seeded_info
from domain.model import BookingStatus, Offering, OfferingStatus, User
from storage.engine import create_engine
from storage.uow import SqlUnitOfWork

NOW = datetime(2026, 11, 24, tzinfo=UTC)
SIZE: dict[str, Any] = {"users": 300, "bookings": 2_000, "mentors": 15}


async def _rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in (await connection.execute(text(sql))).all()]
    finally:
        await engine.dispose()


async def test_seeded_data_keeps_the_rules_the_app_relies_on(db_url: str) -> None:
    made = await seed(db_url, seed=7, now=NOW, **SIZE)

    assert made.rows["users"] == 300 and made.rows["bookings"] == 2_000 and made.rows["profiles"] == 15
    assert await _rows(db_url, "SELECT count(*) FROM users WHERE is_mentor") == [(15,)]
    overlapping = await _rows(
        db_url,
        "SELECT count(*) FROM bookings a JOIN bookings b ON a.mentor_id = b.mentor_id AND a.id < b.id "
        "AND a.blocked_from < b.blocked_until AND b.blocked_from < a.blocked_until",
    )
    assert overlapping == [(0,)]
    statuses = dict(await _rows(db_url, "SELECT status, count(*) FROM bookings GROUP BY status"))
    # every status but a slot held for a payment: holds last minutes, and the seed describes a settled past
    assert set(statuses) == {s.value for s in BookingStatus} - {BookingStatus.AWAITING_PAYMENT.value}
    wrong = await _rows(
        db_url,
        "SELECT o.id FROM offerings o LEFT JOIN (SELECT offering_id, count(*) AS n, "
        "sum(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS done, coalesce(sum(mentee_rating), 0) AS stars, "
        "count(mentee_rating) AS rated FROM bookings GROUP BY offering_id) b ON b.offering_id = o.id "
        "WHERE o.total_bookings != coalesce(b.n, 0) OR o.total_completed != coalesce(b.done, 0) "
        "OR o.rating_sum != coalesce(b.stars, 0) OR o.rating_count != coalesce(b.rated, 0)",
    )
    assert wrong == []
    await _app_reads_and_adds(db_url, made)
    assert (await seeded_info(db_url) or {}).get("bookings") == 2_000


async def _app_reads_and_adds(url: str, made: Seeded) -> None:
    """Repositories read the seeded rows as the app wrote them, and new rows get ids after the seeded ones."""
    engine = create_engine(url)
    try:
        async with SqlUnitOfWork(engine) as uow:
            # (one connection: on SQLite a second one would wait for this transaction's write lock)
            rated = await uow.db.scalar(text("SELECT min(id) FROM offerings WHERE rating_count > 0"))
            offering = await uow.offerings.get(rated)
            assert offering is not None and offering.average_rating is not None
            stored = await uow.db.scalar(text(f"SELECT average_rating FROM offerings WHERE id = {rated}"))
            assert Decimal(stored).scaleb(-2 if url.startswith("sqlite") else 0) == offering.average_rating
            live = await uow.offerings.get(made.live_offerings[0])
            assert live is not None and live.status == OfferingStatus.ACTIVE
            mentor = made.mentor_ids[0]
            assert (await uow.availability.get(mentor)) is not None
            listed = await uow.bookings.list_for_mentor(mentor, list(BookingStatus), limit=500)
            assert listed and all(b.mentor_id == mentor and b.scheduled_at.tzinfo is not None for b in listed)
            for mentor in made.mentor_ids:  # a request for a session that has started would have expired
                pending = await uow.bookings.list_for_mentor(mentor, [BookingStatus.PENDING], limit=500)
                assert all(b.scheduled_at > made.now for b in pending)
            newcomer = await uow.users.add(User(FREE_IDS_FROM, "Newcomer", is_mentor=True, timezone="UTC"))
            added = await uow.offerings.add(Offering(newcomer.id, "After the seed", Decimal(0), 30))
            assert added.id is not None and added.id > max(made.live_offerings)
            await uow.commit()
    finally:
        await engine.dispose()


async def test_the_same_seed_gives_the_same_rows(tmp_path: Path) -> None:
    urls = [f"sqlite+aiosqlite:///{tmp_path / name}" for name in ("a.sqlite3", "b.sqlite3", "c.sqlite3")]
    for url, number in zip(urls, (7, 7, 8), strict=True):
        await seed(url, seed=number, now=NOW, **SIZE)
    query = "SELECT id, mentor_id, mentee_id, scheduled_at, status, mentee_rating FROM bookings ORDER BY id"
    first, again, other = [await _rows(url, query) for url in urls]
    assert first == again
    assert first != other
