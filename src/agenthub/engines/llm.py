"""The engine of ``llm`` agents: the conversation so far and the message go through the
LangGraph graph of the agent's ``agent_type``, the model's text streams as it comes.

Everything LangChain is here (and in ``graphs``/``llm``): the shared delivery sees text,
the answer and its usage.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.messages.ai import UsageMetadata, add_usage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from pydantic import SecretStr

from agenthub.agents import service as agents_service
from agenthub.agents.intelligence import memory_on
from agenthub.agents.schemas import secret_values
from agenthub.bus import Bus
from agenthub.chats import context as chat_context
from agenthub.chats.models import MAX_POSITION
from agenthub.config import Settings
from agenthub.credentials import service as credentials_service
from agenthub.credentials.secret_box import CredentialBox, SealedWithAnotherKey, SecretBoxKeyMissing, load_box
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.engines import recall
from agenthub.engines.base import Answer, Engine, HostedAgent, Turn, TurnEvents, Usage
from agenthub.errors import InvalidInput, ModelFailed, NotFound
from agenthub.files import service as files_service
from agenthub.graphs.contract import DEFAULT_MAX_TOOL_STEPS
from agenthub.graphs.registry import build_graphs
from agenthub.llm.cache import ModelCache
from agenthub.llm.factory import MissingProviderKey, model_host
from agenthub.memory import service as memory_service
from agenthub.ops.logging import remember_secrets
from agenthub.outbound.guard import OutboundGuard, OutboundRefused, Unresolvable
from agenthub.tools.base import ToolContext, ToolDeps
from agenthub.tools.builtin.search_knowledge import retriever
from agenthub.tools.registry import ToolRegistry

DEFAULT_AGENT_TYPE = "simple"
RESOLVE_TIMEOUT = 5.0
"""Seconds the host of an agent's ``base_url`` has to resolve for the guard's check before a
turn (slower: left to the model call)."""
MODEL = "model"
"""Where a hosted agent keeps the model built with its credential's key (``engine_state``)."""
API_KEY = "api_key"
"""Where it keeps that key (its chain steps' and sub-agents' models use it too)."""
SUMMARY_USAGE = "summary_usage"
"""Where the usage of a chat's new summary waits, by chat, for the turn's usage (``engine_state``)."""
MAX_AGENT_DEPTH = 3
"""How deep agents may ask agents (``multi_agent`` sub-agents named by ``agent_id``): no endless loops."""


class CredentialUnusable(ModelFailed):
    """The credential an agent names for its model's key can't be used (gone, or sealed
    under another key): the turn fails saying so, and no model is called."""

    code = "credential_unusable"


class _Unseen:
    """The events of an answer nobody watches live (an agent asked by another agent)."""

    def text(self, piece: str) -> None:
        pass

    async def emit(self, event: dict[str, Any]) -> None:
        pass


class LlmEngine(Engine):
    kind = "llm"

    def __init__(
        self,
        *,
        session_factory: SessionFactory,
        models: ModelCache,
        graphs: Mapping[str, CompiledStateGraph],
        context_messages: int,
        bus: Bus | None = None,
        box: CredentialBox | None = None,
        openai_base_url: str | None = None,
        tools: ToolRegistry,
    ) -> None:
        self._tools = tools
        self._bus = bus
        self._box = box
        self._openai_base_url = openai_base_url
        self._sessions = session_factory
        self._models = models
        self._graphs = graphs
        self._context_messages = context_messages

    @classmethod
    def from_settings(
        cls, settings: Settings, session_factory: SessionFactory, bus: Bus | None = None
    ) -> LlmEngine:
        box = load_box(settings)
        return cls(
            tools=ToolRegistry(ToolDeps(
                settings=settings, sessions=session_factory, guard=OutboundGuard.from_settings(settings), bus=bus, box=box,
            )),
            bus=bus,
            session_factory=session_factory,
            models=ModelCache(settings),
            graphs=build_graphs(),
            context_messages=settings.agent_context_messages,
            box=box,
            openai_base_url=settings.openai_base_url,
        )

    def check(self, agent: HostedAgent) -> None:
        self._graph(agent)

    async def answer(self, turn: Turn, events: TurnEvents) -> Answer:
        return await self._answer(turn, events, depth=0)

    async def _answer(self, turn: Turn, events: TurnEvents, *, depth: int) -> Answer:
        """``depth``: how many agents up the turn was asked by (``run_agent``); 0 for a person's message."""
        agent = turn.agent
        history = await self._conversation(agent, turn.chat_id, turn.position)
        history.append(HumanMessage(content=await self._user_text(turn)))
        await self._check_base_url(agent)
        model = await self._model(agent)
        api_key = agent.engine_state.get(API_KEY)
        context = ToolContext(
            org_id=agent.org_id,
            agent_id=agent.id,
            agent_settings=agent.settings,
            chat_id=turn.chat_id,
            message=turn.message,
            model=model,
            model_for=lambda model_id: self._models.for_agent({**agent.settings, "model_id": model_id}, api_key=api_key),
        )
        calls: list[dict[str, Any]] = []
        usage = UsageMetadata(input_tokens=0, output_tokens=0, total_tokens=0)

        def on_usage(more: UsageMetadata) -> None:
            nonlocal usage
            usage = add_usage(usage, more)

        context.on_usage = on_usage
        toolset = await self._tools.open(agent.settings, context)

        async def call_tool(name: str, arguments: Any, call_id: str) -> str:
            await events.emit({"type": "tool_call", "call_id": call_id, "name": name, "arguments": arguments})
            result, ok = await toolset.call(name, arguments, context)
            await events.emit({"type": "tool_result", "call_id": call_id, "name": name, "result": result, "ok": ok})
            calls.append({"name": name, "arguments": arguments, "result": result})
            return result

        config: RunnableConfig = {
            "configurable": {
                "model": model,
                "model_for": context.model_for,
                "system_prompt": await self._system_prompt(agent, context),
                "settings": agent.settings,
                "tools": toolset.specs(),
                "call_tool": call_tool,
                "max_tool_steps": agent.settings.get("max_tool_steps", DEFAULT_MAX_TOOL_STEPS),
                "on_token": events.text,
                "on_usage": on_usage,
                "extras": context.extras,
                "run_agent": functools.partial(
                    self._run_agent, agent, depth=depth + 1, on_usage=on_usage, message=turn.message
                ),
                # The agent's knowledge bases, searched (the ``rag`` graph's retrieval).
                "retrieve": retriever(self._tools.builtin("search_knowledge"), context)
                if agent.settings.get("knowledge_base_ids") else None,
            }
        }
        try:
            state = await self._graph(agent).ainvoke({"messages": history}, config)
        finally:
            await toolset.aclose()
        final = state["messages"][-1] if state.get("messages") else None
        if not isinstance(final, AIMessage):
            raise ModelFailed("the model returned no answer")
        text = final.content if isinstance(final.content, str) else str(final.content)
        agent.remember(turn.chat_id, [*history, AIMessage(content=text)][-self._context_messages:])
        return Answer(
            text=text,
            usage=Usage(
                provider=agent.settings["provider"],
                model=agent.settings["model_id"],
                input_tokens=usage["input_tokens"],
                output_tokens=usage["output_tokens"],
            ),
            tool_calls=calls or None,
            citations=context.extras.get("citations") or None,
        )

    async def _user_text(self, turn: Turn) -> str:
        """The user's text, and a line naming each file sent with it (its name and type, not
        its bytes: see :func:`agenthub.files.service.mentions`)."""
        file_ids = turn.message.get("attachments")
        if not file_ids or not isinstance(file_ids, list):
            return turn.text
        async with self._sessions() as session:
            lines = await files_service.mentions(session, org_id=turn.agent.org_id, file_ids=file_ids)
        return "\n".join([turn.text, *lines]) if turn.text else "\n".join(lines)

    async def _check_base_url(self, agent: HostedAgent) -> None:
        """The agent's ``base_url`` through the outbound guard, as an owner's or admin's
        configuration (link-local and metadata addresses refused) before the model is called:
        the turn fails with the refusal. A name that does not resolve is left to the model
        call (which says the server could not be reached)."""
        base_url = agent.settings.get("base_url")
        if not base_url:
            return
        try:
            await asyncio.wait_for(self._tools.deps.guard.check(str(base_url), trusted=True), RESOLVE_TIMEOUT)
        except (Unresolvable, TimeoutError):
            return

    async def _run_agent(
        self, asking: HostedAgent, handle: str, text: str, *, depth: int,
        on_usage: Callable[[UsageMetadata], None], message: Mapping[str, Any],
    ) -> str:
        """The answer of ``asking``'s organisation's agent ``handle`` to ``text`` (a ``multi_agent``
        sub-agent named by ``agent_id``): run here, in this process, without streaming, in a
        new chat of its own, for the same person as the asking turn (``message``: its user, for
        the agent's memory); its usage is added to the asking turn's. Agents asking agents stop
        at :data:`MAX_AGENT_DEPTH`."""
        if depth > MAX_AGENT_DEPTH:
            raise InvalidInput(f"agents may ask other agents at most {MAX_AGENT_DEPTH} deep: {handle!r} was not asked")
        async with self._sessions() as session:
            row = await agents_service.get(session, org_id=asking.org_id, agent_id=handle)
        if row.kind != self.kind:
            raise InvalidInput(f"agent {handle!r} is not an llm agent")
        secrets, urls = secret_values(row.settings)
        remember_secrets(*secrets, urls=urls)  # as a host does for the agents it takes on
        agent = HostedAgent(
            id=row.id, org_id=row.org_id, kind=row.kind, settings=dict(row.settings), config_version=row.config_version,
        )
        self._graph(agent)
        chat_id = f"subagent:{uuid.uuid4().hex}"
        agent.remember(chat_id, [])  # a new chat: nothing to read from the history
        person = {key: message[key] for key in ("user_id", "platform_user_id", "channel") if message.get(key)}
        turn = Turn(
            agent=agent, message_id=f"sub_{uuid.uuid4().hex}", chat_id=chat_id, text=text, position=0,
            message={**person, "asked_by": asking.id},
        )
        answer = await self._answer(turn, _Unseen(), depth=depth)
        if answer.usage is not None:
            on_usage(UsageMetadata(
                input_tokens=answer.usage.input_tokens, output_tokens=answer.usage.output_tokens,
                total_tokens=answer.usage.input_tokens + answer.usage.output_tokens,
            ))
        return answer.text

    async def _system_prompt(self, agent: HostedAgent, context: ToolContext) -> str:
        """The agent's system prompt for this turn; with long-term memory, followed by the
        user's core memory blocks (made from the agent's ``memory_blocks`` on first use). A
        summary the conversation needed (:meth:`_conversation`) is billed with the turn here."""
        prompt = str(agent.settings.get("system_prompt", ""))
        summarised = agent.engine_state.pop(f"{SUMMARY_USAGE}:{context.chat_id}", None)
        if summarised is not None and context.on_usage is not None:
            context.on_usage(summarised)
        user = context.memory_user
        if not memory_on(agent.settings) or not user:
            return prompt
        async with session_scope(self._sessions) as session:
            blocks = await memory_service.blocks(
                session, agent_id=agent.id, user_key=user, agent_settings=agent.settings
            )
        memory = memory_service.render(blocks)
        return f"{prompt}\n\n{memory}" if prompt else memory

    async def _model(self, agent: HostedAgent) -> BaseChatModel:
        """The agent's model. One that names a credential (``api_key_credential_id``) is
        built with its value, opened at the agent's first turn here and kept while it is
        hosted; the value is masked in this process's logs from then on."""
        credential_id = agent.settings.get("api_key_credential_id")
        if not credential_id:
            return self._models.for_agent(agent.settings)
        model: BaseChatModel | None = agent.engine_state.get(MODEL)
        if model is None:
            value = await self._open(agent, str(credential_id))
            remember_secrets(value)
            key = agent.engine_state[API_KEY] = SecretStr(value)
            model = agent.engine_state[MODEL] = self._models.for_agent(agent.settings, api_key=key)
        return model

    async def _open(self, agent: HostedAgent, credential_id: str) -> str:
        if self._box is None:
            raise SecretBoxKeyMissing()
        async with self._sessions() as session:
            try:
                return await credentials_service.reveal(session, agent.org_id, credential_id, self._box)
            except NotFound:
                raise CredentialUnusable(
                    f"The agent's credential {credential_id!r} (settings.api_key_credential_id) does not exist "
                    "in its organisation: name another one, or none."
                ) from None
            except SealedWithAnotherKey:
                raise CredentialUnusable(
                    f"The agent's credential {credential_id!r} can't be opened with this server's SECRET_BOX_KEY."
                ) from None

    def describe_failure(self, error: BaseException, agent: HostedAgent) -> str | None:
        if isinstance(error, MissingProviderKey | CredentialUnusable | SecretBoxKeyMissing | OutboundRefused):
            return error.message
        if isinstance(error, openai.APIConnectionError) and not isinstance(error, openai.APITimeoutError):
            host = model_host(
                str(agent.settings.get("provider")), agent.settings.get("base_url"),
                openai_base_url=self._openai_base_url,
            )
            return f"The agent's model server at {host} could not be reached."
        return None

    def _graph(self, agent: HostedAgent) -> CompiledStateGraph:
        agent_type = agent.settings.get("agent_type", DEFAULT_AGENT_TYPE)
        graph = self._graphs.get(agent_type)
        if graph is None:
            raise InvalidInput(f"no graph for agent_type {agent_type!r}", field="settings.agent_type")
        return graph

    async def _conversation(self, agent: HostedAgent, chat_id: str, position: int) -> list[BaseMessage]:
        """What came before the message at ``position``: kept while the agent is hosted
        here, read from the history after a (re)start. A message without a position (put on
        the bus by hand) gets the whole recent history. With long-term memory: the chat's
        summary and the turns after it, within ``context_budget_tokens``
        (:mod:`agenthub.engines.recall`)."""
        if memory_on(agent.settings):
            recalled = await recall.conversation(
                sessions=self._sessions, bus=self._bus, agent_id=agent.id, chat_id=chat_id,
                position=position or MAX_POSITION,
                budget_tokens=int(agent.settings.get("context_budget_tokens") or recall.DEFAULT_BUDGET_TOKENS),
                model=await self._model(agent),
            )
            if recalled.usage:  # billed with the turn: _system_prompt hands it to the turn's usage
                agent.engine_state[f"{SUMMARY_USAGE}:{chat_id}"] = recalled.usage
            return recalled.messages
        cached = agent.chats.get(chat_id)
        if cached is not None:
            return list(cached)
        said = await chat_context.conversation_before(
            bus=self._bus,
            sessions=self._sessions,
            agent_id=agent.id,
            chat_id=chat_id,
            position=position or MAX_POSITION,
            limit=self._context_messages,
        )
        return [
            HumanMessage(content=line.content) if line.role == "user" else AIMessage(content=line.content)
            for line in said
        ]
