"""Two bot processes behind one webhook URL on one PostgreSQL database behave as one bot.

Each worker is ``python -m bot`` in webhook mode (its own OS process and port). A small round-robin proxy in the
test stands in for the platform's load balancer, so consecutive deliveries - also one person's consecutive
updates - go to different workers. The fake Bot API delivers like Telegram: one update per chat at a time, the
next one after the previous was answered. Checked: a conversation whose steps alternate between the workers
(its state is in the database), two mentees confirming the same slot at the same moment on different workers
(one booking), one dispatcher for both (``/healthz`` says which; each notification once), and the other worker
taking over when the leader is killed. The workers run on one clock set to ``START`` when the test begins
(``tests.e2e.shifted_bot``), so the times they offer do not depend on the hour the test runs at.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from sandbox.botapi import FakeBotApi, FakeUser
from storage.engine import create_engine
from storage.uow import SqlUnitOfWork
from tests.dbutil import drop_database, fresh_database
from tests.e2e.dispatcher_worker import outbox_rows
from tests.e2e.flows import become_mentor_with_offering, onboard, open_first_date, pick_time_and_skip_notes
from tests.e2e.shifted_bot import offset_to
from tests.e2e.webhooks import free_port, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_URL = "https://bot.example.test/tg"
# Monday 05:30 in Kolkata: every hour of Tuesday's (9:00-12:00) lies beyond the 24-hour notice for the whole test.
START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)

pytestmark = pytest.mark.postgres


@dataclass
class Worker:
    url: str
    process: asyncio.subprocess.Process
    log: Path  # stderr goes to a file: an unread pipe would fill up and block the worker

    def errors(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@dataclass
class RoundRobin:
    """The load balancer: each request to the next worker that answers; a worker that refuses connections is
    skipped (as a balancer's health check would take it out)."""

    workers: list[Worker]
    turns: itertools.count = field(default_factory=itertools.count)
    routed: list[int] = field(default_factory=list)  # which worker took each delivery

    async def forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        first = next(self.turns)
        async with aiohttp.ClientSession() as http:
            for offset in range(len(self.workers)):
                index = (first + offset) % len(self.workers)
                try:
                    target = self.workers[index].url + request.path
                    async with http.post(target, data=body, headers=headers) as reply:
                        self.routed.append(index)
                        return web.Response(status=reply.status, body=await reply.read())
                except aiohttp.ClientConnectionError:
                    continue
        return web.Response(status=502, text="no worker")


@pytest.fixture
async def pg_url(tmp_path: Path) -> AsyncIterator[str]:
    url = await fresh_database("postgres", tmp_path)  # PostgreSQL down: fails on CI, skips elsewhere
    try:
        yield url
    finally:
        await drop_database(url)


async def start_worker(api: FakeBotApi, database_url: str, logs: Path, offset: float) -> Worker:
    """``python -m bot`` in webhook mode, through ``tests.e2e.shifted_bot`` (its clock ``offset`` seconds
    ahead)."""
    port = free_port()
    log = logs / f"worker-{port}.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WEBHOOK_", "DATABASE_", "BOT_", "TELEGRAM_")) and key != "PORT"
    }
    env.update(
        PYTHONPATH=str(ROOT), BOT_TOKEN=api.token, TELEGRAM_API_URL=api.url, DATABASE_URL=database_url,
        WEBHOOK_URL=WEBHOOK_URL, PORT=str(port), WEBHOOK_LISTEN="127.0.0.1", DISPATCH_INTERVAL_SECONDS="0.5",
    )  # fmt: skip
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.e2e.shifted_bot", str(offset),
            cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    return Worker(f"http://127.0.0.1:{port}", process, log)


async def roles(workers: list[Worker]) -> list[str]:
    return [(await wait_until_healthy(w.url, timeout=60))["dispatcher"] for w in workers]


async def until(condition, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)


def requests_to(mentor: FakeUser) -> list[str]:
    return [m.text or "" for m in mentor.bot_messages() if "New booking request" in (m.text or "")]


async def booked_starts(database_url: str, mentor_id: int) -> list[datetime]:
    engine = create_engine(database_url)
    try:
        async with SqlUnitOfWork(engine) as uow:
            found = await uow.bookings.active_for_mentor(mentor_id, START, START + timedelta(days=60))
    finally:
        await engine.dispose()
    return sorted(b.scheduled_at for b in found)


async def test_two_workers_on_one_database_behave_as_one_bot(api: FakeBotApi, pg_url: str, tmp_path: Path) -> None:
    api.default_timeout = 20
    offset = offset_to(START)  # one clock for both workers
    workers = [await start_worker(api, pg_url, tmp_path, offset) for _ in range(2)]
    balancer = RoundRobin(workers)
    proxy = web.Application()
    proxy.router.add_post("/{path:.*}", balancer.forward)
    runner = web.AppRunner(proxy, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    survivor = workers[1]
    try:
        assert sorted(await roles(workers)) == ["leader", "standby"]  # one dispatcher for both
        api.webhook_target = f"http://127.0.0.1:{runner.addresses[0][1]}"

        # A conversation whose steps alternate between the workers: typed title, price, ... (state in the DB)
        mentor = api.user(101, "Asha")
        await become_mentor_with_offering(api, mentor)
        assert {0, 1} <= set(balancer.routed[-6:])

        # Two mentees on the same slot; both press Confirm at once - on different workers
        first, second = api.user(201, "Ravi"), api.user(202, "Meera")
        for mentee in (first, second):
            await onboard(api, mentee)
            await open_first_date(api, mentee)
            assert "on Tue, Nov 24." in mentee.last_keyboard_message().text  # the workers' clock, not the host's
        label = await pick_time_and_skip_notes(api, first)
        await pick_time_and_skip_notes(api, second, label)
        taken = len(balancer.routed)
        await asyncio.gather(first.press("✅ Confirm booking"), second.press("✅ Confirm booking"))
        outcomes = await asyncio.gather(
            *(m.wait_for(lambda msg: "Request sent" in msg.shown_text or "just taken" in msg.shown_text)
              for m in (first, second))
        )  # fmt: skip
        await api.wait_idle()  # both deliveries answered (the answer follows the handling)
        assert sorted(balancer.routed[taken : taken + 2]) == [0, 1]  # one confirm on each worker
        assert sorted("Request sent" in o.shown_text for o in outcomes) == [False, True]
        assert len(await booked_starts(pg_url, 101)) == 1
        await mentor.wait_for("New booking request")
        await until(lambda: _requests_settled(pg_url, 101, 1), 20, "the request's outbox row to be marked sent")
        assert len(requests_to(mentor)) == 1

        # The leader dies; the other worker takes over the scheduler and the traffic
        leader = workers[(await roles(workers)).index("leader")]
        survivor = next(w for w in workers if w is not leader)
        leader.process.kill()
        await leader.process.wait()

        async def survivor_leads() -> bool:
            return (await wait_until_healthy(survivor.url))["dispatcher"] == "leader"

        await until(survivor_leads, 20, "the surviving worker to take over the dispatcher")
        loser = second if "just taken" in outcomes[1].shown_text else first
        await _book_any_time(api, loser)  # from the fresh times the bot showed with "just taken"
        await until(lambda: _requests_settled(pg_url, 101, 2), 20, "the second request's row to be marked sent")
        assert len(requests_to(mentor)) == 2
        assert len(await booked_starts(pg_url, 101)) == 2
    finally:
        await runner.cleanup()
        for worker in workers:
            if worker.process.returncode is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in workers:
            await asyncio.wait_for(worker.process.wait(), 30)
            print(f"--- worker {worker.url} exit {worker.process.returncode}\n{worker.errors()}")
    assert survivor.process.returncode == 0, survivor.errors()
    assert "Traceback" not in survivor.errors(), survivor.errors()


async def _requests_settled(database_url: str, mentor_id: int, count: int) -> bool:
    """The mentor's ``count`` booking requests are sent, each after a single claim: no dispatcher - this worker's
    or the other's - took one twice, so each went out once (a row is sent only by the claim that holds it)."""
    rows = [r for r in await outbox_rows(database_url) if r.kind == "new_booking" and r.recipient_id == mentor_id]
    states = [(r.status, r.attempts) for r in rows]
    assert all(state in (("pending", 0), ("sending", 1), ("sent", 1)) for state in states), states
    return states == [("sent", 1)] * count


async def _book_any_time(api: FakeBotApi, mentee: FakeUser) -> None:
    """From the free times after "just taken": the first time, Skip, Confirm."""
    await pick_time_and_skip_notes(api, mentee)
    await mentee.press("✅ Confirm booking")
    await mentee.wait_for("Request sent")
