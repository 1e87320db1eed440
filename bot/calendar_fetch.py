"""Fetching a mentor's calendar from the address they gave, guarded: the address is anyone's to choose, and the bot
must not become a way into the networks it can reach.

* http and https only, on every hop; redirects are followed here, at most ``MAX_REDIRECTS``, each one checked
  again.
* The host is resolved here and refused if any of its addresses is private, loopback, link-local, multicast,
  reserved, unspecified or otherwise not global - IPv4 and IPv6, with the IPv4 address inside an IPv4-mapped,
  6to4, Teredo or NAT64 IPv6 address checked too (``address_allowed``). The connection goes to the addresses that
  were checked: ``GuardedResolver`` is the resolver of aiohttp's connector (its public seam for name lookups),
  and an address written in the URL itself, which aiohttp connects to without asking a resolver, is checked
  before the request. No proxy from the environment is used.
* At most ``domain.busy.MAX_BYTES`` are read (a larger ``Content-Length`` is refused before reading; a body that
  grows past it is cut off and refused), decompressed size counted; the whole fetch, redirects included, has
  ``timeout`` seconds.
* ``allow_loopback`` (the ``CALENDAR_ALLOW_LOOPBACK`` setting, for tests) lets loopback addresses through, and
  nothing else.

A conditional GET sends the ``ETag`` and ``Last-Modified`` of the last read; ``304`` comes back as ``Fetched``
without a body. Every failure is a ``CalendarFailure`` saying why, in the terms of ``domain.busy.Problem``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from domain.busy import MAX_BYTES, CalendarFailure, Failure, Problem

MAX_REDIRECTS = 5
TIMEOUT_SECONDS = 15.0
USER_AGENT = "MentorDesk-CalendarSync/1.0 (+busy times for a mentor's bookings)"
_REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 64 * 1024

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and would reach: mapped, 6to4, Teredo (both ends), NAT64."""
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        found += list(address.teredo)
    if any(address in network for network in _NAT64):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _public(address: IPAddress) -> bool:
    return (
        address.is_global
        and not address.is_private
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
        and not (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def address_allowed(address: IPAddress | str, allow_loopback: bool = False) -> bool:
    """Whether a calendar may be fetched from ``address``: a public unicast address (and whatever IPv4 address an
    IPv6 one carries is public too). ``allow_loopback``: loopback addresses as well (tests)."""
    if isinstance(address, str):
        try:
            address = ipaddress.ip_address(address.split("%", 1)[0])  # a zone index ("fe80::1%eth0") is not public
        except ValueError:
            return False
    carried = _embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else []
    for each in (address, *carried):
        if allow_loopback and each.is_loopback:
            continue
        if not _public(each):
            return False
    return True


class AddressRefused(Exception):
    """A host resolved to an address ``address_allowed`` refuses (not an ``OSError``, so aiohttp passes it on
    instead of reporting a failed lookup)."""


class GuardedResolver(AbstractResolver):
    """Resolves through ``inner`` (aiohttp's default unless given) and refuses the host when any of its addresses
    is not allowed; the connector connects to the addresses returned, which are exactly the checked ones."""

    def __init__(self, allow_loopback: bool = False, inner: AbstractResolver | None = None) -> None:
        self.allow_loopback = allow_loopback
        self._inner = inner

    def _resolver(self) -> AbstractResolver:
        if self._inner is None:
            self._inner = aiohttp.DefaultResolver()
        return self._inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._resolver().resolve(host, port, family)
        refused = [entry["host"] for entry in found if not address_allowed(entry["host"], self.allow_loopback)]
        if refused or not found:
            raise AddressRefused(f"{host} resolves to {', '.join(refused) or 'nothing'}")
        return found

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()


@dataclass(frozen=True, slots=True)
class Fetched:
    body: bytes | None  # None: not modified since the ETag / Last-Modified sent
    etag: str | None
    last_modified: str | None


class CalendarFetcher:
    """One HTTP client for reading calendars, guarded as the module says; ``close()`` when done."""

    def __init__(
        self,
        *,
        allow_loopback: bool = False,
        timeout: float = TIMEOUT_SECONDS,
        max_bytes: int = MAX_BYTES,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self.allow_loopback = allow_loopback
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._inner_resolver = resolver
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(self.allow_loopback, self._inner_resolver),
                use_dns_cache=False,  # every connection asks the resolver, so every address is checked
                limit=20,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                trust_env=False,  # no proxy from the environment: the connection goes where it was checked
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.timeout),
                headers={"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """The calendar at ``url`` (``CalendarFailure`` when it cannot be read). ``etag``/``last_modified``: make
        it a conditional GET."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(URL(url), etag, last_modified)
        except TimeoutError:
            raise CalendarFailure(Failure(Problem.TIMEOUT)) from None

    async def _follow(self, url: URL, etag: str | None, last_modified: str | None) -> Fetched:
        conditional: dict[str, str] = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        for _hop in range(MAX_REDIRECTS + 1):
            self._check(url)
            try:
                async with self._client().get(url, headers=conditional, allow_redirects=False) as response:
                    if response.status in _REDIRECTS:
                        location = response.headers.get("Location")
                        if not location:
                            raise CalendarFailure(Failure(Problem.HTTP, response.status))
                        url = url.join(URL(location))
                        continue
                    if response.status == 304 and conditional:
                        return Fetched(None, etag, last_modified)
                    if response.status != 200:
                        raise CalendarFailure(Failure(Problem.HTTP, response.status))
                    body = await self._read(response)
                    return Fetched(body, response.headers.get("ETag"), response.headers.get("Last-Modified"))
            except AddressRefused as error:
                raise CalendarFailure(Failure(Problem.ADDRESS), str(error)) from None
            except aiohttp.ClientConnectorDNSError as error:
                raise CalendarFailure(Failure(Problem.DNS), str(error)) from None
            except aiohttp.InvalidURL as error:
                raise CalendarFailure(Failure(Problem.REDIRECTS), str(error)) from None
            except (aiohttp.ClientError, OSError) as error:
                raise CalendarFailure(Failure(Problem.CONNECT), repr(error)) from None
        raise CalendarFailure(Failure(Problem.REDIRECTS))

    def _check(self, url: URL) -> None:
        """Before each hop: http(s) with a host; a host that is an address must be allowed (aiohttp connects to an
        address in the URL without asking the resolver)."""
        if url.scheme not in ("http", "https") or not url.host:
            raise CalendarFailure(Failure(Problem.REDIRECTS), f"not http(s): {url.scheme}")
        host = url.host.strip("[]")
        try:
            literal: Any = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return  # a name: the resolver checks what it resolves to
        if not address_allowed(literal, self.allow_loopback):
            raise CalendarFailure(Failure(Problem.ADDRESS), f"address {host}")

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        if response.content_length is not None and response.content_length > self.max_bytes:
            raise CalendarFailure(Failure(Problem.TOO_LARGE), f"Content-Length {response.content_length}")
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > self.max_bytes:
                raise CalendarFailure(Failure(Problem.TOO_LARGE), f"more than {self.max_bytes} bytes")
        return bytes(body)
