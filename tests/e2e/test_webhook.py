"""Webhook mode end to end: the real bot behind ``bot.web`` gets its updates POSTed by the fake Bot API.

The fake API delivers to the bot's server like Telegram does (secret header, one update per chat at a time,
retry until 2xx); the test also plays an attacker who found the URL, and a load balancer asking ``/healthz``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from telegram.ext import ApplicationBuilder

from bot.app import build_application
from bot.config import Settings, derive_webhook_secret
from bot.lifecycle import StartupError
from bot.web import (
    MAX_UPDATE_BYTES,
    SECRET_HEADER,
    WEBHOOK_MAX_CONNECTIONS,
    create_web_app,
    database_problem,
    ensure_webhook,
    run_webhook,
)
from sandbox.botapi import FakeBotApi
from storage.engine import create_engine
from tests.e2e.conftest import BotRunner
from tests.e2e.flows import become_mentor_with_offering, onboard, open_first_date, pick_time_and_skip_notes
from tests.e2e.webhooks import free_port, wait_until_healthy

WEBHOOK_URL = "https://bot.example.test/tg/hook"
SECRET = "test-secret_0123456789"


@dataclass
class WebhookBot:
    url: str  # http://127.0.0.1:<port>, where the webhook server listens
    settings: Settings

    @property
    def hook(self) -> str:
        return self.url + self.settings.webhook_path


def webhook_settings(runner: BotRunner, port: int, reuse_port: bool = False) -> Settings:
    """The runner's settings for webhook mode on 127.0.0.1:``port``."""
    return runner.settings().replace(
        webhook_url=WEBHOOK_URL,
        webhook_secret=SECRET,
        port=port,
        webhook_listen="127.0.0.1",
        webhook_reuse_port=reuse_port,
    )


@asynccontextmanager
async def webhook_bot(
    runner: BotRunner, port: int | None = None, reuse_port: bool = False
) -> AsyncIterator[WebhookBot]:
    """The bot in webhook mode (``run_webhook``, as ``python -m bot`` runs it), stopped cleanly on exit."""
    api, port = runner.api, port or free_port()
    settings = webhook_settings(runner, port, reuse_port)
    application = build_application(settings, clock=runner.clock, rate_limit=False)
    api.attach(application)  # wait_idle also waits for the updates the server put on the queue
    stop = asyncio.Event()
    serving = asyncio.create_task(run_webhook(application, settings, stop))
    try:
        bot = WebhookBot(f"http://127.0.0.1:{port}", settings)
        await wait_until_healthy(bot.url)
        await api.wait_until(lambda: api.webhook is not None, 5, lambda: "setWebhook was never called")
        api.webhook_target = bot.url
        yield bot
        await api.wait_idle()
    finally:
        stop.set()
        await asyncio.wait_for(serving, 30)
        api.detach(application)
    assert not application.running


@pytest.fixture
async def webhook(runner: BotRunner) -> AsyncIterator[WebhookBot]:
    async with webhook_bot(runner) as bot:
        yield bot


async def book_one_session(api: FakeBotApi) -> None:
    """A mentor publishes an offering; a mentee books it, and the mentor hears of it."""
    mentor = api.user(101, "Asha", username="asha")
    mentee = api.user(202, "Ravi", username="ravi")
    await become_mentor_with_offering(api, mentor)
    await onboard(api, mentee)
    await open_first_date(api, mentee)
    await pick_time_and_skip_notes(api, mentee)
    await mentee.press("✅ Confirm booking")
    await mentee.wait_for("Request sent")
    await mentor.wait_for("New booking request")


async def test_a_mentee_books_through_webhook_deliveries(api: FakeBotApi, webhook: WebhookBot) -> None:
    assert api.webhook is not None
    assert api.webhook == {
        "url": WEBHOOK_URL, "secret_token": SECRET, "allowed_updates": api.webhook["allowed_updates"],
        "max_connections": WEBHOOK_MAX_CONNECTIONS,
    }  # fmt: skip
    assert WEBHOOK_MAX_CONNECTIONS == 100  # Telegram's most (its default, 40, would cap throughput)
    assert "callback_query" in api.webhook["allowed_updates"]
    await book_one_session(api)
    await api.wait_idle()

    assert api.get_updates_count == 0  # every update came by webhook, none by polling
    delivered = [update_id for update_id, status in api.webhook_deliveries if status == 200]
    assert len(delivered) == len(set(delivered)) > 10 and len(delivered) == len(api.webhook_deliveries)
    assert api.callback_queries and not api.unanswered_callbacks()


async def post_update(url: str, update: dict, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as http, http.post(url, json=update, headers=headers) as response:
        return response.status


def start_update(api: FakeBotApi, user_id: int, update_id: int) -> dict:
    """A /start message from a new user, as Telegram would POST it (not enqueued in the fake API)."""
    user = api.user(user_id, "Mallory")
    user.started = True
    sender = user.to_api()
    message = {
        "message_id": 1, "from": sender, "chat": user.chat_json(), "date": int(time.time()), "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }  # fmt: skip
    return {"update_id": update_id, "message": message}


async def test_requests_without_the_secret_are_refused_and_do_nothing(
    api: FakeBotApi, webhook: WebhookBot
) -> None:
    update = start_update(api, 666, 900_001)
    for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}, {SECRET_HEADER: "ünïcode"}):
        assert await post_update(webhook.hook, update, headers) == 403
    oversized = {**update, "padding": "x" * MAX_UPDATE_BYTES}
    assert await post_update(webhook.hook, oversized, {}) == 403  # the secret is checked before the body is read
    await api.wait_idle()
    assert api.chat(666) == [] and api.calls_to("sendMessage") == []  # the bot did nothing

    # the same update with the secret: handled, so the refusals above were real
    assert await post_update(webhook.hook, update, {SECRET_HEADER: SECRET}) == 200
    answer = await api.user(666).wait_for("Which time zone are you in?", since=0)
    assert answer.chat_id == 666


async def test_bad_bodies_are_rejected_before_the_queue(api: FakeBotApi, webhook: WebhookBot) -> None:
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        async with http.post(webhook.hook, data=b"{not json", headers=headers) as response:
            assert response.status == 400
        async with http.post(webhook.hook, data=b"[1, 2]", headers=headers) as response:
            assert response.status == 400
        body = json.dumps({"update_id": 5, "padding": "x" * MAX_UPDATE_BYTES}).encode()
        async with http.post(webhook.hook, data=body, headers=headers) as response:
            assert response.status == 413
        async with http.get(webhook.hook) as response:
            assert response.status == 405  # only POST on the webhook path
    await api.wait_idle()
    assert api.calls_to("sendMessage") == []


async def raw_request(bot: WebhookBot, head: bytes, body: bytes = b"") -> int:
    """Send bytes no HTTP client would (``head``: the request line and headers) and return the status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", int(bot.url.rsplit(":", 1)[1]))
    try:
        path = bot.settings.webhook_path.encode()
        writer.write(b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + head)
        writer.write(b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        await writer.drain()
        return int((await reader.readline()).split()[1])
    finally:
        writer.close()
        await writer.wait_closed()


def loud_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What an operator would see as a failure: errors, and any record with a traceback."""
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info or r.exc_text]


def warnings_from(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


async def test_a_secret_header_that_is_not_utf8_is_refused(
    api: FakeBotApi, webhook: WebhookBot, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps(start_update(api, 666, 900_002)).encode()
    for secret in (b"\xff\xfe", SECRET.encode() + b"\xc3", b"\xed\xa0\x80"):  # no valid UTF-8 in any of them
        assert await raw_request(webhook, SECRET_HEADER.encode() + b": " + secret + b"\r\n", body) == 403
    await api.wait_idle()
    assert api.chat(666) == [] and loud_records(caplog) == []


def nested_replies(depth: int) -> bytes:
    """An update whose message replies to a message that replies to ... ``depth`` times: valid JSON, but deeper
    than PTB can build objects for (Telegram never nests replies: a replied-to message carries no reply)."""
    chat = b'"chat": {"id": 1, "type": "private"}'
    head = b'{"message_id": 1, "date": 0, ' + chat + b', "reply_to_message": '
    tail = b'{"message_id": 1, "date": 0, ' + chat + b"}"
    return b'{"update_id": 7, "message": ' + head * depth + tail + b"}" * depth + b"}"


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"update_id": 7, "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
     nested_replies(700)],
    ids=["nested-array", "nested-field", "nested-replies"],
)  # fmt: skip
async def test_deeply_nested_json_is_a_bad_request(
    api: FakeBotApi, webhook: WebhookBot, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http, http.post(webhook.hook, data=body, headers=headers) as response:
        assert response.status == 400
    await api.wait_idle()
    assert api.calls_to("sendMessage") == [] and loud_records(caplog) == []


def without_chat(update: dict, kind: str) -> dict:
    """``update`` (a /start message) with its message moved to ``kind`` and the message's chat taken away."""
    message = update.pop("message")
    del message["chat"]
    if kind == "callback_query":
        sender = message["from"]
        update[kind] = {"id": "1", "from": sender, "chat_instance": "1", "data": "x", "message": message}
    else:
        update[kind] = message
    return update


@pytest.mark.parametrize("kind", ["message", "edited_message", "callback_query"])
async def test_a_message_without_a_chat_is_dropped_with_one_warning(
    api: FakeBotApi, webhook: WebhookBot, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    update = without_chat(start_update(api, 666, 900_003), kind)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert await post_update(webhook.hook, update, {SECRET_HEADER: SECRET}) == 400
        await api.wait_idle()
    assert api.chat(666) == [] and api.calls_to("sendMessage") == []
    assert loud_records(caplog) == []
    assert warnings_from(caplog) == ["webhook: dropped update 900003: its message has no chat"]


async def test_an_oversized_header_is_a_quiet_client_error(
    api: FakeBotApi, webhook: WebhookBot, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps(start_update(api, 666, 900_004)).encode()
    secret = SECRET_HEADER.encode() + b": " + SECRET.encode() + b"\r\n"
    for padding in (b"X-Padding: " + b"x" * 10_000, b"X" * 10_000 + b": x"):  # a long value, then a long name
        assert 400 <= await raw_request(webhook, secret + padding + b"\r\n", body) < 500
    await api.wait_idle()
    assert api.chat(666) == [] and loud_records(caplog) == []
    refusals = [m for m in warnings_from(caplog) if m.startswith("webhook: refused a malformed request")]
    assert len(refusals) == 2 and not any("\n" in m for m in refusals)  # one line each


async def test_healthz_is_ok_while_the_database_answers(webhook: WebhookBot) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{webhook.url}/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "database": "ok", "dispatcher": "leader"}


@asynccontextmanager
async def health_server(api: FakeBotApi, database_url: str) -> AsyncIterator[str]:
    """Only the web app (no bot running) with an engine for ``database_url``; yields its base URL."""
    application = api.configure(ApplicationBuilder()).build()
    engine = create_engine(database_url)
    application.bot_data["engine"] = engine
    settings = Settings(bot_token=api.token, webhook_url=WEBHOOK_URL)
    runner = web.AppRunner(create_web_app(application, settings), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
        await engine.dispose()


async def test_healthz_is_503_when_the_database_cannot_be_reached(api: FakeBotApi) -> None:
    closed = free_port()  # nothing listens there
    async with health_server(api, f"postgresql+asyncpg://md:secret-pw@127.0.0.1:{closed}/md") as url:
        started = time.monotonic()
        async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
            body = await response.json()
        assert response.status == 503 and time.monotonic() - started < 3
    assert body["status"] == "unavailable" and body["database"].startswith("unavailable (")
    assert "secret-pw" not in json.dumps(body) and str(closed) not in json.dumps(body)


async def test_a_database_that_never_answers_times_out() -> None:
    async def accept_and_stay_silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up

    server = await asyncio.start_server(accept_and_stay_silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    engine = create_engine(f"postgresql+asyncpg://md@127.0.0.1:{port}/md")
    try:
        started = time.monotonic()
        assert await database_problem(engine, timeout=0.3) == "no answer within 0.3 s"
        assert time.monotonic() - started < 2
    finally:
        await engine.dispose()
        server.close()
        await server.wait_closed()


async def test_workers_sharing_a_url_register_the_webhook_once(api: FakeBotApi) -> None:
    settings = Settings(bot_token=api.token, webhook_url=WEBHOOK_URL)
    workers = [api.configure(ApplicationBuilder()).build() for _ in range(3)]
    for worker in workers:
        await worker.initialize()
    try:
        assert [await ensure_webhook(worker, settings) for worker in workers] == [True, False, False]
        assert len(api.calls_to("setWebhook")) == 1
        assert api.webhook is not None
        assert api.webhook["secret_token"] == derive_webhook_secret(api.token)
        moved = settings.replace(webhook_url=WEBHOOK_URL + "/v2")  # e.g. to roll out a new secret
        assert await ensure_webhook(workers[0], moved) is True
        assert api.webhook["url"] == WEBHOOK_URL + "/v2" and len(api.calls_to("setWebhook")) == 2
    finally:
        for worker in workers:
            await worker.shutdown()


async def test_two_workers_serve_one_port_with_reuse_port(api: FakeBotApi, runner: BotRunner) -> None:
    port = free_port()
    async with webhook_bot(runner, port, reuse_port=True) as first, webhook_bot(runner, port, reuse_port=True):
        await book_one_session(api)
        assert first.url == f"http://127.0.0.1:{port}"
    assert api.webhook_deliveries and all(status == 200 for _id, status in api.webhook_deliveries)


async def test_without_reuse_port_a_second_worker_cannot_take_the_port(runner: BotRunner) -> None:
    port = free_port()
    async with webhook_bot(runner, port):
        settings = webhook_settings(runner, port)
        second = build_application(settings, clock=runner.clock, rate_limit=False)
        in_use = f"cannot listen on 127.0.0.1:{port} \\(Address already in use\\): check PORT and WEBHOOK_LISTEN"
        with pytest.raises(StartupError, match=in_use):
            await asyncio.wait_for(run_webhook(second, settings, asyncio.Event()), 30)
        assert not second.running
