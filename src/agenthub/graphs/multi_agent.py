"""The ``multi_agent`` graph: a supervisor routes the conversation to the agent's
``sub_agents`` and the turn ends with one answer.

- ``supervisor``: the agent's model, with the agent's system prompt and a routing note that
  lists the sub-agents, is given one tool, ``route(next)``, ``next`` being a sub-agent's name or
  ``FINISH``. Its calls are not streamed: they decide, they are not the answer.
- ``sub_agent``: the chosen sub-agent answers the conversation: an inline one with its
  ``system_prompt`` on its ``model_id`` (or the agent's model), one named by ``agent_id``
  through ``run_agent`` (another agent of the organisation, run in-process). Its answer goes
  back to the supervisor as the result of its ``route`` call (a failure as ``error: ...``),
  and the supervisor routes again.
- The end: when the supervisor says ``FINISH``, the answer is the last sub-agent's (the whole
  text goes to ``on_token`` then: which answer is final is known only once the supervisor
  has decided); when it writes an answer itself instead of routing, that is the answer. After
  :data:`MAX_ROUTES` sub-agent answers the last one is the answer. When it finishes with no
  answer in hand (every sub-agent asked failed), the agent's model answers the conversation
  itself, streamed.

The pattern is LangGraph's supervisor (handoffs as tool calls) built on ``StateGraph``.
"""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agenthub.errors import AgentHubError
from agenthub.graphs.contract import stream_model

log = logging.getLogger(__name__)

FINISH = "FINISH"
ROUTE = "route"
MAX_ROUTES = 4
"""Sub-agent answers a turn may collect before its last one is the answer."""
ROUTING_NOTE = (
    "You lead a team. For the user's latest message, call the `route` tool with the name of the team member "
    "best placed to answer it; you will get their answer back. When an answer is good enough for the user, "
    f"call `route` with next={FINISH!r} and the last answer is sent to the user as it is. "
    "Do not answer the user yourself unless no team member fits.\nTeam members:\n{members}"
)


class SupervisorState(MessagesState, total=False):
    routes: int
    """Sub-agent answers so far."""
    chosen: str
    """The sub-agent the supervisor picked last ('' for none)."""
    last_answer: str
    """The last sub-agent answer."""


def _sub_agents(config: RunnableConfig) -> list[dict[str, Any]]:
    subs = config["configurable"]["settings"].get("sub_agents") or []
    if not subs:
        raise ValueError("a multi_agent agent needs sub_agents")
    return list(subs)


def _route_spec(names: list[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": ROUTE,
            "description": "Hand the conversation to a team member, or finish with the last answer",
            "parameters": {
                "type": "object",
                "properties": {"next": {"type": "string", "enum": [*names, FINISH]}},
                "required": ["next"],
            },
        },
    }


def _conversation(messages: list[BaseMessage]) -> list[BaseMessage]:
    """The conversation without the supervisor's routing (its tool calls and their results)."""
    return [
        message for message in messages
        if not isinstance(message, ToolMessage) and not (isinstance(message, AIMessage) and message.tool_calls)
    ]


async def _supervise(state: SupervisorState, config: RunnableConfig) -> dict[str, Any]:
    settings = config["configurable"]
    subs = _sub_agents(config)
    members = "\n".join(f"- {sub['name']}: {sub['description']}" for sub in subs)
    prompt = "\n\n".join(part for part in (str(settings.get("system_prompt") or "").strip(),
                                           ROUTING_NOTE.format(members=members)) if part)
    decision = await stream_model(
        settings["model"], [SystemMessage(content=prompt), *state["messages"]], config,
        tools=[_route_spec([sub["name"] for sub in subs])], stream=False,
    )
    call = next((call for call in decision.tool_calls if call["name"] == ROUTE), None)
    chosen = str(call["args"].get("next") or "") if call is not None else ""
    if call is None or not chosen:  # it answered itself, or its call could not be read
        text = decision.text or state.get("last_answer", "")
        return _final(text, config) if text else await _answer_itself(state, config)
    if chosen == FINISH or state.get("routes", 0) >= MAX_ROUTES:
        if state.get("last_answer"):
            return _final(state["last_answer"], config)
        return await _answer_itself(state, config)
    # Keep only the call acted on: every tool call needs its result before the next model call.
    routing = AIMessage(content="", tool_calls=[call], id=decision.id)
    return {"messages": [routing], "chosen": chosen}


def _final(text: str, config: RunnableConfig) -> dict[str, Any]:
    on_token = config["configurable"].get("on_token")
    if text and on_token is not None:
        on_token(text)
    return {"messages": [AIMessage(content=text)], "chosen": ""}


async def _answer_itself(state: SupervisorState, config: RunnableConfig) -> dict[str, Any]:
    """No sub-agent answered (each failed): the agent's model answers the conversation itself, streamed."""
    settings = config["configurable"]
    prompt = str(settings.get("system_prompt") or "").strip()
    messages = _conversation(list(state["messages"]))
    answer = await stream_model(settings["model"], [SystemMessage(content=prompt), *messages] if prompt else messages,
                                config)
    return {"messages": [answer], "chosen": ""}


async def _answer(sub: dict[str, Any], state: SupervisorState, config: RunnableConfig) -> str:
    settings = config["configurable"]
    conversation = _conversation(list(state["messages"]))
    if sub.get("agent_id"):
        question = next((m.text for m in reversed(conversation) if m.type == "human"), "")
        return str(await settings["run_agent"](sub["agent_id"], question))
    model = settings["model_for"](sub["model_id"]) if sub.get("model_id") else settings["model"]
    answer = await stream_model(
        model, [SystemMessage(content=sub["system_prompt"]), *conversation], config, stream=False
    )
    return answer.text


async def _run_sub_agent(state: SupervisorState, config: RunnableConfig) -> dict[str, Any]:
    routing = state["messages"][-1]
    assert isinstance(routing, AIMessage) and routing.tool_calls
    call = routing.tool_calls[0]
    chosen = state.get("chosen", "")
    sub = next((sub for sub in _sub_agents(config) if sub["name"] == chosen), None)
    if sub is None:
        names = ", ".join(sub["name"] for sub in _sub_agents(config))
        result, answer = f"error: there is no team member {chosen!r} (members: {names})", state.get("last_answer", "")
    else:
        try:
            answer = await _answer(sub, state, config)
            result = answer
        except AgentHubError as error:  # a sub-agent that is gone, agents asking agents too deep
            answer, result = state.get("last_answer", ""), f"error: {error.message}"
        except Exception as error:  # noqa: BLE001 - the supervisor hears of it, the turn goes on
            log.warning("sub-agent %s failed: %s", chosen, type(error).__name__)
            answer, result = state.get("last_answer", ""), f"error: {chosen} failed ({type(error).__name__})"
    return {
        "messages": [ToolMessage(content=result, tool_call_id=call.get("id") or "", name=ROUTE)],
        "routes": state.get("routes", 0) + 1,
        "last_answer": answer,
    }


def _after_supervisor(state: SupervisorState) -> str:
    return "sub_agent" if state.get("chosen") else END


def build_multi_agent_graph() -> CompiledStateGraph:
    graph = StateGraph(SupervisorState)
    graph.add_node("supervisor", _supervise)
    graph.add_node("sub_agent", _run_sub_agent)
    graph.add_edge(START, "supervisor")
    graph.add_conditional_edges("supervisor", _after_supervisor, ["sub_agent", END])
    graph.add_edge("sub_agent", "supervisor")
    return graph.compile()
