"""The model providers: their health (key present, reachable) and the models an endpoint
offers, for the agent editor. Logic only; the routes are :mod:`agenthub.providers.api`.

The platform's own addresses (the providers' defaults, ``OPENAI_BASE_URL``) are the
operator's; a ``base_url`` a caller sends goes through the outbound guard first (loopback
and private addresses for owners and admins only). The platform key goes only where
:func:`agenthub.llm.factory.platform_key` sends it; nothing secret is ever answered.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, get_args
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from agenthub.caller import Caller
from agenthub.config import Settings, mask_url
from agenthub.errors import AgentHubError, InvalidInput
from agenthub.llm.factory import KEY_VARIABLES, OWN_HOSTS, default_base_url, platform_key
from agenthub.outbound.guard import OutboundGuard, OutboundRefused
from agenthub.providers.schemas import ModelList, ModelRead, ProviderList, ProviderName, ProviderRead

PROVIDERS: tuple[str, ...] = get_args(ProviderName)
PROBE_TIMEOUT = 3.0
"""Seconds a health check waits for a provider."""
LIST_TIMEOUT = 10.0
"""Seconds a model listing waits for an endpoint."""
HEALTH_TTL = 15.0
"""Seconds a health check is reused: the list is cheap to ask for however often it is."""
BUILTIN_MODELS = ("demo",)
"""What the offline ``fake`` provider offers (it answers to any model id)."""
Fetch = Callable[[httpx.AsyncClient, str, SecretStr | None], Awaitable[list[ModelRead]]]
"""One way of asking an endpoint for its models."""


class UpstreamFailed(AgentHubError):
    """The endpoint asked for its models did not give them."""

    status_code = 502
    code = "upstream_failed"


def ollama_root(url: str) -> str:
    """Ollama's own API root from its OpenAI-compatible address (``.../v1`` dropped)."""
    url = url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def _headers(key: SecretStr | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.get_secret_value()}"} if key is not None else {}


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "the endpoint"
    except ValueError:
        return "the endpoint"


async def _probe(client: httpx.AsyncClient, provider: str, url: str, key: SecretStr | None) -> tuple[bool, str]:
    target = f"{ollama_root(url)}/api/tags" if provider == "ollama" else f"{url.rstrip('/')}/models"
    try:
        response = await client.get(target, headers=_headers(key))
    except httpx.TimeoutException:
        return False, "timed out"
    except httpx.HTTPError as error:
        return False, f"unreachable ({type(error).__name__})"
    return True, "ok" if response.status_code < 400 else f"HTTP {response.status_code}"


class ProviderHealth:
    """The providers' health, checked concurrently and reused for :data:`HEALTH_TTL`
    seconds (one per app: the routes find it on ``app.state.provider_health``)."""

    def __init__(self, settings: Settings, *, ttl: float = HEALTH_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._ttl = ttl
        self._clock = clock
        self._checked: tuple[float, ProviderList] | None = None
        self._lock = asyncio.Lock()

    async def providers(self) -> ProviderList:
        async with self._lock:  # one check at a time; the others get its result
            if self._checked is not None and self._clock() - self._checked[0] < self._ttl:
                return self._checked[1]
            checked = await self._check()
            self._checked = (self._clock(), checked)
            return checked

    async def _check(self) -> ProviderList:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT, follow_redirects=False) as client:
            items = await asyncio.gather(*(self._one(client, name) for name in PROVIDERS))
        return ProviderList(items=list(items))

    async def _one(self, client: httpx.AsyncClient, name: str) -> ProviderRead:
        settings = self._settings
        variable = KEY_VARIABLES.get(name)
        present = None if variable is None else getattr(settings, variable.lower()) is not None
        if name == "fake":
            return ProviderRead(
                name="fake", base_url=None, key_variable=None, key_present=None, reachable=True, status="ok"
            )
        url = default_base_url(name, settings.openai_base_url)
        if not url:
            return ProviderRead(
                name=name, base_url=None, key_variable=variable, key_present=present, reachable=None, status=None  # type: ignore[arg-type]
            )
        reachable, status = await _probe(client, name, url, platform_key(settings, name, url))
        return ProviderRead(
            name=name, base_url=mask_url(url), key_variable=variable, key_present=present,  # type: ignore[arg-type]
            reachable=reachable, status=status,
        )


async def list_models(
    settings: Settings, guard: OutboundGuard, *, caller: Caller, provider: str, base_url: str | None
) -> ModelList:
    """The models the endpoint offers: ``base_url`` (checked by the guard), else the
    provider's own address. Raises InvalidInput for a refused or missing address,
    UpstreamFailed when the endpoint gives no list."""
    if provider == "fake":
        return ModelList(
            provider="fake", base_url=None, source="builtin", models=[ModelRead(id=m) for m in BUILTIN_MODELS]
        )
    transport: httpx.AsyncBaseTransport | None = None
    if base_url is not None:
        try:
            addresses = await guard.check(base_url, trusted=caller.at_least("admin"))
        except OutboundRefused as refused:
            raise InvalidInput(refused.message, field="base_url", code="outbound_refused") from None
        # The connection goes to the address checked, not to what the name resolves to next.
        transport = PinnedTransport(urlsplit(base_url).hostname or "", str(addresses[0]))
    url = base_url or default_base_url(provider, settings.openai_base_url)
    if not url:
        raise InvalidInput(f"provider {provider!r} has no address of its own: give base_url", field="base_url")
    key = platform_key(settings, provider, url)
    if key is None and provider in OWN_HOSTS and _host(url) == OWN_HOSTS[provider]:
        raise UpstreamFailed(f"{KEY_VARIABLES[provider]} is not set on the server: {OWN_HOSTS[provider]} lists no models without it")
    ways: list[tuple[str, Fetch]] = [("openai", _openai_models)]
    if provider in ("ollama", "openai_compatible"):
        # Ollama's own API too: first for `ollama`, after the OpenAI-compatible one otherwise.
        ways.insert(0 if provider == "ollama" else 1, ("ollama", _ollama_tags))
    problems: list[str] = []
    async with httpx.AsyncClient(timeout=LIST_TIMEOUT, follow_redirects=False, transport=transport) as client:
        for source, fetch in ways:
            try:
                models = await fetch(client, url, key)
            except _NoList as problem:
                problems.append(str(problem))
                continue
            return ModelList(provider=provider, base_url=mask_url(url), source=source, models=models)  # type: ignore[arg-type]
    raise UpstreamFailed(f"{_host(url)} did not list its models: {'; '.join(problems)}")


class PinnedTransport(httpx.AsyncBaseTransport):
    """Connects to ``host`` at ``address`` (what the outbound guard checked), keeping the
    name in the ``Host`` header and for TLS (SNI and the certificate's check)."""

    def __init__(self, host: str, address: str) -> None:
        self._host = host
        self._address = address
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == self._host and self._host != self._address:
            request.url = request.url.copy_with(host=self._address)
            request.extensions = {**request.extensions, "sni_hostname": self._host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class _NoList(Exception):
    """One way of asking for the models failed (the message says how)."""


async def _get_json(client: httpx.AsyncClient, target: str, key: SecretStr | None) -> Any:
    where = urlsplit(target).path
    try:
        response = await client.get(target, headers=_headers(key))
    except httpx.TimeoutException:
        raise _NoList(f"{where} timed out") from None
    except httpx.HTTPError as error:
        raise _NoList(f"{where} unreachable ({type(error).__name__})") from None
    if response.status_code != 200:
        raise _NoList(f"{where} answered HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise _NoList(f"{where} answered something other than JSON") from None


async def _openai_models(client: httpx.AsyncClient, url: str, key: SecretStr | None) -> list[ModelRead]:
    body = await _get_json(client, f"{url.rstrip('/')}/models", key)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise _NoList("/models answered no `data` list")
    return sorted(
        (
            ModelRead(id=str(m["id"]), owned_by=str(m["owned_by"]) if m.get("owned_by") else None)
            for m in data if isinstance(m, dict) and m.get("id")
        ),
        key=lambda m: m.id,
    )


async def _ollama_tags(client: httpx.AsyncClient, url: str, key: SecretStr | None) -> list[ModelRead]:
    body = await _get_json(client, f"{ollama_root(url)}/api/tags", key)
    data = body.get("models") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise _NoList("/api/tags answered no `models` list")
    return sorted(
        (ModelRead(id=str(m.get("name") or m.get("model"))) for m in data if isinstance(m, dict) and (m.get("name") or m.get("model"))),
        key=lambda m: m.id,
    )
