"""The ReAct loop of the simple graph, through a real ChatOpenAI against the fake model
server: tool calls streamed as OpenAI streams them, run in order, their results sent back to
the model, the loop ended by ``max_tool_steps`` with an answer, usage of every call summed."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.messages.ai import UsageMetadata, add_usage

from agenthub.config import Settings
from agenthub.graphs.simple import ANSWER_NOW, OUT_OF_STEPS, build_simple_graph
from agenthub.llm.factory import build_chat_model
from tests.support.fake_openai import FakeOpenAI

WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class Recorder:
    """What the graph hands out: tokens, usage and tool calls (answered by ``results``)."""

    def __init__(self, results: dict[str, str] | None = None) -> None:
        self.results = results or {}
        self.tokens: list[str] = []
        self.calls: list[tuple[str, Any, str]] = []
        self.usage: UsageMetadata | None = None

    async def call_tool(self, name: str, arguments: Any, call_id: str) -> str:
        self.calls.append((name, arguments, call_id))
        return self.results.get(name, f"error: there is no tool named {name!r}")

    def on_usage(self, usage: UsageMetadata) -> None:
        self.usage = add_usage(self.usage, usage)

    def config(self, settings: Settings, server: FakeOpenAI, **extra: Any) -> dict[str, Any]:
        model = build_chat_model(
            settings, provider="openai_compatible", model_id="m", temperature=0, base_url=server.url
        )
        return {"configurable": {
            "model": model, "system_prompt": "You help.", "tools": [WEATHER], "call_tool": self.call_tool,
            "on_token": self.tokens.append, "on_usage": self.on_usage, **extra,
        }}


async def test_a_tool_call_runs_and_its_result_reaches_the_model(settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.add_tool_call("weather", {"city": "Paris"})
    fake_openai.add_answer("It is sunny in Paris.", prompt_tokens=20, completion_tokens=5)
    recorder = Recorder({"weather": "sunny, 24 C"})

    state = await build_simple_graph().ainvoke(
        {"messages": [HumanMessage("Weather in Paris?")]}, recorder.config(settings, fake_openai)
    )

    assert [(name, args) for name, args, _ in recorder.calls] == [("weather", {"city": "Paris"})]
    final = state["messages"][-1]
    assert isinstance(final, AIMessage) and final.content == "It is sunny in Paris."
    first, second = fake_openai.requests
    assert first.body["tools"][0]["function"]["name"] == "weather"
    tool_message = second.body["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["content"] == "sunny, 24 C"
    assert tool_message["tool_call_id"] == recorder.calls[0][2]
    assert "".join(recorder.tokens) == "It is sunny in Paris."
    assert recorder.usage is not None and recorder.usage["output_tokens"] == 5  # the tool call's answer had no text


async def test_the_loop_ends_after_max_tool_steps_with_an_answer(settings: Settings, fake_openai: FakeOpenAI) -> None:
    for _ in range(3):
        fake_openai.add_tool_call("weather", {"city": "Oslo"})
    fake_openai.add_answer("Probably rain.")
    recorder = Recorder({"weather": "unknown"})

    state = await build_simple_graph().ainvoke(
        {"messages": [HumanMessage("Weather in Oslo?")]}, recorder.config(settings, fake_openai, max_tool_steps=2)
    )

    assert len(recorder.calls) == 2  # the third call, made after the limit, is not run
    assert state["messages"][-1].content == OUT_OF_STEPS
    last_request = fake_openai.requests[-1].body
    assert "tools" not in last_request  # the last call may only answer
    assert last_request["messages"][-1] == {"role": "system", "content": ANSWER_NOW}


async def test_two_calls_in_one_answer_run_in_order_and_usage_adds_up(settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.add_tool_call("weather", {"city": "Rome"}, more=[("nope", {"x": 1})])
    fake_openai.add_answer("Rome is warm.", prompt_tokens=10, completion_tokens=3)
    recorder = Recorder({"weather": "warm"})

    await build_simple_graph().ainvoke(
        {"messages": [HumanMessage("Rome?")]}, recorder.config(settings, fake_openai)
    )

    assert [name for name, _, _ in recorder.calls] == ["weather", "nope"]
    results = [m for m in fake_openai.requests[1].body["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in results] == ["warm", "error: there is no tool named 'nope'"]
    assert recorder.usage is not None and recorder.usage["input_tokens"] >= 10 and recorder.usage["output_tokens"] >= 3


async def test_without_tools_nothing_is_bound(settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.add_answer("plain")
    recorder = Recorder()
    config = recorder.config(settings, fake_openai)
    config["configurable"]["tools"] = []

    state = await build_simple_graph().ainvoke({"messages": [HumanMessage("hi")]}, config)

    assert state["messages"][-1].content == "plain"
    assert "tools" not in fake_openai.requests[0].body
