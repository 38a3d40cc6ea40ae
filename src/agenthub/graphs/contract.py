"""What every graph of an ``llm`` agent is given, and the two steps they share.

``config["configurable"]`` holds, for one turn:

- ``model``: the agent's chat model; ``model_for(model_id)``: another model of its provider
  (a chain step's or sub-agent's ``model_id``);
- ``system_prompt``: the agent's prompt with its memory blocks (when memory is on);
- ``settings``: the agent's stored settings (``steps``, ``sub_agents``, ``max_tool_steps``...);
- ``tools``: the OpenAI function specs of the agent's tools (empty: none), and
  ``call_tool(name, arguments, call_id) -> str``, which runs one (never raises; the result or
  ``error: ...``), shows it live and records it on the answer;
- ``on_token(text)``: where the answer's text goes as it streams; ``on_usage(usage)``: every
  model call's token usage (the engine bills their sum);
- ``extras``: a dict a graph or tool leaves things in for the answer (``citations``);
- ``retrieve(query, top_k=5) -> [{"text", "file_name", "document_id", "knowledge_base_id",
  "chunk_id", "score"}]``: hybrid search of the agent's knowledge bases (``knowledge_base_ids``;
  None when it has none), the ``rag`` graph's retrieval;
- ``run_agent(agent_id, text) -> str``: answers ``text`` by another agent of the organisation
  (``multi_agent`` sub-agents named by ``agent_id``).

A graph returns ``{"messages": [...]}`` whose last message is the answer (an ``AIMessage``).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.messages.ai import UsageMetadata, add_usage
from langchain_core.runnables import RunnableConfig

from agenthub.ops import tracing

DEFAULT_MAX_TOOL_STEPS = 10


async def stream_model(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    config: RunnableConfig,
    *,
    tools: list[dict[str, Any]] | None = None,
    stream: bool = True,
) -> AIMessage:
    """Call ``model`` on ``messages`` (with ``tools`` bound, if any): its text goes to
    ``on_token`` as it streams (unless ``stream`` is False: a step whose text is not the
    answer), its usage to ``on_usage``; the whole answer, tool calls included, is returned."""
    with tracing.span("agenthub.model", **{"gen_ai.request.model": model_name(model)}) as span:
        answer = await _stream_model(model, messages, config, tools=tools, stream=stream)
        usage = answer.usage_metadata
        if usage:
            span.set("gen_ai.usage.input_tokens", usage.get("input_tokens"))
            span.set("gen_ai.usage.output_tokens", usage.get("output_tokens"))
        span.set("gen_ai.response.tool_calls", len(answer.tool_calls))
        return answer


def model_name(model: BaseChatModel) -> str:
    """The model's name as its provider knows it (``gpt-4o-mini``), for traces."""
    name = getattr(model, "model_name", None) or getattr(model, "model_id", None) or getattr(model, "model", None)
    return str(name) if name else type(model).__name__


async def _stream_model(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    config: RunnableConfig,
    *,
    tools: list[dict[str, Any]] | None,
    stream: bool,
) -> AIMessage:
    settings = config["configurable"]
    on_token = settings.get("on_token") if stream else None
    runnable: Any = model.bind_tools(tools) if tools else model
    pieces: list[str] = []
    tool_chunks: list[AIMessageChunk] = []
    usage: UsageMetadata | None = None
    answer_id: str | None = None
    # Text and usage are gathered as they come instead of adding message chunks together,
    # which builds a new message per token; only chunks with tool calls are added up.
    async for chunk in runnable.astream(list(messages), config):
        answer_id = answer_id or chunk.id
        text = chunk.text
        if text:
            pieces.append(text)
            if on_token is not None:
                on_token(text)
        if chunk.tool_call_chunks:
            tool_chunks.append(AIMessageChunk(content="", tool_call_chunks=chunk.tool_call_chunks))
        if chunk.usage_metadata:
            usage = add_usage(usage, chunk.usage_metadata)
    if usage is not None and settings.get("on_usage") is not None:
        settings["on_usage"](usage)
    calls = functools.reduce(operator.add, tool_chunks) if tool_chunks else None
    # The streamed message's id: stream_mode="messages" then knows the answer was streamed
    # already and does not send it again.
    return AIMessage(
        content="".join(pieces),
        usage_metadata=usage,
        id=answer_id,
        tool_calls=calls.tool_calls if calls is not None else [],
        invalid_tool_calls=calls.invalid_tool_calls if calls is not None else [],
    )


async def run_tool_calls(message: BaseMessage, config: RunnableConfig) -> list[ToolMessage]:
    """Run the tool calls of ``message`` in order through ``call_tool``: one ``ToolMessage``
    each, a call whose arguments were not JSON answered with an error."""
    call_tool = config["configurable"]["call_tool"]
    results: list[ToolMessage] = []
    if not isinstance(message, AIMessage):
        return results
    for call in message.tool_calls:
        call_id = call.get("id") or ""
        result = await call_tool(call["name"], call["args"], call_id)
        results.append(ToolMessage(content=result, tool_call_id=call_id, name=call["name"]))
    for bad in message.invalid_tool_calls:
        call_id = bad.get("id") or ""
        result = await call_tool(bad.get("name") or "", bad.get("args") or "", call_id)
        results.append(ToolMessage(content=result, tool_call_id=call_id, name=bad.get("name") or ""))
    return results
