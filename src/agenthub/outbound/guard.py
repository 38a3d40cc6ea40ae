"""Refuse outbound requests to addresses inside the platform's own network.

A URL that a user configured is checked when it is used, after DNS resolution: every
address its host resolves to must be public. Loopback, private, link-local, cloud-metadata
and other special-purpose addresses are refused unless ``OUTBOUND_ALLOWLIST`` names the host,
the address or a network holding it. Where an owner or admin of the organisation set the
URL (``trusted``: an agent's ``base_url`` pointing at a local Ollama or vLLM, an MCP server,
an embedding endpoint), loopback and private addresses are allowed too; link-local and
metadata addresses never are, but through the allow-list.

:meth:`OutboundGuard.check` is the decision; :mod:`agenthub.outbound.http` applies it to the
connection an HTTP client actually opens (so a DNS answer that changes between the check and
the connection, or a redirect, cannot slip past it).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from agenthub.config import Settings
from agenthub.errors import AgentHubError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Category = Literal["loopback", "private", "link-local", "metadata", "reserved"]

METADATA_ADDRESSES = frozenset({
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, DigitalOcean...
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
})
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "metadata.azure.internal"})
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
"""Carrier-grade NAT (RFC 6598): not public, treated as private."""


class OutboundRefused(AgentHubError):
    """A configured URL leads to an address the guard refuses; the message says which:
    ``refused: <host> is a loopback address`` (``<host> (<address>)`` where a name resolved
    to it)."""

    code = "outbound_refused"
    status_code = 400


class Unresolvable(OutboundRefused):
    """The host could not be resolved (``refused: <host> could not be resolved (...)``): no
    connection is made, but nothing says the address would be refused either."""


def category(address: IPAddress) -> Category | None:
    """What kind of non-public address ``address`` is; None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return category(address.ipv4_mapped)
    if address in METADATA_ADDRESSES:
        return "metadata"
    if address.is_loopback or address.is_unspecified:
        return "loopback"  # 0.0.0.0 and :: reach the machine itself
    if address.is_link_local:
        return "link-local"
    if address.is_private or address in SHARED_ADDRESS_SPACE:
        return "private"
    if address.is_multicast or address.is_reserved or not address.is_global:
        return "reserved"
    return None


TRUSTED_CATEGORIES: frozenset[Category] = frozenset({"loopback", "private"})
"""What an owner's or admin's own configuration may reach (a local model server)."""


@dataclass(frozen=True)
class OutboundGuard:
    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboundGuard:
        return cls.from_allowlist(settings.outbound_allowlist.split(","))

    @classmethod
    def from_allowlist(cls, entries: Iterable[str]) -> OutboundGuard:
        """``OUTBOUND_ALLOWLIST``'s entries: host names, addresses or networks (CIDR)."""
        hosts: set[str] = set()
        networks: list[Network] = []
        for entry in (item.strip().lower() for item in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".").strip("[]") in self.allowed_hosts

    def refusal(self, host: str, address: IPAddress, *, trusted: bool = False) -> str | None:
        """Why a connection to ``address`` (what ``host`` resolved to) is refused; None when
        it may go."""
        kind = category(address)
        if kind is None or self.allows_host(host) or any(address in network for network in self.allowed_networks):
            return None
        if trusted and kind in TRUSTED_CATEGORIES:
            return None
        shown = host.strip("[]")
        named = shown if shown == str(address) else f"{shown} ({address})"
        if kind == "metadata":
            what = "a link-local address (cloud metadata)" if address.is_link_local else "a cloud-metadata address"
        else:
            what = f"a {kind} address"
        return f"refused: {named} is {what}"

    async def resolve(self, host: str, port: int, *, trusted: bool = False) -> list[IPAddress]:
        """The addresses of ``host`` a connection may use: all it resolves to, each allowed.
        Raises :class:`OutboundRefused` if any is refused (a name that resolves to one
        private address among public ones is refused: the client might pick it)."""
        name = host.strip("[]")
        if name.lower().rstrip(".") in METADATA_HOSTS and not self.allows_host(name):
            raise OutboundRefused(f"refused: {name} is a cloud-metadata address")
        try:
            addresses = [ipaddress.ip_address(name)]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(name, port, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError) as error:
                raise Unresolvable(f"refused: {name} could not be resolved ({error})") from None
            addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))
        for address in addresses:
            reason = self.refusal(name, address, trusted=trusted)
            if reason:
                raise OutboundRefused(reason)
        return addresses

    async def check(self, url: str, *, trusted: bool = False) -> list[IPAddress]:
        """Check the host of ``url`` (see :meth:`resolve`); :class:`OutboundRefused` for a
        URL that is not http(s) or names no host."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError:
            raise OutboundRefused("refused: not a valid URL") from None
        if parts.scheme not in ("http", "https") or not host:
            raise OutboundRefused("refused: only http:// and https:// URLs may be called")
        return await self.resolve(host, port or (443 if parts.scheme == "https" else 80), trusted=trusted)
