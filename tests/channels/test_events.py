"""What clients receive besides plain answers: event types the agent emits that channels
don't know (tool calls, widgets) pass through unchanged on the WebSocket and over SSE;
errors carry a code; a message carries its chat_id at the top; SSE streams keep the
connection alive with comments while the agent thinks."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from agenthub.bus import keys
from tests.channels.helpers import create_agent, receive_until_final, send
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import RunningApp, make_settings, running_app
from tests.support.sse import parse_sse
from tests.support.ws import connect

TOOL_CALL = {"type": "tool_call", "name": "lookup", "arguments": {"query": "weather", "days": 3}, "id": "call-1"}


async def _slow_agent(app: RunningApp, fake: FakeOpenAI) -> str:
    fake.add_answer("one two three four five six", delay=0.1)
    async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
        return await create_agent(client, provider="openai_compatible", model_id="fake-model", base_url=fake.url)


async def _emit(app: RunningApp, agent_id: str, event: dict[str, Any]) -> None:
    """What an engine publishes on the agent's output (the in-process bus of the app)."""
    await app.app.state.bus.publish(keys.agent_output(agent_id), event)


async def test_unknown_event_types_reach_the_websocket_unchanged(sqlite_url: str) -> None:
    with FakeOpenAI() as fake:
        async with running_app(make_settings(database_url=sqlite_url)) as app:
            agent_id = await _slow_agent(app, fake)
            async with connect(app.ws(f"/ws/agents/{agent_id}")) as socket:
                await send(socket, "what is the weather?", chat_id="c1")
                async with asyncio.timeout(20):
                    while (ack := json.loads(await socket.recv()))["message"] != "received":
                        pass
                emitted = {**TOOL_CALL, "reply_to": ack["message_id"], "chat_id": "c1"}
                await _emit(app, agent_id, emitted)
                events = await receive_until_final(socket)
    assert emitted in events, events
    answer = events[-1]
    assert answer["type"] == "message" and answer["chat_id"] == "c1"
    assert answer["message_object"]["chat_id"] == "c1"


async def test_unknown_event_types_reach_sse_clients_and_keep_alive_comments_flow(sqlite_url: str) -> None:
    settings = make_settings(database_url=sqlite_url, sse_keepalive_interval=0.05)
    with FakeOpenAI() as fake:
        async with running_app(settings) as app:
            agent_id = await _slow_agent(app, fake)
            async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
                async with client.stream(
                    "POST", f"/api/v1/agents/{agent_id}/chat", json={"content": "weather?", "chat_id": "c1"}
                ) as response:
                    assert response.status_code == 200
                    await _emit(app, agent_id, {**TOOL_CALL, "reply_to": response.headers["x-message-id"]})
                    text = ""
                    async for piece in response.aiter_text():
                        text += piece
    events = parse_sse(text)
    data = {key: value for key, value in TOOL_CALL.items() if key != "type"}
    assert ("tool_call", {**data, "reply_to": events[-1][1]["message_id"]}) in events, events
    assert [name for name, _ in events][-3:] == ["message", "usage", "done"]
    # Keep-alive comments came while the agent was answering, before its message.
    before_message = text.split("event: message")[0]
    assert any(line.startswith(": ping") for line in before_message.splitlines()), text


async def test_error_events_carry_a_code(sqlite_url: str) -> None:
    with FakeOpenAI() as fake:
        for _ in range(6):  # every attempt of both turns fails (the client retries)
            fake.add_error(500, "down")
        async with running_app(make_settings(database_url=sqlite_url)) as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
                agent_id = await create_agent(
                    client, provider="openai_compatible", model_id="fake-model", base_url=fake.url
                )
                async with connect(app.ws(f"/ws/agents/{agent_id}")) as socket:
                    await socket.send("not json")
                    refused = await receive_until_final(socket)
                    await send(socket, "hi")
                    failed = await receive_until_final(socket)
                response = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": "hi"})
    assert refused[-1]["type"] == "error" and refused[-1]["code"] == "invalid_input", refused
    assert failed[-1]["type"] == "error" and failed[-1]["code"] == "agent_error", failed
    assert failed[-1]["chat_id"] and failed[-1]["reply_to"]
    sse_error = next(data for name, data in parse_sse(response.text) if name == "error")
    assert sse_error["code"] == "agent_error" and "HTTP 500" in sse_error["message"]
