"""Query plans and timings of the hot queries on a seeded database (``benchmarks.seed``).

Run with ``.venv/bin/python -m benchmarks.explain_hot --url URL`` (a seeded database; nothing is changed: every
call runs in a unit of work that is rolled back). Each repository call the booking flow, the inboxes, Discover
and the dispatcher make is run for the busiest mentor, the busiest mentee and a median mentor, and every SQL
statement it sends is captured (SQLAlchemy's ``before_cursor_execute``) and explained with its real parameters:
``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL (inside the rolled-back
transaction). A plan line that reads a whole table (SQLite ``SCAN <table>`` without an index, PostgreSQL
``Seq Scan``) is flagged with ``!!``. ``--brief`` prints only the flagged statements and the timings.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, text

from benchmarks.seed import seeded_info
from domain.clock import FixedClock
from domain.discovery import Filters, SortOrder
from domain.inbox import InboxTab, week_bounds
from domain.mentee import MyTab
from domain.usecases.discovery import discover
from storage.db import AnyRow, listen_to_selects
from storage.engine import create_engine
from storage.uow import SqlUnitOfWork

Call = Callable[[SqlUnitOfWork], Awaitable[Any]]


def _mentee_tab(mentee: int, tab: MyTab, now: datetime) -> Call:
    return lambda u: u.bookings.list_mentee_tab(mentee, tab, now, 5)


def _inbox_tab(mentor: int, tab: InboxTab, now: datetime) -> Call:
    return lambda u: u.bookings.list_inbox_tab(mentor, tab, now, 5)


_BUSIEST_MENTORS = "SELECT mentor_id, count(*) FROM bookings GROUP BY mentor_id ORDER BY 2 DESC, 1"
_BUSIEST_MENTEE = "SELECT mentee_id FROM bookings GROUP BY mentee_id ORDER BY count(*) DESC, 1 LIMIT 1"
_LIVE_OFFERING = "SELECT min(id) FROM offerings WHERE mentor_id = :m AND status = 'active'"
_LAST_BOOKING = "SELECT max(id) FROM bookings WHERE mentor_id = :m"


async def _pick(url: str) -> dict[str, int]:
    """The busiest mentor and mentee, a median mentor, a live offering and a booking of the busiest mentor."""
    engine = create_engine(url)
    try:
        async with engine.connect() as c:
            mentors = (await c.execute(text(_BUSIEST_MENTORS))).all()
            busy, median = int(mentors[0][0]), int(mentors[len(mentors) // 2][0])
            return {
                "mentor": busy,
                "median_mentor": median,
                "mentee": int((await c.execute(text(_BUSIEST_MENTEE))).scalar_one()),
                "offering": int((await c.execute(text(_LIVE_OFFERING), {"m": busy})).scalar_one()),
                "booking": int((await c.execute(text(_LAST_BOOKING), {"m": busy})).scalar_one()),
                "mentor_bookings": int(mentors[0][1]),
            }
    finally:
        await engine.dispose()


def calls(ids: dict[str, int], now: datetime) -> list[tuple[str, Call]]:
    """(label, call) for every hot repository call and two Discover use cases."""
    mentor, mentee, offering = ids["mentor"], ids["mentee"], ids["offering"]
    window = (now - timedelta(days=2), now + timedelta(days=32))
    slot = (now + timedelta(days=3), now + timedelta(days=3, hours=1))
    week = week_bounds(now, "Asia/Kolkata")
    clock = FixedClock(now)
    found: list[tuple[str, Call]] = [
        ("offerings.get", lambda u: u.offerings.get(offering)),
        ("availability.get", lambda u: u.availability.get(mentor)),
        ("bookings.active_for_mentor (busiest mentor)", lambda u: u.bookings.active_for_mentor(mentor, *window)),
        (
            "bookings.active_for_mentor (median mentor)",
            lambda u: u.bookings.active_for_mentor(ids["median_mentor"], *window),
        ),
        ("bookings.active_for_mentee (book_slot overlap)", lambda u: u.bookings.active_for_mentee(mentee, *slot)),
        (
            "bookings.count_open_with_mentor (book_slot limit)",
            lambda u: u.bookings.count_open_with_mentor(mentee, mentor, now),
        ),
        ("lock_users (book_slot)", lambda u: u.lock_users(mentor, mentee)),
        ("bookings.count_mentee_tabs (busiest mentee)", lambda u: u.bookings.count_mentee_tabs(mentee, now)),
    ]
    for my_tab in MyTab:
        found.append((f"bookings.list_mentee_tab {my_tab.name}", _mentee_tab(mentee, my_tab, now)))
    counts: Call = lambda u: u.bookings.count_inbox_tabs(mentor, now)  # noqa: E731 - a name for the line below
    found.append(("bookings.count_inbox_tabs (busiest mentor)", counts))
    for tab in InboxTab:
        found.append((f"bookings.list_inbox_tab {tab.name}", _inbox_tab(mentor, tab, now)))
    found += [
        (
            "bookings.list_inbox_tab PAST, page 100",
            lambda u: u.bookings.list_inbox_tab(mentor, InboxTab.PAST, now, 5, 500),
        ),
        ("bookings.mentor_stats (busiest mentor)", lambda u: u.bookings.mentor_stats(mentor, *week)),
        ("bookings.get", lambda u: u.bookings.get(ids["booking"])),
        ("discovery.search (first page)", lambda u: u.discovery.search(Filters(), 5, 0)),
        ("discovery.count", lambda u: u.discovery.count(Filters())),
        ("discovery.category_counts", lambda u: u.discovery.category_counts(Filters())),
        ("discovery.search 'python'", lambda u: u.discovery.search(Filters(text="python"), 5, 0)),
        ("discovery.latest_reviews (busiest mentor)", lambda u: u.discovery.latest_reviews(mentor, 3)),
        ("outbox.claim", lambda u: u.outbox.claim(now, 50, timedelta(minutes=2))),
        ("outbox.next_due", lambda u: u.outbox.next_due()),
        ("outbox.replace_timed", lambda u: u.outbox.replace_timed(ids["booking"], [])),
        ("use case discover (first page, best rated)", lambda u: discover(u, clock, Filters())),
        (
            "use case discover (soonest first: 100 candidates)",
            lambda u: discover(u, clock, Filters(sort=SortOrder.SOONEST)),
        ),
        ("dialogs.get", lambda u: u.dialogs.get(mentee)),
        ("users.get", lambda u: u.users.get(mentee)),
    ]
    return found


def _flagged(plan: list[str]) -> list[str]:
    """Plan lines that read a whole table."""
    return [
        line.strip()
        for line in plan
        if re.search(r"\bSCAN \w+(?! USING (COVERING )?INDEX)\s*$", line) or "Seq Scan on" in line
    ]


async def explain(url: str, brief: bool, repeat: int) -> None:
    info = await seeded_info(url)
    now = datetime.fromisoformat(info["now"]) + timedelta(hours=9) if info else datetime.now().astimezone()
    ids = await _pick(url)
    print(f"now {now.isoformat()}; picks {ids}")
    engine = create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    captured: list[tuple[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if not statement.lstrip().upper().startswith(("EXPLAIN", "BEGIN", "PRAGMA")):
            captured.append((statement, parameters))

    listen_to_selects(engine, lambda statement, parameters: captured.append((statement, parameters)))  # SQLite

    try:
        for name, call in calls(ids, now):
            timings = []
            plans: list[tuple[str, list[str]]] = []
            for n in range(repeat):
                async with SqlUnitOfWork(engine) as uow:
                    captured.clear()
                    began = time.perf_counter()
                    await call(uow)
                    timings.append((time.perf_counter() - began) * 1000)
                    if n == repeat - 1:  # explained in the same (rolled back) transaction
                        plans = [(s, await _plan(uow, sqlite, s, p)) for s, p in list(captured)]
            flagged = [line for _s, plan in plans for line in _flagged(plan)]
            mark = " !!" if flagged else ""
            print(f"\n### {name}: median {statistics.median(timings):.2f} ms over {repeat}{mark}")
            if brief and not flagged:
                continue
            for statement, plan in plans:
                print("    " + " ".join(statement.split())[:400])
                for line in plan:
                    print("      " + line)
    finally:
        await engine.dispose()


async def _plan(uow: SqlUnitOfWork, sqlite: bool, statement: str, parameters: Any) -> list[str]:
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    rows: Sequence[AnyRow] = (await uow.db.exec_driver_sql(prefix + statement, parameters)).all()
    if sqlite:
        return [f"{'  ' * _depth(rows, r)}{r[3]}" for r in rows]
    return [r[0] for r in rows]


def _depth(rows: Sequence[AnyRow], row: AnyRow) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--brief", action="store_true", help="plans of flagged statements only")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(explain(args.url, args.brief, args.repeat))


if __name__ == "__main__":
    main()
