"""``python -m bot --sandbox`` as a separate process, and what a sandbox keeps between runs."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from domain.clock import FixedClock
from sandbox.runtime import FIRST_ADDED_ID, Paths, running
from sandbox.web import WebChat
from tests.sandbox.conftest import MAYA, NOW, TIMEOUT, EventStream, Page

ROOT = Path(__file__).resolve().parents[2]
STARTED = "Mentor Desk sandbox: open "


def sandbox_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "TELEGRAM_API_URL", "DATABASE_URL")}
    env.update(PYTHONPATH=str(ROOT), **overrides)
    return env


async def start(cwd: Path, *args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, env=env or sandbox_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def url_of(process: asyncio.subprocess.Process) -> str:
    """The address the sandbox prints once it is ready."""
    assert process.stdout is not None
    async with asyncio.timeout(60):
        while True:
            line = (await process.stdout.readline()).decode()
            assert line, "the sandbox ended before it was ready"
            if line.startswith(STARTED):
                return line[len(STARTED) :].split()[0]


@asynccontextmanager
async def trap() -> AsyncIterator[list[str]]:
    """A server that records every request: where a token's Telegram would be."""
    requests: list[str] = []

    async def record(request: web.Request) -> web.Response:
        requests.append(f"{request.method} {request.path_qs}")
        return web.json_response({"ok": False}, status=500)

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    requests.append(f"http://127.0.0.1:{runner.addresses[0][1]}")  # the first entry is the address itself
    try:
        yield requests
    finally:
        await runner.cleanup()


async def test_the_sandbox_runs_without_a_token_and_never_calls_telegram_even_with_one_set(tmp_path: Path) -> None:
    async with trap() as requests:
        address = requests[0]
        env = sandbox_env(
            BOT_TOKEN="123456:ABCdefGHIjklMNOpqrSTUvwxYZ", TELEGRAM_API_URL=address,
            HTTP_PROXY=address, HTTPS_PROXY=address,
        )  # fmt: skip
        process = await start(tmp_path, "--sandbox", "--port", "0", env=env)
        try:
            url = await url_of(process)
            assert url.startswith("http://127.0.0.1:")
            async with aiohttp.ClientSession() as session:
                page = Page(session, url)
                async with session.get(url + "/api/events") as response:
                    events = EventStream(response)
                    await events.next(lambda e: e["type"] == "hello", timeout=60)
                    await page.send(MAYA, "/start")
                    await events.bot_message(MAYA, "What would you like to do?")
        finally:
            process.send_signal(signal.SIGTERM)
            _out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()
        assert requests == [address]  # nothing reached the token's Bot API
    assert (tmp_path / "data" / "sandbox.sqlite3").is_file()


async def test_a_port_in_use_gives_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await start(tmp_path, "--sandbox", "--port", str(port), "--reset")
        _out, err = await asyncio.wait_for(process.communicate(), 60)
    lines = err.decode().strip().splitlines()
    assert process.returncode == 1
    assert lines == [
        f"mentor-desk sandbox: port {port} is already in use on 127.0.0.1; stop what runs there or "
        f"choose another with --port"
    ]
    assert not (tmp_path / "data").exists()  # nothing touched, --reset included


async def test_sandbox_options_need_sandbox(tmp_path: Path) -> None:
    process = await start(tmp_path, "--port", "9000")
    _out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "--port, --host and --reset go with --sandbox" in err.decode()


async def test_a_sandbox_keeps_its_people_clock_and_data_until_reset(tmp_path: Path) -> None:
    paths = Paths.in_directory(tmp_path / "data")

    @asynccontextmanager
    async def sandbox_page(reset: bool = False) -> AsyncIterator[Page]:
        async with (
            running(
                paths, port=0, reset=reset, routes=lambda s: WebChat(s).routes(), time_source=FixedClock(NOW)
            ) as sandbox,
            aiohttp.ClientSession() as session,
        ):
            yield Page(session, sandbox.api.url)
            await sandbox.api.wait_idle(timeout=TIMEOUT)

    async with sandbox_page() as page:
        added = await page.post("/api/people", {"name": "Lena", "language": "en", "zone": "Europe/Berlin"})
        assert added["id"] == FIRST_ADDED_ID
        await page.travel("day")
        await page.send(MAYA, "/start")
    async with sandbox_page() as page:
        state = await page.get("/api/state")
        assert FIRST_ADDED_ID in [p["id"] for p in state["people"]]
        assert state["clock"]["offset_seconds"] == timedelta(days=1).total_seconds()
        assert (await page.chat(MAYA))["messages"] == []  # chats live while the sandbox runs
    async with sandbox_page(reset=True) as page:
        state = await page.get("/api/state")
        assert FIRST_ADDED_ID not in [p["id"] for p in state["people"]]
        assert state["clock"]["offset_seconds"] == 0
