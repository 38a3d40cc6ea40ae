"""The simple LLM agent graph: system prompt + conversation -> model, streamed; with tools,
a ReAct loop (model -> tools -> model ...) ended after ``max_tool_steps`` with an answer.

One compiled graph serves every agent in a process; what differs per agent and turn
arrives in ``config["configurable"]`` (see :mod:`agenthub.graphs.contract`), so an idle
agent costs no graph of its own.

Streaming: the node streams the model and hands each piece of text to ``on_token`` as it
arrives (the runner publishes them), and returns the whole answer as one message. LangGraph's
``stream_mode="messages"`` sees the same tokens through the callbacks, for callers that
prefer it; the runner does not use it, as it costs more per token than the answer itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agenthub.graphs.contract import DEFAULT_MAX_TOOL_STEPS, run_tool_calls, stream_model

OUT_OF_STEPS = "I could not finish this within the tool calls I may make for one message."
ANSWER_NOW = (
    "You have used all the tool calls you may make for this message. Answer now with what you have found, "
    "without calling a tool."
)


def _tool_steps(messages: Sequence[BaseMessage]) -> int:
    """Model calls with tool calls since the last user message."""
    steps = 0
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            break
        if isinstance(message, AIMessage) and message.tool_calls:
            steps += 1
    return steps


async def _call_model(state: MessagesState, config: RunnableConfig) -> dict:
    settings = config["configurable"]
    messages = list(state["messages"])
    if settings.get("system_prompt"):
        messages.insert(0, SystemMessage(content=settings["system_prompt"]))
    tools = settings.get("tools") or []
    out_of_steps = bool(tools) and _tool_steps(messages) >= int(settings.get("max_tool_steps") or DEFAULT_MAX_TOOL_STEPS)
    if out_of_steps:
        tools = []
        messages.append(SystemMessage(content=ANSWER_NOW))
    answer = await stream_model(settings["model"], messages, config, tools=tools)
    if out_of_steps and (answer.tool_calls or answer.invalid_tool_calls):
        # A model that calls a tool all the same is not obeyed: the turn ends with its text.
        answer = AIMessage(content=answer.text or OUT_OF_STEPS, usage_metadata=answer.usage_metadata, id=answer.id)
    return {"messages": [answer]}


async def _call_tools(state: MessagesState, config: RunnableConfig) -> dict:
    return {"messages": await run_tool_calls(state["messages"][-1], config)}


def _after_model(state: MessagesState) -> str:
    last = state["messages"][-1]
    if isinstance(last, AIMessage) and (last.tool_calls or last.invalid_tool_calls):
        return "tools"
    return END


def build_simple_graph() -> CompiledStateGraph:
    graph = StateGraph(MessagesState)
    graph.add_node("model", _call_model)
    graph.add_node("tools", _call_tools)
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", _after_model, ["tools", END])
    graph.add_edge("tools", "model")
    return graph.compile()
