"""``python -m bot`` as a separate process: a bad setting stops it with one line; a good one serves users."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from bot.config import derive_webhook_secret
from sandbox.botapi import FakeBotApi
from tests.e2e.webhooks import free_port, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]
# settings of the bot: a developer's own environment must not leak into these runs
_OURS = (
    "BOT_TOKEN",
    "DATABASE_URL",
    "TELEGRAM_API_URL",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_LISTEN",
    "PORT",
)


def bot_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _OURS}
    env.update(overrides)
    return env


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({}, "BOT_TOKEN"),
        ({"BOT_TOKEN": "123:short"}, "BOT_TOKEN"),
        (
            {"BOT_TOKEN": "123456:ABCdefGHIjklMNOpqrSTUvwxYZ", "DEFAULT_TIMEZONE": "Nowhere/City"},
            "DEFAULT_TIMEZONE",
        ),
    ],
)
async def test_a_bad_setting_stops_start_up_with_one_clear_line(tmp_path: Path, overrides, named) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=bot_env(PYTHONPATH=str(ROOT), **overrides),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    assert len(lines) == 1 and named in lines[0] and "Traceback" not in lines[0], lines


TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ"


async def failed_start(tmp_path: Path, **overrides: str) -> tuple[int | None, list[str]]:
    """Run ``python -m bot`` until it gives up; its exit status and its stderr lines."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=bot_env(PYTHONPATH=str(ROOT), **overrides),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, stderr.decode().strip().splitlines()


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_an_unreachable_bot_api_stops_start_up_with_one_line(tmp_path: Path, mode: str) -> None:
    closed = free_port()  # nothing listens there
    webhook = dict(WEBHOOK_URL="https://bot.example.test/tg", PORT=str(free_port()), WEBHOOK_LISTEN="127.0.0.1")
    status, lines = await failed_start(
        tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=f"http://md:api-pw@127.0.0.1:{closed}",
        **(webhook if mode == "webhook" else {}),
    )  # fmt: skip
    assert status == 1
    assert lines == [
        f"mentor-desk: cannot reach the Telegram Bot API at 127.0.0.1:{closed} (Connection refused): "
        "check TELEGRAM_API_URL and this machine's network (DNS, proxy, firewall)"
    ]


async def test_an_unreachable_database_stops_start_up_with_one_line(tmp_path: Path) -> None:
    closed = free_port()
    async with FakeBotApi() as api:  # Telegram answers: only the database is missing
        status, lines = await failed_start(
            tmp_path, BOT_TOKEN=api.token, TELEGRAM_API_URL=api.url,
            DATABASE_URL=f"postgresql://md:db-pw@127.0.0.1:{closed}/mentordesk",
        )  # fmt: skip
    assert status == 1
    assert lines == [
        f"mentor-desk: cannot reach the database at 127.0.0.1:{closed}/mentordesk (Connection refused): "
        "check DATABASE_URL, and that the database server is running and lets this user in"
    ]


async def test_a_rejected_token_stops_start_up_with_one_line_that_does_not_show_it(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        host = api.url.removeprefix("http://")
        status, lines = await failed_start(tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.url)
    assert status == 1
    assert lines == [
        f"mentor-desk: the Telegram Bot API at {host} rejected BOT_TOKEN: check the token with @BotFather"
    ]


async def test_python_m_bot_migrates_a_new_sqlite_file_and_answers(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        env = bot_env(PYTHONPATH=str(ROOT), BOT_TOKEN=api.token, TELEGRAM_API_URL=api.url)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            user = api.user(7, "Kiran")
            await user.send("/start")
            await user.wait_for("Which time zone are you in?", timeout=60)
            assert (tmp_path / "data" / "mentor_desk.sqlite3").is_file()  # the default database, created
            assert [c["command"] for c in api.commands()][:1] == ["book"]
        finally:
            process.send_signal(signal.SIGINT)
            output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, output.decode()[-2000:]
        assert b"Traceback" not in output, output.decode()[-2000:]


async def test_python_m_bot_in_webhook_mode_serves_health_and_updates_and_stops_on_sigterm(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        port = free_port()
        env = bot_env(
            PYTHONPATH=str(ROOT), BOT_TOKEN=api.token, TELEGRAM_API_URL=api.url,
            WEBHOOK_URL="https://bot.example.test/tg", PORT=str(port), WEBHOOK_LISTEN="127.0.0.1",
        )  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            health = await wait_until_healthy(base, timeout=60)
            assert health == {"status": "ok", "database": "ok", "dispatcher": "leader"}
            await api.wait_until(lambda: api.webhook, 10, lambda: "setWebhook was never called")
            assert api.webhook is not None
            assert api.webhook["url"] == "https://bot.example.test/tg"
            assert api.webhook["secret_token"] == derive_webhook_secret(api.token)  # no WEBHOOK_SECRET: derived
            api.webhook_target = base
            user = api.user(7, "Kiran")
            await user.send("/start")
            await user.wait_for("Which time zone are you in?", timeout=60)
            await api.wait_until(lambda: api.webhook_deliveries, 10, lambda: "the delivery was never answered")
            assert api.get_updates_count == 0 and [s for _, s in api.webhook_deliveries] == [200]
        finally:
            process.send_signal(signal.SIGTERM)
            stopping = time.monotonic()
            output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, output.decode()[-2000:]
        assert time.monotonic() - stopping < 10, output.decode()[-2000:]
        assert b"Traceback" not in output, output.decode()[-2000:]
        assert api.webhook is not None  # still registered: other workers serve it
