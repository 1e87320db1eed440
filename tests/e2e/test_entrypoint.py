"""``python -m bot`` as a separate process: a bad setting stops it with one line; a good one serves users."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.harness.fake_bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parents[2]


def bot_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL", "TELEGRAM_API_URL")}
    env.update(overrides)
    return env


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({}, "BOT_TOKEN"),
        ({"BOT_TOKEN": "123:short"}, "BOT_TOKEN"),
        ({"BOT_TOKEN": "123456:ABCdefGHIjklMNOpqrSTUvwxYZ", "DEFAULT_TIMEZONE": "Nowhere/City"}, "DEFAULT_TIMEZONE"),
    ],
)
async def test_a_bad_setting_stops_start_up_with_one_clear_line(tmp_path: Path, overrides, named) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=bot_env(PYTHONPATH=str(ROOT), **overrides),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    assert len(lines) == 1 and named in lines[0] and "Traceback" not in lines[0], lines


async def test_python_m_bot_migrates_a_new_sqlite_file_and_answers(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        env = bot_env(PYTHONPATH=str(ROOT), BOT_TOKEN=api.token, TELEGRAM_API_URL=api.url)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
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
