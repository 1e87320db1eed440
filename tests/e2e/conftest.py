"""End-to-end fixtures: the real bot (``bot.app.build_application``) over HTTP against the fake Bot API server.

``bot_runner`` starts and stops bot processes (several at once, or one after another for restart tests) on one
database, with a fixed clock so that the times offered are predictable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.app import build_application
from bot.config import Settings
from domain.clock import FixedClock
from sandbox.botapi import FakeBotApi
from tests.dbutil import drop_database, fresh_database

# A Tuesday morning: Wednesday 25 Nov is the first day outside the default 24-hour notice.
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


class BotRunner:
    def __init__(self, api: FakeBotApi, database_url: str, clock: FixedClock) -> None:
        self.api = api
        self.database_url = database_url
        self.clock = clock

    def settings(self, **changes: Any) -> Settings:
        """The bot's settings for this server and database, with ``changes`` (e.g. ``public_url=...``)."""
        return Settings(
            bot_token=self.api.token, database_url=self.database_url, telegram_api_url=self.api.url, **changes
        )

    @asynccontextmanager
    async def running(self, **changes: Any) -> AsyncIterator[Application]:
        """One bot process: start-up (migrations, command menu), long polling, clean shutdown."""
        application = build_application(self.settings(**changes), clock=self.clock, rate_limit=False)
        async with self.api.running(application) as app:
            await app.post_init(app)
            try:
                yield app
            finally:
                await self.api.wait_idle()
                if app.post_stop is not None:  # as run_polling does: the dispatcher finishes its sends
                    await app.post_stop(app)
        assert application.post_shutdown is not None  # build_application sets it
        await application.post_shutdown(application)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server
        server.assert_callbacks_answered_once()
        server.assert_no_errors()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(params=["sqlite"])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def database_url(db_kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database at the head revision (the bot's start-up migration then finds nothing to do; start-up on an
    empty database: ``test_entrypoint.py``)."""
    url = await fresh_database(db_kind, tmp_path)
    try:
        yield url
    finally:
        await drop_database(url)


@pytest.fixture
def runner(api: FakeBotApi, database_url: str, clock: FixedClock) -> BotRunner:
    return BotRunner(api, database_url, clock)


@pytest.fixture
async def bot(runner: BotRunner) -> AsyncIterator[Application]:
    async with runner.running() as app:
        yield app
