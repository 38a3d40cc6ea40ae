"""An agent whose model calls would go to its provider's own service while the provider's
key is not set on the server: the turn fails at once with an error naming the missing
variable, and no connection is made. A keyed proxy (``openai`` with a base_url) is called
as the README says. The real app, a real fake model server, and a local HTTPS proxy that
counts the connections the server tries to make to the internet."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.agents.helpers import agent_body, client_for
from tests.support.fake_openai import FakeOpenAI
from tests.support.sse import parse_sse


class CountingProxy:
    """An HTTP(S) proxy on 127.0.0.1 that counts the connections made to it and serves none:
    every request of the server under test to the internet would come here first."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0

    async def _handle(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()

    async def __aenter__(self) -> CountingProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture
async def proxy(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[CountingProxy]:
    """Outbound HTTPS of this process goes through a CountingProxy; no provider key is set."""
    for name in ("OPENAI_API_KEY", "OPENROUTER_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE",
                 "NO_PROXY", "no_proxy", "https_proxy", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    async with CountingProxy() as counting:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{counting.port}")
        yield counting


async def _turn(client: httpx.AsyncClient, agent_id: str, settings: dict[str, Any]) -> list[tuple[str, dict]]:
    created = await client.post("/api/v1/agents", json=agent_body(id=agent_id, settings=settings))
    assert created.status_code == 201, created.text
    response = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": "hello"}, timeout=60)
    assert response.status_code == 200, response.text
    return parse_sse(response.text)


def _error(events: list[tuple[str, dict]]) -> str:
    errors = [data["message"] for name, data in events if name == "error"]
    assert len(errors) == 1 and events[-1][0] == "done", events
    return errors[0]


@pytest.mark.parametrize(
    ("provider", "variable", "host"),
    [("openai", "OPENAI_API_KEY", "api.openai.com"), ("openrouter", "OPENROUTER_API_KEY", "openrouter.ai")],
)
async def test_a_provider_without_its_key_fails_at_once_without_a_connection(
    sqlite_url: str, proxy: CountingProxy, provider: str, variable: str, host: str
) -> None:
    async with client_for(sqlite_url) as (_, client):
        default = _error(await _turn(client, "default-url", {"provider": provider, "model_id": "m"}))
        explicit = _error(await _turn(
            client, "explicit-url", {"provider": provider, "model_id": "m", "base_url": f"https://{host}/api/v1"}
        ))
    for said in (default, explicit):
        assert said.startswith(f"{variable} is not set on the server"), said
        assert host in said and "could not be reached" not in said
    assert proxy.connections == 0, "no connection was tried"


async def test_with_the_key_set_the_provider_is_called(sqlite_url: str, proxy: CountingProxy) -> None:
    """The same agent with the key set goes out (here to the proxy, which serves nothing)."""
    async with client_for(sqlite_url, openai_api_key="sk-a-key-for-the-test") as (_, client):
        said = _error(await _turn(client, "keyed", {"provider": "openai", "model_id": "m"}))
    assert "is not set" not in said
    assert proxy.connections >= 1
    assert "sk-a-key-for-the-test" not in said


async def test_the_operator_s_openai_base_url_gets_the_key(
    sqlite_url: str, proxy: CountingProxy, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """A keyed proxy is set by the operator (OPENAI_BASE_URL), not by whoever edits an agent."""
    fake_openai.add_answer("Hello from the proxy")
    async with client_for(
        sqlite_url, openai_api_key="sk-proxy-key-123456", openai_base_url=fake_openai.url, data_dir=tmp_path
    ) as (_, client):
        events = await _turn(client, "proxied", {"provider": "openai", "model_id": "m"})
    assert [data["content"] for name, data in events if name == "message"] == ["Hello from the proxy"]
    (request,) = fake_openai.requests
    assert request.headers["authorization"] == "Bearer sk-proxy-key-123456"
    assert proxy.connections == 0


async def test_an_agent_s_base_url_gets_no_platform_key_but_its_credential_s(
    sqlite_url: str, proxy: CountingProxy, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """OPENAI_API_KEY is set, yet an agent pointed at another server sends no key there; one
    that names a credential of its organisation sends that credential's value."""
    fake_openai.add_answer("No key needed here")
    fake_openai.add_answer("Keyed by the organisation")
    async with client_for(sqlite_url, openai_api_key="sk-platform-key-123456", data_dir=tmp_path) as (_, client):
        keyless = await _turn(client, "keyless", {"provider": "openai", "model_id": "m", "base_url": fake_openai.url})
        created = await client.post(
            "/api/v1/credentials", json={"name": "Our key", "type": "api_key", "value": "org-own-key-abcdef"}
        )
        assert created.status_code == 201, created.text
        keyed = await _turn(client, "keyed", {
            "provider": "openai", "model_id": "m", "base_url": fake_openai.url,
            "api_key_credential_id": created.json()["id"],
        })
    said = [[data["content"] for name, data in events if name == "message"] for events in (keyless, keyed)]
    assert said == [["No key needed here"], ["Keyed by the organisation"]]
    first, second = fake_openai.requests
    assert "authorization" not in first.headers
    assert second.headers["authorization"] == "Bearer org-own-key-abcdef"
    for request in (first, second):
        assert not any("sk-platform-key" in value for value in request.headers.values())
    assert proxy.connections == 0


async def test_a_credential_that_is_gone_fails_the_turn_saying_so(
    sqlite_url: str, proxy: CountingProxy, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    settings = {"provider": "openai_compatible", "model_id": "m", "base_url": fake_openai.url}
    async with client_for(sqlite_url, data_dir=tmp_path) as (_, client):
        refused = await client.post("/api/v1/agents", json=agent_body(
            id="typo", settings={**settings, "api_key_credential_id": "cred_missing"}))
        assert refused.status_code == 422, refused.text  # a credential it lacks is refused when saved
        assert refused.json()["error"]["details"][0]["field"] == "settings.api_key_credential_id"
        created = await client.post(
            "/api/v1/credentials", json={"name": "Our key", "type": "api_key", "value": "org-own-key-abcdef"}
        )
        credential = created.json()["id"]
        made = await client.post("/api/v1/agents", json=agent_body(
            id="orphan", settings={**settings, "api_key_credential_id": credential}))
        assert made.status_code == 201, made.text
        assert (await client.delete(f"/api/v1/credentials/{credential}")).status_code == 204
        response = await client.post("/api/v1/agents/orphan/chat", json={"content": "hello"}, timeout=60)
        said = _error(parse_sse(response.text))
    assert f"'{credential}'" in said and "does not exist" in said, said
    assert fake_openai.requests == []
