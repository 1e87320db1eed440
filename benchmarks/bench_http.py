"""Benchmark python-telegram-bot's request backends: many concurrent ``send_message`` calls, calls/s and latency.

Run with ``.venv/bin/python -m benchmarks.bench_http`` (under two minutes); options: ``--latency 0,0.05``
(seconds the server adds to every call, standing in for Telegram's round trip), ``--concurrency 256`` (calls in
flight), ``--calls 3000`` (per run), ``--max-seconds 8`` (a run stops early after this long: stock httpx can be
that slow), ``--only aiohttp``.

Backends, each a ``telegram.Bot`` with that request object:

* **httpx default**: ``HTTPXRequest()``, what ``ApplicationBuilder`` builds (pool of 256 connections).
* **httpx tuned**: the same, but httpx may keep all 256 connections alive (PTB >= 22.4 sets only
  ``max_connections``, so httpx's default of 20 keep-alive connections applies and every other request opens and
  closes a TCP connection) and a longer pool timeout.
* **aiohttp**: ``bot.http.AiohttpRequest`` (pool of 256), the project's backend.

Method. The Bot API-compatible server from ``sandbox.botapi`` runs in a separate OS process (started
fresh for every run, with the chats already known to it), so it does not take the client's core. A run first
makes one round of ``--concurrency`` calls (opening the connections; not measured), then ``--concurrency``
workers send messages back to back until ``--calls`` are done. Latency is per call, as the caller of
``bot.send_message`` sees it. Every call must succeed; failures are counted by exception type. CPU per call
(client: this process; server: the server process, from ``/proc``) is measured over the same window: on a busy
machine it is steadier than calls/s, and it shows which side is the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from telegram import Bot
from telegram.error import TelegramError
from telegram.request import BaseRequest, HTTPXRequest

from bot.http import AiohttpRequest
from sandbox.botapi import DEFAULT_TOKEN, FakeBotApi

FIRST_CHAT = 5_000_000
CHATS = 1_000
SERVER_START_TIMEOUT = 20.0


def httpx_default() -> BaseRequest:
    return HTTPXRequest()


def httpx_tuned() -> BaseRequest:
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256, keepalive_expiry=30.0)
    return HTTPXRequest(connection_pool_size=256, pool_timeout=10.0, httpx_kwargs={"limits": limits})


def aiohttp_request() -> BaseRequest:
    return AiohttpRequest(connection_pool_size=256)


BACKENDS: dict[str, Callable[[], BaseRequest]] = {
    "httpx default": httpx_default,
    "httpx tuned": httpx_tuned,
    "aiohttp": aiohttp_request,
}


# --- the server process -------------------------------------------------------------------------------------


async def serve(latency: float) -> None:
    """The fake Bot API with ``CHATS`` started chats; prints its URL, runs until stdin closes."""
    async with FakeBotApi(latency=latency) as api:
        for chat in range(FIRST_CHAT, FIRST_CHAT + CHATS):
            api.user(chat, started=True)  # the server refuses messages to chats that never contacted the bot
        print(api.url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


class ServerProcess:
    """``python -m benchmarks.bench_http --serve``: started, its URL read, stopped by closing its stdin."""

    def __init__(self, latency: float) -> None:
        command = [sys.executable, "-m", "benchmarks.bench_http", "--serve", "--latency", str(latency)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ}
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.stop()
            raise RuntimeError("the fake Bot API server did not start")

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (Linux ``/proc``; NaN elsewhere)."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()  # our own child, by its handle
            self.process.wait()


# --- the load -----------------------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    latency: float
    durations: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    client_cpu: float = 0.0  # seconds of this process's CPU during the measured window
    server_cpu: float = 0.0

    def cpu_per_call_ms(self, seconds: float) -> float:
        return seconds / len(self.durations) * 1000 if self.durations else float("nan")

    @property
    def rate(self) -> float:
        return len(self.durations) / self.elapsed if self.elapsed else 0.0

    def percentile(self, share: float) -> float:
        if len(self.durations) < 2:
            return float("nan")
        return statistics.quantiles(self.durations, n=100, method="inclusive")[round(share * 100) - 1]


async def send(bot: Bot, chat: int, text: str, result: Result) -> None:
    started = time.perf_counter()
    try:
        await bot.send_message(chat, text)
    except TelegramError as exc:
        result.errors[type(exc).__name__] += 1
    else:
        result.durations.append(time.perf_counter() - started)


async def load(bot: Bot, result: Result, *, concurrency: int, calls: int, max_seconds: float) -> None:
    """``concurrency`` workers sending back to back until ``calls`` are done (or ``max_seconds`` passed)."""
    numbers = itertools.count()
    deadline = time.perf_counter() + max_seconds

    async def worker() -> None:
        while time.perf_counter() < deadline and (n := next(numbers)) < calls:
            await send(bot, FIRST_CHAT + n % CHATS, f"message {n}", result)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started


async def run(backend: str, server: ServerProcess, latency: float, args: argparse.Namespace) -> Result:
    url = server.url
    bot = Bot(DEFAULT_TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot", request=BACKENDS[backend]())
    async with bot:
        warm_up = Result(backend, latency)
        await asyncio.gather(*(send(bot, FIRST_CHAT + n, "warm-up", warm_up) for n in range(args.concurrency)))
        result = Result(backend, latency)
        client_cpu, server_cpu = time.process_time(), server.cpu_seconds()
        await load(bot, result, concurrency=args.concurrency, calls=args.calls, max_seconds=args.max_seconds)
        result.client_cpu = time.process_time() - client_cpu
        result.server_cpu = server.cpu_seconds() - server_cpu
    return result


def table(results: list[Result]) -> str:
    lines = [
        "| backend | server latency | calls | calls/s | p50 ms | p99 ms | client CPU ms/call "
        "| server CPU ms/call | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        errors = ", ".join(f"{name} {count}" for name, count in r.errors.items()) or "0"
        lines.append(
            f"| {r.backend} | {r.latency * 1000:.0f} ms | {len(r.durations)} | {r.rate:,.0f} "
            f"| {r.percentile(0.5) * 1000:.1f} | {r.percentile(0.99) * 1000:.1f} "
            f"| {r.cpu_per_call_ms(r.client_cpu):.2f} | {r.cpu_per_call_ms(r.server_cpu):.2f} | {errors} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--latency", default="0,0.05", help="comma-separated seconds per call on the server")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--max-seconds", type=float, default=8.0)
    parser.add_argument("--only", choices=sorted(BACKENDS), action="append")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the server process
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(float(args.latency)))
        return
    if args.concurrency > CHATS:
        parser.error(f"--concurrency is at most {CHATS} (one chat per warm-up call)")

    results = []
    for latency in (float(value) for value in args.latency.split(",")):
        for backend in args.only or list(BACKENDS):
            server = ServerProcess(latency)
            try:
                result = asyncio.run(run(backend, server, latency, args))
            finally:
                server.stop()
            results.append(result)
            print(f"{backend}, {latency * 1000:.0f} ms: {result.rate:,.0f} calls/s", file=sys.stderr, flush=True)
    print(table(results))


if __name__ == "__main__":
    main()
