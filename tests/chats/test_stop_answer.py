"""Stopping an answer while it is written (``POST .../messages/{message_id}/stop``): the
host cancels the model's turn and delivers the text streamed so far as the answer, marked
``stopped``, which the history, a reconnecting WebSocket's replay and the user's export keep
(``"stopped": true``), and usage bills (estimated tokens). On SQLite and PostgreSQL, the in-process bus and Redis."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest

from tests.agents.helpers import agent_body, assert_error, chat, client_for, wait_for
from tests.scenarios.helpers import receive_turn
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import RunningApp
from tests.support.ws import connect

LONG_ANSWER = " ".join(f"word{n}" for n in range(200))


def _slow_agent(model: FakeOpenAI) -> dict[str, Any]:
    return agent_body(id="slow", settings={"provider": "openai_compatible", "model_id": "fake-model",
                                           "base_url": model.url})


async def _stop_midway(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Send a message, stop its answer once a few chunks came; the ``received`` status, the
    ``message`` event, and the chunks seen."""
    received: dict[str, Any] = {}
    message: dict[str, Any] = {}
    chunks: list[str] = []
    async with client.stream("POST", "/api/v1/agents/slow/chat", json={"content": "talk a lot"}) as response:
        assert response.status_code == 200
        name = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data = json.loads(line.removeprefix("data:"))
                if name == "status" and data.get("message") == "received":
                    received = data
                elif name == "chunk":
                    chunks.append(data["content"])
                    if len(chunks) == 3:
                        url = f"/api/v1/agents/slow/chats/{received['chat_id']}/messages/{received['message_id']}/stop"
                        stopped = await client.post(url)
                        assert stopped.status_code == 200, stopped.text
                        assert stopped.json() == {"message_id": received["message_id"], "stopping": True}
                elif name == "message":
                    message = data
                elif name == "done":
                    break
    return received, message, chunks


async def _assert_stopped(app: RunningApp, client: httpx.AsyncClient, model: FakeOpenAI) -> None:
    received, message, chunks = await _stop_midway(client)
    assert message["stopped"] is True
    assert message["reply_to"] == received["message_id"]
    assert message["content"].startswith("".join(chunks)) and "word199" not in message["content"]

    async def stored() -> list[dict[str, Any]] | None:
        answer = await client.get(f"/api/v1/agents/slow/chats/{received['chat_id']}/messages")
        items = answer.json()["items"]
        return items if len(items) == 2 else None

    history = await wait_for(stored)
    assert history and history[1]["content"] == message["content"]
    # Marked as it was live, after a reload too: the answer only, never the question.
    assert history[1]["stopped"] is True and "stopped" not in history[0]

    # A client reconnecting after the question is replayed the answer marked the same.
    async with connect(app.ws(f"/ws/agents/slow?chat_id={received['chat_id']}&after={received['message_id']}")) as ws:
        [replayed] = [e for e in await receive_turn(ws) if e["type"] == "message"]
    assert replayed["content"] == message["content"] and replayed["stopped"] is True

    # Stopping never makes an answer free: its tokens are estimated (the model reported none).
    async def billed() -> dict[str, Any] | None:
        totals = (await client.get("/api/v1/user/usage")).json()["totals"]
        return totals if totals["turns"] == 1 else None

    totals = await wait_for(billed)
    assert totals and totals["output_tokens"] == math.ceil(len(message["content"]) / 4) > 0
    assert totals["input_tokens"] >= math.ceil(len("talk a lot") / 4)

    # The chat goes on: the next message is answered in full.
    model.responder = None
    model.add_answer("All done.")
    reply = await chat(client, "slow", "thanks", chat_id=received["chat_id"])
    assert reply["content"] == "All done." and "stopped" not in reply

    # The user's export marks the stopped answer only.
    async def exported() -> list[dict[str, Any]] | None:
        chats = (await client.get("/api/v1/user/export")).json()["chats"]
        [mine] = [c for c in chats if c["chat_id"] == received["chat_id"]]
        return mine["messages"] if len(mine["messages"]) == 4 else None

    messages = await wait_for(exported)
    assert messages and [m.get("stopped", False) for m in messages] == [False, True, False, False]


async def test_an_answer_stops_midway_and_keeps_what_was_written(database_url: str) -> None:
    with FakeOpenAI(responder=lambda body: {"text": LONG_ANSWER, "delay": 0.02}) as model:
        async with client_for(database_url) as (app, client):
            assert (await client.post("/api/v1/agents", json=_slow_agent(model))).status_code == 201
            await _assert_stopped(app, client, model)


async def test_stop_through_redis(postgres_url: str, redis_server_url: str, redis_prefix: str) -> None:
    with FakeOpenAI(responder=lambda body: {"text": LONG_ANSWER, "delay": 0.02}) as model:
        async with client_for(postgres_url, redis_url=redis_server_url, redis_prefix=redis_prefix) as (app, client):
            assert (await client.post("/api/v1/agents", json=_slow_agent(model))).status_code == 201
            await _assert_stopped(app, client, model)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_what_cannot_be_stopped(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="quick"))).status_code == 201
        reply = await chat(client, "quick", "hello", chat_id="done")
        base = "/api/v1/agents/quick/chats/done/messages"
        # An answered message: nothing to stop.
        answered = await client.post(f"{base}/{reply['reply_to']}/stop")
        assert answered.status_code == 200 and answered.json()["stopping"] is False
        # Not a user's message of this chat, or no such chat or agent: 404.
        assert_error(await client.post(f"{base}/{reply['message_id']}/stop"), 404, "not_found")
        assert_error(await client.post(f"{base}/nothing/stop"), 404, "not_found")
        assert_error(await client.post(f"/api/v1/agents/quick/chats/other/messages/{reply['reply_to']}/stop"), 404)
        assert_error(await client.post(f"/api/v1/agents/ghost/chats/done/messages/{reply['reply_to']}/stop"), 404)
        assert_error(await client.post(f"{base}/bad id!/stop"), 422, "invalid_input")
        assert_error(await client.post(f"{base}/{reply['reply_to']}/stop", headers={"Authorization": ""}), 401)
