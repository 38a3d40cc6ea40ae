"""The ``web_search`` tool against a local fake Tavily: the query goes out with the key in
the Authorization header, the results come back as text; without a key, or when Tavily
fails, the model gets an error it can react to; the key never reaches a log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from agenthub.config import Settings
from agenthub.outbound.guard import OutboundGuard
from agenthub.tools.base import ToolContext, ToolDeps
from agenthub.tools.registry import ToolRegistry
from tests.agents.helpers import chat, client_for
from tests.support.fake_openai import FakeOpenAI
from tests.support.http_recorder import Recorder, Request, json_reply

KEY = "tvly-secret-key-123"
RESULTS = [
    {"title": "Eiffel Tower - Wikipedia", "url": "https://en.wikipedia.org/wiki/Eiffel_Tower",
     "content": "The tower is 330 metres tall.", "score": 0.9},
    {"title": "Visit Paris", "url": "https://example.org/paris", "content": "Opening hours...", "score": 0.5},
]


def _tavily(request: Request) -> tuple[int, dict[str, str], bytes]:
    if request.path != "/search" or request.headers.get("authorization") != f"Bearer {KEY}":
        return json_reply({"detail": {"error": "Unauthorized"}}, 401)
    return json_reply({"query": request.json()["query"], "results": RESULTS[: request.json()["max_results"]]})


@pytest.fixture
def tavily() -> Iterator[Recorder]:
    with Recorder(_tavily) as server:
        yield server


def _context() -> ToolContext:
    return ToolContext(org_id="default", agent_id="a1", agent_settings={}, chat_id="c1", message={})


async def _call(settings: Settings, arguments: Any) -> tuple[str, bool]:
    deps = ToolDeps(settings=settings, sessions=None, guard=OutboundGuard())  # type: ignore[arg-type]
    registry = ToolRegistry(deps)
    toolset = await registry.open({"tools": ["web_search"]}, _context())
    return await toolset.call("web_search", arguments, _context())


async def test_results_reach_the_model_as_text(tavily: Recorder, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(_env_file=None, tavily_api_key=KEY, tavily_base_url=tavily.url)
    caplog.set_level(logging.DEBUG)

    text, ok = await _call(settings, {"query": "  height of the eiffel tower ", "max_results": 1})

    assert ok, text
    assert text == (
        "1. Eiffel Tower - Wikipedia\n   https://en.wikipedia.org/wiki/Eiffel_Tower\n   The tower is 330 metres tall."
    )
    (request,) = tavily.requests
    assert request.method == "POST" and request.json() == {"query": "height of the eiffel tower", "max_results": 1}
    assert KEY not in caplog.text


async def test_without_a_key_the_model_is_told_search_is_unavailable(tavily: Recorder) -> None:
    settings = Settings(_env_file=None, tavily_base_url=tavily.url)

    text, ok = await _call(settings, {"query": "anything"})

    assert not ok and text == "error: web search is not available: TAVILY_API_KEY is not set on the server"
    assert tavily.requests == []


async def test_a_failing_search_service_is_an_error_without_the_key(tavily: Recorder) -> None:
    wrong = Settings(_env_file=None, tavily_api_key="tvly-wrong", tavily_base_url=tavily.url)
    text, ok = await _call(wrong, {"query": "anything"})
    assert not ok and text == "error: the search service answered HTTP 401"

    closed = Settings(_env_file=None, tavily_api_key=KEY, tavily_base_url="http://127.0.0.1:9")
    text, ok = await _call(closed, {"query": "anything"})
    assert not ok and text.startswith("error: the search service could not be reached")
    assert KEY not in text

    empty = Settings(_env_file=None, tavily_api_key=KEY, tavily_base_url=tavily.url)
    text, ok = await _call(empty, {"query": ""})
    assert not ok and text == "error: `query` must be a non-empty string"


async def test_an_agent_searches_the_web_and_answers_from_the_results(sqlite_url: str, tavily: Recorder) -> None:
    with FakeOpenAI() as model:
        model.add_tool_call("web_search", {"query": "eiffel tower height"})
        model.add_answer("It is 330 metres tall.")
        async with client_for(sqlite_url, tavily_api_key=KEY, tavily_base_url=tavily.url) as (_app, client):
            body = {
                "name": "Searcher",
                "settings": {
                    "provider": "openai_compatible", "model_id": "m", "base_url": model.url,
                    "system_prompt": "Search first.", "tools": ["web_search"],
                },
            }
            created = await client.post("/api/v1/agents", json=body)
            assert created.status_code == 201, created.text
            message = await chat(client, created.json()["id"], "How tall is the Eiffel Tower?")

        assert message["content"] == "It is 330 metres tall."
        (call,) = message["tool_calls"]
        assert call["name"] == "web_search" and "330 metres" in call["result"]
        # The model read the results in the tool message of its second call.
        tool_messages = [m for m in model.requests[1].body["messages"] if m["role"] == "tool"]
        assert "330 metres" in tool_messages[0]["content"]
