"""Benchmark the bot's resident memory with 100,000 users in the database, as more and more of them write to it.

Run with ``.venv/bin/python -m benchmarks.bench_memory`` (about three minutes); options: ``--database URL``
(default: a copy of ``data/bench/seed_1m.sqlite3`` made by ``benchmarks.seed``: 100,000 users, 1,000,000 bookings),
``--users 6000`` (distinct users who write), ``--concurrency 200``.

The bot runs as deployed (``python -m bot``, long polling) against the fake Bot API in this process. Distinct
seeded users each send ``/start`` once and wait for the answer; the bot's resident set size (``VmRSS``) is read at
start-up and after every 1,000 users. What the process keeps per user is what would grow: conversation state, the
outbox and bookings are in the database, and the per-user turn of ``bot.updates`` is dropped when the user is idle,
so the line should be flat after warm-up. The scheduler runs as usual meanwhile (the seeded outbox has due rows).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from benchmarks.bench_flow import Replies, bot_process
from benchmarks.seed import USER_ID_BASE
from sandbox.botapi import ChatMessage, FakeBotApi

SEEDED = Path("data/bench/seed_1m.sqlite3")
TARGET_MB = 150


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def run(database_url: str, users: int, concurrency: int) -> bool:
    async with FakeBotApi() as api:
        replies = Replies(api)
        env = {"BOT_TOKEN": api.token, "DATABASE_URL": database_url, "TELEGRAM_API_URL": api.url}
        async with bot_process(api, [sys.executable, "-m", "bot"], env) as process:
            start = rss_mb(process.pid)
            print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; bot RSS after start-up: {start:.1f} MB")
            readings = [(0, start)]
            queue: asyncio.Queue[int] = asyncio.Queue()
            for n in range(users):
                queue.put_nowait(USER_ID_BASE + 1 + (n * 7919) % 99_000)  # distinct, spread over the seeded users
            done = 0
            began = time.perf_counter()

            async def worker() -> None:
                nonlocal done
                while not queue.empty():
                    user = api.user(queue.get_nowait(), started=True)
                    try:
                        await replies.act(user, functools.partial(user.send, "/start"), _any_answer)
                    except TimeoutError:
                        print(f"  ! no answer for {user.id}")
                    done += 1
                    if done % 1000 == 0:
                        readings.append((done, rss_mb(process.pid)))
                        rate = done / (time.perf_counter() - began)
                        print(f"  {done:6d} users: RSS {readings[-1][1]:.1f} MB ({rate:.0f} users/s)", flush=True)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            peak = max(mb for _n, mb in readings)
    print()
    print("| users who wrote | bot RSS MB |")
    print("|---|---|")
    for n, mb in readings:
        print(f"| {n} | {mb:.1f} |")
    first, last = readings[1] if len(readings) > 1 else readings[0], readings[-1]
    slope = (last[1] - first[1]) / max(last[0] - first[0], 1) * 1000
    print(
        f"peak {peak:.1f} MB (target <= {TARGET_MB} MB); growth after the first 1,000 users: {slope:.2f} MB per "
        f"1,000 users"
    )
    return peak <= TARGET_MB


def _any_answer(kind: str, message: ChatMessage) -> bool:
    return kind == "sent"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", help="a migrated database URL (default: a copy of the seeded SQLite file)")
    parser.add_argument("--users", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=200)
    args = parser.parse_args()
    if args.database:
        ok = asyncio.run(run(args.database, args.users, args.concurrency))
    else:
        if not SEEDED.is_file():
            raise SystemExit(
                f"{SEEDED} is missing: run .venv/bin/python -m benchmarks.seed --url "
                f"sqlite+aiosqlite:///{SEEDED} first (about two minutes)"
            )
        with TemporaryDirectory(prefix="bench-memory-") as tmp:
            copy = Path(tmp) / "db.sqlite3"
            shutil.copyfile(SEEDED, copy)
            ok = asyncio.run(run(f"sqlite+aiosqlite:///{copy}", args.users, args.concurrency))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
