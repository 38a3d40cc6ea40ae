"""An agent (the fake model server scripting tool calls) uses real tools: an HTTP API on a
local server, an MCP server; the guard's refusals reach the model; max_tool_steps ends a loop."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.agents.helpers import agent_body, client_for, wait_for
from tests.channels.helpers import turn
from tests.support import ws
from tests.support.fake_openai import FakeOpenAI
from tests.support.sse import parse_sse
from tests.support.target import Target
from tests.tools.conftest import McpTarget


def _agent(model: FakeOpenAI, agent_id: str, **settings: Any) -> dict[str, Any]:
    return agent_body(id=agent_id, settings={
        "provider": "openai_compatible", "model_id": "m", "base_url": model.url, **settings,
    })


def _weather_tool(url: str) -> dict[str, Any]:
    return {
        "name": "weather", "description": "The weather of a city", "method": "GET", "url": url,
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }


async def _turn(client: httpx.AsyncClient, agent_id: str, text: str) -> list[tuple[str, dict[str, Any]]]:
    response = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": text}, timeout=60)
    assert response.status_code == 200, response.text
    return parse_sse(response.text)


def _tool_messages(model: FakeOpenAI) -> list[str]:
    """What the model was told of tool results, over all its requests."""
    return [
        message["content"] for request in model.requests for message in request.body.get("messages", [])
        if message.get("role") == "tool"
    ]


async def _history(client: httpx.AsyncClient, agent_id: str, chat_id: str) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        response = await client.get(f"/api/v1/agents/{agent_id}/chats/{chat_id}/messages")
        items = response.json().get("items", []) if response.status_code == 200 else []
        return items if len(items) >= 2 else None

    return await wait_for(probe) or []


async def test_an_agent_calls_an_http_tool_and_uses_its_answer(sqlite_url: str) -> None:
    with Target() as target, FakeOpenAI() as model:
        model.add_tool_call("weather", {"city": "Paris"})
        model.add_answer("It is sunny in Paris.")
        async with client_for(sqlite_url, outbound_allowlist="127.0.0.1") as (_, client):
            created = await client.post("/api/v1/agents", json=_agent(
                model, "forecaster", http_tools=[_weather_tool(f"{target.url}/weather/{{city}}")]))
            assert created.status_code == 201, created.text
            events = await _turn(client, "forecaster", "Weather in Paris?")
            message = next(data for name, data in events if name == "message")
            history = await _history(client, "forecaster", message["chat_id"])

    assert message["content"] == "It is sunny in Paris."
    assert [r["path"] for r in target.requests] == ["/weather/Paris"]
    calls = [data for name, data in events if name == "tool_call"]
    results = [data for name, data in events if name == "tool_result"]
    assert calls and calls[0]["name"] == "weather" and calls[0]["arguments"] == {"city": "Paris"}
    assert results and results[0]["ok"] is True and json.loads(results[0]["result"])["path"] == "/weather/Paris"
    # The model saw the tool and its result.
    assert model.requests[0].body["tools"][0]["function"]["name"] == "weather"
    assert json.loads(_tool_messages(model)[0])["path"] == "/weather/Paris"
    answer = history[-1]
    assert answer["role"] == "assistant"
    assert answer["tool_calls"][0]["name"] == "weather"
    assert answer["tool_calls"][0]["arguments"] == {"city": "Paris"}
    assert json.loads(answer["tool_calls"][0]["result"])["path"] == "/weather/Paris"


async def test_the_guard_refuses_loopback_and_metadata_and_the_turn_still_answers(sqlite_url: str) -> None:
    with Target() as target, FakeOpenAI() as model:
        model.add_tool_call("weather", {"city": "Paris"}, more=[("metadata", {})])
        model.add_answer("I could not look that up.")
        async with client_for(sqlite_url) as (app, client):  # no OUTBOUND_ALLOWLIST
            created = await client.post("/api/v1/agents", json=_agent(model, "guarded", http_tools=[
                _weather_tool(f"{target.url}/weather/{{city}}"),
                {"name": "metadata", "url": "http://169.254.169.254/latest/meta-data/"},
            ]))
            assert created.status_code == 201, created.text
            # Over the WebSocket this time.
            async with ws.connect(app.ws("/ws/agents/guarded?chat_id=c1")) as socket:
                frames = await turn(socket, "Weather in Paris?")

    assert target.requests == []
    assert frames[-1]["type"] == "message" and frames[-1]["content"] == "I could not look that up."
    results = [frame for frame in frames if frame.get("type") == "tool_result"]
    assert [r["result"] for r in results] == [
        "error: refused: 127.0.0.1 is a loopback address",
        "error: refused: 169.254.169.254 is a link-local address (cloud metadata)",
    ]
    assert all(r["ok"] is False for r in results)
    assert _tool_messages(model) == [r["result"] for r in results]


async def test_an_agent_uses_a_tool_of_an_mcp_server(sqlite_url: str, mcp_target: McpTarget) -> None:
    with FakeOpenAI() as model:
        model.add_tool_call("weather__forecast", {"city": "Lyon"})
        model.add_answer("Lyon: sunny.")
        async with client_for(sqlite_url) as (_, client):
            created = await client.post("/api/v1/agents", json=_agent(
                model, "mcp-user", mcp_servers=[{"name": "weather", "url": mcp_target.url}]))
            assert created.status_code == 201, created.text
            events = await _turn(client, "mcp-user", "Weather in Lyon?")

    message = next(data for name, data in events if name == "message")
    assert message["content"] == "Lyon: sunny."
    assert "weather__forecast" in [tool["function"]["name"] for tool in model.requests[0].body["tools"]]
    assert _tool_messages(model) == ["sunny and 24 degrees in Lyon"]


async def test_max_tool_steps_ends_a_loop_of_tool_calls_with_an_answer(sqlite_url: str) -> None:
    with Target() as target, FakeOpenAI() as model:
        model.responder = lambda body: (
            {"tool_calls": [{"name": "weather", "arguments": {"city": "Oslo"}}]} if body.get("tools") else "Enough calls."
        )
        async with client_for(sqlite_url, outbound_allowlist="127.0.0.1") as (_, client):
            created = await client.post("/api/v1/agents", json=_agent(
                model, "looper", max_tool_steps=3, http_tools=[_weather_tool(f"{target.url}/weather/{{city}}")]))
            assert created.status_code == 201, created.text
            events = await _turn(client, "looper", "Weather in Oslo, again and again")

    message = next(data for name, data in events if name == "message")
    assert message["content"] == "Enough calls."
    assert len([1 for name, _ in events if name == "tool_call"]) == 3
    assert len(target.requests) == 3
