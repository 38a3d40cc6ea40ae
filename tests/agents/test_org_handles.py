"""Agent ids are unique within an organisation: two organisations each have their own
"support", each reaches only its own, and a create never hints that another organisation
uses the id. A public agent is reached from outside by its ``address``."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.agents.helpers import agent_body, assert_error, chat, client_for
from tests.channels.helpers import eventually, turn
from tests.support.accounts import bearer, second_org
from tests.support.server import RunningApp
from tests.support.ws import connect

VOLATILE = {"created_at", "updated_at", "address"}
"""What differs between two creates of the same body whatever the other organisation has."""


def _as_created(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in VOLATILE}


async def _second_client(app: RunningApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=app.url, timeout=30, headers=bearer(await second_org(app)))


async def _own_life(app: RunningApp, client: httpx.AsyncClient, token: str, secret: str) -> None:
    """The organisation reads, renames, starts and chats with its "support" (SSE and WS)."""
    read = await client.get("/api/v1/agents/support")
    assert read.status_code == 200 and read.json()["id"] == "support", read.text
    patched = await client.patch("/api/v1/agents/support", json={"name": f"Support {secret}"})
    assert patched.status_code == 200 and patched.json()["id"] == "support", patched.text
    started = await client.post("/api/v1/agents/support/start")
    assert started.status_code == 200 and started.json()["agent_id"] == "support", started.text
    answer = await chat(client, "support", f"sse {secret}", chat_id=f"chat-{secret}")
    assert answer["chat_id"] == f"chat-{secret}"
    async with connect(f"{app.ws_url}/ws/agents/support?chat_id=chat-{secret}&token={token}") as socket:
        events = await turn(socket, f"ws {secret}")
        assert events[-1]["type"] == "message", events


async def _history(client: httpx.AsyncClient, chat_id: str) -> httpx.Response:
    return await client.get(f"/api/v1/agents/support/chats/{chat_id}/messages")


async def _turns(client: httpx.AsyncClient) -> int:
    return int((await client.get("/api/v1/agents/support/usage")).json()["turns"])


async def test_two_organisations_each_have_their_own_support(database_url: str) -> None:
    async with client_for(database_url) as (app, first):
        body = agent_body(id="support")
        created_a = await first.post("/api/v1/agents", json=body)
        assert created_a.status_code == 201, created_a.text
        assert created_a.json()["address"] == "support"
        async with await _second_client(app) as second:
            created_b = await second.post("/api/v1/agents", json=body)
            assert created_b.status_code == 201, created_b.text
            # The same answer as the first organisation's: nothing says "support" was taken.
            assert _as_created(created_b.json()) == _as_created(created_a.json())
            # Its address has the shape of any address of its organisation's: one of an id
            # nobody else has looks the same.
            fresh = (await second.post("/api/v1/agents", json=agent_body(id="nobody-has-this"))).json()
            assert re.fullmatch(r"support-[0-9a-f]{6}", created_b.json()["address"]), created_b.json()
            assert re.fullmatch(r"nobody-has-this-[0-9a-f]{6}", fresh["address"]), fresh
            assert (await second.delete("/api/v1/agents/nobody-has-this")).status_code == 204
            assert_error(await second.post("/api/v1/agents", json=body), 409)  # its own is in the way
            assert (await second.get("/api/v1/agents")).json()["items"][0]["id"] == "support"

            token_b = second.headers["Authorization"].removeprefix("Bearer ")
            await _own_life(app, first, app.token, "alpha")
            await _own_life(app, second, token_b, "bravo")

            assert (await first.get("/api/v1/agents/support")).json()["name"] == "Support alpha"
            assert (await second.get("/api/v1/agents/support")).json()["name"] == "Support bravo"
            history_a = await _history(first, "chat-alpha")
            assert history_a.status_code == 200 and "bravo" not in history_a.text
            assert [m["content"] for m in history_a.json()["items"] if m["role"] == "user"] == [
                "sse alpha", "ws alpha"
            ]
            assert_error(await _history(first, "chat-bravo"), 404)
            assert_error(await _history(second, "chat-alpha"), 404)
            assert "bravo" in (await _history(second, "chat-bravo")).text

            await eventually(lambda: _probe_turns(first), what="the first organisation's usage")
            await eventually(lambda: _probe_turns(second), what="the second organisation's usage")
            for client in (first, second):
                by_agent = (await client.get("/api/v1/usage")).json()["agents"]
                assert [a["agent_id"] for a in by_agent] == ["support"], by_agent
                assert by_agent[0]["turns"] == 2

            assert (await second.delete("/api/v1/agents/support")).status_code == 204
            assert_error(await second.get("/api/v1/agents/support"), 404)
            assert (await first.get("/api/v1/agents/support")).status_code == 200  # the other's stays
            assert_error(await second.post("/api/v1/agents", json=body), 409, "id_retained")
            assert (await first.delete("/api/v1/agents/support")).status_code == 204
            assert_error(await first.get("/api/v1/agents/support"), 404)


async def _probe_turns(client: httpx.AsyncClient) -> bool:
    return await _turns(client) == 2


async def test_a_public_agent_of_the_second_organisation_is_reached_by_its_address(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, first):
        assert (await first.post("/api/v1/agents", json=agent_body(id="support"))).status_code == 201
        async with await _second_client(app) as second:
            created = await second.post(
                "/api/v1/agents", json=agent_body(id="support", settings={"access": "public"})
            )
            assert created.status_code == 201, created.text
            address = created.json()["address"]
            assert address != "support" and created.json()["id"] == "support"
            assert (await second.get("/api/v1/agents/support")).json()["address"] == address

            async with httpx.AsyncClient(base_url=app.url, timeout=30) as anonymous:
                answer = await chat(anonymous, address, "hello from outside")
                assert answer["content"]
                # "support" for anyone outside the second organisation is the first's: not public
                assert_error(await anonymous.post("/api/v1/agents/support/chat", json={"content": "hi"}), 401)
                async with connect(f"{app.ws_url}/ws/agents/{address}") as socket:
                    assert (await turn(socket, "hello over the socket"))[-1]["type"] == "message"
            # the first organisation's owner names "support" and gets its own agent
            await chat(first, "support", "mine")
            assert "hello from outside" not in (await first.get("/api/v1/usage")).text


async def test_an_api_key_limited_to_support_reaches_its_organisations_support_only(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, first):
        assert (await first.post("/api/v1/agents", json=agent_body(id="support", name="First"))).status_code == 201
        async with await _second_client(app) as second:
            assert (await second.post("/api/v1/agents", json=agent_body(id="support", name="Second"))).status_code == 201
            assert (await second.post("/api/v1/agents", json=agent_body(id="other"))).status_code == 201
            created = await second.post("/api/v1/api-keys", json={"name": "support only", "agent_ids": ["support"]})
            assert created.status_code == 201, created.text
            async with httpx.AsyncClient(
                base_url=app.url, timeout=30, headers=bearer(created.json()["key"])
            ) as key:
                read = await key.get("/api/v1/agents/support")
                assert read.status_code == 200 and read.json()["name"] == "Second", read.text
                listed = (await key.get("/api/v1/agents")).json()
                assert [(a["id"], a["name"]) for a in listed["items"]] == [("support", "Second")]
                await chat(key, "support", "from the key", chat_id="key-chat")
                assert (await second.get("/api/v1/agents/support/chats/key-chat/messages")).status_code == 200
                assert_error(await first.get("/api/v1/agents/support/chats/key-chat/messages"), 404)
                assert_error(await key.get("/api/v1/agents/other"), 404)
                assert_error(await key.post("/api/v1/agents/other/chat", json={"content": "hi"}), 404)
