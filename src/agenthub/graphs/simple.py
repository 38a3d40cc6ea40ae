"""The simple LLM agent graph: system prompt + conversation -> model, streamed.

One compiled graph serves every agent in a process; the model and system prompt arrive in
``config["configurable"]``, so an idle agent costs no graph of its own.
"""

from __future__ import annotations

from langchain_core.messages import SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph


async def _call_model(state: MessagesState, config: RunnableConfig) -> dict:
    settings = config["configurable"]
    messages = list(state["messages"])
    if settings.get("system_prompt"):
        messages.insert(0, SystemMessage(content=settings["system_prompt"]))
    response = await settings["model"].ainvoke(messages, config)
    return {"messages": [response]}


def build_simple_graph() -> CompiledStateGraph:
    graph = StateGraph(MessagesState)
    graph.add_node("model", _call_model)
    graph.add_edge(START, "model")
    graph.add_edge("model", END)
    return graph.compile()
