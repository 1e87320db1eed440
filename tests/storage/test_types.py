"""Exactness of money and time through both databases."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import BookingRow, ExactDecimal, UTCDateTime
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, T0, booking, mentor_and_mentee

EDGE_PRICES = [
    "0",
    "0.00",
    "0.01",
    "0.1",
    "0.10",
    "1",
    "9.99",
    "10.05",
    "0.30",
    "1234.56",
    "999999.99",
    "1000000",
    "1000000.00",
    "12345678.91",
    "99999999.99",
]


def random_prices(n: int) -> list[Decimal]:
    rnd = random.Random(20300304)
    return [Decimal(rnd.randrange(0, 10**10)).scaleb(-2) for _ in range(n)]


async def test_decimal_money_round_trips_exactly(uow: SqlUnitOfWork) -> None:
    o = await mentor_and_mentee(uow)
    prices = [Decimal(p) for p in EDGE_PRICES] + random_prices(300)
    async with uow:
        ids = []
        for i, price in enumerate(prices):
            added = await uow.bookings.add(booking(o, start=T0 + timedelta(minutes=i), amount=price))
            ids.append(added.id)
        await uow.commit()
    async with uow:
        rows = await uow.db.rows(select(BookingRow.id, BookingRow.amount).order_by(BookingRow.id))
    got = {row.id: row.amount for row in rows}
    for booking_id, price in zip(ids, prices, strict=True):
        assert isinstance(got[booking_id], Decimal)
        assert got[booking_id] == price
        assert got[booking_id] == price.quantize(Decimal("0.01"))
        assert str(got[booking_id]) == str(price.quantize(Decimal("0.01")))  # always two places, both databases


@pytest.mark.parametrize("bad", ["0.001", "12.345", "-0.005", "100000000.00", "NaN", "Infinity"])
async def test_money_that_does_not_fit_is_refused_not_rounded(uow: SqlUnitOfWork, bad: str) -> None:
    o = await mentor_and_mentee(uow)
    async with uow:
        with pytest.raises(Exception, match=r"decimal places|does not fit|cannot be stored"):
            await uow.bookings.add(booking(o, amount=Decimal(bad)))


async def test_money_ordering_is_numeric(uow: SqlUnitOfWork) -> None:
    """Sorting by a money column must be numeric, not textual ("10.00" < "9.00" as text)."""
    o = await mentor_and_mentee(uow)
    prices = [Decimal(p) for p in ("10.00", "9.00", "100.00", "0.50", "99.99")]
    async with uow:
        for i, price in enumerate(prices):
            await uow.bookings.add(booking(o, start=T0 + timedelta(hours=i), amount=price))
        got = (await uow.db.execute(select(BookingRow.amount).order_by(BookingRow.amount))).scalars().all()
        assert got == sorted(prices)
        over_nine = await uow.db.rows(select(BookingRow.amount).where(BookingRow.amount > Decimal("9.5")))
        over_nine = [amount for (amount,) in over_nine]
        assert sorted(over_nine) == [Decimal("10.00"), Decimal("99.99"), Decimal("100.00")]


INSTANTS = [
    datetime(2030, 3, 4, 10, 0, tzinfo=UTC),
    datetime(2030, 3, 4, 10, 0, 0, 1, tzinfo=UTC),
    datetime(2030, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2030, 3, 31, 2, 30, tzinfo=ZoneInfo("Europe/Berlin")),  # the DST gap day, aware anyway
    datetime(2030, 10, 27, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Berlin")),  # the repeated hour
    datetime(2030, 3, 4, 23, 45, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    datetime(2030, 3, 5, 5, 15, 30, 500000, tzinfo=ZoneInfo("Asia/Kolkata")),
    datetime(1970, 1, 1, tzinfo=UTC),
]


async def test_datetimes_come_back_as_the_same_instant_in_utc(uow: SqlUnitOfWork) -> None:
    o = await mentor_and_mentee(uow)
    async with uow:
        added = [
            await uow.bookings.add(
                booking(
                    o, start=instant, created_at=instant, updated_at=instant.astimezone(UTC) + timedelta(hours=1)
                )
            )
            for instant in INSTANTS
        ]
        await uow.commit()
    async with uow:
        for instant, b in zip(INSTANTS, added, strict=True):
            got = await uow.bookings.get(b.id or 0)
            assert got is not None
            # (Compared in UTC: PEP 495 makes a gap/fold time unequal to every other-zone datetime.)
            expected = instant.astimezone(UTC)
            for value in (got.scheduled_at, got.created_at):
                assert value.tzinfo is UTC
                assert value == expected and value.timestamp() == instant.timestamp()
                assert value.replace(tzinfo=None) == expected.replace(tzinfo=None)  # wall clock too
            assert got.updated_at == expected + timedelta(hours=1)


async def test_time_range_comparisons_work_across_offsets(uow: SqlUnitOfWork) -> None:
    """The same instant written in different zones compares as the same instant in SQL."""
    o = await mentor_and_mentee(uow)
    ist = T0.astimezone(ZoneInfo("Asia/Kolkata"))
    async with uow:
        added = await uow.bookings.add(booking(o, start=ist))
        window = (
            T0.astimezone(ZoneInfo("America/New_York")),
            (T0 + timedelta(minutes=1)).astimezone(ZoneInfo("Asia/Tokyo")),
        )
        assert await uow.bookings.active_for_mentee(MENTEE_ID, *window) == [added]


def test_type_decorators_refuse_bad_input() -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    for dialect in (sqlite.dialect(), postgresql.dialect()):
        with pytest.raises(ValueError, match="naive"):
            UTCDateTime().process_bind_param(datetime(2030, 1, 1), dialect)  # noqa: DTZ001 - refused
        with pytest.raises(TypeError):
            UTCDateTime().process_bind_param("2030-01-01", dialect)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            ExactDecimal(10, 2).process_bind_param(1.5, dialect)  # type: ignore[arg-type]
        assert ExactDecimal(10, 2).process_bind_param(None, dialect) is None
    assert ExactDecimal(10, 2).process_bind_param(Decimal("12.30"), sqlite.dialect()) == 1230
    assert ExactDecimal(10, 2).process_result_value(1230, sqlite.dialect()) == Decimal("12.30")


async def test_sqlite_stores_money_as_integer_hundredths(engine: AsyncEngine, uow: SqlUnitOfWork) -> None:
    o = await mentor_and_mentee(uow)
    async with uow:
        await uow.bookings.add(booking(o, amount=Decimal("1234.56")))
        await uow.commit()
    async with engine.connect() as connection:
        raw = (await connection.exec_driver_sql("SELECT amount FROM bookings")).scalar_one()
    if engine.dialect.name == "sqlite":
        assert raw == 123456 and isinstance(raw, int)
    else:
        assert raw == Decimal("1234.56")
