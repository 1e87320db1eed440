"""Webhook delivery as Telegram does it: each pending update POSTed to the registered URL until a 2xx answer.

Updates are delivered once the registered https URL is reachable locally (:attr:`BotApiState.webhook_target`
replaces its scheme and host), with ``X-Telegram-Bot-Api-Secret-Token`` when a secret was set, at most
``max_connections`` at a time and one per chat at a time, so one chat's updates arrive in order. Failures are
recorded in ``webhook_deliveries`` and ``getWebhookInfo`` and retried with a short backoff.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse

import aiohttp

from sandbox.botapi.methods import WEBHOOK_MAX_CONNECTIONS
from sandbox.botapi.records import PendingUpdate
from sandbox.botapi.state import BotApiState
from sandbox.botapi.validation import as_int

__all__ = ["WEBHOOK_RETRY_BASE", "WEBHOOK_SECRET_HEADER", "WebhookDelivery", "update_lane"]

_LOGGER = logging.getLogger(__name__)

WEBHOOK_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_RETRY_BASE = 0.05  # seconds before the first retry of a failed delivery; doubles up to 1 s


def update_lane(update: PendingUpdate) -> object:
    """Which webhook lane an update waits for: its chat (one delivery at a time per chat), else only itself."""
    for key, body in update.payload.items():
        if key == "update_id" or not isinstance(body, dict):
            continue
        chat = body.get("chat") or (body.get("message") or {}).get("chat") or body.get("from")
        if isinstance(chat, dict) and "id" in chat:
            return ("chat", chat["id"])
    return ("update", update.update_id)


class WebhookDelivery:
    """Delivers the pending updates of ``state`` while a webhook is set and its target known."""

    def __init__(self, state: BotApiState) -> None:
        self.state = state
        self._lanes: set[object] = set()  # chats (or lone updates) with a delivery in flight
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        self._client: aiohttp.ClientSession | None = None

    def start(self) -> None:
        self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.state.default_timeout))
        self._loop = asyncio.create_task(self._run(), name="FakeBotApi:webhook")

    async def stop(self) -> None:
        """Cancel the deliveries in flight (call after ``state.closing`` is set and notified)."""
        tasks = [*self._tasks, *([self._loop] if self._loop else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop = None
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def _run(self) -> None:
        """While a webhook is set and its target known, start deliveries; event-driven like every wait here."""
        state = self.state
        while not state.closing:
            changed = state.changed
            if state.webhook is not None and state.webhook_target is not None:
                self._start_deliveries()
            await changed.wait()

    def _start_deliveries(self) -> None:
        assert self.state.webhook is not None
        limit = as_int(self.state.webhook.get("max_connections") or WEBHOOK_MAX_CONNECTIONS, "max_connections")
        for update in self.state.pending_updates:  # oldest first: a chat's next update waits for its lane
            if len(self._lanes) >= limit:
                return
            lane = update_lane(update)
            if lane in self._lanes:
                continue
            self._lanes.add(lane)
            task = asyncio.create_task(self._deliver_update(update, lane), name=f"FakeBotApi:deliver:{lane}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver_update(self, update: PendingUpdate, lane: object) -> None:
        """POST ``update`` until a 2xx answer (then it is gone) or until the webhook/target goes away."""
        state = self.state
        attempt = 0
        try:
            while self._delivery_wanted(update):
                status = await self._post_update(update)
                state.webhook_deliveries.append((update.update_id, status))
                if status is not None and 200 <= status < 300:
                    state.discard_update(update)
                    return
                state.notify()  # wakes tests waiting on webhook_deliveries
                await asyncio.sleep(min(WEBHOOK_RETRY_BASE * 2**attempt, 1.0))
                attempt += 1
        except Exception as exc:  # a server bug: report loudly
            _LOGGER.exception("FakeBotApi failed delivering update %s", update.update_id)
            state.internal_errors.append(f"webhook delivery of {update.update_id}: {exc!r}")
        finally:
            self._lanes.discard(lane)
            state.notify()

    def _delivery_wanted(self, update: PendingUpdate) -> bool:
        state = self.state
        return (
            not state.closing
            and state.webhook is not None
            and state.webhook_target is not None
            and any(u is update for u in state.pending_updates)
        )

    async def _post_update(self, update: PendingUpdate) -> int | None:
        """One delivery attempt: the HTTP status, or None without an answer (recorded as Telegram would)."""
        webhook, target = self.state.webhook, self.state.webhook_target
        assert webhook is not None and target is not None and self._client is not None
        registered = urllib.parse.urlsplit(webhook["url"])
        url = target + urllib.parse.urlunsplit(("", "", registered.path or "/", registered.query, ""))
        headers = {WEBHOOK_SECRET_HEADER: webhook["secret_token"]} if webhook.get("secret_token") else {}
        update.fetched += 1
        try:
            async with self._client.post(url, json=update.payload, headers=headers) as response:
                await response.read()
                status: int | None = response.status
                error = f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            status, error = None, f"Connection failed: {type(exc).__name__}"
        if status is None or not 200 <= status < 300:
            webhook["last_error_date"], webhook["last_error_message"] = self.state.now(), error
        return status
