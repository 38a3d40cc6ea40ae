"""Who may chat with an agent (``settings.access``: ``organization``, ``public``,
``authorized``), over SSE and the WebSocket, with real tokens and API keys of two
organisations; a refusal comes before any stream and nothing reaches the agent."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from agenthub.channels import websocket
from tests.access.helpers import answer_of, hub_on, sse_chat, ws_refusal, ws_turn
from tests.agents.helpers import assert_error
from tests.channels.helpers import send, turn
from tests.support.ws import connect


async def test_over_sse_each_access_lets_in_whom_it_says_and_refuses_the_rest_before_any_stream(
    database_url: str,
) -> None:
    async with hub_on(database_url) as hub:
        org_agent = await hub.agent()
        public = await hub.agent(access="public")
        listed = await hub.agent(access="authorized")
        anonymous = hub.client()
        stranger, stranger_id = await hub.register("stranger@example.com")
        key = hub.client((await hub.key())["key"])

        # Anyone reaches a public agent: anonymously, from another organisation, with a key.
        for client in (anonymous, stranger, hub.owner, key):
            answer_of(await sse_chat(client, public))
        # Without credentials nothing else: 401, for an agent that doesn't exist as well.
        for agent_id in (org_agent, listed, "no-such-agent"):
            assert_error(await sse_chat(anonymous, agent_id, chat_id="refused"), 401, "unauthorized")
        # Another organisation's caller doesn't learn that the agents exist.
        for agent_id in (org_agent, listed):
            assert_error(await sse_chat(stranger, agent_id, chat_id="refused"), 404, "not_found")
        # The organisation's users and keys reach its agents.
        answer_of(await sse_chat(hub.owner, org_agent))
        answer_of(await sse_chat(key, org_agent))
        # `authorized`: not even the owner without an authorisation.
        assert_error(await sse_chat(hub.owner, listed, chat_id="refused"), 403, "forbidden")
        assert_error(await sse_chat(key, listed, chat_id="refused"), 403, "forbidden")
        assert len(hub.probe.turns) == 6

        # Nothing of a refused message was kept.
        for agent_id in (org_agent, listed):
            response = await hub.owner.get(f"/api/v1/agents/{agent_id}/chats/refused/messages")
            assert_error(response, 404, "not_found")


async def test_an_authorisation_lets_its_user_or_key_in_and_its_revocation_shuts_them_out(
    database_url: str,
) -> None:
    async with hub_on(database_url) as hub:
        listed = await hub.agent(access="authorized")
        owner_id = (await hub.owner.get("/api/v1/auth/me")).json()["id"]
        created = await hub.key()
        key = hub.client(created["key"])
        assert_error(await sse_chat(hub.owner, listed), 403, "forbidden")

        url = f"/api/v1/agents/{listed}/authorizations"
        granted = await hub.owner.post(url, json={"channel": "web", "platform_user_id": owner_id})
        assert granted.status_code == 201, granted.text
        assert answer_of(await sse_chat(hub.owner, listed))["user_id"] == owner_id
        # A key is its own sender: the user who made it being authorised doesn't let it in.
        assert_error(await sse_chat(key, listed), 403, "forbidden")
        response = await hub.owner.post(url, json={"channel": "web", "platform_user_id": created["id"]})
        assert response.status_code == 201, response.text
        assert answer_of(await sse_chat(key, listed))["api_key_id"] == created["id"]

        revoked = await hub.owner.delete(f"{url}/{granted.json()['id']}")
        assert revoked.status_code == 204, revoked.text
        assert_error(await sse_chat(hub.owner, listed), 403, "forbidden")
        event, code = await ws_refusal(hub.app.ws(f"/ws/agents/{listed}"))
        assert (event["type"], event["code"], code) == ("error", "forbidden", 4403)

        # Switched to `organization`, the agent is any member's again.
        patched = await hub.owner.patch(f"/api/v1/agents/{listed}", json={"settings": {"access": "organization"}})
        assert patched.status_code == 200, patched.text
        answer_of(await sse_chat(hub.owner, listed))


async def test_over_the_websocket_a_refusal_is_an_error_event_and_a_close_before_anything_is_sent(
    sqlite_url: str,
) -> None:
    async with hub_on(sqlite_url) as hub:
        org_agent = await hub.agent()
        public = await hub.agent(access="public")
        listed = await hub.agent(access="authorized")
        stranger, _ = await hub.register("stranger@example.com")
        stranger_token = stranger.headers["authorization"].split(" ", 1)[1]
        key = (await hub.key())["key"]

        for agent_id in (org_agent, listed, "no-such-agent"):
            event, code = await ws_refusal(hub.ws(f"/ws/agents/{agent_id}"))
            assert (event["type"], event["code"], code) == ("error", "unauthorized", 4401)
        for agent_id in (org_agent, listed):
            event, code = await ws_refusal(hub.ws(f"/ws/agents/{agent_id}", stranger_token))
            assert (event["type"], event["code"], code) == ("error", "not_found", 4404)
        for token in (hub.app.token, key):
            event, code = await ws_refusal(hub.ws(f"/ws/agents/{listed}", token))
            assert (event["type"], event["code"], code) == ("error", "forbidden", 4403)
        event, code = await ws_refusal(hub.ws(f"/ws/agents/{public}", "forged-token"))
        assert (event["code"], code) == ("unauthorized", 4401)
        assert hub.probe.turns == []

        for token in (None, stranger_token, hub.app.token, key):
            events = await ws_turn(hub.ws(f"/ws/agents/{public}", token))
            assert events[-1]["type"] == "message", events
        for token in (hub.app.token, key):
            events = await ws_turn(hub.ws(f"/ws/agents/{org_agent}", token))
            assert events[-1]["type"] == "message", events
        assert len(hub.probe.turns) == 6


async def test_access_is_one_of_three_values_on_create_and_patch(sqlite_url: str) -> None:
    async with hub_on(sqlite_url) as hub:
        body = {"name": "x", "settings": {"provider": "fake", "model_id": "demo"}}
        created = await hub.owner.post("/api/v1/agents", json=body)
        assert created.json()["settings"]["access"] == "organization"
        agent_url = f"/api/v1/agents/{created.json()['id']}"
        # null in a patch leaves it as it is, as for every settings field
        patched = await hub.owner.patch(agent_url, json={"settings": {"access": None}})
        assert patched.json()["settings"]["access"] == "organization"
        patched = await hub.owner.patch(agent_url, json={"settings": {"access": "public"}})
        assert patched.json()["settings"]["access"] == "public"

        for value in ("everyone", "", 1, "PUBLIC"):
            sent = {**body, "settings": {**body["settings"], "access": value}}
            error = assert_error(await hub.owner.post("/api/v1/agents", json=sent), 422, "invalid_input")
            assert error["details"][0]["field"] == "settings.access", error
            response = await hub.owner.patch(agent_url, json={"settings": {"access": value}})
            assert assert_error(response, 422)["details"][0]["field"] == "settings.access"
        assert (await hub.owner.get(agent_url)).json()["settings"]["access"] == "public"


async def test_an_open_socket_loses_its_access_with_the_key_the_authorisation_or_the_agents_publicity(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(websocket, "RECHECK_EVERY", 0.0)  # every message checks again
    async with hub_on(sqlite_url) as hub:
        agent_id = await hub.agent(access="public")
        owner_id = (await hub.owner.get("/api/v1/auth/me")).json()["id"]
        key = await hub.key()
        grant = await hub.owner.post(
            f"/api/v1/agents/{agent_id}/authorizations", json={"channel": "web", "platform_user_id": owner_id}
        )
        async with (
            connect(hub.ws(f"/ws/agents/{agent_id}")) as anonymous,
            connect(hub.ws(f"/ws/agents/{agent_id}", key["key"])) as program,
            connect(hub.ws(f"/ws/agents/{agent_id}", hub.app.token)) as owner,
        ):
            for socket in (anonymous, program, owner):
                assert (await turn(socket, "hello"))[-1]["type"] == "message"

            await hub.owner.patch(f"/api/v1/agents/{agent_id}", json={"settings": {"access": "authorized"}})
            assert (await _refused_on_next_message(anonymous)) == ("unauthorized", 4401)
            assert (await _refused_on_next_message(program)) == ("forbidden", 4403)
            assert (await turn(owner, "still here"))[-1]["type"] == "message"
            await hub.owner.delete(f"/api/v1/agents/{agent_id}/authorizations/{grant.json()['id']}")
            assert (await _refused_on_next_message(owner)) == ("forbidden", 4403)

        await hub.owner.patch(f"/api/v1/agents/{agent_id}", json={"settings": {"access": "organization"}})
        async with connect(hub.ws(f"/ws/agents/{agent_id}", key["key"])) as program:
            assert (await turn(program, "hello"))[-1]["type"] == "message"
            assert (await hub.owner.delete(f"/api/v1/api-keys/{key['id']}")).status_code == 204
            assert (await _refused_on_next_message(program)) == ("unauthorized", 4401)
        assert len(hub.probe.turns) == 5


async def _refused_on_next_message(socket: Any) -> tuple[str, int]:
    await send(socket, "one more")
    event = json.loads(await socket.recv())
    assert event["type"] == "error", event
    with pytest.raises(ConnectionClosed) as closed:
        await socket.recv()
    assert closed.value.rcvd is not None
    return event["code"], closed.value.rcvd.code
