"""SQLite reads in one call (``storage.db._OneCall``): a ``SELECT`` a unit of work runs again and again comes back
exactly as SQLAlchemy returns it - the same values of the same types under the same names - while it takes one
call to aiosqlite's thread; what the fast way does not cover, and its errors, go through SQLAlchemy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, event, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.busy import BusyCalendar, read_ok
from domain.model import BookingStatus, BusyInterval, DateOverride, TimeRange, WeeklyRule
from storage import calendars, repositories
from storage.db import Db, listen_to_selects, unit_of_work_db
from storage.engine import create_engine, create_read_engine
from storage.migrate import upgrade_to_head
from storage.models import UserRow
from storage.uow import SqlUnitOfWork
from tests.storage.builders import MENTEE_ID, MENTOR_ID, T0, booking, mentor_and_mentee

H = timedelta(hours=1)


@pytest.fixture
async def engines(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await upgrade_to_head(url)
    writer, reader = create_engine(url), create_read_engine(url)
    assert reader is not None
    try:
        yield writer, reader
    finally:
        await writer.dispose()
        await reader.dispose()


async def _seeded(writer: AsyncEngine) -> int:
    """A mentor with hours, a date off, an offering with its own rules, bookings in three statuses, a busy calendar
    read just now, a blocked mentee with a conversation in progress."""
    uow = SqlUnitOfWork(writer)
    own_hours = (WeeklyRule(2, TimeRange(600, 720)),)
    offering = await mentor_and_mentee(uow, price=Decimal("450.50"), weekly_rules=own_hours)
    assert offering.id is not None
    async with uow:
        await uow.availability.replace_weekly(MENTOR_ID, [WeeklyRule(0, TimeRange(540, 720))])
        await uow.availability.set_override(MENTOR_ID, DateOverride(date(2030, 3, 6), ()))
        await uow.availability.set_override(MENTOR_ID, DateOverride(date(2030, 3, 7), (TimeRange(600, 660),)))
        for n, status in enumerate((BookingStatus.CONFIRMED, BookingStatus.PENDING, BookingStatus.CANCELLED)):
            made = booking(offering, start=T0 + n * 2 * H, status=status, meeting_notes=f"n{n} «é»")
            await uow.bookings.add(made)
        calendar = await uow.calendars.add(BusyCalendar(MENTOR_ID, "https://example.com/a.ics", T0))
        calendar = read_ok(calendar, T0, None, None, T0 + 100 * H)
        await uow.calendars.save(calendar)
        await uow.calendars.replace_busy(calendar, [BusyInterval(T0 + H, T0 + 2 * H)])
        await uow.dialogs.set(MENTEE_ID, "booking_notes", {"offering_id": offering.id, "notes": "Zoë <b>"})
        await uow.users.mark_unreachable(MENTEE_ID)
        await uow.commit()
    return offering.id


def _hot(offering_id: int) -> list[tuple[str, Any, dict[str, Any]]]:
    """The reads of every update and of booking, with parameters that find rows."""
    around = repositories._around(MENTOR_ID, T0 - 5 * H, T0 + 50 * H, timedelta(minutes=90), timedelta(hours=5))
    return [
        ("user", repositories._USER_BY_ID, {"id": MENTEE_ID}),
        ("unreachable", repositories._USER_IS_UNREACHABLE, {"id": MENTEE_ID}),
        ("offering, mentor and hours", repositories._OFFERING_WITH_MENTOR_AND_HOURS, {"id": offering_id}),
        ("offering", repositories._OFFERING_WITH_RULES, {"id": offering_id}),
        ("mentor's bookings around", repositories._ACTIVE_FOR_MENTOR, around),
        ("open with the mentor", repositories._OPEN_WITH_MENTOR, {"mentee_id": MENTEE_ID, "mentor_id": MENTOR_ID,
                                                                  "now": T0 - 24 * H}),
        ("conversation", repositories._DIALOG_OF_USER, {"user_id": MENTEE_ID}),
        ("busy", calendars._BUSY_OF_MENTOR, {"mentor_id": MENTOR_ID, "start": T0, "end": T0 + 48 * H,
                                             "fresh": T0 - H}),
    ]  # fmt: skip


def _through_sqlalchemy(engine: AsyncEngine, shown: Callable[[str], list[str]] = lambda sql: [sql]) -> list[str]:
    """What ``engine`` runs through SQLAlchemy's cursor, as ``shown`` (each statement's SQL by default)."""
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.extend(shown(statement))

    return seen


def _in_one_call(engine: AsyncEngine, shown: Callable[[str], list[str]] = lambda sql: [sql]) -> list[str]:
    """What units of work on ``engine`` run in one call, as ``shown``."""
    seen: list[str] = []
    listen_to_selects(engine, lambda statement, arguments: seen.extend(shown(statement)))
    return seen


def _typed(rows: Any) -> list[list[tuple[str, Any, type]]]:
    return [[(name, value, type(value)) for name, value in zip(row._fields, row, strict=True)] for row in rows]


@pytest.mark.parametrize("read_only", [True, False], ids=["reader", "in a write transaction"])
async def test_hot_reads_come_back_as_sqlalchemy_returns_them(
    engines: tuple[AsyncEngine, AsyncEngine], read_only: bool
) -> None:
    writer, reader = engines
    await hot_reads_match_sqlalchemys(writer, reader if read_only else writer, read_only=read_only)


async def hot_reads_match_sqlalchemys(writer: AsyncEngine, engine: AsyncEngine, *, read_only: bool) -> list[Db]:
    """Seed through ``writer``, then run every hot read five times on ``engine`` in a unit of work of its own:
    seen, then prepared and named by SQLAlchemy's result, then in one call (``rows``, ``first``, ``scalar``), with
    the same rows, values and types. The units of work's ``Db``s, for the caller's look."""
    offering_id = await _seeded(writer)
    slow, fast = _through_sqlalchemy(engine), _in_one_call(engine)
    dbs: list[Db] = []
    for name, statement, parameters in _hot(offering_id):
        db = unit_of_work_db(engine, read_only=read_only)
        dbs.append(db)
        try:
            # seen, then prepared and named by SQLAlchemy's result, then in one call
            rows, _again, fast_rows = [await db.rows(statement, parameters) for _ in range(3)]
            fast_first, fast_scalar = await db.first(statement, parameters), await db.scalar(statement, parameters)
        finally:
            await db.close()
        assert rows, name  # the data finds something for every statement
        assert _typed(fast_rows) == _typed(rows), name
        assert fast_first is not None and _typed([fast_first]) == _typed(rows[:1]), name
        assert (fast_scalar, type(fast_scalar)) == (rows[0][0], type(rows[0][0])), name
        assert getattr(fast_first, rows[0]._fields[-1]) == rows[0][-1], name
    statements = len(_hot(offering_id))
    assert len(slow) == 2 * statements
    assert len(fast) == 3 * statements
    return dbs


async def test_the_same_results_in_the_unit_of_works_transaction(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    """A read in one call runs on the unit of work's own connection: it sees the transaction's own writes."""
    writer, _reader = engines
    await _seeded(writer)
    for _ in range(3):
        async with SqlUnitOfWork(writer) as uow:
            await uow.dialogs.set(MENTEE_ID, "other", {"n": 1})
            assert await uow.dialogs.get(MENTEE_ID) == ("other", {"n": 1})
    async with SqlUnitOfWork(writer) as uow:  # rolled back every time
        assert (await uow.dialogs.get(MENTEE_ID) or ("",))[0] == "booking_notes"


async def test_a_statement_built_for_each_call_goes_through_sqlalchemy(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    writer, reader = engines
    await _seeded(writer)
    slow, fast = _through_sqlalchemy(reader), _in_one_call(reader)
    users = UserRow.__table__
    for _ in range(3):
        db = unit_of_work_db(reader, read_only=True)
        try:
            built = select(users.c.id).where(users.c.id == bindparam("id"))
            assert await db.scalar(built, {"id": MENTOR_ID}) == MENTOR_ID
        finally:
            await db.close()
    assert fast == [] and len(slow) == 3


async def test_a_list_parameter_is_expanded_for_each_run(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    """A statement with a list given at each run (``IN :ids``, ``NOT IN :keys``): SQLAlchemy's expansion of it
    for that run - any length, empty too - and the same rows as SQLAlchemy's, in one call from its third run."""
    writer, reader = engines
    offering_id = await _seeded(writer)
    slow, fast = _through_sqlalchemy(reader), _in_one_call(reader)
    statement = repositories._RULES_OF_OFFERINGS
    got = []
    one = offering_id
    for ids in ([one], [one, one + 1, one + 2], [], [one + 5], [one]):
        db = unit_of_work_db(reader, read_only=True)
        try:
            got.append(_typed(await db.rows(statement, {"offering_ids": ids})))
        finally:
            await db.close()
    assert len(slow) == 2 and len(fast) == 3
    assert got[0] == got[1] == got[4] and got[0] and got[2] == got[3] == []


async def test_errors_are_raised_as_sqlalchemy_raises_them(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    writer, reader = engines
    await _seeded(writer)
    naive = {"mentor_id": MENTOR_ID, "start": datetime(2030, 3, 4), "end": T0, "fresh": T0}  # noqa: DTZ001
    for _ in range(3):
        db: Db = unit_of_work_db(reader, read_only=True)
        try:
            assert await db.first(repositories._USER_BY_ID, {"id": MENTOR_ID}) is not None
            with pytest.raises(StatementError, match="naive datetime"):
                await db.rows(calendars._BUSY_OF_MENTOR, naive)
            with pytest.raises(StatementError, match="A value is required for bind parameter 'id'"):
                await db.first(repositories._USER_BY_ID, {})
        finally:
            await db.close()


async def test_writes_in_one_call_belong_to_the_unit_of_works_transaction(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """``SqliteDb.write``: from a statement's second time on, one call to aiosqlite's thread on the unit of work's
    connection - inside its transaction (undone without a commit, kept with one), its parameters converted by
    their types (the dialog's JSON) - and seen by the statement listeners instead of SQLAlchemy's cursor events;
    its errors are SQLAlchemy's, and the transaction goes on after one."""
    writer, reader = engines
    await _seeded(writer)
    one_call: list[str] = []
    listen_to_selects(writer, lambda sql, arguments: one_call.append(sql.split()[0]))
    through_sqlalchemy: list[str] = []
    event.listen(
        writer.sync_engine, "before_cursor_execute", lambda *a: through_sqlalchemy.append(a[2].split()[0])
    )
    for step in range(3):
        async with SqlUnitOfWork(writer) as uow:
            await uow.dialogs.set(MENTEE_ID, "notes", {"step": step, "name": "Zoë <b>"})
            await uow.commit()
    async with SqlUnitOfWork(writer) as uow:
        await uow.dialogs.set(MENTEE_ID, "notes", {"step": 9})  # not committed: undone
    assert one_call.count("INSERT") == 4 and "INSERT" not in through_sqlalchemy  # seen while seeding
    async with SqlUnitOfWork(reader, read_only=True) as view:
        assert await view.dialogs.get(MENTEE_ID) == ("notes", {"step": 2, "name": "Zoë <b>"})

    async with SqlUnitOfWork(writer) as uow:
        await uow.users.mark_unreachable(MENTEE_ID)
        await uow.users.mark_unreachable(MENTEE_ID)  # the second time in one call
        await uow.commit()
    async with SqlUnitOfWork(reader, read_only=True) as view:
        assert await view.users.is_unreachable(MENTEE_ID)

    from sqlalchemy.exc import IntegrityError

    mentee = await _user(reader, MENTEE_ID)
    for _ in range(2):  # the second time the insert runs in one call, and fails there first
        async with SqlUnitOfWork(writer) as uow:
            with pytest.raises(IntegrityError):
                await uow.users.add(mentee)  # the same id again
            await uow.dialogs.clear(MENTEE_ID)  # the transaction goes on
            await uow.commit()
    async with SqlUnitOfWork(reader, read_only=True) as view:
        assert await view.dialogs.get(MENTEE_ID) is None


async def _user(engine: AsyncEngine, user_id: int) -> Any:
    async with SqlUnitOfWork(engine, read_only=True) as view:
        found = await view.users.get(user_id)
    assert found is not None
    return found


async def test_a_write_with_parameters_it_does_not_name_goes_through_sqlalchemy(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """SQLAlchemy adds an ``INSERT``'s other columns given as parameters to its values; one call would leave them
    out, so such a write is SQLAlchemy's."""
    writer, _reader = engines
    await _seeded(writer)
    statement = repositories._DIALOG_DELETE
    through_sqlalchemy: list[str] = []
    event.listen(writer.sync_engine, "before_cursor_execute", lambda *a: through_sqlalchemy.append(a[2]))
    for _ in range(3):
        async with SqlUnitOfWork(writer) as uow:
            await uow.db.write(statement, {"user_id": MENTEE_ID, "not_a_parameter": 1})
            await uow.commit()
    assert len(through_sqlalchemy) == 3


async def test_writes_returning_rows_run_in_one_call_and_never_twice(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """A write read through its ``RETURNING`` (a booking's new id, its new sequence): from its third time on (the
    seeding added three bookings), one call - named by its run through SQLAlchemy the time before - whose rows
    come back as SQLAlchemy's would; a failure in one call raises SQLAlchemy's error, from its run through
    SQLAlchemy, and adds nothing."""
    writer, reader = engines
    offering_id = await _seeded(writer)
    async with SqlUnitOfWork(reader, read_only=True) as view:
        offering = await view.offerings.get(offering_id)
    assert offering is not None
    one_call, through_sqlalchemy = _in_one_call(writer, _start), _through_sqlalchemy(writer, _start)
    ids, sequences = [], []
    for n in range(4):
        async with SqlUnitOfWork(writer) as uow:
            added = await uow.bookings.add(booking(offering, start=T0 + (20 + n) * H))
            assert added.id is not None
            moved = await uow.bookings.update(added.with_changes(meeting_notes=f"moved {n}"))
            await uow.commit()
        ids.append(added.id)
        sequences.append(moved.sequence - added.sequence)
    assert ids == sorted(set(ids)) and sequences == [1, 1, 1, 1]
    assert one_call.count("INSERT INTO bookings") == 4 and "INSERT INTO bookings" not in through_sqlalchemy
    assert one_call.count("UPDATE bookings SET") == 2 and through_sqlalchemy.count("UPDATE bookings SET") == 2
    async with SqlUnitOfWork(reader, read_only=True) as view:
        for n, booking_id in enumerate(ids):
            found = await view.bookings.get(booking_id)
            assert found is not None and found.meeting_notes == f"moved {n}" and found.sequence == moved.sequence

    from sqlalchemy.exc import IntegrityError

    async with SqlUnitOfWork(writer) as uow:
        stray = booking(offering, start=T0 + 40 * H).with_changes(offering_id=offering_id + 1000)  # no such one
        with pytest.raises(IntegrityError):
            await uow.bookings.add(stray)
        await uow.commit()
    assert one_call.count("INSERT INTO bookings") == 5 and through_sqlalchemy.count("INSERT INTO bookings") == 1
    newest = select(repositories._BOOKINGS.c.id).order_by(repositories._BOOKINGS.c.id.desc()).limit(1)
    async with SqlUnitOfWork(reader, read_only=True) as view:
        assert await view.db.scalar(newest) == ids[-1]


def _start(sql: str) -> list[str]:
    """A statement's first three words (``INSERT INTO bookings``)."""
    return [" ".join(sql.split()[:3])]


async def test_a_statement_the_fast_way_does_not_cover_is_prepared_once(
    engines: tuple[AsyncEngine, AsyncEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement the fast way does not cover (here: one with execution options) is tried once, not compiled
    again at every sighting."""
    from storage.db import _OneCall

    writer, reader = engines
    await _seeded(writer)
    tried: list[object] = []
    prepare = _OneCall.prepare

    def counted(statement: Any, dialect: Any) -> Any:
        tried.append(statement)
        return prepare(statement, dialect)

    monkeypatch.setattr(_OneCall, "prepare", counted)
    statement = repositories._USER_BY_ID.execution_options(yield_per=None)
    slow = _through_sqlalchemy(reader)
    for _ in range(5):
        db = unit_of_work_db(reader, read_only=True)
        try:
            assert await db.first(statement, {"id": MENTOR_ID}) is not None
        finally:
            await db.close()
    assert tried == [statement] and len(slow) == 5


async def test_a_write_of_many_sets_runs_each_in_one_call_until_one_fails(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """``write(statement, [sets])``: each set in one call, all in one trip; the set that fails and those after it
    run through SQLAlchemy (one ``executemany``), which raises its error; the sets before it stay done."""
    from sqlalchemy.exc import IntegrityError

    writer, _reader = engines
    await _seeded(writer)  # the mentee has a conversation stored already
    statement = repositories._insert_values(repositories._DIALOGS, ("user_id", "state", "data"))
    one_call, through_sqlalchemy = _in_one_call(writer, _inserts), _through_sqlalchemy(writer, _inserts)
    mentor = {"user_id": MENTOR_ID, "state": "a", "data": {"n": 1}}
    async with SqlUnitOfWork(writer) as uow:
        await uow.db.write(statement, [mentor])  # first seen: SQLAlchemy's
    async with SqlUnitOfWork(writer) as uow:
        with pytest.raises(IntegrityError):  # the mentee's conversation is there: the second set fails
            await uow.db.write(statement, [mentor, {**mentor, "user_id": MENTEE_ID}, mentor])
        assert await uow.dialogs.get(MENTOR_ID) == ("a", {"n": 1})  # the first set is done
    assert one_call == ["INSERT INTO dialogs"] * 2 and through_sqlalchemy == ["INSERT INTO dialogs"] * 2
    async with SqlUnitOfWork(writer) as uow:
        await uow.db.write(statement, [{**mentor, "data": {"n": 2}}])
        await uow.commit()
    assert one_call == ["INSERT INTO dialogs"] * 3 and len(through_sqlalchemy) == 2
    async with SqlUnitOfWork(writer, read_only=True) as view:
        assert await view.dialogs.get(MENTOR_ID) == ("a", {"n": 2})


def _inserts(sql: str) -> list[str]:
    return _start(sql) if sql.startswith("INSERT") else []


async def test_rowcount_in_one_call_counts_as_sqlalchemy_does(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    writer, _reader = engines
    await _seeded(writer)
    one_call = _in_one_call(writer)
    counts = []
    for user_id in (MENTEE_ID, MENTOR_ID, MENTEE_ID, MENTOR_ID):
        async with SqlUnitOfWork(writer) as uow:  # never committed: the mentee's conversation stays
            counts.append(await uow.db.rowcount(repositories._DIALOG_DELETE, {"user_id": user_id}))
    assert counts == [1, 0, 1, 0] and len(one_call) == 3
