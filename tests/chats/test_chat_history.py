"""Chat history as a client reads it after chatting over SSE, on SQLite and PostgreSQL.
The history is written by the history worker in the background, so reads poll briefly."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.agents.helpers import agent_body, assert_error, chat, client_for, wait_for


@pytest.fixture
async def api(database_url: str):  # type: ignore[no-untyped-def]
    async with client_for(database_url) as (_, client):
        created = await client.post("/api/v1/agents", json=agent_body(id="talker"))
        assert created.status_code == 201
        yield client


def _messages_url(chat_id: str, agent_id: str = "talker") -> str:
    return f"/api/v1/agents/{agent_id}/chats/{chat_id}/messages"


async def _history(client: httpx.AsyncClient, chat_id: str, count: int, **params: Any) -> list[dict[str, Any]]:
    """The chat's messages once at least ``count`` are stored."""

    async def probe() -> list[dict[str, Any]] | None:
        response = await client.get(_messages_url(chat_id), params=params)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        return items if len(items) >= count else None

    items = await wait_for(probe)
    assert items, f"chat {chat_id} did not reach {count} messages"
    return items


async def test_history_holds_each_turn_once_in_order(api: httpx.AsyncClient) -> None:
    first = await chat(api, "talker", "hello there")
    chat_id = first["chat_id"]
    assert first["content"] == 'You said: "hello there". That is message 1 of this chat.'

    history = await _history(api, chat_id, 2)
    assert [(m["role"], m["content"]) for m in history] == [
        ("user", "hello there"),
        ("assistant", first["content"]),
    ]
    user, assistant = history
    assert first["reply_to"] == user["message_id"]
    assert assistant["message_id"] == first["message_id"]
    assert assistant["reply_to"] == user["message_id"]
    assert user["reply_to"] is None
    assert {m["chat_id"] for m in history} == {chat_id}
    assert {m["channel"] for m in history} == {"web"}
    assert user["created_at"] <= assistant["created_at"]
    assert all(m["created_at"].endswith(("Z", "+00:00")) for m in history)

    second = await chat(api, "talker", "and again", chat_id=chat_id)
    assert second["chat_id"] == chat_id
    assert second["content"] == 'You said: "and again". That is message 2 of this chat.'

    history = await _history(api, chat_id, 4)
    assert [(m["role"], m["content"]) for m in history] == [
        ("user", "hello there"),
        ("assistant", first["content"]),
        ("user", "and again"),
        ("assistant", second["content"]),
    ]
    assert history[3]["reply_to"] == history[2]["message_id"] == second["reply_to"]
    assert len({m["message_id"] for m in history}) == 4

    # Reading again a little later shows nothing new: each message was stored once.
    again = (await api.get(_messages_url(chat_id))).json()
    assert again == {"chat_id": chat_id, "items": history}


async def test_chats_are_kept_apart(api: httpx.AsyncClient) -> None:
    one = await chat(api, "talker", "first chat", chat_id="chat-one")
    two = await chat(api, "talker", "second chat", chat_id="chat-two")
    assert (one["chat_id"], two["chat_id"]) == ("chat-one", "chat-two")
    # Each chat is its own conversation for the agent.
    assert two["content"].endswith("message 1 of this chat.")

    assert [m["content"] for m in await _history(api, "chat-one", 2)][0] == "first chat"
    assert [m["content"] for m in await _history(api, "chat-two", 2)][0] == "second chat"

    # Another agent does not see this agent's chat.
    await api.post("/api/v1/agents", json=agent_body(id="other"))
    assert_error(await api.get(_messages_url("chat-one", agent_id="other")), 404, "not_found")


async def test_pagination_with_after_position_and_limit(api: httpx.AsyncClient) -> None:
    for text in ("one", "two", "three"):
        await chat(api, "talker", text, chat_id="paged")
    everything = await _history(api, "paged", 6)
    assert [m["content"] for m in everything if m["role"] == "user"] == ["one", "two", "three"]
    seqs = [m["position"] for m in everything]
    assert seqs == sorted(seqs) and len(set(seqs)) == 6

    pages, after = [], 0
    while True:
        page = (await api.get(_messages_url("paged"), params={"limit": 4, "after_position": after})).json()
        if not page["items"]:
            break
        assert len(page["items"]) <= 4
        pages.append(page["items"])
        after = page["items"][-1]["position"]
    assert [len(p) for p in pages] == [4, 2]
    assert [m for page in pages for m in page] == everything

    tail = (await api.get(_messages_url("paged"), params={"after_position": everything[3]["position"]})).json()
    assert tail["items"] == everything[4:]
    assert (await api.get(_messages_url("paged"), params={"after_position": seqs[-1]})).json()["items"] == []


async def test_unknown_chat_and_bad_parameters(api: httpx.AsyncClient) -> None:
    await chat(api, "talker", "hi", chat_id="known")
    error = assert_error(await api.get(_messages_url("never-used")), 404, "not_found")
    assert "never-used" in error["message"]
    assert_error(await api.get(_messages_url("known", agent_id="ghost")), 404, "not_found")

    for params in ({"limit": 0}, {"limit": 1001}, {"after_position": -1}, {"limit": "all"}):
        assert_error(await api.get(_messages_url("known"), params=params), 422, "invalid_input")
    assert_error(await api.get(_messages_url("bad chat id!")), 422, "invalid_input")


async def test_rejected_chat_requests_store_nothing(api: httpx.AsyncClient) -> None:
    url = "/api/v1/agents/talker/chat"
    assert_error(await api.post(url, json={"content": ""}), 422, "invalid_input")
    assert_error(await api.post(url, json={"content": "hi", "chat_id": "rejected", "colour": 1}), 422)
    assert_error(await api.post(url, json={"chat_id": "rejected"}), 422, "invalid_input")
    assert_error(
        await api.post(url, content=b'{"content": ', headers={"content-type": "application/json"}),
        400,
        "bad_request",
    )
    assert_error(await api.get(_messages_url("rejected")), 404, "not_found")
    # The agent was not started for any of them.
    assert (await api.get("/api/v1/agents/talker/status")).json()["status"] == "stopped"


async def test_history_through_the_redis_bus(postgres_url: str, redis_server_url: str, redis_prefix: str) -> None:
    """The production pairing: PostgreSQL and Redis streams carry the history to the saver."""
    async with client_for(postgres_url, redis_url=redis_server_url, redis_prefix=redis_prefix) as (_, client):
        await client.post("/api/v1/agents", json=agent_body(id="talker"))
        reply = await chat(client, "talker", "over redis")
        history = await _history(client, reply["chat_id"], 2)
        assert [(m["role"], m["content"]) for m in history] == [
            ("user", "over redis"),
            ("assistant", reply["content"]),
        ]
        assert history[1]["reply_to"] == history[0]["message_id"]


async def test_numbers_beyond_what_the_database_holds_are_refused(api: httpx.AsyncClient) -> None:
    await chat(api, "talker", "hello", chat_id="big")
    for params in ({"after_position": 10**20}, {"after_position": 2**31}, {"limit": 10**20}):
        error = assert_error(await api.get(_messages_url("big"), params=params), 422, "invalid_input")
        assert next(iter(params)) in error["message"]
    error = assert_error(await api.get("/api/v1/agents", params={"offset": 10**20}), 422, "invalid_input")
    assert "offset" in error["message"]
    last = await api.get(_messages_url("big"), params={"after_position": 2**31 - 1})
    assert last.status_code == 200 and last.json()["items"] == [], last.text
