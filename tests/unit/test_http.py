"""``bot.http.AiohttpRequest`` against a real HTTP server on loopback, and inside a real PTB ``Application``.

The wire format is checked against PTB's own ``HTTPXRequest``: both send the same ``RequestData`` (as
``telegram.Bot`` builds it) to the same server. Uploads must arrive as the same multipart fields and files; other
calls arrive as JSON carrying the same parameters that httpx sends as a form (the Bot API takes both).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.http import POOL_FULL_MESSAGE, AiohttpRequest, TimeoutArg, telegram_requests
from sandbox.botapi import FakeBotApi

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mentor-desk//test//EN\r\nEND:VCALENDAR\r\n\x00\xff"
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Confirm ✓", callback_data="bk:1:ok"),
            InlineKeyboardButton("No", callback_data="x"),
        ],
        [InlineKeyboardButton("Docs", url="https://example.com/a?b=c&d=é")],
    ]
)


@dataclass
class Seen:
    """One request as the server parsed it."""

    method: str
    content_type: str
    body: bytes
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str | None, str | None, bytes]] = field(default_factory=dict)
    user_agent: str = ""


class Server:
    """A small HTTP server: records requests, answers with chosen statuses, delays or holds responses."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/echo", self.echo)
        app.router.add_route("*", "/status/{code}", self.status)
        app.router.add_route("*", "/slow/{seconds}", self.slow)
        app.router.add_route("*", "/hold", self.hold)
        app.router.add_route("*", "/drop", self.drop)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def record(self, request: web.Request) -> Seen:
        form = request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded")
        body = b"" if request.content_type == "multipart/form-data" else await request.read()
        seen = Seen(request.method, request.content_type, body, user_agent=request.headers.get("User-Agent", ""))
        if form:  # post() parses the stream itself; multipart must not be read() first
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    seen.files[name] = (value.filename, value.content_type, value.file.read())
                else:
                    seen.fields[name] = str(value)
        self.seen.append(seen)
        return seen

    async def echo(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response({"ok": True, "result": True})

    async def status(self, request: web.Request) -> web.Response:
        await self.record(request)
        code = int(request.match_info["code"])
        return web.Response(status=code, body=f'{{"ok": false, "description": "status {code}"}}'.encode())

    async def slow(self, request: web.Request) -> web.Response:
        await self.record(request)
        await asyncio.sleep(float(request.match_info["seconds"]))
        return web.json_response({"ok": True, "result": "late"})

    async def hold(self, request: web.Request) -> web.Response:
        await self.record(request)
        self.arrived.set()
        await self.release.wait()
        return web.json_response({"ok": True, "result": "held"})

    async def drop(self, request: web.Request) -> web.Response:
        await self.record(request)
        assert request.transport is not None
        request.transport.close()  # the connection dies before any response
        await asyncio.sleep(1)
        return web.Response()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server()
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def request_() -> AsyncIterator[AiohttpRequest]:
    async with AiohttpRequest() as request:
        yield request


class _Captured(Exception):
    pass


class Capture(BaseRequest):
    """A request backend that keeps the ``RequestData`` PTB hands it and sends nothing."""

    def __init__(self) -> None:
        self.data: RequestData | None = None

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

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
        self.data = request_data
        raise _Captured


async def built_by_ptb(call: Callable[[Bot], Awaitable[object]]) -> RequestData:
    """What ``telegram.Bot`` hands its request backend for ``call``."""
    capture = Capture()
    with pytest.raises(NetworkError):  # PTB wraps the backend's exception
        await call(Bot("123:abc", request=capture, get_updates_request=capture))
    assert capture.data is not None
    return capture.data


async def chat_call() -> RequestData:
    """A small call with one parameter (``chat_id``)."""
    return await built_by_ptb(lambda bot: bot.get_chat(1))


async def send_with(backend: BaseRequest, url: str, data: RequestData | None) -> tuple[int, bytes]:
    async with backend:
        return await backend.do_request(url, "POST", data)


# ---------------------------------------------------------------------------------------------
# wire format: the same as PTB's httpx backend
# ---------------------------------------------------------------------------------------------


async def test_parameters_arrive_as_json_with_what_httpx_sends_as_a_form(server: Server) -> None:
    data = await built_by_ptb(
        lambda bot: bot.send_message(42, "Hi & bye = ✓\nline 2", reply_markup=KEYBOARD, disable_notification=True)
    )

    assert await send_with(AiohttpRequest(), f"{server.url}/echo", data) == (200, b'{"ok": true, "result": true}')
    await send_with(HTTPXRequest(), f"{server.url}/echo", data)

    ours, httpx_seen = server.seen
    assert ours.content_type == "application/json"
    assert httpx_seen.content_type == "application/x-www-form-urlencoded"
    sent = json.loads(ours.body)
    assert sent == data.parameters
    assert httpx_seen.fields == data.json_parameters
    # the same parameters: a form field is the JSON text of the value, or the string itself
    assert httpx_seen.fields == {k: v if isinstance(v, str) else json.dumps(v) for k, v in sent.items()}
    assert sent == {
        "chat_id": 42,
        "text": "Hi & bye = ✓\nline 2",
        "reply_markup": KEYBOARD.to_dict(),
        "disable_notification": True,
    }
    assert "✓".encode() in ours.body  # UTF-8, not escaped
    assert ours.files == {} and ours.user_agent == BaseRequest.USER_AGENT


async def test_a_call_without_parameters_has_an_empty_body_like_httpx(server: Server) -> None:
    data = await built_by_ptb(lambda bot: bot.get_me())
    await send_with(AiohttpRequest(), f"{server.url}/echo", data)
    await send_with(HTTPXRequest(), f"{server.url}/echo", data)

    ours, httpx_seen = server.seen
    assert (ours.method, ours.body) == (httpx_seen.method, httpx_seen.body) == ("POST", b"")
    assert ours.content_type == httpx_seen.content_type


async def test_a_file_upload_is_multipart_with_filename_content_type_and_bytes(server: Server) -> None:
    document = InputFile(ICS, filename="session-2026-11-25.ics")
    data = await built_by_ptb(
        lambda bot: bot.send_document(7, document, caption="Your session", reply_markup=KEYBOARD)
    )
    assert data.contains_files

    assert (await send_with(AiohttpRequest(), f"{server.url}/echo", data))[0] == 200
    await send_with(HTTPXRequest(), f"{server.url}/echo", data)

    ours, httpx_seen = server.seen
    assert ours.content_type == httpx_seen.content_type == "multipart/form-data"
    assert ours.files == httpx_seen.files
    assert ours.files == {"document": ("session-2026-11-25.ics", "text/calendar", ICS)}
    assert ours.fields == httpx_seen.fields
    assert ours.fields["caption"] == "Your session"
    assert json.loads(ours.fields["reply_markup"]) == KEYBOARD.to_dict()
    assert ours.fields["chat_id"] == "7"


async def test_a_file_handle_is_uploaded_too(server: Server, tmp_path: Any) -> None:
    path = tmp_path / "invite.ics"
    path.write_bytes(ICS)
    with path.open("rb") as handle:
        document = InputFile(handle, filename="invite.ics", read_file_handle=False)
        data = await built_by_ptb(lambda bot: bot.send_document(7, document))
        await send_with(AiohttpRequest(), f"{server.url}/echo", data)

    assert server.seen[0].files == {"document": ("invite.ics", "text/calendar", ICS)}


# ---------------------------------------------------------------------------------------------
# statuses, timeouts, errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [200, 204, 400, 403, 429, 502])
async def test_status_and_body_pass_through_untouched(server: Server, request_: AiohttpRequest, code: int) -> None:
    status, body = await request_.do_request(f"{server.url}/status/{code}", "POST", await chat_call())

    assert status == code
    assert body == (b"" if code == 204 else f'{{"ok": false, "description": "status {code}"}}'.encode())


async def test_base_request_turns_a_400_into_bad_request(server: Server, request_: AiohttpRequest) -> None:
    with pytest.raises(BadRequest, match="status 400"):
        await request_.post(f"{server.url}/status/400", await chat_call())


async def test_get_retrieves_bytes(server: Server, request_: AiohttpRequest) -> None:
    assert await request_.retrieve(f"{server.url}/echo") == b'{"ok": true, "result": true}'
    assert server.seen[0].method == "GET"


async def test_a_slow_response_times_out_after_the_read_timeout(server: Server) -> None:
    async with AiohttpRequest(read_timeout=0.2) as request:
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await request.do_request(f"{server.url}/slow/3", "POST", await chat_call())
        assert time.monotonic() - started < 1.5


async def test_an_explicit_read_timeout_overrides_the_default(server: Server) -> None:
    async with AiohttpRequest(read_timeout=0.05) as request:
        status, body = await request.do_request(f"{server.url}/slow/0.3", "POST", read_timeout=2.0)
        assert (status, json.loads(body)["result"]) == (200, "late")
        with pytest.raises(TimedOut):
            await request.do_request(f"{server.url}/slow/0.3", "POST", read_timeout=BaseRequest.DEFAULT_NONE)


async def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with AiohttpRequest() as request:
        with pytest.raises(NetworkError) as caught:
            await request.do_request(f"http://127.0.0.1:{port}/echo", "POST")
    assert not isinstance(caught.value, TimedOut)
    assert "aiohttp.ClientConnectorError" in caught.value.message


async def test_a_dropped_connection_is_a_network_error(server: Server, request_: AiohttpRequest) -> None:
    with pytest.raises(NetworkError) as caught:
        await request_.do_request(f"{server.url}/drop", "POST", await chat_call())
    assert not isinstance(caught.value, TimedOut)


async def test_a_full_pool_times_out_without_sending_and_recovers(server: Server) -> None:
    async with AiohttpRequest(connection_pool_size=1, pool_timeout=0.1) as request:
        first = asyncio.create_task(request.do_request(f"{server.url}/hold", "POST"))
        await asyncio.wait_for(server.arrived.wait(), 5)

        with pytest.raises(TimedOut) as caught:
            await request.do_request(f"{server.url}/echo", "POST")
        assert caught.value.message == POOL_FULL_MESSAGE
        assert len(server.seen) == 1  # only the held request reached the server

        server.release.set()
        assert (await first)[0] == 200
        assert (await request.do_request(f"{server.url}/echo", "POST"))[0] == 200
        assert len(server.seen) == 2


async def test_a_request_waits_for_a_free_connection_within_the_pool_timeout(server: Server) -> None:
    async with AiohttpRequest(connection_pool_size=1, pool_timeout=2.0) as request:
        results = await asyncio.gather(
            request.do_request(f"{server.url}/slow/0.2", "POST"),
            request.do_request(f"{server.url}/echo", "POST"),
        )
    assert [status for status, _ in results] == [200, 200]


async def test_shutdown_is_idempotent_and_the_request_can_be_reinitialized(server: Server) -> None:
    request = AiohttpRequest()
    await request.shutdown()  # never initialized: nothing to do
    await request.initialize()
    await request.initialize()  # a second initialize keeps the session
    assert (await request.do_request(f"{server.url}/echo", "POST"))[0] == 200
    await request.shutdown()
    await request.shutdown()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{server.url}/echo", "POST")
    await request.initialize()
    try:
        assert (await request.do_request(f"{server.url}/echo", "POST"))[0] == 200
    finally:
        await request.shutdown()


def test_read_timeout_property_and_factory() -> None:
    request, get_updates_request = telegram_requests(64, read_timeout=7.0)
    assert (request.read_timeout, request.connection_pool_size) == (7.0, 64)
    assert (get_updates_request.read_timeout, get_updates_request.connection_pool_size) == (7.0, 1)
    assert AiohttpRequest(read_timeout=None).read_timeout is None
    with pytest.raises(ValueError, match="connection_pool_size must be at least 1"):
        AiohttpRequest(connection_pool_size=0)


# ---------------------------------------------------------------------------------------------
# inside a real python-telegram-bot Application, against the fake Bot API
# ---------------------------------------------------------------------------------------------


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_message.reply_text(update.effective_message.text.upper())


async def test_a_ptb_application_polls_sends_keyboards_and_uploads_documents() -> None:
    request, get_updates_request = telegram_requests(8)
    async with FakeBotApi() as api:
        builder = api.configure(ApplicationBuilder()).request(request).get_updates_request(get_updates_request)
        application = builder.build()
        application.add_handler(MessageHandler(filters.TEXT, echo))
        async with api.running(application) as app:
            alice = api.user(101, "Alice", started=True)
            await alice.send("hello")  # arrives through getUpdates, answered through sendMessage
            await alice.wait_for("HELLO")

            await app.bot.send_message(101, "Pick one", reply_markup=KEYBOARD)
            sent = await app.bot.send_document(
                101, InputFile(ICS, filename="session.ics"), caption="Add to calendar", reply_markup=KEYBOARD
            )
            await api.wait_idle()
        api.assert_no_errors()

    assert alice.buttons() == ["Confirm ✓", "No", "Docs"]
    keyboard_call = next(c for c in api.calls_to("sendMessage") if c.params["text"] == "Pick one")
    assert keyboard_call.content_type == "application/json"
    assert keyboard_call.params["reply_markup"] == KEYBOARD.to_dict()

    (document_call,) = api.calls_to("sendDocument")
    assert document_call.content_type == "multipart/form-data"
    assert document_call.files == {"document": ("session.ics", "text/calendar", len(ICS))}
    assert document_call.params["caption"] == "Add to calendar"
    assert document_call.params["reply_markup"] == KEYBOARD.to_dict()
    assert sent.document is not None and sent.document.file_name == "session.ics"
    assert api.file_content(sent.document.file_id) == ICS
    assert request._session is None and get_updates_request._session is None  # Application.shutdown closed them


async def test_long_poll_is_not_cut_by_the_read_timeout() -> None:
    """``Bot.get_updates`` adds the poll's ``timeout`` to the request's read timeout, so 0.2 s is enough."""
    request, get_updates_request = telegram_requests(2, read_timeout=0.2)
    async with FakeBotApi() as api:
        app = api.configure(ApplicationBuilder()).request(request).get_updates_request(get_updates_request).build()
        async with app:
            started = time.monotonic()
            assert await app.bot.get_updates(timeout=0.6) == ()
            assert time.monotonic() - started >= 0.5  # the server really held the poll
