"""``/ws/bots/{bot_id}/events``: a builder sees the bot's edits, publishes and messages live,
on the in-process bus and on Redis; refused without credentials and for another
organisation's bot."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection

from agenthub.config import Settings
from tests.mcp.test_mcp_http import rules_equal
from tests.support.accounts import second_org
from tests.support.server import running_app, settings_on_each_bus
from tests.support.ws import connect


@pytest.fixture(params=["memory", "redis"])
def app_settings(request: pytest.FixtureRequest, sqlite_url: str) -> Settings:
    return settings_on_each_bus(request, sqlite_url)


async def next_event(socket: ClientConnection, kind: str) -> dict[str, Any]:
    """The next event of type ``kind`` (others skipped)."""
    while True:
        event = json.loads(await asyncio.wait_for(socket.recv(), 20))
        if event["type"] == kind:
            return event


async def test_a_builder_sees_edits_publishes_and_messages_live(app_settings: Settings) -> None:
    async with running_app(app_settings) as app, httpx.AsyncClient(
        base_url=app.url, timeout=30, headers=app.headers
    ) as client:
        bot = (await client.post("/api/v1/bots", json={"name": "Live"})).json()
        async with connect(app.ws(f"/ws/bots/{bot['id']}/events")) as socket:
            subscribed = json.loads(await socket.recv())
            assert subscribed == {"type": "status", "message": "subscribed", "bot_id": bot["id"]}

            step = (await client.post("/api/v1/steps", json={"bot_id": bot["id"], "message": {"text": "Hi!"}})).json()
            edited = await next_event(socket, "bot_changed")
            assert edited["change"] == "draft" and edited["bot_id"] == bot["id"]
            group = (await client.post("/api/v1/connection_groups", json={"step_id": step["id"]})).json()
            await client.post("/api/v1/connections", json={"group_id": group["id"], "rules": rules_equal("x")})
            connected = await next_event(socket, "bot_changed")
            assert connected["draft_revision"] > edited["draft_revision"]
            await client.post("/api/v1/connections", json={"group_id": group["id"], "next_step_id": step["id"]})

            assert (await client.post(f"/api/v1/bots/{bot['id']}/publish")).status_code == 200
            while (published := await next_event(socket, "bot_changed"))["change"] != "published":
                pass
            assert published["version"] == 1
            publisher = (await client.get(f"/api/v1/bots/{bot['id']}/versions")).json()["items"][0]["published_by"]
            assert publisher and edited["by"] == connected["by"] == published["by"] == publisher

            response = await client.post(f"/api/v1/agents/{bot['id']}/chat", json={"content": "hello"})
            assert response.status_code == 200
            received = await next_event(socket, "message")
            sent = await next_event(socket, "message")
            assert (received["direction"], received["text"]) == ("in", "hello")
            assert (sent["direction"], sent["text"]) == ("out", "Hi!")
            assert sent["chat_id"] == received["chat_id"] and sent["test"] is False


async def test_a_change_says_who_made_it_a_user_or_an_api_key(app_settings: Settings) -> None:
    async with running_app(app_settings) as app, httpx.AsyncClient(
        base_url=app.url, timeout=30, headers=app.headers
    ) as client:
        me = (await client.get("/api/v1/auth/me")).json()
        bot = (await client.post("/api/v1/bots", json={"name": "Who"})).json()
        key = (await client.post("/api/v1/api-keys", json={"name": "builder"})).json()
        async with connect(app.ws(f"/ws/bots/{bot['id']}/events")) as socket:
            await socket.recv()
            await client.patch(f"/api/v1/bots/{bot['id']}", json={"variables": {"n": 1}})
            assert (await next_event(socket, "bot_changed"))["by"] == me["id"]
            step = await client.post("/api/v1/steps", json={"bot_id": bot["id"]},
                                     headers={"Authorization": f"Bearer {key['key']}"})
            assert step.status_code == 201
            assert (await next_event(socket, "bot_changed"))["by"] == f"key:{key['id']}"


async def test_the_socket_refuses_strangers(app_settings: Settings) -> None:
    async with running_app(app_settings) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            bot = (await client.post("/api/v1/bots", json={"name": "Mine"})).json()
        other = await second_org(app)
        async with connect(f"{app.ws_url}/ws/bots/{bot['id']}/events") as socket:
            refused = json.loads(await socket.recv())
            await socket.wait_closed()
        assert refused["code"] == "unauthorized" and socket.close_code == 4401
        async with connect(f"{app.ws_url}/ws/bots/{bot['id']}/events?token={other}") as socket:
            hidden = json.loads(await socket.recv())
            await socket.wait_closed()
        assert hidden["code"] == "not_found" and socket.close_code == 4404
