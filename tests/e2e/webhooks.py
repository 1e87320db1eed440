"""Helpers for the tests that run the bot in webhook mode (in-process, ``python -m bot``, several workers)."""

from __future__ import annotations

import asyncio
import socket

import aiohttp


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def wait_until_healthy(url: str, timeout: float = 30.0) -> dict:
    """GET /healthz until it answers 200 (the server starts after migrations); returns its JSON."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(timeout):
        while True:
            try:
                async with http.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return await response.json()
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
