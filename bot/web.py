"""The bot's HTTP server (``aiohttp.web``): in webhook mode it takes Telegram's updates; with ``PUBLIC_URL`` set it
serves the calendar feeds (``bot.feed``), in polling mode too; it always answers a health check.

PTB's own ``run_webhook`` serves with tornado and only the webhook path, so a platform's health check has
nowhere to go; this module serves everything on one port:

* ``POST <path of WEBHOOK_URL>``: Telegram delivers an update. Only a request carrying our secret in
  ``X-Telegram-Bot-Api-Secret-Token`` is processed (403 otherwise). The update is handled - through the
  application's update processor (``PerUserUpdateProcessor``: bounded, one person's updates in order) - and only
  then answered 200. A request that is not a readable Telegram update gets a 4xx and at most one warning line,
  never a traceback: those are anyone's to send.
* ``GET <path of PUBLIC_URL>/calendar/<token>.ics``: a person's calendar feed (``bot.feed``), when PUBLIC_URL is
  set.
* ``GET /healthz``: ``SELECT 1`` against the bot's database with a short timeout; 200 or 503 with a small JSON.

``run_webhook`` is the webhook twin of ``bot.lifecycle.run_polling``: the same start-up and lifecycle hooks in the
same order, SIGTERM/SIGINT for a clean stop. Several workers may serve one URL behind a load balancer: each
registers the webhook only when Telegram has a different URL, and none deletes it on shutdown (the others still
serve it).
Telegram sends a chat's next update only after the previous one was answered (grammY's documentation describes
this; the Bot API's is silent), and the answer comes after the handling, so one person's updates are handled one
after the other even when they reach different workers; conversation state lives in the database.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.http import HttpProcessingError
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import Application

from bot.config import Settings
from bot.feed import FeedService, MissLimiter, add_feed_route
from bot.lifecycle import finish, listen, prepare, stop_on_signals, telegram_failures
from handlers.common import Services
from storage.db import ping

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
# A Telegram update is a few kilobytes (a message is at most 4096 characters); 1 MiB leaves a wide margin.
MAX_UPDATE_BYTES = 1024 * 1024
HEALTH_TIMEOUT_SECONDS = 2.0
# After SIGTERM: how long requests already being answered may take (platforms kill after ~30 s).
SHUTDOWN_TIMEOUT_SECONDS = 10.0

_APPLICATION = web.AppKey("application", Application)
_SECRET = web.AppKey("secret", str)


class QuietMalformedRequests(logging.Filter):
    """For the web server's logger: a request aiohttp cannot parse (a header over its 8 KiB limit, a broken
    request line) is answered 400 by aiohttp and logged at ERROR with a traceback - noise any client can make. This
    turns such a record into one warning line; every other record (a fault of ours) passes unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            reason = " ".join(str(error.message).split())[:200]  # the client's bytes may be long or multi-line
            record.args = (record.getMessage(), reason)
            record.msg = "webhook: refused a malformed request (%s): %s"
            record.exc_info = record.exc_text = None
            if record.levelno > logging.WARNING:
                record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True


# aiohttp's server logs through this logger (``AppRunner(logger=...)``) instead of its own ``aiohttp.server``
server_log = logging.getLogger(f"{__name__}.server")
server_log.addFilter(QuietMalformedRequests())


def create_web_app(application: Application, settings: Settings) -> web.Application:
    """The aiohttp application: the webhook on ``settings.webhook_path`` (webhook mode), the calendar feeds on
    ``settings.feed_path`` (``PUBLIC_URL`` set) and ``/healthz``."""
    if settings.webhook_url and settings.webhook_path == HEALTH_PATH:
        raise ValueError(f"WEBHOOK_URL must not use the path {HEALTH_PATH} (the health check lives there)")
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app[_APPLICATION] = application
    app[_SECRET] = settings.webhook_secret_token
    if settings.webhook_url:
        app.router.add_post(settings.webhook_path, receive_update)
    if settings.public_url:
        services: Services = application.bot_data["services"]
        feeds = FeedService(
            reader=services.read_factory or services.uow_factory,
            writer=services.uow_factory,
            clock=services.clock,
            limiter=MissLimiter(),
        )
        add_feed_route(app, settings.feed_path, feeds)
    app.router.add_get(HEALTH_PATH, health)
    return app


def create_runner(application: Application, settings: Settings) -> web.AppRunner:
    """The server of ``create_web_app``, ready for ``bot.lifecycle.listen``."""
    return web.AppRunner(
        create_web_app(application, settings),
        access_log=None,
        logger=server_log,
        shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
    )


async def receive_update(request: web.Request) -> web.Response:
    """Telegram delivers one update: check the secret, then size, then JSON; queue it and answer 200."""
    if not _secret_matches(request.headers.get(SECRET_HEADER, ""), request.app[_SECRET]):
        log.warning("webhook: rejected a request without the right secret token from %s", request.remote)
        return _plain(403, "forbidden")
    if request.content_length is not None and request.content_length > MAX_UPDATE_BYTES:
        return _plain(413, "update too large")
    try:
        data = json.loads(await request.read())
    except web.HTTPRequestEntityTooLarge:
        return _plain(413, "update too large")
    except ValueError:  # includes UnicodeDecodeError
        return _plain(400, "body is not JSON")
    except RecursionError:  # nested deeper than the parser's stack (Telegram's updates are a few levels deep)
        return _plain(400, "body is nested too deeply")
    application = request.app[_APPLICATION]
    update = _parse_update(data, application)
    if update is None:
        return _plain(400, "body is not a Telegram update")
    if not application.running:  # stopping: a non-2xx answer makes Telegram deliver it again later
        return _plain(503, "stopping")
    # handled before the answer: Telegram holds the chat's next update until then (errors go to the error handler)
    await application.update_processor.process_update(update, application.process_update(update))
    return _plain(200, "ok")


def _secret_matches(given: str, expected: str) -> bool:
    # compare_digest on bytes: a str argument must be ASCII, and a forged header need not be. aiohttp decodes
    # header bytes that are not UTF-8 to lone surrogates ("surrogateescape"); encoding them back the same way
    # compares the bytes that were sent, where a plain encode() would raise.
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


def _parse_update(data: Any, application: Application) -> Update | None:
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return None
    try:
        update = Update.de_json(data, application.bot)
    except (KeyError, TypeError, ValueError, RecursionError) as error:  # RecursionError: objects nested too deep
        log.warning("webhook: could not read update %s: %r", data["update_id"], error)
        return None
    # PTB builds a Message without its chat, which Telegram always sends; every handler relies on it
    message = update.effective_message
    if message is not None and message.chat is None:
        log.warning("webhook: dropped update %s: its message has no chat", update.update_id)
        return None
    return update


def _plain(status: int, reason: str) -> web.Response:
    return web.Response(status=status, text=reason)


async def health(request: web.Request) -> web.Response:
    """200 when the database answers ``SELECT 1`` within the timeout, else 503 with a short reason; either way
    ``dispatcher`` says whether this process is the one sending scheduled messages (``leader``) or ``standby``."""
    bot_data = request.app[_APPLICATION].bot_data
    leadership = bot_data.get("leadership")
    role = {"dispatcher": "leader" if leadership.is_leader else "standby"} if leadership is not None else {}
    problem = await database_problem(bot_data["engine"])
    if problem is None:
        return web.json_response({"status": "ok", "database": "ok", **role})
    return web.json_response({"status": "unavailable", "database": problem, **role}, status=503)


async def database_problem(engine: AsyncEngine, timeout: float = HEALTH_TIMEOUT_SECONDS) -> str | None:
    """None if the database answers; otherwise a short reason that names no host, user or password."""
    try:
        async with asyncio.timeout(timeout):
            await ping(engine)
    except TimeoutError:
        log.warning("health check: the database gave no answer within %g s", timeout)
        return f"no answer within {timeout:g} s"
    except Exception as error:  # noqa: BLE001 - any failure means "unavailable"; the class name is enough
        log.warning("health check: the database is unavailable: %r", error)  # one line: checks come often
        return f"unavailable ({type(error).__name__})"
    return None


# Telegram's most: its default of 40 deliveries in flight would cap the bot at 40 updates per round trip (each
# update is handled before it is answered, Bot API calls included)
WEBHOOK_MAX_CONNECTIONS = 100


async def ensure_webhook(application: Application, settings: Settings) -> bool:
    """Register the webhook unless Telegram already has this URL; True if it was (re)registered.

    Workers that start together all ask ``getWebhookInfo`` and only those seeing another URL call
    ``setWebhook``, so a restart of many workers does not hammer Telegram. The secret cannot be read back:
    changing it needs a changed URL (or one ``deleteWebhook``) for the workers to register again.
    """
    url = settings.webhook_url
    if not url:
        raise ValueError("webhook mode needs settings.webhook_url")
    info = await application.bot.get_webhook_info()
    if info.url == url:
        log.info("webhook: Telegram already delivers to %s", url)
        return False
    await application.bot.set_webhook(
        url,
        secret_token=settings.webhook_secret_token,
        allowed_updates=Update.ALL_TYPES,
        max_connections=WEBHOOK_MAX_CONNECTIONS,
    )
    log.info("webhook: registered %s", url)
    return True


async def run_webhook(application: Application, settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Serve Telegram's webhook and ``/healthz`` on ``WEBHOOK_LISTEN:PORT`` until ``stop`` is set.

    Without ``stop``, SIGTERM and SIGINT set it (what ``python -m bot`` uses). Start-up and shutdown are
    ``bot.lifecycle``'s (``run_polling``'s order): the database answers, initialize, ``post_init`` (migrations),
    start; on the way out the server stops accepting first, then the updates already queued are handled
    (``Application.stop``), ``post_stop``, shutdown, ``post_shutdown``. The webhook stays registered. A port that
    cannot be bound, or a Bot API that cannot be reached, raises ``StartupError``.
    """
    stop = stop or stop_on_signals()
    runner = create_runner(application, settings)
    address = f"{settings.webhook_listen}:{settings.port}"
    try:
        await prepare(application, settings)
        await application.start()
        await listen(runner, settings)
        log.info("webhook: serving %s and %s on %s", settings.webhook_path, HEALTH_PATH, address)
        with telegram_failures(settings):
            await ensure_webhook(application, settings)
        await stop.wait()
        log.info("webhook: stopping")
    finally:
        await runner.cleanup()  # stop accepting; requests in flight finish (their updates are handled)
        await finish(application)
