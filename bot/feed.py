"""Serving the personal calendar feeds: ``GET <path of PUBLIC_URL>/calendar/<token>.ics`` on the bot's HTTP server
(``bot.web``: in webhook mode the webhook's server, in polling mode the same server started for this).

* The token is found by its SHA-256 and compared in constant time (``domain.usecases.calendars.open_feed``). A
  token that is not one gets 404, and counts against the client's address (``MissLimiter``): past the limit that
  address gets 429 for every feed request until its allowance refills, without the database being asked.
* ``ETag`` is the SHA-256 of the body (an unchanged feed is the same bytes, ``domain.calendar``); ``Last-Modified``
  is when the feed first served that body (stored with it, so every process agrees). ``If-None-Match`` (or, without
  it, ``If-Modified-Since``) that still holds gets 304 without a body (RFC 9110, 13.2.2).

The limiter lives in memory, bounded: it is a brake on someone trying tokens, not what keeps feeds private (a
token is 256 random bits; guessing one is hopeless at any rate). Losing its counts on a restart, or each process
counting alone, only lets a few more 404s through, and bounding the addresses it tracks keeps a flood from many
addresses from growing the process - at worst such a flood makes it forget some addresses early. Behind a proxy
the address is the proxy's unless the proxy sets the client's (``request.remote``).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from domain.calendar import content_digest
from domain.ports import Clock, UnitOfWork
from domain.usecases.calendars import open_feed, record_feed_version
from handlers.calendar_feed import feed_file

CONTENT_TYPE = "text/calendar"
CACHE_CONTROL = "private, no-cache"  # a calendar app may keep it, but must ask (conditionally) every time


@dataclass
class _Allowance:
    tokens: float
    at: float  # loop time of the last refill


class MissLimiter:
    """Per client address, ``burst`` unknown tokens at once, then one more every ``refill_seconds``; at most
    ``max_addresses`` addresses remembered (the least recently seen forgotten first)."""

    def __init__(self, burst: int = 10, refill_seconds: float = 30.0, max_addresses: int = 4096) -> None:
        self.burst = burst
        self.refill_seconds = refill_seconds
        self.max_addresses = max_addresses
        self._seen: OrderedDict[str, _Allowance] = OrderedDict()

    def _current(self, address: str, now: float) -> _Allowance | None:
        allowance = self._seen.get(address)
        if allowance is None:
            return None
        allowance.tokens = min(self.burst, allowance.tokens + (now - allowance.at) / self.refill_seconds)
        allowance.at = now
        if allowance.tokens >= self.burst:
            del self._seen[address]  # back to a full allowance: nothing to remember
            return None
        self._seen.move_to_end(address)
        return allowance

    def retry_after(self, address: str, now: float) -> float:
        """Seconds until ``address`` may try again; 0 when it may now."""
        allowance = self._current(address, now)
        if allowance is None or allowance.tokens >= 1:
            return 0.0
        return (1 - allowance.tokens) * self.refill_seconds

    def missed(self, address: str, now: float) -> None:
        """``address`` asked for a feed that does not exist."""
        allowance = self._current(address, now) or _Allowance(float(self.burst), now)
        allowance.tokens = max(0.0, allowance.tokens - 1)
        self._seen[address] = allowance
        self._seen.move_to_end(address)
        while len(self._seen) > self.max_addresses:
            self._seen.popitem(last=False)

    def __len__(self) -> int:
        return len(self._seen)


@dataclass(frozen=True, slots=True)
class FeedService:
    """What serving feeds needs from the wiring."""

    reader: Callable[[], UnitOfWork]
    writer: Callable[[], UnitOfWork]
    clock: Clock
    limiter: MissLimiter


FEED_SERVICE = web.AppKey("feed_service", FeedService)


def add_feed_route(app: web.Application, path: str, service: FeedService) -> None:
    """Serve feeds on ``path`` (with ``{token}``), GET and HEAD."""
    app[FEED_SERVICE] = service
    app.router.add_get(path, serve_feed)


async def serve_feed(request: web.Request) -> web.StreamResponse:
    service = request.app[FEED_SERVICE]
    address = request.remote or "unknown"
    now = asyncio.get_running_loop().time()
    wait = service.limiter.retry_after(address, now)
    if wait > 0:
        return web.Response(status=429, text="too many requests", headers={"Retry-After": str(int(wait) + 1)})
    async with service.reader() as uow:
        feed = await open_feed(uow, service.clock, request.match_info["token"])
    if feed is None:
        service.limiter.missed(address, now)
        return web.Response(status=404, text="not found")
    body = feed_file(feed)
    digest = content_digest(body)
    if feed.link.content_digest == digest and feed.link.changed_at is not None:
        changed_at = feed.link.changed_at
    else:
        async with service.writer() as uow:
            changed_at = await record_feed_version(uow, service.clock, feed, digest)
            await uow.commit()
    response = web.Response(status=200, body=body, content_type=CONTENT_TYPE, charset="utf-8")
    response.etag = digest
    response.last_modified = changed_at
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Content-Disposition"] = 'inline; filename="mentor-desk.ics"'
    if _not_modified(request, digest, changed_at):
        headers = {name: response.headers[name] for name in ("ETag", "Last-Modified", "Cache-Control")}
        return web.Response(status=304, headers=headers)
    return response


def _not_modified(request: web.Request, digest: str, changed_at: datetime) -> bool:
    """RFC 9110, 13.2.2: If-None-Match when present (weak comparison, ``*`` matches), else If-Modified-Since."""
    if "If-None-Match" in request.headers:
        tags = request.if_none_match or ()
        return any(tag.value in ("*", digest) for tag in tags)
    since = request.if_modified_since
    return since is not None and changed_at <= since
