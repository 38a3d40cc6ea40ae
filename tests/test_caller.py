"""One request context: every route, HTTP and WebSocket alike, asks one dependency who the
caller is (``agenthub.deps._maybe_caller``), and everything it reads or writes is scoped by
the caller's organisation. Another organisation's agent is not found, whatever the channel."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute
from websockets.exceptions import ConnectionClosed

from agenthub.config import Settings
from agenthub.deps import _maybe_caller, _socket_caller
from agenthub.ops.openapi import PUBLIC
from tests.agents.helpers import agent_body, assert_error, client_for
from tests.support.server import RunningApp
from tests.support.ws import connect

OTHER_EMAIL = "someone@acme.example"


def _dependencies(dependant) -> set:  # type: ignore[no-untyped-def]
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _dependencies(sub)
    return found


def test_every_api_and_websocket_route_resolves_the_caller_unless_it_is_public() -> None:
    from agenthub.app import create_app

    app = create_app(Settings(_env_file=None))  # type: ignore[call-arg]
    included = [getattr(route, "original_router", route) for route in app.routes]
    every = [r for item in included for r in getattr(item, "routes", [item])]
    routes = [
        route for route in every
        if isinstance(route, APIRoute | APIWebSocketRoute) and route.path.startswith(("/api/v1", "/ws/"))
    ]
    assert len(routes) >= 10
    public = {route.path for route in routes if isinstance(route, APIRoute) and route.openapi_extra == PUBLIC}
    # Telegram's webhook has no caller: Telegram proves itself with the secret header (401 otherwise).
    allowed = {f"/api/v1/auth/{name}" for name in ("register", "login", "refresh", "logout")}
    allowed.add("/api/v1/agents/{agent_id}/integrations/telegram/webhook")
    # A signed file link has no caller either: its HMAC signature and expiry are the proof (403 otherwise).
    allowed.add("/api/v1/files/{file_id}/signed")
    assert public <= allowed, public
    # A WebSocket's caller comes through _socket_caller, which asks _maybe_caller and keeps
    # the refusal to send it once the socket is accepted.
    missing = [
        route.path for route in routes
        if route.path not in public and not {_maybe_caller, _socket_caller} & _dependencies(route.dependant)
    ]
    assert missing == []
    sockets = [route for route in routes if isinstance(route, APIWebSocketRoute)]
    assert sockets and all(_socket_caller in _dependencies(route.dependant) for route in sockets)


async def _other_organisation(app: RunningApp) -> dict[str, str]:
    """Register a second organisation; its owner's ``Authorization``."""
    async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
        registered = await client.post(
            "/api/v1/auth/register",
            json={"email": OTHER_EMAIL, "password": "acme-password-1", "org_name": "Acme"},
        )
    assert registered.status_code == 201, registered.text
    return {"Authorization": f"Bearer {registered.json()['access_token']}"}


async def _closed_with(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """Open the WebSocket and read until the server closes it: its close code and the
    error event it sent first."""
    with pytest.raises(ConnectionClosed) as closed:
        async with connect(url, additional_headers=headers) as socket:
            event = json.loads(await socket.recv())
            await socket.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, event


async def test_another_organisation_sees_none_of_ours_over_http_sse_and_websocket(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="ours"))).status_code == 201
        acme = await _other_organisation(app)
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=acme) as theirs:
            me = (await theirs.get("/api/v1/auth/me")).json()
            assert me["email"] == OTHER_EMAIL and me["role"] == "owner" and me["org_id"] != "default"

            assert_error(await theirs.get("/api/v1/agents/ours"), 404, "not_found")
            assert_error(await theirs.get("/api/v1/agents/ours/status"), 404, "not_found")
            assert_error(await theirs.get("/api/v1/agents/ours/usage"), 404, "not_found")
            assert_error(await theirs.post("/api/v1/agents/ours/start"), 404, "not_found")
            assert_error(await theirs.patch("/api/v1/agents/ours", json={"name": "Mine now"}), 404, "not_found")
            assert_error(await theirs.delete("/api/v1/agents/ours"), 404, "not_found")
            # The SSE chat: a JSON 404 before any stream.
            assert_error(await theirs.post("/api/v1/agents/ours/chat", json={"content": "hi"}), 404, "not_found")
            assert (await theirs.get("/api/v1/agents")).json()["total"] == 0
            code, event = await _closed_with(f"{app.ws_url}/ws/agents/ours", acme)
            assert code == 4404 and event["type"] == "error", event

            # What they make is theirs alone.
            assert (await theirs.post("/api/v1/agents", json=agent_body(id="theirs"))).status_code == 201
            listed = (await theirs.get("/api/v1/agents")).json()
            assert [a["id"] for a in listed["items"]] == ["theirs"]
            token = acme["Authorization"].split()[1]
            async with connect(f"{app.ws_url}/ws/agents/theirs?token={token}") as socket:
                await socket.send('{"type": "message", "content": "hello"}')
                received = json.loads(await socket.recv())
                assert received["type"] == "status" and received["message"] == "received", received

        assert [a["id"] for a in (await client.get("/api/v1/agents")).json()["items"]] == ["ours"]
        assert_error(await client.get("/api/v1/agents/theirs"), 404, "not_found")
        code, _ = await _closed_with(app.ws("/ws/agents/theirs"))
        assert code == 4404


async def test_the_usage_of_an_organisation_is_its_own(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="ours"))).status_code == 201
        acme = await _other_organisation(app)
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=acme) as theirs:
            usage = (await theirs.get("/api/v1/usage")).json()
        assert usage == {"turns": 0, "input_tokens": 0, "output_tokens": 0, "cost": None, "agents": []}


async def test_no_credentials_or_forged_ones_are_refused_before_anything_else(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="ours"))).status_code == 201
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as anonymous:
            assert_error(await anonymous.get("/api/v1/agents"), 401, "unauthorized")
            assert_error(await anonymous.post("/api/v1/agents/ours/chat", json={"content": "hi"}), 401)
            forged = {"Authorization": f"Bearer {app.token[:-4]}AAAA"}
            assert_error(await anonymous.get("/api/v1/agents/ours", headers=forged), 401)
            assert (await anonymous.get("/health")).status_code == 200  # shows no data
        code, event = await _closed_with(f"{app.ws_url}/ws/agents/ours")
        assert code == 4401 and event["type"] == "error", event
        code, _ = await _closed_with(f"{app.ws_url}/ws/agents/ours?token=forged")
        assert code == 4401
