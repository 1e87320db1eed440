"""The web chat: the page (``static/``), a JSON API to act as people and live events, on the Bot API's port.

``GET /``                       the page; ``/static/<file>`` its script and style (shipped in the package)
``GET /api/state``              the bot, the sandbox's time, the people, the languages
``GET /api/zones``              every IANA time zone (for adding a person)
``GET /api/chats/<id>``         a person's chat: messages (text + entities, keyboards, files) and their "/" menu
``POST /api/chats/<id>/messages``  ``{"text"}``: the person sends it, as a Telegram client would
``POST /api/chats/<id>/press``     ``{"message_id", "data"}``: the person presses that inline button
``POST /api/chats/<id>/pay``       ``{"message_id"}``: the person pays that invoice (test payment: the bot's
                                pre-checkout answer, then ``successful_payment`` if it said yes)
``POST /api/people``            ``{"name", "language", "zone"}``: add a person
``POST /api/clock``             ``{"by": "hour" | "day" | "next"}``: move the bot's clock forward
``GET /api/files/<file_id>``    a file the bot sent (the ``.ics`` files, the UPI QR codes)
``GET /api/events``             server-sent events: messages sent, edited, deleted; button answers; menus; clock

Posts must be JSON (a form on another site cannot send that), an ``Origin`` must be this server, and a server on
loopback answers only requests addressed to a loopback name (no DNS rebinding).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import zoneinfo
from collections.abc import Awaitable, Callable
from datetime import timedelta
from importlib import resources
from typing import Any

from aiohttp import web
from babel import Locale

from chat.i18n import SUPPORTED_LOCALES
from sandbox.runtime import PersonError, Sandbox, UnknownPerson
from sandbox.views import message_view

log = logging.getLogger(__name__)

STATIC_FILES = {
    "app.js": "text/javascript",
    "app.css": "text/css",
    "icon.svg": "image/svg+xml",
}
TRAVELS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
KEEP_ALIVE = 15.0  # seconds between comments on an idle event stream (proxies and browsers keep it open)
MAX_BODY = 64 * 1024
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebChat:
    """The page's server side for one sandbox; :meth:`routes` go onto the Bot API server's application."""

    def __init__(self, sandbox: Sandbox, *, loopback_only: bool = True) -> None:
        self.sandbox = sandbox
        self.loopback_only = loopback_only
        self._clients: set[asyncio.Queue[dict[str, Any] | None]] = set()
        sandbox.api.watch(self._on_server_event)

    def routes(self) -> list[web.RouteDef]:
        page, api = self._page, self._api
        return [
            web.get("/", page(self.index)),
            web.get("/static/{name}", page(self.static)),
            web.get("/api/state", api(self.state)),
            web.get("/api/zones", api(self.zones)),
            web.get(r"/api/chats/{person:\d+}", api(self.chat)),
            web.post(r"/api/chats/{person:\d+}/messages", api(self.send)),
            web.post(r"/api/chats/{person:\d+}/press", api(self.press)),
            web.post(r"/api/chats/{person:\d+}/pay", api(self.pay)),
            web.post("/api/people", api(self.add_person)),
            web.post("/api/clock", api(self.travel)),
            web.get("/api/files/{file_id}", api(self.file)),
            web.get("/api/events", page(self.events)),
        ]

    # -- guards ---------------------------------------------------------------------------------------------------
    def _allowed(self, request: web.Request) -> bool:
        if self.loopback_only and request.host.rsplit(":", 1)[0] not in LOOPBACK_NAMES:
            return False
        origin = request.headers.get("Origin")
        return origin is None or origin == f"{request.scheme}://{request.host}"

    def _page(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if not self._allowed(request):
                return web.json_response({"error": "forbidden"}, status=403)
            return await handler(request)

        return guarded

    def _api(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if not self._allowed(request):
                return web.json_response({"error": "forbidden"}, status=403)
            if request.method == "POST" and request.content_type != "application/json":
                return web.json_response({"error": "send JSON"}, status=415)
            await self.sandbox.started.wait()
            try:
                return await handler(request)
            except UnknownPerson as error:
                return web.json_response({"error": str(error)}, status=404)
            except PersonError as error:
                return web.json_response({"error": str(error)}, status=400)

        return guarded

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        raw = await request.content.read(MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            raise PersonError("the request is too large")
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise PersonError("the request is not JSON") from None
        if not isinstance(body, dict):
            raise PersonError("the request is not a JSON object")
        return body

    @staticmethod
    def _text(body: dict[str, Any], key: str) -> str:
        value = body.get(key)
        if not isinstance(value, str):
            raise PersonError(f"{key} is missing")
        return value

    def _person_id(self, request: web.Request) -> int:
        person_id = int(request.match_info["person"])
        self.sandbox.person(person_id)  # PersonError if unknown
        return person_id

    # -- the page -------------------------------------------------------------------------------------------------
    async def index(self, request: web.Request) -> web.StreamResponse:
        html = (resources.files("sandbox") / "static" / "index.html").read_bytes()
        return web.Response(body=html, content_type="text/html", charset="utf-8", headers=SECURITY_HEADERS)

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        body = (resources.files("sandbox") / "static" / name).read_bytes()
        return web.Response(body=body, content_type=STATIC_FILES[name], charset="utf-8", headers=SECURITY_HEADERS)

    # -- the API --------------------------------------------------------------------------------------------------
    async def state(self, request: web.Request) -> web.StreamResponse:
        api = self.sandbox.api
        return web.json_response(
            {
                "bot": {"name": api.bot_first_name, "username": api.bot_username},
                "clock": self._clock(),
                "people": await self.sandbox.people(),
                "languages": [{"code": code, "name": _language_name(code)} for code in SUPPORTED_LOCALES],
            }
        )

    async def zones(self, request: web.Request) -> web.StreamResponse:
        zones = zoneinfo.available_timezones()
        names = sorted(z for z in zones if "/" in z and not z.startswith(("Etc/", "SystemV/")))
        return web.json_response({"zones": names})

    async def chat(self, request: web.Request) -> web.StreamResponse:
        person = self.sandbox.person(self._person_id(request))
        messages = [message_view(m) for m in person.messages()]
        return web.json_response(
            {
                "id": person.id,
                "messages": messages,
                "commands": self.sandbox.api.commands_for_chat(person.id, person.language_code),
            }
        )

    async def send(self, request: web.Request) -> web.StreamResponse:
        person_id = self._person_id(request)
        await self.sandbox.send(person_id, self._text(await self._body(request), "text"))
        return web.json_response({"ok": True})

    async def press(self, request: web.Request) -> web.StreamResponse:
        person_id = self._person_id(request)
        body = await self._body(request)
        message_id = body.get("message_id")
        if not isinstance(message_id, int):
            raise PersonError("message_id is missing")
        query_id = await self.sandbox.press(person_id, message_id, self._text(body, "data"))
        return web.json_response({"ok": True, "query_id": query_id})

    async def pay(self, request: web.Request) -> web.StreamResponse:
        person_id = self._person_id(request)
        message_id = (await self._body(request)).get("message_id")
        if not isinstance(message_id, int):
            raise PersonError("message_id is missing")
        checkout = await self.sandbox.pay(person_id, message_id)
        return web.json_response({"ok": checkout.ok, "error": checkout.error_message})

    async def add_person(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        person = await self.sandbox.add_person(
            self._text(body, "name"), self._text(body, "language"), self._text(body, "zone")
        )
        self.broadcast({"type": "people"})
        return web.json_response({"id": person.id})

    async def travel(self, request: web.Request) -> web.StreamResponse:
        by = (await self._body(request)).get("by")
        note = ""
        if by == "next":
            found = await self.sandbox.next_scheduled()
            if found is None:
                return web.json_response({"clock": self._clock(), "note": "Nothing is scheduled."})
            due, kind = found
            delta = due - self.sandbox.clock.now() + timedelta(seconds=1)
            note = kind.replace("_", " ")
        elif by in TRAVELS:
            delta = TRAVELS[by]
        else:
            raise PersonError('"by" is "hour", "day" or "next"')
        await self.sandbox.travel(delta)
        clock = self._clock()
        self.broadcast({"type": "clock", "clock": clock})
        return web.json_response({"clock": clock, "note": note})

    async def file(self, request: web.Request) -> web.StreamResponse:
        stored = self.sandbox.api.files.get(request.match_info["file_id"])
        if stored is None or stored.content is None:
            raise web.HTTPNotFound()
        name = re.sub(r"[^A-Za-z0-9._-]", "_", stored.file_name or "file")
        shown = stored.width is not None  # a photo is shown in the page; anything else is downloaded
        return web.Response(
            body=stored.content,
            content_type=stored.mime_type or "application/octet-stream",
            headers={
                "Content-Disposition": f'{"inline" if shown else "attachment"}; filename="{name}"',
                **SECURITY_HEADERS,
            },
        )

    def _clock(self) -> dict[str, Any]:
        clock = self.sandbox.clock
        return {"now": clock.now().isoformat(), "offset_seconds": clock.offset.total_seconds()}

    # -- live events ----------------------------------------------------------------------------------------------
    async def events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", **SECURITY_HEADERS}
        )
        await response.prepare(request)
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._clients.add(queue)
        try:
            await response.write(b"retry: 1000\n\n")
            await self.sandbox.started.wait()
            await response.write(_event({"type": "hello", "clock": self._clock()}))
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEP_ALIVE)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if event is None:
                    break
                await response.write(_event(event))
        except ConnectionResetError:
            pass  # the page went away
        finally:
            self._clients.discard(queue)
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    def broadcast(self, event: dict[str, Any] | None) -> None:
        for queue in self._clients:
            queue.put_nowait(event)

    def _on_server_event(self, kind: str, chat_id: int | None, item: Any) -> None:
        if kind in ("user", "sent", "edited", "deleted"):
            self.broadcast({"type": "message", "event": kind, "chat_id": chat_id, "message": message_view(item)})
        elif kind == "answer":
            self.broadcast(
                {
                    "type": "answer",
                    "chat_id": chat_id,
                    "query_id": item.query_id,
                    "text": item.text or "",
                    "alert": item.show_alert,
                }
            )
        elif kind == "commands":
            self.broadcast({"type": "commands", "chat_id": chat_id})
        elif kind == "closing":
            self.broadcast(None)


def _language_name(code: str) -> str:
    """The language's name in itself, as a language picker shows it ("English", "हिन्दी", "Русский")."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def _event(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"
