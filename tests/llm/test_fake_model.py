"""The ``fake`` (demo) provider: deterministic, offline, streamed, with usage."""

from __future__ import annotations

import socket

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage

from agenthub.config import Settings
from agenthub.llm.factory import build_chat_model
from agenthub.llm.fake import DemoChatModel


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the demo model must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def model(settings: Settings) -> DemoChatModel:
    built = build_chat_model(settings, provider="fake", model_id="demo", temperature=0.7)
    assert isinstance(built, DemoChatModel)
    return built


CONVERSATION = [
    SystemMessage("You are a demo."),
    HumanMessage("hello"),
    AIMessage('You said: "hello". That is message 1 of this chat.'),
    HumanMessage("how are you"),
]


async def test_first_message(model: DemoChatModel) -> None:
    answer = await model.ainvoke([HumanMessage("hello")])
    assert answer.content == 'You said: "hello". That is message 1 of this chat.'


async def test_counts_user_turns(model: DemoChatModel) -> None:
    answer = await model.ainvoke(CONVERSATION)
    assert answer.content == 'You said: "how are you". That is message 2 of this chat.'


async def test_is_deterministic(model: DemoChatModel) -> None:
    first = await model.ainvoke(CONVERSATION)
    second = await model.ainvoke(CONVERSATION)
    assert first.content == second.content
    assert first.usage_metadata == second.usage_metadata
    assert model.invoke(CONVERSATION).content == first.content


async def test_reports_usage(model: DemoChatModel) -> None:
    answer = await model.ainvoke(CONVERSATION)
    usage = answer.usage_metadata
    assert usage is not None
    # Word counts: "You are a demo." 4 + "hello" 1 + the first answer 10 + "how are you" 3.
    assert usage["input_tokens"] == 18
    assert usage["output_tokens"] == len(str(answer.content).split())
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


async def test_streams_in_several_chunks(model: DemoChatModel) -> None:
    chunks = [chunk async for chunk in model.astream(CONVERSATION)]

    assert len(chunks) > 3
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    expected = await model.ainvoke(CONVERSATION)
    assert full.content == expected.content
    assert full.usage_metadata == expected.usage_metadata
    # Usage arrives once, with the last chunk, so summing chunks does not double it.
    assert [c.usage_metadata is not None for c in chunks].count(True) == 1


def test_sync_stream_matches(model: DemoChatModel) -> None:
    text = "".join(str(chunk.content) for chunk in model.stream([HumanMessage("one two three")]))
    assert text == 'You said: "one two three". That is message 1 of this chat.'


async def test_no_user_message(model: DemoChatModel) -> None:
    answer = await model.ainvoke([SystemMessage("only a system prompt")])
    assert answer.content == 'You said: "". That is message 0 of this chat.'
