"""Benchmark the real booking flow against a bare python-telegram-bot echo bot, in one run.

Run with ``.venv/bin/python -m benchmarks.bench_flow`` (about four minutes); options: ``--latency 0,0.05``
(seconds the server adds to every Bot API call, standing in for Telegram's round trip), ``--users 1000``,
``--seconds 15`` (measured window per run, after ``--warmup 3``), ``--rate 300`` (the paced run), ``--db postgres``
(a throw-away database on ``TEST_POSTGRES_URL`` instead of a SQLite file), ``--database URL`` (an existing,
migrated database, e.g. one filled by ``benchmarks.seed``), ``--only ours``, ``--workers N`` (N webhook workers
on one port, ``WEBHOOK_REUSE_PORT``, the server delivering by webhook, instead of one bot long-polling),
``--flows free,stars`` (which booking flows to run, see below; default ``free``).

Method. This process runs the Bot API-compatible server from ``sandbox.botapi`` and the simulated
users; the bot runs as a separate OS process, exactly as deployed: ``python -m bot`` (long polling, the project's
request backend, per-user update processing, SQLite or PostgreSQL), so the two share the machine's cores like a
bot and Telegram's edge would not - the numbers are a floor. Users act as people do: a mentee sends the offering's
deep link ``/start o<id>``, then presses a date, a time, "Skip", "Confirm booking" on the keyboards the bot sent
(a slot taken meanwhile shows fresh times, and the mentee picks again); each mentor presses "Confirm" on the
new-booking message the scheduler delivers. Every user has one update in flight at a time. Each mentee starts at
a random moment within the warm-up: started together, the paced mentees would move in lockstep (all pressing
"Confirm booking" in the same second, then all sending ``/start``), a wave of the costliest step no real crowd
makes; started apart, every step is in the mix at every moment. While a run is measured, this process (the
server and the users) does not collect garbage; it collects before each run (see ``measure``).

**The paid flow** (``--flows stars``: the bot runs with ``PAYMENTS=stars``) is the same until the summary; then the
mentee presses "Confirm and pay in Stars" (the answer: the invoice, which follows the held booking's card), taps
Pay - Telegram's pre-checkout question, which the bot answers (``checkout``: the time from the query's arrival to
the bot's answer, reported on its own as the pre-checkout p50/p99; Telegram allows 10 s) - and Telegram reports
the payment (``payment``: until the receipt reaches the mentee through the outbox); the mentor then confirms the
request as in the free flow. Every update of the paid flow counts towards its throughput.

An update's latency runs from the moment the server makes it available to the bot until the server records the
bot's visible answer: the new message (``/start``) or the edit of the pressed message (buttons). Runs:

* **capacity**: all users act as fast as the bot answers (throughput is the bot's limit; latency there is mostly
  queueing - with 1,000 users waiting, Little's law sets it);
* **paced**: the users together start at most ``--rate`` updates per second (latency at a sustained load);
* **baseline**: the echo bot (``benchmarks.echo_bot``: ``concurrent_updates(256)``, otherwise PTB's defaults),
  1,000 users each sending a text and waiting for the echo, capacity as above.

For looking into the bot while it runs (environment): ``BENCH_PYSPY=file`` records it with py-spy,
``BENCH_CPROFILE=file`` runs it under cProfile, ``BENCH_BOT_COMMAND="python script.py"`` runs another command
(an instrumented bot), ``BENCH_DEBUG=1`` prints unanswered updates, calls per second, where updates wait, and
keeps the bot's log; ``BENCH_REPLY_TIMEOUT`` (seconds, default 60) bounds each wait for an answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, Protocol

from sqlalchemy import make_url

from domain.model import Offering, OfferingStatus, TimeRange, User, WeeklyRule
from handlers.callbacks import (
    ActOnBooking,
    BookDate,
    BookingAction,
    BookTime,
    CallbackData,
    ConfirmBooking,
    ConfirmPaid,
    SkipNotes,
)
from sandbox.botapi import ChatMessage, FakeBotApi, FakeUser
from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.uow import SqlUnitOfWork
from tests.dbutil import drop_database, fresh_database

ZONE = "Asia/Kolkata"
FIRST_MENTOR = 7_000_000_000  # far above the ids ``benchmarks.seed`` uses
FIRST_MENTEE = 7_100_000_000
MENTORS_SHARE = 10  # one user in ten is a mentor
REPLY_TIMEOUT = float(os.environ.get("BENCH_REPLY_TIMEOUT", "60"))


# --- measuring ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    kind: str  # "start" | "date" | "time" | "skip" | "confirm" | "checkout" | "payment" | "mentor" | "echo"
    started: float
    finished: float

    @property
    def latency(self) -> float:
        return self.finished - self.started


@dataclass
class Run:
    """One measured run: samples, the measured window and what went wrong."""

    name: str
    window: tuple[float, float] = (0.0, 0.0)
    samples: list[Sample] = field(default_factory=list)
    timeouts: int = 0
    bookings: int = 0
    confirmed: int = 0
    refused: int = 0  # flows that ended without a booking (limit reached, day full, ...)
    bot_cpu: float = 0.0  # CPU seconds the bot process used during the run (user + system)
    server_cpu: float = 0.0  # CPU seconds this process (the Bot API server and the users) used meanwhile
    checkouts_refused: int = 0  # pre-checkout questions the bot answered "no" (none expected)

    def latencies(self, kind: str) -> list[float]:
        """Measured latencies of one kind of update, in ms, sorted."""
        return sorted(s.latency * 1000 for s in self.measured() if s.kind == kind)

    def measured(self) -> list[Sample]:
        begin, end = self.window
        return [s for s in self.samples if begin <= s.started and s.finished <= end]

    def throughput(self) -> float:
        begin, end = self.window
        done = sum(1 for s in self.samples if begin <= s.finished <= end)
        return done / (end - begin)

    def percentile(self, q: float) -> float:
        latencies = sorted(s.latency for s in self.measured())
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000


class Pacer:
    """Hands out start times at most ``rate`` per second over all users (None: no pacing)."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self._next = 0.0

    async def turn(self) -> None:
        if self.rate is None:
            return
        now = time.perf_counter()
        at = max(now, self._next)
        self._next = at + 1 / self.rate
        if at > now:
            await asyncio.sleep(at - now)


Match = Callable[[str, ChatMessage], bool]


class Replies:
    """Per-chat waiting on the server's events (``FakeBotApi.on_event``): an action waits for its own answer."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self._waiting: dict[int, list[tuple[Match, asyncio.Future[tuple[float, ChatMessage]]]]] = {}
        self.arrivals: Callable[[int, str, ChatMessage], None] | None = None
        # BENCH_DEBUG: when each update was enqueued and when the bot fetched it, by update id
        self.debug: tuple[dict[int, float], dict[int, float]] = ({}, {})
        api.on_event = self._on_event

    def _on_event(self, chat_id: int, kind: str, message: ChatMessage) -> None:
        now = time.perf_counter()
        if self.arrivals is not None:
            self.arrivals(chat_id, kind, message)
        waiting = self._waiting.get(chat_id)
        if not waiting:
            return
        for entry in list(waiting):
            match, future = entry
            if not future.done() and match(kind, message):
                future.set_result((now, message))
                waiting.remove(entry)

    async def act(self, user: FakeUser, action: Callable[[], object], match: Match) -> tuple[float, ChatMessage]:
        """Do ``action`` (enqueue an update) and wait for the answer; returns (latency seconds, message)."""
        future: asyncio.Future[tuple[float, ChatMessage]] = asyncio.get_running_loop().create_future()
        entry = (match, future)
        self._waiting.setdefault(user.id, []).append(entry)
        started = time.perf_counter()
        try:
            result = action()
            if asyncio.iscoroutine(result):
                await result
            finished, message = await asyncio.wait_for(future, REPLY_TIMEOUT)
        except TimeoutError:
            if os.environ.get("BENCH_DEBUG"):
                last = user.bot_messages()[-1:]
                described = last[0].describe()[:300] if last else None
                print(f"  ! no answer for {user.id}; last bot message: {described}")
            raise
        finally:
            waiting = self._waiting.get(user.id)
            if waiting and entry in waiting:
                waiting.remove(entry)
        return finished - started, message


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _datas(message: ChatMessage) -> list[str]:
    return [b.callback_data for row in message.keyboard for b in row if b.callback_data]


def _of_kind(message: ChatMessage, kind: type[CallbackData]) -> list[str]:
    pattern = kind.pattern()
    return [d for d in _datas(message) if pattern.match(d)]


def _edit_of(message_id: int) -> Match:
    return lambda kind, m: kind == "edited" and m.message_id == message_id


def _date_picker(kind: str, m: ChatMessage) -> bool:
    return kind == "sent" and bool(_of_kind(m, BookDate))


def _mentor_confirm(message: ChatMessage) -> str | None:
    for data in _of_kind(message, ActOnBooking):
        if ActOnBooking.unpack(data).action == BookingAction.CONFIRM:
            return data
    return None


# --- the users ----------------------------------------------------------------------------------------------

FLOW_STEPS: tuple[tuple[type, str], ...] = (
    (ConfirmPaid, "confirm"),
    (ConfirmBooking, "confirm"),
    (SkipNotes, "skip"),
    (BookTime, "time"),
    (BookDate, "date"),
)


async def press(
    run: Run, replies: Replies, user: FakeUser, message: ChatMessage, data: str, kind: str
) -> ChatMessage | None:
    """Press a button of ``message`` and wait for its edit; records the sample. None when no answer came."""
    try:
        latency, answer = await replies.act(
            user, lambda: user.press_data(message, data), _edit_of(message.message_id)
        )
    except TimeoutError:
        run.timeouts += 1
        return None
    now = time.perf_counter()
    run.samples.append(Sample(kind, now - latency, now))
    return answer


async def mentee(
    run: Run,
    replies: Replies,
    user: FakeUser,
    offerings: list[int],
    pacer: Pacer,
    stop: asyncio.Event,
    rng: random.Random,
    start_within: float,
) -> None:
    await asyncio.sleep(rng.uniform(0, start_within))  # out of step with the others (see the module notes)
    while not stop.is_set():
        await pacer.turn()
        if stop.is_set():
            return
        offering = rng.choice(offerings)
        try:
            start = functools.partial(user.send, f"/start o{offering}")
            latency, message = await replies.act(user, start, _date_picker)
        except TimeoutError:
            run.timeouts += 1
            continue
        run.samples.append(Sample("start", time.perf_counter() - latency, time.perf_counter()))
        booked = False
        for _step in range(12):
            step = next(((kind, name) for kind, name in FLOW_STEPS if _of_kind(message, kind)), None)
            if step is None:
                break
            kind, name = step
            data = rng.choice(_of_kind(message, kind))
            await pacer.turn()
            if stop.is_set():
                return
            if kind is ConfirmPaid:
                booked = await pay(run, replies, user, message, data, pacer, stop)
                break
            answer = await press(run, replies, user, message, data, name)
            if answer is None:
                break
            message = answer
            if name == "confirm" and not _of_kind(message, ConfirmBooking):
                booked = True
                break
        if booked:
            run.bookings += 1
        else:
            run.refused += 1


def _invoice(kind: str, m: ChatMessage) -> bool:
    return kind == "sent" and m.invoice is not None


def _receipt(kind: str, m: ChatMessage) -> bool:
    return kind == "sent" and m.text.startswith("🧾")


async def pay(
    run: Run, replies: Replies, user: FakeUser, summary: ChatMessage, data: str, pacer: Pacer, stop: asyncio.Event
) -> bool:
    """The paid flow's end: "Confirm and pay" (answered by the invoice), Pay (the pre-checkout question) and the
    payment (answered by the receipt). True when the booking was paid."""
    try:
        latency, invoice = await replies.act(user, lambda: user.press_data(summary, data), _invoice)
    except TimeoutError:
        run.timeouts += 1
        return False
    now = time.perf_counter()
    run.samples.append(Sample("confirm", now - latency, now))
    await pacer.turn()
    if stop.is_set():
        return False
    asked = time.perf_counter()
    checkout = await replies.api.payments.pay(user, invoice, complete=False)
    if checkout.answer_seconds is None:
        run.timeouts += 1
        return False
    run.samples.append(Sample("checkout", asked, asked + checkout.answer_seconds))
    if not checkout.ok or checkout.charge is None:
        run.checkouts_refused += 1
        return False
    await pacer.turn()
    if stop.is_set():
        return False
    charge = checkout.charge
    try:
        latency, _message = await replies.act(user, lambda: replies.api.payments.deliver(charge, user), _receipt)
    except TimeoutError:
        run.timeouts += 1
        return False
    now = time.perf_counter()
    run.samples.append(Sample("payment", now - latency, now))
    return True


async def mentor(
    run: Run,
    replies: Replies,
    user: FakeUser,
    inbox: asyncio.Queue[ChatMessage],
    pacer: Pacer,
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        message = await inbox.get()
        data = _mentor_confirm(message)
        if data is None:
            continue
        await pacer.turn()
        if stop.is_set():
            return
        if await press(run, replies, user, message, data, "mentor") is not None:
            run.confirmed += 1


def _echoed(text: str, kind: str, message: Any) -> bool:
    return kind == "sent" and message.text == text


async def echo_user(run: Run, replies: Replies, user: FakeUser, pacer: Pacer, stop: asyncio.Event) -> None:
    count = 0
    while not stop.is_set():
        await pacer.turn()
        count += 1
        text = f"hello {count}"
        try:
            latency, _answer = await replies.act(
                user, functools.partial(user.send, text), functools.partial(_echoed, text)
            )
        except TimeoutError:
            run.timeouts += 1
            continue
        now = time.perf_counter()
        run.samples.append(Sample("echo", now - latency, now))


# --- the bot process ----------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def bot_process(api: FakeBotApi, command: list[str], env: dict[str, str]):
    """Start the bot as its own OS process; wait until it long-polls; SIGINT and wait on the way out."""
    polls = api.get_updates_count
    profile = os.environ.get("BENCH_PYSPY")  # a file: record the bot with py-spy (collapsed stacks)
    if profile:
        command = ["py-spy", "record", "--nonblocking", "-r", "200", "-f", "raw", "-o", profile, "--", *command]
    cprofile = os.environ.get("BENCH_CPROFILE")  # a file: run the bot under cProfile (slower; relative costs)
    if cprofile:
        command = [command[0], "-m", "cProfile", "-o", cprofile, *command[1:]]
    # the bot's log goes to a file: a pipe nobody reads during the run would fill up and stall the bot
    api.drop_pending_updates()  # a previous run's unanswered updates must not land on this bot as a burst
    log = tempfile.NamedTemporaryFile("w+", prefix="bench-flow-bot-", suffix=".log", delete=False)
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=log)
    try:
        # the second poll: start-up (post_init) is over
        await _started([process], [log], lambda: api.get_updates_count > polls + 1, "start polling")
        yield process
    finally:
        process.send_signal(2)
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
        _close_log(log, "the bot")


async def _started(processes: list[Any], logs: list[Any], ready: Callable[[], bool], what: str) -> None:
    """Wait up to 60 s until ``ready()``; a process that exits meanwhile fails the run with its log's tail."""
    deadline = time.monotonic() + 60
    while not ready():
        for process, log in zip(processes, logs, strict=True):
            if process.poll() is not None:
                raise RuntimeError(f"the bot exited at start-up:\n{Path(log.name).read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the bot did not {what} within 60 s")
        await asyncio.sleep(0.05)


def _close_log(log: Any, who: str) -> None:
    """Report error lines of a bot's log; keep the file with ``BENCH_DEBUG``, else delete it."""
    errors = Path(log.name).read_text(errors="replace")
    log.close()
    if os.environ.get("BENCH_DEBUG"):
        print(f"  {who}'s log: {log.name}")
    else:
        os.unlink(log.name)
    problems = [line for line in errors.splitlines() if " ERROR " in line or "Traceback" in line]
    if problems:
        print(f"  ! {who} logged {len(problems)} error line(s), first: {problems[0][:200]}")


WEBHOOK_URL = "https://bench.invalid/telegram"  # never resolved: the server posts to ``webhook_target``


@contextlib.asynccontextmanager
async def bot_processes(api: FakeBotApi, command: list[str], env: dict[str, str], workers: int):
    """``workers`` 0: one bot long-polling (``bot_process``). Otherwise that many webhook workers on one port
    (``WEBHOOK_REUSE_PORT``: the kernel spreads the server's connections over them), as deployed behind one URL;
    wait until every one serves, stop them all on the way out."""
    if workers == 0:
        async with bot_process(api, command, env) as process:
            yield [process]
        return
    port = _free_port()
    env = {
        **env,
        "WEBHOOK_URL": WEBHOOK_URL,
        "PORT": str(port),
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_REUSE_PORT": "1",
    }
    api.drop_pending_updates()
    api.webhook_target = f"http://127.0.0.1:{port}"
    logs = [
        tempfile.NamedTemporaryFile("w+", prefix="bench-flow-worker-", suffix=".log", delete=False)
        for _ in range(workers)
    ]
    processes = []
    try:
        for log in logs:
            processes.append(
                subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=log)
            )

        def serving() -> bool:
            return all("webhook: serving" in Path(log.name).read_text(errors="replace") for log in logs)

        await _started(processes, logs, serving, "serve the webhook")
        yield processes
    finally:
        for process in processes:
            process.send_signal(2)
        for process in processes:
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()
        api.webhook, api.webhook_target = None, None  # the next run long-polls again
        for log in logs:
            _close_log(log, "a worker")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def seed_cast(url: str, mentors: int, mentees: int) -> list[int]:
    """Mentors (daily 06:00-22:00 in Asia/Kolkata, one paid 30-minute offering each) and mentees who picked a
    time zone already - the deep link then opens the date picker at once. Returns the offering ids."""
    engine = create_engine(url)
    weekly = tuple(WeeklyRule(day, TimeRange(6 * 60, 22 * 60)) for day in range(7))
    offerings: list[int] = []
    try:
        async with SqlUnitOfWork(engine) as uow:
            for n in range(mentors):
                mentor_id = FIRST_MENTOR + n
                await uow.users.add(User(mentor_id, f"User{mentor_id}", is_mentor=True, timezone=ZONE))
                await uow.availability.replace_weekly(mentor_id, weekly)
                added = await uow.offerings.add(
                    Offering(
                        mentor_id,
                        f"Mock interview {n}",
                        Decimal("500"),
                        30,
                        status=OfferingStatus.ACTIVE,
                        max_bookings_per_day=20,
                    )
                )
                assert added.id is not None
                offerings.append(added.id)
            for n in range(mentees):
                mentee_id = FIRST_MENTEE + n
                await uow.users.add(User(mentee_id, f"User{mentee_id}", timezone=ZONE))
            await uow.commit()
    finally:
        await engine.dispose()
    return offerings


FLOWS = {"free": "off", "stars": "stars"}  # a flow and the bot's PAYMENTS for it (``off``: no invoice)


# --- runs ---------------------------------------------------------------------------------------------------


class Actor(Protocol):
    """What one simulated user does for a run (``mentee``, ``mentor`` or ``echo_user`` with its own arguments)."""

    def __call__(self, *, run: Run, pacer: Pacer, stop: asyncio.Event) -> Coroutine[Any, Any, None]: ...


async def measure(
    name: str,
    api: FakeBotApi,
    users: list[tuple[FakeUser, Actor]],
    rate: float | None,
    warmup: float,
    seconds: float,
) -> Run:
    run = Run(name)
    pacer = Pacer(rate)
    stop = asyncio.Event()
    # This process is the stand-in for Telegram. Its collector's full passes walk every chat's history
    # (490,000-630,000 objects by the end of a run): 130-217 ms each, every few seconds, and every update in
    # flight waited for them - a pause the real Bot API does not put on a bot. So it collects between runs, not
    # during one.
    gc.collect()
    gc.disable()
    try:
        tasks = [asyncio.create_task(start(run=run, pacer=pacer, stop=stop)) for _user, start in users]
        began = time.perf_counter()
        run.window = (began + warmup, began + warmup + seconds)
        await asyncio.sleep(warmup + seconds)
        stop.set()
        await asyncio.sleep(1.0)  # answers in flight arrive; the users stop starting new updates
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(0.5)
    finally:
        gc.enable()
    return run


async def run_echo(api: FakeBotApi, replies: Replies, count: int, args: argparse.Namespace) -> Run:
    users = [api.user(FIRST_MENTEE + 500_000 + n, started=True) for n in range(count)]
    command = [sys.executable, "-m", "benchmarks.echo_bot", api.url, api.token]
    async with bot_process(api, command, {}) as process:
        before, own = cpu_seconds(process.pid), time.process_time()
        run = await measure(
            "baseline: bare PTB echo bot, concurrent_updates(256)",
            api,
            [(u, functools.partial(echo_user, replies=replies, user=u)) for u in users],
            None,
            args.warmup,
            args.seconds,
        )
        run.bot_cpu = cpu_seconds(process.pid) - before
        run.server_cpu = time.process_time() - own
    return run


async def run_ours(
    api: FakeBotApi,
    replies: Replies,
    url: str,
    offerings: list[int],
    mentor_ids: list[int],
    mentee_ids: list[int],
    rate: float | None,
    args: argparse.Namespace,
    label: str,
    flow: str = "free",
) -> Run:
    rng = random.Random(7)
    inboxes: dict[int, asyncio.Queue[ChatMessage]] = {m: asyncio.Queue() for m in mentor_ids}

    def arrivals(chat_id: int, kind: str, message: ChatMessage) -> None:
        inbox = inboxes.get(chat_id)
        if inbox is not None and kind == "sent" and _mentor_confirm(message):
            inbox.put_nowait(message)

    replies.arrivals = arrivals
    if os.environ.get("BENCH_DEBUG"):  # where an update waits: before the bot fetches it, or after
        enq: dict[int, float] = {}
        fetched: dict[int, float] = {}
        original_enqueue, original_get = api.enqueue_update, api.methods.get_updates

        def enqueue(update: dict[str, Any]) -> int:
            update_id = original_enqueue(update)
            enq[update_id] = time.perf_counter()
            return update_id

        async def get_updates(params: dict[str, Any], files: Any) -> Any:
            result = await original_get(params, files)
            now = time.perf_counter()
            for u in result:
                fetched.setdefault(u["update_id"], now)
            return result

        # BENCH_DEBUG only: the server's own methods wrapped to time each update
        api.enqueue_update, api.methods.get_updates = enqueue, get_updates  # type: ignore[method-assign]
        replies.debug = (enq, fetched)
    actors: list[tuple[FakeUser, Actor]] = []
    for mentee_id in mentee_ids:
        u = api.user(mentee_id, f"User{mentee_id}", started=True)
        actors.append(
            (
                u,
                functools.partial(
                    mentee, replies=replies, user=u, offerings=offerings, rng=rng, start_within=args.warmup
                ),
            )
        )
    for mentor_id in mentor_ids:
        u = api.user(mentor_id, f"User{mentor_id}", started=True)
        actors.append((u, functools.partial(mentor, replies=replies, user=u, inbox=inboxes[u.id])))
    env = {"BOT_TOKEN": api.token, "DATABASE_URL": url, "TELEGRAM_API_URL": api.url, "DEFAULT_TIMEZONE": ZONE}
    env["PAYMENTS"] = FLOWS[flow]
    command = os.environ.get("BENCH_BOT_COMMAND", f"{sys.executable} -m bot").split()  # e.g. a traced bot
    async with bot_processes(api, command, env, args.workers) as processes:
        before, own = sum(cpu_seconds(p.pid) for p in processes), time.process_time()
        calls_before = len(api.calls)
        run = await measure(label, api, actors, rate, args.warmup, args.seconds)
        run.bot_cpu = sum(cpu_seconds(p.pid) for p in processes) - before
        run.server_cpu = time.process_time() - own
        if os.environ.get("BENCH_DEBUG"):
            from collections import Counter

            calls = api.calls[calls_before:]
            start = calls[0].time if calls else 0
            per_second = Counter(int(c.time - start) for c in calls)
            print("  calls per second:", [per_second[i] for i in range(max(per_second, default=0) + 1)])
            print("  polls:", api.get_updates_count, "pending updates:", len(api.pending_updates))
            enq, fetched = replies.debug
            waits = sorted((fetched[i] - enq[i]) * 1000 for i in fetched if i in enq)
            if waits:
                p50, p99 = waits[len(waits) // 2], waits[int(len(waits) * 0.99)]
                print(f"  enqueue->fetched ms: p50 {p50:.1f} p99 {p99:.1f}")
    replies.arrivals = None
    return run


def report(runs: list[Run]) -> None:
    print()
    print(
        "| run | updates/s | p50 ms | p99 ms | updates measured | timeouts | bookings | mentor confirms "
        "| bot CPU ms/update | server CPU ms/update |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        per_update = r.bot_cpu / len(r.samples) * 1000 if r.samples else float("nan")
        server = r.server_cpu / len(r.samples) * 1000 if r.samples else float("nan")
        print(
            f"| {r.name} | {r.throughput():.0f} | {r.percentile(0.5):.0f} | {r.percentile(0.99):.0f} | "
            f"{len(r.measured())} | {r.timeouts} | {r.bookings} | {r.confirmed} | {per_update:.1f} | "
            f"{server:.1f} |"
        )
    for r in runs:
        checkouts = r.latencies("checkout")
        if checkouts:
            print(
                f"  {r.name}: pre-checkout answer p50 {statistics.median(checkouts):.0f} ms, "
                f"p99 {checkouts[int(0.99 * (len(checkouts) - 1))]:.0f} ms, max {checkouts[-1]:.0f} ms "
                f"over {len(checkouts)} ({r.checkouts_refused} refused)"
            )
    for r in runs:
        kinds = sorted({s.kind for s in r.measured()})
        if len(kinds) > 1:
            parts = []
            for kind in kinds:
                lat = sorted(s.latency for s in r.measured() if s.kind == kind)
                p50, p99 = statistics.median(lat), lat[int(0.99 * (len(lat) - 1))]
                parts.append(f"{kind} {p50 * 1000:.0f}/{p99 * 1000:.0f}")
            print(f"  {r.name}: p50/p99 ms by step: " + ", ".join(parts))


async def main_async(args: argparse.Namespace) -> None:
    latencies = [float(x) for x in args.latency.split(",")]
    mentors = max(1, args.users // MENTORS_SHARE)
    mentees = args.users - mentors
    mentor_ids = [FIRST_MENTOR + n for n in range(mentors)]
    mentee_ids = [FIRST_MENTEE + n for n in range(mentees)]
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores; {args.users} users "
        f"({mentees} mentees, {mentors} mentors); {args.warmup:g} s warm-up + {args.seconds:g} s measured per run"
    )
    runs: list[Run] = []
    with TemporaryDirectory(prefix="bench-flow-") as tmp:
        for latency in latencies:
            tag = f"{latency * 1000:.0f} ms"
            async with FakeBotApi(latency=latency) as api:
                api.default_timeout = REPLY_TIMEOUT
                replies = Replies(api)
                if args.only in ("all", "baseline"):
                    print(f"[{tag}] baseline ...", flush=True)
                    run = await run_echo(api, replies, args.users, args)
                    run.name = f"{tag}: {run.name}"
                    runs.append(run)
                for flow in args.flows.split(",") if args.only in ("all", "ours") else ():
                    if flow not in FLOWS:
                        raise SystemExit(f"--flows: {flow!r} is not one of {', '.join(FLOWS)}")
                    # an existing database gets one run (a second would add the same ids again): the paced one
                    for rate in (args.rate,) if args.database else (None, args.rate):
                        url = args.database or await fresh_database(args.db, Path(tmp))
                        if args.database:
                            await upgrade_to_head(url)
                        try:
                            offerings = await seed_cast(url, mentors, mentees)
                            what = "capacity" if rate is None else f"paced at {rate:g}/s"
                            backend = make_url(url).get_backend_name()
                            if args.workers:
                                what += f", {args.workers} webhook worker{'s' if args.workers > 1 else ''}"
                            name = "booking flow" if flow == "free" else f"paid booking flow ({flow})"
                            print(f"[{tag}] Mentor Desk {name}, {what} ...", flush=True)
                            runs.append(
                                await run_ours(
                                    api,
                                    replies,
                                    url,
                                    offerings,
                                    mentor_ids,
                                    mentee_ids,
                                    rate,
                                    args,
                                    f"{tag}: Mentor Desk {name} ({backend}), {what}",
                                    flow,
                                )
                            )
                        finally:
                            if not args.database:
                                await drop_database(url)
                report(runs)
    report(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--latency", default="0,0.05", help="comma-separated seconds per Bot API call")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=300.0, help="updates per second in the paced run")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--database", help="an existing database URL (e.g. filled by benchmarks.seed)")
    parser.add_argument("--only", choices=("all", "ours", "baseline"), default="all")
    parser.add_argument(
        "--flows", default="free", help="comma-separated booking flows: free, stars (Telegram Stars invoices)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="0: the bot long-polls (default); N: N webhook workers sharing one port (WEBHOOK_REUSE_PORT)",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
