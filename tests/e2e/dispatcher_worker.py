"""Helpers for the dispatcher tests, and a bot process that only sends the outbox.

As a process (crash and two-process tests)::

    python -m tests.e2e.dispatcher_worker --database-url URL --api-url URL --token TOKEN [--lease 2] ...

builds the real application (``bot.app.build_application``: rate limiter, JobQueue, dispatcher) with
``say_key`` as the message renderer, starts it without polling, prints ``ready`` and dispatches until SIGTERM or
SIGINT (printing ``leader`` when it is elected to send, ``bot.leader``); then it stops like ``run_polling`` does
and prints its counters (``sent=... released=...``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.app import build_application
from bot.config import Settings
from chat.outgoing import Outgoing
from domain.model import User
from domain.notifications import Notification, NotificationKind
from domain.ports import UnitOfWork
from storage.engine import create_engine
from storage.outbox import OutboxRecord
from storage.uow import SqlUnitOfWork


async def say_key(uow: UnitOfWork, n: Notification) -> Outgoing | None:
    """The test renderer: the notification's key, so the server side can count each message."""
    return Outgoing(n.recipient_id, f"{n.kind.value}: <b>{n.key}</b>")


def key_of(text: str) -> str:
    """The key in a message ``say_key`` rendered (as the fake server shows it: entities parsed)."""
    return text.split(": ", 1)[1]


def events(recipients: Iterable[int], due: datetime, per_user: int = 1) -> list[Notification]:
    return [
        Notification(NotificationKind.CONFIRMED, user_id, due) for user_id in recipients for _ in range(per_user)
    ]


async def seed_outbox(url: str, user_ids: Sequence[int], notifications: Sequence[Notification]) -> None:
    """Users (for the foreign keys) and outbox rows, committed, on a separate engine."""
    engine = create_engine(url)
    try:
        async with SqlUnitOfWork(engine) as uow:
            existing = {u for u in user_ids if await uow.users.get(u) is not None}
            for user_id in user_ids:
                if user_id not in existing:
                    await uow.users.add(User(user_id, f"User {user_id}"))
            await uow.outbox.add(notifications)
            await uow.commit()
    finally:
        await engine.dispose()


async def outbox_rows(url: str) -> list[OutboxRecord]:
    engine = create_engine(url)
    try:
        async with SqlUnitOfWork(engine) as uow:
            return await uow.outbox.records()
    finally:
        await engine.dispose()


async def _main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=5)
    parser.add_argument("--lease", type=float, default=300.0)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--no-election", action="store_true", help="send even when another process leads")
    args = parser.parse_args(argv)
    settings = Settings(
        bot_token=args.token,
        database_url=args.database_url,
        telegram_api_url=args.api_url,
        dispatch_interval_seconds=args.interval,
        send_rate_per_second=args.rate,
        dispatch_batch=args.batch,
        dispatch_concurrency=args.concurrency,
        dispatch_lease_seconds=args.lease,
    )
    application = build_application(settings, migrate=False, prepare=say_key, elect=not args.no_election)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await application.initialize()
    await application.start()
    assert application.post_init is not None
    await application.post_init(application)  # schedules the dispatcher's wake-ups (migrate=False: no migrations)
    print("ready", flush=True)
    leadership = application.bot_data["leadership"]
    while not stop.is_set():  # tell the test when this process becomes the one that sends
        if leadership.is_leader:
            print("leader", flush=True)
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.05)
    await stop.wait()
    await application.stop()  # the order of run_polling
    assert application.post_stop is not None and application.post_shutdown is not None
    await application.post_stop(application)
    await application.shutdown()
    await application.post_shutdown(application)
    stats = application.bot_data["dispatcher"].stats
    print(f"sent={stats.sent} released={stats.released} lost={stats.lost_claims}", flush=True)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(_main(sys.argv[1:])))
