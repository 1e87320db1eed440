"""The sandbox in the test's event loop, at a known moment, with a client that calls it as the page does.

``sandbox`` runs ``sandbox.runtime.running`` - the production bot, the embedded server, the web chat - on a free
port in a temporary directory; its time starts at ``NOW`` and moves only by time travel. ``page`` is a client of
the web chat's JSON API and event stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from domain.clock import FixedClock
from sandbox.runtime import Paths, Sandbox, running
from sandbox.web import WebChat

# A Tuesday, 11:30 in Kolkata: every demo mentor has free times within the week.
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
MAYA, ARJUN, SOFIA = 7201, 7202, 7203  # demo mentees
ANANYA, RAHUL, EMMA, DIEGO = 7101, 7102, 7103, 7104  # demo mentors
TIMEOUT = 10.0


class EventStream:
    """The page's live events (``GET /api/events``), read as they come; each event is taken by one wait."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.waiting: list[dict[str, Any]] = []  # received, not yet taken by a wait

    async def next(self, match: Callable[[dict[str, Any]], bool], timeout: float = TIMEOUT) -> dict[str, Any]:
        """The earliest event not taken yet that matches ``match``, waiting for it if need be."""
        for event in self.waiting:
            if match(event):
                self.waiting.remove(event)
                return event
        async with asyncio.timeout(timeout):
            while True:
                line = await self.response.content.readline()
                if not line:
                    raise AssertionError(f"the event stream ended; not taken: {self.waiting}")
                if not line.startswith(b"data: "):
                    continue
                event = json.loads(line[len(b"data: ") :])
                if match(event):
                    return event
                self.waiting.append(event)

    async def bot_message(self, chat_id: int, text: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next message the bot sends or edits in ``chat_id`` containing ``text``."""
        event = await self.next(
            lambda e: (
                e["type"] == "message"
                and e["chat_id"] == chat_id
                and e["event"] in ("sent", "edited")
                and e["message"]["from_bot"]
                and text in e["message"]["text"]
            ),
            timeout,
        )
        return event["message"]


class Page:
    """Calls the web chat's API as ``static/app.js`` does."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url

    async def get(self, path: str) -> Any:
        async with self.session.get(self.url + path) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def post(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        async with self.session.post(self.url + path, json=body) as response:
            assert response.status == status, await response.text()
            return await response.json()

    async def chat(self, person: int) -> dict[str, Any]:
        return await self.get(f"/api/chats/{person}")

    async def send(self, person: int, text: str) -> None:
        await self.post(f"/api/chats/{person}/messages", {"text": text})

    async def press(self, person: int, label: str) -> str:
        """Press the button labelled ``label`` on the newest message that has it; returns the query id."""
        for message in reversed((await self.chat(person))["messages"]):
            for row in message.get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        body = {"message_id": message["id"], "data": button["data"]}
                        return (await self.post(f"/api/chats/{person}/press", body))["query_id"]
        raise AssertionError(f"no button {label!r} in the chat of {person}")

    async def buttons(self, person: int) -> list[str]:
        """The labels of the newest inline keyboard in the chat."""
        for message in reversed((await self.chat(person))["messages"]):
            if message.get("inline_keyboard"):
                return [b["text"] for row in message["inline_keyboard"] for b in row]
        return []

    async def travel(self, by: str) -> dict[str, Any]:
        return await self.post("/api/clock", {"by": by})


async def _events(page: Page) -> AsyncIterator[EventStream]:
    async with page.session.get(page.url + "/api/events") as response:
        assert response.status == 200
        stream = EventStream(response)
        await stream.next(lambda e: e["type"] == "hello")
        yield stream


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with running(
        Paths.in_directory(tmp_path / "data"),
        port=0,
        routes=lambda s: WebChat(s).routes(),
        time_source=FixedClock(NOW),
    ) as started:
        yield started
        await started.api.wait_idle(timeout=TIMEOUT)
        started.api.assert_callbacks_answered_once()
        started.api.assert_no_errors()


@pytest.fixture
async def page(sandbox: Sandbox) -> AsyncIterator[Page]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield Page(session, sandbox.api.url)


@pytest.fixture
async def events(page: Page) -> AsyncIterator[EventStream]:
    async for stream in _events(page):
        yield stream
