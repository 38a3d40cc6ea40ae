"""HTTP clients that the outbound guard holds for: the connection a client really opens.

:func:`guarded_client` (``httpx``) and :func:`guarded_client2` (``httpx2``, what the ``mcp``
SDK takes) build an ``AsyncClient`` whose transport, for every new connection, resolves the
host once, checks every address with :class:`~agenthub.outbound.guard.OutboundGuard` and
connects to a checked address, never looking the name up a second time (a DNS answer that
changes between the check and the connection cannot slip past). TLS is still verified
against the host name of the URL. No proxy from the environment is used (it would be the one
connected to), and the clients follow no redirect by themselves: :func:`send_following`
follows at most :data:`MAX_REDIRECTS` by hand, each hop's connection checked the same way,
the configured headers dropped when a hop leaves the origin.

A refused connection raises :class:`~agenthub.outbound.guard.OutboundRefused` out of the
request (``refused: localhost (127.0.0.1) is a loopback address``).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Iterable
from types import ModuleType
from typing import Any, ClassVar

import httpcore
import httpcore2
import httpx
import httpx2

from agenthub.outbound.guard import IPAddress, OutboundGuard, OutboundRefused

MAX_REDIRECTS = 5


class _GuardedBackend:
    """A network backend of ``httpcore`` or ``httpcore2`` (``core``: the two differ only in
    their module) connecting only to addresses the guard allows: resolve, check, connect to
    a checked address."""

    core: ClassVar[ModuleType]

    def __init__(self, guard: OutboundGuard, *, trusted: bool = False) -> None:
        self.guard, self.trusted = guard, trusted
        self._inner = self.core.AnyIOBackend()

    async def _addresses(self, host: str, port: int, timeout: float | None) -> list[IPAddress]:
        try:
            return await asyncio.wait_for(self.guard.resolve(host, port, trusted=self.trusted), timeout)
        except TimeoutError:
            raise OutboundRefused(f"refused: {host} could not be resolved in time") from None

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> Any:
        addresses = await self._addresses(host, port, timeout)
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (self.core.ConnectError, self.core.ConnectTimeout) as failed:
                error = failed
        assert error is not None  # resolve() returns at least one address
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> Any:
        raise OutboundRefused("refused: unix sockets may not be used")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedBackend(_GuardedBackend, httpcore.AsyncNetworkBackend):
    """The guarded backend of ``httpcore`` (``httpx``)."""

    core: ClassVar[ModuleType] = httpcore


class GuardedBackend2(_GuardedBackend, httpcore2.AsyncNetworkBackend):
    """The guarded backend of ``httpcore2`` (``httpx2``)."""

    core: ClassVar[ModuleType] = httpcore2


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The process's one context for verifying servers: loading the certificate store takes
    tens of milliseconds, too much for every tool call (contexts are safe to share)."""
    return httpx.create_ssl_context(trust_env=False)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """An ``httpx`` transport whose every connection goes through :class:`GuardedBackend`."""

    def __init__(self, guard: OutboundGuard, *, trusted: bool = False, limits: httpx.Limits | None = None) -> None:
        super().__init__(verify=shared_ssl_context(), trust_env=False)
        limits = limits or httpx.Limits(max_connections=20, max_keepalive_connections=5)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=shared_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(guard, trusted=trusted),
        )


class GuardedTransport2(httpx2.AsyncHTTPTransport):
    """The same for ``httpx2``."""

    def __init__(self, guard: OutboundGuard, *, trusted: bool = False) -> None:
        super().__init__(verify=shared_ssl_context(), trust_env=False)
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=shared_ssl_context(),
            max_connections=20,
            max_keepalive_connections=5,
            network_backend=GuardedBackend2(guard, trusted=trusted),
        )


def guarded_client(
    guard: OutboundGuard, *, trusted: bool = False, timeout: float | httpx.Timeout = 30.0, **kwargs: Any
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` the guard holds for (see the module); ``trusted``: an owner's
    or admin's own configuration (loopback and private addresses allowed)."""
    return httpx.AsyncClient(
        transport=GuardedTransport(guard, trusted=trusted), timeout=timeout, follow_redirects=False,
        trust_env=False, **kwargs,
    )


def guarded_client2(
    guard: OutboundGuard, *, trusted: bool = False, timeout: float | httpx2.Timeout = 30.0, **kwargs: Any
) -> httpx2.AsyncClient:
    """The same with ``httpx2`` (the ``mcp`` SDK's client)."""
    return httpx2.AsyncClient(
        transport=GuardedTransport2(guard, trusted=trusted), timeout=timeout, follow_redirects=False,
        trust_env=False, **kwargs,
    )


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


async def send_following(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    max_redirects: int = MAX_REDIRECTS,
    private_headers: Iterable[str] = (),
) -> httpx.Response:
    """Send ``request`` (streamed: the caller reads and closes the response) and follow its
    redirects by hand, at most ``max_redirects``; each hop connects through the guard.
    ``private_headers`` (the configured ones: keys, tokens) are not sent to another origin.
    A redirect past the limit raises :class:`OutboundRefused`."""
    private = {name.lower() for name in private_headers}
    first = _origin(request.url)
    for _ in range(max_redirects + 1):
        response = await client.send(request, stream=True, follow_redirects=False)
        following = response.next_request
        if following is None:
            return response
        await response.aclose()
        if following.url.scheme not in ("http", "https"):
            raise OutboundRefused("refused: a redirect to a URL that is not http:// or https://")
        if _origin(following.url) != first:
            for name in list(following.headers):
                if name.lower() in private:
                    del following.headers[name]
        request = following
    raise OutboundRefused(f"refused: more than {max_redirects} redirects")
