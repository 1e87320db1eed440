"""Benchmark the scheduler: 10,000 reminders due at once, sent through the real bot to the fake Bot API server.

Run with ``python -m benchmarks.bench_outbox`` (about six minutes at the default 30 messages/s); options:
``--count 2000`` (reminders), ``--rate 30`` (the configured cap, ``SEND_RATE_PER_SECOND``), ``--db postgres``
(a throw-away database on ``TEST_POSTGRES_URL`` instead of a temporary SQLite file), ``--latency 0.05`` (seconds
the server takes per request, like a network round trip).

Everything is real except Telegram: the application from ``bot.app.build_application`` (AIORateLimiter at the cap,
JobQueue, dispatcher with its default batch, concurrency and lease), HTTP to the server from
``sandbox.botapi`` on loopback, and the outbox in the database. Each reminder goes to its own chat
and carries its key, so the server side can count: it reports the time to deliver all, the achieved rate against
the cap (target: at least 90 %), lost messages and duplicates (both must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

from bot.app import build_application
from bot.config import Settings
from bot.dispatcher import Dispatcher
from chat.outgoing import Outgoing
from domain.model import User
from domain.notifications import Notification, NotificationKind
from domain.ports import UnitOfWork
from sandbox.botapi import FakeBotApi
from storage.engine import create_engine
from storage.uow import SqlUnitOfWork
from tests.dbutil import drop_database, fresh_database

FIRST_CHAT = 100_000


async def render(uow: UnitOfWork, n: Notification) -> Outgoing:
    return Outgoing(n.recipient_id, f"⏰ Your session starts in <b>1 hour</b>. [{n.key}]")


def _key(text: str) -> str:
    return text.rsplit("[", 1)[1].rstrip("]")


async def _seed(url: str, count: int, due: datetime) -> None:
    engine = create_engine(url)
    try:
        async with SqlUnitOfWork(engine) as uow:
            chats = range(FIRST_CHAT, FIRST_CHAT + count)
            for chat in chats:
                await uow.users.add(User(chat, f"Mentee {chat}"))
            await uow.outbox.add([Notification(NotificationKind.REMINDER, chat, due, None, 60) for chat in chats])
            await uow.commit()
    finally:
        await engine.dispose()


async def _statuses(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with SqlUnitOfWork(engine) as uow:
            return await uow.outbox.counts()
    finally:
        await engine.dispose()


async def run(count: int, rate: float, db: str, latency: float) -> bool:
    with TemporaryDirectory(prefix="bench-outbox-") as tmp:
        url = await fresh_database(db, Path(tmp))
        try:
            return await _run(url, count, rate, latency)
        finally:
            await drop_database(url)


async def _run(url: str, count: int, rate: float, latency: float) -> bool:
    async with FakeBotApi() as api:
        api.latency = lambda method: latency if method == "sendMessage" else 0.0
        for chat in range(FIRST_CHAT, FIRST_CHAT + count):
            api.user(chat, started=True)
        await _seed(url, count, datetime.now(UTC) - timedelta(seconds=1))
        settings = Settings(
            bot_token=api.token, database_url=url, telegram_api_url=api.url, send_rate_per_second=rate
        )
        application = build_application(settings, migrate=False, prepare=render)
        dispatcher: Dispatcher = application.bot_data["dispatcher"]
        print(
            f"{count} reminders due at once; cap {rate:g} msg/s; {url.split(':', 1)[0]}; server latency "
            f"{latency * 1000:.0f} ms; dispatcher batch {dispatcher.batch}, concurrency {dispatcher.concurrency}"
        )
        await application.initialize()
        began = time.monotonic()
        await application.start()
        assert application.post_init is not None
        await application.post_init(application)  # the JobQueue wakes the dispatcher at once
        deadline = began + count / rate * 2 + 60
        last_report = began
        while len(api.calls_to("sendMessage")) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            if time.monotonic() - last_report >= 30:
                last_report = time.monotonic()
                done = len(api.sent_messages())
                print(f"  {last_report - began:6.0f} s: {done} delivered ({done / (last_report - began):.1f}/s)")
        elapsed = time.monotonic() - began
        await asyncio.sleep(1)  # anything extra (a duplicate) would show up now
        await application.stop()
        assert application.post_stop is not None and application.post_shutdown is not None
        await application.post_stop(application)
        await application.shutdown()
        await application.post_shutdown(application)

        messages = api.sent_messages()
        per_key = Counter(_key(m.text or "") for m in messages)
        sends = sorted(c.time for c in api.calls_to("sendMessage") if c.ok)
        lost = count - len(per_key)
        duplicates = len(messages) - len(per_key)
        achieved = count / elapsed
        steady = (len(sends) - 1) / (sends[-1] - sends[0]) if len(sends) > 1 else 0.0
        statuses = await _statuses(url)
        print(f"delivered {len(per_key)} of {count} in {elapsed:.1f} s (ideal at the cap: {count / rate:.1f} s)")
        print(
            f"achieved {achieved:.2f} msg/s = {achieved / rate:.1%} of the cap "
            f"(first to last send: {steady:.2f}/s)"
        )
        print(f"lost {lost}, duplicates {duplicates}, errors from the server {len(api.errors_returned)}")
        print(f"outbox: {dict(sorted(statuses.items()))}; dispatcher: {dispatcher.stats}")
        ok = lost == 0 and duplicates == 0 and achieved >= 0.9 * rate and statuses == {"sent": count}
        print("OK" if ok else "FAILED")
        return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=30.0, help="SEND_RATE_PER_SECOND (default 30)")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    ok = asyncio.run(run(args.count, args.rate, args.db, args.latency))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
