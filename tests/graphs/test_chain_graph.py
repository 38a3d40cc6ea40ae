"""The chain graph: each step's prompt and model, each step's output the next one's input,
only the last step streamed, every step's usage reported."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage

from agenthub.config import Settings
from agenthub.graphs.chain import build_chain_graph
from tests.graphs.helpers import TurnRecord, system_of, users_of
from tests.support.fake_openai import FakeOpenAI

STEPS = [
    {"name": "extract", "prompt": "STEP-EXTRACT: list the facts."},
    {"name": "draft", "prompt": "STEP-DRAFT: write a reply from the facts.", "model_id": "drafting-model"},
    {"name": "polish", "prompt": "STEP-POLISH: make it friendly."},
]


def _by_step(body: dict[str, Any]) -> str:
    system, users = system_of(body), users_of(body)
    if "STEP-EXTRACT" in system:
        return f"facts of [{users[-1]}]"
    if "STEP-DRAFT" in system:
        return f"draft from <{users[-1]}>"
    return f"polished {{{users[-1]}}}"


async def test_a_chain_feeds_each_step_and_streams_the_last(settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.responder = _by_step
    turn = TurnRecord(settings, fake_openai, {"agent_type": "chain", "steps": STEPS}, system_prompt="You work for ACME.")
    conversation = [HumanMessage("hi"), AIMessage("hello"), HumanMessage("my order 42 is late")]

    state = await build_chain_graph().ainvoke({"messages": conversation}, turn.config)

    final = state["messages"][-1]
    assert final.content == "polished {draft from <facts of [my order 42 is late]>}"
    assert "".join(turn.tokens) == final.content, "only the last step streams"
    assert len(turn.usages) == 3 and all(usage["output_tokens"] > 0 for usage in turn.usages)
    first, second, third = (request.body for request in fake_openai.requests)
    assert system_of(first) == "You work for ACME.\n\nSTEP-EXTRACT: list the facts."
    assert users_of(first) == ["hi", "my order 42 is late"], "the first step reads the conversation"
    assert users_of(second) == ["facts of [my order 42 is late]"]
    assert users_of(third) == ["draft from <facts of [my order 42 is late]>"]
    assert [first["model"], second["model"], third["model"]] == ["agent-model", "drafting-model", "agent-model"]
    assert [m.content for m in state["messages"][:3]] == ["hi", "hello", "my order 42 is late"]


async def test_a_one_step_chain_is_one_streamed_call(settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.add_answer("only step answer")
    turn = TurnRecord(settings, fake_openai, {"agent_type": "chain", "steps": STEPS[:1]})

    state = await build_chain_graph().ainvoke({"messages": [HumanMessage("go")]}, turn.config)

    assert state["messages"][-1].content == "only step answer" == "".join(turn.tokens)
    (request,) = fake_openai.requests
    assert system_of(request.body) == "STEP-EXTRACT: list the facts."
