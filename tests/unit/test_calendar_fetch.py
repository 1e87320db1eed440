"""Fetching a mentor's calendar, guarded (``bot.calendar_fetch``): which addresses may be reached (the pure rule,
IPv4 and IPv6), and the client against local HTTP servers - conditional GET, redirects checked on every hop, the
size limit, a server that never answers - with the guard on (names resolved by a test resolver) and with only
loopback allowed, as the tests' setting does."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.calendar_fetch import MAX_REDIRECTS, CalendarFetcher, address_allowed
from domain.busy import CalendarFailure, Failure, Problem

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n"

# --- which addresses ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4001:82a::200e", "2002:5db8:d70e::"],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_allowed(address) and address_allowed(address, allow_loopback=True)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.1.2.3", "::1",  # loopback
        "10.0.0.1", "172.16.5.4", "192.168.1.1", "fc00::1", "fd12:3456::1",  # private
        "169.254.169.254", "fe80::1", "fe80::1%eth0",  # link-local (the cloud metadata address)
        "224.0.0.1", "239.255.255.250", "ff02::1",  # multicast
        "0.0.0.0", "::",  # unspecified
        "240.0.0.1", "255.255.255.255", "100.64.0.1", "192.0.2.10", "198.18.0.1", "2001:db8::1",  # reserved
        "fec0::1",  # site-local
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",  # IPv4-mapped
        "2002:a00:1::", "2002:a9fe:a9fe::",  # 6to4 carrying 10.0.0.1 and 169.254.169.254
        "64:ff9b::a00:1",  # NAT64 carrying 10.0.0.1
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo (carries private addresses)
        "not an address", "",
    ],
)  # fmt: skip
def test_private_loopback_link_local_multicast_reserved_and_unspecified_are_refused(address: str) -> None:
    assert not address_allowed(address)


def test_the_tests_setting_allows_loopback_and_nothing_else() -> None:
    assert address_allowed("127.0.0.1", allow_loopback=True) and address_allowed("::1", allow_loopback=True)
    for address in ("10.0.0.1", "169.254.169.254", "192.168.1.1", "0.0.0.0", "::ffff:10.0.0.1", "fe80::1"):
        assert not address_allowed(address, allow_loopback=True), address


# --- the client against local servers --------------------------------------------------------------------------


class Resolver(AbstractResolver):
    """Names the test made up (``*.test``), each to one address; anything else is not found."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.names:
            raise OSError(f"{host}: name not known")
        address = self.names[host]
        kind = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [{"hostname": host, "host": address, "port": port, "family": kind, "proto": 0, "flags": 0}]

    async def close(self) -> None:
        pass


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serving(routes: dict[str, Handler]) -> AsyncIterator[str]:
    """A local HTTP server with ``routes`` (GET); yields ``http://127.0.0.1:<port>``."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def fetcher(**options: object) -> AsyncIterator[CalendarFetcher]:
    client = CalendarFetcher(**options)  # type: ignore[arg-type]
    try:
        yield client
    finally:
        await client.close()


async def refused(client: CalendarFetcher, url: str, **headers: str) -> Failure:
    with pytest.raises(CalendarFailure) as caught:
        await client.fetch(url, **headers)
    return caught.value.failure


def calendar_route(seen: list[dict[str, str]]) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        seen.append(dict(request.headers))
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.Response(body=ICS, content_type="text/calendar", headers={"ETag": '"v1"'})

    return handle


async def test_a_calendar_is_read_and_then_asked_for_only_if_it_changed() -> None:
    seen: list[dict[str, str]] = []
    async with serving({"/cal.ics": calendar_route(seen)}) as base, fetcher(allow_loopback=True) as client:
        first = await client.fetch(f"{base}/cal.ics")
        assert (first.body, first.etag) == (ICS, '"v1"')
        again = await client.fetch(f"{base}/cal.ics", etag='"v1"', last_modified="Tue, 24 Nov 2026 06:00:00 GMT")
        assert again.body is None and again.etag == '"v1"'
    assert "If-None-Match" not in seen[0]
    assert seen[1]["If-None-Match"] == '"v1"' and seen[1]["If-Modified-Since"] == "Tue, 24 Nov 2026 06:00:00 GMT"
    assert seen[0]["User-Agent"].startswith("MentorDesk")


async def test_with_the_guard_on_loopback_is_refused_by_address_and_by_name() -> None:
    seen: list[dict[str, str]] = []
    async with serving({"/cal.ics": calendar_route(seen)}) as base:
        port = base.rsplit(":", 1)[1]
        names = Resolver({"calendar.test": "127.0.0.1", "six.test": "::1"})
        async with fetcher(resolver=names) as client:
            assert await refused(client, f"{base}/cal.ics") == Failure(Problem.ADDRESS)
            assert await refused(client, f"http://[::ffff:127.0.0.1]:{port}/cal.ics") == Failure(Problem.ADDRESS)
            assert await refused(client, f"http://calendar.test:{port}/cal.ics") == Failure(Problem.ADDRESS)
            assert await refused(client, f"http://six.test:{port}/cal.ics") == Failure(Problem.ADDRESS)
            assert await refused(client, f"http://nowhere.test:{port}/cal.ics") == Failure(Problem.DNS)
    assert seen == []  # nothing reached the server
    assert names.asked == ["calendar.test", "six.test", "nowhere.test"]


async def test_the_connection_goes_to_the_address_the_resolver_checked() -> None:
    """``calendar.test`` exists only in the test resolver: reaching the server proves the connector connected to
    the address that resolver returned (and checked), not to one it looked up again."""
    seen: list[dict[str, str]] = []
    async with serving({"/cal.ics": calendar_route(seen)}) as base:
        port = base.rsplit(":", 1)[1]
        names = Resolver({"calendar.test": "127.0.0.1"})
        async with fetcher(allow_loopback=True, resolver=names) as client:
            fetched = await client.fetch(f"http://calendar.test:{port}/cal.ics")
    assert fetched.body == ICS and seen[0]["Host"] == f"calendar.test:{port}"


def redirect(to: str) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(to)

    return handle


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/cal.ics",
        "http://[fd00::1]/cal.ics",
        "http://[::ffff:192.168.0.1]/cal.ics",
        "http://internal.test/cal.ics",  # the test resolver says 192.168.1.20
    ],
)
async def test_a_redirect_to_a_private_address_is_refused_even_with_loopback_allowed(target: str) -> None:
    """The first hop is the loopback server (allowed by the tests' setting); the hop it redirects to is checked
    again and refused before anything connects there."""
    names = Resolver({"internal.test": "192.168.1.20"})
    async with serving({"/cal.ics": redirect(target)}) as base, fetcher(allow_loopback=True, resolver=names) as c:
        assert await refused(c, f"{base}/cal.ics") == Failure(Problem.ADDRESS)


async def test_redirects_are_followed_and_checked_at_most_five_times() -> None:
    seen: list[dict[str, str]] = []
    routes: dict[str, Handler] = {"/cal.ics": calendar_route(seen), "/ftp": redirect("ftp://example.com/cal.ics")}
    for hop in range(MAX_REDIRECTS + 1):
        routes[f"/hop{hop}"] = redirect(f"/hop{hop + 1}" if hop < MAX_REDIRECTS else "/cal.ics")
    routes[f"/hop{MAX_REDIRECTS + 1}"] = redirect("/cal.ics")
    async with serving(routes) as base, fetcher(allow_loopback=True) as client:
        # /hop1 .. /hop5 then /cal.ics: five redirects, allowed
        assert (await client.fetch(f"{base}/hop1")).body == ICS
        # /hop0 .. /hop5 then /cal.ics: six, refused
        assert await refused(client, f"{base}/hop0") == Failure(Problem.REDIRECTS)
        assert await refused(client, f"{base}/ftp") == Failure(Problem.REDIRECTS)
    assert len(seen) == 1


async def big_calendar(request: web.Request) -> web.StreamResponse:
    """Just over 5 MB: with its length announced (``?length=1``) or streamed without one."""
    body = ICS + b"X" * (5 * 1024 * 1024)
    if request.query.get("length"):
        return web.Response(body=body, content_type="text/calendar")
    response = web.StreamResponse(headers={"Content-Type": "text/calendar"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        for start in range(0, len(body), 256 * 1024):
            await response.write(body[start : start + 256 * 1024])
    except (ConnectionResetError, OSError):  # the client stopped reading: what it should do
        pass
    return response


async def test_a_calendar_over_five_megabytes_is_refused_whether_or_not_its_length_is_announced() -> None:
    async with serving({"/big.ics": big_calendar}) as base, fetcher(allow_loopback=True) as client:
        assert await refused(client, f"{base}/big.ics?length=1") == Failure(Problem.TOO_LARGE)
        assert await refused(client, f"{base}/big.ics") == Failure(Problem.TOO_LARGE)
        small = CalendarFetcher(allow_loopback=True, max_bytes=len(ICS))
        try:
            assert await refused(small, f"{base}/big.ics") == Failure(Problem.TOO_LARGE)
        finally:
            await small.close()


async def test_a_server_that_never_answers_times_out() -> None:
    arrived, release = asyncio.Event(), asyncio.Event()

    async def hang(request: web.Request) -> web.StreamResponse:
        arrived.set()
        await release.wait()  # never set while the client waits
        return web.Response(body=ICS)

    async with serving({"/slow.ics": hang}) as base, fetcher(allow_loopback=True, timeout=0.5) as client:
        try:
            assert await refused(client, f"{base}/slow.ics") == Failure(Problem.TIMEOUT)
            assert arrived.is_set()  # it was the server's silence, not a connection failure
        finally:
            release.set()


async def test_error_statuses_are_reported_with_their_code() -> None:
    async def gone(request: web.Request) -> web.StreamResponse:
        return web.Response(status=int(request.query["status"]))

    async with serving({"/x.ics": gone}) as base, fetcher(allow_loopback=True) as client:
        for status in (404, 403, 500):
            assert await refused(client, f"{base}/x.ics?status={status}") == Failure(Problem.HTTP, status)
        # a 304 nobody asked for is an error too
        assert await refused(client, f"{base}/x.ics?status=304") == Failure(Problem.HTTP, 304)


async def test_a_closed_port_is_a_connection_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with fetcher(allow_loopback=True) as client:
        assert await refused(client, f"http://127.0.0.1:{port}/cal.ics") == Failure(Problem.CONNECT)
