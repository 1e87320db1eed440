"""An aiohttp request backend for python-telegram-bot: the bot's HTTP client to the Bot API.

Why not PTB's default (``telegram.request.HTTPXRequest``): with a few hundred requests in flight, httpcore's
connection pool rescans all connections and queued requests on every request and release (encode/httpcore PR
#1035), so each call costs milliseconds of CPU and a bot with ``concurrent_updates(256)`` tops out far below
what the network allows (PTB issue #4560 asks for aiohttp for this reason). ``benchmarks.bench_http`` measures
both; the numbers are in the README.

:class:`AiohttpRequest` implements PTB 22's ``BaseRequest`` contract the way ``HTTPXRequest`` does: the same
constructor timeouts and defaults, ``BaseRequest.DEFAULT_NONE`` meaning "use the instance default",
``multipart/form-data`` for uploads, :class:`telegram.error.TimedOut` for timeouts (a distinct message when the
connection pool is full) and :class:`telegram.error.NetworkError` for every other transport failure. Status codes
and bodies go back to ``BaseRequest`` untouched; it maps them to Telegram errors.

One difference on the wire: a call without files is sent as one JSON object (``application/json``, which the Bot
API takes as well as a form) instead of a form. PTB's form holds nested values such as ``reply_markup`` as JSON
text that urllib then percent-encodes character by character; ``json.dumps`` of ``RequestData.parameters`` (PTB's
documented way to bring one's own encoding) is 5-7 times cheaper: 25 against 176 us for a time picker of 33
buttons, 4 against 26 us for a call without a keyboard.

Timeouts, translated to aiohttp (which has no per-write timeout):

* ``pool_timeout``: how long a request waits for one of the ``connection_pool_size`` slots. We count the slots
  ourselves (a semaphore of the same size as the connector's ``limit``), because aiohttp reports a full pool and
  a slow TCP connect as the same ``ConnectionTimeoutError``; with the semaphore in front the connector never
  has to queue, and a full pool is recognisable.
* ``connect_timeout``: aiohttp's ``connect``/``sock_connect`` (opening a new connection).
* ``read_timeout``: aiohttp's ``sock_read`` (longest silence while reading the response), like httpx's read.
* ``write_timeout`` (``media_write_timeout`` for uploads): a ceiling on the whole exchange,
  ``connect + write + read``, so that a server that stops reading an upload cannot hang the call forever.
  Downloads (``GET``) get no ceiling, a large file may legitimately take long.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TypeAlias, cast

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

POOL_FULL_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent to Telegram. "
    "Consider adjusting the connection pool size or the pool timeout."
)
_JSON_HEADERS = {"Content-Type": "application/json"}

# A timeout argument as PTB passes it to ``do_request``: seconds, None (no limit), or ``BaseRequest.DEFAULT_NONE``
# ("not given": use the instance's default). PTB's own alias for this lives in a private module.
TimeoutArg: TypeAlias = float | object | None


def _given_or(value: TimeoutArg, default: float | None) -> float | None:
    """The timeout asked for, or ``default`` when PTB passed ``BaseRequest.DEFAULT_NONE`` (as PTB documents)."""
    return default if value is BaseRequest.DEFAULT_NONE else cast("float | None", value)


def _sum_or_none(*parts: float | None) -> float | None:
    """``None`` (no limit) if any part is unlimited, else the sum."""
    if any(part is None for part in parts):
        return None
    return sum(part for part in parts if part is not None)


class AiohttpRequest(BaseRequest):
    """``telegram.request.BaseRequest`` on one ``aiohttp.ClientSession`` with a pool of keep-alive connections.

    The session is created in :meth:`initialize` (it binds to the running event loop, so it cannot be made in
    ``__init__``) and closed in :meth:`shutdown`; an instance may be initialized again after a shutdown, as PTB
    does with ``HTTPXRequest``. Proxies: an ``http://`` proxy URL in ``proxy`` (aiohttp has no SOCKS support);
    environment variables such as ``HTTPS_PROXY`` are deliberately not read, so what is configured is what runs.
    """

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxy",
        "_read_timeout",
        "_session",
        "_slots",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        proxy: str | None = None,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout; PTB adds the long-poll ``timeout`` of ``getUpdates`` to it."""
        return self._read_timeout

    @property
    def connection_pool_size(self) -> int:
        return self._pool_size

    async def initialize(self) -> None:
        """Open the session (idempotent); must run inside the event loop that will make the requests."""
        if self._session is not None and not self._session.closed:
            return
        connector = aiohttp.TCPConnector(limit=self._pool_size)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.USER_AGENT},
            trust_env=False,
        )
        self._slots = asyncio.Semaphore(self._pool_size)

    async def shutdown(self) -> None:
        """Close the session and its connections; calling it again (or before ``initialize``) does nothing."""
        session, self._session = self._session, None
        if session is None or session.closed:
            log.debug("AiohttpRequest is already shut down")
            return
        await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: TimeoutArg = BaseRequest.DEFAULT_NONE,
        write_timeout: TimeoutArg = BaseRequest.DEFAULT_NONE,
        connect_timeout: TimeoutArg = BaseRequest.DEFAULT_NONE,
        pool_timeout: TimeoutArg = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One HTTP exchange: ``(status code, body)``; transport failures become ``TimedOut``/``NetworkError``."""
        session, slots = self._session, self._slots
        if session is None or session.closed or slots is None:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        uploads = request_data is not None and request_data.contains_files
        timeout = self._client_timeout(
            method,
            read=_given_or(read_timeout, self._read_timeout),
            write=_given_or(write_timeout, self._default_write(uploads)),
            connect=_given_or(connect_timeout, self._connect_timeout),
        )
        pool = _given_or(pool_timeout, self._pool_timeout)
        await self._acquire_slot(slots, pool)
        try:
            return await self._exchange(session, method, url, request_data, timeout)
        finally:
            slots.release()

    def _default_write(self, uploads: bool) -> float | None:
        return self._media_write_timeout if uploads else self._write_timeout

    @staticmethod
    def _client_timeout(
        method: str, *, read: float | None, write: float | None, connect: float | None
    ) -> aiohttp.ClientTimeout:
        total = None if method == "GET" else _sum_or_none(connect, write, read)
        return aiohttp.ClientTimeout(total=total, connect=connect, sock_connect=connect, sock_read=read)

    @staticmethod
    async def _acquire_slot(slots: asyncio.Semaphore, pool_timeout: float | None) -> None:
        """Wait at most ``pool_timeout`` for a free connection slot, like httpx's pool timeout."""
        if not slots.locked():
            await slots.acquire()  # free slot: returns at once, no timer needed
            return
        try:
            async with asyncio.timeout(pool_timeout):
                await slots.acquire()
        except TimeoutError as exc:
            raise TimedOut(message=POOL_FULL_MESSAGE) from exc

    async def _exchange(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        request_data: RequestData | None,
        timeout: aiohttp.ClientTimeout,
    ) -> tuple[int, bytes]:
        body, headers = _encode_body(request_data)
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout, proxy=self._proxy
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's ServerTimeoutError is a TimeoutError too
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            # the class name helps when the message is empty (e.g. ServerDisconnectedError)
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc


_Body: TypeAlias = bytes | aiohttp.FormData | None


def _encode_body(request_data: RequestData | None) -> tuple[_Body, dict[str, str] | None]:
    """The request body: the parameters as one JSON object, or multipart (as ``HTTPXRequest``) for uploads.

    A call without parameters (``getMe``) has no body at all, as with httpx. Multipart fields are PTB's
    ``json_parameters`` (nested objects such as ``reply_markup`` as JSON text), as httpx sends them.
    """
    if request_data is None:
        return None, None
    if not request_data.contains_files:
        parameters = request_data.parameters
        if not parameters:
            return None, None
        return json.dumps(parameters, ensure_ascii=False, separators=(",", ":")).encode(), _JSON_HEADERS
    form = aiohttp.FormData()  # multipart, as every file part has a filename
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, content_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=content_type)  # bytes or a file handle
    return form, None


def telegram_requests(
    pool_size: int = 256, *, proxy: str | None = None, read_timeout: float | None = 5.0
) -> tuple[AiohttpRequest, AiohttpRequest]:
    """``(request, get_updates_request)`` for ``ApplicationBuilder().request(...).get_updates_request(...)``.

    API calls share a pool of ``pool_size`` connections. ``getUpdates`` gets its own instance with one
    connection, as PTB's builder does, so a long poll never waits behind (or blocks) a burst of sends. Its
    ``read_timeout`` is the ordinary one: ``Bot.get_updates`` adds the long-poll ``timeout`` to
    ``read_timeout`` for that call itself.
    """
    request = AiohttpRequest(connection_pool_size=pool_size, proxy=proxy, read_timeout=read_timeout)
    get_updates_request = AiohttpRequest(connection_pool_size=1, proxy=proxy, read_timeout=read_timeout)
    return request, get_updates_request
