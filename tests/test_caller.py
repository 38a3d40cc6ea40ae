"""One request context: every route, HTTP and WebSocket alike, asks one dependency who the
caller is, and everything it reads or writes is scoped by the caller's organisation."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agenthub.caller import DEFAULT_ORG, Caller, default_caller
from agenthub.config import Settings
from agenthub.deps import _caller
from tests.agents.helpers import agent_body, assert_error, client_for


def _dependencies(dependant) -> set:  # type: ignore[no-untyped-def]
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _dependencies(sub)
    return found


def test_every_api_and_websocket_route_resolves_the_caller() -> None:
    from agenthub.app import create_app

    app = create_app(Settings(_env_file=None))  # type: ignore[call-arg]
    included = [getattr(route, "original_router", route) for route in app.routes]
    every = [r for item in included for r in getattr(item, "routes", [item])]
    routes = [
        route for route in every
        if isinstance(route, APIRoute | APIWebSocketRoute) and route.path.startswith(("/api/v1", "/ws/"))
    ]
    assert len(routes) >= 10
    missing = [route.path for route in routes if _caller not in _dependencies(route.dependant)]
    assert missing == []


def test_without_accounts_the_caller_is_the_default_organisation_with_every_scope() -> None:
    caller = default_caller()
    assert caller.org_id == DEFAULT_ORG and caller.user_id is None and caller.api_key_id is None
    assert caller.can("agents:write")
    assert not Caller(org_id="acme", scopes=frozenset({"agents:read"})).can("agents:write")


async def test_what_a_caller_sees_over_http_and_websocket_is_its_organisations_alone(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="ours"))).status_code == 201

        # Another organisation's caller, as accounts will resolve it.
        app.app.dependency_overrides[_caller] = lambda: Caller(org_id="acme", scopes=frozenset({"*"}))
        try:
            assert_error(await client.get("/api/v1/agents/ours"), 404, "not_found")
            assert_error(await client.get("/api/v1/agents/ours/status"), 404, "not_found")
            assert_error(await client.post("/api/v1/agents/ours/chat", json={"content": "hi"}), 404, "not_found")
            assert (await client.get("/api/v1/agents")).json()["total"] == 0
            with pytest.raises(ConnectionClosed) as closed:
                async with connect(f"{app.ws_url}/ws/agents/ours") as socket:
                    await socket.recv()
                    await socket.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404

            assert (await client.post("/api/v1/agents", json=agent_body(id="theirs"))).status_code == 201
            listed = (await client.get("/api/v1/agents")).json()
            assert [a["id"] for a in listed["items"]] == ["theirs"]
            async with connect(f"{app.ws_url}/ws/agents/theirs") as socket:
                await socket.send('{"type": "message", "content": "hello"}')
                received = await socket.recv()
                assert "error" not in str(received)
        finally:
            app.app.dependency_overrides.clear()

        assert [a["id"] for a in (await client.get("/api/v1/agents")).json()["items"]] == ["ours"]
        assert_error(await client.get("/api/v1/agents/theirs"), 404, "not_found")


async def test_the_usage_of_an_organisation_is_its_own(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="ours"))).status_code == 201
        app.app.dependency_overrides[_caller] = lambda: Caller(org_id="acme")
        try:
            usage = (await client.get("/api/v1/usage")).json()
        finally:
            app.app.dependency_overrides.clear()
        assert usage == {"turns": 0, "input_tokens": 0, "output_tokens": 0, "cost": None, "agents": []}
