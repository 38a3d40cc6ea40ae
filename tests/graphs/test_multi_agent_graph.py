"""The multi_agent graph: the supervisor routes to the right sub-agent, whose answer is the
one answer of the turn; sub-agents inline or other agents; failures and loops end well."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage

from agenthub.config import Settings
from agenthub.errors import NotFound
from agenthub.graphs.multi_agent import MAX_ROUTES, build_multi_agent_graph
from tests.graphs.helpers import TurnRecord, system_of, users_of
from tests.support.fake_openai import FakeOpenAI

SUB_AGENTS = [
    {"name": "lawyer", "description": "Contracts and law", "system_prompt": "LAWYER-PROMPT"},
    {"name": "accountant", "description": "Invoices and tax", "system_prompt": "ACCOUNTANT-PROMPT",
     "model_id": "numbers-model"},
    {"name": "people", "description": "HR questions", "agent_id": "hr-agent"},
]


def _is_supervisor(body: dict[str, Any]) -> bool:
    return any(tool["function"]["name"] == "route" for tool in body.get("tools") or [])


def _route(to: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "route", "arguments": {"next": to}}]}


def _team(body: dict[str, Any]) -> str | dict[str, Any]:
    """A supervisor that routes by topic and finishes once it has an answer; sub-agents that
    answer by their prompt."""
    if _is_supervisor(body):
        if any(m["role"] == "tool" for m in body["messages"]):
            return _route("FINISH")
        question = users_of(body)[-1]
        return _route("lawyer" if "contract" in question else "people" if "holiday" in question else "accountant")
    system = system_of(body)
    if system == "LAWYER-PROMPT":
        return f"Lawyer: clause 7 of '{users_of(body)[-1]}' is fine"
    if system == "ACCOUNTANT-PROMPT":
        return "Accountant: book it on 4400"
    return "nobody"


def _turn(settings: Settings, server: FakeOpenAI, **more: Any) -> TurnRecord:
    return TurnRecord(
        settings, server, {"agent_type": "multi_agent", "sub_agents": SUB_AGENTS},
        system_prompt="You are the office desk.", **more,
    )


async def test_the_supervisor_routes_to_the_right_sub_agent_whose_answer_is_the_answer(
    settings: Settings, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = _team
    turn = _turn(settings, fake_openai)

    state = await build_multi_agent_graph().ainvoke({"messages": [HumanMessage("is my contract ok?")]}, turn.config)

    answer = "Lawyer: clause 7 of 'is my contract ok?' is fine"
    assert state["messages"][-1].content == answer
    assert "".join(turn.tokens) == answer, "one answer, streamed"
    first, sub, second = (request.body for request in fake_openai.requests)
    assert _is_supervisor(first) and _is_supervisor(second) and not _is_supervisor(sub)
    supervisor_prompt = system_of(first)
    assert supervisor_prompt.startswith("You are the office desk.")
    assert "- lawyer: Contracts and law" in supervisor_prompt and "- people: HR questions" in supervisor_prompt
    assert first["tools"][0]["function"]["parameters"]["properties"]["next"]["enum"] == [
        "lawyer", "accountant", "people", "FINISH",
    ]
    assert system_of(sub) == "LAWYER-PROMPT" and users_of(sub) == ["is my contract ok?"]
    assert "tools" not in sub
    (result,) = [m for m in second["messages"] if m["role"] == "tool"]
    assert result["content"] == answer, "the supervisor sees the sub-agent's answer"
    assert len(turn.usages) == 3


async def test_an_inline_sub_agent_runs_on_its_model(settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.responder = _team
    turn = _turn(settings, fake_openai)

    state = await build_multi_agent_graph().ainvoke({"messages": [HumanMessage("this invoice?")]}, turn.config)

    assert state["messages"][-1].content == "Accountant: book it on 4400"
    assert [request.body["model"] for request in fake_openai.requests] == [
        "agent-model", "numbers-model", "agent-model",
    ]


async def test_a_sub_agent_that_is_another_agent_is_run_through_run_agent(
    settings: Settings, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = _team
    asked: list[tuple[str, str]] = []

    async def run_agent(agent_id: str, text: str) -> str:
        asked.append((agent_id, text))
        return "HR: you have 12 days left"

    turn = _turn(settings, fake_openai, run_agent=run_agent)

    state = await build_multi_agent_graph().ainvoke({"messages": [HumanMessage("my holiday days?")]}, turn.config)

    assert asked == [("hr-agent", "my holiday days?")]
    assert state["messages"][-1].content == "HR: you have 12 days left" == "".join(turn.tokens)


async def test_a_failing_sub_agent_is_reported_to_the_supervisor(settings: Settings, fake_openai: FakeOpenAI) -> None:
    def supervisor(body: dict[str, Any]) -> str | dict[str, Any]:
        tools = [m for m in body["messages"] if m["role"] == "tool"]
        if tools:
            return f"Sorry, {tools[0]['content']}"
        return _route("people")

    async def run_agent(agent_id: str, text: str) -> str:
        raise NotFound(f"agent {agent_id!r} not found")

    fake_openai.responder = supervisor
    turn = _turn(settings, fake_openai, run_agent=run_agent)

    state = await build_multi_agent_graph().ainvoke({"messages": [HumanMessage("holiday?")]}, turn.config)

    assert state["messages"][-1].content == "Sorry, error: agent 'hr-agent' not found" == "".join(turn.tokens)


async def test_the_supervisor_may_answer_itself(settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.add_answer("Hello! How can the office help?")
    turn = _turn(settings, fake_openai)

    state = await build_multi_agent_graph().ainvoke({"messages": [HumanMessage("hi")]}, turn.config)

    assert state["messages"][-1].content == "Hello! How can the office help?" == "".join(turn.tokens)
    assert len(fake_openai.requests) == 1


async def test_routing_ends_after_max_routes_with_the_last_answer(settings: Settings, fake_openai: FakeOpenAI) -> None:
    count = {"lawyer": 0}

    def restless(body: dict[str, Any]) -> str | dict[str, Any]:
        if _is_supervisor(body):
            return _route("lawyer")
        count["lawyer"] += 1
        return f"answer {count['lawyer']}"

    fake_openai.responder = restless
    turn = _turn(settings, fake_openai)

    state = await build_multi_agent_graph().ainvoke({"messages": [HumanMessage("contract")]}, turn.config)

    assert count["lawyer"] == MAX_ROUTES
    assert state["messages"][-1].content == f"answer {MAX_ROUTES}" == "".join(turn.tokens)


async def test_an_unknown_name_is_told_to_the_supervisor(settings: Settings, fake_openai: FakeOpenAI) -> None:
    def confused(body: dict[str, Any]) -> str | dict[str, Any]:
        tools = [m for m in body["messages"] if m["role"] == "tool"]
        return tools[0]["content"] if tools else _route("janitor")

    fake_openai.responder = confused
    turn = _turn(settings, fake_openai)

    state = await build_multi_agent_graph().ainvoke({"messages": [HumanMessage("hm")]}, turn.config)

    assert state["messages"][-1].content.startswith("error: there is no team member 'janitor'")


async def test_a_sub_agent_whose_model_fails_is_reported_not_fatal(settings: Settings, fake_openai: FakeOpenAI) -> None:
    def team(body: dict[str, Any]) -> str | dict[str, Any]:
        if _is_supervisor(body):
            tools = [m for m in body["messages"] if m["role"] == "tool"]
            return f"Desk: {tools[0]['content']}" if tools else _route("lawyer")
        return {"status": 500, "message": "model down"}

    fake_openai.responder = team
    turn = _turn(settings, fake_openai)

    state = await build_multi_agent_graph().ainvoke({"messages": [HumanMessage("contract?")]}, turn.config)

    assert state["messages"][-1].content == "Desk: error: lawyer failed (OpenAIAPIError)"


async def test_a_routing_call_that_cannot_be_read_ends_with_the_agent_answering(
    settings: Settings, fake_openai: FakeOpenAI
) -> None:
    def garbled(body: dict[str, Any]) -> str | dict[str, Any]:
        if _is_supervisor(body):
            return {"tool_calls": [{"name": "route", "arguments": "{not json"}]}
        return "I can help with that myself."

    fake_openai.responder = garbled
    turn = _turn(settings, fake_openai)

    state = await build_multi_agent_graph().ainvoke({"messages": [HumanMessage("hm")]}, turn.config)

    assert state["messages"][-1].content == "I can help with that myself." == "".join(turn.tokens)
    answering = fake_openai.requests[-1].body
    assert system_of(answering) == "You are the office desk." and "tools" not in answering
