"""The dispatcher in the real application (``bot.app``: JobQueue, rate limiter, PTB ``Bot`` over HTTP) against the
fake Bot API server: delivered once each, Telegram's errors handled, a stop mid-burst loses and repeats nothing.

Messages are rendered by ``tests.e2e.dispatcher_worker.say_key`` (the notification's key), so the server side can
count every message per chat. The clock is the real one: retries are due after real seconds.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.warnings import PTBDeprecationWarning

from bot.app import build_application
from bot.clock import SystemClock
from bot.config import Settings
from bot.dispatcher import Backoff, Dispatcher
from sandbox.botapi import FakeBotApi, FakeUser
from tests.dbutil import drop_database, fresh_database
from tests.e2e.dispatcher_worker import events, key_of, outbox_rows, say_key, seed_outbox


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    database = await fresh_database("sqlite", tmp_path)
    try:
        yield database
    finally:
        await drop_database(database)


def now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def dispatching(
    api: FakeBotApi, url: str, *, rate_limit: bool = False, backoff: Backoff | None = None, **settings: Any
) -> AsyncIterator[Dispatcher]:
    """The real bot (polling, JobQueue waking the dispatcher every second) until the block ends; then it stops the
    way ``run_polling`` stops it."""
    settings.setdefault("dispatch_interval_seconds", 1.0)
    application = build_application(
        Settings(bot_token=api.token, database_url=url, telegram_api_url=api.url, **settings),
        clock=SystemClock(),
        migrate=False,
        rate_limit=rate_limit,
        prepare=say_key,
    )
    dispatcher: Dispatcher = application.bot_data["dispatcher"]
    assert application.bot_data["services"].dispatcher is dispatcher
    if backoff is not None:
        dispatcher.backoff = backoff
    async with api.running(application):
        assert application.post_init is not None
        await application.post_init(application)  # as BotRunner does: from here on the JobQueue wakes it
        try:
            yield dispatcher
        finally:
            assert application.post_stop is not None
            await application.post_stop(application)
    assert application.post_shutdown is not None
    await application.post_shutdown(application)


async def until(condition: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


def users(api: FakeBotApi, ids: range | list[int]) -> list[FakeUser]:
    return [api.user(i, started=True) for i in ids]


def delivered(api: FakeBotApi) -> Counter[str]:
    """How many times each notification key reached a chat."""
    return Counter(key_of(m.text or "") for m in api.sent_messages())


def calls_for(api: FakeBotApi, chat_id: int) -> int:
    return sum(1 for c in api.calls_to("sendMessage") if c.chat_id == chat_id)


Statuses = dict[int, list[tuple[str, int]]]


async def statuses(url: str) -> Statuses:
    """Per recipient: (status, attempts) of each row."""
    found: Statuses = {}
    for r in await outbox_rows(url):
        found.setdefault(r.recipient_id, []).append((r.status, r.attempts))
    return found


async def until_outbox(url: str, condition: Callable[[Statuses], bool], what: str, timeout: float = 15.0) -> None:
    """Wait until the outbox's rows (``statuses``) satisfy ``condition``: the dispatcher recorded an outcome."""
    deadline = time.monotonic() + timeout
    while not condition(rows := await statuses(url)):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; the outbox: {rows}")
        await asyncio.sleep(0.05)


def all_in(status: str, recipient: int | None = None) -> Callable[[Statuses], bool]:
    """``until_outbox`` condition: every row (of ``recipient``, if given) has ``status``."""
    return lambda rows: all(
        s == status for who, found in rows.items() if recipient in (None, who) for s, _attempts in found
    )


# -- the happy path ----------------------------------------------------------------------------------------------


async def test_due_notifications_go_out_once_each_and_later_ones_wait(api: FakeBotApi, url: str) -> None:
    users(api, range(1, 11))
    await seed_outbox(url, range(1, 11), events(range(1, 11), now() - timedelta(minutes=5), per_user=2))
    await seed_outbox(url, [], events([1], now() + timedelta(hours=1)))
    async with dispatching(api, url) as dispatcher:
        await until(lambda: dispatcher.stats.sent == 20, what="20 messages recorded as sent")
    counts = delivered(api)
    assert len(counts) == 20 and set(counts.values()) == {1}
    assert sorted(Counter(m.chat_id for m in api.sent_messages()).values()) == [2] * 10
    rows = await outbox_rows(url)
    assert Counter(r.status for r in rows) == {"sent": 20, "pending": 1}
    assert all(r.sent_at is not None for r in rows if r.status == "sent")
    # two messages to one chat are spaced about a second apart (Telegram: 1 message per second per chat)
    times = [c.time for c in api.calls_to("sendMessage") if c.chat_id == 1]
    assert len(times) == 2 and times[1] - times[0] >= 0.9


async def test_wake_sends_new_notifications_at_once(api: FakeBotApi, url: str) -> None:
    users(api, [1])
    async with dispatching(api, url, dispatch_interval_seconds=3600) as dispatcher:
        await until(lambda: dispatcher.stats.passes >= 1 and not dispatcher.running, what="the start-up pass")
        await seed_outbox(url, [1], events([1], now()))
        began = time.monotonic()
        dispatcher.wake()  # what a use case's handler does after committing
        await until(lambda: len(api.sent_messages()) == 1, timeout=5, what="the woken send")
        assert time.monotonic() - began < 2


async def test_a_wake_while_the_next_wake_is_being_planned_is_not_lost(api: FakeBotApi, url: str) -> None:
    """A handler commits and wakes the dispatcher just as a pass, its sending done, is reading when to wake next:
    the wake finds the pass still running, and the pass must go round once more rather than leave the new message
    to the next periodic round (an hour here)."""
    users(api, [1, 2])
    async with dispatching(api, url, dispatch_interval_seconds=3600) as dispatcher:
        await until(lambda: dispatcher.stats.passes >= 1 and not dispatcher.running, what="the start-up pass")
        read = dispatcher.read_factory
        planned, go_on = asyncio.Event(), asyncio.Event()

        @asynccontextmanager
        async def read_then_hold() -> AsyncIterator[Any]:
            async with read() as uow:
                yield uow
            planned.set()  # the next due time is read (nothing else is due yet) ...
            await go_on.wait()  # ... and the pass is still running

        dispatcher.read_factory = read_then_hold
        await seed_outbox(url, [1], events([1], now()))
        dispatcher.wake()
        await planned.wait()
        assert len(api.sent_messages()) == 1
        await seed_outbox(url, [2], events([2], now()))
        dispatcher.wake()  # what a use case's handler does after committing
        dispatcher.read_factory = read
        go_on.set()
        await until(lambda: len(api.sent_messages()) == 2, timeout=5, what="the message woken for mid-planning")


# -- Telegram's errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate_limit", [False, True], ids=["dispatcher", "rate-limiter"])
async def test_too_many_requests_is_waited_out_and_delivered_once(
    api: FakeBotApi, url: str, rate_limit: bool
) -> None:
    """429 with retry_after=1: the message goes out once, after the wait; the wait is not a failed attempt. With
    the rate limiter (production) the limiter waits and retries; without it the dispatcher reschedules the row."""
    users(api, [1, 2])
    api.fail_next("sendMessage", 429, retry_after=1, chat_id=1)
    await seed_outbox(url, [1, 2], events([1, 2], now()))
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        async with dispatching(api, url, rate_limit=rate_limit):
            await until(lambda: len(api.sent_messages()) == 2, what="both messages")
    # the wait read in the form PTB supports from here on: no warning of the int form (``PTB_TIMEDELTA``)
    assert [w for w in warned if issubclass(w.category, PTBDeprecationWarning)] == []
    first, second = [c for c in api.calls_to("sendMessage") if c.chat_id == 1]
    assert first.status == 429 and second.ok
    assert second.time - first.time >= 1.0
    assert len(api.sent_messages(1)) == 1 and len(api.sent_messages(2)) == 1
    assert await statuses(url) == {1: [("sent", 1)], 2: [("sent", 1)]}


async def test_server_errors_are_retried_with_backoff(api: FakeBotApi, url: str) -> None:
    users(api, [1])
    api.fail_next("sendMessage", 502, chat_id=1, times=2)
    await seed_outbox(url, [1], events([1], now()))
    async with dispatching(api, url, backoff=Backoff(base=0.3, cap=2, jitter=0)):
        await until(lambda: len(api.sent_messages()) == 1, what="the message after two 502s")
    calls = [c for c in api.calls_to("sendMessage") if c.chat_id == 1]
    assert [c.status for c in calls] == [502, 502, 200]
    assert calls[1].time - calls[0].time >= 0.3 and calls[2].time - calls[1].time >= 0.6  # doubling
    assert await statuses(url) == {1: [("sent", 3)]}


async def test_a_user_who_blocked_the_bot_is_skipped_while_the_others_get_theirs(
    api: FakeBotApi, url: str
) -> None:
    alice, bob, carol = users(api, [1, 2, 3])
    await bob.block(notify=False)  # Telegram has not told the bot yet: it learns from the 403
    await seed_outbox(url, [1, 2, 3], events([1, 2, 3], now()))
    await seed_outbox(url, [], events([2], now() + timedelta(seconds=2)))  # bob's next one, after the 403
    async with dispatching(api, url):
        await until(lambda: len(api.sent_messages()) == 2, what="alice's and carol's")
        # bob's second notification falls due after the 403 and is skipped without a call
        await until_outbox(url, lambda rows: len(rows[2]) == 2 and all_in("skipped", 2)(rows), "bob's two skipped")
        assert calls_for(api, 2) == 1
        rows = await statuses(url)
        assert rows[1] == [("sent", 1)] and rows[3] == [("sent", 1)]
        assert sorted(rows[2]) == [("skipped", 1), ("skipped", 1)]
        assert sorted(r.last_error or "" for r in await outbox_rows(url) if r.recipient_id == 2) == [
            "Forbidden: bot was blocked by the user",
            "unreachable: the user blocked the bot",
        ]

        # bob unblocks the bot (Telegram sends a chat member update): he is reachable again
        await bob.unblock()
        await api.wait_idle()
        await seed_outbox(url, [], events([2], now()))
        await until(lambda: len(api.sent_messages(2)) == 1, what="bob's message after unblocking")

        # blocking with Telegram's update marks him unreachable before any 403
        await bob.block()
        await api.wait_idle()
        await seed_outbox(url, [], events([2], now()))
        await until_outbox(
            url, lambda rows: [s for s, _attempts in rows[2]].count("skipped") == 3, "his next one to be skipped"
        )
        assert calls_for(api, 2) == 2
    assert len(alice.bot_messages()) == len(carol.bot_messages()) == 1


async def test_a_message_that_keeps_failing_is_given_up_and_never_blocks_the_queue(
    api: FakeBotApi, url: str
) -> None:
    users(api, range(1, 6))
    api.fail_next("sendMessage", 500, chat_id=1, times=100)  # a broken chat
    api.fail_next("sendMessage", 400, "Bad Request: message text is empty", chat_id=2)  # a bad message
    await seed_outbox(url, range(1, 6), events(range(1, 6), now()))
    async with dispatching(api, url, dispatch_max_attempts=3, backoff=Backoff(base=0.2, cap=1, jitter=0)):
        await until(lambda: len(api.sent_messages()) == 3, what="the three good messages")
        assert {m.chat_id for m in api.sent_messages()} == {3, 4, 5}
        await until_outbox(url, all_in("failed", 1), "the broken chat's message to be given up")
    assert calls_for(api, 1) == 3  # given up after max_attempts
    assert calls_for(api, 2) == 1  # BadRequest: given up at once
    rows = await statuses(url)
    assert rows[1] == [("failed", 3)] and rows[2] == [("failed", 1)]
    assert all(rows[u] == [("sent", 1)] for u in (3, 4, 5))


# -- stopping mid-burst ---------------------------------------------------------------------------------------


async def test_a_stop_mid_burst_then_a_restart_delivers_everything_exactly_once(api: FakeBotApi, url: str) -> None:
    count = 300
    users(api, range(1, count + 1))
    api.latency = lambda method: 0.02 if method == "sendMessage" else 0.0
    await seed_outbox(url, range(1, count + 1), events(range(1, count + 1), now() - timedelta(seconds=1)))
    async with dispatching(api, url, dispatch_batch=25, dispatch_concurrency=8):
        await until(lambda: len(api.sent_messages()) >= 60, what="the burst to start")
    # stopped cleanly: the sends in flight finished and were recorded, the other claims were given back
    after_stop = delivered(api)
    assert 60 <= len(after_stop) < count
    rows = await outbox_rows(url)
    assert Counter(r.status for r in rows) == {"sent": len(after_stop), "pending": count - len(after_stop)}
    assert {r.key for r in rows if r.status == "sent"} == set(after_stop)
    assert all(r.attempts == 0 for r in rows if r.status == "pending")  # released: no attempt counted

    async with dispatching(api, url, dispatch_batch=25, dispatch_concurrency=8):
        await until_outbox(url, all_in("sent"), "every row to be sent", timeout=60)
    counts = delivered(api)
    assert len(counts) == count and set(counts.values()) == {1}
    assert Counter(m.chat_id for m in api.sent_messages()) == {i: 1 for i in range(1, count + 1)}
    assert Counter(r.status for r in await outbox_rows(url)) == {"sent": count}
