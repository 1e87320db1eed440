"""Start, serve and stop the bot: long polling here, webhook mode in ``bot.web``, one start-up for both.

Both modes may serve HTTP: webhook mode always (``bot.web``), polling mode when ``PUBLIC_URL`` is set (the
calendar feeds and the health check, on ``WEBHOOK_LISTEN:PORT``); ``listen`` starts that server in either.

The order is ``Application.run_polling``'s: initialize (Telegram's ``getMe``), ``post_init`` (migrations, the
command menus), start taking updates, ``start``; on the way out updates stop coming in, the ones already queued
are handled (``stop``), ``post_stop``, ``shutdown``, ``post_shutdown``. It is spelled out here, with PTB's public
methods, instead of calling ``run_polling`` because of start-up failures: ``run_polling`` logs one with a
traceback and then raises it for another. Here a failure outside the program - the database or the Bot API
unreachable, the token rejected, the port taken - raises ``StartupError``, whose message is one line for the
operator: what failed, where (a host or a file, never credentials), what to check. ``python -m bot`` prints it
and exits with status 1. Any other error (a fault of ours) keeps its traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Iterator
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot.config import Settings
from storage.db import ping
from storage.engine import normalize_url

log = logging.getLogger(__name__)

# How long start-up waits for the database to answer (asyncpg's own connect timeout is a minute).
DATABASE_TIMEOUT_SECONDS = 10.0


class StartupError(Exception):
    """Start-up failed for a reason outside the program; the message is one line for the operator."""


def short_reason(error: BaseException) -> str:
    """Why ``error`` happened, in a few words that name no host, user or password: the system's words for a
    socket or file error anywhere in its chain ("Connection refused"), else the class name."""
    cause: BaseException | None = error
    for _ in range(10):  # a chain is a handful of links; never loop on a strange one
        if cause is None:
            break
        if isinstance(cause, TimeoutError):
            return "no answer in time"
        if isinstance(cause, OSError) and cause.strerror:  # asyncio's strerror adds the address: the errno's words
            return os.strerror(cause.errno) if isinstance(cause.errno, int) and cause.errno > 0 else cause.strerror
        cause = cause.__cause__ or cause.__context__
    return type(error).__name__


def database_location(database_url: str) -> str:
    """Where the database is, without user or password: ``host:port/name``, or a SQLite file's path."""
    url = normalize_url(database_url)
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    port = f":{url.port}" if url.port else ""
    return f"{url.host or 'localhost'}{port}/{url.database or ''}"


def api_host(settings: Settings) -> str:
    """The Bot API server's host (and port), without anything else from ``TELEGRAM_API_URL``."""
    parts = urlsplit(settings.telegram_api_url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def database_failure(error: BaseException, settings: Settings) -> StartupError:
    where, reason = database_location(settings.database_url), short_reason(error)
    if normalize_url(settings.database_url).get_backend_name() == "sqlite":
        return StartupError(
            f"cannot open the database file {where} ({reason}): check DATABASE_URL, and that its directory "
            "exists or can be made, and is writable"
        )
    return StartupError(
        f"cannot reach the database at {where} ({reason}): check DATABASE_URL, and that the database server is "
        "running and lets this user in"
    )


@contextlib.contextmanager
def telegram_failures(settings: Settings) -> Iterator[None]:
    """Around start-up calls to the Bot API: a rejected token or an unreachable server becomes a StartupError."""
    host = api_host(settings)
    try:
        yield
    except InvalidToken as error:  # its message quotes the token: never print it
        raise StartupError(
            f"the Telegram Bot API at {host} rejected BOT_TOKEN: check the token with @BotFather"
        ) from error
    except NetworkError as error:  # also TimedOut; its text may carry a URL, and the token is in the path
        raise StartupError(
            f"cannot reach the Telegram Bot API at {host} ({short_reason(error)}): check TELEGRAM_API_URL and "
            "this machine's network (DNS, proxy, firewall)"
        ) from error
    except TelegramError as error:  # Telegram's own words, e.g. a webhook URL it refuses
        raise StartupError(
            f"the Telegram Bot API at {host} refused a start-up call ({error.message}): check BOT_TOKEN and "
            "WEBHOOK_URL"
        ) from error


async def check_database(engine: AsyncEngine, settings: Settings) -> None:
    """``SELECT 1``, so that a database that cannot be reached is told apart from a migration that fails."""
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
            await ping(engine)
    except Exception as error:  # whatever the driver raises, the database is not usable
        raise database_failure(error, settings) from error


async def prepare(application: Application, settings: Settings) -> None:
    """Start-up up to taking updates: the database answers, ``initialize`` (``getMe``), ``post_init``."""
    await check_database(application.bot_data["engine"], settings)
    with telegram_failures(settings):
        await application.initialize()
        if application.post_init:
            await application.post_init(application)


async def finish(application: Application) -> None:
    """Once updates stop coming in: ``stop`` (if started) and ``post_stop``, ``shutdown``, ``post_shutdown``."""
    try:
        if application.running:
            await application.stop()  # handles every update already on the queue first
            if application.post_stop:
                await application.post_stop(application)
    finally:
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


def stop_on_signals() -> asyncio.Event:
    """An event that SIGTERM and SIGINT set."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # e.g. Windows: Ctrl+C still raises KeyboardInterrupt
            loop.add_signal_handler(number, stop.set)
    return stop


async def listen(runner: web.AppRunner, settings: Settings) -> None:
    """Start the HTTP server on ``WEBHOOK_LISTEN:PORT`` (``StartupError`` when the port cannot be had)."""
    await runner.setup()
    reuse_port = settings.webhook_reuse_port or None  # None: the platform's default (off)
    try:
        await web.TCPSite(runner, settings.webhook_listen, settings.port, reuse_port=reuse_port).start()
    except OSError as error:
        raise StartupError(
            f"cannot listen on {settings.webhook_listen}:{settings.port} ({short_reason(error)}): check PORT and "
            "WEBHOOK_LISTEN (is another process using the port?)"
        ) from error


async def run_polling(
    application: Application,
    settings: Settings,
    stop: asyncio.Event | None = None,
    server: web.AppRunner | None = None,
) -> None:
    """Long polling until ``stop`` is set (by SIGTERM or SIGINT when not given): ``run_polling``'s lifecycle.

    ``server``: also serve HTTP (``bot.web.create_runner``; ``python -m bot`` passes one when ``PUBLIC_URL`` is
    set), from start-up on; on the way out it stops accepting first, like the webhook server."""
    stop = stop or stop_on_signals()
    updater = application.updater
    if updater is None:  # pragma: no cover - build_application always builds one
        raise RuntimeError("long polling needs the application's Updater")

    def polling_failed(error: TelegramError) -> None:  # as run_polling does: to the error handlers
        application.create_task(application.process_error(update=None, error=error))

    try:
        await prepare(application, settings)
        if server is not None:
            await listen(server, settings)
            log.info("serving the calendar feeds and /healthz on %s:%s", settings.webhook_listen, settings.port)
        with telegram_failures(settings):
            await updater.start_polling(allowed_updates=Update.ALL_TYPES, error_callback=polling_failed)
        await application.start()
        await stop.wait()
    finally:
        if server is not None:
            await server.cleanup()  # stop accepting; requests in flight finish
        if updater.running:
            await updater.stop()
        await finish(application)
