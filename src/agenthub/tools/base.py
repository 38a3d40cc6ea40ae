"""What a tool is, and what it is given when it runs.

A :class:`Tool` has a name, a description and the JSON Schema of its arguments (what the
model sees) and an async :meth:`Tool.run` that returns text for the model. A tool that
cannot do what it was asked raises :class:`ToolError`: the model gets ``error: <message>``
and can react to it; any other exception is reported to the model the same way, without its
details, and never ends the turn.

:class:`ToolDeps` are the process's dependencies, the same for every turn (built once by the
engine); :class:`ToolContext` is the turn: whose agent, which chat, which user.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agenthub.bus import Bus
from agenthub.config import Settings
from agenthub.credentials.secret_box import CredentialBox
from agenthub.db.engine import SessionFactory
from agenthub.errors import AgentHubError
from agenthub.outbound.guard import OutboundGuard

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

MAX_RESULT_CHARS = 100_000
"""Characters of a tool's result that reach the model at most."""


class ToolError(AgentHubError):
    """What the model is told when a tool could not do what it asked (``error: <message>``)."""

    code = "tool_error"


@dataclass(frozen=True)
class ToolDeps:
    """What tools use, the same for every turn of a process."""

    settings: Settings
    sessions: SessionFactory
    guard: OutboundGuard
    bus: Bus | None = None
    box: CredentialBox | None = None


@dataclass
class ToolContext:
    """The turn a tool runs in."""

    org_id: str
    agent_id: str
    """The agent's internal id (``agents.id``)."""
    agent_settings: dict[str, Any]
    chat_id: str
    message: dict[str, Any]
    """The inbound envelope: ``user_id`` (the authenticated account, if any), ``platform_user_id``,
    ``channel``, ``user_data``..."""
    model: BaseChatModel | None = None
    """The agent's model (``role_call`` runs a role on it)."""
    model_for: Any = None
    """``model_for(model_id) -> BaseChatModel``: another model of the agent's provider."""
    extras: dict[str, Any] = field(default_factory=dict)
    """What a tool leaves for the answer (``citations``)."""
    on_usage: Any = None
    """``on_usage(usage)``: the token usage of a model call a tool makes (``role_call``), billed with the turn's."""

    @property
    def user_id(self) -> str | None:
        """The authenticated account the message came from, if any."""
        value = self.message.get("user_id")
        return str(value) if value else None

    @property
    def memory_user(self) -> str | None:
        """Whose long-term memory this turn reads and writes: the authenticated account, or on
        a channel without accounts the message's platform user (``<channel>:<id>``); None for
        an anonymous message (no memory). ``user_data`` never selects a user."""
        if self.user_id:
            return self.user_id
        platform_user = self.message.get("platform_user_id")
        if platform_user:
            return f"{self.message.get('channel') or 'web'}:{platform_user}"
        return None


class Tool(ABC):
    """A tool the model may call."""

    name: str
    description: str
    parameters: dict[str, Any]
    """The JSON Schema of the arguments (``{"type": "object", "properties": {...}}``)."""

    def spec(self) -> dict[str, Any]:
        """The tool as OpenAI's function-calling API describes it."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }

    @abstractmethod
    async def run(self, arguments: dict[str, Any], context: ToolContext) -> str:
        """Do what the model asked; the text returned is what it sees (cut at
        :data:`MAX_RESULT_CHARS`). Raise :class:`ToolError` to tell it what went wrong."""

    async def aclose(self) -> None:  # noqa: B027 - most tools hold nothing open
        """Release what the tool holds open for the turn (an MCP session)."""
