"""``domain.ids`` bounds each kind of id by what its database column holds: the two agree, the highest id is looked
up and not found on both databases, and one beyond it is exactly what PostgreSQL refuses."""

from __future__ import annotations

import pytest
from sqlalchemy import BigInteger, Integer
from sqlalchemy.exc import DBAPIError

from domain.ids import (
    BOOKING_IDS,
    CALENDAR_IDS,
    INT32_MAX,
    INT64_MAX,
    OFFERING_IDS,
    PAYMENT_IDS,
    USER_IDS,
    NumberRange,
)
from storage.models import Base
from storage.uow import SqlUnitOfWork

RANGES = {
    "offerings": OFFERING_IDS,
    "bookings": BOOKING_IDS,
    "users": USER_IDS,
    "busy_calendars": CALENDAR_IDS,
    "payments": PAYMENT_IDS,
}
HOLDS = {Integer: INT32_MAX, BigInteger: INT64_MAX}


def column_high(column) -> int:
    [high] = [high for kind, high in HOLDS.items() if type(column.type) is kind]
    return high


@pytest.mark.parametrize("table", sorted(RANGES))
def test_each_id_range_is_what_its_column_and_every_reference_to_it_hold(table: str) -> None:
    ids = RANGES[table]
    key = Base.metadata.tables[table].c.id
    assert (ids.low, ids.high) == (1, column_high(key))
    references = [
        column
        for other in Base.metadata.tables.values()
        for column in other.columns
        if any(foreign.column is key for foreign in column.foreign_keys)
    ]
    assert references and all(column_high(column) == ids.high for column in references)


def test_a_number_beyond_the_range_reads_as_an_id_no_record_has() -> None:
    assert OFFERING_IDS.read("2147483647") == INT32_MAX
    assert [OFFERING_IDS.read(text) for text in ("2147483648", "0", "-5", "9" * 5000)] == [0, 0, 0, 0]
    assert USER_IDS.read("9223372036854775807") == INT64_MAX and USER_IDS.read("9223372036854775808") == 0
    assert OFFERING_IDS.read("00042") == 42
    for bad in ("", "-", "1.5", " 1", "1e3", "٣"):
        with pytest.raises(ValueError, match="not a number"):
            OFFERING_IDS.read(bad)
    with pytest.raises(ValueError, match="bad number range"):
        NumberRange(0, 10, outside=5)  # an "unknown" value that is a real one


async def test_the_highest_ids_are_not_found_and_one_beyond_is_refused_by_postgres(
    uow: SqlUnitOfWork, db_kind: str
) -> None:
    async with uow:
        assert await uow.offerings.get(OFFERING_IDS.high) is None
        assert await uow.bookings.get(BOOKING_IDS.high) is None
        assert await uow.users.get(USER_IDS.high) is None
        assert await uow.offerings.get(OFFERING_IDS.outside) is None
        assert await uow.users.get(USER_IDS.outside) is None
    if db_kind == "postgres":  # the bound is tight: one more is what the database cannot hold
        with pytest.raises(DBAPIError, match="out of int32 range"):
            async with uow:
                await uow.offerings.get(OFFERING_IDS.high + 1)
