"""The simple LLM agent graph: system prompt + conversation -> model, streamed.

One compiled graph serves every agent in a process; the model, the system prompt and
where the tokens go arrive in ``config["configurable"]``, so an idle agent costs no graph
of its own.

Streaming: the node streams the model and hands each piece of text to
``configurable["on_token"]`` as it arrives (the runner publishes them), and returns the
whole answer as one message. LangGraph's ``stream_mode="messages"`` sees the same tokens
through the callbacks, for callers that prefer it; the runner does not use it, as it costs
more per token than the answer itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, SystemMessage
from langchain_core.messages.ai import UsageMetadata, add_usage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph

TokenSink = Callable[[str], Any]


async def _call_model(state: MessagesState, config: RunnableConfig) -> dict:
    settings = config["configurable"]
    messages = list(state["messages"])
    if settings.get("system_prompt"):
        messages.insert(0, SystemMessage(content=settings["system_prompt"]))
    on_token: TokenSink | None = settings.get("on_token")
    pieces: list[str] = []
    usage: UsageMetadata | None = None
    answer_id: str | None = None
    # Text and usage are gathered as they come instead of adding message chunks together,
    # which builds a new message per token.
    async for chunk in settings["model"].astream(messages, config):
        answer_id = answer_id or chunk.id
        text = chunk.text
        if text:
            pieces.append(text)
            if on_token is not None:
                on_token(text)
        if chunk.usage_metadata:
            usage = add_usage(usage, chunk.usage_metadata)
    # The streamed message's id: stream_mode="messages" then knows the answer was streamed
    # already and does not send it again.
    return {"messages": [AIMessage(content="".join(pieces), usage_metadata=usage, id=answer_id)]}


def build_simple_graph() -> CompiledStateGraph:
    graph = StateGraph(MessagesState)
    graph.add_node("model", _call_model)
    graph.add_edge(START, "model")
    graph.add_edge("model", END)
    return graph.compile()
