"""One process of the seat race (``tests.storage.test_seat_race``): books one time for many mentees at once through
the real ``book_slot``, each attempt in its own unit of work on this process's one engine.

It connects, prints ``ready``, waits for ``go`` on standard input (so both processes start together), runs every
attempt at once and prints one JSON line: the ids of the bookings it made, the attempts refused with
``SlotTaken``, and any other failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime, timedelta

from domain.clock import FixedClock
from domain.errors import SlotTaken
from domain.usecases.booking import BookingRequest, book_slot
from storage.engine import create_engine
from storage.uow import SqlUnitOfWork


async def main(url: str, offering_id: int, start: datetime, mentees: list[int]) -> dict[str, object]:
    engine = create_engine(url)
    clock = FixedClock(start - timedelta(days=3))

    async def attempt(mentee_id: int) -> int:
        async with SqlUnitOfWork(engine) as uow:
            view = await book_slot(uow, clock, BookingRequest(offering_id, mentee_id, start))
            await uow.commit()
            assert view.booking.id is not None
            return view.booking.id

    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
        print("ready", flush=True)
        go = await asyncio.to_thread(sys.stdin.readline)
        assert go.strip() == "go", go
        outcomes = await asyncio.gather(*(attempt(m) for m in mentees), return_exceptions=True)
    finally:
        await engine.dispose()
    return {
        "won": [o for o in outcomes if isinstance(o, int)],
        "lost": sum(isinstance(o, SlotTaken) for o in outcomes),
        "failed": [repr(o) for o in outcomes if isinstance(o, BaseException) and not isinstance(o, SlotTaken)],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--offering", type=int, required=True)
    parser.add_argument("--start", required=True)
    parser.add_argument("--mentees", required=True, help="comma-separated user ids")
    args = parser.parse_args()
    mentees = [int(m) for m in args.mentees.split(",")]
    result = asyncio.run(main(args.database_url, args.offering, datetime.fromisoformat(args.start), mentees))
    print(json.dumps(result), flush=True)
