"""The simple graph streamed end to end: real graph, real ChatOpenAI, real HTTP server."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage

from agenthub.config import Settings
from agenthub.graphs.simple import build_simple_graph
from agenthub.llm.factory import build_chat_model
from tests.support.fake_openai import FakeOpenAI

CONVERSATION: list[BaseMessage] = [
    HumanMessage("hello"),
    AIMessage("hi, how can I help?"),
    HumanMessage("tell me about foxes"),
]


def _openai_model(settings: Settings, server: FakeOpenAI) -> BaseChatModel:
    return build_chat_model(
        settings, provider="openai_compatible", model_id="gpt-4o-mini", temperature=0, base_url=server.url
    )


async def _run(
    model: BaseChatModel, messages: list[BaseMessage], system_prompt: str | None = None
) -> tuple[list[AIMessageChunk], list[dict[str, Any]]]:
    """Stream the graph; return the model's message chunks and the state updates."""
    graph = build_simple_graph()
    chunks: list[AIMessageChunk] = []
    updates: list[dict[str, Any]] = []
    configurable = {"model": model, "system_prompt": system_prompt}
    async for mode, data in graph.astream(
        {"messages": messages},
        config={"configurable": configurable},
        stream_mode=["messages", "updates"],
    ):
        if mode == "messages":
            chunk, metadata = data
            assert metadata["langgraph_node"] == "model"
            chunks.append(chunk)
        else:
            updates.append(data)
    return chunks, updates


async def test_streams_word_by_word_with_usage(settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.add_answer("The quick brown fox", prompt_tokens=31, completion_tokens=4)

    chunks, updates = await _run(_openai_model(settings, fake_openai), CONVERSATION, "You are terse.")

    assert [c.content for c in chunks if c.content] == ["The", " quick", " brown", " fox"]
    (update,) = updates
    (final,) = update["model"]["messages"]
    assert isinstance(final, AIMessage)
    assert final.content == "The quick brown fox"
    assert final.usage_metadata is not None
    assert final.usage_metadata["input_tokens"] == 31
    assert final.usage_metadata["output_tokens"] == 4
    assert final.usage_metadata["total_tokens"] == 35

    (request,) = fake_openai.requests
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}
    assert request.body["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "hi, how can I help?"},
        {"role": "user", "content": "tell me about foxes"},
    ]


async def test_no_system_prompt_sends_only_the_conversation(
    settings: Settings, fake_openai: FakeOpenAI
) -> None:
    chunks, _ = await _run(_openai_model(settings, fake_openai), [HumanMessage("ping")])

    assert "".join(str(c.content) for c in chunks) == "echo: ping"
    (request,) = fake_openai.requests
    assert request.body["messages"] == [{"role": "user", "content": "ping"}]


async def test_state_gains_the_answer(settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.add_answer("Foxes are canids.")
    graph = build_simple_graph()
    config = {"configurable": {"model": _openai_model(settings, fake_openai), "system_prompt": "Be kind."}}

    state = await graph.ainvoke({"messages": CONVERSATION}, config=config)

    assert [m.content for m in state["messages"]] == [m.content for m in CONVERSATION] + ["Foxes are canids."]
    # The system prompt goes to the model but is not stored in the conversation.
    assert all(m.type != "system" for m in state["messages"])


async def test_http_error_surfaces_through_the_graph(settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.add_error(500)
    fake_openai.add_error(500)  # the client retries once

    with pytest.raises(openai.InternalServerError):
        await _run(_openai_model(settings, fake_openai), [HumanMessage("hello")], "sys")


async def test_demo_model_streams_through_the_graph(settings: Settings) -> None:
    model = build_chat_model(settings, provider="fake", model_id="demo", temperature=0)

    chunks, updates = await _run(model, CONVERSATION, "You are a demo.")

    assert len([c for c in chunks if c.content]) > 3
    (final,) = updates[-1]["model"]["messages"]
    assert final.content == 'You said: "tell me about foxes". That is message 2 of this chat.'
    assert "".join(str(c.content) for c in chunks) == final.content
    assert final.usage_metadata is not None
    assert final.usage_metadata["output_tokens"] == len(final.content.split())
