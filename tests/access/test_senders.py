"""Who a message is from is the authenticated caller: the agent is told the caller's
identity (a user's id, an API key's id, ``anonymous:<address>``) on channel ``web``,
whatever ``platform_user_id``, ``channel`` or ``user_data`` the client sends; ``user_data``
still reaches it, as data. A public agent's visitors don't read or join each other's chats."""

from __future__ import annotations

from typing import Any

import httpx

from tests.access.helpers import answer_of, hub_on, sender_of, sse_chat, ws_refusal, ws_turn
from tests.agents.helpers import assert_error
from tests.channels.helpers import chat_messages, eventually

SPOOF = {"platform_user_id": "usr_somebody_else", "channel": "telegram", "user_data": {"user_id": "usr_admin"}}


async def test_the_agent_is_told_the_caller_whatever_the_client_claims_over_sse_and_websocket(
    sqlite_url: str,
) -> None:
    async with hub_on(sqlite_url) as hub:
        public = await hub.agent(access="public")
        owner_id = (await hub.owner.get("/api/v1/auth/me")).json()["id"]
        key = await hub.key()
        expected = {
            # An anonymous visitor pays as an end user (USER_DEFAULT_BUDGET applies to them too).
            None: {"platform_user_id": "anonymous:127.0.0.1", "user_id": "web:anonymous:127.0.0.1", "api_key_id": None},
            hub.app.token: {"platform_user_id": owner_id, "user_id": owner_id, "api_key_id": None},
            key["key"]: {"platform_user_id": key["id"], "user_id": None, "api_key_id": key["id"]},
        }
        for token, who in expected.items():
            sent = {**who, "channel": "web", "user_data": SPOOF["user_data"]}
            answer = answer_of(await sse_chat(hub.client(token), public, **SPOOF))
            assert {name: answer[name] for name in sent} == sent
            events = await ws_turn(hub.ws(f"/ws/agents/{public}", token), **SPOOF)
            assert sender_of(hub.probe.turns[-1].message) == sent, events

        # The stored history says the same: the chat's messages are from the caller, on web.
        chat_id = answer_of(await sse_chat(hub.owner, public, **SPOOF))["chat_id"]
        assert hub.probe.turns[-1].message["org_id"] == "default"
        items = await _history(hub.owner, public, chat_id, count=2)
        assert [m["channel"] for m in items] == ["web", "web"]


async def test_a_public_agents_visitors_neither_join_nor_read_each_others_chats(sqlite_url: str) -> None:
    async with hub_on(sqlite_url) as hub:
        public = await hub.agent(access="public")
        anonymous = hub.client()
        stranger, _ = await hub.register("stranger@example.com")
        stranger_token = stranger.headers["authorization"].split(" ", 1)[1]

        first = answer_of(await sse_chat(anonymous, public, chat_id="visitor-chat"))
        answer_of(await sse_chat(anonymous, public, chat_id="visitor-chat"))  # their own: goes on
        turns = len(hub.probe.turns)
        assert_error(await sse_chat(stranger, public, chat_id="visitor-chat"), 404, "not_found")
        event, code = await ws_refusal(hub.ws(f"/ws/agents/{public}?chat_id=visitor-chat", stranger_token))
        assert (event["code"], code) == ("not_found", 4404)
        events = await ws_turn(hub.ws(f"/ws/agents/{public}", stranger_token), chat_id="visitor-chat")
        assert events[-1]["type"] == "error" and events[-1]["code"] == "not_found", events
        assert len(hub.probe.turns) == turns
        # The stranger's chats are theirs in turn; the organisation's members see every chat.
        answer_of(await sse_chat(stranger, public, chat_id="stranger-chat"))
        assert_error(await sse_chat(anonymous, public, chat_id="stranger-chat"), 404, "not_found")
        assert len(await _history(hub.owner, public, "visitor-chat", count=4)) == 4
        assert first["platform_user_id"] == "anonymous:127.0.0.1"
        # and may go on with them
        answer_of(await sse_chat(hub.owner, public, chat_id="visitor-chat"))


async def _history(client: httpx.AsyncClient, agent_id: str, chat_id: str, *, count: int) -> list[dict[str, Any]]:
    """The chat's messages once ``count`` are stored (answers are stored by the history worker)."""

    async def stored() -> list[dict[str, Any]]:
        items = await chat_messages(client, agent_id, chat_id)
        return items if len(items) >= count else []

    return await eventually(stored, what=f"{count} messages in {chat_id}")
