"""The graphs of ``llm`` agents by ``agent_type``, compiled once per process."""

from __future__ import annotations

import functools

from langgraph.graph.state import CompiledStateGraph

from agenthub.graphs.chain import build_chain_graph
from agenthub.graphs.multi_agent import build_multi_agent_graph
from agenthub.graphs.rag import build_rag_graph
from agenthub.graphs.simple import build_simple_graph


def build_graphs() -> dict[str, CompiledStateGraph]:
    """Every agent type's graph (the ``agent_type`` values of ``llm`` settings). A compiled
    graph holds no state of a run (each turn passes its own), so one serves every agent
    of its type, and every engine of the process."""
    return dict(_compiled())


@functools.cache
def _compiled() -> tuple[tuple[str, CompiledStateGraph], ...]:
    return (
        ("simple", build_simple_graph()), ("chain", build_chain_graph()), ("multi_agent", build_multi_agent_graph()),
        ("rag", build_rag_graph()),
    )
