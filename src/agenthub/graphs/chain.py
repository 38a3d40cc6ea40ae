"""The ``chain`` graph: the agent's ``steps`` in order, each a model call with the step's
prompt as its system prompt (after the agent's own prompt, when it has one: its memory
blocks stay in view) on the step's ``model_id`` or the agent's model. The first step reads
the conversation (the user's message, after what was said before it); every later step reads
the output of the one before it. Only the last step's text streams to ``on_token``: it is the
answer; every step's usage goes to ``on_usage``.

One compiled graph serves every chain: the ``step`` node runs the step its state points at
and loops to itself until the steps are done.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agenthub.graphs.contract import stream_model


class ChainState(MessagesState, total=False):
    step: int
    """The index of the next step to run."""
    carry: str
    """The previous step's output: the next step's input."""


def _steps(config: RunnableConfig) -> list[dict[str, Any]]:
    steps = config["configurable"]["settings"].get("steps") or []
    if not steps:
        raise ValueError("a chain agent needs steps")
    return list(steps)


def _system(config: RunnableConfig, step: dict[str, Any]) -> str:
    agent_prompt = str(config["configurable"].get("system_prompt") or "").strip()
    return f"{agent_prompt}\n\n{step['prompt']}" if agent_prompt else str(step["prompt"])


async def _run_step(state: ChainState, config: RunnableConfig) -> dict[str, Any]:
    settings = config["configurable"]
    steps = _steps(config)
    index = state.get("step", 0)
    step = steps[index]
    last = index == len(steps) - 1
    model = settings["model_for"](step["model_id"]) if step.get("model_id") else settings["model"]
    said: list[BaseMessage] = (
        list(state["messages"]) if index == 0 else [HumanMessage(content=state.get("carry", ""))]
    )
    answer = await stream_model(model, [SystemMessage(content=_system(config, step)), *said], config, stream=last)
    if last:
        return {"messages": [answer], "step": index + 1}
    return {"step": index + 1, "carry": answer.text}


def _after_step(state: ChainState, config: RunnableConfig) -> str:
    return END if state.get("step", 0) >= len(_steps(config)) else "step"


def build_chain_graph() -> CompiledStateGraph:
    graph = StateGraph(ChainState)
    graph.add_node("step", _run_step)
    graph.add_edge(START, "step")
    graph.add_conditional_edges("step", _after_step, ["step", END])
    return graph.compile()
