"""Bot processes (``tests.e2e.dispatcher_worker``: the real application, dispatching only) against the fake Bot API
server: a process killed mid-burst loses and repeats nothing once another one starts, and two processes draining
one outbox deliver every message exactly once."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sandbox.botapi import FakeBotApi
from tests.dbutil import drop_database, fresh_database
from tests.e2e.dispatcher_worker import events, key_of, outbox_rows, seed_outbox

ROOT = Path(__file__).resolve().parents[2]


def a_second_ago() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def url(db_kind: str, tmp_path: Path) -> AsyncIterator[str]:
    database = await fresh_database(db_kind, tmp_path)  # PostgreSQL down: fails on CI, skips elsewhere
    try:
        yield database
    finally:
        await drop_database(database)


async def start_worker(api: FakeBotApi, url: str, *options: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.e2e.dispatcher_worker",
        "--database-url", url, "--api-url", api.url, "--token", api.token, *options,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def stop_worker(process: asyncio.subprocess.Process) -> dict[str, int]:
    """SIGTERM, a clean exit, and the counters it printed."""
    process.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()[-3000:]
    assert b"Traceback" not in err, err.decode()[-3000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", out.decode())}


async def until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.005)


def assert_each_delivered_once(api: FakeBotApi, count: int) -> None:
    per_key = Counter(key_of(m.text or "") for m in api.sent_messages())
    assert len(per_key) == count, f"{count - len(per_key)} lost"
    assert [k for k, n in per_key.items() if n > 1] == [], "duplicates"
    assert Counter(m.chat_id for m in api.sent_messages()) == {i: 1 for i in range(1, count + 1)}


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
async def test_a_killed_process_loses_and_repeats_nothing(api: FakeBotApi, url: str) -> None:
    """SIGKILL while every sender waits for Telegram: those sends never completed (the server drops requests whose
    client went away), the rows are still claimed, and the next process takes them over once the lease runs out."""
    count, concurrency = 80, 4
    for i in range(1, count + 1):
        api.user(i, started=True)
    frozen_since: float | None = None

    def latency(method: str) -> float:  # after the freeze, Telegram "hangs": requests are held for 60 s
        if method != "sendMessage":
            return 0.0
        return 60.0 if frozen_since is not None else 0.03

    api.latency = latency
    await seed_outbox(url, range(1, count + 1), events(range(1, count + 1), a_second_ago()))
    options = ("--concurrency", str(concurrency), "--batch", "10", "--lease", "3", "--interval", "0.5")
    first = await start_worker(api, url, *options)
    try:
        await until(lambda: len(api.sent_messages()) >= 20, 60, "the burst to start")
        frozen_since = since = api.clock()

        def all_senders_hang() -> bool:
            hanging = [c for c in api.calls_to("sendMessage") if c.duration is None]  # still in flight
            return len(hanging) == concurrency and all(c.time >= since for c in hanging)

        await until(all_senders_hang, 10, "every sender to wait on a held request")
    finally:
        first.kill()
        await first.wait()
    before = Counter(key_of(m.text or "") for m in api.sent_messages())
    frozen_since = None
    await until(lambda: all(c.duration is not None for c in api.calls), 10, "the held requests to be dropped")
    assert Counter(key_of(m.text or "") for m in api.sent_messages()) == before  # the held sends never happened
    rows = await outbox_rows(url)
    assert {r.key for r in rows if r.status == "sent"} == set(before)
    assert Counter(r.status for r in rows)["sending"] >= concurrency  # the dead process's claims

    second = await start_worker(api, url, *options)
    try:
        await until(lambda: len(api.sent_messages()) >= count, 60, "every message")
        await asyncio.sleep(0.5)
    finally:
        stats = await stop_worker(second)
    assert_each_delivered_once(api, count)
    assert stats["sent"] == count - len(before)
    assert Counter(r.status for r in await outbox_rows(url)) == {"sent": count}


async def test_two_processes_without_election_still_send_each_message_once(api: FakeBotApi, url: str) -> None:
    """The outbox's claims alone keep two sending processes apart (election off in both)."""
    count = 400
    for i in range(1, count + 1):
        api.user(i, started=True)
    api.latency = lambda method: 0.01 if method == "sendMessage" else 0.0
    await seed_outbox(url, range(1, count + 1), events(range(1, count + 1), a_second_ago()))
    options = ("--concurrency", "6", "--batch", "15", "--rate", "60", "--no-election")
    workers = [await start_worker(api, url, *options) for _ in range(2)]
    try:
        await until(lambda: len(api.sent_messages()) >= count, 90, "every message")
        await asyncio.sleep(0.5)
    finally:
        stats = [await stop_worker(w) for w in workers]
    assert_each_delivered_once(api, count)
    assert sum(s["sent"] for s in stats) == count
    assert all(s["sent"] > 0 for s in stats), stats  # both really took part
    assert all(s["lost"] == 0 for s in stats), stats
    assert Counter(r.status for r in await outbox_rows(url)) == {"sent": count}


async def next_line(process: asyncio.subprocess.Process, timeout: float) -> str:
    assert process.stdout is not None
    return (await asyncio.wait_for(process.stdout.readline(), timeout)).decode().strip()


async def test_two_processes_elect_one_sender_at_the_shared_cap_and_hand_over(api: FakeBotApi, url: str) -> None:
    """Two processes, one outbox: only the elected leader sends, so the overall cap (60/s here) holds for both
    together; when the leader stops, the other takes over and every message still goes out exactly once."""
    count, rate = 400, 60.0
    for i in range(1, count + 1):
        api.user(i, started=True)
    await seed_outbox(url, range(1, count + 1), events(range(1, count + 1), a_second_ago()))
    options = ("--concurrency", "6", "--batch", "15", "--rate", str(rate), "--interval", "0.3")
    workers = [await start_worker(api, url, *options) for _ in range(2)]
    stats: list[dict[str, int]] = []
    try:
        assert [await next_line(w, 30) for w in workers] == ["ready", "ready"]
        waits = {asyncio.ensure_future(next_line(w, 30)): w for w in workers}
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        [first] = done
        assert first.result() == "leader"
        leader = waits[first]
        [follower] = [w for w in workers if w is not leader]
        await until(lambda: len(api.sent_messages()) >= 150, 60, "the leader's burst")
        sent_before_stop = len(api.sent_messages())
        leader_stats = await stop_worker(leader)  # a clean stop gives its claims back
        [follower_line] = pending
        assert await follower_line == "leader"  # the follower takes over
        await until(lambda: len(api.sent_messages()) >= count, 60, "every message")
        await asyncio.sleep(0.5)
        stats = [leader_stats, await stop_worker(follower)]
    finally:
        for w in workers:
            if w.returncode is None:
                w.kill()
                await w.wait()
    assert_each_delivered_once(api, count)
    assert stats[0]["sent"] >= sent_before_stop  # while both ran, only the leader sent
    assert stats[0]["sent"] + stats[1]["sent"] == count and stats[1]["sent"] > 0
    sends = sorted(c.time for c in api.calls_to("sendMessage") if c.ok)[:sent_before_stop]
    # one limiter for both processes: after the limiter's first second (a burst of up to ``rate``) at most
    # ``rate`` per second - two senders each at the cap would have needed half the time
    assert sends[-1] - sends[0] >= (sent_before_stop - 2 * rate) / rate
    assert Counter(r.status for r in await outbox_rows(url)) == {"sent": count}
