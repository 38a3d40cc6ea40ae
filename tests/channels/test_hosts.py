"""DNS rebinding: a request addressed to a host name AgentHub is not reached by (a page
on a rebinding domain) is refused with 400 in the JSON error shape, its WebSocket too;
ALLOWED_HOSTS widens or (``*``) lifts the check."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from agenthub.channels.hosts import host_allowed
from tests.agents.helpers import assert_error
from tests.channels.helpers import create_agent, turn
from tests.support.server import make_settings, running_app
from tests.support.ws import connect

DEFAULT = make_settings(database_url="sqlite://", public_url="https://hub.example.com/agenthub").hosts


@pytest.mark.parametrize(
    ("host", "allowed", "expected"),
    [
        ("127.0.0.1:8001", DEFAULT, True),
        ("LOCALHOST:8001", DEFAULT, True),
        ("[::1]:8001", DEFAULT, True),
        ("hub.example.com", DEFAULT, True),  # the host of PUBLIC_URL
        ("evil.example:8001", DEFAULT, False),
        ("127.0.0.1.evil.example", DEFAULT, False),
        ("", DEFAULT, False),
        (None, DEFAULT, False),
        ("hub.internal:9000", frozenset({"hub.internal:9000"}), True),
        ("hub.internal:9001", frozenset({"hub.internal:9000"}), False),
        ("anything.example", frozenset({"*"}), True),
    ],
)
def test_host_allowed(host: str | None, allowed: frozenset[str], expected: bool) -> None:
    assert host_allowed(host, allowed) is expected


async def test_requests_for_another_host_are_refused_with_400(sqlite_url: str) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            agent_id = await create_agent(client)
            port = app.url.rsplit(":", 1)[1]
            for host in ("evil.example", f"evil.example:{port}"):
                for response in (
                    await client.get("/api/v1/agents", headers={"Host": host}),
                    await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": "hi"}, headers={"Host": host}),
                ):
                    error = assert_error(response, 400)
                    assert error["code"] == "invalid_host" and "ALLOWED_HOSTS" in error["message"]
            assert (await client.get("/api/v1/agents", headers={"Host": f"localhost:{port}"})).status_code == 200
            # Health probes address the server by its IP: /health answers whatever the host.
            assert (await client.get("/health", headers={"Host": "10.1.2.3:8001"})).status_code == 200

        # The WebSocket of a page on a rebinding domain: same address, another Host.
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://evil.example:{port}/ws/agents/{agent_id}", host="127.0.0.1", port=int(port)):
                pass
        assert refused.value.response.status_code == 400
        assert json.loads(refused.value.response.body)["error"]["code"] == "invalid_host"


async def test_allowed_hosts_star_lets_every_host_in(sqlite_url: str) -> None:
    async with running_app(make_settings(database_url=sqlite_url, allowed_hosts="*")) as app:
        port = app.url.rsplit(":", 1)[1]
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            agent_id = await create_agent(client)
            assert (await client.get("/api/v1/agents", headers={"Host": "proxied.example"})).status_code == 200
        async with connect(
            f"ws://proxied.example:{port}/ws/agents/{agent_id}", host="127.0.0.1", port=int(port),
            additional_headers=app.headers,
        ) as socket:
            events = await turn(socket, "through the proxy")
        assert events[-1]["type"] == "message"


async def test_allowed_hosts_names_replace_the_defaults(sqlite_url: str) -> None:
    async with running_app(make_settings(database_url=sqlite_url, allowed_hosts="hub.internal")) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            assert (await client.get("/api/v1/agents", headers={"Host": "hub.internal"})).status_code == 200
            assert_error(await client.get("/api/v1/agents"), 400)  # 127.0.0.1 is not listed


async def _raw_get(url: str, head: str) -> tuple[int, dict]:
    """Send ``GET /api/v1/agents`` with these header lines as they are (httpx sends one Host)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(f"GET /api/v1/agents HTTP/1.1\r\n{head}Connection: close\r\n\r\n".encode())
        await writer.drain()
        raw = await reader.read()  # the server closes after answering
    finally:
        writer.close()
    status_line, _, rest = raw.decode().partition("\r\n")
    body = rest.partition("\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(body) if body.startswith("{") else {}


async def test_a_request_with_two_host_headers_is_refused(sqlite_url: str) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        port = app.url.rsplit(":", 1)[1]
        status, body = await _raw_get(app.url, f"Host: 127.0.0.1:{port}\r\nHost: evil.example\r\n")
        assert status == 400 and body["error"]["code"] == "invalid_host", body
        assert "more than one Host" in body["error"]["message"]
        status, _ = await _raw_get(app.url, f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {app.token}\r\n")
        assert status == 200
