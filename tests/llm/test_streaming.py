"""The lean transport of streamed chat completions (agenthub.llm.streaming), against a real
OpenAI-compatible HTTP server."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys

import openai
import pytest
from langchain_core.messages import AIMessage, HumanMessage

from agenthub.config import Settings
from agenthub.graphs.simple import build_simple_graph
from agenthub.llm.factory import build_chat_model
from agenthub.llm.streaming import StreamingChatOpenAI
from tests.support.fake_openai import FakeOpenAI


def _model(settings: Settings, base_url: str, **kwargs: object) -> StreamingChatOpenAI:
    model = build_chat_model(
        settings, provider="openai_compatible", model_id="m", temperature=0.0, base_url=base_url, **kwargs
    )
    assert isinstance(model, StreamingChatOpenAI)
    return model


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_answer_streams_piece_by_piece_with_usage(settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.add_answer("one two three four", prompt_tokens=5, completion_tokens=4)
    model = _model(settings, fake_openai.url)

    chunks = [chunk async for chunk in model.astream([HumanMessage("count")])]

    assert [c.text for c in chunks if c.text] == ["one", " two", " three", " four"]
    usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert usage == [{"input_tokens": 5, "output_tokens": 4, "total_tokens": 9,
                      "input_token_details": {}, "output_token_details": {}}]
    (request,) = fake_openai.requests
    assert request.body["stream"] is True
    assert request.body["messages"] == [{"role": "user", "content": "count"}]
    assert request.headers["content-type"] == "application/json"


async def test_one_pooled_http_client_serves_every_turn(settings: Settings, fake_openai: FakeOpenAI) -> None:
    """A client built per call (its SSL context, its connection pool) is what made a turn
    with an HTTP model slow; the model keeps one per event loop."""
    model = _model(settings, fake_openai.url)
    graph = build_simple_graph()
    config = {"configurable": {"model": model, "system_prompt": "", "on_token": None}}

    first = await graph.ainvoke({"messages": [HumanMessage("first")]}, config)
    client = model.stream_client()
    second = await graph.ainvoke({"messages": [HumanMessage("second")]}, config)

    assert [first["messages"][-1].content, second["messages"][-1].content] == ["echo: first", "echo: second"]
    assert model.stream_client() is client
    assert not client.closed
    await model.aclose()
    assert client.closed


async def test_a_new_event_loop_gets_its_own_client(settings: Settings, fake_openai: FakeOpenAI) -> None:
    model = _model(settings, fake_openai.url)
    await model.ainvoke([HumanMessage("hi")])
    closed = model.stream_client()
    await closed.close()  # as when the loop that made it is gone

    answer = await model.ainvoke([HumanMessage("again")])

    assert answer.content == "echo: again"
    assert model.stream_client() is not closed


async def test_the_key_goes_as_a_bearer_token(fake_openai: FakeOpenAI) -> None:
    settings = Settings(_env_file=None, openai_api_key="sk-test-streaming", openai_base_url=fake_openai.url)
    model = build_chat_model(settings, provider="openai", model_id="m", temperature=0.0)
    await model.ainvoke([HumanMessage("hi")])
    (request,) = fake_openai.requests
    assert request.headers["authorization"] == "Bearer sk-test-streaming"


async def test_an_error_status_is_the_sdk_error_with_its_message(settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.add_error(404, "no such model")
    model = _model(settings, fake_openai.url)

    with pytest.raises(openai.NotFoundError, match="no such model") as caught:
        await model.ainvoke([HumanMessage("hi")])

    assert caught.value.status_code == 404
    assert len(fake_openai.requests) == 1


async def test_a_retryable_status_is_tried_once_more(settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.add_error(503, "busy")
    model = _model(settings, fake_openai.url)

    answer = await model.ainvoke([HumanMessage("hi")])

    assert answer.content == "echo: hi"
    assert len(fake_openai.requests) == 2


async def test_an_unreachable_model_is_a_connection_error(settings: Settings) -> None:
    model = _model(settings, f"http://127.0.0.1:{_free_port()}/v1")
    with pytest.raises(openai.APIConnectionError):
        await model.ainvoke([HumanMessage("hi")])


async def test_what_the_short_way_does_not_cover_goes_through_chatopenai(
    settings: Settings, fake_openai: FakeOpenAI
) -> None:
    model = _model(settings, fake_openai.url).model_copy(update={"include_response_headers": True})

    answer = await model.ainvoke([HumanMessage("with headers")])

    assert isinstance(answer, AIMessage)
    assert answer.content == "echo: with headers"
    assert "headers" in answer.response_metadata


def test_a_host_has_the_model_clients_loaded_before_its_first_turn() -> None:
    """Importing langchain-openai, the openai SDK and aiohttp takes a second or more; done on
    the first turn with an HTTP model, it would hold up the event loop and every other chat
    of the process. They come with the model factory, which a host's process imports when it
    starts (through whatever builds its models)."""
    check = (
        "import sys, agenthub.llm.factory; "
        "print(sorted({'langchain_openai', 'openai', 'aiohttp'} - set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"


class ScriptedStream:
    """A loopback HTTP server that answers every request with the given SSE events, for what
    the fake OpenAI server does not script (tool calls, an error in the middle of a stream)."""

    def __init__(self, events: list[dict | str]) -> None:
        lines = [f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n".encode() for e in events]
        body = b"".join(lines)
        self.response = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.bodies: list[dict] = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        self.bodies.append(json.loads(await reader.readexactly(length)))
        writer.write(self.response)
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1"

    async def __aexit__(self, *exc_info: object) -> None:
        self.server.close()
        await self.server.wait_closed()


def _chunk(delta: dict, finish: str | None = None) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


async def test_streamed_tool_calls_come_through(settings: Settings) -> None:
    call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": ""}}
    events: list[dict | str] = [
        _chunk({"role": "assistant", "content": None, "tool_calls": [call]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
        _chunk({}, "tool_calls"),
        "[DONE]",
    ]
    tool = {"type": "function", "function": {"name": "lookup", "description": "Look a city up",
                                             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
    script = ScriptedStream(events)
    async with script as url:
        answer = await _model(settings, url).bind_tools([tool]).ainvoke([HumanMessage("where?")])

    assert answer.tool_calls == [{"name": "lookup", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}]
    (body,) = script.bodies
    assert body["tools"][0]["function"]["name"] == "lookup"


async def test_an_error_in_the_middle_of_a_stream_is_an_api_error(settings: Settings) -> None:
    events: list[dict | str] = [_chunk({"role": "assistant", "content": "Hal"}),
                                {"error": {"message": "the model ran out of memory", "type": "server_error"}}]
    async with ScriptedStream(events) as url:
        with pytest.raises(openai.APIError, match="ran out of memory"):
            await _model(settings, url).ainvoke([HumanMessage("hi")])


def test_models_for_new_base_urls_share_the_certificates_loaded_once(settings: Settings) -> None:
    """Loading the certificate store takes tens of milliseconds; per new model it would stall
    the event loop that builds the model at an agent's first turn."""
    first = _model(settings, "https://one.example/v1")
    second = _model(settings, "http://127.0.0.1:9/v1")
    contexts = {
        id(model.root_async_client._client._transport._pool._ssl_context)  # type: ignore[attr-defined]
        for model in (first, second)
    } | {id(model.root_client._client._transport._pool._ssl_context) for model in (first, second)}  # type: ignore[attr-defined]
    assert len(contexts) == 1
